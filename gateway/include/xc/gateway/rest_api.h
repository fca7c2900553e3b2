#pragma once
// RestApi: the Binance REST endpoints of the gateway, plugged into an
// HttpServer (BINANCE_COMPAT.md §1.1), limited to what the order service
// really provides.
//
// Public:
//   GET /api/v3/ping          {}
//   GET /api/v3/time          {"serverTime":<ms>}
//   GET /api/v3/exchangeInfo  [?symbol=S | ?symbols=["A","B"]]
// SIGNED (X-MBX-APIKEY + timestamp [+ recvWindow] + signature, §2.1):
//   POST   /api/v3/order        newOrderRespType ACK / RESULT / FULL
//   DELETE /api/v3/order        orderId or origClientOrderId [newClientOrderId]
//   GET    /api/v3/order        orderId or origClientOrderId
//   GET    /api/v3/openOrders   [symbol]
//   DELETE /api/v3/openOrders   symbol
//   GET    /api/v3/allOrders    symbol [orderId] [startTime] [endTime] [limit]
//   GET    /api/v3/account      [omitZeroBalances]
//   GET    /api/v3/myTrades     symbol [orderId] [startTime] [endTime] [fromId] [limit]
//   POST   /api/v3/order/test   the order parameters [computeCommissionRates]
//   POST   /api/v3/order/cancelReplace  symbol cancelReplaceMode
//          cancelOrderId|cancelOrigClientOrderId [cancelNewClientOrderId]
//          + the order parameters
// API key only (X-MBX-APIKEY, no timestamp or signature; steps 1-3 below):
//   POST   /api/v3/userDataStream   {"listenKey":"<60 alphanumerics>"}
//   PUT    /api/v3/userDataStream   listenKey   {}
//   DELETE /api/v3/userDataStream   listenKey   {}
// The public market-data endpoints are MarketDataApi's (market_data_api.h).
//
// order/test runs every check of POST /order (OrderServiceApi::TestOrder)
// and places nothing: {} when the order would be admitted now, else the
// error POST /order would answer. With computeCommissionRates=true it
// answers Binance's {"standardCommissionForOrder":{"maker","taker"},
// "taxCommissionForOrder":{..},"discount":{..}} with the symbol's
// configured fee rates, zero tax, and no discount (enabledForAccount and
// enabledForSymbol false, discountAsset "").
//
// cancelReplace, as Binance: the cancel first, then the new order (which may
// use the funds the cancel released; the threaded order service does these
// two steps, OrderServiceApi::CancelReplace). Answers:
//   both done                 200 {"cancelResult":"SUCCESS","newOrderResult":"SUCCESS",
//                             "cancelResponse":<DELETE /order shape>,
//                             "newOrderResponse":<POST /order shape, newOrderRespType>}
//   a malformed request (-11xx, -2015, ...): the plain error, as Binance.
//   Otherwise {"code":-2022|-2021,"msg":..,"data":{"cancelResult",
//   "newOrderResult","cancelResponse","newOrderResponse"}} where a failed
//   half shows its {"code","msg"} and a half not attempted shows null:
//   cancel refused (-2011), STOP_ON_FAILURE   -2022 FAILURE / NOT_ATTEMPTED
//   cancel refused, ALLOW_FAILURE             the new order is placed alone:
//     -2021 (HTTP 409) FAILURE / SUCCESS, or -2022 FAILURE / FAILURE
//   cancelled, then the new order refused     -2021 (HTTP 409) SUCCESS / FAILURE
//   With an order service that checks the new order before cancelling (the
//   invoker-mode LocalOrderService) a refused new order cancels nothing:
//   STOP_ON_FAILURE -2022 NOT_ATTEMPTED / FAILURE; ALLOW_FAILURE cancels the
//   old order alone, -2021 SUCCESS / FAILURE.
//   Errors -2011/-2013 belong to the cancel, -1013/-2010 to the new order.
//   A bad cancelReplaceMode is -1130; neither cancel id is -1102.
//
// userDataStream (ListenKeys, listen_keys.h): a key is valid 60 minutes;
// POST returns the user's active key (extended) or a new one; PUT extends
// and DELETE closes a key of the calling API key's user; any other key is
// -1125 "This listenKey does not exist."; a missing listenKey -1102.
// UserOfListenKey() resolves a key for the WebSocket user stream.
//
// exchangeInfo is rendered in Binance's JSON shape and string formatting:
// filter amounts as 8-decimal strings ("0.01000000", every amount of the
// order service is in 1e-8 units), multipliers as configured ("5", "0.2").
// What is reported, and why:
//   status TRADING (a configured symbol trades); precisions 8 (the 1e-8 unit);
//   orderTypes: every OrderType the order service accepts, LIMIT_MAKER
//   included (ccxt validates orders against it); icebergAllowed true,
//   ocoAllowed/otoAllowed false, quoteOrderQtyMarketAllowed true,
//   cancelReplaceAllowed true; permissions [] and permissionSets [["SPOT"]]
//   (Binance's current shape); self-trade prevention modes of protocol::StpMode;
//   filters PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL or MIN_NOTIONAL,
//   PERCENT_PRICE_BY_SIDE with avgPriceMins 0 (the order service checks
//   against the last trade price, which is what Binance's 0 means). No
//   ICEBERG_PARTS filter: the order service has no configured part limit.
//   rateLimits: the limits in force of the RateLimiter given to
//   SetRateLimiter (rate_limiter.h; read at each request, so a reload shows
//   at once), [] without one (advertising limits that are not enforced
//   would be false); exchangeFilters [].
// Parameters: `symbol` (^[A-Z0-9-_.]{1,20}$) or `symbols` (a JSON array of
// such names, as @binance/connector encodes it). Errors: -1121 "Invalid
// symbol." for a name that is not configured; -1100 for a malformed name or
// list; -1105 for an empty value; -1128 when both are sent; -1151 for a
// repeated name in `symbols`; RequestParams' -1100/-1101 for a bad query.
//
// Signed requests, in this order (request_auth.h):
//   1. X-MBX-APIKEY well-formed, else -2014 (HTTP 401);
//   2. the key is known, else -2015 (HTTP 401). The key's prepared HMAC
//      key is built once, on its first use, and cached for the life of the
//      RestApi (the order service cannot revoke a key yet; TODO(gateway):
//      invalidate the cache when it can);
//   3. parameters from the query and, unless Content-Type is JSON, the
//      form body (query wins), -1100/-1101;
//   4. timestamp/recvWindow against the injected clock (-1102/-1100/-1131/
//      -1021), then the signature over raw query + raw body (-1022);
//   5. the endpoint's own parameters (-1102 missing, -1100 malformed, -1121
//      unknown symbol, -1116/-1117/-1115 bad enum, -1130 bad value), then
//      the order service's answer, whose errors are rendered unchanged.
// Errors are {"code":..,"msg":..} with the catalogue's HTTP status; success
// bodies never contain code or msg. Amounts are 8-decimal strings
// ("0.00100000"), times milliseconds. Orders show what the order service
// returns: with an asynchronous engine link a fresh order is NEW with no
// fills yet, and a cancelled one stays NEW/PARTIALLY_FILLED until the engine
// confirms (OrderServiceApi); with a synchronous one they show the outcome.
//
// Thread safety: exchangeInfo/ping/time read immutable state; the listen
// keys have their own mutex. The signed
// handlers call the order service, which decides what concurrency it allows
// (LocalOrderService: none, so run the server with one I/O thread); the key
// cache is guarded by a mutex. Request parameters are parsed into one
// RequestParams per I/O thread.
// Ownership: borrows the order service and the clock, which must outlive
// the server's handlers.
// Cost: ping/time format a few bytes; exchangeInfo copies the pre-rendered
// symbol objects into the connection's reused body buffer; signed requests
// add one HMAC over the payload and one cache lookup, and render straight
// into the connection's reused body buffer (what still allocates is the
// order service's result values).

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "xc/gateway/hmac.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/listen_keys.h"
#include "xc/order_service/order_service_api.h"
#include "xc/protocol/types.h"

namespace xc::gateway {

class RateLimiter;
class RequestParams;

// The server's wall clock: nanoseconds since the Unix epoch (time is an
// input, STYLE.md §11). Implementations must be callable from any thread.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual protocol::Timestamp NowNanos() const = 0;
};

// std::chrono::system_clock.
class SystemWallClock final : public WallClock {
 public:
  protocol::Timestamp NowNanos() const override;
};

class RestApi {
 public:
  // Reads and renders the order service's symbol configs. REQUIRES: each
  // config is one the order service accepted (its decimals parse).
  RestApi(order_service::OrderServiceApi& orders, const WallClock& clock);
  ~RestApi();
  RestApi(const RestApi&) = delete;
  RestApi& operator=(const RestApi&) = delete;

  // Registers every endpoint on `server`. REQUIRES: server not started.
  void Register(HttpServer& server) const;

  // exchangeInfo.rateLimits shows `limiter`'s limits (nullptr: []). The
  // limiter itself is installed on the server by its owner
  // (RateLimiter::Install). REQUIRES: before the server starts; `limiter`
  // outlives the handlers.
  void SetRateLimiter(const RateLimiter* limiter) { limiter_ = limiter; }

  // The public handlers (the WebSocket API calls them too, with the
  // parameters of its request as the query).
  void Ping(const HttpRequest& req, HttpResponse& resp) const;
  void Time(const HttpRequest& req, HttpResponse& resp) const;
  void ExchangeInfo(const HttpRequest& req, HttpResponse& resp) const;
  void CreateListenKey(const HttpRequest& req, HttpResponse& resp) const;
  void ExtendListenKey(const HttpRequest& req, HttpResponse& resp) const;
  void CloseListenKey(const HttpRequest& req, HttpResponse& resp) const;

  // ---- Signed endpoints, shared by REST and the WebSocket API ----
  // The caller of a signed request, once authenticated: the key's user and
  // its prepared HMAC key.
  struct KeyEntry {
    protocol::UserId user;
    HmacSha256Key key;
  };
  // The answer of one request: the HTTP status and the JSON body (the
  // success value, or {"code","msg"} for an error). Called exactly once,
  // possibly after the endpoint returned and on an order-service thread
  // (the requests that wait for the engine use the *Async order-service
  // calls), so it must not block; the body view is valid during the call.
  using Reply = std::function<void(int status, std::string_view body)>;
  // One signed endpoint: step 5 of the file comment (its own parameters,
  // then the order service) for an authenticated `key` and its parameters
  // `p` (read before the endpoint returns; not kept).
  using SignedEndpoint = void (RestApi::*)(const KeyEntry& key, const RequestParams& p,
                                           Reply reply) const;
  void NewOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void CancelOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void QueryOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void OpenOrders(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void CancelOpenOrders(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void AllOrders(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void Account(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void MyTrades(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void TestOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const;
  void CancelReplace(const KeyEntry& key, const RequestParams& p, Reply reply) const;

  // The cached entry of `api_key`, built from the order service on first
  // use; nullptr for an unknown key. Entries live as long as the RestApi.
  // Any thread.
  const KeyEntry* FindKey(std::string_view api_key) const;
  const WallClock& clock() const { return clock_; }
  // Called after DELETE userDataStream closed a key (on the I/O thread) or
  // ExpireListenKeys dropped it (on its caller's), so its open streams can
  // be told and ended. REQUIRES: set before any request could close a key
  // (before the server starts).
  void SetListenKeyClosedHook(std::function<void(std::string_view key, protocol::Timestamp now)> f) {
    listen_key_closed_ = std::move(f);
  }

  // The user of an active listenKey at `now` (ns since the epoch, from the
  // WallClock); nullopt for an unknown, closed or expired key. Any thread.
  std::optional<protocol::UserId> UserOfListenKey(std::string_view listen_key,
                                                  protocol::Timestamp now) const;
  // Drops the listen keys expired at `now` (the clock's) and calls the
  // closed-key hook for each, so their streams end with listenKeyExpired.
  // Call periodically (the exchange: every second). Any thread.
  void ExpireListenKeys() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Steps 1-4 of a signed request (see the file comment) into the calling
  // thread's RequestParams. The user's key entry, or nullptr after writing
  // the error into `resp`.
  const KeyEntry* Authenticate(const HttpRequest& req, HttpResponse& resp) const;
  // A signed REST request: Authenticate, then `endpoint`. A Reply given
  // during the call is the response; a later one (an order waiting for its
  // journal sync) completes the deferred response (HttpResponse::Defer), so
  // the I/O thread never waits. The order service answers within its
  // timeout (-1007).
  void ServeSigned(SignedEndpoint endpoint, const HttpRequest& req, HttpResponse& resp) const;
  // Steps 1-3 only (API-key endpoints).
  const KeyEntry* AuthenticateKeyOnly(const HttpRequest& req, HttpResponse& resp) const;
  // The mandatory `symbol` parameter into *out: -1102 absent or empty,
  // -1100 malformed, -1121 not configured.
  std::optional<order_service::ApiError> SymbolParam(const RequestParams& p,
                                                     std::string_view* out) const;
  struct Symbol {
    std::string name;
    std::string json;  // the complete {"symbol":...} object
    int64_t maker_fee = 0;  // rates in 1e-8 units
    int64_t taker_fee = 0;
  };
  // Index into symbols_ of `name`, or -1.
  int Find(std::string_view name) const;

  order_service::OrderServiceApi& orders_;
  const WallClock& clock_;
  std::vector<Symbol> symbols_;  // config order
  mutable std::mutex keys_mu_;
  // Entries are never removed, so a returned pointer stays valid.
  mutable std::unordered_map<std::string, std::unique_ptr<const KeyEntry>, StringHash,
                             std::equal_to<>>
      keys_;  // guarded by keys_mu_
  mutable ListenKeys listen_keys_;  // thread-safe itself
  const RateLimiter* limiter_ = nullptr;
  std::function<void(std::string_view, protocol::Timestamp)> listen_key_closed_;
};

}  // namespace xc::gateway
