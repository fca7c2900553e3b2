// WebSocket sessions of HttpServer and StreamHub's streams, over real
// sockets on 127.0.0.1 with a Beast websocket client.
#include "xc/gateway/stream_hub.h"

#include "xc/order_service/decimal.h"

#include <gtest/gtest.h>
#include "xc/gateway/testing/market_events.h"
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <map>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace xc::gateway {
namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
namespace os = xc::order_service;
using asio::ip::tcp;
using protocol::Event;
using protocol::EventType;
using protocol::Side;

constexpr int64_t kNowMs = 1'700'000'000'000;


std::vector<os::SymbolConfig> Configs() {
  os::SymbolConfig btc;
  btc.symbol = "BTCUSDT";
  btc.tick_size = "0.01";
  btc.step_size = "0.00001";
  return {btc};
}

// A blocking websocket client; reads time out after 5 s (SO_RCVTIMEO).
class WsClient {
 public:
  WsClient(uint16_t port, const std::string& target, int rcvbuf = 0) : ws_(ioc_) {
    tcp::socket& s = ws_.next_layer();
    s.open(tcp::v4());
    if (rcvbuf > 0) {
      s.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
    }
    timeval tv{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws_.handshake("127.0.0.1", target);
  }
  void Send(const std::string& text) { ws_.write(asio::buffer(text)); }
  // The next message, or "" on error/close.
  std::string Read() {
    boost::beast::flat_buffer b;
    boost::system::error_code ec;
    ws_.read(b, ec);
    if (ec) {
      error = ec;
      return "";
    }
    return boost::beast::buffers_to_string(b.data());
  }
  websocket::stream<tcp::socket>& ws() { return ws_; }
  boost::system::error_code error;

 private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
};

class StreamHubTest : public ::testing::Test {
 protected:
  StreamHubTest()
      : md_(Configs()), hub_(md_, clock_, HubOptions()), server_(HttpServerOptions{}) {
    hub_.Register(server_);
    EXPECT_FALSE(server_.Start());
  }
  ~StreamHubTest() override { server_.Stop(); }
  static StreamHub::Options HubOptions() {
    StreamHub::Options o;
    o.flush_thread = false;
    return o;
  }

  void Feed(const Event& e) {
    md_.OnEvent(e);
    hub_.OnEvent(e);
  }
  // One engine command's events, as the exchange's pump hands them over.
  void FeedGroup(std::span<const Event> group) {
    md_.OnEvents(group);
    hub_.OnEvents(group);
  }
  void Level(Side s, int64_t price, int64_t qty, protocol::Seq seq) {
    Feed(testing::LevelEvent(s, price, qty, seq));
  }
  // The next of the symbol's trades, numbered as the engine does.
  void Trade(int64_t price, int64_t qty, Side maker, int64_t ms, protocol::Seq seq,
             protocol::OrderId taker) {
    Feed(testing::TradeEvent(next_trade_id_++, price, qty, maker, ms, seq, taker));
  }

  testing::FixedClock clock_{kNowMs};
  MarketData md_;
  uint64_t next_trade_id_ = 1;
  StreamHub hub_;
  HttpServer server_;
};

TEST_F(StreamHubTest, TradeStreamFromPath) {
  WsClient c(server_.port(), "/ws/btcusdt@trade");
  Trade(4'000'050, 10'000, Side::kSell, kNowMs, 4, 7);
  EXPECT_EQ(c.Read(),
            R"({"e":"trade","E":1700000000000,"s":"BTCUSDT","t":1,"p":"40000.50000000",)"
            R"("q":"0.10000000","T":1700000000000,"m":false,"M":true})");
}

TEST_F(StreamHubTest, SubscribeFlow) {
  WsClient c(server_.port(), "/ws/0");
  c.Send(R"({"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@bookTicker"],"id":1})");
  EXPECT_EQ(c.Read(), R"({"result":null,"id":1})");
  c.Send(R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":2})");
  EXPECT_EQ(c.Read(), R"({"result":null,"id":2})");  // acknowledged again
  c.Send(R"({"method":"LIST_SUBSCRIPTIONS","id":"x"})");
  EXPECT_EQ(c.Read(), R"({"result":["btcusdt@trade","btcusdt@bookTicker"],"id":"x"})");
  c.Send(R"({"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":3})");
  EXPECT_EQ(c.Read(), R"({"result":null,"id":3})");
  c.Send("not json");
  EXPECT_EQ(c.Read(),
            R"({"error":{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"},"id":null})");
  c.Send(R"({"method":"FOO","id":4})");
  EXPECT_EQ(c.Read().substr(0, 60), R"({"error":{"code":2,"msg":"Invalid request: unknown variant `)");
  c.Send(R"({"method":"SUBSCRIBE","params":["btcusdt@nope"],"id":5})");
  EXPECT_EQ(c.Read(),
            R"({"error":{"code":2,"msg":"Invalid request: unknown stream `btcusdt@nope`"},"id":5})");
  // Only the book ticker is left.
  Trade(4'000'050, 10'000, Side::kSell, kNowMs, 4, 7);
  Level(Side::kBuy, 4'000'000, 50'000, 5);
  EXPECT_EQ(c.Read(), R"({"u":5,"s":"BTCUSDT","b":"40000.00000000","B":"0.50000000",)"
                      R"("a":"0.00000000","A":"0.00000000"})");
}

TEST_F(StreamHubTest, CombinedStreamsAreWrapped) {
  WsClient c(server_.port(), "/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms");
  Trade(4'000'050, 10'000, Side::kBuy, kNowMs, 4, 7);
  Trade(4'000'050, 20'000, Side::kBuy, kNowMs, 4, 7);
  Level(Side::kSell, 4'000'100, 100'000, 4);
  Level(Side::kSell, 4'000'100, 0, 6);  // next command: the aggregate is complete
  EXPECT_EQ(c.Read(),
            R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000000000,)"
            R"("s":"BTCUSDT","a":1,"p":"40000.50000000","q":"0.30000000","f":1,"l":2,)"
            R"("T":1700000000000,"m":true,"M":true}})");
  hub_.Flush(kNowMs + 5);
  EXPECT_EQ(c.Read(),
            R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1700000000005,)"
            R"("s":"BTCUSDT","U":1,"u":6,"b":[],"a":[["40001.00000000","0.00000000"]]}})");
}

// One engine command changes two levels under one seq. Fed per event with a
// Flush between (the flusher thread racing the pump), the diff event says
// u = 3 without the second change, which then waits for the symbol's next
// command, while REST depth at lastUpdateId 3 has it. Fed as one group, the
// event that ends at u = S carries all of command S.
TEST_F(StreamHubTest, DiffDepthCarriesWholeCommands) {
  WsClient c(server_.port(), "/ws/btcusdt@depth@100ms");
  Level(Side::kSell, 4'000'100, 1'000, 1);
  Level(Side::kSell, 4'000'200, 1'000, 2);
  hub_.Flush(kNowMs);
  EXPECT_EQ(c.Read(), R"({"e":"depthUpdate","E":1700000000000,"s":"BTCUSDT","U":1,"u":2,"b":[],)"
                      R"("a":[["40001.00000000","0.01000000"],["40002.00000000","0.01000000"]]})");
  // The per-event path, Flush in the middle of command 3.
  Level(Side::kSell, 4'000'100, 0, 3);
  hub_.Flush(kNowMs + 100);
  EXPECT_EQ(c.Read(), R"({"e":"depthUpdate","E":1700000000100,"s":"BTCUSDT","U":3,"u":3,"b":[],)"
                      R"("a":[["40001.00000000","0.00000000"]]})");
  Level(Side::kSell, 4'000'200, 0, 3);
  hub_.Flush(kNowMs + 200);  // nothing after u = 3: the change waits
  // Command 4, one group: a buy rests two levels (as if it were a sweep).
  const Event four[] = {testing::LevelEvent(Side::kBuy, 3'999'900, 2'000, 4),
                        testing::LevelEvent(Side::kBuy, 3'999'800, 3'000, 4)};
  FeedGroup(four);
  hub_.Flush(kNowMs + 300);
  EXPECT_EQ(c.Read(), R"({"e":"depthUpdate","E":1700000000300,"s":"BTCUSDT","U":4,"u":4,)"
                      R"("b":[["39999.00000000","0.02000000"],["39998.00000000","0.03000000"]],)"
                      R"("a":[["40002.00000000","0.00000000"]]})");  // command 3's, late
  // Command 5 takes the best bid and part of the next, with trades; the book
  // ticker follows the whole command, once (per event: twice, the first
  // time with a level half taken).
  WsClient bt(server_.port(), "/ws/btcusdt@bookTicker");
  const Event five[] = {testing::TradeEvent(1, 3'999'900, 2'000, Side::kBuy, kNowMs, 5, 9),
                        testing::TradeEvent(2, 3'999'800, 2'000, Side::kBuy, kNowMs, 5, 9),
                        testing::LevelEvent(Side::kBuy, 3'999'900, 0, 5),
                        testing::LevelEvent(Side::kBuy, 3'999'800, 1'000, 5)};
  FeedGroup(five);
  EXPECT_EQ(bt.Read(), R"({"u":5,"s":"BTCUSDT","b":"39998.00000000","B":"0.01000000",)"
                       R"("a":"0.00000000","A":"0.00000000"})");
  hub_.Flush(kNowMs + 400);
  EXPECT_EQ(c.Read(), R"({"e":"depthUpdate","E":1700000000400,"s":"BTCUSDT","U":5,"u":5,)"
                      R"("b":[["39999.00000000","0.00000000"],["39998.00000000","0.01000000"]],)"
                      R"("a":[]})");
}

// A group's trades get their own ids and complete aggregates; the last
// aggregate is sent at the next command (or Flush), as with OnEvent.
TEST_F(StreamHubTest, GroupTradesAndAggregates) {
  WsClient c(server_.port(), "/stream?streams=btcusdt@trade/btcusdt@aggTrade");
  const Event three[] = {testing::TradeEvent(1, 4'000'100, 1'000, Side::kSell, kNowMs, 3, 7),
                         testing::TradeEvent(2, 4'000'100, 2'000, Side::kSell, kNowMs, 3, 7),
                         testing::TradeEvent(3, 4'000'200, 4'000, Side::kSell, kNowMs, 3, 7),
                         testing::LevelEvent(Side::kSell, 4'000'100, 0, 3)};
  FeedGroup(three);
  simdjson::dom::parser parser;
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) got.push_back(c.Read());  // 3 trades, the first aggregate
  std::vector<int64_t> trade_ids;
  std::string agg;
  for (const std::string& m : got) {
    if (m.find("@trade") != std::string::npos) {
      simdjson::dom::element d = parser.parse(m);
      trade_ids.push_back(int64_t(d["data"]["t"]));
    } else {
      agg = m;
    }
  }
  EXPECT_EQ(trade_ids, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(agg, R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000000000,)"
                 R"("s":"BTCUSDT","a":1,"p":"40001.00000000","q":"0.03000000","f":1,"l":2,)"
                 R"("T":1700000000000,"m":false,"M":true}})");
  const Event four[] = {testing::LevelEvent(Side::kBuy, 3'999'900, 2'000, 4)};
  FeedGroup(four);  // the next command completes the last aggregate
  EXPECT_EQ(c.Read(), R"({"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000000000,)"
                      R"("s":"BTCUSDT","a":2,"p":"40002.00000000","q":"0.04000000","f":3,"l":3,)"
                      R"("T":1700000000000,"m":false,"M":true}})");
}

// A flusher racing the pump never splits a command: command S sets the bid
// at 1.00 and the ask at 2.00 both to S lots in one group, so every diff
// event shows both levels at its u, and each U follows the previous u.
// (Flush runs in a tight loop on its own thread, as the flusher thread would
// with a very short interval. A stress check: a per-event feed leaves a
// window too short to hit reliably; DiffDepthCarriesWholeCommands is the
// deterministic case.)
TEST(StreamHubRaceTest, FlusherNeverSplitsACommand) {
  testing::FixedClock clock(kNowMs);
  MarketData md(Configs());
  StreamHub::Options o;
  o.depth_fast_ms = 1;
  o.flush_thread = false;
  StreamHub hub(md, clock, o);
  HttpServer server{HttpServerOptions{}};
  hub.Register(server);
  ASSERT_FALSE(server.Start());
  WsClient c(server.port(), "/ws/btcusdt@depth@100ms");
  constexpr protocol::Seq kCommands = 3'000;
  std::atomic<bool> pumped{false};
  std::thread flusher([&] {
    int64_t now = kNowMs;
    while (!pumped.load()) hub.Flush(++now);
    hub.Flush(now + 1);  // the rest
  });
  std::thread pump([&] {
    for (protocol::Seq s = 1; s <= kCommands; ++s) {
      const auto lots = static_cast<int64_t>(s);
      const Event group[] = {testing::LevelEvent(Side::kBuy, 100, lots, s),
                             testing::LevelEvent(Side::kSell, 200, lots, s)};
      md.OnEvents(group);
      hub.OnEvents(group);
      if (s % 16 == 0) std::this_thread::yield();
    }
    pumped.store(true);
  });
  simdjson::dom::parser parser;
  protocol::Seq u = 0, prev_u = 0;
  int events = 0, torn = 0;
  auto amt = [](std::string_view s) { return os::ParseDecimal(s, os::kAmountDecimals).units; };
  while (u < kCommands) {
    const std::string m = c.Read();
    if (m.empty()) {
      ADD_FAILURE() << c.error.message();
      break;
    }
    simdjson::dom::element d = parser.parse(m);
    u = static_cast<protocol::Seq>(int64_t(d["u"]));
    EXPECT_EQ(static_cast<protocol::Seq>(int64_t(d["U"])), prev_u + 1);
    prev_u = u;
    ++events;
    simdjson::dom::array b = d["b"], a = d["a"];
    const int64_t want = static_cast<int64_t>(u) * 1'000;  // lots of 0.00001
    if (b.size() != 1 || a.size() != 1 || amt(std::string_view(b.at(0).at(1))) != want ||
        amt(std::string_view(a.at(0).at(1))) != want) {
      ++torn;
    }
  }
  pump.join();
  flusher.join();
  EXPECT_EQ(torn, 0) << "of " << events << " events";
  server.Stop();
}

// Diff events applied on a snapshot taken after the SUBSCRIBE ack give the book.
TEST_F(StreamHubTest, DepthSnapshotPlusDiffsEqualsBook) {
  Level(Side::kBuy, 100, 5, 1);
  Level(Side::kSell, 110, 5, 2);
  hub_.Flush(kNowMs);
  WsClient c(server_.port(), "/ws/1");
  c.Send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1})");
  ASSERT_EQ(c.Read(), R"({"result":null,"id":1})");
  protocol::Seq seq = 3;
  Level(Side::kBuy, 101, 7, seq++);  // before the snapshot
  MarketData::Depth snap = md_.GetDepth(0, 5000);
  std::map<int64_t, int64_t> bids, asks;
  for (auto& l : snap.bids) bids[l.price] = l.qty;
  for (auto& l : snap.asks) asks[l.price] = l.qty;
  int64_t now = kNowMs;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 5; ++i) {
      int64_t p = 90 + (round * 7 + i * 3) % 30;
      Level(p <= 100 ? Side::kBuy : Side::kSell, p, (round + i) % 4, seq++);
    }
    now += 1000;
    hub_.Flush(now);
  }
  simdjson::dom::parser parser;
  protocol::Seq prev_u = 0;
  bool synced = false;
  for (int round = 0; round < 20; ++round) {
    std::string msg = c.Read();
    ASSERT_FALSE(msg.empty()) << c.error.message();
    simdjson::dom::element d = parser.parse(msg);
    auto U = static_cast<protocol::Seq>(int64_t(d["U"])), u = static_cast<protocol::Seq>(int64_t(d["u"]));
    if (u <= snap.last_update_id) continue;
    if (!synced) {
      ASSERT_LE(U, snap.last_update_id + 1);
      synced = true;
    } else {
      ASSERT_EQ(U, prev_u + 1);
    }
    prev_u = u;
    auto apply = [](simdjson::dom::array a, std::map<int64_t, int64_t>& m) {
      for (simdjson::dom::element l : a) {
        auto amt = [](std::string_view s) {
          return os::ParseDecimal(s, os::kAmountDecimals).units;
        };
        int64_t p = amt(std::string_view(l.at(0))), q = amt(std::string_view(l.at(1)));
        if (q == 0) {
          m.erase(p);
        } else {
          m[p] = q;
        }
      }
    };
    apply(d["b"], bids);
    apply(d["a"], asks);
  }
  EXPECT_TRUE(synced);
  MarketData::Depth book = md_.GetDepth(0, 5000);
  std::map<int64_t, int64_t> want_b, want_a;
  for (auto& l : book.bids) want_b[l.price] = l.qty;
  for (auto& l : book.asks) want_a[l.price] = l.qty;
  EXPECT_EQ(bids, want_b);
  EXPECT_EQ(asks, want_a);
  EXPECT_EQ(prev_u, book.last_update_id);
}

TEST_F(StreamHubTest, PartialDepthEveryIntervalWhenChanged) {
  WsClient c(server_.port(), "/ws/btcusdt@depth5@100ms");
  WsClient c20(server_.port(), "/stream?streams=btcusdt@depth20");
  Level(Side::kBuy, 4'000'000, 50'000, 1);
  Level(Side::kBuy, 3'999'900, 20'000, 2);
  for (int i = 0; i < 6; ++i) Level(Side::kSell, 4'000'100 + 100 * i, 1'000, 3 + i);
  hub_.Flush(kNowMs);
  const std::string asks5 =
      R"([["40001.00000000","0.01000000"],["40002.00000000","0.01000000"],)"
      R"(["40003.00000000","0.01000000"],["40004.00000000","0.01000000"],)"
      R"(["40005.00000000","0.01000000"]])";
  const std::string asks6 = asks5.substr(0, asks5.size() - 1) + R"(,["40006.00000000","0.01000000"]])";
  EXPECT_EQ(c.Read(), R"({"lastUpdateId":8,"bids":[["40000.00000000","0.50000000"],)"
                      R"(["39999.00000000","0.20000000"]],"asks":)" + asks5 + "}");
  EXPECT_EQ(c20.Read(), R"({"stream":"btcusdt@depth20","data":{"lastUpdateId":8,"bids":)"
                        R"([["40000.00000000","0.50000000"],["39999.00000000","0.20000000"]],)"
                        R"("asks":)" + asks6 + "}}");
  hub_.Flush(kNowMs + 100);  // unchanged: nothing
  Level(Side::kBuy, 4'000'000, 0, 9);
  hub_.Flush(kNowMs + 150);  // not due
  hub_.Flush(kNowMs + 200);
  EXPECT_EQ(c.Read(), R"({"lastUpdateId":9,"bids":[["39999.00000000","0.20000000"]],"asks":)" +
                          asks5 + "}");
  hub_.Flush(kNowMs + 1000);
  EXPECT_EQ(c20.Read(), R"({"stream":"btcusdt@depth20","data":{"lastUpdateId":9,"bids":)"
                        R"([["39999.00000000","0.20000000"]],"asks":)" + asks6 + "}}");
}

namespace {
const char kMini[] =
    R"({"e":"24hrMiniTicker","E":1700000000000,"s":"BTCUSDT","c":"40001.00000000",)"
    R"("o":"40000.00000000","h":"40001.00000000","l":"40000.00000000","v":"0.30000000",)"
    R"("q":"12000.20000000"})";
}  // namespace

TEST_F(StreamHubTest, TickersEverySecondWhenChanged) {
  WsClient c(server_.port(),
             "/stream?streams=btcusdt@miniTicker/btcusdt@ticker/!miniTicker@arr");
  WsClient raw(server_.port(), "/ws/!miniTicker@arr");
  hub_.Flush(kNowMs - 2000);  // never traded: nothing
  Trade(4'000'000, 10'000, Side::kSell, kNowMs - 1000, 1, 7);
  Trade(4'000'100, 20'000, Side::kBuy, kNowMs - 500, 2, 8);
  hub_.Flush(kNowMs);
  EXPECT_EQ(c.Read(), std::string(R"({"stream":"btcusdt@miniTicker","data":)") + kMini + "}");
  EXPECT_EQ(c.Read(),
            R"({"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1700000000000,)"
            R"("s":"BTCUSDT","p":"1.00000000","P":"0.002","w":"40000.66666666",)"
            R"("x":"0.00000000","c":"40001.00000000","Q":"0.20000000","b":"0.00000000",)"
            R"("B":"0.00000000","a":"0.00000000","A":"0.00000000","o":"40000.00000000",)"
            R"("h":"40001.00000000","l":"40000.00000000","v":"0.30000000",)"
            R"("q":"12000.20000000","O":1699913600000,"C":1700000000000,"F":1,"L":2,"n":2}})");
  EXPECT_EQ(c.Read(), std::string(R"({"stream":"!miniTicker@arr","data":[)") + kMini + "]}");
  EXPECT_EQ(raw.Read(), std::string("[") + kMini + "]");
  hub_.Flush(kNowMs + 500);   // not due
  hub_.Flush(kNowMs + 1000);  // unchanged
  Level(Side::kBuy, 3'999'900, 10'000, 3);  // only the full ticker changes
  hub_.Flush(kNowMs + 2000);
  std::string m = c.Read();
  EXPECT_EQ(m.substr(0, 83), R"({"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1700000002000,"s":"BTCUSDT")");
  EXPECT_NE(m.find(R"("b":"39999.00000000","B":"0.10000000")"), std::string::npos) << m;
}

TEST_F(StreamHubTest, KlineOnTradesAndAtClose) {
  WsClient c(server_.port(), "/ws/btcusdt@kline_1m");
  Trade(4'000'000, 10'000, Side::kSell, kNowMs - 1000, 1, 7);
  Trade(4'000'100, 20'000, Side::kBuy, kNowMs - 500, 2, 8);
  hub_.Flush(kNowMs);  // just subscribed: the current kline
  EXPECT_EQ(c.Read(),
            R"({"e":"kline","E":1700000000000,"s":"BTCUSDT","k":{"t":1699999980000,)"
            R"("T":1700000039999,"s":"BTCUSDT","i":"1m","f":1,"L":2,"o":"40000.00000000",)"
            R"("c":"40001.00000000","h":"40001.00000000","l":"40000.00000000",)"
            R"("v":"0.30000000","n":2,"x":false,"q":"12000.20000000","V":"0.10000000",)"
            R"("Q":"4000.00000000","B":"0"}})");
  Trade(4'000'200, 10'000, Side::kSell, kNowMs + 100, 3, 9);
  hub_.Flush(kNowMs + 1000);  // within 2 s of the last update
  hub_.Flush(kNowMs + 2000);
  const std::string k3 =
      R"("T":1700000039999,"s":"BTCUSDT","i":"1m","f":1,"L":3,"o":"40000.00000000",)"
      R"("c":"40002.00000000","h":"40002.00000000","l":"40000.00000000",)"
      R"("v":"0.40000000","n":3,)";
  const std::string k3tail = R"("q":"16000.40000000","V":"0.20000000","Q":"8000.20000000","B":"0"}})";
  EXPECT_EQ(c.Read(), R"({"e":"kline","E":1700000002000,"s":"BTCUSDT","k":{"t":1699999980000,)" +
                          k3 + R"("x":false,)" + k3tail);
  hub_.Flush(kNowMs + 39'999);  // still open, no trade: nothing
  // A trade of the next interval before the Flush that sees the close.
  Trade(4'000'300, 10'000, Side::kSell, kNowMs + 40'010, 4, 10);
  hub_.Flush(kNowMs + 40'050);
  EXPECT_EQ(c.Read(), R"({"e":"kline","E":1700000040050,"s":"BTCUSDT","k":{"t":1699999980000,)" +
                          k3 + R"("x":true,)" + k3tail);
  EXPECT_EQ(c.Read(),
            R"({"e":"kline","E":1700000040050,"s":"BTCUSDT","k":{"t":1700000040000,)"
            R"("T":1700000099999,"s":"BTCUSDT","i":"1m","f":4,"L":4,"o":"40003.00000000",)"
            R"("c":"40003.00000000","h":"40003.00000000","l":"40003.00000000",)"
            R"("v":"0.10000000","n":1,"x":false,"q":"4000.30000000","V":"0.10000000",)"
            R"("Q":"4000.30000000","B":"0"}})");
  // That interval closes in turn.
  hub_.Flush(kNowMs + 100'000);
  EXPECT_EQ(c.Read().substr(0, 86),
            R"({"e":"kline","E":1700000100000,"s":"BTCUSDT","k":{"t":1700000040000,"T":1700000099999,)");
}

// A session that stops reading is closed ("slow consumer"); the others keep
// receiving.
TEST(WsSessionTest, SlowConsumerIsClosedOthersContinue) {
  struct Handler : WsHandler {
    void OnMessage(std::string_view) override {}
    void OnClose() override { closed->fetch_add(1); }
    std::atomic<int>* closed;
  };
  std::atomic<int> closed{0};
  std::mutex mu;
  std::map<std::string, std::shared_ptr<WsSession>> sessions;
  HttpServerOptions o;
  o.ws_max_queue = 16;
  o.write_timeout = std::chrono::milliseconds(500);
  o.sweep_interval = std::chrono::milliseconds(20);
  HttpServer server(o);
  server.RouteWebSocket("/ws", [&](const HttpRequest& req, std::shared_ptr<WsSession> s) {
    std::lock_guard<std::mutex> lock(mu);
    sessions[std::string(req.path)] = s;
    auto h = std::make_shared<Handler>();
    h->closed = &closed;
    return h;
  });
  ASSERT_FALSE(server.Start());
  WsClient slow(server.port(), "/ws/slow", /*rcvbuf=*/4096);
  WsClient fast(server.port(), "/ws/fast");
  auto msg = std::make_shared<const std::string>(std::string(16 * 1024, 'x'));
  // Until the slow session is closed: its queue overflows once the socket
  // buffers are full, then the close waits for the stuck write, which the
  // write_timeout sweep ends. Bounded by time, not rounds: on a loaded
  // machine the sweep fires late.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (closed.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::lock_guard<std::mutex> lock(mu);
    sessions["/ws/slow"]->Send(msg);
    sessions["/ws/fast"]->Send(msg);
    ASSERT_EQ(fast.Read().size(), msg->size());
  }
  EXPECT_EQ(closed.load(), 1);
  // The fast one still receives.
  {
    std::lock_guard<std::mutex> lock(mu);
    sessions["/ws/fast"]->Send(std::make_shared<const std::string>("after"));
  }
  EXPECT_EQ(fast.Read(), "after");
  // The slow one finds the close frame with its reason after the data it
  // had not read (or a reset if the write timed out first).
  for (;;) {
    std::string m = slow.Read();
    if (m.empty()) break;
  }
  if (slow.error == websocket::error::closed) {
    EXPECT_EQ(slow.ws().reason().code, websocket::close_code::policy_error);
    EXPECT_EQ(std::string(slow.ws().reason().reason.c_str()), "slow consumer");
  }
  server.Stop();
  sessions.clear();  // before the server (and its io_contexts) go
}

TEST(WsSessionTest, RefusedUpgradeIs404AndServerAnswersPings) {
  HttpServerOptions o;
  HttpServer server(o);
  server.RouteWebSocket("/ws", [](const HttpRequest& req, std::shared_ptr<WsSession>) {
    struct H : WsHandler {
      void OnMessage(std::string_view) override {}
      void OnClose() override {}
    };
    return req.path == "/ws/no" ? nullptr : std::make_shared<H>();
  });
  ASSERT_FALSE(server.Start());
  EXPECT_THROW(WsClient(server.port(), "/ws/no"), boost::system::system_error);
  WsClient c(server.port(), "/ws");
  bool pong = false;
  c.ws().control_callback([&](websocket::frame_type t, boost::beast::string_view) {
    if (t == websocket::frame_type::pong) pong = true;
  });
  c.ws().ping({});
  c.ws().next_layer().non_blocking(false);
  // The pong arrives during a read; close from the server side ends it.
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.Stop();
  });
  c.Read();
  stopper.join();
  EXPECT_TRUE(pong);
}

}  // namespace
}  // namespace xc::gateway
