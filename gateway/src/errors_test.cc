#include "xc/gateway/errors.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace xc::gateway {
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
            R"({"code":-2010,"msg":"Order would trigger immediately."})");
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

}  // namespace
}  // namespace xc::gateway
