// engine-replay: replays an order-flow file (bench/README.md) through one
// engine shard at full speed on one pinned core and reports throughput, per-op
// latency percentiles and the final state hash.
//
//   engine-replay [--warmup N] [--repeat K] [--max-orders N] [--no-latency] FILE|-
//
// The whole file is parsed before anything is timed; an untimed sizing pass
// then finds each book's peak live orders to size its pools (unless
// --max-orders is given). The timed loop applies each command and consumes its
// events (counting trades and volume). Throughput (ops_per_sec) is the median
// of --repeat runs that take no timestamps; the latency percentiles come from
// one further run that takes ONE TSC timestamp per op, so an op's latency is
// the TSC delta since the previous op's stamp (it includes the event scan and
// the stamp itself, ~10 ns on the reference VM).
// The last line of the output is machine-readable key=value pairs.
//
// Exit codes: 0 ok; 2 usage, unreadable file or malformed line (the message
// names the file and line); 3 the runs of --repeat disagreed on the state hash.

#include <sched.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cli_args.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/order_book.h"
#include "xc/engine/shard.h"
#include "xc/flow/flow_format.h"
#include "xc/protocol/command.h"
#include "xc/protocol/check.h"
#include "xc/protocol/event.h"

namespace {

using xc::engine::EventBuffer;
using xc::engine::OrderBook;
using xc::engine::Shard;
using xc::protocol::Command;
using xc::protocol::Event;
using xc::protocol::EventType;

constexpr const char* kUsage =
    "usage: engine-replay [--warmup N] [--repeat K] [--max-orders N] [--no-latency] FILE|-\n";

struct RunResult {
  double seconds = 0;
  uint64_t trades = 0;
  uint64_t volume = 0;
  uint64_t rejects = 0;
  uint64_t resting = 0;
  uint64_t hash = 0;
  // Latency percentiles in ns (0 with --no-latency).
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

struct Counters {
  uint64_t trades = 0;
  uint64_t volume = 0;
  uint64_t rejects = 0;
};

// The timed loop. Templated rather than branching on the latency switch so the
// loop body holds nothing but the apply, the event scan and (maybe) the stamp.
template <bool kLatency>
__attribute__((noinline)) Counters ReplayLoop(Shard& shard, const Command* cmds, size_t n,
                                              EventBuffer& events, uint32_t* cycles) {
  uint64_t trades = 0, volume = 0, rejects = 0;
  uint64_t prev = kLatency ? __rdtsc() : 0;
  for (size_t i = 0; i < n; ++i) {
    // As ShardRunner does with the commands of a batch it drains.
    if (i + 1 < n) shard.Prefetch(cmds[i + 1]);
    shard.Apply(cmds[i], events);
    for (const Event& e : events) {
      const bool trade = e.type == EventType::kTrade;
      trades += trade;
      volume += trade ? static_cast<uint64_t>(e.qty) : 0;
      rejects += e.type == EventType::kRejected;
    }
    events.clear();
    if constexpr (kLatency) {
      // Plain rdtsc, not rdtscp: on the reference VM rdtscp costs ~25 ns a
      // read against ~10 ns, and with one stamp per op the deltas still sum
      // to the loop's time; out-of-order execution only blurs op boundaries
      // by a few cycles.
      const uint64_t now = __rdtsc();
      const uint64_t d = now - prev;
      cycles[i] = d > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                            : static_cast<uint32_t>(d);
      prev = now;
    }
  }
  return {trades, volume, rejects};
}

// Pins the calling thread to the last CPU it may run on; returns it (-1 on failure).
int PinToLastAllowedCpu(std::string* allowed) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    last = c;
    if (!allowed->empty()) allowed->push_back(',');
    allowed->append(std::to_string(c));
  }
  if (last < 0) return -1;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(last, &one);
  return sched_setaffinity(0, sizeof(one), &one) == 0 ? last : -1;
}

// Transparent huge pages for the aligned interior of a large buffer (see flow_format.cc).
void AdviseHugePages(void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// TSC ticks per nanosecond, measured against steady_clock over ~50 ms.
double CalibrateTsc() {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const uint64_t c0 = __rdtsc();
  while (Clock::now() - t0 < std::chrono::milliseconds(50)) {
  }
  const auto t1 = Clock::now();
  const uint64_t c1 = __rdtsc();
  const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
  return static_cast<double>(c1 - c0) / ns;
}

// Pool capacity per symbol: twice the peak of its live orders (resting plus
// pending stops), rounded up to a power of two, at least 4096 -- what an
// operator would configure for this flow. The peak comes from an untimed
// sizing pass on a shard with the largest pools (2^21 orders, or the symbol's
// A lines if fewer).
std::vector<uint32_t> SizePools(const xc::flow::Flow& flow, EventBuffer& events) {
  const size_t nsym = flow.symbols.size();
  Shard shard;
  for (size_t s = 0; s < nsym; ++s) {
    OrderBook::Options o;
    o.max_orders = static_cast<uint32_t>(
        std::clamp<uint64_t>(flow.new_orders_per_symbol[s], 4096, uint64_t{1} << 21));
    XC_CHECK(shard.AddSymbol(static_cast<xc::protocol::SymbolId>(s), o).ok());
  }
  std::vector<uint64_t> peak(nsym, 0);
  for (const Command& c : flow.commands) {
    shard.Apply(c, events);
    events.clear();
    if (c.symbol >= nsym) continue;
    const OrderBook* b = shard.book(c.symbol);
    peak[c.symbol] = std::max<uint64_t>(peak[c.symbol], b->resting_orders() + b->pending_stops());
  }
  std::vector<uint32_t> cap(nsym);
  for (size_t s = 0; s < nsym; ++s) {
    uint64_t n = 4096;
    while (n < 2 * peak[s] && n < (uint64_t{1} << 30)) n <<= 1;
    cap[s] = static_cast<uint32_t>(n);
  }
  return cap;
}

bool BuildShard(const std::vector<uint32_t>& max_orders, Shard* shard) {
  for (size_t s = 0; s < max_orders.size(); ++s) {
    OrderBook::Options o;
    o.max_orders = max_orders[s];
    absl::Status st = shard->AddSymbol(static_cast<xc::protocol::SymbolId>(s), o);
    if (!st.ok()) {
      std::fprintf(stderr, "engine-replay: AddSymbol(%zu): %s\n", s,
                   std::string(st.message()).c_str());
      return false;
    }
  }
  return true;
}

uint64_t Resting(const Shard& shard) {
  uint64_t n = 0;
  for (xc::protocol::SymbolId s : shard.symbols()) n += shard.book(s)->resting_orders();
  return n;
}

// Nearest-rank percentile of sorted cycle counts, in ns.
double Percentile(const std::vector<uint32_t>& sorted, double p, double ticks_per_ns) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / ticks_per_ns;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t warmup = 0, repeat = 1, max_orders = 0;
  bool latency = true;
  std::string path;
  xc::bench::ArgReader args(argc, argv);
  while (args.Next()) {
    if (!args.is_flag()) {
      if (!path.empty()) {
        std::fprintf(stderr, "engine-replay: more than one FILE\n%s", kUsage);
        return 2;
      }
      path = args.positional();
      continue;
    }
    const std::string f = args.flag();
    bool ok = true;
    if (f == "--warmup") {
      ok = args.Uint(&warmup);
    } else if (f == "--repeat") {
      ok = args.Uint(&repeat) && repeat >= 1;
    } else if (f == "--max-orders") {
      ok = args.Uint(&max_orders) && max_orders >= 1 && max_orders <= (1u << 30);
    } else if (f == "--no-latency") {
      latency = false;
    } else if (f == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "engine-replay: unknown flag %s\n%s", f.c_str(), kUsage);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "engine-replay: bad or missing value for %s\n", f.c_str());
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "engine-replay: missing FILE\n%s", kUsage);
    return 2;
  }

  const auto parse_start = std::chrono::steady_clock::now();
  absl::StatusOr<xc::flow::Flow> parsed = xc::flow::ReadFlowFile(path);
  if (!parsed.ok()) {
    std::fprintf(stderr, "engine-replay: %s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  const double parse_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - parse_start).count();
  const xc::flow::Flow& flow = *parsed;
  const size_t n = flow.commands.size();

  std::string allowed;
  const int cpu = PinToLastAllowedCpu(&allowed);
  const double ticks_per_ns = CalibrateTsc();

  // Preallocated and zeroed (so its pages are faulted in, huge where the
  // kernel allows) before any timing.
  std::vector<uint32_t> cycles;
  cycles.reserve(latency ? n : 0);
  AdviseHugePages(cycles.data(), cycles.capacity() * sizeof(uint32_t));
  cycles.resize(latency ? n : 0);
  EventBuffer events(1 << 16);

  const std::vector<uint32_t> pools =
      max_orders != 0 ? std::vector<uint32_t>(flow.symbols.size(), static_cast<uint32_t>(max_orders))
                      : SizePools(flow, events);

  for (uint64_t w = 0; w < warmup; ++w) {
    Shard shard;
    if (!BuildShard(pools, &shard)) return 2;
    ReplayLoop<false>(shard, flow.commands.data(), n, events, nullptr);
  }

  // Throughput and latency come from separate passes over fresh shards: the
  // timed throughput runs take no timestamps (a TSC read costs ~10 ns here, a
  // fifth of an op at 1k resting), and the latency run stamps every op.
  auto run_once = [&](bool with_latency, RunResult* res) -> bool {
    Shard shard;
    if (!BuildShard(pools, &shard)) return false;
    const auto t0 = std::chrono::steady_clock::now();
    const Counters c =
        with_latency ? ReplayLoop<true>(shard, flow.commands.data(), n, events, cycles.data())
                     : ReplayLoop<false>(shard, flow.commands.data(), n, events, nullptr);
    const auto t1 = std::chrono::steady_clock::now();
    res->seconds = std::chrono::duration<double>(t1 - t0).count();
    res->trades = c.trades;
    res->volume = c.volume;
    res->rejects = c.rejects;
    res->resting = Resting(shard);
    res->hash = shard.StateHash();
    return true;
  };
  std::vector<RunResult> runs;
  for (uint64_t r = 0; r < repeat; ++r) {
    RunResult res;
    if (!run_once(false, &res)) return 2;
    runs.push_back(res);
  }
  RunResult lat;
  if (latency) {
    if (!run_once(true, &lat)) return 2;
    runs.push_back(lat);  // its hash must agree too
    runs.back().seconds = runs.front().seconds;  // not a throughput sample
    if (n > 0) {
      std::sort(cycles.begin(), cycles.end());
      lat.p50 = Percentile(cycles, 0.50, ticks_per_ns);
      lat.p90 = Percentile(cycles, 0.90, ticks_per_ns);
      lat.p99 = Percentile(cycles, 0.99, ticks_per_ns);
      lat.p999 = Percentile(cycles, 0.999, ticks_per_ns);
      lat.max = static_cast<double>(cycles.back()) / ticks_per_ns;
    }
  }
  for (const RunResult& r : runs) {
    if (r.hash != runs[0].hash) {
      std::fprintf(stderr, "engine-replay: runs disagree on the state hash (%016" PRIx64
                           " vs %016" PRIx64 "): the engine is not deterministic\n",
                   runs[0].hash, r.hash);
      return 3;
    }
  }
  // The median run by throughput (the lower middle one for an even count).
  std::vector<RunResult> by_speed(runs.begin(), runs.begin() + static_cast<ptrdiff_t>(repeat));
  std::sort(by_speed.begin(), by_speed.end(),
            [](const RunResult& a, const RunResult& b) { return a.seconds > b.seconds; });
  RunResult m = by_speed[(by_speed.size() - 1) / 2];
  m.p50 = lat.p50;
  m.p90 = lat.p90;
  m.p99 = lat.p99;
  m.p999 = lat.p999;
  m.max = lat.max;
  const double ops_per_sec = m.seconds > 0 ? static_cast<double>(n) / m.seconds : 0;

  std::printf("engine-replay %s\n", path.c_str());
  std::printf("  flow        %zu commands (A %" PRIu64 ", C %" PRIu64 ", M %" PRIu64
              "), %zu symbol(s), parsed in %.3f s\n",
              n, flow.new_orders, flow.cancels, flow.amends, flow.symbols.size(), parse_secs);
  std::printf("  cpu         pinned to cpu %d (allowed %s); TSC %.4f ticks/ns\n", cpu,
              allowed.c_str(), ticks_per_ns);
  std::printf("  pools       max_orders per book:");
  for (uint32_t p : pools) std::printf(" %u", p);
  std::printf(max_orders != 0 ? " (--max-orders)\n" : " (2x the peak live orders of a sizing pass)\n");
  std::printf("  runs        %" PRIu64 " throughput run(s) without timestamps (median shown), %" PRIu64
              " warm-up, %s\n",
              repeat, warmup, latency ? "then 1 latency run (one rdtsc per op)" : "no latency run");
  if (repeat > 1) {
    std::printf("  all runs    ");
    for (uint64_t r = 0; r < repeat; ++r) {
      std::printf(" %.2fM", static_cast<double>(n) / runs[r].seconds / 1e6);
    }
    std::printf(" ops/s\n");
  }
  std::printf("  throughput  %.3f s, %.2f M ops/s (%.1f ns/op)\n", m.seconds, ops_per_sec / 1e6,
              n ? m.seconds * 1e9 / static_cast<double>(n) : 0.0);
  std::printf("  latency ns  p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n", m.p50, m.p90,
              m.p99, m.p999, m.max);
  std::printf("  trades      %" PRIu64 " fills, volume %" PRIu64 " lots, %" PRIu64 " rejects\n",
              m.trades, m.volume, m.rejects);
  std::printf("  end state   %" PRIu64 " resting orders, state hash %016" PRIx64 "\n", m.resting,
              m.hash);
  std::printf("commands=%zu trades=%" PRIu64 " volume=%" PRIu64 " resting=%" PRIu64
              " hash=%016" PRIx64 " ops_per_sec=%.0f p50_ns=%.0f p90_ns=%.0f p99_ns=%.0f"
              " p999_ns=%.0f max_ns=%.0f\n",
              n, m.trades, m.volume, m.resting, m.hash, ops_per_sec, m.p50, m.p90, m.p99, m.p999,
              m.max);
  return 0;
}
