#include "xc/gateway/rest_api.h"

#include <chrono>
#include <charconv>
#include <optional>

#include "xc/gateway/params.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/decimal.h"
#include "xc/order_service/messages.h"

namespace xc::gateway {

namespace os = xc::order_service;
using os::ApiError;
using os::ErrorId;

protocol::Timestamp SystemWallClock::NowNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

constexpr std::string_view kSymbolPattern = "^[A-Z0-9-_.]{1,20}$";
constexpr std::string_view kSymbolsPattern =
    "^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$";

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out->append(buf, end);
}

void AppendMs(const WallClock& clock, std::string* out) {
  AppendInt(clock.NowNanos() / 1'000'000, out);
}

// A configured decimal in 1e-8 units; "" (unset) is 0. The order service
// accepted the config, so the text parses.
int64_t Units(const std::string& s) {
  if (s.empty()) return 0;
  auto p = os::ParseDecimal(s, os::kAmountDecimals);
  return p.ok() ? p.units : 0;
}

// "name":"<8-decimal amount>"
void AppendAmountField(std::string_view name, const std::string& value, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":\"");
  os::AppendDecimal(Units(value), os::kAmountDecimals, out);
  out->push_back('"');
}

// "name":"<multiplier, trailing zeros trimmed>" ("5", "0.2"), as Binance
// shows PERCENT_PRICE_BY_SIDE.
void AppendMultiplierField(std::string_view name, const std::string& value, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":\"");
  os::AppendDecimalTrimmed(Units(value), os::kAmountDecimals, 0, out);
  out->push_back('"');
}

void AppendStringField(std::string_view name, std::string_view value, std::string* out) {
  out->push_back('"');
  out->append(name);
  out->append("\":\"");
  os::AppendJsonEscaped(value, out);
  out->push_back('"');
}

std::string RenderSymbol(const os::SymbolConfig& c) {
  std::string j;
  const std::string precision = std::to_string(os::kAmountDecimals);
  j.append("{");
  AppendStringField("symbol", c.symbol, &j);
  j.append(",\"status\":\"TRADING\",");
  AppendStringField("baseAsset", c.base_asset, &j);
  j.append(",\"baseAssetPrecision\":").append(precision).append(",");
  AppendStringField("quoteAsset", c.quote_asset, &j);
  j.append(",\"quotePrecision\":").append(precision);
  j.append(",\"quoteAssetPrecision\":").append(precision);
  j.append(",\"baseCommissionPrecision\":").append(precision);
  j.append(",\"quoteCommissionPrecision\":").append(precision);
  j.append(",\"orderTypes\":[");
  const os::OrderType types[] = {os::OrderType::kLimit, os::OrderType::kLimitMaker,
                                 os::OrderType::kMarket, os::OrderType::kStopLossLimit,
                                 os::OrderType::kTakeProfitLimit};
  bool first = true;
  for (auto t : types) {
    if (!first) j.push_back(',');
    first = false;
    j.append("\"").append(os::OrderTypeName(t)).append("\"");
  }
  j.append("],\"icebergAllowed\":true,\"ocoAllowed\":false,\"otoAllowed\":false,"
           "\"quoteOrderQtyMarketAllowed\":true,\"allowTrailingStop\":false,"
           "\"cancelReplaceAllowed\":true,\"isSpotTradingAllowed\":true,"
           "\"isMarginTradingAllowed\":false,\"filters\":[");

  j.append("{\"filterType\":\"PRICE_FILTER\",");
  AppendAmountField("minPrice", c.min_price, &j);
  j.push_back(',');
  AppendAmountField("maxPrice", c.max_price, &j);
  j.push_back(',');
  AppendAmountField("tickSize", c.tick_size, &j);
  j.append("},{\"filterType\":\"LOT_SIZE\",");
  AppendAmountField("minQty", c.min_qty, &j);
  j.push_back(',');
  AppendAmountField("maxQty", c.max_qty, &j);
  j.push_back(',');
  AppendAmountField("stepSize", c.step_size, &j);
  // MARKET orders are held to LOT_SIZE's step as well (messages.h).
  j.append("},{\"filterType\":\"MARKET_LOT_SIZE\",");
  AppendAmountField("minQty", c.market_min_qty, &j);
  j.push_back(',');
  AppendAmountField("maxQty", c.market_max_qty, &j);
  j.push_back(',');
  AppendAmountField("stepSize", c.step_size, &j);
  j.push_back('}');
  if (Units(c.bid_multiplier_up) || Units(c.bid_multiplier_down) ||
      Units(c.ask_multiplier_up) || Units(c.ask_multiplier_down)) {
    j.append(",{\"filterType\":\"PERCENT_PRICE_BY_SIDE\",");
    AppendMultiplierField("bidMultiplierUp", c.bid_multiplier_up, &j);
    j.push_back(',');
    AppendMultiplierField("bidMultiplierDown", c.bid_multiplier_down, &j);
    j.push_back(',');
    AppendMultiplierField("askMultiplierUp", c.ask_multiplier_up, &j);
    j.push_back(',');
    AppendMultiplierField("askMultiplierDown", c.ask_multiplier_down, &j);
    j.append(",\"avgPriceMins\":0}");
  }
  if (c.notional_filter == "MIN_NOTIONAL") {
    j.append(",{\"filterType\":\"MIN_NOTIONAL\",");
    AppendAmountField("minNotional", c.min_notional, &j);
    j.append(",\"applyToMarket\":true,\"avgPriceMins\":0}");
  } else {
    j.append(",{\"filterType\":\"NOTIONAL\",");
    AppendAmountField("minNotional", c.min_notional, &j);
    j.append(",\"applyMinToMarket\":").append(c.apply_min_to_market ? "true" : "false");
    j.push_back(',');
    AppendAmountField("maxNotional", c.max_notional, &j);
    j.append(",\"applyMaxToMarket\":").append(c.apply_max_to_market ? "true" : "false");
    j.append(",\"avgPriceMins\":0}");
  }
  j.append("],\"permissions\":[],\"permissionSets\":[[\"SPOT\"]],"
           "\"defaultSelfTradePreventionMode\":\"NONE\","
           "\"allowedSelfTradePreventionModes\":[\"NONE\",\"EXPIRE_TAKER\",\"EXPIRE_MAKER\","
           "\"EXPIRE_BOTH\"]}");
  return j;
}

bool IsSymbolChar(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
         ch == '.';
}

bool IsSymbolName(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char ch : s) {
    if (!IsSymbolChar(ch)) return false;
  }
  return true;
}

// Splits `["A","B"]` into names. False when `s` does not match
// kSymbolsPattern.
bool SplitSymbols(std::string_view s, std::vector<std::string_view>* out) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return false;
  s = s.substr(1, s.size() - 2);
  if (s.empty()) return true;
  for (;;) {
    if (s.size() < 2 || s.front() != '"') return false;
    size_t close = s.find('"', 1);
    if (close == std::string_view::npos) return false;
    std::string_view name = s.substr(1, close - 1);
    if (!IsSymbolName(name)) return false;
    out->push_back(name);
    s.remove_prefix(close + 1);
    if (s.empty()) return true;
    if (s.front() != ',') return false;
    s.remove_prefix(1);
  }
}

void SetError(const ApiError& e, HttpResponse& resp) {
  resp.set_status(e.http_status());
  resp.body().clear();
  e.AppendJson(&resp.body());
}

}  // namespace

RestApi::RestApi(const order_service::OrderServiceApi& orders, const WallClock& clock)
    : clock_(clock) {
  for (const auto& c : orders.ExchangeInfo()) {
    symbols_.push_back(Symbol{c.symbol, RenderSymbol(c)});
  }
}

void RestApi::Register(HttpServer& server) const {
  server.Route("GET", "/api/v3/ping",
               [this](const HttpRequest& q, HttpResponse& r) { Ping(q, r); });
  server.Route("GET", "/api/v3/time",
               [this](const HttpRequest& q, HttpResponse& r) { Time(q, r); });
  server.Route("GET", "/api/v3/exchangeInfo",
               [this](const HttpRequest& q, HttpResponse& r) { ExchangeInfo(q, r); });
}

void RestApi::Ping(const HttpRequest&, HttpResponse& resp) const { resp.body().append("{}"); }

void RestApi::Time(const HttpRequest&, HttpResponse& resp) const {
  resp.body().append("{\"serverTime\":");
  AppendMs(clock_, &resp.body());
  resp.body().push_back('}');
}

int RestApi::Find(std::string_view name) const {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void RestApi::ExchangeInfo(const HttpRequest& req, HttpResponse& resp) const {
  RequestParams params;
  if (auto e = params.Parse(req.query, {})) return SetError(*e, resp);
  auto symbol = params.Get("symbol");
  auto symbols = params.Get("symbols");
  if (symbol && symbols) return SetError(ApiError(ErrorId::kOptionalParamsBadCombo), resp);

  // Selected symbol indexes; empty selection with `all` means every symbol.
  std::vector<int> selected;
  bool all = true;
  if (symbol) {
    if (symbol->empty()) return SetError(ApiError(ErrorId::kParamEmpty, "symbol"), resp);
    if (!IsSymbolName(*symbol)) return SetError(os::errors::IllegalChars("symbol", kSymbolPattern), resp);
    int i = Find(*symbol);
    if (i < 0) return SetError(os::errors::InvalidSymbol(), resp);
    selected.push_back(i);
    all = false;
  } else if (symbols) {
    if (symbols->empty()) return SetError(ApiError(ErrorId::kParamEmpty, "symbols"), resp);
    std::vector<std::string_view> names;
    if (!SplitSymbols(*symbols, &names)) {
      return SetError(os::errors::IllegalChars("symbols", kSymbolsPattern), resp);
    }
    if (names.empty()) return SetError(ApiError(ErrorId::kParamEmpty, "symbols"), resp);
    for (size_t k = 0; k < names.size(); ++k) {
      for (size_t m = 0; m < k; ++m) {
        if (names[m] == names[k]) return SetError(ApiError(ErrorId::kDuplicateSymbols), resp);
      }
      int i = Find(names[k]);
      if (i < 0) return SetError(os::errors::InvalidSymbol(), resp);
      selected.push_back(i);
    }
    all = false;
  }

  std::string& out = resp.body();
  out.append("{\"timezone\":\"UTC\",\"serverTime\":");
  AppendMs(clock_, &out);
  out.append(",\"rateLimits\":[],\"exchangeFilters\":[],\"symbols\":[");
  if (all) {
    for (size_t i = 0; i < symbols_.size(); ++i) {
      if (i) out.push_back(',');
      out.append(symbols_[i].json);
    }
  } else {
    for (size_t k = 0; k < selected.size(); ++k) {
      if (k) out.push_back(',');
      out.append(symbols_[static_cast<size_t>(selected[k])].json);
    }
  }
  out.append("]}");
}

}  // namespace xc::gateway
