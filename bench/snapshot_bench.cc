// snapshot-bench: how long a shard pauses to take a snapshot, and what the
// rest of a snapshot costs off the shard thread (STYLE.md §16).
//
//   snapshot-bench [--dir DIR] [--sizes 1000,10000,100000] [--reps N]
//
// For each book size R (resting orders, one symbol): xc::flow's generator
// builds a realistic book (prefill to R resting orders, then 2R mixed ops
// around it), applied to an engine Shard. Then:
//  1. pause, direct: Shard::SaveTo into a reused std::string, N times:
//     min / median / max ns. This is the whole shard-thread cost.
//  2. pause, in the runner: a ShardRunner (threaded, no journal) with a
//     SnapshotWriterThread writing to a FileSnapshotStore in DIR;
//     RequestSnapshot() N times, reading counters().snapshot_*_pause_ns
//     (SaveTo + hand-over, as the metric reports it).
//  3. off the shard thread: the writer's Save (write + fdatasync + rename +
//     directory fsync) and, for recovery, FileSnapshotStore::Load + LoadFrom.
// The last lines are machine-readable key=value pairs, one per size.

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "xc/engine/event_buffer.h"
#include "xc/engine/io/file_snapshot_store.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/engine/node/snapshot_writer.h"
#include "xc/engine/shard.h"
#include "xc/flow/generator.h"

namespace {

using Clock = std::chrono::steady_clock;

int64_t Ns(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

struct Result {
  uint64_t resting = 0;
  uint64_t image_bytes = 0;
  int64_t pause_min = 0, pause_med = 0, pause_max = 0;
  int64_t runner_last = 0, runner_max = 0;
  int64_t save_ns = 0, load_ns = 0;
};

int Run(const std::string& base, uint32_t resting, int reps, Result* res) {
  xc::flow::GeneratorOptions go;
  go.seed = 1;
  go.resting = resting;
  go.ops = 2ull * resting;
  auto flow = xc::flow::GenerateFlow(go);
  if (!flow.ok()) {
    std::fprintf(stderr, "snapshot-bench: %s\n", std::string(flow.status().message()).c_str());
    return 2;
  }
  xc::engine::OrderBook::Options bo;
  uint32_t cap = 4096;
  while (cap < 4 * resting) cap <<= 1;
  bo.max_orders = cap;

  // 1. The pause, measured directly.
  xc::engine::node::ShardRunnerOptions ro;
  const std::string dir = base + "/snapbench-" + std::to_string(resting);
  std::filesystem::remove_all(dir);
  auto store = xc::engine::io::OpenFileSnapshotStore(dir);
  if (!store.ok()) {
    std::fprintf(stderr, "snapshot-bench: %s\n", std::string(store.status().message()).c_str());
    return 2;
  }
  xc::engine::node::SnapshotWriterOptions so;
  so.store = store->get();
  xc::engine::node::SnapshotWriterThread writer(so);
  ro.snapshot_writer = &writer;
  ro.wait = xc::engine::node::WaitStrategy::kYield;
  xc::engine::node::ShardRunner runner(ro);
  xc::engine::Shard& shard = runner.shard();
  if (!shard.AddSymbol(0, bo).ok()) return 2;
  xc::engine::EventBuffer ev(1 << 16);
  for (const xc::protocol::Command& c : flow->commands) {
    ev.clear();
    shard.Apply(c, ev);
  }
  res->resting = shard.book(0)->resting_orders();

  std::string buf;
  std::vector<int64_t> pauses;
  for (int i = 0; i < reps + 1; ++i) {
    const auto t0 = Clock::now();
    buf.clear();
    shard.SaveTo(&buf);
    const int64_t ns = Ns(Clock::now() - t0);
    if (i > 0) pauses.push_back(ns);  // the first one grows the buffer
  }
  std::sort(pauses.begin(), pauses.end());
  res->image_bytes = buf.size();
  res->pause_min = pauses.front();
  res->pause_med = pauses[pauses.size() / 2];
  res->pause_max = pauses.back();

  // 2. Through the runner, with the writer saving to files meanwhile.
  if (!writer.Start().ok() || !runner.Start().ok()) return 2;
  int64_t save_total = 0;
  for (int i = 0; i < reps; ++i) {
    const uint64_t before = runner.counters().snapshots_taken;
    runner.RequestSnapshot();
    while (runner.counters().snapshots_taken == before) std::this_thread::yield();
    writer.WaitIdle();
    save_total += writer.counters().last_write_ns;
    // Keep one file: the store replaces the snapshot at the same seq.
  }
  res->runner_last = static_cast<int64_t>(runner.counters().snapshot_last_pause_ns);
  res->runner_max = static_cast<int64_t>(runner.counters().snapshot_max_pause_ns);
  res->save_ns = save_total / reps;
  runner.Stop();
  writer.Stop();

  // 3. Recovery side: load the file and the image.
  const auto t0 = Clock::now();
  auto loaded = (*store)->Load(shard.last_seq());
  xc::engine::Shard fresh;
  if (!loaded.ok() || !fresh.AddSymbol(0, bo).ok() || !fresh.LoadFrom(loaded->image).ok()) {
    std::fprintf(stderr, "snapshot-bench: reload failed\n");
    return 1;
  }
  res->load_ns = Ns(Clock::now() - t0);
  if (fresh.StateHash() != shard.StateHash()) {
    std::fprintf(stderr, "snapshot-bench: reloaded state differs\n");
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp";
  std::vector<uint32_t> sizes = {1000, 10000, 100000};
  int reps = 21;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::string s = argv[++i];
      size_t at = 0;
      while (at <= s.size()) {
        const size_t comma = std::min(s.find(',', at), s.size());
        sizes.push_back(static_cast<uint32_t>(std::strtoul(s.substr(at, comma - at).c_str(), nullptr, 10)));
        at = comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: snapshot-bench [--dir DIR] [--sizes 1000,10000,100000] [--reps N]\n");
      return 2;
    }
  }
  std::printf("snapshot-bench: %d reps per size, files in %s, %u cpus\n", reps, dir.c_str(),
              std::thread::hardware_concurrency());
  std::vector<Result> results;
  for (uint32_t r : sizes) {
    Result res;
    if (int rc = Run(dir, r, reps, &res); rc != 0) return rc;
    std::printf("resting=%-7" PRIu64 " image=%8.2f MiB  pause (SaveTo) min/med/max = %8.1f / %8.1f / "
                "%8.1f us  runner last/max = %8.1f / %8.1f us  save (write+fsync) = %7.2f ms  "
                "load+LoadFrom = %7.2f ms\n",
                res.resting, res.image_bytes / 1048576.0, res.pause_min / 1e3, res.pause_med / 1e3,
                res.pause_max / 1e3, res.runner_last / 1e3, res.runner_max / 1e3, res.save_ns / 1e6,
                res.load_ns / 1e6);
    results.push_back(res);
  }
  for (const Result& res : results) {
    std::printf("resting=%" PRIu64 " image_bytes=%" PRIu64 " pause_min_ns=%" PRId64
                " pause_median_ns=%" PRId64 " pause_max_ns=%" PRId64 " runner_last_pause_ns=%" PRId64
                " runner_max_pause_ns=%" PRId64 " save_ns=%" PRId64 " load_ns=%" PRId64 "\n",
                res.resting, res.image_bytes, res.pause_min, res.pause_med, res.pause_max,
                res.runner_last, res.runner_max, res.save_ns, res.load_ns);
  }
  return 0;
}
