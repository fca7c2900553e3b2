#pragma once
// Exact decimal strings <-> integer amounts, for the API edge (gateway) and the
// order service's config. No floating point anywhere: a decimal string becomes
// an int64 count of 1e-8 units (the smallest unit of every asset, like a
// satoshi), and back.
//
// Grammar accepted (Binance's legal range for numbers):
//   ^([0-9]{1,20})(\.[0-9]{1,20})?$
// so no sign, no exponent ("1e-7"), no leading or trailing dot, no spaces.
// Digits past the 8th decimal are accepted only when they are zeros
// ("40000.000000000000" is exact); a non-zero digit there cannot be
// represented and is reported as kTooPrecise, which the order service maps to
// the filter of the field (a price of 1e-9 fails PRICE_FILTER, as on Binance).
//
// Thread safety: pure functions, callable from any thread. Cost: O(length), no
// allocation except the returned string of FormatDecimal.

#include <cstdint>
#include <string>
#include <string_view>

namespace xc::order_service {

// An amount of an asset (or a price in quote units per whole base unit) in
// units of 1e-8. Balances, prices, quantities and fees all use it.
using Amount = int64_t;
inline constexpr int kAmountDecimals = 8;
inline constexpr Amount kUnitsPerWhole = 100'000'000;

enum class DecimalError : uint8_t {
  kOk = 0,
  kEmpty,        // "" (the caller decides whether that means "not sent")
  kIllegal,      // outside the grammar: sign, exponent, letters, "1.", ".5", spaces, > 20 digits
  kTooPrecise,   // a non-zero digit after the 8th decimal
  kOverflow,     // does not fit in int64 units (more than ~92 billion whole units)
};

struct ParsedDecimal {
  DecimalError error = DecimalError::kEmpty;
  Amount units = 0;  // valid only when error == kOk
  bool ok() const { return error == DecimalError::kOk; }
};

// Parses `s` into 1e-8 units; see the grammar above. Never throws.
ParsedDecimal ParseDecimal(std::string_view s);

// Formats `units` (1e-8) as a plain decimal with exactly `decimals` digits
// after the point (0..8; 0 prints no point), the way Binance prints amounts
// ("0.00100000"). REQUIRES: `units` is a multiple of 10^(8-decimals), i.e. the
// formatting loses nothing; otherwise the extra digits are kept (never
// rounded), so the output stays exact. Negative amounts get a leading '-'.
std::string FormatDecimal(Amount units, int decimals = kAmountDecimals);

// Formats `units` with as few decimals as represent it exactly ("0.001",
// "40000"), the way ccxt sends numbers and config files write tick sizes.
std::string FormatDecimalTrimmed(Amount units);

// The Binance text of the legal range, for -1100 messages.
inline constexpr std::string_view kDecimalLegalRange = "^([0-9]{1,20})(\\.[0-9]{1,20})?$";

}  // namespace xc::order_service
