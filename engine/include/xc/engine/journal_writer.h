#pragma once
// JournalWriter: the group-committing writer of a shard's command journal
// (STYLE.md §10, §12; LevelDB's group commit, exchange-core's journaling stage).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/engine/journal_format.h"
#include "xc/engine/journal_sink.h"
#include "xc/protocol/command.h"
#include "xc/protocol/spsc_ring.h"
#include "xc/protocol/types.h"

namespace xc::engine {

// When a journaled command counts as durable, i.e. when its output may be
// released and its order acknowledged (DESIGN.md invariant 2).
struct DurabilityPolicy {
  enum class Mode : uint8_t {
    // Durable after the fdatasync of the batch that carried it (the default).
    // Survives power loss.
    kFsync = 0,
    // Batches are written as they come; fdatasync runs at most once every
    // interval_ms (and at segment roll and Close). A command is durable after
    // the first sync that follows its write, so nothing acknowledged is ever
    // lost; acks wait up to interval_ms + one sync longer, and the disk sees
    // fewer, larger syncs.
    kInterval = 1,
    // Durable once written to the kernel (page cache): survives a crash of the
    // process, not of the machine. fdatasync only at segment roll and Close.
    kNone = 2,
  };
  Mode mode = Mode::kFsync;
  int64_t interval_ms = 0;  // kInterval only; >= 1

  // "fsync" | "interval:<ms>" (ms >= 1) | "none". InvalidArgument otherwise.
  [[nodiscard]] static absl::StatusOr<DurabilityPolicy> Parse(std::string_view s);
  // The string Parse accepts for this policy.
  std::string ToString() const;
};

// One completed flush, for observers (benchmarks, metrics).
struct JournalFlushInfo {
  protocol::Seq first_seq = 0;  // commands written by this flush (0, 0 if none)
  protocol::Seq last_seq = 0;
  uint64_t bytes = 0;           // bytes written (headers included)
  bool synced = false;          // the flush included an fdatasync
  int64_t latency_ns = 0;       // BeginFlush to completion observed
};

struct JournalWriterOptions {
  // Written into every segment header; recovery can insist on it.
  uint32_t shard_id = 0;
  DurabilityPolicy policy;
  // Capacity of the command ring from the producer (power of two >= 2).
  size_t ring_capacity = size_t{1} << 16;
  // Largest single write: a batch stops growing at this many bytes (the ring
  // then backs up until the flush in flight completes). >= 4 KiB.
  size_t max_batch_bytes = size_t{4} << 20;
  // A segment is closed and the next one started once it holds at least this
  // many bytes (so a segment exceeds it by at most one batch).
  uint64_t segment_bytes = uint64_t{64} << 20;
  // Preallocate each new segment to segment_bytes (fallocate, best effort).
  bool preallocate = true;
  // Monotonic clock in ns, for kInterval and the latency in JournalFlushInfo
  // (time is an input, STYLE.md §11). Empty: std::chrono::steady_clock.
  std::function<int64_t()> now_ns;
  // Called on the agent thread after each successful flush. Empty: none.
  std::function<void(const JournalFlushInfo&)> on_flush;
};

// Counters, each read with a relaxed load (not mutually atomic).
struct JournalWriterCounters {
  uint64_t records = 0;      // command records framed
  uint64_t flushes = 0;      // completed flushes (writes and/or syncs)
  uint64_t syncs = 0;        // completed fdatasyncs
  uint64_t bytes = 0;        // bytes written
  uint64_t segments = 0;     // segments created
  protocol::Seq durable_seq = 0;
  protocol::Seq written_seq = 0;
  bool failed = false;
};

// JournalWriter appends a shard's commands to its journal (one JournalSink)
// and tells the shard how far they are durable.
//
// Roles (each one thread at a time; roles may share a thread):
//  * producer: TryAppend / free_slots: the shard thread, right when it applies
//    a command (it stamps the seq). Lock-free SPSC ring, no syscall.
//  * agent: DoWork / Close: the journal thread (engine_node's
//    JournalWriterThread), or the shard thread itself in invoker mode
//    (STYLE.md §10). Owns the sink.
//  * observers: durable_seq, failed, status, counters: any thread.
//
// Group commit: DoWork frames every command waiting in the ring into the
// current batch buffer; whenever no flush is in flight it hands the whole
// batch to the sink as ONE write (+ fdatasync under kFsync) and starts a new
// batch in the second buffer. Commands that arrive while a flush is in flight
// therefore go out together in the next one: the batch size adapts to the
// sync latency, and the sync rate is at most 1 / latency.
//
// Invariants:
//  * records reach the sink in seq order, each exactly once; seqs are
//    consecutive starting at the constructor's next_seq (a gap is a
//    programming error: fatal);
//  * durable_seq only grows, and a command with seq <= durable_seq is durable
//    under the policy (DurabilityPolicy); it starts at next_seq - 1;
//  * after the first write or sync error (disk full, EIO, ...) the writer is
//    failed for good: status() holds the error, durable_seq never moves again,
//    TryAppend refuses, DoWork does nothing. Nothing durable is lost; nothing
//    after durable_seq may be acknowledged (the shard must stop and restart
//    from the journal).
//
// Segments: created lazily at the first flush (named after its first seq,
// starting with a segment header record), rolled at options.segment_bytes:
// the old segment is synced, truncated to its size and closed before the new
// one is created, so only the last segment can ever have a torn tail.
//
// Allocation: the constructor allocates the ring and two batch buffers of
// max_batch_bytes; TryAppend and DoWork allocate nothing (sink calls aside).
class JournalWriter {
 public:
  using Options = JournalWriterOptions;

  // next_seq: the seq of the first command to be appended (the recovered
  // journal's last seq + 1; 1 for a new journal). REQUIRES: sink outlives the
  // writer and has no segment open; options valid (fatal otherwise).
  JournalWriter(JournalSink* sink, protocol::Seq next_seq, const Options& options);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // ---- producer ----

  // Enqueues command `seq`. false when the ring is full (retry later: the
  // shard applies nothing more until there is room) or the writer has failed
  // (check failed()). REQUIRES: seq is the previous appended seq + 1 (checked
  // by the agent; fatal). Cost: one 88-byte copy and a release store.
  bool TryAppend(protocol::Seq seq, const protocol::Command& cmd) {
    if (__builtin_expect(failed_.load(std::memory_order_relaxed), 0)) return false;
    return ring_.TryPush(Entry{seq, cmd});
  }
  // Free ring slots as the producer sees them (refreshes its cache).
  size_t free_slots() { return ring_.free_approx(); }

  // ---- agent ----

  // One duty cycle: observe the completion of the flush in flight (and
  // advance durable_seq per policy); frame the ring's waiting commands into
  // the current batch; if no flush is in flight, start the next one (write +
  // sync for kFsync; write, plus a sync when the interval is due, for
  // kInterval; write only for kNone; a pure sync when only that is due);
  // roll the segment when full (blocking: sync + close + create).
  // Returns the work done (records framed + flushes started/completed); 0
  // means idle. On an I/O error: latches the failed state (see class comment).
  int DoWork();
  // True when DoWork has nothing to do until a producer appends: no flush in
  // flight, nothing framed or queued, and (kInterval) nothing written but
  // unsynced. Then the agent may sleep until TryAppend's producer wakes it.
  // REQUIRES: agent role.
  bool Idle() const {
    if (failed_.load(std::memory_order_relaxed) || closed_) return true;
    if (in_flight_ || fill_count() != 0 || !ring_.empty_approx()) return false;
    return options_.policy.mode != DurabilityPolicy::Mode::kInterval ||
           written_seq_ <= synced_seq_;
  }

  // Drains everything appended so far, writes it, syncs and closes the
  // segment (whatever the policy), blocking; then durable_seq == the last
  // appended seq. Returns status(). REQUIRES: agent role, no concurrent
  // TryAppend. The writer accepts nothing afterwards.
  [[nodiscard]] absl::Status Close();

  // ---- observers (any thread) ----

  // Every command with seq <= durable_seq() is durable under the policy.
  // Acquire load: pairs with the agent's release store after completion.
  protocol::Seq durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Ok, or the error that failed the writer (message names file and offset).
  absl::Status status() const;
  JournalWriterCounters counters() const;
  const Options& options() const { return options_; }

 private:
  struct Entry {
    protocol::Seq seq;
    protocol::Command cmd;
  };
  struct Batch;  // a batch buffer

  int64_t Now() const;
  size_t fill_count() const;
  // Frames ring entries into fill_; returns how many.
  size_t Drain();
  // Starts a flush of fill_ (if it has records) with or without sync.
  bool StartFlush(bool write, bool sync);
  void Complete(const absl::Status& s);
  absl::Status Roll();
  void Fail(absl::Status s);
  void Publish();

  static void Add(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  JournalSink* const sink_;
  const Options options_;
  protocol::SpscRing<Entry> ring_;
  std::unique_ptr<Batch> fill_;    // being filled by DoWork
  std::unique_ptr<Batch> flight_;  // handed to the sink (in flight or idle)

  // Agent state.
  protocol::Seq next_seq_;            // next seq expected from the ring
  protocol::Seq written_seq_;         // last seq whose write completed
  protocol::Seq synced_seq_;          // last seq covered by a completed sync
  bool segment_open_ = false;
  uint64_t segment_offset_ = 0;       // next write offset in the open segment
  std::string segment_name_;
  bool in_flight_ = false;
  bool flight_sync_ = false;
  protocol::Seq flight_sync_upto_ = 0;  // written_seq covered once the flight completes
  JournalFlushInfo flight_info_;
  int64_t flight_start_ns_ = 0;
  int64_t last_sync_start_ns_ = 0;
  bool closed_ = false;

  absl::Status status_;  // written once by the agent before failed_ is set
  alignas(64) std::atomic<protocol::Seq> durable_seq_;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> segments_{0};
  std::atomic<protocol::Seq> written_seq_pub_{0};
};

}  // namespace xc::engine
