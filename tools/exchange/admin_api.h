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
//
// Thread safety: handlers may run on any I/O thread; Core serializes.

#include "core.h"
#include "xc/gateway/http_server.h"

namespace xc::exchange {

class AdminApi {
 public:
  explicit AdminApi(Core* core) : core_(core) {}
  // REQUIRES: server not started.
  void Register(gateway::HttpServer& server);

  void CreateUser(const gateway::HttpRequest& req, gateway::HttpResponse& resp);
  void Balance(const gateway::HttpRequest& req, gateway::HttpResponse& resp);

 private:
  Core* core_;
};

}  // namespace xc::exchange
