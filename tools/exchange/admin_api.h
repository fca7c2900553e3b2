#pragma once
// AdminApi: the operator endpoints of the one-process exchange, on their own
// HttpServer (bound to 127.0.0.1 by default; no authentication: whoever
// reaches the port is an operator). JSON bodies, parsed with simdjson;
// amounts are exact decimal strings; errors are Binance-style
// {"code":..,"msg":..}.
//
//   POST /admin/v1/users
//     -> 200 {"userId":1,"apiKey":"<64 hex>","secretKey":"<64 hex>"}
//   POST /admin/v1/balances  {"userId":1,"asset":"USDT","amount":"1000.5"}
//     a negative amount ("-3") withdraws from the free balance.
//     -> 200 {"userId":1,"asset":"USDT","free":"1000.50000000","locked":"0.00000000"}
//   Errors (HTTP 400): -1013 body is not a JSON object; -1102 a field is
//   missing; -1100 userId not a positive integer, asset not a string, amount
//   not a decimal string; -1111 amount has more than 8 decimals; -1108 it
//   overflows; -1130 unknown userId or asset, or amount zero; -2010 a
//   withdrawal larger than the free balance.
//   GET  /admin/v1/limits
//   POST /admin/v1/limits  {"ordersPerSec":50,"circuitBreakerEnabled":true,...}
//     Changes the client API's rate limits at once (no connection is
//     dropped; gateway::RateLimiter::SetLimits). Any subset of the keys
//     requestWeightPerMin, ordersPer10s, ordersPerDay, ordersPerSec,
//     readsPerSec, circuitBreakerOrdersPerSec, banAfterViolations (integers
//     in [0, 2^32), 0 = no limit) and circuitBreakerEnabled (boolean); keys
//     not sent keep their value. A SIGHUP reload sets every limit from the
//     config file again.
//     -> 200 the limits in force, e.g. {"requestWeightPerMin":6000,
//        "ordersPer10s":100,"ordersPerDay":200000,"ordersPerSec":50,
//        "readsPerSec":1000,"circuitBreakerEnabled":true,
//        "circuitBreakerOrdersPerSec":5000,"banAfterViolations":20}
//     Errors (HTTP 400, nothing changes): -1013 body is not a JSON object;
//     -1100 a value of the wrong type or range; -1104 an unknown key.
//
// Thread safety: handlers may run on any I/O thread; Core serializes; the
// rate limiter is thread-safe.

#include "config.h"
#include "core.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/rate_limiter.h"

namespace xc::exchange {

class AdminApi {
 public:
  explicit AdminApi(Core* core) : core_(core) {}
  // REQUIRES: server not started.
  void Register(gateway::HttpServer& server);

  void CreateUser(const gateway::HttpRequest& req, gateway::HttpResponse& resp);
  void Balance(const gateway::HttpRequest& req, gateway::HttpResponse& resp);
  void GetLimits(const gateway::HttpRequest& req, gateway::HttpResponse& resp);
  void SetLimits(const gateway::HttpRequest& req, gateway::HttpResponse& resp);

  // The limiter the /admin/v1/limits endpoints act on (without one they
  // answer 404). REQUIRES: before the server starts; outlives the handlers.
  void SetRateLimiter(gateway::RateLimiter* limiter) { limiter_ = limiter; }

 private:
  Core* core_;
  gateway::RateLimiter* limiter_ = nullptr;
};

// The rate limits of a parsed config (its rate_limit_* and circuit_breaker_*
// keys).
gateway::RateLimits RateLimitsOf(const ExchangeConfig& config);

}  // namespace xc::exchange
