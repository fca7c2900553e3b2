#pragma once
// Exact decimal strings <-> integer amounts, at the API edge (the gateway's
// request parameters) and in the order service's config. No floating point
// anywhere: a decimal string becomes an int64 count of 10^-scale units, and
// back. The order service keeps every amount at scale 8 (Amount, 1e-8 units,
// the smallest unit of every asset, like a satoshi).
//
// Accepted forms are Binance's (BINANCE_COMPAT.md §2.1):
//   decimals  ^([0-9]{1,20})(\.[0-9]{1,20})?$   "40000", "40000.00000000", "0.001"
//   integers  ^[0-9]{1,20}$                      "1700000000000"
// Rejected: exponents ("1e-7", which @binance/connector produces from JS
// numbers), signs ("+1", "-1" unless allowed), ".5", "5.", spaces, empty.
// Digits beyond the scale are accepted only when they are zeros
// ("40000.000000000000" at scale 8 is exact): they carry no precision.
//
// All functions are pure: any thread, O(length of the text). Parsing
// allocates nothing on success (an ApiError formats its message); the Append*
// functions allocate only by growing *out.

#include <cstdint>
#include <string>
#include <string_view>

#include "xc/order_service/api_error.h"

namespace xc::order_service {

// An amount of an asset (or a price in quote units per whole base unit) in
// units of 1e-8. Balances, prices, quantities and fees all use it.
using Amount = int64_t;
inline constexpr int kAmountDecimals = 8;
inline constexpr Amount kUnitsPerWhole = 100'000'000;

// Binance's legal-range patterns, as quoted in -1100 messages.
inline constexpr std::string_view kDecimalPattern = "^([0-9]{1,20})(\\.[0-9]{1,20})?$";
inline constexpr std::string_view kIntegerPattern = "^[0-9]{1,20}$";

// Largest scale accepted by ParseDecimal/FormatDecimal (10^18 fits int64).
inline constexpr int kMaxDecimalScale = 18;

enum class DecimalError : uint8_t {
  kOk = 0,
  kEmpty,        // "" (the caller decides whether that means "not sent")
  kIllegal,      // outside the pattern: sign, exponent, letters, "1.", ".5", spaces, > 20 digits
  kTooPrecise,   // a non-zero digit beyond `scale` decimals
  kOverflow,     // does not fit in int64 units
};

struct ParsedDecimal {
  DecimalError error = DecimalError::kEmpty;
  int64_t units = 0;  // valid only when error == kOk
  bool ok() const { return error == DecimalError::kOk; }
};

// Parses `s` into units of 10^-scale (default: Amount, 1e-8), leaving the
// choice of Binance error to the caller: the order service reports a price
// that is too precise as PRICE_FILTER, as Binance does.
// REQUIRES: 0 <= scale <= kMaxDecimalScale.
ParsedDecimal ParseDecimal(std::string_view s, int scale = kAmountDecimals);

// Parses a decimal parameter `text` named `name` into units of 10^-scale:
// ParseDecimal("price", "40000.5", 2) == 4000050.
// Outcomes:
//   ok                   the exact value (trailing zeros beyond `scale` accepted);
//   -1102 kMandatoryParam     `text` is empty;
//   -1100 kIllegalCharsParam  not of the decimal pattern (exponent, sign,
//                        missing digits, more than 20 digits in either part);
//   -1111 kBadPrecision  a non-zero digit beyond `scale` decimals;
//   -1108 kParamOverflow the value in units does not fit int64.
// REQUIRES: 0 <= scale <= kMaxDecimalScale.
ApiResult<int64_t> ParseDecimal(std::string_view name, std::string_view text, int scale);

// Parses an integer parameter (timestamp, orderId, limit, ...) of the integer
// pattern. With `allow_negative`, one leading '-' is accepted as well (never
// '+'); the -1100 message then still quotes kIntegerPattern, as Binance does.
// Outcomes: ok; -1102 empty; -1100 not of the pattern; -1108 above INT64_MAX
// (or below INT64_MIN).
ApiResult<int64_t> ParseInteger(std::string_view name, std::string_view text,
                                bool allow_negative = false);

// Same pattern for unsigned 64-bit ids (orderId, tradeId, fromId):
// -1108 above UINT64_MAX.
ApiResult<uint64_t> ParseUnsigned(std::string_view name, std::string_view text);

// Writes `units` * 10^-scale with exactly `scale` decimals, as Binance shows
// amounts at the symbol's precision: FormatDecimal(1000, 8) == "0.00001000",
// FormatDecimal(4000000, 2) == "40000.00", FormatDecimal(-5, 1) == "-0.5",
// FormatDecimal(7, 0) == "7". Appends to *out; no other allocation.
// REQUIRES: 0 <= scale <= kMaxDecimalScale.
void AppendDecimal(int64_t units, int scale, std::string* out);
std::string FormatDecimal(int64_t units, int scale = kAmountDecimals);

// Like AppendDecimal, but drops trailing zero decimals down to `min_decimals`
// (never a non-zero digit: it never rounds, so the output stays exact), and
// the point with them: FormatDecimalTrimmed(100000) == "0.001",
// FormatDecimalTrimmed(40000 * kUnitsPerWhole) == "40000" (the way ccxt sends
// numbers and config files write tick sizes), FormatDecimalTrimmed(150000000,
// 8, 2) == "1.50". REQUIRES: 0 <= min_decimals <= scale <= kMaxDecimalScale.
void AppendDecimalTrimmed(int64_t units, int scale, int min_decimals, std::string* out);
std::string FormatDecimalTrimmed(int64_t units, int scale = kAmountDecimals,
                                 int min_decimals = 0);

}  // namespace xc::order_service
