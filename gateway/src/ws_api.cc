#include "xc/gateway/ws_api.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <span>

#include "xc/gateway/params.h"
#include "xc/gateway/request_auth.h"
#include "xc/order_service/api_error.h"
#include "src/rest_util.h"

namespace xc::gateway {

namespace os = xc::order_service;
using os::ApiError;
using os::ErrorId;
using internal::AppendInt;

namespace {

using SteadyClock = std::chrono::steady_clock;

enum class Auth : uint8_t {
  kNone,     // public
  kKey,      // apiKey only (userDataStream.start/ping/stop)
  kSigned,   // apiKey + timestamp + signature, or a logged-in session
  kSession,  // needs session.logon first
};

enum class Call : uint8_t {
  kPing, kTime, kExchangeInfo,
  kDepth, kTrades, kAggTrades, kKlines, kAvgPrice, kTicker24hr, kTickerPrice, kBookTicker,
  kSigned,  // a RestApi::SignedEndpoint
  kLogon, kStatus, kLogout, kSubscribe, kSubscribeSignature, kUnsubscribe, kSubscriptions,
  kListenKeyStart, kListenKeyPing, kListenKeyStop,
};

struct Method {
  std::string_view name;
  Auth auth;
  Call call;
  // The REST request it stands for (its weight and kind for the limiter).
  std::string_view rest_method;
  std::string_view rest_path;
  RestApi::SignedEndpoint endpoint = nullptr;
};

constexpr Method kMethods[] = {
    {"ping", Auth::kNone, Call::kPing, "GET", "/api/v3/ping"},
    {"time", Auth::kNone, Call::kTime, "GET", "/api/v3/time"},
    {"exchangeInfo", Auth::kNone, Call::kExchangeInfo, "GET", "/api/v3/exchangeInfo"},
    {"depth", Auth::kNone, Call::kDepth, "GET", "/api/v3/depth"},
    {"trades.recent", Auth::kNone, Call::kTrades, "GET", "/api/v3/trades"},
    {"trades.aggregate", Auth::kNone, Call::kAggTrades, "GET", "/api/v3/aggTrades"},
    {"klines", Auth::kNone, Call::kKlines, "GET", "/api/v3/klines"},
    {"avgPrice", Auth::kNone, Call::kAvgPrice, "GET", "/api/v3/avgPrice"},
    {"ticker.24hr", Auth::kNone, Call::kTicker24hr, "GET", "/api/v3/ticker/24hr"},
    {"ticker.price", Auth::kNone, Call::kTickerPrice, "GET", "/api/v3/ticker/price"},
    {"ticker.book", Auth::kNone, Call::kBookTicker, "GET", "/api/v3/ticker/bookTicker"},
    {"order.place", Auth::kSigned, Call::kSigned, "POST", "/api/v3/order", &RestApi::NewOrder},
    {"order.test", Auth::kSigned, Call::kSigned, "POST", "/api/v3/order/test",
     &RestApi::TestOrder},
    {"order.cancel", Auth::kSigned, Call::kSigned, "DELETE", "/api/v3/order",
     &RestApi::CancelOrder},
    {"order.cancelReplace", Auth::kSigned, Call::kSigned, "POST", "/api/v3/order/cancelReplace",
     &RestApi::CancelReplace},
    {"order.status", Auth::kSigned, Call::kSigned, "GET", "/api/v3/order", &RestApi::QueryOrder},
    {"openOrders.status", Auth::kSigned, Call::kSigned, "GET", "/api/v3/openOrders",
     &RestApi::OpenOrders},
    {"openOrders.cancelAll", Auth::kSigned, Call::kSigned, "DELETE", "/api/v3/openOrders",
     &RestApi::CancelOpenOrders},
    {"allOrders", Auth::kSigned, Call::kSigned, "GET", "/api/v3/allOrders", &RestApi::AllOrders},
    {"account.status", Auth::kSigned, Call::kSigned, "GET", "/api/v3/account",
     &RestApi::Account},
    {"myTrades", Auth::kSigned, Call::kSigned, "GET", "/api/v3/myTrades", &RestApi::MyTrades},
    {"session.logon", Auth::kSigned, Call::kLogon, "GET", "/ws-api/v3/session.logon"},
    {"session.status", Auth::kNone, Call::kStatus, "GET", "/ws-api/v3/session.status"},
    {"session.logout", Auth::kNone, Call::kLogout, "GET", "/ws-api/v3/session.logout"},
    {"userDataStream.subscribe", Auth::kSession, Call::kSubscribe, "GET",
     "/ws-api/v3/userDataStream.subscribe"},
    {"userDataStream.subscribe.signature", Auth::kSigned, Call::kSubscribeSignature, "GET",
     "/ws-api/v3/userDataStream.subscribe"},
    {"userDataStream.unsubscribe", Auth::kNone, Call::kUnsubscribe, "GET",
     "/ws-api/v3/userDataStream.unsubscribe"},
    {"session.subscriptions", Auth::kNone, Call::kSubscriptions, "GET",
     "/ws-api/v3/session.subscriptions"},
    {"userDataStream.start", Auth::kKey, Call::kListenKeyStart, "POST", "/api/v3/userDataStream"},
    {"userDataStream.ping", Auth::kKey, Call::kListenKeyPing, "PUT", "/api/v3/userDataStream"},
    {"userDataStream.stop", Auth::kKey, Call::kListenKeyStop, "DELETE",
     "/api/v3/userDataStream"},
};
constexpr uint32_t kNumMethods = sizeof(kMethods) / sizeof(kMethods[0]);

// Index into kMethods of `name` (after any "v3/" style prefix), or
// kUnmatched.
uint32_t FindMethod(std::string_view name) {
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  for (uint32_t i = 0; i < kNumMethods; ++i) {
    if (kMethods[i].name == name) return i;
  }
  return scaling::RequestObserver::kUnmatched;
}

// The bytes encodeURIComponent leaves as they are: A-Z a-z 0-9 - _ . ! ~ * ' ( ).
constexpr auto kUriPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' ||
           c == '(' || c == ')';
  }
  return t;
}();

bool IsUriPlain(std::string_view v) {
  for (char c : v) {
    if (!kUriPlain[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

// encodeURIComponent: everything but kUriPlain as %XX. Runs of plain bytes
// are appended whole.
void AppendUriComponent(std::string_view v, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t i = 0;
  while (i < v.size()) {
    size_t run = i;
    while (run < v.size() && kUriPlain[static_cast<unsigned char>(v[run])]) ++run;
    out->append(v.data() + i, run - i);
    if (run == v.size()) break;
    const auto c = static_cast<unsigned char>(v[run]);
    const char esc[3] = {'%', kHex[c >> 4], kHex[c & 15]};
    out->append(esc, 3);
    i = run + 1;
  }
}

// One request's params as the signature sees them.
struct JsonParam {
  std::string_view name;
  std::string_view value;  // unescaped string content, or the JSON text
};

// Per I/O thread scratch: requests on one thread never overlap.
struct Scratch {
  simdjson::ondemand::parser parser;
  std::string input;        // the message, padded for simdjson
  std::vector<JsonParam> params;
  std::string raw, encoded;  // the two signature payloads
  // The query the REST code reads: encoded, or raw itself when no name or
  // value has a byte to percent-encode (then the two are the same bytes).
  std::string_view query;
  RequestParams request;
};
thread_local Scratch tl_scratch;

int64_t NowMs(const WallClock& clock) { return clock.NowNanos() / 1'000'000; }

// One entry of "rateLimits": `head` is its text up to the limit's value.
void AppendRateLimit(std::string_view head, uint32_t limit, uint32_t count, std::string* r) {
  r->append(head);
  AppendInt(limit, r);
  r->append(",\"count\":");
  AppendInt(count, r);
  r->push_back('}');
}

// ,"rateLimits":[...] as Binance shows it: the request weight, and for a
// new order the order counts. At most kRateLimitsBytes.
constexpr size_t kRateLimitsBytes = 320;
void AppendRateLimits(const RateLimits& lim, const Admission& a, std::string* r) {
  AppendRateLimit(
      ",\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\","
      "\"intervalNum\":1,\"limit\":",
      lim.request_weight_per_min, a.used_weight_1m, r);
  if (a.new_order) {
    AppendRateLimit(
        ",{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":",
        lim.orders_per_10s, a.order_count_10s, r);
    AppendRateLimit(
        ",{\"rateLimitType\":\"ORDERS\",\"interval\":\"DAY\",\"intervalNum\":1,\"limit\":",
        lim.orders_per_day, a.order_count_1d, r);
  }
  r->push_back(']');
}

}  // namespace

// ---- Session ----

class WsApi::Session final : public WsHandler, public std::enable_shared_from_this<Session> {
 public:
  Session(WsApi* api, std::shared_ptr<WsSession> ws, std::string ip, int64_t connected_ms,
          bool return_rate_limits)
      : api_(api),
        ws_(std::move(ws)),
        ip_(std::move(ip)),
        connected_ms_(connected_ms),
        return_rate_limits_(return_rate_limits) {
    api_->sessions_.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() override { api_->sessions_.fetch_sub(1, std::memory_order_relaxed); }

  void OnMessage(std::string_view text) override;
  void OnClose() override {
    if (api_->users_ != nullptr) {
      for (const auto& s : subscriptions_) api_->users_->Unsubscribe(s.token);
    }
    subscriptions_.clear();
    ws_.reset();
  }

 private:
  struct Subscription {
    int64_t id;
    uint64_t token;
  };
  // What one answer needs after the handler returned.
  struct Pending {
    std::shared_ptr<WsSession> ws;
    std::string id;          // the request id's JSON text
    // The limiter's counts for the answer's "rateLimits", formatted there
    // (AppendRateLimits); none when the request asked for none.
    struct RateLimitsShown {
      RateLimits limits;
      Admission admission;
    };
    std::optional<RateLimitsShown> rate_limits;
    uint32_t method;
    SteadyClock::time_point start;
    scaling::RequestObserver* observer;
  };

  void Answer(const Pending& p, int status, std::string_view body) const;
  void Fail(const Pending& p, const ApiError& e) const {
    std::string body;
    e.AppendJson(&body);
    Answer(p, e.http_status(), body);
  }
  // The verified key of a signed or API-key request (writes the error).
  const RestApi::KeyEntry* Authenticate(const Pending& p, const Method& m,
                                        std::optional<std::string_view> api_key,
                                        std::optional<std::string_view> signature,
                                        std::string_view* key_text);
  void Dispatch(Pending& p, const Method& m, const RestApi::KeyEntry* key,
                std::string_view key_text);
  void SessionInfo(const Pending& p, bool user_data);

  WsApi* const api_;
  std::shared_ptr<WsSession> ws_;
  const std::string ip_;
  const int64_t connected_ms_;
  // I/O thread only.
  const RestApi::KeyEntry* logon_ = nullptr;
  std::string logon_key_;
  int64_t authorized_ms_ = 0;
  bool return_rate_limits_;  // the connection's default (URL ?returnRateLimits=false)
  std::vector<Subscription> subscriptions_;
  int64_t next_subscription_ = 0;
};

void WsApi::Session::Answer(const Pending& p, int status, std::string_view body) const {
  auto out = std::make_shared<std::string>();
  out->reserve(body.size() + p.id.size() + (p.rate_limits ? kRateLimitsBytes : 0) + 40);
  out->append("{\"id\":").append(p.id).append(",\"status\":");
  AppendInt(status, out.get());
  out->append(status == 200 ? ",\"result\":" : ",\"error\":");
  out->append(body);
  if (p.rate_limits) AppendRateLimits(p.rate_limits->limits, p.rate_limits->admission, out.get());
  out->push_back('}');
  if (p.ws) p.ws->Send(std::move(out));
  if (p.observer != nullptr) {
    p.observer->OnRequest(p.method, status,
                          std::chrono::duration_cast<std::chrono::nanoseconds>(
                              SteadyClock::now() - p.start)
                              .count());
  }
}

void WsApi::Session::OnMessage(std::string_view text) {
  Scratch& s = tl_scratch;
  Pending p{ws_, "null", {}, scaling::RequestObserver::kUnmatched, SteadyClock::now(),
            api_->observer_};
  s.input.assign(text);
  s.input.resize(text.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (s.parser.iterate(s.input.data(), text.size(), s.input.size()).get(doc) ||
      doc.get_object().get(obj)) {
    return Fail(p, ApiError(ErrorId::kInvalidJsonRequest));
  }
  std::string_view method_name;
  bool has_method = false, bad = false, has_params = false;
  s.params.clear();
  // Fields in any order; each value is read once (on-demand parsing).
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      bad = true;
      break;
    }
    simdjson::ondemand::value v;
    if (field.value().get(v)) {
      bad = true;
      break;
    }
    if (key == "id") {
      simdjson::ondemand::json_type t;
      if (v.type().get(t)) {
        bad = true;
        break;
      }
      std::string_view raw;
      if (t == simdjson::ondemand::json_type::string) {
        std::string_view str;
        if (v.get_string().get(str) || str.size() > 64) {
          bad = true;
          break;
        }
        p.id.assign("\"");
        os::AppendJsonEscaped(str, &p.id);
        p.id.push_back('"');
      } else if (t == simdjson::ondemand::json_type::number) {
        int64_t n;
        if (v.get_int64().get(n)) {
          bad = true;
          break;
        }
        p.id.clear();
        AppendInt(n, &p.id);
      } else if (t != simdjson::ondemand::json_type::null) {
        bad = true;
        break;
      }
    } else if (key == "method") {
      if (v.get_string().get(method_name)) {
        bad = true;
        break;
      }
      has_method = true;
    } else if (key == "params") {
      simdjson::ondemand::object po;
      if (v.get_object().get(po)) {
        return Fail(p, ApiError(ErrorId::kInvalidJsonParams));
      }
      has_params = true;
      for (auto pf : po) {
        JsonParam jp;
        simdjson::ondemand::value pv;
        simdjson::ondemand::json_type t;
        if (pf.unescaped_key().get(jp.name) || pf.value().get(pv) || pv.type().get(t)) {
          bad = true;
          break;
        }
        if (t == simdjson::ondemand::json_type::string) {
          if (pv.get_string().get(jp.value)) {
            bad = true;
            break;
          }
        } else if (t == simdjson::ondemand::json_type::array) {
          simdjson::ondemand::array arr;
          if (pv.get_array().get(arr) || arr.raw_json().get(jp.value)) {
            bad = true;
            break;
          }
        } else if (t == simdjson::ondemand::json_type::object) {
          simdjson::ondemand::object o;
          if (pv.get_object().get(o) || o.raw_json().get(jp.value)) {
            bad = true;
            break;
          }
        } else {
          jp.value = pv.raw_json_token();
          while (!jp.value.empty() && (jp.value.back() == ' ' || jp.value.back() == '\n' ||
                                       jp.value.back() == '\r' || jp.value.back() == '\t')) {
            jp.value.remove_suffix(1);
          }
        }
        s.params.push_back(jp);
      }
      if (bad) break;
    }
  }
  (void)has_params;
  if (bad || !has_method) {
    return Fail(p, ApiError(ErrorId::kInvalidJsonRequest));
  }
  p.method = FindMethod(method_name);
  if (p.method == scaling::RequestObserver::kUnmatched) {
    return Fail(p, ApiError(ErrorId::kUnsupportedOperation));
  }
  const Method& m = kMethods[p.method];

  // Sorted by name: the signature's order. A repeated name is refused by
  // the parameter parser below (-1101), as REST refuses it.
  std::sort(s.params.begin(), s.params.end(),
            [](const JsonParam& a, const JsonParam& b) { return a.name < b.name; });
  std::optional<std::string_view> api_key, signature;
  bool return_rate_limits = return_rate_limits_;
  s.raw.clear();
  bool plain = true;
  for (const JsonParam& jp : s.params) {
    if (jp.name == "signature") {
      signature = jp.value;
      continue;
    }
    if (jp.name == "apiKey") api_key = jp.value;
    if (jp.name == "returnRateLimits") return_rate_limits = jp.value != "false";
    if (!s.raw.empty()) s.raw.push_back('&');
    s.raw.append(jp.name).push_back('=');
    s.raw.append(jp.value);
    plain = plain && IsUriPlain(jp.name) && IsUriPlain(jp.value);
  }
  // Nearly every request (symbols, numbers, keys, client ids) is plain: the
  // encoded form would be raw again, byte for byte, so it is not built.
  s.query = s.raw;
  if (!plain) {
    s.encoded.clear();
    for (const JsonParam& jp : s.params) {
      if (jp.name == "signature") continue;
      if (!s.encoded.empty()) s.encoded.push_back('&');
      AppendUriComponent(jp.name, &s.encoded);
      s.encoded.push_back('=');
      AppendUriComponent(jp.value, &s.encoded);
    }
    s.query = s.encoded;
  }
  if (auto e = s.request.Parse(s.query, {})) return Fail(p, *e);

  const RestApi::KeyEntry* key = nullptr;
  // A view of the message's apiKey or of logon_key_, both alive until
  // Dispatch returns (nothing keeps it longer).
  std::string_view key_text;
  if (m.auth == Auth::kSigned || m.auth == Auth::kKey) {
    key = Authenticate(p, m, api_key, signature, &key_text);
    if (key == nullptr) return;
  } else if (m.auth == Auth::kSession) {
    if (logon_ == nullptr) return Fail(p, ApiError(ErrorId::kUnauthorized));
    key = logon_;
    key_text = logon_key_;
  }

  // The rate limiter counts what the REST request would.
  if (api_->limiter_ != nullptr) {
    const EndpointCost cost = EndpointWeight(m.rest_method, m.rest_path, s.query);
    const Admission a =
        api_->limiter_->Admit(ip_, key_text, cost, api_->rest_.clock().NowNanos());
    if (return_rate_limits) p.rate_limits.emplace(api_->limiter_->limits(), a);
    if (a.verdict != Admission::Verdict::kOk) return Fail(p, RateLimiter::RejectionError(a));
  }
  Dispatch(p, m, key, key_text);
}

const RestApi::KeyEntry* WsApi::Session::Authenticate(const Pending& p, const Method& m,
                                                      std::optional<std::string_view> api_key,
                                                      std::optional<std::string_view> signature,
                                                      std::string_view* key_text) {
  Scratch& s = tl_scratch;
  const RestApi::KeyEntry* key = nullptr;
  const bool session = !api_key && logon_ != nullptr;
  if (session) {
    key = logon_;
    *key_text = logon_key_;
  } else {
    if (!api_key || api_key->empty()) {
      Fail(p, ApiError(ErrorId::kMandatoryParam, "apiKey"));
      return nullptr;
    }
    if (auto e = CheckApiKeyFormat(api_key)) {
      Fail(p, *e);
      return nullptr;
    }
    key = api_->rest_.FindKey(*api_key);
    if (key == nullptr) {
      Fail(p, os::errors::InvalidApiKey());
      return nullptr;
    }
    *key_text = *api_key;
  }
  if (m.auth == Auth::kKey) return key;
  auto t = CheckRequestTime(s.request, api_->rest_.clock().NowNanos());
  if (!t.ok()) {
    Fail(p, t.error());
    return nullptr;
  }
  // A logged-in session may leave the signature out (session.logon itself
  // always carries one).
  if (session && !signature) return key;
  if (!signature || signature->empty()) {
    Fail(p, ApiError(ErrorId::kMandatoryParam, "signature"));
    return nullptr;
  }
  const std::string_view raw = s.raw;
  const std::string_view enc = s.query;
  if (key->key.Verify(std::span<const std::string_view>(&raw, 1), *signature)) return key;
  // A query that is not raw itself differs from it (some byte was encoded).
  if (enc.data() != raw.data() &&
      key->key.Verify(std::span<const std::string_view>(&enc, 1), *signature)) {
    return key;
  }
  Fail(p, ApiError(ErrorId::kInvalidSignature));
  return nullptr;
}

void WsApi::Session::SessionInfo(const Pending& p, bool user_data) {
  std::string out = "{\"apiKey\":";
  if (logon_ != nullptr) {
    out.append("\"").append(logon_key_).append("\",\"authorizedSince\":");
    AppendInt(authorized_ms_, &out);
  } else {
    out.append("null,\"authorizedSince\":null");
  }
  out.append(",\"connectedSince\":");
  AppendInt(connected_ms_, &out);
  out.append(",\"returnRateLimits\":").append(return_rate_limits_ ? "true" : "false");
  out.append(",\"serverTime\":");
  AppendInt(NowMs(api_->rest_.clock()), &out);
  out.append(",\"userDataStream\":").append(user_data ? "true" : "false");
  out.push_back('}');
  Answer(p, 200, out);
}

void WsApi::Session::Dispatch(Pending& p, const Method& m, const RestApi::KeyEntry* key,
                              std::string_view key_text) {
  Scratch& s = tl_scratch;
  const RestApi& rest = api_->rest_;
  // The REST handlers that read a query: the params, percent-encoded.
  auto via_http = [&]<typename T>(const T* target,
                                  void (T::*handler)(const HttpRequest&, HttpResponse&) const) {
    if (target == nullptr) return Fail(p, ApiError(ErrorId::kUnsupportedOperation));
    HttpRequest req;
    req.method = m.rest_method;
    req.path = m.rest_path;
    req.query = s.query;
    req.api_key = key_text;
    req.remote_ip = ip_;
    HttpResponse resp;
    (target->*handler)(req, resp);
    Answer(p, resp.status(), resp.body());
  };
  const MarketDataApi* md = api_->market_;
  switch (m.call) {
    case Call::kPing:
      return Answer(p, 200, "{}");
    case Call::kTime: {
      std::string out = "{\"serverTime\":";
      AppendInt(NowMs(rest.clock()), &out);
      out.push_back('}');
      return Answer(p, 200, out);
    }
    case Call::kExchangeInfo: return via_http(&rest, &RestApi::ExchangeInfo);
    case Call::kDepth: return via_http(md, &MarketDataApi::Depth);
    case Call::kTrades: return via_http(md, &MarketDataApi::Trades);
    case Call::kAggTrades: return via_http(md, &MarketDataApi::AggTrades);
    case Call::kKlines: return via_http(md, &MarketDataApi::Klines);
    case Call::kAvgPrice: return via_http(md, &MarketDataApi::AvgPrice);
    case Call::kTicker24hr: return via_http(md, &MarketDataApi::Ticker24hr);
    case Call::kTickerPrice: return via_http(md, &MarketDataApi::TickerPrice);
    case Call::kBookTicker: return via_http(md, &MarketDataApi::BookTicker);
    case Call::kSigned: {
      // The answer may come later, from the order service's thread.
      (rest.*m.endpoint)(*key, s.request,
                         [self = shared_from_this(), p = std::move(p)](
                             int status, std::string_view body) { self->Answer(p, status, body); });
      return;
    }
    case Call::kLogon:
      logon_ = key;
      logon_key_.assign(key_text);
      authorized_ms_ = NowMs(rest.clock());
      return SessionInfo(p, !subscriptions_.empty());
    case Call::kStatus:
      return SessionInfo(p, !subscriptions_.empty());
    case Call::kLogout:
      logon_ = nullptr;
      logon_key_.clear();
      return SessionInfo(p, !subscriptions_.empty());
    case Call::kSubscribe:
    case Call::kSubscribeSignature: {
      if (api_->users_ == nullptr) return Fail(p, ApiError(ErrorId::kUnsupportedOperation));
      const int64_t id = next_subscription_++;
      subscriptions_.push_back({id, api_->users_->Subscribe(key->user, ws_, id)});
      std::string out = "{\"subscriptionId\":";
      AppendInt(id, &out);
      out.push_back('}');
      return Answer(p, 200, out);
    }
    case Call::kUnsubscribe: {
      std::optional<int64_t> only;
      if (auto v = s.request.Get("subscriptionId")) {
        auto n = os::ParseUnsigned("subscriptionId", *v);
        if (!n.ok()) return Fail(p, n.error());
        only = static_cast<int64_t>(n.value());
      }
      bool found = false;
      for (size_t i = 0; i < subscriptions_.size();) {
        if (!only || subscriptions_[i].id == *only) {
          if (api_->users_ != nullptr) api_->users_->Unsubscribe(subscriptions_[i].token);
          subscriptions_.erase(subscriptions_.begin() + static_cast<std::ptrdiff_t>(i));
          found = true;
        } else {
          ++i;
        }
      }
      if (only && !found) return Fail(p, ApiError(ErrorId::kInvalidParameter, "subscriptionId"));
      return Answer(p, 200, "{}");
    }
    case Call::kSubscriptions: {
      std::string out = "[";
      for (size_t i = 0; i < subscriptions_.size(); ++i) {
        if (i) out.push_back(',');
        out.append("{\"subscriptionId\":");
        AppendInt(subscriptions_[i].id, &out);
        out.push_back('}');
      }
      out.push_back(']');
      return Answer(p, 200, out);
    }
    case Call::kListenKeyStart: return via_http(&rest, &RestApi::CreateListenKey);
    case Call::kListenKeyPing: return via_http(&rest, &RestApi::ExtendListenKey);
    case Call::kListenKeyStop: return via_http(&rest, &RestApi::CloseListenKey);
  }
}

// ---- WsApi ----

WsApi::WsApi(const RestApi& rest, const MarketDataApi* market, RateLimiter* limiter,
             UserStreamHub* users)
    : rest_(rest), market_(market), limiter_(limiter), users_(users) {}

WsApi::~WsApi() = default;

std::vector<std::pair<std::string, std::string>> WsApi::methods() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Method& m : kMethods) out.emplace_back("WS", std::string(m.name));
  return out;
}

void WsApi::Register(HttpServer& server) { server.RouteWebSocket(kPath, Acceptor()); }

WsAcceptor WsApi::Acceptor() {
  return [this](const HttpRequest& req, std::shared_ptr<WsSession> ws)
             -> std::shared_ptr<WsHandler> {
    if (req.path != kPath) return nullptr;
    const bool rate_limits = req.query.find("returnRateLimits=false") == std::string_view::npos;
    return std::make_shared<Session>(this, std::move(ws), std::string(req.remote_ip),
                                     NowMs(rest_.clock()), rate_limits);
  };
}

}  // namespace xc::gateway
