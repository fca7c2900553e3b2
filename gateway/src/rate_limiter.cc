#include "xc/gateway/rate_limiter.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "rest_util.h"
#include "xc/order_service/api_error.h"

namespace xc::gateway {
namespace {

using order_service::ApiError;
using order_service::ErrorId;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kDay = 86400 * kSecond;
constexpr int64_t kFirstBan = 2 * kMinute;
constexpr int64_t kMaxBan = 3 * kDay;
// An entry not seen for this long may be dropped when its shard is full
// (the longest window that matters for the request limits).
constexpr int64_t kIdle = kMinute;

// One fixed window: `id` is now / length, `count` what was admitted in it.
struct Window {
  int64_t id = -1;
  uint32_t count = 0;
  uint32_t Get(int64_t wid) const { return id == wid ? count : 0; }
  void Add(int64_t wid, uint32_t n) {
    if (id != wid) {
      id = wid;
      count = 0;
    }
    count += n;
  }
  void Sub(int64_t wid, uint32_t n) {
    if (id == wid) count -= std::min(count, n);
  }
};

struct Entry {
  Window weight_1m, raw_1s, orders_1s, orders_10s, orders_1d;
  int64_t last_seen = 0;
  int64_t banned_until = 0;
  uint32_t violations = 0;  // 429s in a row
  uint32_t bans = 0;
};

// Seconds until the window of length `len` containing `now` ends, >= 1.
int64_t SecondsLeft(int64_t now, int64_t len) {
  const int64_t end = (now / len + 1) * len;
  return std::max<int64_t>(1, (end - now + kSecond - 1) / kSecond);
}

// The raw value of `name` in a query or form string; nullopt if absent.
std::optional<std::string_view> RawParam(std::string_view q, std::string_view name) {
  while (!q.empty()) {
    const size_t amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    if (kv.size() > name.size() && kv.substr(0, name.size()) == name && kv[name.size()] == '=') {
      return kv.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string_view> QueryOrBody(std::string_view query, std::string_view body,
                                            std::string_view name) {
  if (auto v = RawParam(query, name)) return v;
  return RawParam(body, name);
}

// Names in a `symbols` value (["A","B"], raw or percent-encoded): commas + 1.
size_t CountSymbols(std::string_view v) {
  if (v.empty()) return 0;
  size_t n = 1;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == ',') ++n;
    if (v[i] == '%' && i + 2 < v.size() && v[i + 1] == '2' && (v[i + 2] == 'C' || v[i + 2] == 'c'))
      ++n;
  }
  return n;
}

uint32_t ParseU32(std::string_view v, uint32_t def) {
  uint32_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  return ec == std::errc() && p == v.data() + v.size() ? x : def;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

EndpointCost EndpointWeight(std::string_view method, std::string_view path,
                            std::string_view query, std::string_view body) {
  constexpr std::string_view kApi = "/api/v3/";
  if (path.substr(0, kApi.size()) != kApi) return {};
  const std::string_view p = path.substr(kApi.size());
  const bool get = method == "GET";
  auto w = [](uint32_t weight) { return EndpointCost{weight, RequestKind::kRead}; };
  if (p == "order") {
    if (method == "POST") return {1, RequestKind::kNewOrder};
    return w(get ? 4 : 1);
  }
  if (p == "order/cancelReplace") return {1, RequestKind::kNewOrder};
  if (p == "order/test") {
    auto v = QueryOrBody(query, body, "computeCommissionRates");
    return w(v && *v == "true" ? 20 : 1);
  }
  if (p == "ping" || p == "time") return w(1);
  if (p == "exchangeInfo") return w(20);
  if (p == "depth") {
    const uint32_t limit = ParseU32(RawParam(query, "limit").value_or("100"), 100);
    return w(limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250);
  }
  if (p == "trades" || p == "historicalTrades") return w(25);
  if (p == "aggTrades") return w(4);
  if (p == "klines" || p == "uiKlines" || p == "avgPrice") return w(2);
  if (p == "ticker/24hr") {
    if (RawParam(query, "symbol")) return w(2);
    if (auto s = RawParam(query, "symbols")) {
      const size_t n = CountSymbols(*s);
      return w(n <= 20 ? 2 : n <= 100 ? 40 : 80);
    }
    return w(80);
  }
  if (p == "ticker/price" || p == "ticker/bookTicker") {
    return w(RawParam(query, "symbol") ? 2 : 4);
  }
  if (p == "openOrders") {
    if (!get) return w(1);
    return w(QueryOrBody(query, body, "symbol") ? 6 : 80);
  }
  if (p == "allOrders" || p == "account") return w(20);
  if (p == "myTrades") return w(QueryOrBody(query, body, "orderId") ? 5 : 20);
  if (p == "userDataStream") return w(2);
  return w(1);
}

// The IP or key table: shards of (name -> Entry), each under its mutex.
class RateLimiter::Table {
 public:
  explicit Table(size_t max_entries)
      : per_shard_(std::max<size_t>(1, (max_entries + kShards - 1) / kShards)) {}

  // Runs fn(Entry&) under the shard's lock, creating the entry (and
  // evicting, see the header) if needed. Returns what fn returns.
  template <typename F>
  auto With(std::string_view name, int64_t now, F&& fn) {
    Shard& s = shards_[StringHash{}(name) % kShards];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(name);
    if (it == s.map.end()) {
      if (s.map.size() >= per_shard_) Evict(s, now);
      it = s.map.emplace(std::string(name), Entry{}).first;
    }
    it->second.last_seen = now;
    return fn(it->second);
  }

  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      n += s.map.size();
    }
    return n;
  }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> map;
  };

  // Drops idle, unbanned entries; if none, the least recently seen one.
  // O(shard size), only when a new name arrives at a full shard.
  static void Evict(Shard& s, int64_t now) {
    auto oldest = s.map.end();
    size_t erased = 0;
    for (auto it = s.map.begin(); it != s.map.end();) {
      const Entry& e = it->second;
      if (e.banned_until <= now && now - e.last_seen > kIdle) {
        it = s.map.erase(it);
        ++erased;
        continue;
      }
      if (oldest == s.map.end() || e.last_seen < oldest->second.last_seen) oldest = it;
      ++it;
    }
    if (erased == 0 && oldest != s.map.end()) s.map.erase(oldest);
  }

  const size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

RateLimiter::RateLimiter(const RateLimits& limits, const WallClock& clock)
    : RateLimiter(limits, clock, Options{}) {}

RateLimiter::RateLimiter(const RateLimits& limits, const WallClock& clock, Options options)
    : clock_(clock),
      ips_(std::make_unique<Table>(options.max_entries)),
      keys_(std::make_unique<Table>(options.max_entries)) {
  SetLimits(limits);
}

RateLimiter::~RateLimiter() = default;

void RateLimiter::SetLimits(const RateLimits& l) {
  weight_per_min_.store(l.request_weight_per_min, std::memory_order_relaxed);
  orders_per_10s_.store(l.orders_per_10s, std::memory_order_relaxed);
  orders_per_day_.store(l.orders_per_day, std::memory_order_relaxed);
  orders_per_sec_.store(l.orders_per_sec, std::memory_order_relaxed);
  reads_per_sec_.store(l.reads_per_sec, std::memory_order_relaxed);
  cb_orders_per_sec_.store(l.circuit_breaker_orders_per_sec, std::memory_order_relaxed);
  ban_after_.store(l.ban_after_violations, std::memory_order_relaxed);
  cb_enabled_.store(l.circuit_breaker_enabled, std::memory_order_release);
}

RateLimits RateLimiter::limits() const {
  RateLimits l;
  l.request_weight_per_min = weight_per_min_.load(std::memory_order_relaxed);
  l.orders_per_10s = orders_per_10s_.load(std::memory_order_relaxed);
  l.orders_per_day = orders_per_day_.load(std::memory_order_relaxed);
  l.orders_per_sec = orders_per_sec_.load(std::memory_order_relaxed);
  l.reads_per_sec = reads_per_sec_.load(std::memory_order_relaxed);
  l.circuit_breaker_enabled = cb_enabled_.load(std::memory_order_acquire);
  l.circuit_breaker_orders_per_sec = cb_orders_per_sec_.load(std::memory_order_relaxed);
  l.ban_after_violations = ban_after_.load(std::memory_order_relaxed);
  return l;
}

Admission RateLimiter::Admit(std::string_view ip, std::string_view api_key, EndpointCost cost,
                             int64_t now) {
  using V = Admission::Verdict;
  const RateLimits l = limits();
  const int64_t minute = now / kMinute, second = now / kSecond, ten = now / (10 * kSecond),
                day = now / kDay;
  const bool order = cost.kind == RequestKind::kNewOrder;
  Admission a;
  a.new_order = order;

  // A 429 for this IP: one more violation, and a ban when they add up.
  auto violate = [&](Entry& e) {
    ++e.violations;
    if (l.ban_after_violations != 0 && e.violations >= l.ban_after_violations) {
      e.violations = 0;
      const int64_t len = std::min(kMaxBan, kFirstBan << std::min<uint32_t>(e.bans, 20));
      ++e.bans;
      e.banned_until = now + len;
      n_bans_.fetch_add(1, std::memory_order_relaxed);
    }
  };

  // 1. The IP: ban, weight, raw requests; counted at once if admitted.
  const bool ip_ok = ips_->With(ip, now, [&](Entry& e) {
    a.used_weight_1m = e.weight_1m.Get(minute);
    if (e.banned_until > now) {
      a.verdict = V::kBanned;
      a.banned_until_ms = e.banned_until / 1'000'000;
      a.retry_after_s = std::max<int64_t>(1, (e.banned_until - now + kSecond - 1) / kSecond);
      return false;
    }
    if (l.request_weight_per_min != 0 &&
        a.used_weight_1m + cost.weight > l.request_weight_per_min) {
      a.verdict = V::kTooMuchWeight;
      a.limit = l.request_weight_per_min;
      a.interval = "1 MINUTE";
      a.retry_after_s = SecondsLeft(now, kMinute);
    } else if (!order && l.reads_per_sec != 0 && e.raw_1s.Get(second) + 1 > l.reads_per_sec) {
      a.verdict = V::kTooMuchWeight;
      a.limit = l.reads_per_sec;
      a.interval = "1 SECOND";
      a.retry_after_s = SecondsLeft(now, kSecond);
    }
    if (a.verdict != V::kOk) {
      violate(e);
      return false;
    }
    e.weight_1m.Add(minute, cost.weight);
    if (!order) e.raw_1s.Add(second, 1);
    a.used_weight_1m = e.weight_1m.Get(minute);
    return true;
  });
  if (!ip_ok) return Count(a);

  // 2. The key (when sent) and, for new orders, the circuit breaker.
  bool ok = true;
  auto check_orders_and_breaker = [&](Entry* e) {
    if (e != nullptr) {
      if (l.request_weight_per_min != 0 &&
          e->weight_1m.Get(minute) + cost.weight > l.request_weight_per_min) {
        a.verdict = V::kTooMuchWeight;
        a.limit = l.request_weight_per_min;
        a.interval = "1 MINUTE";
        a.retry_after_s = SecondsLeft(now, kMinute);
        return false;
      }
      if (order) {
        struct {
          uint32_t limit;
          const Window& w;
          int64_t id, len;
          std::string_view interval;
        } const checks[] = {
            {l.orders_per_sec, e->orders_1s, second, kSecond, "1 SECOND"},
            {l.orders_per_10s, e->orders_10s, ten, 10 * kSecond, "10 SECOND"},
            {l.orders_per_day, e->orders_1d, day, kDay, "1 DAY"},
        };
        for (const auto& c : checks) {
          if (c.limit != 0 && c.w.Get(c.id) + 1 > c.limit) {
            a.verdict = V::kTooManyOrders;
            a.limit = c.limit;
            a.interval = c.interval;
            a.retry_after_s = SecondsLeft(now, c.len);
            return false;
          }
        }
      }
    }
    if (order && l.circuit_breaker_enabled) {
      int64_t cur = cb_second_.load(std::memory_order_relaxed);
      if (cur != second && cb_second_.compare_exchange_strong(cur, second)) {
        cb_count_.store(0, std::memory_order_relaxed);
      }
      if (cb_count_.fetch_add(1, std::memory_order_relaxed) + 1 >
          l.circuit_breaker_orders_per_sec) {
        cb_count_.fetch_sub(1, std::memory_order_relaxed);
        a.verdict = V::kOverloaded;
        a.retry_after_s = 1;
        return false;
      }
    }
    if (e != nullptr) {
      e->weight_1m.Add(minute, cost.weight);
      if (order) {
        e->orders_1s.Add(second, 1);
        e->orders_10s.Add(ten, 1);
        e->orders_1d.Add(day, 1);
        a.order_count_10s = e->orders_10s.Get(ten);
        a.order_count_1d = e->orders_1d.Get(day);
      }
    }
    return true;
  };
  if (!api_key.empty()) {
    ok = keys_->With(api_key, now, [&](Entry& e) { return check_orders_and_breaker(&e); });
  } else {
    ok = check_orders_and_breaker(nullptr);
  }

  // 3. The IP was counted optimistically: undo it on a rejection, and count
  // a violation for 429s (not for the breaker's 503: the client did nothing
  // wrong).
  ips_->With(ip, now, [&](Entry& e) {
    if (!ok) {
      e.weight_1m.Sub(minute, cost.weight);
      if (!order) e.raw_1s.Sub(second, 1);
      a.used_weight_1m = e.weight_1m.Get(minute);
      if (a.verdict != V::kOverloaded) violate(e);
    } else {
      e.violations = 0;
    }
    return 0;
  });
  return Count(a);
}

const Admission& RateLimiter::Count(const Admission& a) {
  using V = Admission::Verdict;
  switch (a.verdict) {
    case V::kOk:
      break;
    case V::kTooMuchWeight:
      n_weight_.fetch_add(1, std::memory_order_relaxed);
      break;
    case V::kTooManyOrders:
      n_orders_.fetch_add(1, std::memory_order_relaxed);
      break;
    case V::kBanned:
      n_banned_.fetch_add(1, std::memory_order_relaxed);
      break;
    case V::kOverloaded:
      n_overloaded_.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  return a;
}

bool RateLimiter::Intercept(const HttpRequest& req, HttpResponse& resp) {
  const EndpointCost cost = EndpointWeight(req.method, req.path, req.query, req.body);
  const Admission a = Admit(req.remote_ip, req.api_key, cost, clock_.NowNanos());
  char buf[24];
  auto num = [&buf](int64_t v) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return std::string_view(buf, static_cast<size_t>(end - buf));
  };
  resp.AddHeader("X-MBX-USED-WEIGHT-1M", num(a.used_weight_1m));
  using V = Admission::Verdict;
  if (a.verdict == V::kOk) {
    if (a.new_order && !req.api_key.empty()) {
      resp.AddHeader("X-MBX-ORDER-COUNT-10S", num(a.order_count_10s));
      resp.AddHeader("X-MBX-ORDER-COUNT-1D", num(a.order_count_1d));
    }
    return true;
  }
  resp.AddHeader("Retry-After", num(a.retry_after_s));
  internal::SetError(RejectionError(a), resp);
  return false;
}

ApiError RateLimiter::RejectionError(const Admission& a) {
  auto num = [](int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return std::string(buf, static_cast<size_t>(end - buf));
  };
  using V = Admission::Verdict;
  switch (a.verdict) {
    case V::kBanned: return ApiError(ErrorId::kIpBanned, num(a.banned_until_ms));
    case V::kTooMuchWeight: return ApiError(ErrorId::kTooMuchWeight, num(a.limit), a.interval);
    case V::kTooManyOrders:
      return ApiError(ErrorId::kTooManyOrdersLimit, num(a.limit), a.interval);
    case V::kOverloaded:
    case V::kOk:
      break;
  }
  return ApiError(ErrorId::kServerBusy);
}

void RateLimiter::Install(HttpServer& server) {
  server.SetInterceptor(
      [this](const HttpRequest& req, HttpResponse& resp) { return Intercept(req, resp); });
}

void RateLimiter::AppendRateLimitsJson(std::string* out) const {
  const RateLimits l = limits();
  out->push_back('[');
  bool first = true;
  auto add = [&](std::string_view type, std::string_view interval, int num, uint32_t limit) {
    if (limit == 0) return;
    if (!first) out->push_back(',');
    first = false;
    out->append("{\"rateLimitType\":\"").append(type);
    out->append("\",\"interval\":\"").append(interval);
    out->append("\",\"intervalNum\":");
    internal::AppendInt(num, out);
    out->append(",\"limit\":");
    internal::AppendInt(limit, out);
    out->push_back('}');
  };
  add("REQUEST_WEIGHT", "MINUTE", 1, l.request_weight_per_min);
  add("RAW_REQUESTS", "SECOND", 1, l.reads_per_sec);
  add("ORDERS", "SECOND", 1, l.orders_per_sec);
  add("ORDERS", "SECOND", 10, l.orders_per_10s);
  add("ORDERS", "DAY", 1, l.orders_per_day);
  out->push_back(']');
}

void RateLimiter::AppendLimitsJson(const RateLimits& l, std::string* out) {
  out->append("{\"requestWeightPerMin\":");
  internal::AppendInt(l.request_weight_per_min, out);
  internal::Int("ordersPer10s", l.orders_per_10s, out);
  internal::Int("ordersPerDay", l.orders_per_day, out);
  internal::Int("ordersPerSec", l.orders_per_sec, out);
  internal::Int("readsPerSec", l.reads_per_sec, out);
  internal::Bool("circuitBreakerEnabled", l.circuit_breaker_enabled, out);
  internal::Int("circuitBreakerOrdersPerSec", l.circuit_breaker_orders_per_sec, out);
  internal::Int("banAfterViolations", l.ban_after_violations, out);
  out->push_back('}');
}

RateLimiter::Counters RateLimiter::counters() const {
  Counters c;
  c.too_much_weight = n_weight_.load(std::memory_order_relaxed);
  c.too_many_orders = n_orders_.load(std::memory_order_relaxed);
  c.banned = n_banned_.load(std::memory_order_relaxed);
  c.bans = n_bans_.load(std::memory_order_relaxed);
  c.overloaded = n_overloaded_.load(std::memory_order_relaxed);
  return c;
}

size_t RateLimiter::ip_entries() const { return ips_->size(); }
size_t RateLimiter::key_entries() const { return keys_->size(); }

}  // namespace xc::gateway
