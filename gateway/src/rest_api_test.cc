#include "xc/gateway/rest_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include "xc/gateway/rate_limiter.h"
#include "xc/gateway/testing/http_test_client.h"
#include "xc/order_service/order_service_api.h"

namespace xc::gateway {
namespace {

namespace os = xc::order_service;
using testing::TestClient;
using testing::TestResponse;

class FixedClock : public WallClock {
 public:
  protocol::Timestamp NowNanos() const override { return 1'700'000'000'123'456'789; }
};

// An order service that only knows its symbols: RestApi's public endpoints
// read nothing else, so every other request is a test failure.
class SymbolsOnlyOrderService : public os::OrderServiceApi {
 public:
  explicit SymbolsOnlyOrderService(std::vector<os::SymbolConfig> c) : configs_(std::move(c)) {}
  std::vector<os::SymbolConfig> ExchangeInfo() const override { return configs_; }
  std::optional<os::ApiKeyRecord> LookupApiKey(std::string_view) const override {
    ADD_FAILURE();
    return std::nullopt;
  }
  os::ApiResult<os::OrderInfo> PlaceOrder(const os::PlaceOrderRequest&) override { return Fail(); }
  std::optional<os::ApiError> TestOrder(const os::PlaceOrderRequest&) override {
    ADD_FAILURE();
    return std::nullopt;
  }
  os::ApiResult<os::OrderInfo> CancelOrder(const os::OrderRef&) override { return Fail(); }
  os::ApiResult<std::vector<os::OrderInfo>> CancelOpenOrders(protocol::UserId, std::string_view,
                                                             protocol::Timestamp) override {
    return Fail();
  }
  os::ApiResult<os::CancelReplaceResult> CancelReplace(const os::CancelReplaceRequest&) override {
    return Fail();
  }
  os::ApiResult<os::OrderInfo> QueryOrder(const os::OrderRef&) const override { return Fail(); }
  os::ApiResult<std::vector<os::OrderInfo>> OpenOrders(protocol::UserId,
                                                       std::string_view) const override {
    return Fail();
  }
  os::ApiResult<std::vector<os::OrderInfo>> AllOrders(protocol::UserId,
                                                      std::string_view) const override {
    return Fail();
  }
  os::ApiResult<std::vector<os::TradeInfo>> MyTrades(protocol::UserId,
                                                     std::string_view) const override {
    return Fail();
  }
  os::ApiResult<os::AccountInfo> Account(protocol::UserId) const override { return Fail(); }

 private:
  static os::ApiError Fail() {
    ADD_FAILURE() << "unexpected order-service call";
    return os::errors::Unknown();
  }
  std::vector<os::SymbolConfig> configs_;
};

std::vector<os::SymbolConfig> Configs() {
  os::SymbolConfig btc{.symbol = "BTCUSDT",
                       .base_asset = "BTC",
                       .quote_asset = "USDT",
                       .min_price = "0.01",
                       .max_price = "1000000",
                       .tick_size = "0.01",
                       .min_qty = "0.00001",
                       .max_qty = "9000",
                       .step_size = "0.00001",
                       .market_min_qty = "0",
                       .market_max_qty = "83.5",
                       .notional_filter = "NOTIONAL",
                       .min_notional = "5",
                       .max_notional = "9000000",
                       .apply_min_to_market = true,
                       .apply_max_to_market = false,
                       .bid_multiplier_up = "5",
                       .bid_multiplier_down = "0.2",
                       .ask_multiplier_up = "5",
                       .ask_multiplier_down = "0.2",
                       .market_buy_band = "1.05",
                       .maker_fee = "0.0009",
                       .taker_fee = "0.001"};
  os::SymbolConfig eth{.symbol = "ETHBTC",
                       .base_asset = "ETH",
                       .quote_asset = "BTC",
                       .min_price = "0.00001",
                       .max_price = "922327",
                       .tick_size = "0.00001",
                       .min_qty = "0.001",
                       .max_qty = "100000",
                       .step_size = "0.001",
                       .market_min_qty = "0",
                       .market_max_qty = "1000",
                       .notional_filter = "MIN_NOTIONAL",
                       .min_notional = "0.0001",
                       .max_notional = "",
                       .apply_min_to_market = true,
                       .apply_max_to_market = false,
                       .bid_multiplier_up = "",
                       .bid_multiplier_down = "",
                       .ask_multiplier_up = "",
                       .ask_multiplier_down = "",
                       .market_buy_band = "1.05",
                       .maker_fee = "0.0009",
                       .taker_fee = "0.001"};
  return {btc, eth};
}

class RestApiTest : public ::testing::Test {
 protected:
  RestApiTest() : orders_(Configs()), api_(orders_, clock_), server_(HttpServerOptions{}) {
    api_.Register(server_);
    EXPECT_FALSE(server_.Start());
  }
  ~RestApiTest() override { server_.Stop(); }

  TestResponse Get(std::string_view target) {
    TestClient c(server_.port());
    return c.Request("GET", target);
  }

  FixedClock clock_;
  SymbolsOnlyOrderService orders_;
  RestApi api_;
  HttpServer server_;
  simdjson::dom::parser parser_;
};

TEST_F(RestApiTest, Ping) {
  TestResponse r = Get("/api/v3/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
}

TEST_F(RestApiTest, TimeIsTheInjectedClockInMilliseconds) {
  TestResponse r = Get("/api/v3/time");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"serverTime":1700000000123})");
  simdjson::dom::element doc = parser_.parse(r.body);
  EXPECT_EQ(int64_t(doc["serverTime"]), 1700000000123);
}

std::string_view Filter(simdjson::dom::element sym, std::string_view type, std::string_view key) {
  for (simdjson::dom::element f : sym["filters"].get_array()) {
    if (std::string_view(f["filterType"]) == type) return std::string_view(f[key]);
  }
  return "<missing>";
}

bool HasFilter(simdjson::dom::element sym, std::string_view type) {
  for (simdjson::dom::element f : sym["filters"].get_array()) {
    if (std::string_view(f["filterType"]) == type) return true;
  }
  return false;
}

TEST_F(RestApiTest, ExchangeInfoHasBinanceShape) {
  TestResponse r = Get("/api/v3/exchangeInfo");
  ASSERT_EQ(r.status, 200);
  simdjson::dom::element doc = parser_.parse(r.body);
  EXPECT_EQ(std::string_view(doc["timezone"]), "UTC");
  EXPECT_EQ(int64_t(doc["serverTime"]), 1700000000123);
  EXPECT_EQ(doc["rateLimits"].get_array().size(), 0u);
  simdjson::dom::array symbols = doc["symbols"];
  ASSERT_EQ(symbols.size(), 2u);

  simdjson::dom::element btc = symbols.at(0);
  EXPECT_EQ(std::string_view(btc["symbol"]), "BTCUSDT");
  EXPECT_EQ(std::string_view(btc["status"]), "TRADING");
  EXPECT_EQ(std::string_view(btc["baseAsset"]), "BTC");
  EXPECT_EQ(std::string_view(btc["quoteAsset"]), "USDT");
  EXPECT_EQ(int64_t(btc["baseAssetPrecision"]), 8);
  EXPECT_EQ(int64_t(btc["quotePrecision"]), 8);
  EXPECT_EQ(int64_t(btc["quoteAssetPrecision"]), 8);
  EXPECT_TRUE(bool(btc["icebergAllowed"]));
  EXPECT_FALSE(bool(btc["ocoAllowed"]));
  EXPECT_FALSE(bool(btc["isMarginTradingAllowed"]));
  std::vector<std::string_view> types;
  for (auto t : btc["orderTypes"].get_array()) types.push_back(std::string_view(t));
  EXPECT_EQ(types, (std::vector<std::string_view>{"LIMIT", "LIMIT_MAKER", "MARKET",
                                                  "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"}));
  EXPECT_EQ(btc["permissions"].get_array().size(), 0u);
  EXPECT_EQ(std::string_view(btc["permissionSets"].at(0).at(0)), "SPOT");

  EXPECT_EQ(Filter(btc, "PRICE_FILTER", "minPrice"), "0.01000000");
  EXPECT_EQ(Filter(btc, "PRICE_FILTER", "maxPrice"), "1000000.00000000");
  EXPECT_EQ(Filter(btc, "PRICE_FILTER", "tickSize"), "0.01000000");
  EXPECT_EQ(Filter(btc, "LOT_SIZE", "minQty"), "0.00001000");
  EXPECT_EQ(Filter(btc, "LOT_SIZE", "maxQty"), "9000.00000000");
  EXPECT_EQ(Filter(btc, "LOT_SIZE", "stepSize"), "0.00001000");
  EXPECT_EQ(Filter(btc, "MARKET_LOT_SIZE", "minQty"), "0.00000000");
  EXPECT_EQ(Filter(btc, "MARKET_LOT_SIZE", "maxQty"), "83.50000000");
  EXPECT_EQ(Filter(btc, "NOTIONAL", "minNotional"), "5.00000000");
  EXPECT_EQ(Filter(btc, "NOTIONAL", "maxNotional"), "9000000.00000000");
  EXPECT_EQ(Filter(btc, "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp"), "5");
  EXPECT_EQ(Filter(btc, "PERCENT_PRICE_BY_SIDE", "askMultiplierDown"), "0.2");
  EXPECT_FALSE(HasFilter(btc, "MIN_NOTIONAL"));
  EXPECT_FALSE(HasFilter(btc, "ICEBERG_PARTS"));
  for (simdjson::dom::element f : btc["filters"].get_array()) {
    if (std::string_view(f["filterType"]) == "NOTIONAL") {
      EXPECT_TRUE(bool(f["applyMinToMarket"]));
      EXPECT_FALSE(bool(f["applyMaxToMarket"]));
      EXPECT_EQ(int64_t(f["avgPriceMins"]), 0);
    }
  }

  simdjson::dom::element eth = symbols.at(1);
  EXPECT_EQ(std::string_view(eth["symbol"]), "ETHBTC");
  EXPECT_EQ(Filter(eth, "MIN_NOTIONAL", "minNotional"), "0.00010000");
  EXPECT_FALSE(HasFilter(eth, "NOTIONAL"));
  EXPECT_FALSE(HasFilter(eth, "PERCENT_PRICE_BY_SIDE"));
  EXPECT_EQ(r.body.find("\"code\""), std::string::npos);  // never code/msg in success bodies
}

std::vector<std::string> SymbolNames(simdjson::dom::parser& p, const std::string& body) {
  std::vector<std::string> out;
  simdjson::dom::element doc = p.parse(body);
  for (simdjson::dom::element s : doc["symbols"].get_array()) {
    out.emplace_back(std::string_view(s["symbol"]));
  }
  return out;
}

TEST_F(RestApiTest, ExchangeInfoFiltersBySymbol) {
  TestResponse r = Get("/api/v3/exchangeInfo?symbol=ETHBTC");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(SymbolNames(parser_, r.body), std::vector<std::string>{"ETHBTC"});
}

TEST_F(RestApiTest, ExchangeInfoFiltersBySymbolsInRequestOrder) {
  // @binance/connector's encoding of ["ETHBTC","BTCUSDT"].
  TestResponse r = Get("/api/v3/exchangeInfo?symbols=%5B%22ETHBTC%22%2C%22BTCUSDT%22%5D");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(SymbolNames(parser_, r.body), (std::vector<std::string>{"ETHBTC", "BTCUSDT"}));
}

TEST_F(RestApiTest, ExchangeInfoErrors) {
  struct Case {
    std::string target;
    std::string body;
  } cases[] = {
      {"/api/v3/exchangeInfo?symbol=NOPE", R"({"code":-1121,"msg":"Invalid symbol."})"},
      {"/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22%2C%22NOPE%22%5D",
       R"({"code":-1121,"msg":"Invalid symbol."})"},
      {"/api/v3/exchangeInfo?symbol=btcusdt",
       R"({"code":-1100,"msg":"Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'."})"},
      {"/api/v3/exchangeInfo?symbols=BTCUSDT",
       R"({"code":-1100,"msg":"Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'."})"},
      {"/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22%2C%22BTCUSDT%22%5D",
       R"({"code":-1151,"msg":"Symbol is present multiple times in the list."})"},
      {"/api/v3/exchangeInfo?symbol=", R"({"code":-1105,"msg":"Parameter 'symbol' was empty."})"},
      {"/api/v3/exchangeInfo?symbol=BTCUSDT&symbols=%5B%22BTCUSDT%22%5D",
       R"({"code":-1128,"msg":"Combination of optional parameters invalid."})"},
      {"/api/v3/exchangeInfo?symbol=BTCUSDT&symbol=ETHBTC",
       R"({"code":-1101,"msg":"Duplicate values for a parameter detected."})"},
  };
  for (const auto& c : cases) {
    TestResponse r = Get(c.target);
    EXPECT_EQ(r.status, 400) << c.target;
    EXPECT_EQ(r.body, c.body) << c.target;
  }
}

TEST_F(RestApiTest, PublicEndpointsRejectOtherMethods) {
  TestClient c(server_.port());
  TestResponse r = c.Request("POST", "/api/v3/ping");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1020,"msg":"This operation is not supported."})");
}


// The RateLimiter installed on a real server: limits seen by clients over
// HTTP (status, Retry-After, X-MBX headers, Binance texts) and reloads.
class RateLimitedRestApiTest : public ::testing::Test {
 protected:
  static RateLimits Limits() {
    RateLimits l;
    l.request_weight_per_min = 45;  // two exchangeInfo (20 each), not three
    l.ban_after_violations = 3;
    return l;
  }
  RateLimitedRestApiTest()
      : orders_(Configs()), api_(orders_, clock_), limiter_(Limits(), clock_),
        server_(HttpServerOptions{}) {
    api_.Register(server_);
    api_.SetRateLimiter(&limiter_);
    limiter_.Install(server_);
    EXPECT_FALSE(server_.Start());
  }
  ~RateLimitedRestApiTest() override { server_.Stop(); }

  FixedClock clock_;
  SymbolsOnlyOrderService orders_;
  RestApi api_;
  RateLimiter limiter_;
  HttpServer server_;
  simdjson::dom::parser parser_;
};

TEST_F(RateLimitedRestApiTest, WeightHeader429RetryAfterThen418) {
  TestClient c(server_.port());
  TestResponse r = c.Request("GET", "/api/v3/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-mbx-used-weight-1m"), "1");
  r = c.Request("GET", "/api/v3/exchangeInfo");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-mbx-used-weight-1m"), "21");
  r = c.Request("GET", "/api/v3/exchangeInfo");
  EXPECT_EQ(r.header("x-mbx-used-weight-1m"), "41");
  r = c.Request("GET", "/api/v3/exchangeInfo");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            "{\"code\":-1003,\"msg\":\"Too much request weight used; current limit is 45 request "
            "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
            "the API.\"}");
  // FixedClock: 1700000000.123 s, so the minute ends in 40 s (rounded up).
  EXPECT_EQ(r.header("retry-after"), "40");
  EXPECT_EQ(r.header("x-mbx-used-weight-1m"), "41");
  // Cheap requests still fit the minute.
  EXPECT_EQ(c.Request("GET", "/api/v3/ping").status, 200);
  // Hammering on: two more 429s, and the IP is banned (418, -1003).
  EXPECT_EQ(c.Request("GET", "/api/v3/exchangeInfo").status, 429);
  EXPECT_EQ(c.Request("GET", "/api/v3/exchangeInfo").status, 429);
  EXPECT_EQ(c.Request("GET", "/api/v3/exchangeInfo").status, 429);
  r = c.Request("GET", "/api/v3/ping");
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body,
            "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP banned until "
            "1700000120123. Please use WebSocket Streams for live updates to avoid bans.\"}");
  EXPECT_EQ(r.header("retry-after"), "120");
  // An unknown path is not rate limited (no route, no interceptor).
  EXPECT_EQ(c.Request("GET", "/nope").status, 404);
}

TEST_F(RateLimitedRestApiTest, ExchangeInfoShowsLimitsInForceAfterReload) {
  TestClient c(server_.port());
  TestResponse r = c.Request("GET", "/api/v3/exchangeInfo");
  ASSERT_EQ(r.status, 200);
  simdjson::dom::element doc;
  ASSERT_EQ(parser_.parse(r.body).get(doc), simdjson::SUCCESS);
  simdjson::dom::array limits;
  ASSERT_EQ(doc["rateLimits"].get(limits), simdjson::SUCCESS);
  ASSERT_EQ(limits.size(), 5u);
  EXPECT_EQ(std::string_view(limits.at(0)["rateLimitType"]), "REQUEST_WEIGHT");
  EXPECT_EQ(std::string_view(limits.at(0)["interval"]), "MINUTE");
  EXPECT_EQ(int64_t(limits.at(0)["intervalNum"]), 1);
  EXPECT_EQ(int64_t(limits.at(0)["limit"]), 45);
  EXPECT_EQ(std::string_view(limits.at(3)["rateLimitType"]), "ORDERS");
  EXPECT_EQ(int64_t(limits.at(3)["intervalNum"]), 10);
  EXPECT_EQ(int64_t(limits.at(3)["limit"]), 100);

  RateLimits l = Limits();
  l.request_weight_per_min = 1000;
  l.orders_per_10s = 7;
  limiter_.SetLimits(l);  // what SIGHUP and POST /admin/v1/limits do
  r = c.Request("GET", "/api/v3/exchangeInfo");  // same connection, new limits
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(parser_.parse(r.body).get(doc), simdjson::SUCCESS);
  ASSERT_EQ(doc["rateLimits"].get(limits), simdjson::SUCCESS);
  EXPECT_EQ(int64_t(limits.at(0)["limit"]), 1000);
  EXPECT_EQ(int64_t(limits.at(3)["limit"]), 7);
}

TEST_F(RateLimitedRestApiTest, CircuitBreakerRefusesNewOrdersOnly) {
  RateLimits l = Limits();
  l.request_weight_per_min = 0;
  l.circuit_breaker_enabled = true;
  l.circuit_breaker_orders_per_sec = 0;  // shed every new order
  limiter_.SetLimits(l);
  TestClient c(server_.port());
  TestResponse r = c.Request("POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "{\"code\":-1008,\"msg\":\"Server is currently overloaded with other requests. Please "
            "try again in a few minutes.\"}");
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(c.Request("POST", "/api/v3/order/cancelReplace", "symbol=BTCUSDT").status, 503);
  // Cancels and reads reach their handlers (which refuse the missing key).
  r = c.Request("DELETE", "/api/v3/order?symbol=BTCUSDT&orderId=1");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("-2014"), std::string::npos);
  EXPECT_EQ(c.Request("DELETE", "/api/v3/openOrders?symbol=BTCUSDT").status, 401);
  EXPECT_EQ(c.Request("GET", "/api/v3/exchangeInfo").status, 200);
  // Off again: the order reaches its handler.
  l.circuit_breaker_enabled = false;
  limiter_.SetLimits(l);
  EXPECT_EQ(c.Request("POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY").status, 401);
}

TEST_F(RateLimitedRestApiTest, OrderCountHeadersAnd1015) {
  RateLimits l = Limits();
  l.request_weight_per_min = 0;
  l.orders_per_10s = 2;
  limiter_.SetLimits(l);
  TestClient c(server_.port());
  // Key-format errors come from the handler, after the limiter counted the
  // order: the headers show the key's counts.
  const std::string key = "X-MBX-APIKEY: k~!\r\n";  // malformed: -2014
  TestResponse r = c.Request("POST", "/api/v3/order", "symbol=BTCUSDT", key);
  EXPECT_EQ(r.header("x-mbx-order-count-10s"), "1");
  EXPECT_EQ(r.header("x-mbx-order-count-1d"), "1");
  r = c.Request("POST", "/api/v3/order", "symbol=BTCUSDT", key);
  EXPECT_EQ(r.header("x-mbx-order-count-10s"), "2");
  r = c.Request("POST", "/api/v3/order", "symbol=BTCUSDT", key);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            "{\"code\":-1015,\"msg\":\"Too many new orders; current limit is 2 orders per 10 "
            "SECOND.\"}");
  EXPECT_EQ(r.header("retry-after"), "10");
}

}  // namespace
}  // namespace xc::gateway
