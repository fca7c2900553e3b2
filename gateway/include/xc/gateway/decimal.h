#pragma once
// Strict numeric parameters at the API edge. Decimal strings exist only in
// gateway/ (STYLE.md §8.4): they are parsed here into integer counts of
// 10^-scale units and formatted back from them. No floating point anywhere.
//
// Accepted forms are Binance's (BINANCE_COMPAT.md §2.1):
//   decimals  ^([0-9]{1,20})(\.[0-9]{1,20})?$   "40000", "40000.00000000", "0.001"
//   integers  ^[0-9]{1,20}$                      "1700000000000"
// Rejected: exponents ("1e-7", which @binance/connector produces from JS
// numbers), signs ("+1", "-1" unless allowed), ".5", "5.", spaces, empty.
//
// All functions are pure: any thread, no allocation on success (an error
// formats its message), O(length of the text).

#include <cstdint>
#include <string>
#include <string_view>

#include "xc/gateway/errors.h"

namespace xc::gateway {

// Binance's legal-range patterns, as quoted in -1100 messages.
inline constexpr std::string_view kDecimalPattern = "^([0-9]{1,20})(\\.[0-9]{1,20})?$";
inline constexpr std::string_view kIntegerPattern = "^[0-9]{1,20}$";

// Largest scale accepted by ParseDecimal/FormatDecimal (10^18 fits int64).
inline constexpr int kMaxDecimalScale = 18;

// Parses a decimal parameter `text` named `name` into units of 10^-scale:
// ParseDecimal("price", "40000.5", 2) == 4000050.
// Outcomes:
//   ok                   the exact value; trailing zeros beyond `scale` are
//                        accepted ("0.00100000000000" at scale 8) because
//                        they carry no precision;
//   -1102 kMandatoryParam   `text` is empty;
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
std::string FormatDecimal(int64_t units, int scale);

}  // namespace xc::gateway
