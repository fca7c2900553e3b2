#include "xc/order_service/decimal.h"

#include <cstdlib>

namespace xc::order_service {

ParsedDecimal ParseDecimal(std::string_view s) {
  ParsedDecimal r;
  if (s.empty()) return r;
  r.error = DecimalError::kIllegal;
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 20) return r;
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 20)) return r;
  for (char c : whole) {
    if (c < '0' || c > '9') return r;
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return r;
  }
  // Digits past the 8th decimal must be zeros to stay exact.
  for (size_t i = kAmountDecimals; i < frac.size(); ++i) {
    if (frac[i] != '0') {
      r.error = DecimalError::kTooPrecise;
      return r;
    }
  }
  // Accumulate in 128 bits: 20 integer digits times 1e8 exceed int64 before
  // the range check can catch them.
  unsigned __int128 v = 0;
  for (char c : whole) {
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > static_cast<unsigned __int128>(INT64_MAX)) {
      r.error = DecimalError::kOverflow;
      return r;
    }
  }
  for (int i = 0; i < kAmountDecimals; ++i) {
    v = v * 10 + (static_cast<size_t>(i) < frac.size() ? static_cast<unsigned>(frac[i] - '0') : 0u);
  }
  if (v > static_cast<unsigned __int128>(INT64_MAX)) {
    r.error = DecimalError::kOverflow;
    return r;
  }
  r.error = DecimalError::kOk;
  r.units = static_cast<Amount>(v);
  return r;
}

std::string FormatDecimal(Amount units, int decimals) {
  if (decimals < 0) decimals = 0;
  if (decimals > kAmountDecimals) decimals = kAmountDecimals;
  const bool neg = units < 0;
  // Magnitude in unsigned 64 bits so that INT64_MIN formats too.
  const uint64_t mag = neg ? ~static_cast<uint64_t>(units) + 1 : static_cast<uint64_t>(units);
  const uint64_t whole = mag / kUnitsPerWhole;
  uint64_t frac = mag % kUnitsPerWhole;
  std::string digits(kAmountDecimals, '0');
  for (int i = kAmountDecimals - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  // Keep any non-zero digit past `decimals`: formatting never rounds.
  int keep = kAmountDecimals;
  while (keep > decimals && digits[keep - 1] == '0') --keep;
  std::string out = neg ? "-" : "";
  out += std::to_string(whole);
  if (keep > 0) {
    out += '.';
    out.append(digits, 0, keep);
  }
  return out;
}

std::string FormatDecimalTrimmed(Amount units) { return FormatDecimal(units, 0); }

}  // namespace xc::order_service
