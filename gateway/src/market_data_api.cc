#include "xc/gateway/market_data_api.h"

#include "src/rest_util.h"
#include "xc/gateway/params.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/decimal.h"

namespace xc::gateway {

namespace os = xc::order_service;
using internal::Amt;
using internal::AmtValue;
using internal::AppendLevels;
using internal::AppendInt;
using internal::Int;
using internal::SetError;
using os::ApiError;
using os::ErrorId;
using protocol::SymbolId;

namespace {

// One per I/O thread (see RestApi): reused, so parsing allocates nothing
// after warm-up.
thread_local RequestParams tl_md_params;

constexpr int64_t kHourMs = 3'600'000;


void SymbolOpen(const std::string& name, std::string* out) {
  out->append("{\"symbol\":\"");
  os::AppendJsonEscaped(name, out);
  out->push_back('"');
}

// The answer of an endpoint that takes `symbol`, `symbols` or neither: one
// object for `symbol`, else an array; each object opens with "symbol" and
// `fields(id, out)` appends the rest.
template <typename F>
void RenderSelection(const MarketData& market, const std::vector<SymbolId>& ids, bool single,
                     std::string* out, F fields) {
  if (!single) out->push_back('[');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out->push_back(',');
    SymbolOpen(market.name(ids[i]), out);
    fields(ids[i], out);
    out->push_back('}');
  }
  if (!single) out->push_back(']');
}

}  // namespace

MarketDataApi::MarketDataApi(const MarketData& market, const WallClock& clock)
    : market_(market), clock_(clock) {}

void MarketDataApi::Register(HttpServer& server) const {
  using Handler = void (MarketDataApi::*)(const HttpRequest&, HttpResponse&) const;
  struct RouteEntry {
    const char* path;
    Handler handler;
  };
  static constexpr RouteEntry kRoutes[] = {
      {"/api/v3/depth", &MarketDataApi::Depth},
      {"/api/v3/trades", &MarketDataApi::Trades},
      {"/api/v3/aggTrades", &MarketDataApi::AggTrades},
      {"/api/v3/klines", &MarketDataApi::Klines},
      {"/api/v3/ticker/24hr", &MarketDataApi::Ticker24hr},
      {"/api/v3/ticker/price", &MarketDataApi::TickerPrice},
      {"/api/v3/ticker/bookTicker", &MarketDataApi::BookTicker},
      {"/api/v3/avgPrice", &MarketDataApi::AvgPrice},
  };
  for (const RouteEntry& e : kRoutes) {
    const Handler h = e.handler;
    server.Route("GET", e.path,
                 [this, h](const HttpRequest& q, HttpResponse& r) { (this->*h)(q, r); });
  }
}

std::optional<SymbolId> MarketDataApi::ParseWithSymbol(const HttpRequest& req,
                                                       HttpResponse& resp) const {
  RequestParams& p = tl_md_params;
  if (auto e = p.Parse(req.query, {})) {
    SetError(*e, resp);
    return std::nullopt;
  }
  std::string_view name;
  std::optional<ApiError> err = internal::Mandatory(p, "symbol", &name);
  std::optional<SymbolId> id;
  if (!err && !internal::IsSymbolName(name)) {
    err = os::errors::IllegalChars("symbol", internal::kSymbolPattern);
  }
  if (!err && !(id = market_.Find(name))) err = os::errors::InvalidSymbol();
  if (err) {
    SetError(*err, resp);
    return std::nullopt;
  }
  return id;
}

bool MarketDataApi::ParseSelection(const HttpRequest& req, HttpResponse& resp,
                                   std::vector<SymbolId>* ids, bool* single) const {
  RequestParams& p = tl_md_params;
  auto fail = [&resp](const ApiError& e) {
    SetError(e, resp);
    return false;
  };
  if (auto e = p.Parse(req.query, {})) return fail(*e);
  auto symbol = p.Get("symbol");
  auto symbols = p.Get("symbols");
  *single = false;
  if (symbol && symbols) return fail(ApiError(ErrorId::kOptionalParamsBadCombo));
  if (symbol) {
    if (symbol->empty()) return fail(ApiError(ErrorId::kParamEmpty, "symbol"));
    if (!internal::IsSymbolName(*symbol)) {
      return fail(os::errors::IllegalChars("symbol", internal::kSymbolPattern));
    }
    auto id = market_.Find(*symbol);
    if (!id) return fail(os::errors::InvalidSymbol());
    ids->push_back(*id);
    *single = true;
    return true;
  }
  if (symbols) {
    if (symbols->empty()) return fail(ApiError(ErrorId::kParamEmpty, "symbols"));
    std::vector<std::string_view> names;
    if (!internal::SplitSymbols(*symbols, &names)) {
      return fail(os::errors::IllegalChars("symbols", internal::kSymbolsPattern));
    }
    if (names.empty()) return fail(ApiError(ErrorId::kParamEmpty, "symbols"));
    for (size_t k = 0; k < names.size(); ++k) {
      for (size_t m = 0; m < k; ++m) {
        if (names[m] == names[k]) return fail(ApiError(ErrorId::kDuplicateSymbols));
      }
      auto id = market_.Find(names[k]);
      if (!id) return fail(os::errors::InvalidSymbol());
      ids->push_back(*id);
    }
    return true;
  }
  for (size_t i = 0; i < market_.num_symbols(); ++i) ids->push_back(static_cast<SymbolId>(i));
  return true;
}

void MarketDataApi::Depth(const HttpRequest& req, HttpResponse& resp) const {
  auto id = ParseWithSymbol(req, resp);
  if (!id) return;
  size_t limit = 0;
  if (auto e = internal::Limit(tl_md_params, 100, 5000, &limit)) return SetError(*e, resp);
  const MarketData::Depth d = market_.GetDepth(*id, limit);
  std::string& out = resp.body();
  out.append("{\"lastUpdateId\":");
  AppendInt(static_cast<int64_t>(d.last_update_id), &out);
  out.append(",\"bids\":");
  AppendLevels(d.bids, d.bids.size(), &out);
  out.append(",\"asks\":");
  AppendLevels(d.asks, d.asks.size(), &out);
  out.push_back('}');
}

void MarketDataApi::Trades(const HttpRequest& req, HttpResponse& resp) const {
  auto id = ParseWithSymbol(req, resp);
  if (!id) return;
  size_t limit = 0;
  if (auto e = internal::Limit(tl_md_params, 500, 1000, &limit)) return SetError(*e, resp);
  const auto trades = market_.RecentTrades(*id, limit);
  std::string& out = resp.body();
  out.push_back('[');
  for (size_t i = 0; i < trades.size(); ++i) {
    const MarketData::Trade& t = trades[i];
    if (i) out.push_back(',');
    out.append("{\"id\":");
    AppendInt(static_cast<int64_t>(t.id), &out);
    Amt("price", t.price, &out);
    Amt("qty", t.qty, &out);
    Amt("quoteQty", t.quote_qty, &out);
    Int("time", t.time_ms, &out);
    internal::Bool("isBuyerMaker", t.is_buyer_maker, &out);
    out.append(",\"isBestMatch\":true}");
  }
  out.push_back(']');
}

void MarketDataApi::AggTrades(const HttpRequest& req, HttpResponse& resp) const {
  auto id = ParseWithSymbol(req, resp);
  if (!id) return;
  const RequestParams& p = tl_md_params;
  std::optional<int64_t> from_id, start, end;
  size_t limit = 0;
  if (auto e = internal::OptionalInt(p, "fromId", &from_id)) return SetError(*e, resp);
  if (auto e = internal::OptionalInt(p, "startTime", &start)) return SetError(*e, resp);
  if (auto e = internal::OptionalInt(p, "endTime", &end)) return SetError(*e, resp);
  if (auto e = internal::Limit(p, 500, 1000, &limit)) return SetError(*e, resp);
  if (from_id && (start || end)) {
    return SetError(ApiError(ErrorId::kOptionalParamsBadCombo), resp);
  }
  if (start && end && *end - *start > kHourMs) {
    return SetError(ApiError(ErrorId::kLookupIntervalTooBig, "1"), resp);
  }
  std::optional<uint64_t> from;
  if (from_id) from = static_cast<uint64_t>(*from_id);
  const auto aggs = market_.AggTrades(*id, from, start, end, limit);
  std::string& out = resp.body();
  out.push_back('[');
  for (size_t i = 0; i < aggs.size(); ++i) {
    const MarketData::AggTrade& a = aggs[i];
    if (i) out.push_back(',');
    out.append("{\"a\":");
    AppendInt(static_cast<int64_t>(a.id), &out);
    Amt("p", a.price, &out);
    Amt("q", a.qty, &out);
    Int("f", static_cast<int64_t>(a.first_trade_id), &out);
    Int("l", static_cast<int64_t>(a.last_trade_id), &out);
    Int("T", a.time_ms, &out);
    internal::Bool("m", a.is_buyer_maker, &out);
    out.append(",\"M\":true}");
  }
  out.push_back(']');
}

void MarketDataApi::Klines(const HttpRequest& req, HttpResponse& resp) const {
  auto id = ParseWithSymbol(req, resp);
  if (!id) return;
  const RequestParams& p = tl_md_params;
  std::string_view interval_s;
  if (auto e = internal::Mandatory(p, "interval", &interval_s)) return SetError(*e, resp);
  auto iv = ParseKlineInterval(interval_s);
  if (!iv) return SetError(ApiError(ErrorId::kBadInterval), resp);
  std::optional<int64_t> start, end;
  size_t limit = 0;
  if (auto e = internal::OptionalInt(p, "startTime", &start)) return SetError(*e, resp);
  if (auto e = internal::OptionalInt(p, "endTime", &end)) return SetError(*e, resp);
  if (auto e = internal::Limit(p, 500, 1000, &limit)) return SetError(*e, resp);
  // Only UTC klines are kept; an offset would need other bucket bounds.
  if (auto tz = p.Get("timeZone")) {
    if (*tz != "0" && *tz != "+00:00" && *tz != "00:00" && *tz != "-00:00") {
      return SetError(ApiError(ErrorId::kInvalidParameter, "timeZone"), resp);
    }
  }
  const int64_t now_ms = internal::Ms(clock_.NowNanos());
  const auto rows = market_.Klines(*id, *iv, start, end, limit, now_ms);
  std::string& out = resp.body();
  out.push_back('[');
  for (size_t i = 0; i < rows.size(); ++i) {
    const MarketData::Kline& k = rows[i];
    if (i) out.push_back(',');
    out.push_back('[');
    AppendInt(k.open_time, &out);
    for (int64_t v : {k.open, k.high, k.low, k.close, k.volume}) {
      out.push_back(',');
      AmtValue(v, &out);
    }
    out.push_back(',');
    AppendInt(k.close_time, &out);
    out.push_back(',');
    AmtValue(k.quote_volume, &out);
    out.push_back(',');
    AppendInt(k.count, &out);
    out.push_back(',');
    AmtValue(k.taker_buy_volume, &out);
    out.push_back(',');
    AmtValue(k.taker_buy_quote_volume, &out);
    out.append(",\"0\"]");
  }
  out.push_back(']');
}

void MarketDataApi::Ticker24hr(const HttpRequest& req, HttpResponse& resp) const {
  std::vector<SymbolId> ids;
  bool single = false;
  if (!ParseSelection(req, resp, &ids, &single)) return;
  bool full = true;
  if (auto t = tl_md_params.Get("type")) {
    if (*t == "MINI") {
      full = false;
    } else if (*t != "FULL") {
      return SetError(ApiError(ErrorId::kInvalidTickerType), resp);
    }
  }
  const int64_t now_ms = internal::Ms(clock_.NowNanos());
  RenderSelection(market_, ids, single, &resp.body(), [&](SymbolId id, std::string* out) {
    const MarketData::Ticker t = market_.Get24hTicker(id, now_ms);
    if (full) {
      Amt("priceChange", t.price_change, out);
      out->append(",\"priceChangePercent\":\"");
      os::AppendDecimal(t.price_change_percent_milli, 3, out);
      out->push_back('"');
      Amt("weightedAvgPrice", t.weighted_avg, out);
      Amt("prevClosePrice", t.prev_close, out);
      Amt("lastPrice", t.last, out);
      Amt("lastQty", t.last_qty, out);
      Amt("bidPrice", t.book.bid.price, out);
      Amt("bidQty", t.book.bid.qty, out);
      Amt("askPrice", t.book.ask.price, out);
      Amt("askQty", t.book.ask.qty, out);
      Amt("openPrice", t.open, out);
    } else {
      Amt("openPrice", t.open, out);
    }
    Amt("highPrice", t.high, out);
    Amt("lowPrice", t.low, out);
    if (!full) Amt("lastPrice", t.last, out);
    Amt("volume", t.volume, out);
    Amt("quoteVolume", t.quote_volume, out);
    Int("openTime", t.open_time, out);
    Int("closeTime", t.close_time, out);
    Int("firstId", t.first_id, out);
    Int("lastId", t.last_id, out);
    Int("count", t.count, out);
  });
}

void MarketDataApi::TickerPrice(const HttpRequest& req, HttpResponse& resp) const {
  std::vector<SymbolId> ids;
  bool single = false;
  if (!ParseSelection(req, resp, &ids, &single)) return;
  RenderSelection(market_, ids, single, &resp.body(), [&](SymbolId id, std::string* out) {
    Amt("price", market_.LastPrice(id), out);
  });
}

void MarketDataApi::BookTicker(const HttpRequest& req, HttpResponse& resp) const {
  std::vector<SymbolId> ids;
  bool single = false;
  if (!ParseSelection(req, resp, &ids, &single)) return;
  RenderSelection(market_, ids, single, &resp.body(), [&](SymbolId id, std::string* out) {
    const MarketData::BookTicker b = market_.GetBookTicker(id);
    Amt("bidPrice", b.bid.price, out);
    Amt("bidQty", b.bid.qty, out);
    Amt("askPrice", b.ask.price, out);
    Amt("askQty", b.ask.qty, out);
  });
}

void MarketDataApi::AvgPrice(const HttpRequest& req, HttpResponse& resp) const {
  auto id = ParseWithSymbol(req, resp);
  if (!id) return;
  const MarketData::AvgPrice a = market_.GetAvgPrice(*id, internal::Ms(clock_.NowNanos()));
  std::string& out = resp.body();
  out.append("{\"mins\":");
  AppendInt(MarketData::kAvgPriceMins, &out);
  Amt("price", a.price, &out);
  Int("closeTime", a.close_time, &out);
  out.push_back('}');
}

}  // namespace xc::gateway
