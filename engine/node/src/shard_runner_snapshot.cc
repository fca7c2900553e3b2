// ShardRunner's snapshot step (ShardRunnerOptions::snapshot_writer): the
// shard thread serializes, SnapshotWriterThread writes.

#include <chrono>

#include "xc/engine/node/shard_runner.h"

namespace xc::engine::node {

void ShardRunner::MaybeSnapshot() {
  const protocol::Seq seq = shard_.last_seq();
  if (!snapshot_base_set_) {
    // The first cycle sees the recovered state: count from there.
    snapshot_base_set_ = true;
    snapshot_next_due_ = options_.snapshot_every_n_commands != 0
                             ? seq + options_.snapshot_every_n_commands
                             : 0;
  }
  const bool requested = snapshot_requested_.load(std::memory_order_acquire);
  const bool due = snapshot_next_due_ != 0 && seq >= snapshot_next_due_;
  if (!requested && !due) return;
  // After a journal failure nothing more becomes durable: no snapshots.
  if (stopped_.load(std::memory_order_relaxed)) return;
  SnapshotWriterThread& writer = *options_.snapshot_writer;
  if (!writer.idle()) {
    Add(snapshots_deferred_, 1);
    return;
  }
  // The pause: the only snapshot work on the shard thread. Reading the clock
  // here is for the metric only; the shard's state does not depend on it.
  const auto t0 = std::chrono::steady_clock::now();
  std::string* buf = writer.buffer();
  buf->clear();
  shard_.SaveTo(buf);
  writer.Submit(seq);
  const uint64_t ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  snapshot_requested_.store(false, std::memory_order_relaxed);
  if (options_.snapshot_every_n_commands != 0) {
    snapshot_next_due_ = seq + options_.snapshot_every_n_commands;
  }
  Add(snapshots_taken_, 1);
  snapshot_last_seq_.store(seq, std::memory_order_relaxed);
  snapshot_last_pause_ns_.store(ns, std::memory_order_relaxed);
  if (ns > Load(snapshot_max_pause_ns_)) snapshot_max_pause_ns_.store(ns, std::memory_order_relaxed);
}

}  // namespace xc::engine::node
