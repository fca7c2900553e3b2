// The gateway's signed REST endpoints (BINANCE_COMPAT.md §1.1, §2) end to
// end: real HTTP on 127.0.0.1:0 -> HttpServer -> RestApi -> LocalOrderService
// (two partitions) -> a real xc::engine::Shard, wired synchronously: the
// engine link queues commands and a decorator of the order service applies
// them to the shard (routing every event to the partitions that own its
// orders) before it answers, so that every answer shows the outcome of
// matching, as Binance's do. Requests are signed the way a client signs
// them, with OpenSSL's one-shot HMAC over the exact bytes sent (independent
// of the gateway's prepared-key implementation), in ccxt's layout (POST
// params in a form body, timestamp first, recvWindow last) and in
// @binance/connector's (everything in the query, Content-Type JSON).
// Cross-component (gateway + order service + engine), so it lives in tests/.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "xc/engine/event_buffer.h"
#include "xc/engine/shard.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/market_data_api.h"
#include "xc/gateway/rest_api.h"
#include "xc/gateway/testing/http_test_client.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/local_order_service.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"

namespace xc {
namespace {

namespace os = xc::order_service;
using gateway::testing::TestClient;
using gateway::testing::TestResponse;
using protocol::UserId;

constexpr os::Amount U = os::kUnitsPerWhole;
constexpr int64_t kNowMs = 1'700'000'000'000;

class FakeWallClock : public gateway::WallClock {
 public:
  protocol::Timestamp NowNanos() const override { return now_ns.load(); }
  std::atomic<int64_t> now_ns{kNowMs * 1'000'000};
};

// Engine link + market view over one real shard, and the partitions.
class Exchange : public os::EngineLink, public os::MarketView {
 public:
  Exchange(const os::SymbolTable* table, uint32_t partitions) {
    for (const auto& s : table->symbols()) {
      EXPECT_TRUE(shard_.AddSymbol(s.id, engine::OrderBook::Options{1u << 12, 1u << 10}).ok());
    }
    for (os::PartitionId p = 0; p < partitions; ++p) {
      parts_.push_back(std::make_unique<os::Partition>(p, partitions, table, this, this));
    }
  }
  void Send(const protocol::Command& c) override { queue_.push_back(c); }
  os::MarketQuote Quote(protocol::SymbolId s) const override {
    const engine::OrderBook* b = shard_.book(s);
    os::MarketQuote q;
    if (b == nullptr) return q;
    q.best_bid = b->best_bid().value_or(0);
    q.best_ask = b->best_ask().value_or(0);
    q.last = b->last_trade_price();
    return q;
  }
  void Pump() {
    while (!queue_.empty()) {
      const protocol::Command c = queue_.front();
      queue_.pop_front();
      buf_.clear();
      shard_.Apply(c, buf_);
      // The gateway's market view sees every command whole, as in the exchange.
      if (market_ != nullptr) market_->OnEvents({buf_.begin(), buf_.size()});
      for (const protocol::Event& e : buf_) {
        if (e.type == protocol::EventType::kLevelChanged) continue;
        const os::PartitionId a = os::PartitionOfOrder(e.order_id);
        if (a < parts_.size()) parts_[a]->OnEngineEvent(e);
        if (e.type == protocol::EventType::kTrade) {
          const os::PartitionId m = os::PartitionOfOrder(e.maker_id);
          if (m != a && m < parts_.size()) parts_[m]->OnEngineEvent(e);
        }
      }
    }
  }
  void set_market(gateway::MarketData* m) { market_ = m; }
  os::Partition& of(UserId u) {
    return *parts_[os::PartitionOfUser(u, static_cast<uint32_t>(parts_.size()))];
  }
  std::vector<os::Partition*> partitions() {
    std::vector<os::Partition*> v;
    for (auto& p : parts_) v.push_back(p.get());
    return v;
  }

 private:
  engine::Shard shard_;
  engine::EventBuffer buf_;
  std::deque<protocol::Command> queue_;
  std::vector<std::unique_ptr<os::Partition>> parts_;
  gateway::MarketData* market_ = nullptr;
};

// The order service with synchronous matching: each state-changing request
// runs the engine to quiescence and answers with the order as it is then.
class SyncOrderService : public os::OrderServiceApi {
 public:
  SyncOrderService(os::LocalOrderService* inner, Exchange* x) : inner_(inner), x_(x) {}
  std::vector<os::SymbolConfig> ExchangeInfo() const override { return inner_->ExchangeInfo(); }
  std::optional<os::ApiKeyRecord> LookupApiKey(std::string_view k) const override {
    ++key_lookups;
    return inner_->LookupApiKey(k);
  }
  os::ApiResult<os::OrderInfo> PlaceOrder(const os::PlaceOrderRequest& req) override {
    auto r = inner_->PlaceOrder(req);
    if (!r.ok()) return r;
    x_->Pump();
    return Requery(req.user, r.value());
  }
  std::optional<os::ApiError> TestOrder(const os::PlaceOrderRequest& req) override {
    return inner_->TestOrder(req);
  }
  os::ApiResult<os::OrderInfo> CancelOrder(const os::OrderRef& ref) override {
    auto r = inner_->CancelOrder(ref);
    if (!r.ok()) return r;
    x_->Pump();
    return Requery(ref.user, r.value());
  }
  os::ApiResult<std::vector<os::OrderInfo>> CancelOpenOrders(UserId user, std::string_view symbol,
                                                             protocol::Timestamp now) override {
    auto r = inner_->CancelOpenOrders(user, symbol, now);
    if (!r.ok()) return r;
    x_->Pump();
    std::vector<os::OrderInfo> out;
    for (const auto& o : r.value()) out.push_back(Requery(user, o).value());
    return out;
  }
  os::ApiResult<os::CancelReplaceResult> CancelReplace(const os::CancelReplaceRequest& r) override {
    auto res = inner_->CancelReplace(r);
    if (!res.ok()) return res;
    x_->Pump();
    os::CancelReplaceResult out;
    out.cancelled = Requery(r.cancel.user, res.value().cancelled).value();
    out.placed = Requery(r.order.user, res.value().placed).value();
    return out;
  }
  os::ApiResult<os::OrderInfo> QueryOrder(const os::OrderRef& ref) const override {
    return inner_->QueryOrder(ref);
  }
  os::ApiResult<std::vector<os::OrderInfo>> OpenOrders(UserId u,
                                                       std::string_view s) const override {
    return inner_->OpenOrders(u, s);
  }
  os::ApiResult<std::vector<os::OrderInfo>> AllOrders(UserId u,
                                                      std::string_view s) const override {
    return inner_->AllOrders(u, s);
  }
  os::ApiResult<std::vector<os::TradeInfo>> MyTrades(UserId u,
                                                     std::string_view s) const override {
    return inner_->MyTrades(u, s);
  }
  os::ApiResult<os::AccountInfo> Account(UserId u) const override { return inner_->Account(u); }

  mutable std::atomic<int> key_lookups{0};

 private:
  os::ApiResult<os::OrderInfo> Requery(UserId user, const os::OrderInfo& o) const {
    os::OrderRef ref;
    ref.user = user;
    ref.symbol = o.symbol;
    ref.order_id = o.order_id;
    return inner_->QueryOrder(ref);
  }
  os::LocalOrderService* inner_;
  Exchange* x_;
};

std::string HmacHex(std::string_view secret, std::string_view payload) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string Amount8(os::Amount v) { return os::FormatDecimal(v, os::kAmountDecimals); }

struct User {
  UserId id;
  std::string key, secret;
};

class GatewayOrdersTest : public ::testing::Test {
 protected:
  GatewayOrdersTest()
      : table_(*os::SymbolTable::Build(os::SymbolTable::DefaultConfigs())),
        x_(&table_, 2),
        local_(&table_, x_.partitions()),
        sync_(&local_, &x_),
        api_(sync_, clock_),
        market_(local_.ExchangeInfo()),
        market_api_(market_, clock_),
        server_(gateway::HttpServerOptions{}) {
    x_.set_market(&market_);
    // Users 1 and 2 land on different partitions (checked below), so every
    // trade settles across partitions.
    maker_ = {1, "MakerKey0123456789abcdefABCDEF", "makersecret-NhqPtmdSJYdKjVHjA7PZj4Mge3"};
    taker_ = {2, "TakerKey0123456789abcdefABCDEF", "takersecret-lH3ELTQN6Ek3CD4rA3b1mHdDR"};
    for (const User* u : {&maker_, &taker_}) {
      EXPECT_TRUE(x_.of(u->id).CreateUser(u->id).ok());
      EXPECT_TRUE(x_.of(u->id).AddApiKey(u->id, u->key, u->secret).ok());
      EXPECT_TRUE(x_.of(u->id).Credit(u->id, "BTC", 1 * U, 0).ok());
      EXPECT_TRUE(x_.of(u->id).Credit(u->id, "USDT", 10000 * U, 0).ok());
    }
    api_.Register(server_);
    market_api_.Register(server_);
    EXPECT_FALSE(server_.Start());
    client_ = std::make_unique<TestClient>(server_.port());
  }
  ~GatewayOrdersTest() override { server_.Stop(); }

  // ccxt's layout: timestamp first, the params, recvWindow, signature last;
  // POST/PUT in a form body with an empty query, GET/DELETE in the query.
  TestResponse Signed(std::string_view method, std::string_view path, const User& u,
                      std::string_view params, int64_t ts_ms = kNowMs) {
    std::string payload = "timestamp=" + std::to_string(ts_ms);
    if (!params.empty()) payload.append("&").append(params);
    payload.append("&recvWindow=10000");
    const std::string sig = HmacHex(u.secret, payload);
    payload.append("&signature=").append(sig);
    const std::string key_header = "X-MBX-APIKEY: " + u.key + "\r\n";
    if (method == "POST") {
      return client_->Request(
          method, path, payload,
          key_header + "Content-Type: application/x-www-form-urlencoded\r\n");
    }
    return client_->Request(method, std::string(path) + "?" + payload, {}, key_header);
  }

  simdjson::dom::element Json(const TestResponse& r) {
    EXPECT_TRUE(r.ok);
    auto doc = parser_.parse(r.body);
    EXPECT_FALSE(doc.error()) << r.body;
    return doc.value_unsafe();
  }

  // Success bodies never carry code or msg (§7.3).
  static void NoErrorFields(simdjson::dom::element e) {
    EXPECT_EQ(e["code"].error(), simdjson::NO_SUCH_FIELD);
    EXPECT_EQ(e["msg"].error(), simdjson::NO_SUCH_FIELD);
  }

  static std::string_view S(simdjson::dom::element e, std::string_view k) {
    auto v = e[k].get_string();
    return v.error() ? std::string_view("<missing>") : v.value_unsafe();
  }
  static int64_t I(simdjson::dom::element e, std::string_view k) {
    auto v = e[k].get_int64();
    return v.error() ? INT64_MIN : v.value_unsafe();
  }
  std::string_view Balance(simdjson::dom::element acct, std::string_view asset,
                           std::string_view field) {
    for (simdjson::dom::element b : acct["balances"].get_array()) {
      if (S(b, "asset") == asset) return S(b, field);
    }
    return "<missing>";
  }

  FakeWallClock clock_;
  os::SymbolTable table_;
  Exchange x_;
  os::LocalOrderService local_;
  SyncOrderService sync_;
  gateway::RestApi api_;
  gateway::MarketData market_;
  gateway::MarketDataApi market_api_;
  gateway::HttpServer server_;
  std::unique_ptr<TestClient> client_;
  simdjson::dom::parser parser_;
  User maker_, taker_;
};

TEST_F(GatewayOrdersTest, TradingLifecycle) {
  ASSERT_NE(os::PartitionOfUser(maker_.id, 2), os::PartitionOfUser(taker_.id, 2));

  // A resting LIMIT SELL, with ccxt's 32-character client id.
  const std::string cid = "x-TKT5PX2F0123456789abcdef012345";
  ASSERT_EQ(cid.size(), 32u);
  TestResponse r = Signed("POST", "/api/v3/order", maker_,
                          "symbol=BTCUSDT&side=SELL&newClientOrderId=" + cid +
                              "&newOrderRespType=FULL&type=LIMIT&quantity=0.01&price=40000"
                              "&timeInForce=GTC");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element o = Json(r);
  NoErrorFields(o);
  EXPECT_EQ(S(o, "symbol"), "BTCUSDT");
  const int64_t resting_id = I(o, "orderId");
  EXPECT_GT(resting_id, 0);
  EXPECT_EQ(I(o, "orderListId"), -1);
  EXPECT_EQ(S(o, "clientOrderId"), cid);
  EXPECT_EQ(I(o, "transactTime"), kNowMs);
  EXPECT_EQ(S(o, "price"), "40000.00000000");
  EXPECT_EQ(S(o, "origQty"), "0.01000000");
  EXPECT_EQ(S(o, "executedQty"), "0.00000000");
  EXPECT_EQ(S(o, "cummulativeQuoteQty"), "0.00000000");
  EXPECT_EQ(S(o, "status"), "NEW");
  EXPECT_EQ(S(o, "timeInForce"), "GTC");
  EXPECT_EQ(S(o, "type"), "LIMIT");
  EXPECT_EQ(S(o, "side"), "SELL");
  EXPECT_EQ(I(o, "workingTime"), kNowMs);
  EXPECT_EQ(S(o, "selfTradePreventionMode"), "NONE");
  EXPECT_EQ(o["fills"].get_array().size(), 0u);
  EXPECT_EQ(o["positionSide"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(o["cumQuote"].error(), simdjson::NO_SUCH_FIELD);

  // A second resting order further out, by the connector's layout: all in
  // the query, Content-Type JSON, no body, no recvWindow; RESULT shape.
  {
    std::string q = "newOrderRespType=RESULT&price=41000&quantity=0.001&timeInForce=GTC"
                    "&symbol=BTCUSDT&side=SELL&type=LIMIT&timestamp=" +
                    std::to_string(kNowMs);
    q += "&signature=" + HmacHex(maker_.secret, q);
    r = client_->Request("POST", "/api/v3/order?" + q, {},
                         "X-MBX-APIKEY: " + maker_.key + "\r\nContent-Type: application/json\r\n");
    ASSERT_EQ(r.status, 200) << r.body;
    o = Json(r);
    NoErrorFields(o);
    EXPECT_EQ(S(o, "status"), "NEW");
    EXPECT_EQ(S(o, "price"), "41000.00000000");
    EXPECT_EQ(o["fills"].error(), simdjson::NO_SUCH_FIELD);  // RESULT has none
    EXPECT_EQ(S(o, "clientOrderId").substr(0, 3), "xc-");
  }
  const int64_t far_id = I(o, "orderId");

  // A crossing BUY fills against the first order: FULL with fills and the
  // taker's commission (0.1% of the BTC received).
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&newOrderRespType=FULL&type=LIMIT&quantity=0.004"
             "&price=40000&timeInForce=GTC");
  ASSERT_EQ(r.status, 200) << r.body;
  o = Json(r);
  NoErrorFields(o);
  const int64_t taker_order = I(o, "orderId");
  EXPECT_EQ(S(o, "status"), "FILLED");
  EXPECT_EQ(S(o, "executedQty"), "0.00400000");
  EXPECT_EQ(S(o, "cummulativeQuoteQty"), "160.00000000");
  EXPECT_EQ(S(o, "side"), "BUY");
  EXPECT_EQ(I(o, "workingTime"), kNowMs);  // it reached the book, though no longer working
  {
    simdjson::dom::array fills = o["fills"];
    ASSERT_EQ(fills.size(), 1u);
    simdjson::dom::element f = fills.at(0);
    EXPECT_EQ(S(f, "price"), "40000.00000000");
    EXPECT_EQ(S(f, "qty"), "0.00400000");
    EXPECT_EQ(S(f, "commission"), "0.00000400");
    EXPECT_EQ(S(f, "commissionAsset"), "BTC");
    EXPECT_GT(I(f, "tradeId"), 0);
  }

  // MARKET BUY by quoteOrderQty: 80 USDT buys 0.002 BTC at 40000.
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=80");
  ASSERT_EQ(r.status, 200) << r.body;
  o = Json(r);
  NoErrorFields(o);
  EXPECT_EQ(S(o, "type"), "MARKET");
  EXPECT_EQ(S(o, "status"), "FILLED");
  EXPECT_EQ(S(o, "origQuoteOrderQty"), "80.00000000");
  EXPECT_EQ(S(o, "executedQty"), "0.00200000");
  EXPECT_EQ(S(o, "cummulativeQuoteQty"), "80.00000000");
  ASSERT_EQ(o["fills"].get_array().size(), 1u);
  EXPECT_EQ(S(o["fills"].at(0), "commission"), "0.00000200");

  // LIMIT_MAKER that would cross: Binance's exact -2010 text.
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.001&price=40000");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-2010,"msg":"Order would immediately match and take."})");
  // ...and one that rests is ACKed (ACK is LIMIT_MAKER's default shape).
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.001&price=39000");
  ASSERT_EQ(r.status, 200) << r.body;
  o = Json(r);
  // symbol, orderId, orderListId, clientOrderId, transactTime
  EXPECT_EQ(simdjson::dom::object(o).size(), 5u) << r.body;
  EXPECT_EQ(o["status"].error(), simdjson::NO_SUCH_FIELD);
  const int64_t maker_bid = I(o, "orderId");

  // GET /order: the partly filled first order, with every field ccxt reads.
  r = Signed("GET", "/api/v3/order", maker_,
             "symbol=BTCUSDT&orderId=" + std::to_string(resting_id));
  ASSERT_EQ(r.status, 200) << r.body;
  o = Json(r);
  NoErrorFields(o);
  EXPECT_EQ(I(o, "orderId"), resting_id);
  EXPECT_EQ(S(o, "clientOrderId"), cid);
  EXPECT_EQ(S(o, "status"), "PARTIALLY_FILLED");
  EXPECT_EQ(S(o, "origQty"), "0.01000000");
  EXPECT_EQ(S(o, "executedQty"), "0.00600000");
  EXPECT_EQ(S(o, "cummulativeQuoteQty"), "240.00000000");
  EXPECT_EQ(S(o, "stopPrice"), "0.00000000");
  EXPECT_EQ(S(o, "icebergQty"), "0.00000000");
  EXPECT_EQ(I(o, "time"), kNowMs);
  EXPECT_EQ(I(o, "updateTime"), kNowMs);
  EXPECT_TRUE(bool(o["isWorking"]));
  EXPECT_EQ(S(o, "timeInForce"), "GTC");
  EXPECT_EQ(S(o, "type"), "LIMIT");
  // By origClientOrderId too.
  r = Signed("GET", "/api/v3/order", maker_, "symbol=BTCUSDT&origClientOrderId=" + cid);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(I(Json(r), "orderId"), resting_id);
  // Another user's order does not exist for this one.
  r = Signed("GET", "/api/v3/order", taker_,
             "symbol=BTCUSDT&orderId=" + std::to_string(resting_id));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-2013,"msg":"Order does not exist."})");

  // openOrders, with and without symbol.
  r = Signed("GET", "/api/v3/openOrders", maker_, "symbol=BTCUSDT");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).get_array().size(), 2u);
  r = Signed("GET", "/api/v3/openOrders", taker_, "");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    simdjson::dom::array a = Json(r);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(I(a.at(0), "orderId"), maker_bid);
    EXPECT_EQ(S(a.at(0), "type"), "LIMIT_MAKER");
  }

  // Cancel the far order by its orderId, naming the cancel request.
  r = Signed("DELETE", "/api/v3/order", maker_,
             "symbol=BTCUSDT&orderId=" + std::to_string(far_id) + "&newClientOrderId=mycancel1");
  ASSERT_EQ(r.status, 200) << r.body;
  o = Json(r);
  NoErrorFields(o);
  EXPECT_EQ(I(o, "orderId"), far_id);
  EXPECT_EQ(S(o, "status"), "CANCELED");
  EXPECT_EQ(S(o, "clientOrderId"), "mycancel1");
  EXPECT_EQ(S(o, "origClientOrderId").substr(0, 3), "xc-");
  EXPECT_EQ(S(o, "origQty"), "0.00100000");
  EXPECT_EQ(I(o, "transactTime"), kNowMs);
  // A second cancel: unknown order.
  r = Signed("DELETE", "/api/v3/order", maker_,
             "symbol=BTCUSDT&orderId=" + std::to_string(far_id));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-2011,"msg":"Unknown order sent."})");
  r = Signed("GET", "/api/v3/order", maker_, "symbol=BTCUSDT&orderId=" + std::to_string(far_id));
  EXPECT_EQ(S(Json(r), "status"), "CANCELED");

  // Balances after fees. Taker: paid 160 + 80 USDT (the LIMIT_MAKER bid
  // locks 39 more), received 0.006 BTC minus 0.1%.
  r = Signed("GET", "/api/v3/account", taker_, "");
  ASSERT_EQ(r.status, 200) << r.body;
  o = Json(r);
  NoErrorFields(o);
  EXPECT_EQ(Balance(o, "BTC", "free"), Amount8(U + 600'000 - 600));
  EXPECT_EQ(Balance(o, "BTC", "locked"), "0.00000000");
  EXPECT_EQ(Balance(o, "USDT", "free"), Amount8((10000 - 240 - 39) * U));
  EXPECT_EQ(Balance(o, "USDT", "locked"), "39.00000000");
  EXPECT_EQ(I(o, "updateTime"), kNowMs);
  EXPECT_EQ(S(o, "accountType"), "SPOT");
  EXPECT_EQ(I(o, "uid"), static_cast<int64_t>(taker_.id));
  // Maker: sold 0.006 of the 0.01 locked, received 240 USDT minus 0.09%.
  r = Signed("GET", "/api/v3/account", maker_, "");
  o = Json(r);
  EXPECT_EQ(Balance(o, "BTC", "free"), "0.99000000");
  EXPECT_EQ(Balance(o, "BTC", "locked"), "0.00400000");
  EXPECT_EQ(Balance(o, "USDT", "free"), Amount8(10000 * U + 240 * U - 21'600'000));
  EXPECT_EQ(Balance(o, "USDT", "locked"), "0.00000000");
  // omitZeroBalances drops assets with nothing (ETH).
  r = Signed("GET", "/api/v3/account", maker_, "omitZeroBalances=true");
  o = Json(r);
  EXPECT_EQ(Balance(o, "ETH", "free"), "<missing>");

  // myTrades from both sides.
  r = Signed("GET", "/api/v3/myTrades", taker_, "symbol=BTCUSDT");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    simdjson::dom::array a = Json(r);
    ASSERT_EQ(a.size(), 2u);
    simdjson::dom::element t = a.at(0);
    NoErrorFields(t);
    EXPECT_EQ(S(t, "symbol"), "BTCUSDT");
    EXPECT_GT(I(t, "id"), 0);
    EXPECT_EQ(I(t, "orderId"), taker_order);
    EXPECT_EQ(S(t, "price"), "40000.00000000");
    EXPECT_EQ(S(t, "qty"), "0.00400000");
    EXPECT_EQ(S(t, "quoteQty"), "160.00000000");
    EXPECT_EQ(S(t, "commission"), "0.00000400");
    EXPECT_EQ(S(t, "commissionAsset"), "BTC");
    EXPECT_EQ(I(t, "time"), kNowMs);
    EXPECT_TRUE(bool(t["isBuyer"]));
    EXPECT_FALSE(bool(t["isMaker"]));
  }
  r = Signed("GET", "/api/v3/myTrades", maker_, "symbol=BTCUSDT&limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    simdjson::dom::array a = Json(r);
    ASSERT_EQ(a.size(), 1u);  // the most recent one
    simdjson::dom::element t = a.at(0);
    EXPECT_EQ(I(t, "orderId"), resting_id);
    EXPECT_EQ(S(t, "qty"), "0.00200000");
    EXPECT_EQ(S(t, "commission"), "0.07200000");  // 80 USDT * 0.09%
    EXPECT_EQ(S(t, "commissionAsset"), "USDT");
    EXPECT_FALSE(bool(t["isBuyer"]));
    EXPECT_TRUE(bool(t["isMaker"]));
  }

  // allOrders: both of the maker's orders, oldest first.
  r = Signed("GET", "/api/v3/allOrders", maker_, "symbol=BTCUSDT");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    simdjson::dom::array a = Json(r);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(I(a.at(0), "orderId"), resting_id);
    EXPECT_EQ(S(a.at(1), "status"), "CANCELED");
  }

  // DELETE /openOrders cancels the rest; then there is nothing to cancel.
  r = Signed("DELETE", "/api/v3/openOrders", maker_, "symbol=BTCUSDT");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    simdjson::dom::array a = Json(r);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(I(a.at(0), "orderId"), resting_id);
    EXPECT_EQ(S(a.at(0), "status"), "CANCELED");
    EXPECT_EQ(S(a.at(0), "origClientOrderId"), cid);
    EXPECT_EQ(S(a.at(0), "executedQty"), "0.00600000");
  }
  r = Signed("DELETE", "/api/v3/openOrders", maker_, "symbol=BTCUSDT");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-2011,"msg":"Unknown order sent."})");
  r = Signed("GET", "/api/v3/account", maker_, "");
  EXPECT_EQ(Balance(Json(r), "BTC", "free"), "0.99400000");  // the lock came back

  // The HMAC key was prepared once per API key, not per request.
  EXPECT_EQ(sync_.key_lookups.load(), 2);
}

TEST_F(GatewayOrdersTest, SecurityAndParameterErrors) {
  const std::string order = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=40000"
                            "&timeInForce=GTC";
  // Bad signature: signed with another secret.
  {
    std::string body = "timestamp=" + std::to_string(kNowMs) + "&" + order;
    body += "&signature=" + HmacHex("not-the-secret", body);
    TestResponse r = client_->Request("POST", "/api/v3/order", body,
                                      "X-MBX-APIKEY: " + taker_.key + "\r\n");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, R"({"code":-1022,"msg":"Signature for this request is not valid."})");
  }
  // Signature over other bytes than those sent (a tampered quantity).
  {
    std::string body = "timestamp=" + std::to_string(kNowMs) + "&" + order;
    std::string sig = HmacHex(taker_.secret, body);
    body.replace(body.find("quantity=0.001"), 14, "quantity=0.002");
    body += "&signature=" + sig;
    TestResponse r = client_->Request("POST", "/api/v3/order", body,
                                      "X-MBX-APIKEY: " + taker_.key + "\r\n");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, R"({"code":-1022,"msg":"Signature for this request is not valid."})");
  }
  // Stale timestamp (recvWindow 10000, 20 s old) and one from the future.
  TestResponse r = Signed("POST", "/api/v3/order", taker_, order, kNowMs - 20'000);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."})");
  r = Signed("GET", "/api/v3/account", taker_, "", kNowMs + 5'000);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the )"
            R"(server's time."})");
  // The injected clock decides: the same stale request passes once the
  // server's time is moved back.
  clock_.now_ns = (kNowMs - 20'000) * 1'000'000;
  r = Signed("GET", "/api/v3/account", taker_, "", kNowMs - 20'000);
  EXPECT_EQ(r.status, 200) << r.body;
  clock_.now_ns = kNowMs * 1'000'000;

  // Missing mandatory parameters.
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&type=LIMIT&quantity=0.001&price=40000&timeInForce=GTC");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Mandatory parameter 'side' was not sent, )"
                    R"(was empty/null, or malformed."})");
  r = Signed("GET", "/api/v3/myTrades", taker_, "");
  EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, )"
                    R"(was empty/null, or malformed."})");
  r = Signed("GET", "/api/v3/order", taker_, "symbol=BTCUSDT");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.substr(0, 14), R"({"code":-1102,)");
  {
    std::string q = "symbol=BTCUSDT&timestamp=" + std::to_string(kNowMs);  // no signature
    r = client_->Request("GET", "/api/v3/openOrders?" + q, {},
                         "X-MBX-APIKEY: " + taker_.key + "\r\n");
    EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Mandatory parameter 'signature' was not sent, )"
                      R"(was empty/null, or malformed."})");
  }

  // Filters, enums and symbols.
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.000001&price=40000&timeInForce=GTC");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1013,"msg":"Filter failure: LOT_SIZE"})");
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1e-3&price=40000&timeInForce=GTC");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.substr(0, 14), R"({"code":-1100,)");
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=STOP&quantity=0.001&price=40000");
  EXPECT_EQ(r.body, R"({"code":-1116,"msg":"Invalid orderType."})");
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=UP&type=LIMIT&quantity=0.001&price=40000");
  EXPECT_EQ(r.body, R"({"code":-1117,"msg":"Invalid side."})");
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=DOGEUSDT&side=BUY&type=LIMIT&quantity=0.001&price=40000");
  EXPECT_EQ(r.body, R"({"code":-1121,"msg":"Invalid symbol."})");
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=100&price=40000&timeInForce=GTC");
  EXPECT_EQ(r.body,
            R"({"code":-2010,"msg":"Account has insufficient balance for requested action."})");

  // API keys: unknown (401 -2015), absent or malformed (401 -2014).
  User stranger{99, "UnknownKey0123456789", "whatever"};
  r = Signed("GET", "/api/v3/account", stranger, "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})");
  r = client_->Request("GET", "/api/v3/account?timestamp=" + std::to_string(kNowMs));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":-2014,"msg":"API-key format invalid."})");
  r = client_->Request("GET", "/api/v3/account", {}, "X-MBX-APIKEY: bad key!\r\n");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":-2014,"msg":"API-key format invalid."})");

  // Nothing above changed the taker's money.
  r = Signed("GET", "/api/v3/account", taker_, "");
  auto acct = Json(r);
  EXPECT_EQ(Balance(acct, "USDT", "free"), "10000.00000000");
  EXPECT_EQ(Balance(acct, "USDT", "locked"), "0.00000000");
}

// POST /order/test: the checks of POST /order, nothing placed.
TEST_F(GatewayOrdersTest, TestOrderChecksWithoutPlacing) {
  const std::string order = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=40000"
                            "&timeInForce=GTC";
  TestResponse r = Signed("POST", "/api/v3/order/test", taker_, order);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  r = Signed("POST", "/api/v3/order/test", taker_, order + "&computeCommissionRates=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"standardCommissionForOrder":{"maker":"0.00090000","taker":"0.00100000"},)"
            R"("taxCommissionForOrder":{"maker":"0.00000000","taker":"0.00000000"},)"
            R"("discount":{"enabledForAccount":false,"enabledForSymbol":false,)"
            R"("discountAsset":"","discount":"0.00000000"}})");
  // The errors POST /order would give.
  r = Signed("POST", "/api/v3/order/test", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=100&price=40000&timeInForce=GTC");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"code":-2010,"msg":"Account has insufficient balance for requested action."})");
  r = Signed("POST", "/api/v3/order/test", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.000001&price=40000&timeInForce=GTC");
  EXPECT_EQ(r.body, R"({"code":-1013,"msg":"Filter failure: LOT_SIZE"})");
  r = Signed("POST", "/api/v3/order/test", taker_, order + "&computeCommissionRates=yes");
  EXPECT_EQ(r.body, R"({"code":-1130,"msg":"Data sent for parameter 'computeCommissionRates' )"
                    R"(is not valid."})");
  // Nothing was placed or locked.
  r = Signed("GET", "/api/v3/openOrders", taker_, "");
  EXPECT_EQ(r.body, "[]");
  r = Signed("GET", "/api/v3/account", taker_, "");
  EXPECT_EQ(Balance(Json(r), "USDT", "locked"), "0.00000000");
}

TEST_F(GatewayOrdersTest, CancelReplace) {
  TestResponse r = Signed("POST", "/api/v3/order", maker_,
                          "symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.01&price=41000"
                          "&timeInForce=GTC&newClientOrderId=old1");
  ASSERT_EQ(r.status, 200) << r.body;
  const int64_t old_id = I(Json(r), "orderId");

  // Replace it by a cheaper one.
  r = Signed("POST", "/api/v3/order/cancelReplace", maker_,
             "symbol=BTCUSDT&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId=" +
                 std::to_string(old_id) +
                 "&cancelNewClientOrderId=cx1&side=SELL&type=LIMIT&quantity=0.01&price=40500"
                 "&timeInForce=GTC&newClientOrderId=new1");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element o = Json(r);
  NoErrorFields(o);
  EXPECT_EQ(S(o, "cancelResult"), "SUCCESS");
  EXPECT_EQ(S(o, "newOrderResult"), "SUCCESS");
  simdjson::dom::element c = o["cancelResponse"];
  EXPECT_EQ(I(c, "orderId"), old_id);
  EXPECT_EQ(S(c, "origClientOrderId"), "old1");
  EXPECT_EQ(S(c, "clientOrderId"), "cx1");
  EXPECT_EQ(S(c, "status"), "CANCELED");
  simdjson::dom::element n = o["newOrderResponse"];
  EXPECT_EQ(S(n, "clientOrderId"), "new1");
  EXPECT_EQ(S(n, "price"), "40500.00000000");
  EXPECT_EQ(S(n, "status"), "NEW");
  EXPECT_EQ(n["fills"].get_array().size(), 0u);  // FULL: LIMIT's default
  const int64_t new_id = I(n, "orderId");

  // STOP_ON_FAILURE, unknown order: -2022, the new order not attempted.
  r = Signed("POST", "/api/v3/order/cancelReplace", maker_,
             "symbol=BTCUSDT&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId=" +
                 std::to_string(old_id) +
                 "&side=SELL&type=LIMIT&quantity=0.01&price=40600&timeInForce=GTC");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":)"
            R"("FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,)"
            R"("msg":"Unknown order sent."},"newOrderResponse":null}})");
  // STOP_ON_FAILURE, new order refused: the old order stays.
  r = Signed("POST", "/api/v3/order/cancelReplace", maker_,
             "symbol=BTCUSDT&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId=" +
                 std::to_string(new_id) +
                 "&side=SELL&type=LIMIT&quantity=0.000001&price=40600&timeInForce=GTC");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":)"
            R"("NOT_ATTEMPTED","newOrderResult":"FAILURE","cancelResponse":null,)"
            R"("newOrderResponse":{"code":-1013,"msg":"Filter failure: LOT_SIZE"}}})");
  r = Signed("GET", "/api/v3/order", maker_, "symbol=BTCUSDT&orderId=" + std::to_string(new_id));
  EXPECT_EQ(S(Json(r), "status"), "NEW");
  // ALLOW_FAILURE, unknown order: the new order is placed alone (409 -2021).
  r = Signed("POST", "/api/v3/order/cancelReplace", maker_,
             "symbol=BTCUSDT&cancelReplaceMode=ALLOW_FAILURE&cancelOrderId=" +
                 std::to_string(old_id) +
                 "&side=SELL&type=LIMIT&quantity=0.001&price=42000&timeInForce=GTC"
                 "&newOrderRespType=ACK");
  EXPECT_EQ(r.status, 409) << r.body;
  o = Json(r);
  EXPECT_EQ(I(o, "code"), -2021);
  EXPECT_EQ(S(o, "msg"), "Order cancel-replace partially failed.");
  EXPECT_EQ(S(o["data"], "cancelResult"), "FAILURE");
  EXPECT_EQ(S(o["data"], "newOrderResult"), "SUCCESS");
  EXPECT_EQ(I(o["data"]["cancelResponse"], "code"), -2011);
  EXPECT_GT(I(o["data"]["newOrderResponse"], "orderId"), new_id);
  // ALLOW_FAILURE, new order refused: the old order is cancelled alone.
  r = Signed("POST", "/api/v3/order/cancelReplace", maker_,
             "symbol=BTCUSDT&cancelReplaceMode=ALLOW_FAILURE&cancelOrderId=" +
                 std::to_string(new_id) +
                 "&side=SELL&type=LIMIT&quantity=0.000001&price=40600&timeInForce=GTC");
  EXPECT_EQ(r.status, 409) << r.body;
  o = Json(r);
  EXPECT_EQ(I(o, "code"), -2021);
  EXPECT_EQ(S(o["data"], "cancelResult"), "SUCCESS");
  EXPECT_EQ(S(o["data"], "newOrderResult"), "FAILURE");
  EXPECT_EQ(I(o["data"]["cancelResponse"], "orderId"), new_id);
  EXPECT_EQ(S(o["data"]["cancelResponse"], "status"), "CANCELED");
  EXPECT_EQ(I(o["data"]["newOrderResponse"], "code"), -1013);

  // Request errors are plain.
  r = Signed("POST", "/api/v3/order/cancelReplace", maker_,
             "symbol=BTCUSDT&cancelReplaceMode=SOMETIMES&cancelOrderId=1&side=SELL&type=LIMIT"
             "&quantity=0.001&price=42000&timeInForce=GTC");
  EXPECT_EQ(r.body, R"({"code":-1130,"msg":"Data sent for parameter 'cancelReplaceMode' is )"
                    R"(not valid."})");
  r = Signed("POST", "/api/v3/order/cancelReplace", maker_,
             "symbol=BTCUSDT&cancelReplaceMode=STOP_ON_FAILURE&side=SELL&type=LIMIT"
             "&quantity=0.001&price=42000&timeInForce=GTC");
  EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Param 'cancelOrderId' or 'cancelOrigClientOrderId' )"
                    R"(must be sent, but both were empty/null!"})");
}

TEST_F(GatewayOrdersTest, UserDataStreamListenKeys) {
  const std::string key_header = "X-MBX-APIKEY: " + maker_.key + "\r\n";
  TestResponse r = client_->Request("POST", "/api/v3/userDataStream", {}, key_header);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string lk(S(Json(r), "listenKey"));
  ASSERT_EQ(lk.size(), 60u);
  EXPECT_EQ(api_.UserOfListenKey(lk, clock_.NowNanos()), maker_.id);
  EXPECT_EQ(r.body, R"({"listenKey":")" + lk + R"("})");
  // POST again: the active key.
  r = client_->Request("POST", "/api/v3/userDataStream", {}, key_header);
  EXPECT_EQ(S(Json(r), "listenKey"), lk);
  // PUT extends (form body, ccxt style, or query, connector style).
  r = client_->Request("PUT", "/api/v3/userDataStream", "listenKey=" + lk,
                       key_header + "Content-Type: application/x-www-form-urlencoded\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  r = client_->Request("PUT", "/api/v3/userDataStream?listenKey=nope", {}, key_header);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1125,"msg":"This listenKey does not exist."})");
  r = client_->Request("PUT", "/api/v3/userDataStream", {}, key_header);
  EXPECT_EQ(r.body, R"({"code":-1102,"msg":"Mandatory parameter 'listenKey' was not sent, )"
                    R"(was empty/null, or malformed."})");
  // Another user's API key cannot touch it.
  r = client_->Request("DELETE", "/api/v3/userDataStream?listenKey=" + lk, {},
                       "X-MBX-APIKEY: " + taker_.key + "\r\n");
  EXPECT_EQ(r.body, R"({"code":-1125,"msg":"This listenKey does not exist."})");
  // No key, unknown key.
  r = client_->Request("POST", "/api/v3/userDataStream");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"code":-2014,"msg":"API-key format invalid."})");
  r = client_->Request("POST", "/api/v3/userDataStream", {}, "X-MBX-APIKEY: Unknown123\r\n");
  EXPECT_EQ(r.status, 401);
  // Expiry after 60 minutes without a PUT.
  EXPECT_FALSE(api_.UserOfListenKey(lk, clock_.NowNanos() + 3'600'000'000'001).has_value());
  // DELETE closes it.
  r = client_->Request("DELETE", "/api/v3/userDataStream?listenKey=" + lk, {}, key_header);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  EXPECT_FALSE(api_.UserOfListenKey(lk, clock_.NowNanos()).has_value());
}

TEST_F(GatewayOrdersTest, ClosedAndExpiredListenKeysReachTheHookOnce) {
  std::vector<std::string> ended;  // the hook runs on an I/O thread, then here
  std::mutex mu;
  api_.SetListenKeyClosedHook([&](std::string_view key, protocol::Timestamp) {
    std::lock_guard<std::mutex> l(mu);
    ended.emplace_back(key);
  });
  auto take = [&] {
    std::lock_guard<std::mutex> l(mu);
    return std::exchange(ended, {});
  };
  const std::string maker_header = "X-MBX-APIKEY: " + maker_.key + "\r\n";
  const std::string taker_header = "X-MBX-APIKEY: " + taker_.key + "\r\n";
  TestResponse r = client_->Request("POST", "/api/v3/userDataStream", {}, maker_header);
  const std::string closed(S(Json(r), "listenKey"));
  r = client_->Request("POST", "/api/v3/userDataStream", {}, taker_header);
  const std::string expiring(S(Json(r), "listenKey"));
  r = client_->Request("DELETE", "/api/v3/userDataStream?listenKey=" + closed, {}, maker_header);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(take(), std::vector<std::string>{closed});
  api_.ExpireListenKeys();  // nothing expired yet
  EXPECT_TRUE(take().empty());
  clock_.now_ns += 3'600'000'000'001;
  api_.ExpireListenKeys();
  EXPECT_EQ(take(), std::vector<std::string>{expiring});
  api_.ExpireListenKeys();
  EXPECT_TRUE(take().empty());
}

// Market data from the same engine events the order service settles.
TEST_F(GatewayOrdersTest, MarketDataFromEngineEvents) {
  TestResponse r = Signed("POST", "/api/v3/order", maker_,
                          "symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.01&price=40000"
                          "&timeInForce=GTC");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Signed("POST", "/api/v3/order", maker_,
             "symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.02&price=40100&timeInForce=GTC");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=39000&timeInForce=GTC");
  ASSERT_EQ(r.status, 200) << r.body;

  r = client_->Request("GET", "/api/v3/depth?symbol=BTCUSDT&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element d = Json(r);
  EXPECT_GT(I(d, "lastUpdateId"), 0);
  EXPECT_EQ(r.body.substr(r.body.find("\"bids\"")),
            R"("bids":[["39000.00000000","0.00100000"]],"asks":[["40000.00000000","0.01000000"],)"
            R"(["40100.00000000","0.02000000"]]})");
  const int64_t before = I(d, "lastUpdateId");

  // A taker sweeps 40000 and part of 40100: one aggregate per price.
  r = Signed("POST", "/api/v3/order", taker_,
             "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.015&price=40100&timeInForce=GTC");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(S(Json(r), "status"), "FILLED");

  r = client_->Request("GET", "/api/v3/depth?symbol=BTCUSDT");
  d = Json(r);
  EXPECT_GT(I(d, "lastUpdateId"), before);
  EXPECT_EQ(r.body.substr(r.body.find("\"asks\"")), R"("asks":[["40100.00000000","0.01500000"]]})");

  r = client_->Request("GET", "/api/v3/trades?symbol=BTCUSDT");
  {
    simdjson::dom::array a = Json(r);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(I(a.at(0), "id"), 1);
    EXPECT_EQ(S(a.at(0), "price"), "40000.00000000");
    EXPECT_EQ(S(a.at(0), "qty"), "0.01000000");
    EXPECT_EQ(S(a.at(0), "quoteQty"), "400.00000000");
    EXPECT_EQ(I(a.at(0), "time"), kNowMs);
    EXPECT_FALSE(bool(a.at(0)["isBuyerMaker"]));
    EXPECT_EQ(S(a.at(1), "qty"), "0.00500000");
  }
  r = client_->Request("GET", "/api/v3/aggTrades?symbol=BTCUSDT");
  EXPECT_EQ(Json(r).get_array().size(), 2u);
  r = client_->Request("GET", "/api/v3/ticker/24hr?symbol=BTCUSDT");
  {
    simdjson::dom::element t = Json(r);
    NoErrorFields(t);
    EXPECT_EQ(S(t, "lastPrice"), "40100.00000000");
    EXPECT_EQ(S(t, "volume"), "0.01500000");
    EXPECT_EQ(S(t, "quoteVolume"), "600.50000000");
    EXPECT_EQ(S(t, "bidPrice"), "39000.00000000");
    EXPECT_EQ(S(t, "askPrice"), "40100.00000000");
    EXPECT_EQ(I(t, "count"), 2);
  }
  r = client_->Request("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m");
  {
    simdjson::dom::array rows = Json(r);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(std::string_view(rows.at(0).at(1)), "40000.00000000");
    EXPECT_EQ(std::string_view(rows.at(0).at(4)), "40100.00000000");
  }
  r = client_->Request("GET", "/api/v3/avgPrice?symbol=BTCUSDT");
  EXPECT_EQ(r.body, R"({"mins":5,"price":"40033.33333333","closeTime":)" +
                        std::to_string(kNowMs) + "}");
}

}  // namespace
}  // namespace xc
