#pragma once
// StreamHub: Binance's market-data WebSocket streams (BINANCE_COMPAT.md
// §1.2, §4) over an HttpServer's WebSocket sessions, fed with engine events.
//
// Endpoints (registered by Register):
//   /ws, /ws/<s1>/<s2>...       raw payloads; path segments that are stream
//                               names are subscribed, others ("/ws/0", as
//                               ccxt connects) are ignored
//   /stream?streams=<s1>/<s2>   combined: {"stream":"<name>","data":{...}}
//   /ws/<listenKey>             with SetListenKeyAcceptor: a path of exactly
//                               one segment of 60 ASCII letters and digits
//                               (a listenKey; no stream name looks so) is
//                               not a market-data session: the acceptor
//                               makes it (the legacy user data stream,
//                               user_stream.h) or refuses it (HTTP 404,
//                               e.g. an unknown or expired key)
// Streams (lowercase symbol, as Binance):
//   <sym>@trade        {"e":"trade","E","s","t","p","q","T","m","M":true}
//   <sym>@aggTrade     {"e":"aggTrade","E","s","a","p","q","f","l","T","m","M":true},
//                      sent when the aggregate is complete (at the end of
//                      its command when another aggregate followed it in
//                      the command, else at the next command or Flush)
//   <sym>@depth, <sym>@depth@1000ms, <sym>@depth@100ms
//                      {"e":"depthUpdate","E","s","U","u","b":[["p","q"]],"a":[...]}
//                      every level changed in the interval, with its final
//                      quantity ("0.00000000": gone)
//   <sym>@bookTicker   {"u","s","b","B","a","A"} (no "e", as Binance): the
//                      top after each command that changed it, u = its seq
//   <sym>@depth5, @depth10, @depth20 (+ "@100ms")
//                      {"lastUpdateId","bids":[["p","q"]],"asks":[...]}: the
//                      best N levels every 1000 ms (100 ms), when the book's
//                      lastUpdateId changed or somebody subscribed since the
//                      last send
//   <sym>@miniTicker   {"e":"24hrMiniTicker","E","s","c","o","h","l","v","q"}
//   !miniTicker@arr    [mini tickers of the symbols whose ticker changed]
//   <sym>@ticker       {"e":"24hrTicker","E","s","p","P","w","x","c","Q","b","B",
//                      "a","A","o","h","l","v","q","O","C","F","L","n"}
//                      tickers: MarketData::Get24hTicker at E, every
//                      ticker_ms when changed (or newly subscribed); never
//                      for a symbol that has not traded
//   <sym>@kline_<iv>   {"e":"kline","E","s","k":{"t","T","s","i","f","L","o",
//                      "c","h","l","v","n","x","q","V","Q","B":"0"}} for
//                      Binance's intervals (1s ... 1M): the current kline
//                      (x false) after trades, at most every 1000 ms (1s) or
//                      2000 ms (others), and on subscribing; the closed one
//                      (x true) at the first Flush after its interval ended,
//                      if it traded or was sent. f, L: -1 without trades
// Control messages (one reply each, the id echoed as sent):
//   {"method":"SUBSCRIBE","params":[...],"id":N}    {"result":null,"id":N}
//     (a repeated SUBSCRIBE is acknowledged again: ccxt resubscribes so)
//   {"method":"UNSUBSCRIBE","params":[...],"id":N}  {"result":null,"id":N}
//   {"method":"LIST_SUBSCRIPTIONS","id":N}          {"result":[names],"id":N}
//   errors: {"error":{"code":C,"msg":"..."},"id":N|null}: code 3 invalid
//   JSON; code 2 anything else malformed (not an object, bad id, missing or
//   unknown method, params not an array of known stream names, more than
//   max_streams streams).
//
// Depth sequence. Per symbol and speed, U/u continue the REST depth's
// lastUpdateId (the engine seq of the last level change, MarketData): an
// event covers every change since the previous event, U = previous u + 1
// and u = the seq of its last change, so every subscriber sees U == previous
// u + 1, and a snapshot taken after the SUBSCRIBE ack always has
// U <= lastUpdateId + 1 <= u for some event (Binance's sync recipe, §4.2).
// Changes are collected even without subscribers, so a subscriber that
// joins mid-interval still gets all of them.
//
// Threads. OnEvents runs on the one thread that feeds MarketData (the pump),
// right after MarketData::OnEvents, so the trade ids and book it reads are
// current. Flush runs on the hub's flusher thread (Options::flush_thread) or
// on the test's. Control messages run on the sessions' I/O threads. One
// mutex guards the subscriptions and the pending depth; OnEvents holds it
// for one command's group and never blocks on a client: each payload is
// formatted once (and once more wrapped, if a combined session wants it)
// and the shared buffer is posted to every subscribed session, whose
// bounded queue (HttpServerOptions::ws_max_queue) closes a slow consumer.
// Ownership: borrows the MarketData and the clock; must outlive the
// HttpServer it is registered with having stopped (sessions call back into
// it until the server's Stop() returns).
// Cost: per event O(subscribers of its streams) posts, plus per command a
// MarketData query for trades and book tickers when somebody listens to them. Per
// Flush and symbol with subscribers: one GetDepth(20) per partial-depth
// speed due, one Get24hTicker per second (every symbol while
// !miniTicker@arr has subscribers), one Klines query per subscribed
// interval with a trade or a close to send.
//
// Timed streams (partial depth, tickers, klines) are produced in Flush,
// which queries MarketData only for streams that have subscribers; the
// pump thread's OnEvents only counts the trade for them.
//
// Not yet: <sym>@ticker_<window>, !ticker@arr, @avgPrice, SET_PROPERTY and
// GET_PROPERTY (answered with code 2). Flush releases the hub's mutex
// around its MarketData queries, so OnEvents waits only for formatting.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "xc/gateway/http_server.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/rest_api.h"
#include "xc/protocol/event.h"

namespace xc::gateway {

class StreamHub {
 public:
  struct Options {
    int64_t depth_fast_ms = 100;   // @depth@100ms
    int64_t depth_slow_ms = 1000;  // @depth, @depth@1000ms
    int64_t ticker_ms = 1000;      // @miniTicker, @ticker, !miniTicker@arr
    // Run a thread that calls Flush(clock now) every depth_fast_ms. Off:
    // the owner calls Flush (tests, for exact timing).
    bool flush_thread = true;
    size_t max_streams = 1024;  // per session (Binance's limit)
  };

  StreamHub(const MarketData& market, const WallClock& clock);
  StreamHub(const MarketData& market, const WallClock& clock, Options options);
  // Stops the flusher thread. REQUIRES: the server it serves has stopped.
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Routes /ws and /stream upgrades of `server` here. REQUIRES: not started.
  void Register(HttpServer& server);

  // The legacy user data stream: makes the handler of a /ws/<listenKey>
  // upgrade (see the file comment), or returns nullptr to refuse it (HTTP
  // 404). Called on the I/O thread. REQUIRES: the server is not started.
  using ListenKeyAcceptor = std::function<std::shared_ptr<WsHandler>(
      std::string_view listen_key, std::shared_ptr<WsSession> session)>;
  void SetListenKeyAcceptor(ListenKeyAcceptor acceptor) {
    listen_key_acceptor_ = std::move(acceptor);
  }

  // One engine command's events (its group: one seq, one symbol, in the
  // engine's order), right after MarketData::OnEvents applied the same span.
  // The feeding thread. The hub's mutex is held for the whole group, so a
  // Flush sees all of a command's level changes or none: a diff event that
  // ends at u = S carries every change of command S. Per group: the level
  // changes join the pending depth; one @bookTicker update for the final
  // top of book (u = the seq), if it changed; one @trade per trade with the
  // ids MarketData gave them; the aggregate trades the group completed are
  // sent, its last one waits for the next command (or Flush). A span may
  // also hold several commands, provided each symbol's events are
  // contiguous in it (MarketData is read once per symbol, after the span).
  // Cost: O(events) plus, when somebody listens, one RecentTrades /
  // AggTrades / GetBookTicker query per group.
  void OnEvents(std::span<const protocol::Event> group);
  // OnEvents of one event. Feeding a command one event at a time lets a
  // Flush split it (the change after the split reaches subscribers only
  // with the symbol's next command); the exchange's pump uses OnEvents.
  void OnEvent(const protocol::Event& e) { OnEvents({&e, 1}); }

  // Sends the depth events due at `now_ms` (each speed at most once per
  // its interval), the pending aggregate trades, and the timed streams due. Any one thread at a time.
  void Flush(int64_t now_ms);

  // Open sessions (any thread; for tests and metrics).
  size_t num_sessions() const;

 private:
  class Session;
  struct SymbolStreams;
  struct Impl;

  std::shared_ptr<WsHandler> Accept(const HttpRequest& req, std::shared_ptr<WsSession> ws);
  void HandleMessage(Session* s, std::string_view text);
  void Remove(Session* s);

  std::unique_ptr<Impl> impl_;
  const Options options_;
  ListenKeyAcceptor listen_key_acceptor_;  // set before the server starts
  std::thread flusher_;
};

}  // namespace xc::gateway
