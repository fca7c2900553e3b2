#include "xc/order_service/decimal.h"

#include <algorithm>
#include <limits>

namespace xc::order_service {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

constexpr uint64_t kPow10[] = {1ULL,
                               10ULL,
                               100ULL,
                               1000ULL,
                               10000ULL,
                               100000ULL,
                               1000000ULL,
                               10000000ULL,
                               100000000ULL,
                               1000000000ULL,
                               10000000000ULL,
                               100000000000ULL,
                               1000000000000ULL,
                               10000000000000ULL,
                               100000000000000ULL,
                               1000000000000000ULL,
                               10000000000000000ULL,
                               100000000000000000ULL,
                               1000000000000000000ULL,
                               10000000000000000000ULL};

// Accumulates digits into *v; false on uint64 overflow. REQUIRES: all digits.
bool AccumulateDigits(std::string_view digits, uint64_t* v) {
  for (char c : digits) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (__builtin_mul_overflow(*v, 10u, v) || __builtin_add_overflow(*v, d, v)) return false;
  }
  return true;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

}  // namespace

ParsedDecimal ParseDecimal(std::string_view text, int scale) {
  ParsedDecimal r;
  if (text.empty()) return r;
  r.error = DecimalError::kIllegal;
  const size_t dot = text.find('.');
  const std::string_view int_part = text.substr(0, dot);
  const std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  const bool shape_ok = !int_part.empty() && int_part.size() <= 20 && AllDigits(int_part) &&
                        (dot == std::string_view::npos ||
                         (!frac_part.empty() && frac_part.size() <= 20 && AllDigits(frac_part)));
  if (!shape_ok) return r;

  // Digits beyond the scale may only be zeros: they add no precision.
  const size_t keep = std::min(frac_part.size(), static_cast<size_t>(scale));
  for (char c : frac_part.substr(keep)) {
    if (c != '0') {
      r.error = DecimalError::kTooPrecise;
      return r;
    }
  }
  uint64_t units = 0;
  bool fits = AccumulateDigits(int_part, &units) && AccumulateDigits(frac_part.substr(0, keep), &units);
  // Scale the kept fraction up to exactly `scale` decimals.
  fits = fits && !__builtin_mul_overflow(units, kPow10[static_cast<size_t>(scale) - keep], &units);
  if (!fits || units > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    r.error = DecimalError::kOverflow;
    return r;
  }
  r.error = DecimalError::kOk;
  r.units = static_cast<int64_t>(units);
  return r;
}

ApiResult<int64_t> ParseDecimal(std::string_view name, std::string_view text, int scale) {
  const ParsedDecimal d = ParseDecimal(text, scale);
  switch (d.error) {
    case DecimalError::kOk: return d.units;
    case DecimalError::kEmpty: return ApiError(ErrorId::kMandatoryParam, name);
    case DecimalError::kIllegal: return ApiError(ErrorId::kIllegalCharsParam, name, kDecimalPattern);
    case DecimalError::kTooPrecise: return ApiError(ErrorId::kBadPrecision, name);
    case DecimalError::kOverflow: return ApiError(ErrorId::kParamOverflow, name);
  }
  return ApiError(ErrorId::kParamOverflow, name);
}

ApiResult<int64_t> ParseInteger(std::string_view name, std::string_view text,
                                bool allow_negative) {
  if (text.empty()) return ApiError(ErrorId::kMandatoryParam, name);
  const bool negative = allow_negative && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 20 || !AllDigits(digits)) {
    return ApiError(ErrorId::kIllegalCharsParam, name, kIntegerPattern);
  }
  uint64_t v = 0;
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  if (!AccumulateDigits(digits, &v) || v > limit) return ApiError(ErrorId::kParamOverflow, name);
  // Negate in unsigned arithmetic so that INT64_MIN does not overflow.
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

ApiResult<uint64_t> ParseUnsigned(std::string_view name, std::string_view text) {
  if (text.empty()) return ApiError(ErrorId::kMandatoryParam, name);
  if (text.size() > 20 || !AllDigits(text)) {
    return ApiError(ErrorId::kIllegalCharsParam, name, kIntegerPattern);
  }
  uint64_t v = 0;
  if (!AccumulateDigits(text, &v)) return ApiError(ErrorId::kParamOverflow, name);
  return v;
}

void AppendDecimal(int64_t units, int scale, std::string* out) {
  // Magnitude in uint64 so that INT64_MIN has a representation.
  uint64_t mag = units < 0 ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  char digits[24];  // 20 digits of uint64 max, written backwards
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + mag % 10);
    mag /= 10;
  } while (mag != 0);
  // Pad so that there is at least one digit before the point.
  while (n < scale + 1) digits[n++] = '0';
  // Written forwards into a buffer, then appended at once (a push_back per
  // character cost a capacity check and a terminator each).
  char text[32];  // a sign, the digits (24 at most, as above) and the point
  size_t len = 0;
  if (units < 0) text[len++] = '-';
  for (int i = n - 1; i >= 0; --i) {
    if (i == scale - 1) text[len++] = '.';
    text[len++] = digits[i];
  }
  out->append(text, len);
}

std::string FormatDecimal(int64_t units, int scale) {
  std::string out;
  AppendDecimal(units, scale, &out);
  return out;
}

void AppendDecimalTrimmed(int64_t units, int scale, int min_decimals, std::string* out) {
  const size_t start = out->size();
  AppendDecimal(units, scale, out);
  // Drop zero decimals from the end, never a non-zero one, so nothing rounds.
  size_t end = out->size();
  int decimals = scale;
  while (decimals > min_decimals && (*out)[end - 1] == '0') {
    --end;
    --decimals;
  }
  if (decimals == 0 && scale > 0) --end;  // the point itself
  out->resize(std::max(end, start));
}

std::string FormatDecimalTrimmed(int64_t units, int scale, int min_decimals) {
  std::string out;
  AppendDecimalTrimmed(units, scale, min_decimals, &out);
  return out;
}

}  // namespace xc::order_service
