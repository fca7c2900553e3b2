#include "xc/scaling/metrics_registry.h"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "prometheus/text_serializer.h"

namespace xc::scaling {

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                               0.0025,  0.005,  0.01,    0.025,  0.05,
                                               0.1,     0.25,   0.5,     1,      2.5,
                                               5,       10};
  return kBuckets;
}

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}
MetricsRegistry::~MetricsRegistry() = default;

prometheus::Family<prometheus::Counter>& MetricsRegistry::CounterFamily(const std::string& name,
                                                                        const std::string& help) {
  auto& f = counters_[name];
  if (f == nullptr) f = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  return *f;
}

prometheus::Family<prometheus::Gauge>& MetricsRegistry::GaugeFamily(const std::string& name,
                                                                    const std::string& help) {
  auto& f = gauges_[name];
  if (f == nullptr) f = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  return *f;
}

void MetricsRegistry::AddCounterReader(const std::string& name, const std::string& help,
                                       const Labels& labels, std::function<double()> read) {
  std::lock_guard<std::mutex> l(mu_);
  prometheus::Counter* c = &CounterFamily(name, help).Add(labels);
  // A prometheus Counter only increments, so the scrape adds the difference
  // to the source's value (exact for integer counts below 2^53).
  readers_.push_back([c, read = std::move(read)] {
    const double v = read();
    const double cur = c->Value();
    if (v > cur) c->Increment(v - cur);
  });
}

void MetricsRegistry::AddGaugeReader(const std::string& name, const std::string& help,
                                     const Labels& labels, std::function<double()> read) {
  std::lock_guard<std::mutex> l(mu_);
  prometheus::Gauge* g = &GaugeFamily(name, help).Add(labels);
  readers_.push_back([g, read = std::move(read)] { g->Set(read()); });
}

void MetricsRegistry::AddGaugeCollector(const std::string& name, const std::string& help,
                                        const Labels& labels,
                                        std::function<void(prometheus::Gauge&)> collect) {
  std::lock_guard<std::mutex> l(mu_);
  prometheus::Gauge* g = &GaugeFamily(name, help).Add(labels);
  collectors_.push_back([g, collect = std::move(collect)] { collect(*g); });
}

prometheus::Histogram& MetricsRegistry::AddHistogram(const std::string& name,
                                                     const std::string& help,
                                                     const Labels& labels,
                                                     const std::vector<double>& buckets) {
  std::lock_guard<std::mutex> l(mu_);
  auto& f = histograms_[name];
  if (f == nullptr) f = &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
  return f->Add(labels, buckets);
}

prometheus::Counter& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                                 const Labels& labels) {
  std::lock_guard<std::mutex> l(mu_);
  return CounterFamily(name, help).Add(labels);
}

std::string MetricsRegistry::Render() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& c : collectors_) c();
  for (auto& r : readers_) r();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

// ---- process metrics ----

namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double vsize = 0;
  double rss_bytes = 0;
  double start_seconds = 0;  // since boot
};

ProcStat ReadProcStat() {
  ProcStat out;
  std::ifstream in("/proc/self/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'.
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(s.substr(close + 2));
  std::string f;
  static const double kTick = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double kPage = static_cast<double>(sysconf(_SC_PAGESIZE));
  // fields[0] is field 3 (state); utime = 14, stime = 15, starttime = 22,
  // vsize = 23, rss = 24.
  for (int field = 3; fields >> f && field <= 24; ++field) {
    if (field == 14 || field == 15) out.cpu_seconds += std::strtod(f.c_str(), nullptr) / kTick;
    if (field == 22) out.start_seconds = std::strtod(f.c_str(), nullptr) / kTick;
    if (field == 23) out.vsize = std::strtod(f.c_str(), nullptr);
    if (field == 24) out.rss_bytes = std::strtod(f.c_str(), nullptr) * kPage;
  }
  return out;
}

double CountOpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  double n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

double BootTimeSeconds() {
  // Unix time of boot = now (realtime) - uptime (boottime clock).
  timespec real{}, boot{};
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  return (real.tv_sec - boot.tv_sec) + (real.tv_nsec - boot.tv_nsec) * 1e-9;
}

}  // namespace

void AddProcessMetrics(MetricsRegistry* r) {
  r->AddCounterReader("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                      {}, [] { return ReadProcStat().cpu_seconds; });
  r->AddGaugeReader("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                    [] { return ReadProcStat().rss_bytes; });
  r->AddGaugeReader("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
                    [] { return ReadProcStat().vsize; });
  r->AddGaugeReader("process_open_fds", "Number of open file descriptors.", {}, CountOpenFds);
  const double start = BootTimeSeconds() + ReadProcStat().start_seconds;
  r->AddGaugeReader("process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.", {},
                    [start] { return start; });
}

// ---- HTTP ----

HttpMetrics::HttpMetrics(MetricsRegistry* registry, std::string server,
                         std::vector<std::pair<std::string, std::string>> endpoints)
    : registry_(registry), server_(std::move(server)), endpoints_(std::move(endpoints)) {
  endpoints_.emplace_back("", "other");
  const size_t n = endpoints_.size();
  counts_ = std::make_unique<std::atomic<prometheus::Counter*>[]>(n * kCodes);
  for (size_t i = 0; i < n * kCodes; ++i) counts_[i].store(nullptr, std::memory_order_relaxed);
  for (const auto& [method, path] : endpoints_) {
    latency_.push_back(&registry_->AddHistogram(
        "xc_http_request_duration_seconds",
        "Time from a complete request to its response being ready, per endpoint.",
        {{"server", server_}, {"method", method}, {"endpoint", path}}, LatencyBuckets()));
  }
}

HttpMetrics::~HttpMetrics() = default;

prometheus::Counter* HttpMetrics::Create(size_t endpoint, int code) {
  std::lock_guard<std::mutex> l(create_mu_);
  auto& slot = counts_[endpoint * kCodes + (code - kMinCode)];
  prometheus::Counter* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = &registry_->AddCounter("xc_http_requests_total",
                               "Requests answered, per endpoint and HTTP status.",
                               {{"server", server_},
                                {"method", endpoints_[endpoint].first},
                                {"endpoint", endpoints_[endpoint].second},
                                {"code", std::to_string(code)}});
    slot.store(c, std::memory_order_release);
  }
  return c;
}

void HttpMetrics::OnRequest(uint32_t endpoint, int status, int64_t duration_ns) {
  const size_t e = endpoint < endpoints_.size() - 1 ? endpoint : endpoints_.size() - 1;
  const int code = status < kMinCode || status > kMaxCode ? kMaxCode : status;
  prometheus::Counter* c = counts_[e * kCodes + (code - kMinCode)].load(std::memory_order_acquire);
  if (c == nullptr) c = Create(e, code);
  c->Increment();
  latency_[e]->Observe(static_cast<double>(duration_ns) * 1e-9);
}

}  // namespace xc::scaling
