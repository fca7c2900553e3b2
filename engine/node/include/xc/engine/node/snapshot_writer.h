#pragma once
// SnapshotWriterThread: writes shard snapshots to a SnapshotStore off the
// shard thread (engine/doc/snapshot_format.md). The shard thread's part is
// only Shard::SaveTo into this writer's reused buffer (the snapshot pause);
// see ShardRunnerOptions::snapshot_writer.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/snapshot_store.h"
#include "xc/protocol/types.h"

namespace xc::engine::node {

struct SnapshotWriterOptions {
  // Where snapshots go (not owned; must outlive the writer). Required.
  SnapshotStore* store = nullptr;
  // The shard's journal (not owned), or null. A snapshot at seq S is written
  // only once journal->durable_seq() >= S, so that a snapshot on disk never
  // runs ahead of the durable journal (matching runs ahead of the journal;
  // a snapshot of commands that a crash could still lose would resurrect
  // them). If the journal fails first, the snapshot is dropped.
  const JournalWriter* journal = nullptr;
  // Called on the writer thread after each successful Save with its seq, e.g.
  // to apply retention (io::ApplyRetention). An error is counted and kept in
  // last_error(), and does not stop the writer. Empty: none.
  std::function<absl::Status(protocol::Seq)> after_save;
  // Bytes reserved in the image buffer at construction, so that the first
  // snapshots do not grow it on the shard thread. 0: grow on demand (the
  // buffer is reused, so only the first snapshots of a growing book allocate).
  size_t reserve_bytes = 0;
};

// Counters, each read with a relaxed load (not mutually atomic).
struct SnapshotWriterCounters {
  uint64_t saved = 0;             // snapshots durable in the store
  uint64_t failed = 0;            // Save or after_save errors
  uint64_t dropped = 0;           // given up: the journal failed, or Stop timed out
  protocol::Seq last_saved_seq = 0;
  int64_t last_write_ns = 0;      // Save duration (write + fsync + rename) of the last one
  int64_t last_durable_wait_ns = 0;  // time spent waiting for the journal to reach its seq
};

// SnapshotWriterThread owns one image buffer and one thread. The producer
// (the shard thread) fills the buffer when the writer is idle() and hands it
// over with Submit(seq); the writer thread waits until the journal is
// durable up to seq, saves the image to the store, runs after_save, and
// becomes idle again. At most one snapshot is in progress; a producer that
// finds the writer busy simply tries again later.
//
// Thread safety, by role: setup (constructor, Start, Stop, destructor): the
// owner thread; producer (idle, buffer, Submit): one thread, the shard
// thread; observers (counters, last_error, WaitIdle): any thread.
// Hand-over: Submit's release store publishes the buffer to the writer
// thread; the writer's release store of "idle" returns it.
//
// Allocation: the buffer grows to the largest image and is then reused;
// nothing else per snapshot on the producer side.
class SnapshotWriterThread {
 public:
  using Options = SnapshotWriterOptions;

  // REQUIRES: options.store != null (fatal otherwise).
  explicit SnapshotWriterThread(const Options& options);
  // Stop().
  ~SnapshotWriterThread();
  SnapshotWriterThread(const SnapshotWriterThread&) = delete;
  SnapshotWriterThread& operator=(const SnapshotWriterThread&) = delete;

  // Starts the thread. FailedPrecondition if running.
  [[nodiscard]] absl::Status Start();
  // Finishes a snapshot in progress (waiting up to 5 s for the journal to
  // reach its seq, then dropping it), and joins. No-op when not running.
  void Stop();

  // ---- producer (the shard thread) ----

  // True when no snapshot is in progress: buffer() may be filled.
  bool idle() const { return !busy_.load(std::memory_order_acquire); }
  // The image buffer. REQUIRES: idle(). The producer clears and fills it.
  std::string* buffer() { return &buffer_; }
  // Hands the buffer (the image at `seq`) to the writer thread.
  // REQUIRES: idle(); the buffer holds a Shard::SaveTo image of seq. Cost: a
  // release store and a condition-variable notify (one futex wake).
  void Submit(protocol::Seq seq);

  // ---- observers (any thread) ----

  SnapshotWriterCounters counters() const;
  // Ok, or the last Save / after_save error.
  absl::Status last_error() const;
  // Blocks until no snapshot is in progress (tests, benchmarks).
  void WaitIdle() const;

 private:
  void Run();
  void Write();

  const Options options_;
  std::string buffer_;
  protocol::Seq seq_ = 0;  // of the image in buffer_; written before busy_ is set

  std::atomic<bool> busy_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  absl::Status last_error_;  // guarded by mu_
  std::thread thread_;

  std::atomic<uint64_t> saved_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<protocol::Seq> last_saved_seq_{0};
  std::atomic<int64_t> last_write_ns_{0};
  std::atomic<int64_t> last_durable_wait_ns_{0};
};

}  // namespace xc::engine::node
