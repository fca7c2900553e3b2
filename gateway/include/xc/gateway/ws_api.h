#pragma once
// WsApi: Binance's WebSocket API on /ws-api/v3 (BINANCE_COMPAT.md §6), the
// same endpoints as REST over one long-lived connection, for order entry
// without a request per HTTP round trip.
//
// Messages. Request {"id":<int|string|null>,"method":"order.place",
// "params":{...}}; a method may carry a prefix ("v3/order.place"). Answers,
// one text frame each, the id echoed as sent:
//   {"id":..,"status":200,"result":<the REST body>[,"rateLimits":[..]]}
//   {"id":..,"status":4xx|5xx,"error":{"code":..,"msg":..}[,"rateLimits":[..]]}
// The result and error are exactly what the REST endpoint answers (same
// code, message, HTTP status), because the same RestApi / MarketDataApi
// code produces them. Answers of one connection may come out of request
// order: a query answers at once, an order once the engine confirmed it.
// rateLimits (REQUEST_WEIGHT MINUTE 1, and for new orders ORDERS SECOND 10
// and DAY 1, with their counts) is sent unless params.returnRateLimits is
// false, when a RateLimiter is set.
//
// Methods:
//   public    ping {}, time {"serverTime"}, exchangeInfo, depth, trades.recent,
//             trades.aggregate, klines, avgPrice, ticker.24hr, ticker.price,
//             ticker.book (the REST market-data endpoints)
//   signed    order.place, order.test, order.cancel, order.cancelReplace,
//             order.status, openOrders.status, openOrders.cancelAll,
//             allOrders, account.status, myTrades (the REST signed endpoints)
//             session.logon, userDataStream.subscribe.signature
//   session   session.status, session.logout, userDataStream.subscribe,
//             userDataStream.unsubscribe [subscriptionId], session.subscriptions
//   API key   userDataStream.start / .ping / .stop (listenKey), as REST
// Signed requests carry apiKey, timestamp [, recvWindow] and signature in
// params. After session.logon a request may leave out apiKey and signature
// (it acts for the logged-in key; timestamp is still checked); Binance
// allows logon with Ed25519 keys only, this server with its HMAC keys.
// Signature: HMAC-SHA256 over the params other than `signature`, sorted by
// name, as name=value joined by '&'. A value is its JSON text (numbers,
// true/false as sent) or, for a JSON string, its unescaped content. Both the
// raw form (Binance's documented rule, ccxt) and the form with each value
// percent-encoded as JavaScript's encodeURIComponent does (what
// @binance/connector 3.x signs) are accepted: the raw one is tried first.
// Checks, in order: the JSON (-1135), the id (an integer, a string of at
// most 64 characters or null; -1135), the method (-1020 unknown); then
// for signed methods the apiKey (-1102 missing, -2014 malformed, -2015
// unknown), the parameters as REST parses them (-1100/-1101), timestamp
// and recvWindow (-1021/-1131/...), the signature (-1022); then the rate
// limiter (429/418 as REST: -1003/-1015, 503 -1008 from the circuit
// breaker); then the endpoint itself. A session method without logon is
// -1002 (HTTP 401).
//
// User data. userDataStream.subscribe[.signature] answers
// {"subscriptionId":N} (N counts from 0 per connection) and from then on the
// user's events arrive on the connection as {"subscriptionId":N,"event":{..}}
// (UserStreamHub). They stop with unsubscribe or when the connection closes.
//
// Threads. Messages run on the connection's I/O thread; the answers of
// requests that wait for the engine are formatted and queued on the order
// service's thread (WsSession::Send posts them to the I/O thread). The
// per-connection state (logon, subscriptions) belongs to the I/O thread.
// Ownership: borrows everything given to the constructor; it must all
// outlive the HttpServer's Stop().
// Cost per order.place: one JSON parse (simdjson), one sort of the params,
// one HMAC (two if a value needs percent-encoding and the raw form fails;
// the encoded form is built only then), the REST parameter parse, and the
// answer's formatting (rateLimits included, straight into the answer);
// allocations: the answer string and the continuation. Measured below the
// socket by ws-api-bench (bench/README.md).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xc/gateway/http_server.h"
#include "xc/gateway/market_data_api.h"
#include "xc/gateway/rate_limiter.h"
#include "xc/gateway/rest_api.h"
#include "xc/gateway/user_stream.h"
#include "xc/protocol/types.h"
#include "xc/scaling/request_observer.h"

namespace xc::gateway {

class WsApi {
 public:
  static constexpr std::string_view kPath = "/ws-api/v3";

  // `market` (public market-data methods), `limiter` and `users` may be
  // null: then those methods answer -1020, nothing is limited, and
  // subscriptions answer -1020 respectively.
  WsApi(const RestApi& rest, const MarketDataApi* market, RateLimiter* limiter,
        UserStreamHub* users);
  ~WsApi();
  WsApi(const WsApi&) = delete;
  WsApi& operator=(const WsApi&) = delete;

  // Metrics: `observer` (may be null) hears of every answered request with
  // its index in methods() (RequestObserver::kUnmatched for an unknown
  // method or a malformed message), the HTTP-style status and the time from
  // the message's arrival to its answer. REQUIRES: before Register.
  void SetObserver(scaling::RequestObserver* observer) { observer_ = observer; }
  // {"WS", method name} of every method, in index order (for HttpMetrics).
  static std::vector<std::pair<std::string, std::string>> methods();

  // Registers Acceptor() as the WebSocket route kPath on `server`.
  // REQUIRES: the server is not started.
  void Register(HttpServer& server);
  // What Register routes: for an upgrade to exactly kPath, a new session
  // that answers on `session` (the query's returnRateLimits=false turns
  // rateLimits off for the connection); nullptr (HTTP 404) for any other
  // path. The session's messages must then come from one thread at a time.
  // Also how ws-api-bench drives the API without sockets.
  WsAcceptor Acceptor();

  // Open WebSocket API connections (relaxed; metrics).
  size_t sessions() const { return sessions_.load(std::memory_order_relaxed); }

  class Session;  // ws_api.cc

 private:
  friend class Session;
  const RestApi& rest_;
  const MarketDataApi* market_;
  RateLimiter* limiter_;
  UserStreamHub* users_;
  scaling::RequestObserver* observer_ = nullptr;
  std::atomic<size_t> sessions_{0};
};

}  // namespace xc::gateway
