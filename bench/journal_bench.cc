// journal-bench: the group-committed command journal on real files, io_uring
// and pwrite side by side in one run (STYLE.md §12, §16).
//
//   journal-bench [--dir DIR] [--commands N] [--rate R] [--ack-seconds S]
//                 [--backend both|io_uring|pwrite] [--segment-mb M] [--batch-kb K]
//
// For each backend, in a fresh directory under DIR (default /tmp, removed
// afterwards), with the fsync policy (write + fdatasync per batch):
//  1. throughput: one producer thread appends N commands (104-byte records)
//     as fast as the writer's ring takes them, the writer runs on its own
//     JournalWriterThread; the clock stops when durable_seq reaches N.
//     Reports commands/s, MB/s, batches (flushes), mean batch size, and the
//     flush (write + fdatasync) latency p50/p99.
//  2. ack latency: open loop at R commands/s for S seconds: command i is
//     scheduled at t0 + i/R and appended at (or as soon as possible after)
//     that time; its ack latency is the time from its scheduled send until
//     the producer observes durable_seq >= i (so queueing delay counts:
//     no coordinated omission). Reports p50/p99/p99.9/max.
// The last lines are machine-readable key=value pairs, one per backend.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_args.h"
#include "xc/engine/io/file_journal.h"
#include "xc/engine/journal_format.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/journal_thread.h"
#include "xc/protocol/command.h"

namespace {

using xc::engine::JournalFlushInfo;
using xc::engine::JournalWriter;
using xc::engine::JournalWriterOptions;
using xc::engine::io::JournalIoBackend;
using xc::protocol::Command;
using xc::protocol::Seq;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, v.size());
  return static_cast<double>(v[rank - 1]);
}

Command MakeCmd(Seq s) {
  Command c = Command::Limit(static_cast<uint32_t>(s % 8), s, 1 + s % 1000,
                             s % 2 ? xc::protocol::Side::kBuy : xc::protocol::Side::kSell,
                             10'000 + static_cast<int64_t>(s % 50), 1 + static_cast<int64_t>(s % 9));
  c.ts = static_cast<int64_t>(s);
  return c;
}

struct Config {
  std::string dir = "/tmp";
  uint64_t commands = 5'000'000;
  uint64_t rate = 100'000;
  double ack_seconds = 3;
  uint64_t segment_mb = 64;
  uint64_t batch_kb = 4096;
};

struct Result {
  std::string backend;
  double cmds_per_sec = 0, mb_per_sec = 0, mean_batch = 0;
  uint64_t batches = 0;
  double sync_p50_us = 0, sync_p99_us = 0;
  double ack_p50_us = 0, ack_p99_us = 0, ack_p999_us = 0, ack_max_us = 0;
  uint64_t ack_batches = 0;
  double ack_mean_batch = 0;
};

std::string MakeTempDir(const std::string& parent) {
  std::string tmpl = parent + "/xc_journal_bench_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("journal-bench: mkdtemp");
    std::exit(2);
  }
  return tmpl;
}

struct Run {
  std::string dir;
  std::unique_ptr<xc::engine::JournalSink> sink;
  std::unique_ptr<JournalWriter> writer;
  std::unique_ptr<xc::engine::node::JournalWriterThread> thread;
  std::vector<int64_t> flush_ns;
  uint64_t flushes = 0, records = 0;
};

bool StartRun(const Config& cfg, JournalIoBackend backend, Run* run) {
  run->dir = MakeTempDir(cfg.dir);
  auto sink = xc::engine::io::OpenFileJournal(run->dir, backend);
  if (!sink.ok()) {
    std::fprintf(stderr, "journal-bench: %s\n", std::string(sink.status().message()).c_str());
    return false;
  }
  run->sink = std::move(*sink);
  JournalWriterOptions o;
  o.ring_capacity = size_t{1} << 16;
  o.max_batch_bytes = cfg.batch_kb << 10;
  o.segment_bytes = cfg.segment_mb << 20;
  run->flush_ns.reserve(1 << 20);
  o.on_flush = [run](const JournalFlushInfo& f) {
    if (run->flush_ns.size() < run->flush_ns.capacity()) run->flush_ns.push_back(f.latency_ns);
    ++run->flushes;
    if (f.last_seq != 0) run->records += f.last_seq - f.first_seq + 1;
  };
  run->writer = std::make_unique<JournalWriter>(run->sink.get(), 1, o);
  run->thread = std::make_unique<xc::engine::node::JournalWriterThread>(run->writer.get());
  absl::Status s = run->thread->Start();
  if (!s.ok()) {
    std::fprintf(stderr, "journal-bench: %s\n", std::string(s.message()).c_str());
    return false;
  }
  return true;
}

bool FinishRun(Run* run) {
  run->thread->Stop();
  absl::Status s = run->writer->Close();
  run->writer.reset();
  run->sink.reset();
  std::filesystem::remove_all(run->dir);
  if (!s.ok()) {
    std::fprintf(stderr, "journal-bench: %s\n", std::string(s.message()).c_str());
    return false;
  }
  return true;
}

bool Throughput(const Config& cfg, JournalIoBackend backend, Result* res) {
  Run run;
  if (!StartRun(cfg, backend, &run)) return false;
  res->backend = run.sink->Describe().substr(0, run.sink->Describe().find(':'));
  JournalWriter& w = *run.writer;
  const int64_t t0 = NowNs();
  for (Seq s = 1; s <= cfg.commands; ++s) {
    const Command c = MakeCmd(s);
    while (!w.TryAppend(s, c)) {
      if (w.failed()) {
        std::fprintf(stderr, "journal-bench: %s\n", std::string(w.status().message()).c_str());
        return false;
      }
      __builtin_ia32_pause();
    }
  }
  while (w.durable_seq() < cfg.commands && !w.failed()) __builtin_ia32_pause();
  const int64_t t1 = NowNs();
  if (w.failed()) {
    std::fprintf(stderr, "journal-bench: %s\n", std::string(w.status().message()).c_str());
    return false;
  }
  const double secs = static_cast<double>(t1 - t0) / 1e9;
  res->cmds_per_sec = static_cast<double>(cfg.commands) / secs;
  res->mb_per_sec = static_cast<double>(w.counters().bytes) / secs / 1e6;
  res->batches = run.flushes;
  res->mean_batch = run.flushes ? static_cast<double>(run.records) / run.flushes : 0;
  res->sync_p50_us = Pct(run.flush_ns, 0.50) / 1e3;
  res->sync_p99_us = Pct(run.flush_ns, 0.99) / 1e3;
  return FinishRun(&run);
}

bool AckLatency(const Config& cfg, JournalIoBackend backend, Result* res) {
  Run run;
  if (!StartRun(cfg, backend, &run)) return false;
  JournalWriter& w = *run.writer;
  const uint64_t n = static_cast<uint64_t>(static_cast<double>(cfg.rate) * cfg.ack_seconds);
  const double gap_ns = 1e9 / static_cast<double>(cfg.rate);
  std::vector<int64_t> sched(n + 1), ack(n + 1);
  const int64_t t0 = NowNs() + 1'000'000;
  for (uint64_t i = 1; i <= n; ++i) sched[i] = t0 + static_cast<int64_t>(gap_ns * static_cast<double>(i - 1));
  Seq next = 1, acked = 0;
  while (acked < n) {
    const int64_t now = NowNs();
    const Seq d = std::min<Seq>(w.durable_seq(), n);
    for (; acked < d; ++acked) ack[acked + 1] = now - sched[acked + 1];
    if (w.failed()) {
      std::fprintf(stderr, "journal-bench: %s\n", std::string(w.status().message()).c_str());
      return false;
    }
    while (next <= n && now >= sched[next] && w.TryAppend(next, MakeCmd(next))) ++next;
    __builtin_ia32_pause();
  }
  std::vector<int64_t> lat(ack.begin() + 1, ack.end());
  res->ack_p50_us = Pct(lat, 0.50) / 1e3;
  res->ack_p99_us = Pct(lat, 0.99) / 1e3;
  res->ack_p999_us = Pct(lat, 0.999) / 1e3;
  res->ack_max_us = lat.empty() ? 0 : static_cast<double>(lat.back()) / 1e3;
  res->ack_batches = run.flushes;
  res->ack_mean_batch = run.flushes ? static_cast<double>(run.records) / run.flushes : 0;
  return FinishRun(&run);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  std::string which = "both";
  xc::bench::ArgReader args(argc, argv);
  while (args.Next()) {
    const std::string f = args.flag();
    bool ok = true;
    if (f == "--dir") {
      ok = args.Value(&cfg.dir);
    } else if (f == "--commands") {
      ok = args.Uint(&cfg.commands) && cfg.commands > 0;
    } else if (f == "--rate") {
      ok = args.Uint(&cfg.rate) && cfg.rate > 0;
    } else if (f == "--ack-seconds") {
      ok = args.Double(&cfg.ack_seconds) && cfg.ack_seconds > 0;
    } else if (f == "--backend") {
      ok = args.Value(&which) && (which == "both" || which == "io_uring" || which == "pwrite");
    } else if (f == "--segment-mb") {
      ok = args.Uint(&cfg.segment_mb) && cfg.segment_mb > 0;
    } else if (f == "--batch-kb") {
      ok = args.Uint(&cfg.batch_kb) && cfg.batch_kb >= 4;
    } else {
      std::fprintf(stderr,
                   "usage: journal-bench [--dir DIR] [--commands N] [--rate R] [--ack-seconds S]"
                   " [--backend both|io_uring|pwrite] [--segment-mb M] [--batch-kb K]\n");
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "journal-bench: bad value for %s\n", f.c_str());
      return 2;
    }
  }
  std::vector<JournalIoBackend> backends;
  if (which == "both" || which == "io_uring") {
    std::string why;
    if (xc::engine::io::UringAvailable(&why)) {
      backends.push_back(JournalIoBackend::kUring);
    } else {
      std::printf("io_uring refused here (%s): pwrite only\n", why.c_str());
    }
  }
  if (which == "both" || which == "pwrite") backends.push_back(JournalIoBackend::kPwrite);

  std::printf("journal-bench: %" PRIu64 " commands x %zu B records, policy fsync, segments %" PRIu64
              " MiB (fallocate), batch <= %" PRIu64 " KiB, dir %s, CRC32C %s, %ld cpus\n",
              cfg.commands, xc::engine::kJournalCommandRecordSize, cfg.segment_mb, cfg.batch_kb,
              cfg.dir.c_str(), xc::engine::Crc32cIsHardware() ? "sse4.2" : "table",
              ::sysconf(_SC_NPROCESSORS_ONLN));
  std::vector<Result> results;
  for (JournalIoBackend b : backends) {
    Result r;
    if (!Throughput(cfg, b, &r)) return 1;
    if (!AckLatency(cfg, b, &r)) return 1;
    r.backend = xc::engine::io::JournalIoBackendName(b);
    std::printf("  %-8s throughput %.2f M cmds/s (%.0f MB/s), %" PRIu64
                " batches, mean %.0f cmds/batch, flush (write+fdatasync) p50 %.0f us p99 %.0f us\n",
                r.backend.c_str(), r.cmds_per_sec / 1e6, r.mb_per_sec, r.batches, r.mean_batch,
                r.sync_p50_us, r.sync_p99_us);
    std::printf("  %-8s ack latency at %" PRIu64 " cmds/s open loop: p50 %.0f us p99 %.0f us"
                " p99.9 %.0f us max %.0f us (%" PRIu64 " batches, mean %.1f cmds/batch)\n",
                r.backend.c_str(), cfg.rate, r.ack_p50_us, r.ack_p99_us, r.ack_p999_us,
                r.ack_max_us, r.ack_batches, r.ack_mean_batch);
    std::fflush(stdout);
    results.push_back(r);
  }
  for (const Result& r : results) {
    std::printf("backend=%s commands=%" PRIu64 " cmds_per_sec=%.0f mb_per_sec=%.1f batches=%" PRIu64
                " mean_batch=%.1f sync_p50_us=%.0f sync_p99_us=%.0f rate=%" PRIu64
                " ack_p50_us=%.0f ack_p99_us=%.0f ack_p999_us=%.0f ack_max_us=%.0f\n",
                r.backend.c_str(), cfg.commands, r.cmds_per_sec, r.mb_per_sec, r.batches,
                r.mean_batch, r.sync_p50_us, r.sync_p99_us, cfg.rate, r.ack_p50_us, r.ack_p99_us,
                r.ack_p999_us, r.ack_max_us);
  }
  return 0;
}
