#pragma once
// The Prometheus exporter (STYLE.md §17: metrics are pulled, never pushed
// from the hot path). MetricsRegistry owns a prometheus::Registry and renders
// it in the text exposition format (version 0.0.4) for GET /metrics.
//
// Most metrics are *readers*: a callback registered once that reads a
// counter some agent already keeps (ShardRunner::counters(), JournalWriter
// counters, PartitionWorker::queue_depth(), ...) and runs only at scrape
// time, so the agents' hot paths only bump plain counters they own. Metrics
// whose source is an event stream with no counter of its own (fsync
// latencies, request latencies) are prometheus-cpp counters and histograms
// bumped where the event happens (AddHistogram, HttpMetrics); prometheus-cpp
// updates them with atomics, so any thread may do it.
//
// Threads: Add* during setup (before the first Render) or from any thread
// (one mutex); Render from any thread (serialized by the same mutex), e.g.
// an HTTP I/O thread. Readers and collectors run inside Render, under the
// mutex, on the scraping thread: they must be safe to call from there
// (relaxed loads of atomics are).
// Lifetime: whatever a reader captures must outlive the registry's last
// Render.
// Allocation: Render allocates (it builds the whole text); it is the scrape,
// off every hot path.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "xc/scaling/request_observer.h"

namespace xc::scaling {

using Labels = std::map<std::string, std::string>;

// Bucket bounds in seconds, 50 µs .. 10 s: journal fsyncs and REST requests.
const std::vector<double>& LatencyBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // A counter (TYPE counter) whose value is `read()` at each scrape.
  // REQUIRES: read() never decreases (a decrease is ignored until it is
  // caught up). Metrics with the same name share one family (same help).
  void AddCounterReader(const std::string& name, const std::string& help, const Labels& labels,
                        std::function<double()> read);
  // A gauge whose value is `read()` at each scrape.
  void AddGaugeReader(const std::string& name, const std::string& help, const Labels& labels,
                      std::function<double()> read);
  // A gauge set by `collect` itself (e.g. a ratio of two counter deltas):
  // collect runs at each scrape, before the readers, and receives the gauge.
  void AddGaugeCollector(const std::string& name, const std::string& help, const Labels& labels,
                         std::function<void(prometheus::Gauge&)> collect);
  // A histogram the caller observes directly (any thread; Observe is
  // lock-free). `buckets`: upper bounds, ascending. The reference stays
  // valid for the registry's lifetime.
  prometheus::Histogram& AddHistogram(const std::string& name, const std::string& help,
                                      const Labels& labels, const std::vector<double>& buckets);
  // A counter the caller increments directly (any thread).
  prometheus::Counter& AddCounter(const std::string& name, const std::string& help,
                                  const Labels& labels);

  // Runs the collectors and readers, then serializes every metric in the
  // text exposition format. Any thread.
  std::string Render();

  // The Content-Type of Render()'s output.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  prometheus::Family<prometheus::Counter>& CounterFamily(const std::string& name,
                                                         const std::string& help);
  prometheus::Family<prometheus::Gauge>& GaugeFamily(const std::string& name,
                                                     const std::string& help);

  std::mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges_;
  std::map<std::string, prometheus::Family<prometheus::Histogram>*> histograms_;
  std::vector<std::function<void()>> collectors_;  // gauge collectors
  std::vector<std::function<void()>> readers_;     // counter and gauge readers
};

// Registers the standard process metrics, read from /proc/self at scrape:
//   process_cpu_seconds_total        user + system CPU time
//   process_resident_memory_bytes    RSS
//   process_virtual_memory_bytes     VSZ
//   process_open_fds                 entries of /proc/self/fd
//   process_start_time_seconds       Unix time the process started
void AddProcessMetrics(MetricsRegistry* registry);

// HttpMetrics counts a server's answered requests per endpoint and status
// and times them (RequestObserver):
//   xc_http_requests_total{server,method,endpoint,code}        counter
//   xc_http_request_duration_seconds{server,method,endpoint}   histogram
// Requests that matched no route count as method="", endpoint="other".
// Threads: OnRequest from any number of threads at once.
// Allocation: the series of an (endpoint, code) pair is created (under a
// mutex) the first time that pair is seen; after that OnRequest is two
// atomic updates and one array load, no lock and no allocation.
class HttpMetrics final : public RequestObserver {
 public:
  // `endpoints[i]` = {method, path} of the server's route i.
  HttpMetrics(MetricsRegistry* registry, std::string server,
              std::vector<std::pair<std::string, std::string>> endpoints);
  ~HttpMetrics() override;

  void OnRequest(uint32_t endpoint, int status, int64_t duration_ns) override;

 private:
  static constexpr int kMinCode = 100, kMaxCode = 599;
  static constexpr int kCodes = kMaxCode - kMinCode + 1;
  prometheus::Counter* Create(size_t endpoint, int code);

  MetricsRegistry* registry_;
  std::string server_;
  std::vector<std::pair<std::string, std::string>> endpoints_;  // + "other" last
  std::vector<prometheus::Histogram*> latency_;                 // per endpoint
  std::unique_ptr<std::atomic<prometheus::Counter*>[]> counts_;  // [endpoint][code]
  std::mutex create_mu_;
};

}  // namespace xc::scaling
