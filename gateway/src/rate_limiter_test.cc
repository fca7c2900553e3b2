#include "xc/gateway/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace xc::gateway {
namespace {

using V = Admission::Verdict;

constexpr int64_t kSec = 1'000'000'000;
// A whole minute (and day) boundary, so that window arithmetic is easy.
constexpr int64_t kT0 = 1'700'006'400LL * kSec;

class FakeClock final : public WallClock {
 public:
  protocol::Timestamp NowNanos() const override { return now; }
  int64_t now = kT0;
};

EndpointCost Read(uint32_t w = 1) { return {w, RequestKind::kRead}; }
EndpointCost Order() { return {1, RequestKind::kNewOrder}; }

TEST(EndpointWeightTest, BinanceWeights) {
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/ping", "").weight, 1u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/exchangeInfo", "").weight, 20u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/depth", "symbol=A").weight, 5u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/depth", "symbol=A&limit=5").weight, 5u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/depth", "symbol=A&limit=500").weight, 25u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/depth", "limit=1000&symbol=A").weight, 50u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/depth", "symbol=A&limit=5000").weight, 250u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/trades", "symbol=A").weight, 25u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/aggTrades", "symbol=A").weight, 4u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/klines", "symbol=A").weight, 2u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/ticker/24hr", "symbol=A").weight, 2u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/ticker/24hr", "").weight, 80u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/ticker/24hr", "symbols=%5B%22A%22%2C%22B%22%5D").weight,
            2u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/ticker/price", "").weight, 4u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/ticker/price", "symbol=A").weight, 2u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/openOrders", "symbol=A&timestamp=1").weight, 6u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/openOrders", "timestamp=1").weight, 80u);
  EXPECT_EQ(EndpointWeight("DELETE", "/api/v3/openOrders", "symbol=A").weight, 1u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/allOrders", "symbol=A").weight, 20u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/account", "").weight, 20u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/myTrades", "symbol=A").weight, 20u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/myTrades", "symbol=A&orderId=3").weight, 5u);
  EXPECT_EQ(EndpointWeight("GET", "/api/v3/order", "symbol=A").weight, 4u);
  EXPECT_EQ(EndpointWeight("POST", "/api/v3/order/test", "", "computeCommissionRates=true").weight,
            20u);
  auto o = EndpointWeight("POST", "/api/v3/order", "", "symbol=A");
  EXPECT_EQ(o.weight, 1u);
  EXPECT_EQ(o.kind, RequestKind::kNewOrder);
  EXPECT_EQ(EndpointWeight("POST", "/api/v3/order/cancelReplace", "").kind,
            RequestKind::kNewOrder);
  EXPECT_EQ(EndpointWeight("DELETE", "/api/v3/order", "").kind, RequestKind::kRead);
}

TEST(RateLimiterTest, WeightPerMinuteWindow) {
  FakeClock clock;
  RateLimits l;
  l.request_weight_per_min = 50;
  l.reads_per_sec = 0;
  RateLimiter rl(l, clock);
  EXPECT_EQ(rl.Admit("1.1.1.1", "", Read(20), clock.now).verdict, V::kOk);
  auto a = rl.Admit("1.1.1.1", "", Read(20), clock.now);
  EXPECT_EQ(a.verdict, V::kOk);
  EXPECT_EQ(a.used_weight_1m, 40u);
  a = rl.Admit("1.1.1.1", "", Read(20), clock.now + 10 * kSec);
  EXPECT_EQ(a.verdict, V::kTooMuchWeight);
  EXPECT_EQ(a.limit, 50u);
  EXPECT_EQ(a.interval, "1 MINUTE");
  EXPECT_EQ(a.retry_after_s, 50);
  EXPECT_EQ(a.used_weight_1m, 40u);  // a rejection counts nothing
  // Another IP has its own budget.
  EXPECT_EQ(rl.Admit("2.2.2.2", "", Read(20), clock.now).verdict, V::kOk);
  // The next minute starts from zero.
  a = rl.Admit("1.1.1.1", "", Read(20), clock.now + 60 * kSec);
  EXPECT_EQ(a.verdict, V::kOk);
  EXPECT_EQ(a.used_weight_1m, 20u);
}

TEST(RateLimiterTest, WeightPerKeyAcrossIps) {
  FakeClock clock;
  RateLimits l;
  l.request_weight_per_min = 30;
  l.reads_per_sec = 0;
  RateLimiter rl(l, clock);
  EXPECT_EQ(rl.Admit("1.1.1.1", "K", Read(20), clock.now).verdict, V::kOk);
  EXPECT_EQ(rl.Admit("2.2.2.2", "K", Read(20), clock.now).verdict, V::kTooMuchWeight);
  // The rejected request did not count against the second IP.
  EXPECT_EQ(rl.Admit("2.2.2.2", "", Read(30), clock.now).verdict, V::kOk);
}

TEST(RateLimiterTest, ReadsPerSecond) {
  FakeClock clock;
  RateLimits l;
  l.reads_per_sec = 3;
  RateLimiter rl(l, clock);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rl.Admit("ip", "", Read(), clock.now).verdict, V::kOk);
  auto a = rl.Admit("ip", "", Read(), clock.now);
  EXPECT_EQ(a.verdict, V::kTooMuchWeight);
  EXPECT_EQ(a.interval, "1 SECOND");
  EXPECT_EQ(a.retry_after_s, 1);
  // New orders are not reads.
  EXPECT_EQ(rl.Admit("ip", "K", Order(), clock.now).verdict, V::kOk);
  EXPECT_EQ(rl.Admit("ip", "", Read(), clock.now + kSec).verdict, V::kOk);
}

TEST(RateLimiterTest, OrdersPerSecondTenSecondsAndDay) {
  FakeClock clock;
  RateLimits l;
  l.orders_per_sec = 2;
  l.orders_per_10s = 3;
  l.orders_per_day = 4;
  l.ban_after_violations = 0;
  RateLimiter rl(l, clock);
  int64_t t = clock.now;
  auto a = rl.Admit("ip", "K", Order(), t);
  EXPECT_EQ(a.verdict, V::kOk);
  EXPECT_EQ(a.order_count_10s, 1u);
  EXPECT_EQ(a.order_count_1d, 1u);
  EXPECT_EQ(rl.Admit("ip", "K", Order(), t).verdict, V::kOk);
  a = rl.Admit("ip", "K", Order(), t);
  EXPECT_EQ(a.verdict, V::kTooManyOrders);
  EXPECT_EQ(a.interval, "1 SECOND");
  a = rl.Admit("ip", "K", Order(), t + kSec);
  EXPECT_EQ(a.verdict, V::kOk);
  EXPECT_EQ(a.order_count_10s, 3u);
  a = rl.Admit("ip", "K", Order(), t + 2 * kSec);
  EXPECT_EQ(a.verdict, V::kTooManyOrders);
  EXPECT_EQ(a.interval, "10 SECOND");
  EXPECT_EQ(a.limit, 3u);
  EXPECT_EQ(a.retry_after_s, 8);
  EXPECT_EQ(rl.Admit("ip", "K", Order(), t + 10 * kSec).verdict, V::kOk);
  a = rl.Admit("ip", "K", Order(), t + 20 * kSec);
  EXPECT_EQ(a.verdict, V::kTooManyOrders);
  EXPECT_EQ(a.interval, "1 DAY");
  // Another key is not affected; the same key reads freely.
  EXPECT_EQ(rl.Admit("ip", "K2", Order(), t + 20 * kSec).verdict, V::kOk);
  EXPECT_EQ(rl.Admit("ip", "K", Read(), t + 20 * kSec).verdict, V::kOk);
  EXPECT_EQ(rl.Admit("ip", "K", Order(), t + 86400 * kSec).verdict, V::kOk);
}

TEST(RateLimiterTest, BanEscalates) {
  FakeClock clock;
  RateLimits l;
  l.reads_per_sec = 1;
  l.ban_after_violations = 3;
  RateLimiter rl(l, clock);
  int64_t t = clock.now;
  EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kOk);
  EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kTooMuchWeight);
  EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kTooMuchWeight);
  EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kTooMuchWeight);  // third: banned
  auto a = rl.Admit("ip", "", Read(), t + 5 * kSec);
  EXPECT_EQ(a.verdict, V::kBanned);
  EXPECT_EQ(a.banned_until_ms, (t + 120 * kSec) / 1'000'000);
  EXPECT_EQ(rl.counters().too_much_weight, 3u);
  EXPECT_EQ(rl.counters().bans, 1u);
  EXPECT_EQ(rl.counters().banned, 1u);
  EXPECT_EQ(a.retry_after_s, 115);
  EXPECT_EQ(rl.Admit("other", "", Read(), t + 5 * kSec).verdict, V::kOk);
  // After the ban: served again; a second ban lasts twice as long.
  t += 120 * kSec;
  EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kOk);
  for (int i = 0; i < 3; ++i) rl.Admit("ip", "", Read(), t);
  a = rl.Admit("ip", "", Read(), t);
  EXPECT_EQ(a.verdict, V::kBanned);
  EXPECT_EQ(a.banned_until_ms, (t + 240 * kSec) / 1'000'000);
}

TEST(RateLimiterTest, BackingOffResetsViolations) {
  FakeClock clock;
  RateLimits l;
  l.reads_per_sec = 1;
  l.ban_after_violations = 3;
  RateLimiter rl(l, clock);
  for (int s = 0; s < 10; ++s) {
    const int64_t t = clock.now + s * kSec;
    EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kOk);
    EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kTooMuchWeight);
    EXPECT_EQ(rl.Admit("ip", "", Read(), t).verdict, V::kTooMuchWeight);
  }
}

TEST(RateLimiterTest, ReloadAppliesAtOnce) {
  FakeClock clock;
  RateLimits l;
  l.orders_per_sec = 1;
  RateLimiter rl(l, clock);
  EXPECT_EQ(rl.Admit("ip", "K", Order(), clock.now).verdict, V::kOk);
  EXPECT_EQ(rl.Admit("ip", "K", Order(), clock.now).verdict, V::kTooManyOrders);
  l.orders_per_sec = 5;
  rl.SetLimits(l);
  EXPECT_EQ(rl.limits(), l);
  EXPECT_EQ(rl.Admit("ip", "K", Order(), clock.now).verdict, V::kOk);
  std::string json;
  rl.AppendRateLimitsJson(&json);
  EXPECT_EQ(json,
            "[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,"
            "\"limit\":6000},"
            "{\"rateLimitType\":\"RAW_REQUESTS\",\"interval\":\"SECOND\",\"intervalNum\":1,"
            "\"limit\":1000},"
            "{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":1,"
            "\"limit\":5},"
            "{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,"
            "\"limit\":100},"
            "{\"rateLimitType\":\"ORDERS\",\"interval\":\"DAY\",\"intervalNum\":1,"
            "\"limit\":200000}]");
  rl.SetLimits(RateLimits{0, 0, 0, 0, 0, false, 0, 0});
  json.clear();
  rl.AppendRateLimitsJson(&json);
  EXPECT_EQ(json, "[]");
}

TEST(RateLimiterTest, CircuitBreakerShedsNewOrdersOnly) {
  FakeClock clock;
  RateLimits l;
  l.circuit_breaker_enabled = true;
  l.circuit_breaker_orders_per_sec = 2;
  RateLimiter rl(l, clock);
  EXPECT_EQ(rl.Admit("a", "K1", Order(), clock.now).verdict, V::kOk);
  EXPECT_EQ(rl.Admit("b", "K2", Order(), clock.now).verdict, V::kOk);
  auto a = rl.Admit("c", "K3", Order(), clock.now);
  EXPECT_EQ(a.verdict, V::kOverloaded);
  EXPECT_EQ(rl.Admit("c", "K3", Read(), clock.now).verdict, V::kOk);  // cancels, reads
  EXPECT_EQ(rl.Admit("c", "K3", Order(), clock.now + kSec).verdict, V::kOk);
  l.circuit_breaker_enabled = false;
  rl.SetLimits(l);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(rl.Admit(std::to_string(i), "", Order(), clock.now + kSec).verdict, V::kOk);
  }
  // 503s are not violations: no ban however many.
  l.circuit_breaker_enabled = true;
  l.circuit_breaker_orders_per_sec = 0;
  l.ban_after_violations = 2;
  rl.SetLimits(l);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rl.Admit("d", "K4", Order(), clock.now).verdict, V::kOverloaded);
  }
  EXPECT_EQ(rl.counters().overloaded, 6u);
  EXPECT_EQ(rl.counters().bans, 0u);
}

TEST(RateLimiterTest, EvictsIdleEntriesWhenFull) {
  FakeClock clock;
  RateLimiter rl(RateLimits{}, clock, RateLimiter::Options{.max_entries = 64});
  for (int i = 0; i < 1000; ++i) {
    rl.Admit("10.0.0." + std::to_string(i), "key" + std::to_string(i), Read(),
             clock.now + i * kSec);
  }
  EXPECT_LE(rl.ip_entries(), 64u + 16u);
  EXPECT_LE(rl.key_entries(), 64u + 16u);
  EXPECT_GT(rl.ip_entries(), 0u);
}

TEST(RateLimiterTest, InterceptWritesHeadersAndErrors) {
  FakeClock clock;
  RateLimits l;
  l.request_weight_per_min = 25;
  l.ban_after_violations = 2;
  RateLimiter rl(l, clock);
  HttpRequest req;
  req.method = "GET";
  req.path = "/api/v3/exchangeInfo";
  req.remote_ip = "127.0.0.1";
  HttpResponse resp;
  EXPECT_TRUE(rl.Intercept(req, resp));
  ASSERT_EQ(resp.num_headers(), 1u);
  EXPECT_EQ(resp.headers()[0].name, "X-MBX-USED-WEIGHT-1M");
  EXPECT_EQ(resp.headers()[0].value, "20");
  resp.Clear();
  EXPECT_FALSE(rl.Intercept(req, resp));
  EXPECT_EQ(resp.status(), 429);
  EXPECT_EQ(resp.body(),
            "{\"code\":-1003,\"msg\":\"Too much request weight used; current limit is 25 request "
            "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling "
            "the API.\"}");
  ASSERT_EQ(resp.num_headers(), 2u);
  EXPECT_EQ(resp.headers()[1].name, "Retry-After");
  EXPECT_EQ(resp.headers()[1].value, "60");
  resp.Clear();
  EXPECT_FALSE(rl.Intercept(req, resp));  // second violation: banned
  resp.Clear();
  EXPECT_FALSE(rl.Intercept(req, resp));
  EXPECT_EQ(resp.status(), 418);
  EXPECT_NE(resp.body().find("-1003"), std::string::npos);
  EXPECT_NE(resp.body().find("IP banned until " + std::to_string(kT0 / 1'000'000 + 120'000)),
            std::string::npos);

  req.method = "POST";
  req.path = "/api/v3/order";
  req.remote_ip = "127.0.0.2";
  req.api_key = "K";
  resp.Clear();
  EXPECT_TRUE(rl.Intercept(req, resp));
  ASSERT_EQ(resp.num_headers(), 3u);
  EXPECT_EQ(resp.headers()[1].name, "X-MBX-ORDER-COUNT-10S");
  EXPECT_EQ(resp.headers()[1].value, "1");
  EXPECT_EQ(resp.headers()[2].name, "X-MBX-ORDER-COUNT-1D");
}

}  // namespace
}  // namespace xc::gateway
