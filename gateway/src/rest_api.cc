#include "xc/gateway/rest_api.h"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>

#include "xc/gateway/hmac.h"
#include "xc/gateway/params.h"
#include "xc/gateway/rate_limiter.h"
#include "xc/gateway/request_auth.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/decimal.h"
#include "xc/order_service/messages.h"
#include "src/rest_util.h"

namespace xc::gateway {

namespace os = xc::order_service;
using os::ApiError;
using os::ErrorId;
using internal::Amt;
using internal::AppendInt;
using internal::Bool;
using internal::Int;
using internal::IsSymbolName;
using internal::kSymbolPattern;
using internal::kSymbolsPattern;
using internal::Mandatory;
using internal::Ms;
using internal::OptionalInt;
using internal::SetError;
using internal::SplitSymbols;
using internal::Str;
using internal::StpName;

protocol::Timestamp SystemWallClock::NowNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// An error answer through a Reply.
void Fail(const ApiError& e, const RestApi::Reply& reply) {
  std::string out;
  e.AppendJson(&out);
  reply(e.http_status(), out);
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

}  // namespace

RestApi::~RestApi() = default;

RestApi::RestApi(order_service::OrderServiceApi& orders, const WallClock& clock)
    : orders_(orders), clock_(clock) {
  for (const auto& c : orders.ExchangeInfo()) {
    symbols_.push_back(Symbol{c.symbol, RenderSymbol(c), Units(c.maker_fee), Units(c.taker_fee)});
  }
}

void RestApi::Register(HttpServer& server) const {
  using Handler = void (RestApi::*)(const HttpRequest&, HttpResponse&) const;
  struct RouteEntry {
    const char* method;
    const char* path;
    Handler handler;
    SignedEndpoint endpoint;  // instead of handler
  };
  static constexpr RouteEntry kRoutes[] = {
      {"GET", "/api/v3/ping", &RestApi::Ping, nullptr},
      {"GET", "/api/v3/time", &RestApi::Time, nullptr},
      {"GET", "/api/v3/exchangeInfo", &RestApi::ExchangeInfo, nullptr},
      {"POST", "/api/v3/order", nullptr, &RestApi::NewOrder},
      {"DELETE", "/api/v3/order", nullptr, &RestApi::CancelOrder},
      {"GET", "/api/v3/order", nullptr, &RestApi::QueryOrder},
      {"GET", "/api/v3/openOrders", nullptr, &RestApi::OpenOrders},
      {"DELETE", "/api/v3/openOrders", nullptr, &RestApi::CancelOpenOrders},
      {"GET", "/api/v3/allOrders", nullptr, &RestApi::AllOrders},
      {"GET", "/api/v3/account", nullptr, &RestApi::Account},
      {"GET", "/api/v3/myTrades", nullptr, &RestApi::MyTrades},
      {"POST", "/api/v3/order/test", nullptr, &RestApi::TestOrder},
      {"POST", "/api/v3/order/cancelReplace", nullptr, &RestApi::CancelReplace},
      {"POST", "/api/v3/userDataStream", &RestApi::CreateListenKey, nullptr},
      {"PUT", "/api/v3/userDataStream", &RestApi::ExtendListenKey, nullptr},
      {"DELETE", "/api/v3/userDataStream", &RestApi::CloseListenKey, nullptr},
  };
  for (const RouteEntry& e : kRoutes) {
    if (e.handler != nullptr) {
      const Handler h = e.handler;
      server.Route(e.method, e.path,
                   [this, h](const HttpRequest& q, HttpResponse& r) { (this->*h)(q, r); });
    } else {
      const SignedEndpoint h = e.endpoint;
      server.Route(e.method, e.path,
                   [this, h](const HttpRequest& q, HttpResponse& r) { ServeSigned(h, q, r); });
    }
  }
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
  out.append(",\"rateLimits\":");
  if (limiter_ != nullptr) {
    limiter_->AppendRateLimitsJson(&out);
  } else {
    out.append("[]");
  }
  out.append(",\"exchangeFilters\":[],\"symbols\":[");
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


// ---- Signed endpoints ----

namespace {

// The [first, last) slice of n history entries (oldest first) that a query
// with `limit` returns: the first `limit` when it names a starting id
// (orderId / fromId), otherwise the most recent `limit` (Binance's rule).
std::pair<size_t, size_t> HistoryWindow(size_t n, size_t limit, bool from_start) {
  if (n <= limit) return {0, n};
  return from_start ? std::pair<size_t, size_t>{0, limit} : std::pair<size_t, size_t>{n - limit, n};
}

// One per I/O thread: its decode buffer grows to the largest request seen
// and is then reused, so parsing allocates nothing after warm-up. Handlers
// run to completion on their thread, so one object per thread suffices.
thread_local RequestParams tl_params;

constexpr size_t kDefaultLimit = 500;
constexpr size_t kMaxLimit = 1000;

std::optional<protocol::StpMode> ParseStp(std::string_view s) {
  if (s == "NONE") return protocol::StpMode::kNone;
  if (s == "EXPIRE_TAKER") return protocol::StpMode::kExpireTaker;
  if (s == "EXPIRE_MAKER") return protocol::StpMode::kExpireMaker;
  if (s == "EXPIRE_BOTH") return protocol::StpMode::kExpireBoth;
  return std::nullopt;
}

enum class RespType : uint8_t { kAck, kResult, kFull };

// {"symbol":...,"orderId":...,"orderListId":-1 (no order lists here)
void OpenOrderObject(const os::OrderInfo& o, std::string* out) {
  out->append("{\"symbol\":\"");
  os::AppendJsonEscaped(o.symbol, out);
  out->push_back('"');
  Int("orderId", static_cast<int64_t>(o.order_id), out);
  Int("orderListId", -1, out);
}

// The execution fields shared by every non-ACK order shape, from "price" to
// "side" (Binance's order).
void ExecutionFields(const os::OrderInfo& o, std::string* out) {
  Amt("price", o.price, out);
  Amt("origQty", o.orig_qty, out);
  Amt("executedQty", o.executed_qty, out);
  Amt("origQuoteOrderQty", o.orig_quote_order_qty, out);
  Amt("cummulativeQuoteQty", o.cummulative_quote_qty, out);
  Str("status", os::OrderStatusName(o.status), out);
  Str("timeInForce", os::TimeInForceName(o.time_in_force), out);
  Str("type", os::OrderTypeName(o.type), out);
  Str("side", os::SideName(o.side), out);
}

// Binance shows stopPrice / icebergQty in placement and cancel answers only
// for orders that have them.
void OptionalOrderFields(const os::OrderInfo& o, std::string* out) {
  if (o.stop_price != 0) Amt("stopPrice", o.stop_price, out);
  if (o.iceberg_qty != 0) Amt("icebergQty", o.iceberg_qty, out);
}

// Binance's workingTime: when the order started working on the book; -1
// for one that never did (pending stop, rejected). The order service clears
// is_working on final states, so a final order other than REJECTED counts
// as having worked (the engine accepted it before it could trade, cancel or
// expire).
int64_t WorkingTime(const os::OrderInfo& o) {
  const bool worked =
      o.is_working || (!os::IsOpen(o.status) && o.status != os::OrderStatus::kRejected);
  return worked ? Ms(o.time) : -1;
}

// Room for one order's answer: a RESULT or cancel answer is 350-450 bytes.
constexpr size_t kOrderAnswerBytes = 512;

// POST /order answer.
void PlacedOrder(const os::OrderInfo& o, RespType type, std::string* out) {
  // One allocation for the whole answer, not one per doubling on the way.
  out->reserve(out->size() + kOrderAnswerBytes);
  OpenOrderObject(o, out);
  Str("clientOrderId", o.client_order_id, out);
  Int("transactTime", Ms(o.time), out);
  if (type != RespType::kAck) {
    ExecutionFields(o, out);
    OptionalOrderFields(o, out);
    Int("workingTime", WorkingTime(o), out);
    if (type == RespType::kFull) {
      out->append(",\"fills\":[");
      for (size_t i = 0; i < o.fills.size(); ++i) {
        const os::FillInfo& f = o.fills[i];
        if (i) out->push_back(',');
        out->append("{\"price\":\"");
        os::AppendDecimal(f.price, os::kAmountDecimals, out);
        out->push_back('"');
        Amt("qty", f.qty, out);
        Amt("commission", f.commission, out);
        Str("commissionAsset", f.commission_asset, out);
        Int("tradeId", static_cast<int64_t>(f.trade_id), out);
        out->push_back('}');
      }
      out->push_back(']');
    }
    Str("selfTradePreventionMode", StpName(o.stp), out);
  }
  out->push_back('}');
}

// GET /order, openOrders, allOrders element.
void QueriedOrder(const os::OrderInfo& o, std::string* out) {
  OpenOrderObject(o, out);
  Str("clientOrderId", o.client_order_id, out);
  ExecutionFields(o, out);
  Amt("stopPrice", o.stop_price, out);
  Amt("icebergQty", o.iceberg_qty, out);
  Int("time", Ms(o.time), out);
  Int("updateTime", Ms(o.update_time), out);
  Bool("isWorking", o.is_working, out);
  Int("workingTime", WorkingTime(o), out);
  Str("selfTradePreventionMode", StpName(o.stp), out);
  out->push_back('}');
}

// The id Binance gives a cancel request that names none: derived from the
// order id, so that it is unique without shared state (an order is cancelled
// at most once).
void DefaultCancelId(protocol::OrderId id, std::string* out) {
  out->append("xc-cancel-");
  AppendInt(static_cast<int64_t>(id), out);
}

// DELETE /order and DELETE /openOrders element. `cancel_id` empty: derived.
void CancelledOrder(const os::OrderInfo& o, std::string_view cancel_id, int64_t now_ms,
                    std::string* out) {
  out->reserve(out->size() + kOrderAnswerBytes);  // as PlacedOrder
  out->append("{\"symbol\":\"");
  os::AppendJsonEscaped(o.symbol, out);
  out->push_back('"');
  Str("origClientOrderId", o.client_order_id, out);
  Int("orderId", static_cast<int64_t>(o.order_id), out);
  Int("orderListId", -1, out);
  if (cancel_id.empty()) {
    out->append(",\"clientOrderId\":\"");
    DefaultCancelId(o.order_id, out);
    out->push_back('"');
  } else {
    Str("clientOrderId", cancel_id, out);
  }
  Int("transactTime", now_ms, out);
  ExecutionFields(o, out);
  OptionalOrderFields(o, out);
  Str("selfTradePreventionMode", StpName(o.stp), out);
  out->push_back('}');
}

}  // namespace

const RestApi::KeyEntry* RestApi::FindKey(std::string_view api_key) const {
  {
    std::lock_guard<std::mutex> lock(keys_mu_);
    auto it = keys_.find(api_key);
    if (it != keys_.end()) return it->second.get();
  }
  // First use of this key: ask the order service, outside the lock.
  std::optional<os::ApiKeyRecord> rec = orders_.LookupApiKey(api_key);
  if (!rec) return nullptr;
  auto entry = std::make_unique<const KeyEntry>(KeyEntry{rec->user, HmacSha256Key(rec->secret)});
  std::lock_guard<std::mutex> lock(keys_mu_);
  auto [it, inserted] = keys_.try_emplace(std::string(api_key), std::move(entry));
  (void)inserted;  // a racing thread built the same entry: keep the first
  return it->second.get();
}

const RestApi::KeyEntry* RestApi::Authenticate(const HttpRequest& req,
                                               HttpResponse& resp) const {
  const KeyEntry* key = AuthenticateKeyOnly(req, resp);
  if (key == nullptr) return nullptr;
  if (auto e = AuthenticateSigned(tl_params, key->key, clock_.NowNanos())) {
    SetError(*e, resp);
    return nullptr;
  }
  return key;
}

namespace {

// A signed request's answer, which may come from any thread: while the
// endpoint call is still running (a bad parameter, or an order the calling
// thread completed itself) it is written into the response directly;
// afterwards through the deferred response, so the I/O thread never waits.
struct SignedAnswer {
  std::mutex mu;
  bool answered = false;
  int status = 0;
  std::string body;
  HttpDeferred later;  // valid once the endpoint call returned unanswered
};

}  // namespace

void RestApi::ServeSigned(SignedEndpoint endpoint, const HttpRequest& req,
                          HttpResponse& resp) const {
  const KeyEntry* key = Authenticate(req, resp);
  if (key == nullptr) return;
  auto answer = std::make_shared<SignedAnswer>();
  (this->*endpoint)(*key, tl_params, [answer](int status, std::string_view body) {
    std::unique_lock<std::mutex> l(answer->mu);
    if (answer->answered) return;
    answer->answered = true;
    if (!answer->later.valid()) {
      answer->status = status;
      answer->body.assign(body);
      return;
    }
    HttpDeferred later = std::move(answer->later);
    l.unlock();
    later.Complete(status, body);
  });
  std::lock_guard<std::mutex> l(answer->mu);
  if (answer->answered) {
    resp.set_status(answer->status);
    resp.body().swap(answer->body);
  } else {
    answer->later = resp.Defer();
  }
}

std::optional<ApiError> RestApi::SymbolParam(const RequestParams& p,
                                             std::string_view* out) const {
  if (auto e = Mandatory(p, "symbol", out)) return e;
  if (!IsSymbolName(*out)) return os::errors::IllegalChars("symbol", kSymbolPattern);
  if (Find(*out) < 0) return os::errors::InvalidSymbol();
  return std::nullopt;
}

// The order parameters shared by POST /order, /order/test and
// /order/cancelReplace into *r (with `user` and `symbol`) and *rt (now is
// the caller's).
static std::optional<ApiError> OrderParams(const RequestParams& p, protocol::UserId user,
                                           std::string_view symbol, os::PlaceOrderRequest* r,
                                           RespType* rt) {
  r->user = user;
  r->symbol.assign(symbol);
  *rt = RespType::kAck;
  std::string_view side_s, type_s;
  if (auto e = Mandatory(p, "side", &side_s)) return e;
  if (auto e = Mandatory(p, "type", &type_s)) return e;
  auto side = os::ParseSide(side_s);
  if (!side) return os::errors::InvalidSide();
  auto type = os::ParseOrderType(type_s);
  if (!type) return os::errors::InvalidOrderType();
  r->side = *side;
  r->type = *type;
  if (auto tif = p.Get("timeInForce")) {
    auto t = os::ParseTimeInForce(*tif);
    if (!t) return os::errors::InvalidTimeInForce();
    r->time_in_force = *t;
  }
  // Decimals go to the order service as sent: it owns parsing, filters and
  // their exact messages.
  auto copy = [&p](std::string_view name, std::optional<std::string>* out) {
    if (auto v = p.Get(name)) out->emplace(*v);
  };
  copy("quantity", &r->quantity);
  copy("quoteOrderQty", &r->quote_order_qty);
  copy("price", &r->price);
  copy("stopPrice", &r->stop_price);
  copy("icebergQty", &r->iceberg_qty);
  if (auto id = p.Get("newClientOrderId")) {
    if (id->empty()) return ApiError(ErrorId::kEmptyNewClOrdId);
    r->new_client_order_id.assign(*id);
  }
  if (auto stp = p.Get("selfTradePreventionMode")) {
    auto m = ParseStp(*stp);
    if (!m) return ApiError(ErrorId::kInvalidParameter, "selfTradePreventionMode");
    r->stp = *m;
  }
  // Binance: FULL by default for MARKET and LIMIT, ACK for the others.
  *rt = (r->type == os::OrderType::kMarket || r->type == os::OrderType::kLimit) ? RespType::kFull
                                                                               : RespType::kAck;
  if (auto v = p.Get("newOrderRespType")) {
    if (*v == "ACK") {
      *rt = RespType::kAck;
    } else if (*v == "RESULT") {
      *rt = RespType::kResult;
    } else if (*v == "FULL") {
      *rt = RespType::kFull;
    } else {
      return ApiError(ErrorId::kInvalidParameter, "newOrderRespType");
    }
  }
  return std::nullopt;
}

void RestApi::NewOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  os::PlaceOrderRequest r;
  RespType rt;
  if (auto e = OrderParams(p, key.user, symbol, &r, &rt)) return Fail(*e, reply);
  r.now = clock_.NowNanos();

  orders_.PlaceOrderAsync(r, [rt, reply = std::move(reply)](os::ApiResult<os::OrderInfo> placed) {
    if (!placed.ok()) return Fail(placed.error(), reply);
    std::string out;
    PlacedOrder(placed.value(), rt, &out);
    reply(200, out);
  });
}

void RestApi::TestOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  os::PlaceOrderRequest r;
  RespType rt;
  if (auto e = OrderParams(p, key.user, symbol, &r, &rt)) return Fail(*e, reply);
  bool rates = false;
  if (auto v = p.Get("computeCommissionRates")) {
    if (*v == "true") {
      rates = true;
    } else if (*v != "false") {
      return Fail(ApiError(ErrorId::kInvalidParameter, "computeCommissionRates"), reply);
    }
  }
  r.now = clock_.NowNanos();
  if (auto e = orders_.TestOrder(r)) return Fail(*e, reply);
  if (!rates) return reply(200, "{}");
  std::string out;
  // Rates, not amounts (Binance's shape). No tax and no discount asset here.
  const Symbol& sym = symbols_[static_cast<size_t>(Find(symbol))];
  out.append("{\"standardCommissionForOrder\":{\"maker\":");
  internal::AmtValue(sym.maker_fee, &out);
  out.append(",\"taker\":");
  internal::AmtValue(sym.taker_fee, &out);
  out.append("},\"taxCommissionForOrder\":{\"maker\":\"0.00000000\",\"taker\":\"0.00000000\"},"
             "\"discount\":{\"enabledForAccount\":false,\"enabledForSymbol\":false,"
             "\"discountAsset\":\"\",\"discount\":\"0.00000000\"}}");
  reply(200, out);
}

// orderId or origClientOrderId into `ref` (symbol and user set by the caller).
static std::optional<ApiError> OrderRefParams(const RequestParams& p, os::OrderRef* ref) {
  auto id = p.Get("orderId");
  auto orig = p.Get("origClientOrderId");
  if ((!id || id->empty()) && (!orig || orig->empty())) {
    if (orig && orig->empty() && !id) return ApiError(ErrorId::kEmptyOrigClOrdId);
    return ApiError(ErrorId::kEitherParam, "orderId", "origClientOrderId");
  }
  if (id && !id->empty()) {
    auto v = os::ParseUnsigned("orderId", *id);
    if (!v.ok()) return v.error();
    ref->order_id = v.value();
  }
  if (orig && !orig->empty()) ref->orig_client_order_id.assign(*orig);
  return std::nullopt;
}

void RestApi::CancelOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  os::OrderRef ref;
  ref.user = key.user;
  ref.symbol.assign(symbol);
  if (auto e = OrderRefParams(p, &ref)) return Fail(*e, reply);
  std::string_view cancel_id;
  if (auto v = p.Get("newClientOrderId")) {
    if (!v->empty() && !os::IsValidClientOrderId(*v)) {
      return Fail(
          os::errors::IllegalChars("newClientOrderId", os::kClientOrderIdLegalRange), reply);
    }
    cancel_id = *v;
  }
  ref.now = clock_.NowNanos();
  const int64_t now_ms = Ms(ref.now);
  orders_.CancelOrderAsync(ref, [cancel_id = std::string(cancel_id), now_ms,
                                 reply = std::move(reply)](os::ApiResult<os::OrderInfo> r) {
    if (!r.ok()) return Fail(r.error(), reply);
    std::string out;
    CancelledOrder(r.value(), cancel_id, now_ms, &out);
    reply(200, out);
  });
}

void RestApi::QueryOrder(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  os::OrderRef ref;
  ref.user = key.user;
  ref.symbol.assign(symbol);
  if (auto e = OrderRefParams(p, &ref)) return Fail(*e, reply);
  ref.now = clock_.NowNanos();
  os::ApiResult<os::OrderInfo> r = orders_.QueryOrder(ref);
  if (!r.ok()) return Fail(r.error(), reply);
  std::string out;
  QueriedOrder(r.value(), &out);
  reply(200, out);
}

void RestApi::OpenOrders(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto v = p.Get("symbol")) {
    if (v->empty()) return Fail(ApiError(ErrorId::kParamEmpty, "symbol"), reply);
    if (!IsSymbolName(*v)) {
      return Fail(os::errors::IllegalChars("symbol", kSymbolPattern), reply);
    }
    if (Find(*v) < 0) return Fail(os::errors::InvalidSymbol(), reply);
    symbol = *v;
  }
  auto r = orders_.OpenOrders(key.user, symbol);
  if (!r.ok()) return Fail(r.error(), reply);
  std::string out;
  out.push_back('[');
  for (size_t i = 0; i < r.value().size(); ++i) {
    if (i) out.push_back(',');
    QueriedOrder(r.value()[i], &out);
  }
  out.push_back(']');
  reply(200, out);
}

void RestApi::CancelOpenOrders(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  const protocol::Timestamp now = clock_.NowNanos();
  orders_.CancelOpenOrdersAsync(
      key.user, symbol, now,
      [now, reply = std::move(reply)](os::ApiResult<std::vector<os::OrderInfo>> r) {
        if (!r.ok()) return Fail(r.error(), reply);
        std::string out;
        out.push_back('[');
        for (size_t i = 0; i < r.value().size(); ++i) {
          if (i) out.push_back(',');
          CancelledOrder(r.value()[i], {}, Ms(now), &out);
        }
        out.push_back(']');
        reply(200, out);
      });
}

void RestApi::AllOrders(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  std::optional<int64_t> order_id, start, end;
  size_t limit = 0;
  if (auto e = OptionalInt(p, "orderId", &order_id)) return Fail(*e, reply);
  if (auto e = OptionalInt(p, "startTime", &start)) return Fail(*e, reply);
  if (auto e = OptionalInt(p, "endTime", &end)) return Fail(*e, reply);
  if (auto e = internal::Limit(p, kDefaultLimit, kMaxLimit, &limit)) return Fail(*e, reply);
  auto r = orders_.AllOrders(key.user, symbol);
  if (!r.ok()) return Fail(r.error(), reply);
  // Oldest first. With orderId: the first `limit` orders from it; otherwise
  // the most recent `limit` (Binance's rule).
  std::vector<const os::OrderInfo*> sel;
  for (const os::OrderInfo& o : r.value()) {
    if (order_id && static_cast<int64_t>(o.order_id) < *order_id) continue;
    if (start && Ms(o.time) < *start) continue;
    if (end && Ms(o.time) > *end) continue;
    sel.push_back(&o);
  }
  const auto [first, last] = HistoryWindow(sel.size(), limit, order_id.has_value());
  std::string out;
  out.push_back('[');
  for (size_t i = first; i < last; ++i) {
    if (i != first) out.push_back(',');
    QueriedOrder(*sel[i], &out);
  }
  out.push_back(']');
  reply(200, out);
}

void RestApi::Account(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  bool omit_zero = false;
  if (auto v = p.Get("omitZeroBalances")) {
    if (*v == "true") {
      omit_zero = true;
    } else if (*v != "false") {
      return Fail(ApiError(ErrorId::kInvalidParameter, "omitZeroBalances"), reply);
    }
  }
  auto r = orders_.Account(key.user);
  if (!r.ok()) return Fail(r.error(), reply);
  const os::AccountInfo& a = r.value();
  // Commission fields are left out: fees are per symbol here (exchangeInfo
  // has no account-wide rate to report), and neither client reads them.
  std::string out;
  out.append("{\"canTrade\":true,\"canWithdraw\":true,\"canDeposit\":true,\"brokered\":false,"
             "\"requireSelfTradePrevention\":false,\"preventSor\":false");
  Int("updateTime", Ms(a.update_time), &out);
  out.append(",\"accountType\":\"SPOT\",\"balances\":[");
  bool first = true;
  for (const os::BalanceInfo& b : a.balances) {
    if (omit_zero && b.free == 0 && b.locked == 0) continue;
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"asset\":\"");
    os::AppendJsonEscaped(b.asset, &out);
    out.push_back('"');
    Amt("free", b.free, &out);
    Amt("locked", b.locked, &out);
    out.push_back('}');
  }
  out.append("],\"permissions\":[\"SPOT\"]");
  Int("uid", static_cast<int64_t>(a.user), &out);
  out.push_back('}');
  reply(200, out);
}

void RestApi::MyTrades(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  std::optional<int64_t> order_id, start, end, from_id;
  size_t limit = 0;
  if (auto e = OptionalInt(p, "orderId", &order_id)) return Fail(*e, reply);
  if (auto e = OptionalInt(p, "startTime", &start)) return Fail(*e, reply);
  if (auto e = OptionalInt(p, "endTime", &end)) return Fail(*e, reply);
  if (auto e = OptionalInt(p, "fromId", &from_id)) return Fail(*e, reply);
  if (auto e = internal::Limit(p, kDefaultLimit, kMaxLimit, &limit)) return Fail(*e, reply);
  if (from_id && (start || end)) return Fail(ApiError(ErrorId::kOptionalParamsBadCombo), reply);
  auto r = orders_.MyTrades(key.user, symbol);
  if (!r.ok()) return Fail(r.error(), reply);
  std::vector<const os::TradeInfo*> sel;
  for (const os::TradeInfo& t : r.value()) {
    if (order_id && static_cast<int64_t>(t.order_id) != *order_id) continue;
    if (from_id && static_cast<int64_t>(t.id) < *from_id) continue;
    if (start && Ms(t.time) < *start) continue;
    if (end && Ms(t.time) > *end) continue;
    sel.push_back(&t);
  }
  // With fromId: the first `limit` from it; otherwise the most recent `limit`.
  const auto [first, last] = HistoryWindow(sel.size(), limit, from_id.has_value());
  std::string out;
  out.push_back('[');
  for (size_t i = first; i < last; ++i) {
    const os::TradeInfo& t = *sel[i];
    if (i != first) out.push_back(',');
    out.append("{\"symbol\":\"");
    os::AppendJsonEscaped(t.symbol, &out);
    out.push_back('"');
    Int("id", static_cast<int64_t>(t.id), &out);
    Int("orderId", static_cast<int64_t>(t.order_id), &out);
    Int("orderListId", -1, &out);
    Amt("price", t.price, &out);
    Amt("qty", t.qty, &out);
    Amt("quoteQty", t.quote_qty, &out);
    Amt("commission", t.commission, &out);
    Str("commissionAsset", t.commission_asset, &out);
    Int("time", Ms(t.time), &out);
    Bool("isBuyer", t.is_buyer, &out);
    Bool("isMaker", t.is_maker, &out);
    Bool("isBestMatch", true, &out);
    out.push_back('}');
  }
  out.push_back(']');
  reply(200, out);
}

// ---- cancelReplace ----

namespace {

enum class Outcome : uint8_t { kSuccess, kFailure, kNotAttempted };

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kSuccess: return "SUCCESS";
    case Outcome::kFailure: return "FAILURE";
    case Outcome::kNotAttempted: return "NOT_ATTEMPTED";
  }
  return "FAILURE";
}

// Which half of a cancel-replace an order-service error belongs to: the
// cancel (unknown / not open order), the new order (filters, funds,
// engine-style rejects), or neither (a malformed request: answered as a
// plain error, as Binance answers parameter errors).
enum class Half : uint8_t { kCancel, kNewOrder, kRequest };
Half HalfOf(const ApiError& e) {
  if (e.code() == -2011 || e.code() == -2013) return Half::kCancel;
  if (e.code() == -1013 || e.code() == -2010) return Half::kNewOrder;
  return Half::kRequest;
}

// {"code":-2021|-2022,"msg":..,"data":{"cancelResult":..,"newOrderResult":..,
// "cancelResponse":<error or order or null>,"newOrderResponse":<...>}}
// `cancel_json` / `new_json` are complete JSON values.
void CancelReplaceFailure(ErrorId id, Outcome cancel, Outcome placed, std::string_view cancel_json,
                          std::string_view new_json, const RestApi::Reply& reply) {
  const ApiError e(id);
  std::string out;
  e.AppendJson(&out);
  out.pop_back();  // the error object's '}'
  out.append(",\"data\":{\"cancelResult\":\"").append(OutcomeName(cancel));
  out.append("\",\"newOrderResult\":\"").append(OutcomeName(placed));
  out.append("\",\"cancelResponse\":").append(cancel_json);
  out.append(",\"newOrderResponse\":").append(new_json);
  out.append("}}");
  reply(e.http_status(), out);
}

}  // namespace

void RestApi::CancelReplace(const KeyEntry& key, const RequestParams& p, Reply reply) const {
  std::string_view symbol;
  if (auto e = SymbolParam(p, &symbol)) return Fail(*e, reply);
  std::string_view mode;
  if (auto e = Mandatory(p, "cancelReplaceMode", &mode)) return Fail(*e, reply);
  const bool allow_failure = mode == "ALLOW_FAILURE";
  if (!allow_failure && mode != "STOP_ON_FAILURE") {
    return Fail(ApiError(ErrorId::kInvalidParameter, "cancelReplaceMode"), reply);
  }
  os::CancelReplaceRequest r;
  r.cancel.user = key.user;
  r.cancel.symbol.assign(symbol);
  {
    auto id = p.Get("cancelOrderId");
    auto orig = p.Get("cancelOrigClientOrderId");
    if ((!id || id->empty()) && (!orig || orig->empty())) {
      return Fail(ApiError(ErrorId::kEitherParam, "cancelOrderId", "cancelOrigClientOrderId"),
                  reply);
    }
    if (id && !id->empty()) {
      auto v = os::ParseUnsigned("cancelOrderId", *id);
      if (!v.ok()) return Fail(v.error(), reply);
      r.cancel.order_id = v.value();
    }
    if (orig && !orig->empty()) r.cancel.orig_client_order_id.assign(*orig);
  }
  std::string cancel_id;
  if (auto v = p.Get("cancelNewClientOrderId")) {
    if (!v->empty() && !os::IsValidClientOrderId(*v)) {
      return Fail(
          os::errors::IllegalChars("cancelNewClientOrderId", os::kClientOrderIdLegalRange), reply);
    }
    cancel_id.assign(*v);
  }
  RespType rt;
  if (auto e = OrderParams(p, key.user, symbol, &r.order, &rt)) return Fail(*e, reply);
  const protocol::Timestamp now = clock_.NowNanos();
  r.cancel.now = now;
  r.order.now = now;
  const int64_t now_ms = Ms(now);

  // Each continuation may run on an order-service thread: it captures what
  // it renders by value and goes on with the async calls only.
  orders_.CancelReplaceAsync(r, [this, r, rt, allow_failure, now_ms, cancel_id,
                                 reply = std::move(reply)](
                                    os::ApiResult<os::CancelReplaceResult> res) {
    if (res.ok() && res.value().placed_error) {
      // Cancelled, then the new order was refused: Binance's -2021.
      std::string cancel_json;
      CancelledOrder(res.value().cancelled, cancel_id, now_ms, &cancel_json);
      return CancelReplaceFailure(ErrorId::kCancelReplacePartiallyFailed, Outcome::kSuccess,
                                  Outcome::kFailure, cancel_json,
                                  res.value().placed_error->ToJson(), reply);
    }
    if (res.ok()) {
      std::string out;
      out.append("{\"cancelResult\":\"SUCCESS\",\"newOrderResult\":\"SUCCESS\",\"cancelResponse\":");
      CancelledOrder(res.value().cancelled, cancel_id, now_ms, &out);
      out.append(",\"newOrderResponse\":");
      PlacedOrder(res.value().placed, rt, &out);
      out.push_back('}');
      return reply(200, out);
    }
    const ApiError& err = res.error();
    const Half half = HalfOf(err);
    if (half == Half::kRequest) return Fail(err, reply);
    std::string err_json = err.ToJson();
    if (half == Half::kCancel) {
      if (!allow_failure) {
        return CancelReplaceFailure(ErrorId::kCancelReplaceFailed, Outcome::kFailure,
                                    Outcome::kNotAttempted, err_json, "null", reply);
      }
      // ALLOW_FAILURE: the new order goes in although the cancel failed.
      return orders_.PlaceOrderAsync(
          r.order, [rt, err_json = std::move(err_json), reply](os::ApiResult<os::OrderInfo> placed) {
            if (!placed.ok()) {
              return CancelReplaceFailure(ErrorId::kCancelReplaceFailed, Outcome::kFailure,
                                          Outcome::kFailure, err_json, placed.error().ToJson(),
                                          reply);
            }
            std::string order_json;
            PlacedOrder(placed.value(), rt, &order_json);
            CancelReplaceFailure(ErrorId::kCancelReplacePartiallyFailed, Outcome::kFailure,
                                 Outcome::kSuccess, err_json, order_json, reply);
          });
    }
    // The new order was refused by an order service that checks it before it
    // cancels anything (the invoker-mode LocalOrderService), so with
    // STOP_ON_FAILURE the old order is untouched.
    if (!allow_failure) {
      return CancelReplaceFailure(ErrorId::kCancelReplaceFailed, Outcome::kNotAttempted,
                                  Outcome::kFailure, "null", err_json, reply);
    }
    // ALLOW_FAILURE: the cancel still goes through, as on Binance.
    orders_.CancelOrderAsync(r.cancel, [cancel_id, now_ms, err_json = std::move(err_json),
                                        reply](os::ApiResult<os::OrderInfo> cancelled) {
      if (!cancelled.ok()) {
        return CancelReplaceFailure(ErrorId::kCancelReplaceFailed, Outcome::kFailure,
                                    Outcome::kFailure, cancelled.error().ToJson(), err_json,
                                    reply);
      }
      std::string cancel_json;
      CancelledOrder(cancelled.value(), cancel_id, now_ms, &cancel_json);
      CancelReplaceFailure(ErrorId::kCancelReplacePartiallyFailed, Outcome::kSuccess,
                           Outcome::kFailure, cancel_json, err_json, reply);
    });
  });
}

// ---- userDataStream (API key, no signature) ----

const RestApi::KeyEntry* RestApi::AuthenticateKeyOnly(const HttpRequest& req,
                                                      HttpResponse& resp) const {
  std::optional<std::string_view> header;
  if (!req.api_key.empty()) header = req.api_key;
  if (auto e = CheckApiKeyFormat(header)) {
    SetError(*e, resp);
    return nullptr;
  }
  const KeyEntry* key = FindKey(req.api_key);
  if (key == nullptr) {
    SetError(os::errors::InvalidApiKey(), resp);
    return nullptr;
  }
  // @binance/connector sends Content-Type: application/json with its
  // parameters in the query; only a form body carries parameters.
  std::string_view body = req.body;
  if (req.content_type.substr(0, 16) == "application/json") body = {};
  if (auto e = tl_params.Parse(req.query, body)) {
    SetError(*e, resp);
    return nullptr;
  }
  return key;
}

void RestApi::CreateListenKey(const HttpRequest& req, HttpResponse& resp) const {
  const KeyEntry* key = AuthenticateKeyOnly(req, resp);
  if (key == nullptr) return;
  const std::string lk = listen_keys_.Create(key->user, clock_.NowNanos());
  resp.body().append("{\"listenKey\":\"").append(lk).append("\"}");
}

void RestApi::ExtendListenKey(const HttpRequest& req, HttpResponse& resp) const {
  const KeyEntry* key = AuthenticateKeyOnly(req, resp);
  if (key == nullptr) return;
  std::string_view lk;
  if (auto e = Mandatory(tl_params, "listenKey", &lk)) return SetError(*e, resp);
  if (!listen_keys_.Extend(lk, key->user, clock_.NowNanos())) {
    return SetError(ApiError(ErrorId::kInvalidListenKey), resp);
  }
  resp.body().append("{}");
}

void RestApi::CloseListenKey(const HttpRequest& req, HttpResponse& resp) const {
  const KeyEntry* key = AuthenticateKeyOnly(req, resp);
  if (key == nullptr) return;
  std::string_view lk;
  if (auto e = Mandatory(tl_params, "listenKey", &lk)) return SetError(*e, resp);
  const protocol::Timestamp now = clock_.NowNanos();
  if (!listen_keys_.Close(lk, key->user, now)) {
    return SetError(ApiError(ErrorId::kInvalidListenKey), resp);
  }
  if (listen_key_closed_) listen_key_closed_(lk, now);
  resp.body().append("{}");
}

void RestApi::ExpireListenKeys() const {
  const protocol::Timestamp now = clock_.NowNanos();
  for (const std::string& key : listen_keys_.TakeExpired(now)) {
    if (listen_key_closed_) listen_key_closed_(key, now);
  }
}

std::optional<protocol::UserId> RestApi::UserOfListenKey(std::string_view listen_key,
                                                         protocol::Timestamp now) const {
  return listen_keys_.UserOf(listen_key, now);
}

}  // namespace xc::gateway
