#pragma once
// RateLimiter: Binance-style request limits for the gateway (BINANCE_COMPAT.md
// §7.1) plus the operators' per-second limits and circuit breaker
// (ops/PLAYBOOKS.md: RATE_LIMIT_ORDERS_PER_SEC, RATE_LIMIT_READS_PER_SEC,
// CIRCUIT_BREAKER_ENABLED).
//
// What is counted, each in a fixed window aligned to the wall clock (the
// window of a minute starts at a whole minute, like Binance's):
//   per IP    request weight per minute          REQUEST_WEIGHT MINUTE 1
//             non-order requests per second      RAW_REQUESTS SECOND 1 (reads_per_sec)
//   per key   request weight per minute          (same limit as the IP's)
//             new orders per second              ORDERS SECOND 1  (orders_per_sec)
//             new orders per 10 seconds          ORDERS SECOND 10 (orders_per_10s)
//             new orders per day                 ORDERS DAY 1     (orders_per_day)
//   global    new orders per second, only while the circuit breaker is on
// A limit of 0 is "no limit". "New orders" are POST /order and
// /order/cancelReplace; cancels and order/test are not orders (they count
// as requests). The weight of each endpoint is Binance's (EndpointWeight).
// Only admitted requests add to the counters, so a client that backs off
// gets its full budget back when the window turns.
//
// Answers over a limit (the handler is not called):
//   weight or raw requests  429 -1003 "Too much request weight used; current
//                           limit is N request weight per 1 MINUTE. ..."
//   orders (1s, 10s, day)   429 -1015 "Too many new orders; current limit is
//                           N orders per 10 SECOND."
//   circuit breaker         503 -1008 "Server is currently overloaded with
//                           other requests. Please try again in a few minutes."
//   banned IP               418 -1003 "Way too much request weight used; IP
//                           banned until <ms>. ..."
// 429 and 418 carry Retry-After: the seconds until the window (or the ban)
// ends, at least 1; 503 carries Retry-After: 1.
// Ban escalation (Binance: "repeatedly violating rate limits and/or failing
// to back off after receiving 429s will result in an automated IP ban"):
// an IP that gets `ban_after_violations` 429s in a row, without an admitted
// request in between, is banned for 2 minutes; every further ban of the same
// IP doubles the duration, up to 3 days. While banned every request of the
// IP is answered 418.
// Headers: X-MBX-USED-WEIGHT-1M (the IP's weight this minute, after the
// request) on every routed response; X-MBX-ORDER-COUNT-10S and
// X-MBX-ORDER-COUNT-1D (the key's counts) on new-order responses.
//
// Thread safety: every method may be called from any thread. Limits are
// atomics (SetLimits takes effect on the next request, connections stay
// open). Counters live in two small tables (IPs, keys), each split into 16
// shards with one mutex each, held for a hash lookup and a few integer
// updates; the global breaker counter is two atomics.
// Memory: at most `max_entries` IPs and as many keys. A shard that is full
// first drops entries idle for over a minute (unless banned), then its least
// recently seen entry; a dropped key loses its day count (bounded memory is
// preferred to an exact day count for keys that went quiet).
// Cost: one lookup per table touched and no allocation except when an IP or
// key is seen for the first time (its table entry); a rejection formats its
// message (one small allocation).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "xc/gateway/http_server.h"
#include "xc/gateway/rest_api.h"

namespace xc::gateway {

// The limits in force. 0 disables a limit.
struct RateLimits {
  uint32_t request_weight_per_min = 6000;
  uint32_t orders_per_10s = 100;
  uint32_t orders_per_day = 200000;
  uint32_t orders_per_sec = 100;   // RATE_LIMIT_ORDERS_PER_SEC, per key
  uint32_t reads_per_sec = 1000;   // RATE_LIMIT_READS_PER_SEC, per IP
  bool circuit_breaker_enabled = false;
  uint32_t circuit_breaker_orders_per_sec = 0;  // global; 0 refuses every new order
  uint32_t ban_after_violations = 20;           // 429s in a row before a 418 ban
  friend bool operator==(const RateLimits&, const RateLimits&) = default;
};

// How a request is counted.
enum class RequestKind : uint8_t {
  kRead,      // anything that is not a new order (cancels included)
  kNewOrder,  // POST /api/v3/order, POST /api/v3/order/cancelReplace
};

// Binance's weight of `method` `path` with raw query `query` (the parameters
// that change it: depth limit, symbol/symbols of tickers and openOrders,
// orderId of myTrades, computeCommissionRates of order/test), and whether it
// is a new order. Unknown paths weigh 1. Pure; no allocation.
struct EndpointCost {
  uint32_t weight = 1;
  RequestKind kind = RequestKind::kRead;
};
EndpointCost EndpointWeight(std::string_view method, std::string_view path,
                            std::string_view query, std::string_view body = {});

// The outcome of one Admit.
struct Admission {
  enum class Verdict : uint8_t {
    kOk,
    kTooMuchWeight,   // -1003 429
    kTooManyOrders,   // -1015 429
    kOverloaded,      // -1008 503 (circuit breaker)
    kBanned,          // -1003 418
  };
  Verdict verdict = Verdict::kOk;
  uint32_t used_weight_1m = 0;  // the IP's, after this request if admitted
  bool new_order = false;
  uint32_t order_count_10s = 0;  // the key's (new orders only)
  uint32_t order_count_1d = 0;
  int64_t retry_after_s = 0;     // rejections
  // For the message: the limit hit and its interval ("1 MINUTE", "10 SECOND").
  uint32_t limit = 0;
  std::string_view interval;
  int64_t banned_until_ms = 0;   // kBanned
};

class RateLimiter {
 public:
  struct Options {
    size_t max_entries = 100000;  // per table (IPs, keys)
  };
  RateLimiter(const RateLimits& limits, const WallClock& clock);
  RateLimiter(const RateLimits& limits, const WallClock& clock, Options options);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Replaces the limits; counters are kept (a lowered limit applies to what
  // was already counted in the current windows). Any thread.
  void SetLimits(const RateLimits& limits);
  RateLimits limits() const;

  // Counts one request of `ip` (and `api_key`, "" for none) costing `cost`
  // at `now` (ns since the epoch) and says whether it may proceed. Checks in
  // order: ban, IP weight, IP raw requests (reads), key weight, then for new
  // orders: key orders per second, per 10 s, per day, and last the circuit
  // breaker (so that its global count only holds orders that passed the
  // rest). A rejection counts nothing; a 429 adds a violation to the IP (a
  // 503 does not: the client did nothing wrong); an admitted request clears
  // the IP's violations. Concurrent requests of one IP or key may overshoot
  // a limit by at most the number of I/O threads (the IP and the key are
  // checked under separate locks).
  Admission Admit(std::string_view ip, std::string_view api_key, EndpointCost cost,
                  int64_t now_ns);

  // The HttpServer interceptor: weighs the request (EndpointWeight), admits
  // it at the clock's time, adds the X-MBX headers, and on rejection writes
  // the error and Retry-After and returns false.
  bool Intercept(const HttpRequest& req, HttpResponse& resp);
  // The error answer of a rejected admission (its code, message and HTTP
  // status, as listed in the file comment). REQUIRES: a.verdict != kOk.
  static order_service::ApiError RejectionError(const Admission& a);
  // Installs Intercept on `server`. REQUIRES: server not started; this
  // limiter outlives the server's handlers.
  void Install(HttpServer& server);

  // Appends the JSON array of exchangeInfo.rateLimits for the limits in
  // force, in Binance's shape, e.g.
  // [{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},...]
  // (RAW_REQUESTS SECOND 1, ORDERS SECOND 1 / SECOND 10 / DAY 1 follow;
  // limits that are 0 are left out).
  void AppendRateLimitsJson(std::string* out) const;

  // The limits as the admin API shows them:
  // {"requestWeightPerMin":..,"ordersPer10s":..,"ordersPerDay":..,"ordersPerSec":..,
  //  "readsPerSec":..,"circuitBreakerEnabled":..,"circuitBreakerOrdersPerSec":..,
  //  "banAfterViolations":..}
  static void AppendLimitsJson(const RateLimits& l, std::string* out);

  // Number of IPs / keys tracked (tests, metrics).
  size_t ip_entries() const;
  size_t key_entries() const;

  // Rejections since construction, by answer (ops/PLAYBOOKS.md: "429/418
  // counters per limit"), for a metrics scrape. Relaxed counters; any thread.
  struct Counters {
    uint64_t too_much_weight = 0;  // 429 -1003 (weight per minute or reads per second)
    uint64_t too_many_orders = 0;  // 429 -1015
    uint64_t banned = 0;           // 418 answers
    uint64_t bans = 0;             // bans started
    uint64_t overloaded = 0;       // 503 -1008 from the circuit breaker
  };
  Counters counters() const;

  class Table;  // rate_limiter.cc

 private:
  // Adds `a`'s rejection, if any, to the counters; returns `a`.
  const Admission& Count(const Admission& a);

  std::atomic<uint32_t> weight_per_min_, orders_per_10s_, orders_per_day_, orders_per_sec_,
      reads_per_sec_, cb_orders_per_sec_, ban_after_;
  std::atomic<bool> cb_enabled_;
  // Global new-order window of the circuit breaker (second since epoch, count).
  std::atomic<int64_t> cb_second_{0};
  std::atomic<uint32_t> cb_count_{0};
  std::atomic<uint64_t> n_weight_{0}, n_orders_{0}, n_banned_{0}, n_bans_{0}, n_overloaded_{0};
  const WallClock& clock_;
  std::unique_ptr<Table> ips_, keys_;
};

}  // namespace xc::gateway
