#include "xc/order_service/api_error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "xc/order_service/decimal.h"

namespace xc::order_service {
namespace {

using protocol::RejectCode;

TEST(ErrorsTest, RendersBinanceBody) {
  EXPECT_EQ(ApiError(ErrorId::kFilterLotSize).ToJson(),
            R"({"code":-1013,"msg":"Filter failure: LOT_SIZE"})");
  EXPECT_EQ(ApiError(ErrorId::kBadSymbol).ToJson(), R"({"code":-1121,"msg":"Invalid symbol."})");
  EXPECT_EQ(ApiError(ErrorId::kInvalidSignature).ToJson(),
            R"({"code":-1022,"msg":"Signature for this request is not valid."})");
  EXPECT_EQ(ApiError(ErrorId::kDuplicateParameter).ToJson(),
            R"({"code":-1101,"msg":"Duplicate values for a parameter detected."})");
  EXPECT_EQ(ApiError(ErrorId::kTimestampOutsideRecvWindow).ToJson(),
            R"({"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."})");
  EXPECT_EQ(ApiError(ErrorId::kBadRecvWindow).ToJson(),
            R"({"code":-1131,"msg":"recvWindow must be less than 60000"})");
  std::string out = "x";
  ApiError(ErrorId::kNoSuchOrder).AppendJson(&out);
  EXPECT_EQ(out, R"(x{"code":-2013,"msg":"Order does not exist."})");
}

TEST(ErrorsTest, HttpStatuses) {
  EXPECT_EQ(ApiError(ErrorId::kBadApiKeyFormat).http_status(), 401);
  EXPECT_EQ(ApiError(ErrorId::kRejectedApiKey).http_status(), 401);
  EXPECT_EQ(ApiError(ErrorId::kTooMuchWeight, "6000", "1M").http_status(), 429);
  EXPECT_EQ(ApiError(ErrorId::kTooManyOrdersLimit, "50", "10S").http_status(), 429);
  EXPECT_EQ(ApiError(ErrorId::kIpBanned, "1700000000000").http_status(), 418);
  EXPECT_EQ(ApiError(ErrorId::kNotFound).http_status(), 404);
  EXPECT_EQ(ApiError(ErrorId::kUnknown).http_status(), 500);
  EXPECT_EQ(ApiError(ErrorId::kServerBusy).http_status(), 503);
  EXPECT_EQ(ApiError(ErrorId::kTimeout).http_status(), 408);
  EXPECT_EQ(ApiError(ErrorId::kCancelReplacePartiallyFailed).http_status(), 409);
  EXPECT_EQ(ApiError(ErrorId::kFilterPrice).http_status(), 400);
}

TEST(ErrorsTest, BothBinanceTextsForOneConditionAreRows) {
  EXPECT_EQ(ApiError(ErrorId::kOrderWouldTrigger).msg(), "Order would trigger immediately.");
  EXPECT_EQ(ApiError(ErrorId::kStopPriceWouldTrigger).msg(),
            "Stop price would trigger immediately.");
  EXPECT_EQ(ApiError(ErrorId::kBadPrecision, "price").msg(),
            "Parameter 'price' has too much precision.");
  EXPECT_EQ(ApiError(ErrorId::kAssetPrecision).msg(),
            "Precision is over the maximum defined for this asset.");
  EXPECT_EQ(ApiError(ErrorId::kEitherParam, "a", "b").msg(),
            "Param 'a' or 'b' must be sent, but both were empty/null!");
  EXPECT_EQ(ApiError(ErrorId::kEitherParamEmpty, "a", "b").msg(),
            "Param 'a' or 'b' must be sent, but both were empty!");
}

TEST(ErrorsTest, HttpLevelErrorsCarryNoCode) {
  EXPECT_EQ(ApiError(ErrorId::kNotFound).ToJson(), R"({"msg":"Not Found"})");
}

TEST(ErrorsTest, SubstitutesArguments) {
  EXPECT_EQ(ApiError(ErrorId::kMandatoryParam, "x").ToJson(),
            R"({"code":-1102,"msg":"Mandatory parameter 'x' was not sent, was empty/null, or malformed."})");
  EXPECT_EQ(ApiError(ErrorId::kTooManyOrdersLimit, "50", "10S").msg(),
            "Too many new orders; current limit is 50 orders per 10S.");
  EXPECT_EQ(ApiError(ErrorId::kTooMuchWeight, "6000", "1M").msg(),
            "Too much request weight used; current limit is 6000 request weight per 1M. Please use "
            "WebSocket Streams for live updates to avoid polling the API.");
  // Missing arguments render empty; surplus ones are dropped.
  EXPECT_EQ(ApiError(ErrorId::kEitherParam, "orderId").msg(),
            "Param 'orderId' or '' must be sent, but both were empty/null!");
  EXPECT_EQ(ApiError(ErrorId::kBadSymbol, "a", "b").msg(), "Invalid symbol.");
  // A '%' in an argument is not a placeholder.
  EXPECT_EQ(ApiError(ErrorId::kParamEmpty, "%s").msg(), "Parameter '%s' was empty.");
}

TEST(ErrorsTest, EscapesJson) {
  EXPECT_EQ(ApiError(ErrorId::kMandatoryParam, "a\"b\\c").ToJson(),
            R"({"code":-1102,"msg":"Mandatory parameter 'a\"b\\c' was not sent, was empty/null, or malformed."})");
  std::string out;
  AppendJsonEscaped(std::string_view("\n\r\t\b\f\x01\x1f\x7f", 8), &out);
  EXPECT_EQ(out, "\\n\\r\\t\\b\\f\\u0001\\u001f\x7f");
  out.clear();
  AppendJsonEscaped(std::string_view("\0", 1), &out);
  EXPECT_EQ(out, "\\u0000");
  // Valid UTF-8 passes; invalid bytes become U+FFFD one by one.
  out.clear();
  AppendJsonEscaped("€ü😀", &out);
  EXPECT_EQ(out, "€ü😀");
  out.clear();
  AppendJsonEscaped("a\xff" "b\xc3", &out);
  EXPECT_EQ(out, "a\\ufffdb\\ufffd");
  out.clear();
  AppendJsonEscaped("\xc0\xaf", &out);  // overlong '/'
  EXPECT_EQ(out, "\\ufffd\\ufffd");
  out.clear();
  AppendJsonEscaped("\xed\xa0\x80", &out);  // surrogate
  EXPECT_EQ(out, "\\ufffd\\ufffd\\ufffd");
  out.clear();
  AppendJsonEscaped("\xf4\x90\x80\x80", &out);  // > U+10FFFF
  EXPECT_EQ(out, "\\ufffd\\ufffd\\ufffd\\ufffd");
}

TEST(ErrorsTest, CatalogueIsWellFormed) {
  const auto cat = ErrorCatalogue();
  ASSERT_FALSE(cat.empty());
  std::set<std::pair<int, std::string_view>> seen;
  for (size_t i = 0; i < cat.size(); ++i) {
    const ErrorSpec& s = cat[i];
    EXPECT_EQ(static_cast<size_t>(s.id), i);
    EXPECT_EQ(&Spec(s.id), &s);
    EXPECT_TRUE(seen.insert({s.code, s.message}).second) << s.name;
    EXPECT_TRUE(s.code < 0 || (s.code == 0 && s.http_status == 404)) << s.name;
    EXPECT_TRUE(s.http_status >= 400 && s.http_status < 600) << s.name;
    EXPECT_FALSE(s.message.empty()) << s.name;
    // Clients classify on these codes: keyed-auth problems are 401, rate
    // limits 429/418, everything else the client did is 400.
    if (s.code == -2014 || s.code == -2015 || s.code == -1002) {
      EXPECT_EQ(s.http_status, 401) << s.name;
    }
    if (s.code == -1015) {
      EXPECT_EQ(s.http_status, 429) << s.name;
    }
    if (s.code <= -1100 && s.code > -1200) {
      EXPECT_EQ(s.http_status, 400) << s.name;
    }
  }
}

TEST(ErrorsTest, MapsEngineRejects) {
  EXPECT_FALSE(FromRejectCode(RejectCode::kNone).has_value());
  const auto json = [](RejectCode r) { return FromRejectCode(r)->ToJson(); };
  EXPECT_EQ(json(RejectCode::kUnknownSymbol), R"({"code":-1121,"msg":"Invalid symbol."})");
  EXPECT_EQ(json(RejectCode::kWouldTakeLiquidity),
            R"({"code":-2010,"msg":"Order would immediately match and take."})");
  EXPECT_EQ(json(RejectCode::kUnknownOrder), R"({"code":-2011,"msg":"Unknown order sent."})");
  EXPECT_EQ(json(RejectCode::kInvalidQuantity), R"({"code":-1013,"msg":"Filter failure: LOT_SIZE"})");
  EXPECT_EQ(json(RejectCode::kInvalidPrice), R"({"code":-1013,"msg":"Filter failure: PRICE_FILTER"})");
  EXPECT_EQ(json(RejectCode::kDuplicateOrderId), R"({"code":-2010,"msg":"Duplicate order sent."})");
  EXPECT_EQ(json(RejectCode::kWouldTriggerImmediately),
            R"({"code":-2010,"msg":"Stop price would trigger immediately."})");
  EXPECT_EQ(json(RejectCode::kShardStopped), R"({"code":-1013,"msg":"Market is closed."})");
  EXPECT_EQ(json(RejectCode::kBookFull),
            R"({"code":-1013,"msg":"Filter failure: MAX_NUM_ORDERS"})");
  EXPECT_EQ(json(RejectCode::kInvalidTimeInForce),
            R"({"code":-1115,"msg":"Invalid timeInForce."})");
  EXPECT_EQ(FromRejectCode(RejectCode::kInvalidCommand)->http_status(), 500);
  // Every engine reject maps to something with a Binance code.
  for (int c = 100; c <= 113; ++c) {
    const auto e = FromRejectCode(static_cast<RejectCode>(c));
    ASSERT_TRUE(e.has_value()) << c;
    EXPECT_LT(e->code(), 0) << c;
  }
  // An unknown future value degrades to -1000 rather than crashing.
  EXPECT_EQ(FromRejectCode(static_cast<RejectCode>(299))->code(), -1000);
}

// The order service's convenience functions: Binance's exact texts.
TEST(ApiErrorTest, ExactBinanceTexts) {
  using Wire = std::pair<int, std::string>;
  const auto w = [](const ApiError& e) { return Wire{e.code(), std::string(e.msg())}; };
  EXPECT_EQ(w(errors::FilterFailure("LOT_SIZE")), (Wire{-1013, "Filter failure: LOT_SIZE"}));
  EXPECT_EQ(w(errors::InsufficientBalance()),
            (Wire{-2010, "Account has insufficient balance for requested action."}));
  EXPECT_EQ(w(errors::WouldMatchAndTake()),
            (Wire{-2010, "Order would immediately match and take."}));
  EXPECT_EQ(w(errors::DuplicateOrder()), (Wire{-2010, "Duplicate order sent."}));
  EXPECT_EQ(w(errors::UnknownOrder()), (Wire{-2011, "Unknown order sent."}));
  EXPECT_EQ(w(errors::OrderDoesNotExist()), (Wire{-2013, "Order does not exist."}));
  EXPECT_EQ(w(errors::InvalidSymbol()), (Wire{-1121, "Invalid symbol."}));
  EXPECT_EQ(errors::MandatoryParam("price").msg(),
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
  EXPECT_EQ(errors::IllegalChars("quantity", kDecimalPattern).msg(),
            "Illegal characters found in parameter 'quantity'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.");
  EXPECT_EQ(w(errors::NotRequired("timeInForce")),
            (Wire{-1106, "Parameter 'timeInForce' sent when not required."}));
  EXPECT_EQ(w(errors::QuantityOrQuoteMissing()),
            (Wire{-1102,
                  "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty!"}));
  EXPECT_EQ(w(errors::BadPrecision()),
            (Wire{-1111, "Precision is over the maximum defined for this asset."}));
  EXPECT_EQ(w(errors::StopWouldTrigger()), (Wire{-2010, "Stop price would trigger immediately."}));
  EXPECT_EQ(w(errors::PriceQtyZero()), (Wire{-2010, "Price * QTY is zero or less."}));
  EXPECT_EQ(w(errors::MarketClosed()), (Wire{-1013, "Market is closed."}));
  EXPECT_EQ(w(errors::InvalidApiKey()),
            (Wire{-2015, "Invalid API-key, IP, or permissions for action."}));
  EXPECT_EQ(errors::InvalidApiKey().http_status(), 401);
  EXPECT_EQ(w(errors::Unknown()),
            (Wire{-1000, "An unknown error occurred while processing the request."}));
  EXPECT_EQ(w(errors::InvalidTimeInForce()), (Wire{-1115, "Invalid timeInForce."}));
  EXPECT_EQ(w(errors::InvalidOrderType()), (Wire{-1116, "Invalid orderType."}));
  EXPECT_EQ(w(errors::InvalidSide()), (Wire{-1117, "Invalid side."}));
}

TEST(ApiErrorTest, FilterFailureUsesTheCatalogueRow) {
  EXPECT_EQ(errors::FilterFailure("LOT_SIZE").id(), ErrorId::kFilterLotSize);
  EXPECT_EQ(errors::FilterFailure("PRICE_FILTER").id(), ErrorId::kFilterPrice);
  EXPECT_EQ(errors::FilterFailure("PERCENT_PRICE_BY_SIDE").id(),
            ErrorId::kFilterPercentPriceBySide);
  EXPECT_EQ(errors::FilterFailure("MAX_NUM_ORDERS").id(), ErrorId::kFilterMaxNumOrders);
  // A filter the catalogue does not name still gets Binance's shape.
  const ApiError other = errors::FilterFailure("TRAILING_DELTA");
  EXPECT_EQ(other.id(), ErrorId::kFilterFailure);
  EXPECT_EQ(other.ToJson(), R"({"code":-1013,"msg":"Filter failure: TRAILING_DELTA"})");
  // Equality is what the client sees: code and text.
  EXPECT_EQ(ApiError(ErrorId::kFilterFailure, "LOT_SIZE"), errors::FilterFailure("LOT_SIZE"));
  EXPECT_NE(errors::FilterFailure("LOT_SIZE"), errors::FilterFailure("MARKET_LOT_SIZE"));
}

TEST(ApiErrorTest, ResultHoldsValueOrError) {
  ApiResult<std::string> ok = std::string("x");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "x");
  ok.value() += "y";
  EXPECT_EQ(std::move(ok).value(), "xy");
  ApiResult<int> bad = errors::InvalidSymbol();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), -1121);
  EXPECT_EQ(std::move(bad).error(), errors::InvalidSymbol());
}

}  // namespace
}  // namespace xc::order_service
