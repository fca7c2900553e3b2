#pragma once
// RestApi: the Binance REST endpoints of the gateway, plugged into an
// HttpServer (BINANCE_COMPAT.md §1.1). So far the public ones whose data the
// order service really provides:
//   GET /api/v3/ping          {}
//   GET /api/v3/time          {"serverTime":<ms>}
//   GET /api/v3/exchangeInfo  [?symbol=S | ?symbols=["A","B"]]
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
//   rateLimits [] and exchangeFilters []: no rate limiter exists yet, and
//   advertising limits that are not enforced would be false.
// Parameters: `symbol` (^[A-Z0-9-_.]{1,20}$) or `symbols` (a JSON array of
// such names, as @binance/connector encodes it). Errors: -1121 "Invalid
// symbol." for a name that is not configured; -1100 for a malformed name or
// list; -1105 for an empty value; -1128 when both are sent; -1151 for a
// repeated name in `symbols`; RequestParams' -1100/-1101 for a bad query.
//
// Thread safety: the symbol list is read once, at construction (the order
// service's SymbolTable is immutable after it is built), and pre-rendered,
// so the handlers read only immutable state and the clock: any number of
// I/O threads may run them at once, and they never call the order service.
// Ownership: borrows the clock, which must outlive the server's handlers.
// Cost: ping/time format a few bytes; exchangeInfo copies the pre-rendered
// symbol objects into the connection's reused body buffer.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "xc/gateway/http_server.h"
#include "xc/order_service/order_service_api.h"
#include "xc/protocol/types.h"

namespace xc::gateway {

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
  RestApi(const order_service::OrderServiceApi& orders, const WallClock& clock);

  // Registers every endpoint on `server`. REQUIRES: server not started.
  void Register(HttpServer& server) const;

  // The handlers, callable directly (tests, later the WebSocket API).
  void Ping(const HttpRequest& req, HttpResponse& resp) const;
  void Time(const HttpRequest& req, HttpResponse& resp) const;
  void ExchangeInfo(const HttpRequest& req, HttpResponse& resp) const;

 private:
  struct Symbol {
    std::string name;
    std::string json;  // the complete {"symbol":...} object
  };
  // Index into symbols_ of `name`, or -1.
  int Find(std::string_view name) const;

  const WallClock& clock_;
  std::vector<Symbol> symbols_;  // config order
};

}  // namespace xc::gateway
