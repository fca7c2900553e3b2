#include "xc/order_service/decimal.h"

#include <gtest/gtest.h>

#include <limits>

namespace xc::order_service {
namespace {

int64_t Dec(std::string_view text, int scale) {
  const ApiResult<int64_t> r = ParseDecimal("quantity", text, scale);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().ToJson());
  return r.ok() ? *r : -1;
}

ApiError DecErr(std::string_view text, int scale, std::string_view name = "quantity") {
  const ApiResult<int64_t> r = ParseDecimal(name, text, scale);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
  return r.ok() ? ApiError(ErrorId::kUnknown) : r.error();
}

TEST(DecimalTest, ParsesPlainAndPaddedForms) {
  EXPECT_EQ(Dec("40000", 8), 4'000'000'000'000);
  EXPECT_EQ(Dec("40000.00000000", 8), 4'000'000'000'000);
  EXPECT_EQ(Dec("0.001", 8), 100'000);
  EXPECT_EQ(Dec("0.00000001", 8), 1);
  EXPECT_EQ(Dec("0", 8), 0);
  EXPECT_EQ(Dec("000123.4500", 2), 12345);
  EXPECT_EQ(Dec("7", 0), 7);
  EXPECT_EQ(Dec("7.000", 0), 7);
}

TEST(DecimalTest, TrailingZerosBeyondScaleCarryNoPrecision) {
  EXPECT_EQ(Dec("0.00100000000000000000", 8), 100'000);  // 20 decimals
  EXPECT_EQ(DecErr("0.000000001", 8).id(), ErrorId::kBadPrecision);
  EXPECT_EQ(DecErr("0.0010000000000000001", 8).id(), ErrorId::kBadPrecision);
  EXPECT_EQ(DecErr("1.5", 0).msg(), "Parameter 'quantity' has too much precision.");
  EXPECT_EQ(DecErr("1.5", 0).code(), -1111);
}

TEST(DecimalTest, RejectsWhatTheBinancePatternRejects) {
  for (std::string_view bad : {"1e5", "1e-7", "1E5", "+1", "-1", ".5", "5.", "1.2.3", " 1", "1 ",
                               "0x10", "1,5", "١", "NaN", "inf", "1_000", "1.-5", "--1",
                               "123456789012345678901", "1.123456789012345678901"}) {
    const ApiError e = DecErr(bad, 8);
    EXPECT_EQ(e.code(), -1100) << bad;
    EXPECT_EQ(e.msg(),
              "Illegal characters found in parameter 'quantity'; legal range is "
              "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
        << bad;
  }
}

TEST(DecimalTest, EmptyIsMandatoryParameter) {
  const ApiError e = DecErr("", 8, "price");
  EXPECT_EQ(e.code(), -1102);
  EXPECT_EQ(e.msg(), "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
}

TEST(DecimalTest, OverflowIsParamOverflow) {
  // 20 integer digits fit the pattern but not int64 units.
  EXPECT_EQ(DecErr("99999999999999999999", 0).id(), ErrorId::kParamOverflow);
  // 92233720368.54775807 * 10^8 == INT64_MAX exactly; one more unit overflows.
  EXPECT_EQ(Dec("92233720368.54775807", 8), std::numeric_limits<int64_t>::max());
  const ApiError e = DecErr("92233720368.54775808", 8);
  EXPECT_EQ(e.code(), -1108);
  EXPECT_EQ(e.msg(), "Parameter 'quantity' overflowed.");
  EXPECT_EQ(DecErr("92233720369", 8).id(), ErrorId::kParamOverflow);
  EXPECT_EQ(Dec("9223372036854775807", 0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(DecErr("9223372036854775808", 0).id(), ErrorId::kParamOverflow);
  EXPECT_EQ(Dec("9.223372036854775807", 18), std::numeric_limits<int64_t>::max());
}

TEST(DecimalTest, IntegersAreStrict) {
  EXPECT_EQ(*ParseInteger("timestamp", "1700000000000"), 1'700'000'000'000);
  EXPECT_EQ(*ParseInteger("limit", "0"), 0);
  EXPECT_EQ(*ParseInteger("limit", "007"), 7);
  for (std::string_view bad : {"-1", "+1", "1.0", "1e3", " 1", "", "abc", "123456789012345678901"}) {
    const ApiResult<int64_t> r = ParseInteger("limit", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), bad.empty() ? -1102 : -1100) << bad;
  }
  EXPECT_EQ(ParseInteger("orderId", "x").error().msg(),
            "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.");
  EXPECT_EQ(ParseInteger("limit", "9223372036854775808").error().id(), ErrorId::kParamOverflow);
  EXPECT_EQ(*ParseInteger("limit", "9223372036854775807"), std::numeric_limits<int64_t>::max());
}

TEST(DecimalTest, SignedIntegersWhenAllowed) {
  EXPECT_EQ(*ParseInteger("delta", "-5", true), -5);
  EXPECT_EQ(*ParseInteger("delta", "-9223372036854775808", true),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ParseInteger("delta", "-9223372036854775809", true).error().id(),
            ErrorId::kParamOverflow);
  EXPECT_EQ(ParseInteger("delta", "+5", true).error().code(), -1100);
  EXPECT_EQ(ParseInteger("delta", "-", true).error().code(), -1100);
  EXPECT_EQ(ParseInteger("delta", "--5", true).error().code(), -1100);
}

TEST(DecimalTest, UnsignedIds) {
  EXPECT_EQ(*ParseUnsigned("orderId", "18446744073709551615"),
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(ParseUnsigned("orderId", "18446744073709551616").error().id(),
            ErrorId::kParamOverflow);
  EXPECT_EQ(ParseUnsigned("orderId", "99999999999999999999").error().id(),
            ErrorId::kParamOverflow);
  EXPECT_EQ(ParseUnsigned("orderId", "-1").error().code(), -1100);
  EXPECT_EQ(ParseUnsigned("orderId", "").error().code(), -1102);
}

TEST(DecimalTest, FormatsAtTheSymbolsPrecision) {
  EXPECT_EQ(FormatDecimal(1000, 8), "0.00001000");
  EXPECT_EQ(FormatDecimal(4'000'000, 2), "40000.00");
  EXPECT_EQ(FormatDecimal(0, 8), "0.00000000");
  EXPECT_EQ(FormatDecimal(0, 0), "0");
  EXPECT_EQ(FormatDecimal(7, 0), "7");
  EXPECT_EQ(FormatDecimal(-5, 1), "-0.5");
  EXPECT_EQ(FormatDecimal(-15, 1), "-1.5");
  EXPECT_EQ(FormatDecimal(std::numeric_limits<int64_t>::max(), 8), "92233720368.54775807");
  EXPECT_EQ(FormatDecimal(std::numeric_limits<int64_t>::min(), 18), "-9.223372036854775808");
  EXPECT_EQ(FormatDecimal(1, 18), "0.000000000000000001");
  std::string out = "p=";
  AppendDecimal(12345, 3, &out);
  EXPECT_EQ(out, "p=12.345");
}

TEST(DecimalTest, ParseFormatRoundTrip) {
  for (int scale = 0; scale <= kMaxDecimalScale; ++scale) {
    for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{9}, int64_t{10}, int64_t{123456789},
                      std::numeric_limits<int64_t>::max()}) {
      EXPECT_EQ(Dec(FormatDecimal(v, scale), scale), v) << v << " @" << scale;
    }
  }
}

// Amount (1e-8 units) parsing: the order service's entry points.
ParsedDecimal P(std::string_view s) { return ParseDecimal(s); }

TEST(DecimalTest, AmountParsesPlainAndPaddedForms) {
  EXPECT_EQ(P("40000").units, 40000 * kUnitsPerWhole);
  EXPECT_EQ(P("40000.00000000").units, 40000 * kUnitsPerWhole);
  EXPECT_EQ(P("40000.000000000000").units, 40000 * kUnitsPerWhole);  // zeros past 1e-8
  EXPECT_EQ(P("0.001").units, 100000);
  EXPECT_EQ(P("0.00000001").units, 1);
  EXPECT_EQ(P("00012.5").units, 1250000000);
  EXPECT_EQ(P("0").units, 0);
  EXPECT_TRUE(P("0").ok());
  EXPECT_EQ(P("92233720368.54775807").units, INT64_MAX);
}

TEST(DecimalTest, AmountRejectsOutsideTheGrammar) {
  for (const char* s : {"1e-7", "1E5", "-1", "+1", "1.", ".5", " 1", "1 ", "1,5", "0x10", "abc",
                        "1.2.3", "NaN", "inf", "123456789012345678901",
                        "1.123456789012345678901"}) {
    EXPECT_EQ(P(s).error, DecimalError::kIllegal) << s;
  }
  EXPECT_EQ(P("").error, DecimalError::kEmpty);
}

TEST(DecimalTest, AmountTooPreciseAndOverflow) {
  EXPECT_EQ(P("0.000000001").error, DecimalError::kTooPrecise);
  EXPECT_EQ(P("1.000000000000000001").error, DecimalError::kTooPrecise);
  EXPECT_EQ(P("92233720368.54775808").error, DecimalError::kOverflow);
  EXPECT_EQ(P("99999999999999999999").error, DecimalError::kOverflow);
  // Other scales through the same parser.
  EXPECT_EQ(ParseDecimal("1.5", 0).error, DecimalError::kTooPrecise);
  EXPECT_EQ(ParseDecimal("12.34", 2).units, 1234);
}

TEST(DecimalTest, AmountFormats) {
  EXPECT_EQ(FormatDecimal(100000), "0.00100000");
  EXPECT_EQ(FormatDecimal(40000 * kUnitsPerWhole), "40000.00000000");
  EXPECT_EQ(FormatDecimal(-1), "-0.00000001");
  EXPECT_EQ(FormatDecimal(0), "0.00000000");
  EXPECT_EQ(FormatDecimalTrimmed(123456789, kAmountDecimals, 2), "1.23456789");  // never rounds
  EXPECT_EQ(FormatDecimalTrimmed(150000000, kAmountDecimals, 2), "1.50");
  EXPECT_EQ(FormatDecimal(INT64_MIN), "-92233720368.54775808");
  EXPECT_EQ(FormatDecimalTrimmed(100000), "0.001");
  EXPECT_EQ(FormatDecimalTrimmed(40000 * kUnitsPerWhole), "40000");
  EXPECT_EQ(FormatDecimalTrimmed(0), "0");
  EXPECT_EQ(FormatDecimalTrimmed(-1), "-0.00000001");
  EXPECT_EQ(FormatDecimalTrimmed(7, 0), "7");
  EXPECT_EQ(FormatDecimalTrimmed(1230, 3, 1), "1.23");
  EXPECT_EQ(FormatDecimalTrimmed(1000, 3, 1), "1.0");
  std::string out = "q=";
  AppendDecimalTrimmed(2500, 4, 0, &out);
  EXPECT_EQ(out, "q=0.25");
}

TEST(DecimalTest, AmountRoundTrips) {
  for (Amount v : {Amount{0}, Amount{1}, Amount{99999999}, Amount{100000000}, Amount{123456789012},
                   INT64_MAX}) {
    EXPECT_EQ(P(FormatDecimal(v)).units, v);
    EXPECT_EQ(P(FormatDecimalTrimmed(v)).units, v);
  }
}

}  // namespace
}  // namespace xc::order_service
