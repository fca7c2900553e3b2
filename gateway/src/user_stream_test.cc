// UserStreamHub: Binance JSON of the user data events, subscriptions
// (wrapped and raw), and the legacy /ws/<listenKey> stream over real sockets
// through StreamHub's listen-key hook.
#include "xc/gateway/user_stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "xc/gateway/stream_hub.h"
#include "xc/gateway/testing/market_events.h"

namespace xc::gateway {
namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
namespace os = xc::order_service;
using asio::ip::tcp;

constexpr os::Amount U = os::kUnitsPerWhole;
constexpr int64_t kMs = 1'000'000;  // ns per ms

os::ExecutionReport Trade() {
  os::ExecutionReport r;
  r.user = 7;
  r.event_time = 1'700'000'000'123 * kMs + 999;
  r.order.symbol = "BTCUSDT";
  r.order.client_order_id = "abc";
  r.order.side = protocol::Side::kBuy;
  r.order.type = os::OrderType::kLimit;
  r.order.time_in_force = protocol::TimeInForce::kGtc;
  r.order.orig_qty = U / 100;
  r.order.price = 40000 * U;
  r.execution_type = os::ExecutionType::kTrade;
  r.order.status = os::OrderStatus::kPartiallyFilled;
  r.order.order_id = 42;
  r.last_qty = U / 250;
  r.order.executed_qty = U / 250;
  r.last_price = 40000 * U;
  r.commission = 400;
  r.commission_asset = "BTC";
  r.transaction_time = r.event_time;
  r.trade_id = 9;
  r.is_working = true;
  r.is_maker = true;
  r.order.time = 1'700'000'000'000 * kMs;
  r.working_time = r.order.time;
  r.order.cummulative_quote_qty = 160 * U;
  r.last_quote_qty = 160 * U;
  return r;
}

TEST(UserStreamRenderTest, ExecutionReport) {
  EXPECT_EQ(UserStreamHub::Render(Trade()),
            R"({"e":"executionReport","E":1700000000123,"s":"BTCUSDT","c":"abc","S":"BUY",)"
            R"("o":"LIMIT","f":"GTC","q":"0.01000000","p":"40000.00000000","P":"0.00000000",)"
            R"("F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE",)"
            R"("i":42,"l":"0.00400000","z":"0.00400000","L":"40000.00000000","n":"0.00000400",)"
            R"("N":"BTC","T":1700000000123,"t":9,"I":0,"w":true,"m":true,"M":false,)"
            R"("O":1700000000000,"Z":"160.00000000","Y":"160.00000000","Q":"0.00000000",)"
            R"("W":1700000000000,"V":"NONE"})");
  os::ExecutionReport n = Trade();
  n.execution_type = os::ExecutionType::kCanceled;
  n.order.status = os::OrderStatus::kCanceled;
  n.orig_client_order_id = "abc";
  n.commission_asset.clear();
  n.trade_id = -1;
  n.working_time = -1;
  const std::string s = UserStreamHub::Render(n);
  EXPECT_NE(s.find(R"("C":"abc","x":"CANCELED","X":"CANCELED")"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("N":null,)"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("t":-1,)"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("W":-1,)"), std::string::npos) << s;
}

TEST(UserStreamRenderTest, PositionAndBalanceUpdate) {
  os::AccountPosition p;
  p.user = 7;
  p.event_time = 1'700'000'000'500 * kMs;
  p.update_time = 1'700'000'000'400 * kMs;
  p.balances = {{"BTC", U, U / 2}, {"USDT", 5, 0}};
  EXPECT_EQ(UserStreamHub::Render(p),
            R"({"e":"outboundAccountPosition","E":1700000000500,"u":1700000000400,"B":[)"
            R"({"a":"BTC","f":"1.00000000","l":"0.50000000"},)"
            R"({"a":"USDT","f":"0.00000005","l":"0.00000000"}]})");
  os::BalanceUpdate b;
  b.user = 7;
  b.event_time = b.clear_time = 1'700'000'000'600 * kMs;
  b.asset = "USDT";
  b.delta = -15 * U / 10;
  EXPECT_EQ(UserStreamHub::Render(b),
            R"({"e":"balanceUpdate","E":1700000000600,"a":"USDT","d":"-1.50000000",)"
            R"("T":1700000000600})");
}

class RecordingSession : public WsSession {
 public:
  void Send(std::shared_ptr<const std::string> text) override {
    std::lock_guard<std::mutex> l(mu);
    sent.push_back(*text);
  }
  std::vector<std::string> Sent() {
    std::lock_guard<std::mutex> l(mu);
    return sent;
  }
  std::mutex mu;
  std::vector<std::string> sent;
};

TEST(UserStreamHubTest, SubscriptionsWrappedRawAndPerUser) {
  UserStreamHub hub;
  auto a = std::make_shared<RecordingSession>();
  auto b = std::make_shared<RecordingSession>();
  const uint64_t ta = hub.Subscribe(7, a, 3);
  const uint64_t tb = hub.Subscribe(7, b, std::nullopt);
  const uint64_t tc = hub.Subscribe(8, b, 0);
  EXPECT_NE(ta, 0u);
  EXPECT_EQ(hub.subscriptions(), 3u);
  os::BalanceUpdate bu;
  bu.user = 7;
  bu.asset = "BTC";
  bu.delta = U;
  std::vector<os::UserEvent> evs = {Trade(), bu};
  hub.OnUserEvents(evs);
  const std::string r0 = UserStreamHub::Render(evs[0]);
  const std::string r1 = UserStreamHub::Render(evs[1]);
  EXPECT_EQ(a->Sent(), (std::vector<std::string>{"{\"subscriptionId\":3,\"event\":" + r0 + "}",
                                                 "{\"subscriptionId\":3,\"event\":" + r1 + "}"}));
  EXPECT_EQ(b->Sent(), (std::vector<std::string>{r0, r1}));
  EXPECT_TRUE(hub.Unsubscribe(tb));
  EXPECT_FALSE(hub.Unsubscribe(tb));
  hub.OnUserEvents(evs);
  EXPECT_EQ(a->Sent().size(), 4u);
  EXPECT_EQ(b->Sent().size(), 2u);  // its user-8 subscription saw nothing
  EXPECT_TRUE(hub.Unsubscribe(ta));
  EXPECT_TRUE(hub.Unsubscribe(tc));
  EXPECT_EQ(hub.subscriptions(), 0u);
  hub.OnUserEvents(evs);  // nobody: nothing rendered or sent
  EXPECT_EQ(a->Sent().size(), 4u);
}

// A blocking websocket client; reads time out after 5 s (SO_RCVTIMEO).
class WsClient {
 public:
  WsClient(uint16_t port, const std::string& target) : ws_(ioc_) {
    tcp::socket& s = ws_.next_layer();
    s.open(tcp::v4());
    timeval tv{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws_.handshake("127.0.0.1", target);  // throws when refused
  }
  std::string Read() {
    boost::beast::flat_buffer b;
    boost::system::error_code ec;
    ws_.read(b, ec);
    return ec ? "" : boost::beast::buffers_to_string(b.data());
  }
  void Close() { ws_.close(websocket::close_code::normal); }

 private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
};

TEST(UserStreamHubTest, ListenKeySessionsThroughStreamHub) {
  const std::string key(60, 'K');
  UserStreamHub users;
  testing::FixedClock clock{1'700'000'000'000};
  MarketData md(std::vector<os::SymbolConfig>{});
  StreamHub::Options o;
  o.flush_thread = false;
  StreamHub streams(md, clock, o);
  streams.SetListenKeyAcceptor(
      [&](std::string_view k, std::shared_ptr<WsSession> ws) -> std::shared_ptr<WsHandler> {
        if (k != key) return nullptr;
        return users.AcceptListenKey(7, std::string(k), std::move(ws));
      });
  HttpServer server{HttpServerOptions{}};
  streams.Register(server);
  ASSERT_FALSE(server.Start());

  // An unknown key is refused (HTTP 404: the handshake fails).
  EXPECT_ANY_THROW(WsClient(server.port(), "/ws/" + std::string(60, 'x')));
  {
    WsClient c(server.port(), "/ws/" + key);
    ASSERT_EQ(users.subscriptions(), 1u);
    EXPECT_EQ(streams.num_sessions(), 0u);  // not a market-data session
    std::vector<os::UserEvent> evs = {Trade()};
    users.OnUserEvents(evs);
    EXPECT_EQ(c.Read(), UserStreamHub::Render(evs[0]));  // raw
    EXPECT_EQ(users.ListenKeyClosed(key, 1'700'000'000'777 * kMs), 1u);
    EXPECT_EQ(c.Read(), R"({"e":"listenKeyExpired","E":1700000000777,"listenKey":")" + key +
                            "\"}");
    EXPECT_EQ(users.subscriptions(), 0u);
  }
  {
    WsClient c(server.port(), "/ws/" + key);
    ASSERT_EQ(users.subscriptions(), 1u);
    c.Close();
  }
  // Closing the session unsubscribes it.
  for (int i = 0; i < 200 && users.subscriptions() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(users.subscriptions(), 0u);
  server.Stop();
}

}  // namespace
}  // namespace xc::gateway
