#include "xc/gateway/request_auth.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <limits>
#include <string>

namespace xc::gateway {
namespace {

using order_service::ApiError;
using order_service::ErrorId;
using order_service::ApiResult;

// Binance's documented example key (rest-api.md "SIGNED endpoint examples").
constexpr std::string_view kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kApiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";

constexpr int64_t kMs = 1'000'000;  // ns per ms
constexpr protocol::Timestamp kNow = 1'499'827'319'559 * kMs;

std::string Sign(std::string_view payload) { return ToHex(HmacSha256Key(kSecret).Sign(payload)); }

class RequestAuthTest : public ::testing::Test {
 protected:
  std::optional<ApiError> Auth(std::string_view query, std::string_view body,
                               protocol::Timestamp now = kNow) {
    if (std::optional<ApiError> err = params_.Parse(query, body)) return err;
    return AuthenticateSigned(params_, key_, now);
  }
  static std::string Json(const std::optional<ApiError>& e) { return e ? e->ToJson() : "ok"; }

  HmacSha256Key key_{kSecret};
  RequestParams params_;
};

// Binance's three documented examples: everything in the query, everything
// in the body, and mixed (query + body concatenated without separator).
TEST_F(RequestAuthTest, BinanceDocExamples) {
  const std::string_view all =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
      "timestamp=1499827319559";
  const std::string sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
  EXPECT_EQ(Sign(all), sig);
  EXPECT_EQ(Json(Auth(std::string(all) + "&signature=" + sig, "")), "ok");
  EXPECT_EQ(Json(Auth("", std::string(all) + "&signature=" + sig)), "ok");

  const std::string mixed_sig = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";
  EXPECT_EQ(Json(Auth("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
                      "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=" +
                          mixed_sig)),
            "ok");
  // Uppercase hex is the same signature.
  std::string upper = mixed_sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Json(Auth("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
                      "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=" +
                          upper)),
            "ok");
}

TEST_F(RequestAuthTest, CcxtStyleBodyWithSignatureLast) {
  const std::string body =
      "timestamp=1499827319000&symbol=BTCUSDT&side=BUY&newClientOrderId=x-TKT5PX2F0123456789abcdef0123"
      "&newOrderRespType=FULL&type=LIMIT&quantity=0.001&price=40000&timeInForce=GTC&recvWindow=10000";
  EXPECT_EQ(Json(Auth("", body + "&signature=" + Sign(body))), "ok");
}

TEST_F(RequestAuthTest, TamperingBreaksTheSignature) {
  const std::string q = "symbol=BTCUSDT&quantity=0.001&timestamp=1499827319559";
  const std::string sig = Sign(q);
  const std::string bad = R"({"code":-1022,"msg":"Signature for this request is not valid."})";
  EXPECT_EQ(Json(Auth("symbol=BTCUSDT&quantity=0.002&timestamp=1499827319559&signature=" + sig, "")), bad);
  // Moving a parameter from the query to the body changes the payload bytes
  // ("a=1&b=2" vs "a=1" + "b=2").
  EXPECT_EQ(Json(Auth("symbol=BTCUSDT&quantity=0.001", "timestamp=1499827319559&signature=" + sig)), bad);
  // Reordering changes the bytes too.
  EXPECT_EQ(Json(Auth("quantity=0.001&symbol=BTCUSDT&timestamp=1499827319559&signature=" + sig, "")), bad);
  // Another key.
  const HmacSha256Key other("other-secret");
  const std::string signed_query = q + "&signature=" + sig;  // the views point into it
  ASSERT_FALSE(params_.Parse(signed_query, ""));
  EXPECT_EQ(Json(CheckSignature(params_, other)), bad);
  // Malformed signatures are just invalid.
  EXPECT_EQ(Json(Auth(q + "&signature=" + sig.substr(1), "")), bad);
  EXPECT_EQ(Json(Auth(q + "&signature=zz" + sig.substr(2), "")), bad);
  EXPECT_EQ(Json(Auth(q + "&signature=" + sig + "00", "")), bad);
}

TEST_F(RequestAuthTest, MissingSignature) {
  const std::string want =
      R"({"code":-1102,"msg":"Mandatory parameter 'signature' was not sent, was empty/null, or malformed."})";
  EXPECT_EQ(Json(Auth("timestamp=1499827319559", "")), want);
  EXPECT_EQ(Json(Auth("timestamp=1499827319559&signature=", "")), want);
}

// Clients sign the bytes they send. A client that percent-encodes a value
// before signing and sends the same encoded bytes verifies; the check never
// decodes the payload, so the signature covers exactly what was sent.
TEST_F(RequestAuthTest, PercentEncodedValuesAreSignedAsSent) {
  for (std::string_view q : {"newClientOrderId=ab%3Ac%2Fd&timestamp=1499827319559",
                             "newClientOrderId=ab%3ac%2fd&timestamp=1499827319559",
                             "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&timestamp=1499827319559",
                             "note=a+b&timestamp=1499827319559"}) {
    EXPECT_EQ(Json(Auth(std::string(q) + "&signature=" + Sign(q), "")), "ok") << q;
  }
  // Signing the decoded text but sending it encoded does not verify: the
  // server must not "normalise" what the client sent.
  EXPECT_EQ(Auth("newClientOrderId=ab%3Ac&timestamp=1499827319559&signature=" +
                     Sign("newClientOrderId=ab:c&timestamp=1499827319559"),
                 "")->code(),
            -1022);
  // An encoded signature value is decoded before comparing (harmless: hex
  // needs no escaping, but some clients escape everything).
  const std::string q = "timestamp=1499827319559";
  std::string sig = Sign(q);
  char escaped[4];
  std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(sig[0]));
  sig.replace(0, 1, escaped);
  EXPECT_EQ(Json(Auth(q + "&signature=" + sig, "")), "ok");
}

TEST_F(RequestAuthTest, TimestampWindow) {
  const auto at = [&](int64_t ts_ms, protocol::Timestamp now, std::string_view extra = "") {
    std::string q = "timestamp=" + std::to_string(ts_ms) + std::string(extra);
    return Auth(q + "&signature=" + Sign(q), "", now);
  };
  const int64_t now_ms = kNow / kMs;
  const std::string stale =
      R"({"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."})";
  const std::string ahead =
      R"({"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server's time."})";
  // Default recvWindow 5000: now - ts <= 5000 passes, 5001 fails.
  EXPECT_EQ(Json(at(now_ms, kNow)), "ok");
  EXPECT_EQ(Json(at(now_ms - 5000, kNow)), "ok");
  EXPECT_EQ(Json(at(now_ms - 5001, kNow)), stale);
  EXPECT_EQ(Json(at(now_ms - 86'400'000, kNow)), stale);
  // Future: ts < now + 1000 passes, ts == now + 1000 fails.
  EXPECT_EQ(Json(at(now_ms + 999, kNow)), "ok");
  EXPECT_EQ(Json(at(now_ms + 1000, kNow)), ahead);
  EXPECT_EQ(Json(at(now_ms + 3'600'000, kNow)), ahead);
  // The clock is an input: the same request is fine at its own time.
  EXPECT_EQ(Json(at(now_ms - 5001, kNow - kMs)), "ok");
  // Sub-millisecond server time: 5000.4 ms old is outside the 5000 ms window.
  EXPECT_EQ(Json(at(now_ms - 5000, kNow + 400'000)), stale);
  // ccxt's recvWindow=10000.
  EXPECT_EQ(Json(at(now_ms - 10'000, kNow, "&recvWindow=10000")), "ok");
  EXPECT_EQ(Json(at(now_ms - 10'001, kNow, "&recvWindow=10000")), stale);
}

TEST_F(RequestAuthTest, MicrosecondTimestamps) {
  const int64_t now_us = kNow / 1000;
  const auto at_us = [&](int64_t ts_us) {
    std::string q = "timestamp=" + std::to_string(ts_us);
    return Auth(q + "&signature=" + Sign(q), "");
  };
  EXPECT_EQ(Json(at_us(now_us)), "ok");
  EXPECT_EQ(Json(at_us(now_us - 5'000'000)), "ok");
  EXPECT_EQ(at_us(now_us - 5'000'001)->id(), ErrorId::kTimestampOutsideRecvWindow);
  EXPECT_EQ(at_us(now_us + 1'000'000)->id(), ErrorId::kTimestampAhead);
  EXPECT_EQ(Json(at_us(now_us + 999'999)), "ok");
}

TEST_F(RequestAuthTest, RecvWindowBounds) {
  const auto rw = [&](std::string_view value) {
    std::string q = "timestamp=" + std::to_string(kNow / kMs) + "&recvWindow=" + std::string(value);
    return Auth(q + "&signature=" + Sign(q), "");
  };
  EXPECT_EQ(Json(rw("60000")), "ok");
  EXPECT_EQ(Json(rw("60000.000")), "ok");
  EXPECT_EQ(Json(rw("0")), "ok");
  EXPECT_EQ(Json(rw("1.5")), "ok");
  EXPECT_EQ(Json(rw("60001")), R"({"code":-1131,"msg":"recvWindow must be less than 60000"})");
  EXPECT_EQ(Json(rw("60000.001")), R"({"code":-1131,"msg":"recvWindow must be less than 60000"})");
  EXPECT_EQ(Json(rw("99999999999999999999")), R"({"code":-1108,"msg":"Parameter 'recvWindow' overflowed."})");
  EXPECT_EQ(Json(rw("1.0005")), R"({"code":-1111,"msg":"Parameter 'recvWindow' has too much precision."})");
  EXPECT_EQ(Json(rw("")), R"({"code":-1105,"msg":"Parameter 'recvWindow' was empty."})");
  EXPECT_EQ(rw("-1")->code(), -1100);
  EXPECT_EQ(rw("1e4")->code(), -1100);

  // A fractional window is honoured to the microsecond.
  std::string q = "timestamp=" + std::to_string(kNow / kMs - 2) + "&recvWindow=1.999";
  EXPECT_EQ(Auth(q + "&signature=" + Sign(q), "")->id(), ErrorId::kTimestampOutsideRecvWindow);

  // The limits are a policy, defaulting to Binance's.
  RecvWindowPolicy strict;
  strict.default_recv_window_us = 1'000'000;
  q = "timestamp=" + std::to_string(kNow / kMs - 2000);
  ASSERT_FALSE(params_.Parse(q, ""));
  EXPECT_TRUE(CheckRequestTime(params_, kNow).ok());
  EXPECT_EQ(CheckRequestTime(params_, kNow, strict).error().id(),
            ErrorId::kTimestampOutsideRecvWindow);
}

TEST_F(RequestAuthTest, TimestampFieldErrors) {
  EXPECT_EQ(Json(Auth("symbol=A&signature=00", "")),
            R"({"code":-1102,"msg":"Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."})");
  EXPECT_EQ(Auth("timestamp=&signature=00", "")->code(), -1102);
  EXPECT_EQ(Json(Auth("timestamp=1.5e12&signature=00", "")),
            R"({"code":-1100,"msg":"Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'."})");
  EXPECT_EQ(Auth("timestamp=-1&signature=00", "")->code(), -1100);
  EXPECT_EQ(Auth("timestamp=99999999999999999999&signature=00", "")->code(), -1108);
  // The query's timestamp wins over the body's.
  const std::string q = "timestamp=" + std::to_string(kNow / kMs);
  const std::string b = "timestamp=1";
  ASSERT_FALSE(params_.Parse(q, b));
  const ApiResult<RequestTime> t = CheckRequestTime(params_, kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value().timestamp_us, kNow / 1000);
  EXPECT_EQ(t.value().recv_window_us, 5'000'000);
}

TEST_F(RequestAuthTest, ExtremeClockValuesDoNotOverflow) {
  ASSERT_FALSE(params_.Parse("timestamp=18446744073709551615", ""));
  EXPECT_EQ(CheckRequestTime(params_, kNow).error().id(), ErrorId::kParamOverflow);
  ASSERT_FALSE(params_.Parse("timestamp=9223372036854775807", ""));
  EXPECT_EQ(CheckRequestTime(params_, std::numeric_limits<int64_t>::min()).error().id(),
            ErrorId::kTimestampAhead);
  ASSERT_FALSE(params_.Parse("timestamp=0", ""));
  EXPECT_EQ(CheckRequestTime(params_, std::numeric_limits<int64_t>::max()).error().id(),
            ErrorId::kTimestampOutsideRecvWindow);
}

TEST(ApiKeyFormatTest, Binance401Errors) {
  EXPECT_FALSE(CheckApiKeyFormat(kApiKey));
  const std::string want = R"({"code":-2014,"msg":"API-key format invalid."})";
  EXPECT_EQ(CheckApiKeyFormat(std::nullopt)->ToJson(), want);
  EXPECT_EQ(CheckApiKeyFormat("")->ToJson(), want);
  EXPECT_EQ(CheckApiKeyFormat("abc def")->http_status(), 401);
  EXPECT_TRUE(CheckApiKeyFormat("abc\"def"));
  EXPECT_TRUE(CheckApiKeyFormat(std::string(129, 'a')));
  EXPECT_FALSE(CheckApiKeyFormat(std::string(128, 'a')));
  EXPECT_EQ(ApiError(ErrorId::kRejectedApiKey).ToJson(),
            R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})");
}

}  // namespace
}  // namespace xc::gateway
