#include "xc/scaling/metrics_registry.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace xc::scaling {
namespace {

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MetricsRegistryTest, ReadersReadAtScrapeTime) {
  MetricsRegistry r;
  std::atomic<uint64_t> applied{0};
  double depth = 3;
  r.AddCounterReader("xc_engine_commands_total", "Commands applied.", {{"shard", "0"}},
                     [&] { return static_cast<double>(applied.load()); });
  r.AddGaugeReader("xc_engine_input_depth", "Input ring depth.", {{"shard", "0"}},
                   [&] { return depth; });
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "# TYPE xc_engine_commands_total counter")) << t;
  EXPECT_TRUE(Has(t, "xc_engine_commands_total{shard=\"0\"} 0")) << t;
  EXPECT_TRUE(Has(t, "# TYPE xc_engine_input_depth gauge")) << t;
  EXPECT_TRUE(Has(t, "xc_engine_input_depth{shard=\"0\"} 3")) << t;

  applied = 42;
  depth = 0;
  t = r.Render();
  EXPECT_TRUE(Has(t, "xc_engine_commands_total{shard=\"0\"} 42")) << t;
  EXPECT_TRUE(Has(t, "xc_engine_input_depth{shard=\"0\"} 0")) << t;
}

TEST(MetricsRegistryTest, SameNameSharesOneFamily) {
  MetricsRegistry r;
  r.AddGaugeReader("xc_partition_queue_depth", "Queued tasks.", {{"partition", "0"}},
                   [] { return 1.0; });
  r.AddGaugeReader("xc_partition_queue_depth", "Queued tasks.", {{"partition", "1"}},
                   [] { return 2.0; });
  const std::string t = r.Render();
  EXPECT_TRUE(Has(t, "xc_partition_queue_depth{partition=\"0\"} 1")) << t;
  EXPECT_TRUE(Has(t, "xc_partition_queue_depth{partition=\"1\"} 2")) << t;
  EXPECT_EQ(t.find("# TYPE xc_partition_queue_depth"),
            t.rfind("# TYPE xc_partition_queue_depth"));
}

TEST(MetricsRegistryTest, GaugeCollectorAndHistogram) {
  MetricsRegistry r;
  int calls = 0;
  r.AddGaugeCollector("xc_engine_busy_ratio", "Busy fraction.", {{"shard", "0"}},
                      [&](prometheus::Gauge& g) { g.Set(0.25 * ++calls); });
  auto& h = r.AddHistogram("xc_journal_fsync_seconds", "fsync latency.", {{"shard", "0"}},
                           LatencyBuckets());
  h.Observe(0.002);
  h.Observe(0.2);
  std::string t = r.Render();
  EXPECT_TRUE(Has(t, "xc_engine_busy_ratio{shard=\"0\"} 0.25")) << t;
  EXPECT_TRUE(Has(t, "# TYPE xc_journal_fsync_seconds histogram")) << t;
  EXPECT_TRUE(Has(t, "xc_journal_fsync_seconds_count{shard=\"0\"} 2")) << t;
  EXPECT_TRUE(Has(t, "xc_journal_fsync_seconds_bucket{shard=\"0\",le=\"0.0025\"} 1")) << t;
  EXPECT_TRUE(Has(t, "xc_journal_fsync_seconds_bucket{shard=\"0\",le=\"+Inf\"} 2")) << t;
  t = r.Render();
  EXPECT_TRUE(Has(t, "xc_engine_busy_ratio{shard=\"0\"} 0.5")) << t;
}

TEST(MetricsRegistryTest, ProcessMetrics) {
  MetricsRegistry r;
  AddProcessMetrics(&r);
  // Burn a little CPU so the counter is visibly positive.
  volatile uint64_t x = 0;
  for (int i = 0; i < 50'000'000; ++i) x = x + i;
  const std::string t = r.Render();
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_virtual_memory_bytes ", "process_open_fds ",
                           "process_start_time_seconds "}) {
    EXPECT_TRUE(Has(t, std::string("\n") + name)) << name << "\n" << t;
  }
  EXPECT_FALSE(Has(t, "process_resident_memory_bytes 0\n")) << t;
  EXPECT_FALSE(Has(t, "process_open_fds 0\n")) << t;
}

TEST(HttpMetricsTest, CountsPerEndpointAndCode) {
  MetricsRegistry r;
  HttpMetrics m(&r, "client", {{"GET", "/api/v3/ping"}, {"POST", "/api/v3/order"}});
  m.OnRequest(0, 200, 1'000'000);
  m.OnRequest(0, 200, 2'000'000);
  m.OnRequest(1, 429, 500'000);
  m.OnRequest(1, 418, 500'000);
  m.OnRequest(RequestObserver::kUnmatched, 404, 1000);
  m.OnRequest(7, 1000, 1000);  // out-of-range index and status: "other", 599
  const std::string t = r.Render();
  EXPECT_TRUE(Has(t, "xc_http_requests_total{code=\"200\",endpoint=\"/api/v3/ping\","
                     "method=\"GET\",server=\"client\"} 2"))
      << t;
  EXPECT_TRUE(Has(t, "code=\"429\",endpoint=\"/api/v3/order\",method=\"POST\"")) << t;
  EXPECT_TRUE(Has(t, "code=\"418\",endpoint=\"/api/v3/order\",method=\"POST\"")) << t;
  EXPECT_TRUE(Has(t, "code=\"404\",endpoint=\"other\",method=\"\"")) << t;
  EXPECT_TRUE(Has(t, "code=\"599\",endpoint=\"other\"")) << t;
  EXPECT_TRUE(Has(t, "xc_http_request_duration_seconds_count{endpoint=\"/api/v3/ping\","
                     "method=\"GET\",server=\"client\"} 2"))
      << t;
  EXPECT_TRUE(Has(t, "xc_http_request_duration_seconds_sum{endpoint=\"/api/v3/ping\","
                     "method=\"GET\",server=\"client\"} 0.003"))
      << t;
}

TEST(HttpMetricsTest, ConcurrentObservers) {
  MetricsRegistry r;
  HttpMetrics m(&r, "client", {{"GET", "/a"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) m.OnRequest(0, i % 2 ? 200 : 400, 100);
    });
  }
  for (auto& t : threads) t.join();
  const std::string s = r.Render();
  EXPECT_TRUE(Has(s, "code=\"200\",endpoint=\"/a\",method=\"GET\",server=\"client\"} 20000")) << s;
  EXPECT_TRUE(Has(s, "code=\"400\",endpoint=\"/a\",method=\"GET\",server=\"client\"} 20000")) << s;
}

}  // namespace
}  // namespace xc::scaling
