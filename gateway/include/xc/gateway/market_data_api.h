#pragma once
// MarketDataApi: Binance's public market-data REST endpoints over a
// MarketData (BINANCE_COMPAT.md §1.1), plugged into an HttpServer.
//
//   GET /api/v3/depth            symbol [limit=100, capped at 5000]
//       {"lastUpdateId":N,"bids":[["price","qty"],...],"asks":[...]}
//   GET /api/v3/trades           symbol [limit=500, capped at 1000]
//       [{"id","price","qty","quoteQty","time","isBuyerMaker","isBestMatch"}]
//   GET /api/v3/aggTrades        symbol [fromId] [startTime] [endTime] [limit=500, <=1000]
//       [{"a","p","q","f","l","T","m","M":true}]
//   GET /api/v3/klines           symbol interval [startTime] [endTime] [timeZone=0]
//                                [limit=500, <=1000]
//       rows [openTime,"o","h","l","c","volume",closeTime,"quoteVolume",trades,
//             "takerBuyBase","takerBuyQuote","0"]
//   GET /api/v3/ticker/24hr      [symbol | symbols] [type=FULL|MINI]
//   GET /api/v3/ticker/price     [symbol | symbols]
//   GET /api/v3/ticker/bookTicker [symbol | symbols]
//       one symbol: an object; `symbols` or neither: an array (config order)
//   GET /api/v3/avgPrice         symbol   {"mins":5,"price":"..","closeTime":ms}
// What each number means (windows, gap filling, ids) is MarketData's
// contract (market_data.h). Amounts are 8-decimal strings, times ms,
// priceChangePercent has 3 decimals as Binance shows it.
//
// Errors ({"code","msg"}, HTTP 400, nothing changes): -1102 missing symbol or
// interval; -1100 malformed symbol/symbols/integer (Binance's patterns);
// -1121 "Invalid symbol."; -1120 "Invalid interval."; -1130 limit 0 or a
// timeZone other than UTC; -1128 symbol with symbols, or aggTrades fromId
// with startTime/endTime; -1127 aggTrades startTime..endTime over one hour;
// -1139 "Invalid ticker type."; -1105 empty `symbols`; -1151 a repeated
// name; RequestParams' -1101 for a bad query. Parameters come from the
// query only (these are GETs).
//
// Thread safety: handlers may run on any number of I/O threads at once; they
// read MarketData (per-symbol locks) and the clock. Request parameters are
// parsed into one RequestParams per I/O thread.
// Ownership: borrows the MarketData and the clock, which must outlive the
// server's handlers.
// Cost: O(rows returned) formatting into the connection's reused body
// buffer, plus MarketData's copy of those rows.

#include <optional>
#include <vector>

#include "xc/gateway/http_server.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/rest_api.h"

namespace xc::gateway {

class MarketDataApi {
 public:
  MarketDataApi(const MarketData& market, const WallClock& clock);
  MarketDataApi(const MarketDataApi&) = delete;
  MarketDataApi& operator=(const MarketDataApi&) = delete;

  // Registers every endpoint above on `server`. REQUIRES: server not started.
  void Register(HttpServer& server) const;

  void Depth(const HttpRequest& req, HttpResponse& resp) const;
  void Trades(const HttpRequest& req, HttpResponse& resp) const;
  void AggTrades(const HttpRequest& req, HttpResponse& resp) const;
  void Klines(const HttpRequest& req, HttpResponse& resp) const;
  void Ticker24hr(const HttpRequest& req, HttpResponse& resp) const;
  void TickerPrice(const HttpRequest& req, HttpResponse& resp) const;
  void BookTicker(const HttpRequest& req, HttpResponse& resp) const;
  void AvgPrice(const HttpRequest& req, HttpResponse& resp) const;

 private:
  // Parses the query and the mandatory `symbol`; nullopt after writing the
  // error into `resp`.
  std::optional<protocol::SymbolId> ParseWithSymbol(const HttpRequest& req,
                                                    HttpResponse& resp) const;
  // Parses the query and the optional `symbol`/`symbols` selection into
  // *ids (every symbol when neither is sent); *single when `symbol` was
  // sent. False after writing the error into `resp`.
  bool ParseSelection(const HttpRequest& req, HttpResponse& resp,
                      std::vector<protocol::SymbolId>* ids, bool* single) const;

  const MarketData& market_;
  const WallClock& clock_;
};

}  // namespace xc::gateway
