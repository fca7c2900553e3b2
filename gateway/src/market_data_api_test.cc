#include "xc/gateway/market_data_api.h"

#include <gtest/gtest.h>
#include "xc/gateway/testing/market_events.h"
#include <simdjson.h>

#include <string>
#include <vector>

#include "xc/gateway/testing/http_test_client.h"

namespace xc::gateway {
namespace {

namespace os = xc::order_service;
using protocol::Event;
using protocol::EventType;
using protocol::Side;
using testing::TestClient;
using testing::TestResponse;

constexpr int64_t kNowMs = 1'700'000'000'000;


std::vector<os::SymbolConfig> Configs() {
  os::SymbolConfig btc;
  btc.symbol = "BTCUSDT";
  btc.tick_size = "0.01";
  btc.step_size = "0.00001";
  os::SymbolConfig eth;
  eth.symbol = "ETHBTC";
  eth.tick_size = "0.00001";
  eth.step_size = "0.001";
  return {btc, eth};
}

class MarketDataApiTest : public ::testing::Test {
 protected:
  MarketDataApiTest() : md_(Configs()), api_(md_, clock_), server_(HttpServerOptions{}) {
    // Book: bids 40000 x 0.5, 39999.99 x 0.25; ask 40001 x 1.
    Level(Side::kBuy, 4'000'000, 50'000, 1);
    Level(Side::kBuy, 3'999'999, 25'000, 2);
    Level(Side::kSell, 4'000'100, 100'000, 3);
    // A taker buys 0.3 in two fills at 40000.5 (one aggregate), a minute ago,
    // then sells 0.1 at 39999 now.
    Trade(4'000'050, 10'000, Side::kSell, kNowMs - 60'000, 4, 7);
    Trade(4'000'050, 20'000, Side::kSell, kNowMs - 60'000, 4, 7);
    Trade(3'999'900, 10'000, Side::kBuy, kNowMs, 5, 8);
    api_.Register(server_);
    EXPECT_FALSE(server_.Start());
  }
  ~MarketDataApiTest() override { server_.Stop(); }

  void Level(Side s, int64_t price, int64_t qty, protocol::Seq seq) {
    md_.OnEvent(testing::LevelEvent(s, price, qty, seq));
  }
  // The next of the symbol's trades, numbered as the engine does.
  void Trade(int64_t price, int64_t qty, Side maker, int64_t ms, protocol::Seq seq,
             protocol::OrderId taker) {
    md_.OnEvent(testing::TradeEvent(next_trade_id_++, price, qty, maker, ms, seq, taker));
  }

  TestResponse Get(std::string_view target) {
    TestClient c(server_.port());
    return c.Request("GET", target);
  }

  testing::FixedClock clock_{kNowMs};
  MarketData md_;
  uint64_t next_trade_id_ = 1;
  MarketDataApi api_;
  HttpServer server_;
  simdjson::dom::parser parser_;
};

TEST_F(MarketDataApiTest, Depth) {
  TestResponse r = Get("/api/v3/depth?symbol=BTCUSDT");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"lastUpdateId":3,"bids":[["40000.00000000","0.50000000"],)"
            R"(["39999.99000000","0.25000000"]],"asks":[["40001.00000000","1.00000000"]]})");
  r = Get("/api/v3/depth?symbol=BTCUSDT&limit=1");
  EXPECT_EQ(r.body, R"({"lastUpdateId":3,"bids":[["40000.00000000","0.50000000"]],)"
                    R"("asks":[["40001.00000000","1.00000000"]]})");
  r = Get("/api/v3/depth?symbol=BTCUSDT&limit=100000");  // capped, as Binance
  EXPECT_EQ(r.status, 200);
  r = Get("/api/v3/depth?symbol=ETHBTC");
  EXPECT_EQ(r.body, R"({"lastUpdateId":0,"bids":[],"asks":[]})");
}

TEST_F(MarketDataApiTest, TradesAndAggTrades) {
  TestResponse r = Get("/api/v3/trades?symbol=BTCUSDT&limit=2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"([{"id":2,"price":"40000.50000000","qty":"0.20000000","quoteQty":"8000.10000000",)"
            R"("time":1699999940000,"isBuyerMaker":false,"isBestMatch":true},)"
            R"({"id":3,"price":"39999.00000000","qty":"0.10000000","quoteQty":"3999.90000000",)"
            R"("time":1700000000000,"isBuyerMaker":true,"isBestMatch":true}])");
  r = Get("/api/v3/aggTrades?symbol=BTCUSDT");
  EXPECT_EQ(r.body,
            R"([{"a":1,"p":"40000.50000000","q":"0.30000000","f":1,"l":2,"T":1699999940000,)"
            R"("m":false,"M":true},{"a":2,"p":"39999.00000000","q":"0.10000000","f":3,"l":3,)"
            R"("T":1700000000000,"m":true,"M":true}])");
  r = Get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=2");
  EXPECT_EQ(parser_.parse(r.body).get_array().size(), 1u);
  r = Get("/api/v3/aggTrades?symbol=BTCUSDT&startTime=1699999000000&endTime=1699999950000");
  EXPECT_EQ(parser_.parse(r.body).get_array().size(), 1u);
  r = Get("/api/v3/aggTrades?symbol=BTCUSDT&startTime=1690000000000&endTime=1700000000000");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1127,"msg":"More than 1 hours between startTime and endTime."})");
  r = Get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1&startTime=1699999000000");
  EXPECT_EQ(r.body, R"({"code":-1128,"msg":"Combination of optional parameters invalid."})");
}

TEST_F(MarketDataApiTest, Klines) {
  TestResponse r = Get("/api/v3/klines?symbol=BTCUSDT&interval=1m");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"([[1699999920000,"40000.50000000","40000.50000000","40000.50000000",)"
            R"("40000.50000000","0.30000000",1699999979999,"12000.15000000",2,"0.30000000",)"
            R"("12000.15000000","0"],)"
            R"([1699999980000,"39999.00000000","39999.00000000","39999.00000000",)"
            R"("39999.00000000","0.10000000",1700000039999,"3999.90000000",1,"0.00000000",)"
            R"("0.00000000","0"]])");
  r = Get("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1");
  simdjson::dom::array rows = parser_.parse(r.body).get_array();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.at(0).get_array().size(), 12u);
  EXPECT_EQ(int64_t(rows.at(0).at(8)), 3);

  r = Get("/api/v3/klines?symbol=BTCUSDT&interval=2m");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1120,"msg":"Invalid interval."})");
  r = Get("/api/v3/klines?symbol=BTCUSDT");
  EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Mandatory parameter 'interval' was not sent, )"
                    R"(was empty/null, or malformed."})");
  r = Get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=0");
  EXPECT_EQ(r.body, R"({"code":-1130,"msg":"Data sent for parameter 'limit' is not valid."})");
  r = Get("/api/v3/klines?symbol=BTCUSDT&interval=1m&timeZone=8");
  EXPECT_EQ(r.body, R"({"code":-1130,"msg":"Data sent for parameter 'timeZone' is not valid."})");
  r = Get("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=abc");
  EXPECT_EQ(r.body.substr(0, 14), R"({"code":-1100,)");
}

TEST_F(MarketDataApiTest, Tickers) {
  TestResponse r = Get("/api/v3/ticker/24hr?symbol=BTCUSDT");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"symbol":"BTCUSDT","priceChange":"-1.50000000","priceChangePercent":"-0.003",)"
            R"("weightedAvgPrice":"40000.12500000","prevClosePrice":"0.00000000",)"
            R"("lastPrice":"39999.00000000","lastQty":"0.10000000","bidPrice":"40000.00000000",)"
            R"("bidQty":"0.50000000","askPrice":"40001.00000000","askQty":"1.00000000",)"
            R"("openPrice":"40000.50000000","highPrice":"40000.50000000",)"
            R"("lowPrice":"39999.00000000","volume":"0.40000000","quoteVolume":"16000.05000000",)"
            R"("openTime":1699913600000,"closeTime":1700000000000,"firstId":1,"lastId":3,)"
            R"("count":3})");
  r = Get("/api/v3/ticker/24hr?symbol=ETHBTC&type=MINI");
  EXPECT_EQ(r.body,
            R"({"symbol":"ETHBTC","openPrice":"0.00000000","highPrice":"0.00000000",)"
            R"("lowPrice":"0.00000000","lastPrice":"0.00000000","volume":"0.00000000",)"
            R"("quoteVolume":"0.00000000","openTime":1699913600000,"closeTime":1700000000000,)"
            R"("firstId":-1,"lastId":-1,"count":0})");
  r = Get("/api/v3/ticker/24hr");
  EXPECT_EQ(parser_.parse(r.body).get_array().size(), 2u);
  r = Get("/api/v3/ticker/24hr?type=HUGE");
  EXPECT_EQ(r.body, R"({"code":-1139,"msg":"Invalid ticker type."})");

  r = Get("/api/v3/ticker/price?symbol=BTCUSDT");
  EXPECT_EQ(r.body, R"({"symbol":"BTCUSDT","price":"39999.00000000"})");
  r = Get("/api/v3/ticker/price?symbols=%5B%22ETHBTC%22,%22BTCUSDT%22%5D");
  EXPECT_EQ(r.body, R"([{"symbol":"ETHBTC","price":"0.00000000"},)"
                    R"({"symbol":"BTCUSDT","price":"39999.00000000"}])");
  r = Get("/api/v3/ticker/bookTicker?symbol=BTCUSDT");
  EXPECT_EQ(r.body, R"({"symbol":"BTCUSDT","bidPrice":"40000.00000000","bidQty":"0.50000000",)"
                    R"("askPrice":"40001.00000000","askQty":"1.00000000"})");
  r = Get("/api/v3/ticker/bookTicker");
  EXPECT_EQ(parser_.parse(r.body).get_array().size(), 2u);

  r = Get("/api/v3/avgPrice?symbol=BTCUSDT");
  EXPECT_EQ(r.body, R"({"mins":5,"price":"40000.12500000","closeTime":1700000000000})");
}

TEST_F(MarketDataApiTest, SymbolErrors) {
  for (const char* path : {"/api/v3/depth", "/api/v3/trades", "/api/v3/aggTrades",
                           "/api/v3/avgPrice"}) {
    TestResponse r = Get(path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, )"
                      R"(was empty/null, or malformed."})")
        << path;
    r = Get(std::string(path) + "?symbol=DOGEUSDT");
    EXPECT_EQ(r.body, R"({"code":-1121,"msg":"Invalid symbol."})") << path;
    r = Get(std::string(path) + "?symbol=btcusdt");
    EXPECT_EQ(r.body, R"({"code":-1100,"msg":"Illegal characters found in parameter 'symbol'; )"
                      R"(legal range is '^[A-Z0-9-_.]{1,20}$'."})")
        << path;
  }
  TestResponse r = Get("/api/v3/ticker/price?symbol=BTCUSDT&symbols=%5B%22ETHBTC%22%5D");
  EXPECT_EQ(r.body, R"({"code":-1128,"msg":"Combination of optional parameters invalid."})");
  r = Get("/api/v3/ticker/bookTicker?symbols=%5B%22ETHBTC%22,%22ETHBTC%22%5D");
  EXPECT_EQ(r.body, R"({"code":-1151,"msg":"Symbol is present multiple times in the list."})");
  r = Get("/api/v3/ticker/24hr?symbols=%5B%22NOPE%22%5D");
  EXPECT_EQ(r.body, R"({"code":-1121,"msg":"Invalid symbol."})");
  r = Get("/api/v3/depth?symbol=BTCUSDT&limit=-1");
  EXPECT_EQ(r.body.substr(0, 14), R"({"code":-1100,)");
}

}  // namespace
}  // namespace xc::gateway
