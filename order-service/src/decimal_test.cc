#include "xc/order_service/decimal.h"

#include "gtest/gtest.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/messages.h"

namespace xc::order_service {
namespace {

ParsedDecimal P(std::string_view s) { return ParseDecimal(s); }

TEST(DecimalTest, ParsesPlainAndPaddedForms) {
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

TEST(DecimalTest, RejectsOutsideTheGrammar) {
  for (const char* s : {"1e-7", "1E5", "-1", "+1", "1.", ".5", " 1", "1 ", "1,5", "0x10", "abc",
                        "1.2.3", "NaN", "inf", "123456789012345678901", "1.123456789012345678901"}) {
    EXPECT_EQ(P(s).error, DecimalError::kIllegal) << s;
  }
  EXPECT_EQ(P("").error, DecimalError::kEmpty);
}

TEST(DecimalTest, TooPreciseAndOverflow) {
  EXPECT_EQ(P("0.000000001").error, DecimalError::kTooPrecise);
  EXPECT_EQ(P("1.000000000000000001").error, DecimalError::kTooPrecise);
  EXPECT_EQ(P("92233720368.54775808").error, DecimalError::kOverflow);
  EXPECT_EQ(P("99999999999999999999").error, DecimalError::kOverflow);
}

TEST(DecimalTest, Formats) {
  EXPECT_EQ(FormatDecimal(100000), "0.00100000");
  EXPECT_EQ(FormatDecimal(40000 * kUnitsPerWhole), "40000.00000000");
  EXPECT_EQ(FormatDecimal(-1), "-0.00000001");
  EXPECT_EQ(FormatDecimal(0), "0.00000000");
  EXPECT_EQ(FormatDecimal(123456789, 2), "1.23456789");  // never rounds
  EXPECT_EQ(FormatDecimal(150000000, 2), "1.50");
  EXPECT_EQ(FormatDecimal(INT64_MIN), "-92233720368.54775808");
  EXPECT_EQ(FormatDecimalTrimmed(100000), "0.001");
  EXPECT_EQ(FormatDecimalTrimmed(40000 * kUnitsPerWhole), "40000");
  EXPECT_EQ(FormatDecimalTrimmed(0), "0");
}

TEST(DecimalTest, RoundTrips) {
  for (Amount v : {Amount{0}, Amount{1}, Amount{99999999}, Amount{100000000}, Amount{123456789012},
                   INT64_MAX}) {
    EXPECT_EQ(P(FormatDecimal(v)).units, v);
    EXPECT_EQ(P(FormatDecimalTrimmed(v)).units, v);
  }
}

TEST(MessagesTest, NamesAndParsers) {
  EXPECT_EQ(ParseOrderType("LIMIT_MAKER"), OrderType::kLimitMaker);
  EXPECT_FALSE(ParseOrderType("limit").has_value());
  EXPECT_EQ(ParseSide("SELL"), protocol::Side::kSell);
  EXPECT_FALSE(ParseSide("sell").has_value());
  EXPECT_EQ(ParseTimeInForce("FOK"), protocol::TimeInForce::kFok);
  EXPECT_FALSE(ParseTimeInForce("PO").has_value());
  EXPECT_STREQ(OrderStatusName(OrderStatus::kExpiredInMatch), "EXPIRED_IN_MATCH");
  EXPECT_STREQ(OrderStatusName(OrderStatus::kPartiallyFilled), "PARTIALLY_FILLED");
  EXPECT_TRUE(IsValidClientOrderId("x-TKT5PX2F0123456789abcdef012345"));
  EXPECT_TRUE(IsValidClientOrderId(std::string(36, 'a')));
  EXPECT_FALSE(IsValidClientOrderId(std::string(37, 'a')));
  EXPECT_FALSE(IsValidClientOrderId("ab:c/d"));
  EXPECT_FALSE(IsValidClientOrderId(""));
}

TEST(ApiErrorTest, ExactBinanceTexts) {
  EXPECT_EQ(errors::FilterFailure("LOT_SIZE"), (ApiError{-1013, "Filter failure: LOT_SIZE"}));
  EXPECT_EQ(errors::InsufficientBalance(),
            (ApiError{-2010, "Account has insufficient balance for requested action."}));
  EXPECT_EQ(errors::WouldMatchAndTake(),
            (ApiError{-2010, "Order would immediately match and take."}));
  EXPECT_EQ(errors::DuplicateOrder(), (ApiError{-2010, "Duplicate order sent."}));
  EXPECT_EQ(errors::UnknownOrder(), (ApiError{-2011, "Unknown order sent."}));
  EXPECT_EQ(errors::OrderDoesNotExist(), (ApiError{-2013, "Order does not exist."}));
  EXPECT_EQ(errors::InvalidSymbol(), (ApiError{-1121, "Invalid symbol."}));
  EXPECT_EQ(errors::MandatoryParam("price").msg,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
  EXPECT_EQ(errors::IllegalChars("quantity", kDecimalLegalRange).msg,
            "Illegal characters found in parameter 'quantity'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.");
  EXPECT_EQ(errors::NotRequired("timeInForce"),
            (ApiError{-1106, "Parameter 'timeInForce' sent when not required."}));
}

}  // namespace
}  // namespace xc::order_service
