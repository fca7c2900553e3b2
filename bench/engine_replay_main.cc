// engine-replay: replays an order-flow file (bench/README.md) through one
// engine shard at full speed on one pinned core and reports throughput, per-op
// latency percentiles and the final state hash.
//
//   engine-replay [--warmup N] [--repeat K] [--max-orders N] [--no-latency]
//                 [--journal DIR [--durability fsync|interval:<ms>|none]]
//                 [--compare-durability DIRBASE] FILE|-
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
// With --journal DIR the timed run is ONE journaled run instead: the shard
// applies the flow on its pinned core exactly as above (one TSC stamp per op)
// and hands each command, with the seq it stamped, to a JournalWriter on a
// real file journal in DIR (io_uring or pwrite, OpenFileJournal kAuto) whose
// agent runs on a JournalWriterThread pinned to another allowed CPU. Matching
// runs ahead of the journal by up to the writer's ring (64k commands); when
// the ring is full the shard waits (out of line, counted as a stall). A
// command's ack time is when durable_seq passes its seq: the writer's on_flush
// callback stamps (durable_seq, TSC) once per flush, so acks cost the agent
// no per-command work and nobody an extra syscall. The summary gains the journal keys (bench/README.md).
// DIR must be absent or empty and is left in place (`journal verify|replay`).
// --compare-durability DIRBASE runs the flow without a journal, then with
// policy none (DIRBASE/none), then fsync (DIRBASE/fsync), prints a table and
// the summary of the fsync run.
//
// Exit codes: 0 ok; 2 usage, unreadable file or malformed line (the message
// names the file and line), a journal directory that is not empty, a bad
// --durability, or a journal I/O error; 3 the runs disagreed on the state hash.

#include <sched.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cli_args.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/io/file_journal.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/journal_thread.h"
#include "xc/engine/order_book.h"
#include "xc/engine/shard.h"
#include "xc/flow/flow_format.h"
#include "xc/protocol/command.h"
#include "xc/protocol/check.h"
#include "xc/protocol/event.h"

namespace {

using xc::engine::DurabilityPolicy;
using xc::engine::EventBuffer;
using xc::engine::JournalFlushInfo;
using xc::engine::JournalWriter;
using xc::engine::OrderBook;
using xc::engine::Shard;
using xc::protocol::Command;
using xc::protocol::Event;
using xc::protocol::EventType;
using xc::protocol::Seq;

constexpr const char* kUsage =
    "usage: engine-replay [--warmup N] [--repeat K] [--max-orders N] [--no-latency]\n"
    "                     [--journal DIR [--durability fsync|interval:<ms>|none]]\n"
    "                     [--compare-durability DIRBASE] FILE|-\n";

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

// Pins the calling thread to the last CPU it may run on; returns it (-1 on
// failure). *cpus receives every CPU it was allowed before pinning.
int PinToLastAllowedCpu(std::string* allowed, std::vector<int>* cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    last = c;
    cpus->push_back(c);
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

// ---- journaled runs (--journal, --compare-durability) ----

// Time spent with the journal's ring full (the shard waiting for the writer).
struct Stalls {
  uint64_t count = 0;
  uint64_t ticks = 0;
};

// Out of line: the writer's ring is full, i.e. the journal is behind the
// shard. Spins until the command fits (false if the writer failed).
__attribute__((noinline, cold)) bool WaitAppend(JournalWriter& w, Seq seq, const Command& cmd,
                                                Stalls* stalls) {
  const uint64_t t0 = __rdtsc();
  while (!w.TryAppend(seq, cmd)) {
    if (w.failed()) return false;
    _mm_pause();
  }
  ++stalls->count;
  stalls->ticks += __rdtsc() - t0;
  return true;
}

// The journaled timed loop: ReplayLoop<true> plus, per command, one
// TryAppend(seq, cmd) to the writer's ring (an 88-byte copy and a release
// store; no syscall), as ShardRunner's journaled duty cycle does. stamps[i]
// is the TSC right after command i was applied and handed to the journal: it
// yields both the per-op deltas and the start of command i's ack latency.
// Returns false (after *done commands) if the writer failed.
__attribute__((noinline)) bool JournaledLoop(Shard& shard, const Command* cmds, size_t n,
                                             EventBuffer& events, JournalWriter& w,
                                             uint64_t* stamps, Counters* out, Stalls* stalls,
                                             size_t* done) {
  uint64_t trades = 0, volume = 0, rejects = 0;
  size_t i = 0;
  bool ok = true;
  for (; i < n; ++i) {
    if (i + 1 < n) shard.Prefetch(cmds[i + 1]);
    shard.Apply(cmds[i], events);
    for (const Event& e : events) {
      const bool trade = e.type == EventType::kTrade;
      trades += trade;
      volume += trade ? static_cast<uint64_t>(e.qty) : 0;
      rejects += e.type == EventType::kRejected;
    }
    events.clear();
    const Seq seq = shard.last_seq();
    if (__builtin_expect(!w.TryAppend(seq, cmds[i]), 0) && !WaitAppend(w, seq, cmds[i], stalls)) {
      ok = false;
      break;
    }
    stamps[i] = __rdtsc();
  }
  *out = {trades, volume, rejects};
  *done = i;
  return ok;
}

// What the writer's agent thread records, once per completed flush (from
// JournalWriterOptions::on_flush). All vectors are reserved up front: the
// callback never allocates.
struct FlushLog {
  JournalWriter* writer = nullptr;
  // (durable_seq, TSC) each time durable_seq moved: commands up to `first`
  // were acknowledged at `second`. Ascending in both.
  std::vector<std::pair<Seq, uint64_t>> acks;
  uint64_t acks_merged = 0;  // entries folded into the last one when full
  std::vector<int64_t> sync_ns;   // latency of flushes that included an fdatasync
  std::vector<int64_t> write_ns;  // latency of write-only flushes
  uint64_t batches = 0;           // flushes that wrote commands
  uint64_t batch_records = 0;

  void Reserve(size_t n) {
    acks.reserve(n);
    sync_ns.reserve(n);
    write_ns.reserve(n);
  }
  void OnFlush(const JournalFlushInfo& f) {
    if (f.last_seq != 0) {
      ++batches;
      batch_records += f.last_seq - f.first_seq + 1;
    }
    std::vector<int64_t>& lat = f.synced ? sync_ns : write_ns;
    if (lat.size() < lat.capacity()) lat.push_back(f.latency_ns);
    // durable_seq, not f.last_seq: under fsync/interval a write does not make
    // its commands durable, a later sync does (and a segment roll may have
    // moved durable_seq without a callback; this catches up with it).
    const Seq d = writer->durable_seq();
    if (!acks.empty() && d <= acks.back().first) return;
    const uint64_t now = __rdtsc();
    if (acks.size() < acks.capacity()) {
      acks.emplace_back(d, now);
    } else {
      // Later, never earlier: the commands of the last entry get this stamp.
      acks.back() = {d, now};
      ++acks_merged;
    }
  }
};

// One journaled run's figures (on top of RunResult's matching figures).
struct JournalRun {
  std::string policy;
  std::string backend;      // "io_uring" or "pwrite"
  std::string sink;         // JournalSink::Describe()
  int writer_cpu = -1;
  size_t ring = 0;          // writer ring capacity, commands
  double e2e_seconds = 0;   // loop start until the last command was durable
  Stalls stalls;
  xc::engine::JournalWriterCounters counters;
  uint64_t batches = 0;
  double mean_batch = 0;
  double sync_p50_us = 0, sync_p99_us = 0;    // flushes with fdatasync (0 if none)
  double write_p50_us = 0, write_p99_us = 0;  // write-only flushes (0 if none)
  size_t syncs_sampled = 0, writes_sampled = 0;
  double ack_p50_us = 0, ack_p90_us = 0, ack_p99_us = 0, ack_p999_us = 0, ack_max_us = 0;
  uint64_t acks_merged = 0;
};

// Absent or an empty directory: true. Otherwise prints why and returns false.
bool CheckEmptyDir(const std::string& dir, const char* flag) {
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (st.type() == std::filesystem::file_type::not_found) return true;
  if (ec) {
    std::fprintf(stderr, "engine-replay: %s %s: %s\n", flag, dir.c_str(), ec.message().c_str());
    return false;
  }
  if (st.type() != std::filesystem::file_type::directory) {
    std::fprintf(stderr, "engine-replay: %s %s: exists and is not a directory\n", flag,
                 dir.c_str());
    return false;
  }
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    std::fprintf(stderr, "engine-replay: %s %s: %s\n", flag, dir.c_str(), ec.message().c_str());
    return false;
  }
  if (it != std::filesystem::directory_iterator()) {
    std::fprintf(stderr,
                 "engine-replay: %s %s: directory is not empty (found %s); the journal must "
                 "start empty: remove it or name another directory\n",
                 flag, dir.c_str(), it->path().filename().c_str());
    return false;
  }
  return true;
}

double PercentileNs(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, v.size());
  return static_cast<double>(v[rank - 1]);
}

// Replays the whole flow on a fresh shard, journaling every command into
// `dir` under `policy`, with the writer's agent on a JournalWriterThread on
// `writer_cpu` (-1: not pinned). Fills *res (matching figures, per-op
// latency from stamps/cycles) and *jr. Uses stamps[0..n) and cycles[0..n).
// Returns false after printing the error (I/O error, writer failure).
bool RunJournaled(const xc::flow::Flow& flow, const std::vector<uint32_t>& pools,
                  const DurabilityPolicy& policy, const std::string& dir, int writer_cpu,
                  double ticks_per_ns, EventBuffer& events, std::vector<uint64_t>& stamps,
                  std::vector<uint32_t>& cycles, RunResult* res, JournalRun* jr) {
  const size_t n = flow.commands.size();
  auto sink = xc::engine::io::OpenFileJournal(dir, xc::engine::io::JournalIoBackend::kAuto);
  if (!sink.ok()) {
    std::fprintf(stderr, "engine-replay: --journal %s: %s\n", dir.c_str(),
                 std::string(sink.status().message()).c_str());
    return false;
  }
  jr->policy = policy.ToString();
  jr->sink = (*sink)->Describe();
  jr->backend = jr->sink.substr(0, jr->sink.find(':'));
  jr->writer_cpu = writer_cpu;

  FlushLog log;
  log.Reserve(std::min<size_t>(n, size_t{1} << 20) + 64);
  xc::engine::JournalWriterOptions wo;
  wo.policy = policy;
  wo.on_flush = [&log](const JournalFlushInfo& f) { log.OnFlush(f); };
  JournalWriter writer(sink->get(), 1, wo);
  log.writer = &writer;
  jr->ring = wo.ring_capacity;

  Shard shard;
  if (!BuildShard(pools, &shard)) return false;
  xc::engine::node::JournalWriterThread agent(&writer, writer_cpu);
  if (absl::Status s = agent.Start(); !s.ok()) {
    std::fprintf(stderr, "engine-replay: journal thread: %s\n", std::string(s.message()).c_str());
    return false;
  }

  Counters c;
  size_t done = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t tsc0 = __rdtsc();
  const bool ok = JournaledLoop(shard, flow.commands.data(), n, events, writer, stamps.data(), &c,
                                &jr->stalls, &done);
  const auto t1 = std::chrono::steady_clock::now();
  // End to end: until the last command is durable under the policy.
  while (ok && writer.durable_seq() < shard.last_seq() && !writer.failed()) _mm_pause();
  const auto t2 = std::chrono::steady_clock::now();
  const uint64_t tsc2 = __rdtsc();
  agent.Stop();
  const absl::Status closed = writer.Close();
  if (!ok || !closed.ok() || writer.failed()) {
    std::fprintf(stderr, "engine-replay: journal failed after %zu of %zu commands: %s\n", done, n,
                 std::string((!closed.ok() ? closed : writer.status()).message()).c_str());
    return false;
  }

  res->seconds = std::chrono::duration<double>(t1 - t0).count();
  res->trades = c.trades;
  res->volume = c.volume;
  res->rejects = c.rejects;
  res->resting = Resting(shard);
  res->hash = shard.StateHash();
  jr->e2e_seconds = std::chrono::duration<double>(t2 - t0).count();
  jr->counters = writer.counters();
  jr->batches = log.batches;
  jr->mean_batch = log.batches ? static_cast<double>(log.batch_records) / log.batches : 0;
  jr->syncs_sampled = log.sync_ns.size();
  jr->writes_sampled = log.write_ns.size();
  jr->sync_p50_us = PercentileNs(log.sync_ns, 0.50) / 1e3;
  jr->sync_p99_us = PercentileNs(log.sync_ns, 0.99) / 1e3;
  jr->write_p50_us = PercentileNs(log.write_ns, 0.50) / 1e3;
  jr->write_p99_us = PercentileNs(log.write_ns, 0.99) / 1e3;
  jr->acks_merged = log.acks_merged;

  // Per-op latency: TSC deltas between consecutive stamps, as ReplayLoop<true>.
  uint64_t prev = tsc0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t d = stamps[i] - prev;
    cycles[i] = d > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                          : static_cast<uint32_t>(d);
    prev = stamps[i];
  }
  // Ack latency of command i (seq i + 1): the first durable_seq stamp that
  // covers it, minus its apply stamp. Computed in place over stamps.
  // The main thread saw the last seq durable at tsc2: a fallback stamp for
  // anything no callback covered (a roll's sync just before the end).
  log.acks.emplace_back(shard.last_seq(), tsc2);
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    const Seq seq = i + 1;
    while (log.acks[k].first < seq) ++k;
    const uint64_t ack = log.acks[k].second;
    stamps[i] = ack > stamps[i] ? ack - stamps[i] : 0;
  }
  std::sort(stamps.begin(), stamps.begin() + static_cast<ptrdiff_t>(n));
  auto ack_us = [&](double p) {
    if (n == 0) return 0.0;
    size_t rank = static_cast<size_t>(p * static_cast<double>(n) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, n);
    return static_cast<double>(stamps[rank - 1]) / ticks_per_ns / 1e3;
  };
  jr->ack_p50_us = ack_us(0.50);
  jr->ack_p90_us = ack_us(0.90);
  jr->ack_p99_us = ack_us(0.99);
  jr->ack_p999_us = ack_us(0.999);
  jr->ack_max_us = ack_us(1.0);

  std::sort(cycles.begin(), cycles.begin() + static_cast<ptrdiff_t>(n));
  res->p50 = Percentile(cycles, 0.50, ticks_per_ns);
  res->p90 = Percentile(cycles, 0.90, ticks_per_ns);
  res->p99 = Percentile(cycles, 0.99, ticks_per_ns);
  res->p999 = Percentile(cycles, 0.999, ticks_per_ns);
  res->max = n ? static_cast<double>(cycles[n - 1]) / ticks_per_ns : 0;
  return true;
}

void PrintJournalLines(const JournalRun& j, size_t n, double loop_seconds, double ticks_per_ns) {
  const double stall_s = static_cast<double>(j.stalls.ticks) / ticks_per_ns / 1e9;
  const double alone = loop_seconds - stall_s;
  const double e2e = j.e2e_seconds > 0 ? static_cast<double>(n) / j.e2e_seconds : 0;
  if (j.writer_cpu >= 0) {
    std::printf("  journal     %s, policy %s, writer thread pinned to cpu %d, ring %zu commands\n",
                j.sink.c_str(), j.policy.c_str(), j.writer_cpu, j.ring);
  } else {
    std::printf("  journal     %s, policy %s, writer thread not pinned (no other allowed cpu: it "
                "shares the shard's core), ring %zu commands\n",
                j.sink.c_str(), j.policy.c_str(), j.ring);
  }
  std::printf("  stalls      ring full %" PRIu64 " time(s), %.3f s waiting for the journal;"
              " matching alone %.2f M ops/s\n",
              j.stalls.count, stall_s, alone > 0 ? static_cast<double>(n) / alone / 1e6 : 0.0);
  std::printf("  durable     %.3f s until the last command was durable: %.2f M cmds/s end to "
              "end, %.0f MB/s (%" PRIu64 " bytes)\n",
              j.e2e_seconds, e2e / 1e6,
              j.e2e_seconds > 0 ? static_cast<double>(j.counters.bytes) / j.e2e_seconds / 1e6 : 0,
              j.counters.bytes);
  std::printf("  batches     %" PRIu64 " (mean %.1f cmds), %" PRIu64 " flushes, %" PRIu64
              " fdatasyncs, %" PRIu64 " segment(s)\n",
              j.batches, j.mean_batch, j.counters.flushes, j.counters.syncs, j.counters.segments);
  if (j.syncs_sampled != 0) {
    std::printf("  flush us    write+fdatasync p50 %.0f  p99 %.0f (%zu)\n", j.sync_p50_us,
                j.sync_p99_us, j.syncs_sampled);
  }
  if (j.writes_sampled != 0) {
    std::printf("  flush us    write only p50 %.0f  p99 %.0f (%zu)\n", j.write_p50_us,
                j.write_p99_us, j.writes_sampled);
  }
  std::printf("  ack us      p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f"
              " (applied -> durable_seq passed it)%s\n",
              j.ack_p50_us, j.ack_p90_us, j.ack_p99_us, j.ack_p999_us, j.ack_max_us,
              j.acks_merged ? " [ack log overflowed: later stamps]" : "");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t warmup = 0, repeat = 1, max_orders = 0;
  bool latency = true;
  std::string path, journal_dir, compare_base, durability;
  bool have_durability = false;
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
    } else if (f == "--journal") {
      ok = args.Value(&journal_dir) && !journal_dir.empty();
    } else if (f == "--durability") {
      ok = args.Value(&durability);
      have_durability = true;
    } else if (f == "--compare-durability") {
      ok = args.Value(&compare_base) && !compare_base.empty();
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
  const bool journaled = !journal_dir.empty();
  const bool compare = !compare_base.empty();
  DurabilityPolicy policy;  // fsync
  if (have_durability) {
    if (!journaled) {
      std::fprintf(stderr, "engine-replay: --durability needs --journal DIR%s\n",
                   compare ? " (--compare-durability runs none and fsync itself)" : "");
      return 2;
    }
    absl::StatusOr<DurabilityPolicy> p = DurabilityPolicy::Parse(durability);
    if (!p.ok()) {
      std::fprintf(stderr, "engine-replay: --durability: %s\n",
                   std::string(p.status().message()).c_str());
      return 2;
    }
    policy = *p;
  }
  if (journaled && compare) {
    std::fprintf(stderr, "engine-replay: --journal and --compare-durability exclude each other\n");
    return 2;
  }
  if (journaled && (repeat != 1 || !latency)) {
    std::fprintf(stderr, "engine-replay: --repeat and --no-latency apply to runs without a "
                         "journal; with --journal the timed run is one journaled run (use "
                         "--compare-durability to compare with unjournaled runs)\n");
    return 2;
  }
  if (journaled && !CheckEmptyDir(journal_dir, "--journal")) return 2;
  if (compare && !CheckEmptyDir(compare_base, "--compare-durability")) return 2;

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
  std::vector<int> cpus;
  const int cpu = PinToLastAllowedCpu(&allowed, &cpus);
  const double ticks_per_ns = CalibrateTsc();
  // The journal's agent gets another allowed CPU if there is one (the first).
  int writer_cpu = -1;
  for (int c : cpus) {
    if (cpu >= 0 && c != cpu) {
      writer_cpu = c;
      break;
    }
  }

  // Preallocated and zeroed (so its pages are faulted in, huge where the
  // kernel allows) before any timing.
  const bool stamp = latency || journaled || compare;
  std::vector<uint32_t> cycles;
  cycles.reserve(stamp ? n : 0);
  AdviseHugePages(cycles.data(), cycles.capacity() * sizeof(uint32_t));
  cycles.resize(stamp ? n : 0);
  // Journaled runs: per-op TSC stamps (apply time, then ack latency).
  std::vector<uint64_t> stamps;
  stamps.reserve(journaled || compare ? n : 0);
  AdviseHugePages(stamps.data(), stamps.capacity() * sizeof(uint64_t));
  stamps.resize(journaled || compare ? n : 0);
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
  RunResult m;                          // the run the summary line reports
  RunResult lat;                        // the latency run without a journal
  std::vector<RunResult> runs;          // the runs without a journal
  std::optional<JournalRun> jm;         // m's journal figures, if journaled
  if (!journaled) {
    for (uint64_t r = 0; r < repeat; ++r) {
      RunResult res;
      if (!run_once(false, &res)) return 2;
      runs.push_back(res);
    }
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
    m = by_speed[(by_speed.size() - 1) / 2];
    m.p50 = lat.p50;
    m.p90 = lat.p90;
    m.p99 = lat.p99;
    m.p999 = lat.p999;
    m.max = lat.max;
  }

  // Journaled runs: --journal (one, policy as given) or --compare-durability
  // (none, then fsync, after the runs above).
  struct Journaled {
    RunResult res;
    JournalRun jr;
  };
  std::vector<Journaled> jruns;
  std::vector<std::pair<DurabilityPolicy, std::string>> todo;
  if (journaled) todo.emplace_back(policy, journal_dir);
  if (compare) {
    std::error_code ec;
    std::filesystem::create_directory(compare_base, ec);
    if (ec) {
      std::fprintf(stderr, "engine-replay: --compare-durability %s: %s\n", compare_base.c_str(),
                   ec.message().c_str());
      return 2;
    }
    DurabilityPolicy none;
    none.mode = DurabilityPolicy::Mode::kNone;
    todo.emplace_back(none, compare_base + "/none");
    todo.emplace_back(DurabilityPolicy{}, compare_base + "/fsync");
  }
  for (const auto& [pol, dir] : todo) {
    Journaled j;
    if (!RunJournaled(flow, pools, pol, dir, writer_cpu, ticks_per_ns, events, stamps, cycles,
                      &j.res, &j.jr)) {
      return 2;
    }
    const uint64_t want = runs.empty() ? j.res.hash : runs[0].hash;
    if (j.res.hash != want) {
      std::fprintf(stderr, "engine-replay: the journaled run (%s) disagrees on the state hash "
                           "(%016" PRIx64 " vs %016" PRIx64 "): the engine is not deterministic\n",
                   j.jr.policy.c_str(), want, j.res.hash);
      return 3;
    }
    jruns.push_back(std::move(j));
  }
  if (!jruns.empty()) {
    m = jruns.back().res;
    jm = jruns.back().jr;
  }
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
  if (journaled) {
    std::printf("  runs        1 journaled run (one rdtsc per op), %" PRIu64
                " warm-up without journal\n", warmup);
  } else {
    std::printf("  runs        %" PRIu64 " throughput run(s) without timestamps (median shown), %" PRIu64
                " warm-up, %s\n",
                repeat, warmup, latency ? "then 1 latency run (one rdtsc per op)" : "no latency run");
    if (compare) {
      std::printf("              then journaled runs (one rdtsc per op): none, fsync; figures "
                  "below are the fsync run's\n");
    }
    if (repeat > 1) {
      std::printf("  all runs    ");
      for (uint64_t r = 0; r < repeat; ++r) {
        std::printf(" %.2fM", static_cast<double>(n) / runs[r].seconds / 1e6);
      }
      std::printf(" ops/s\n");
    }
  }
  if (compare) {
    std::printf("  compare     %-11s %10s %10s %8s %8s %8s %9s %9s %9s %9s\n", "durability",
                "Mops/s", "e2e Mcmd/s", "stall s", "MB/s", "batch", "ack p50us", "p99 us",
                "p99.9 us", "max us");
    auto off_row = [&](const char* name, double secs) {
      std::printf("              %-11s %10.2f %10s %8s %8s %8s %9s %9s %9s %9s\n", name,
                  secs > 0 ? static_cast<double>(n) / secs / 1e6 : 0.0, "-", "-", "-", "-", "-",
                  "-", "-", "-");
    };
    off_row("off", runs.empty() ? 0 : [&] {
      std::vector<double> s;
      for (uint64_t r = 0; r < repeat; ++r) s.push_back(runs[r].seconds);
      std::sort(s.begin(), s.end(), std::greater<double>());
      return s[(s.size() - 1) / 2];
    }());
    if (latency) off_row("off+stamps", lat.seconds);
    for (const Journaled& j : jruns) {
      std::printf("              %-11s %10.2f %10.2f %8.3f %8.0f %8.0f %9.1f %9.1f %9.1f %9.1f\n",
                  j.jr.policy.c_str(), static_cast<double>(n) / j.res.seconds / 1e6,
                  static_cast<double>(n) / j.jr.e2e_seconds / 1e6,
                  static_cast<double>(j.jr.stalls.ticks) / ticks_per_ns / 1e9,
                  static_cast<double>(j.jr.counters.bytes) / j.jr.e2e_seconds / 1e6,
                  j.jr.mean_batch, j.jr.ack_p50_us, j.jr.ack_p99_us, j.jr.ack_p999_us,
                  j.jr.ack_max_us);
    }
    std::printf("              (off: median throughput run, no stamps; off+stamps: the latency "
                "run; journaled: applying + appending, one stamp per op)\n");
  }
  std::printf("  throughput  %.3f s, %.2f M ops/s (%.1f ns/op)%s\n", m.seconds, ops_per_sec / 1e6,
              n ? m.seconds * 1e9 / static_cast<double>(n) : 0.0,
              jm ? ", applying + appending to the journal" : "");
  std::printf("  latency ns  p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n", m.p50, m.p90,
              m.p99, m.p999, m.max);
  std::printf("  trades      %" PRIu64 " fills, volume %" PRIu64 " lots, %" PRIu64 " rejects\n",
              m.trades, m.volume, m.rejects);
  std::printf("  end state   %" PRIu64 " resting orders, state hash %016" PRIx64 "\n", m.resting,
              m.hash);
  if (jm) PrintJournalLines(*jm, n, m.seconds, ticks_per_ns);
  std::printf("commands=%zu trades=%" PRIu64 " volume=%" PRIu64 " resting=%" PRIu64
              " hash=%016" PRIx64 " ops_per_sec=%.0f p50_ns=%.0f p90_ns=%.0f p99_ns=%.0f"
              " p999_ns=%.0f max_ns=%.0f",
              n, m.trades, m.volume, m.resting, m.hash, ops_per_sec, m.p50, m.p90, m.p99, m.p999,
              m.max);
  if (jm) {
    const JournalRun& j = *jm;
    std::printf(" durability=%s journal_backend=%s journal_cmds_per_sec=%.0f"
                " journal_mb_per_sec=%.1f batches=%" PRIu64 " mean_batch=%.1f"
                " ack_p50_us=%.1f ack_p90_us=%.1f ack_p99_us=%.1f ack_p999_us=%.1f"
                " ack_max_us=%.1f",
                j.policy.c_str(), j.backend.c_str(),
                j.e2e_seconds > 0 ? static_cast<double>(n) / j.e2e_seconds : 0.0,
                j.e2e_seconds > 0 ? static_cast<double>(j.counters.bytes) / j.e2e_seconds / 1e6
                                  : 0.0,
                j.batches, j.mean_batch, j.ack_p50_us, j.ack_p90_us, j.ack_p99_us, j.ack_p999_us,
                j.ack_max_us);
  }
  std::printf("\n");
  return 0;
}
