#pragma once
// ShardRunner: the agent that drives one engine Shard on its own pinned core,
// fed by a command ring and emitting into an event ring (STYLE.md §9, §10).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/snapshot_writer.h"
#include "xc/engine/node/wait_strategy.h"
#include "xc/engine/shard.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"
#include "xc/protocol/spsc_ring.h"

namespace xc::engine::node {

struct ShardRunnerOptions {
  // Ring capacities; each must be a power of two >= 2.
  size_t input_capacity = size_t{1} << 14;   // commands (80 B each)
  size_t output_capacity = size_t{1} << 16;  // events (80 B each)
  // At most this many commands are applied per DoWork(), so one call stays
  // short and the counters and wait strategy see regular cycles.
  size_t batch = 256;
  // Initial capacity of the per-shard EventBuffer (events of one command).
  size_t event_buffer_capacity = 4096;
  // What the thread does when a cycle found no work.
  WaitStrategy wait = WaitStrategy::kSpin;
  // Core to pin the thread to; must be one of AllowedCpus(). -1 = not pinned.
  int cpu = -1;
  // Journal of this shard's commands (not owned; null = no journal). When
  // set, the runner hands every command it applies to journal->TryAppend
  // with the seq the shard stamped, and holds the command's events back until
  // journal->durable_seq() reaches that seq (DESIGN.md invariant 2; STYLE.md
  // §12: matching runs ahead, output waits for the journal). Someone must run
  // the journal's agent (a JournalWriterThread, or the invoker calling
  // journal->DoWork()). Under the journal's "none" policy (no durability
  // promised) events are not held: a command's events are published once it
  // is handed to the journal, which saves the round trip through the
  // journal's thread.
  JournalWriter* journal = nullptr;
  // With a journal: capacity of the held-events queue (events applied but
  // not yet durable). When full the runner applies nothing more.
  size_t held_capacity = size_t{1} << 16;
  // Snapshots (not owned; null = none). At the start of a duty cycle, when a
  // snapshot is due (RequestSnapshot(), or snapshot_every_n_commands applied
  // since the last one) and the writer is idle, the runner serializes the
  // shard (Shard::SaveTo into the writer's reused buffer) at its last_seq and
  // hands it over; that serialization is the only pause of the shard thread
  // (counters: snapshot_*_pause_ns). The writer thread writes the file once
  // the journal is durable up to that seq. A due snapshot waits while the
  // writer is busy (counters().snapshots_deferred).
  SnapshotWriterThread* snapshot_writer = nullptr;
  // 0: only on RequestSnapshot().
  uint64_t snapshot_every_n_commands = 0;
  // Doorbells of the threads downstream, rung (one locked add; a syscall
  // only if that thread sleeps) so they can sleep instead of polling:
  // journal_bell after a duty cycle appended commands to the journal
  // (JournalWriterThread::doorbell()), events_bell after events were
  // published to the output ring (the PollEvents consumer's). Null: none.
  Doorbell* journal_bell = nullptr;
  Doorbell* events_bell = nullptr;
  // True when the journal's agent rings this runner's doorbell() whenever
  // durable_seq advances (JournalWriterThread::NotifyOnDurable): then a
  // kBlock runner sleeps while the events it holds are not yet durable;
  // otherwise it keeps polling for durability (spin, yield).
  bool durable_rings_doorbell = false;
};

// A consistent-enough view of a runner's counters for metrics (STYLE.md §17).
// Each field is read with a relaxed load; fields are not mutually atomic.
struct ShardRunnerCounters {
  uint64_t commands_applied = 0;
  uint64_t events_published = 0;
  // DoWork() calls that did some work vs none. busy / (busy + idle) is the
  // shard's busy fraction (the playbook's "hot core" signal).
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;
  // DoWork() calls that found the output ring too full to publish the
  // pending events of a command (backpressure from the event consumer).
  uint64_t backpressure_cycles = 0;
  // Commands whose events outnumbered the whole output ring and therefore
  // had to be published in pieces (see DoWork). 0 when the ring is sized right.
  uint64_t oversized_groups = 0;
  // Times a kBlock runner actually went to sleep on its doorbell, and
  // whether it has announced it sleeps right now.
  uint64_t sleeps = 0;
  bool sleeping = false;
  // Sequence number of the last command applied (0 before the first).
  uint64_t last_seq = 0;
  // Commands submitted and not yet applied (approximate).
  uint64_t input_depth = 0;
  // Snapshots serialized on the shard thread, the seq of the last one, and
  // the pause each cost the shard (Shard::SaveTo), last and largest.
  uint64_t snapshots_taken = 0;
  uint64_t snapshots_deferred = 0;  // cycles a due snapshot waited for the writer
  uint64_t snapshot_last_seq = 0;
  uint64_t snapshot_last_pause_ns = 0;
  uint64_t snapshot_max_pause_ns = 0;
};

// ShardRunner owns one Shard, an input SpscRing<Command> and an output
// SpscRing<Event>, and runs the shard's duty cycle DoWork(): drain up to
// `batch` commands, apply each through Shard::Apply into a preallocated
// EventBuffer, and publish that command's events to the output ring all
// together (one release store) after the command completes.
//
// Threading modes (STYLE.md §10):
//  * threaded: Start() spawns a thread, pins it to options.cpu, and loops
//    DoWork() + the wait strategy until Stop();
//  * invoker: Start() is never called; one thread (a test, or the one-process
//    build) calls DoWork() itself.
//
// Thread safety, by role (each role is one thread at a time; roles may share
// a thread, e.g. a test that submits and polls from main):
//  * setup: constructor, shard(), Start(), Stop(), destructor: the owner
//    thread, and shard() only while the runner thread is not running;
//  * producer: Submit/SubmitN: one thread (the shard's sequencer / router);
//  * consumer: PollEvents: one thread (the event fan-out);
//  * agent: DoWork: the runner thread in threaded mode, the invoker otherwise;
//    in threaded mode with kBlock, also a producer that calls Drive(): the
//    agent role then passes between the runner thread and such callers, one
//    at a time (run to completion: the thread that submitted a command
//    applies it, with no thread hand-off, when nobody else is applying);
//  * observers: counters(), cpu(), running(): any thread (relaxed atomics
//    written only by the agent).
//
// Invariants:
//  * commands are applied in submission order, each exactly once;
//  * events leave in the order the shard produced them, none is dropped or
//    duplicated; the events of one command become visible to the consumer in
//    one piece (except an oversized group, see DoWork);
//  * while a command's events are not yet published, no further command is
//    applied (backpressure flows from the event consumer back to Submit).
//
// Allocation: the constructor allocates both rings and the EventBuffer;
// Start() allocates the thread. Submit, PollEvents and DoWork allocate
// nothing (beyond what Shard::Apply documents).
class ShardRunner {
 public:
  using Options = ShardRunnerOptions;

  // REQUIRES: capacities are powers of two >= 2 and batch >= 1 (fatal otherwise).
  explicit ShardRunner(const Options& options);
  // Stops the thread if it runs (see Stop()).
  ~ShardRunner();
  ShardRunner(const ShardRunner&) = delete;
  ShardRunner& operator=(const ShardRunner&) = delete;

  // The shard, e.g. to AddSymbol before Start() or to read StateHash() after
  // Stop(). REQUIRES: the runner thread is not running (in invoker mode: the
  // invoker thread).
  Shard& shard() { return shard_; }
  const Shard& shard() const { return shard_; }

  // Threaded mode: starts the runner thread and returns once it has pinned
  // itself (so a pinning failure is reported here, not lost in the thread).
  // Outcomes: Ok; InvalidArgument if options.cpu is not -1 and not one of
  // AllowedCpus() as seen by the caller, or the kernel refuses it;
  // FailedPrecondition if already running. REQUIRES: setup thread.
  [[nodiscard]] absl::Status Start();

  // Threaded mode: asks the thread to stop, and returns after it has applied
  // every command submitted before the call and published all their events,
  // then exited. REQUIRES: no Submit concurrent with or after Stop (they may
  // stay unapplied); the consumer keeps polling from another thread if the
  // output ring may fill up, otherwise Stop waits for room forever (events
  // are never dropped). No-op when not running (invoker mode included).
  void Stop();

  bool running() const { return running_.load(std::memory_order_acquire); }

  // ---- producer ----

  // Enqueues cmd for the shard. false when the input ring is full (nothing
  // enqueued; the caller decides: retry, back off, or reject upstream).
  // With kBlock, wakes the runner thread if it announced it sleeps. No
  // allocation, no syscall unless the runner sleeps.
  //
  // With a journal: false also once the journal has failed (stopped():
  // the shard accepts no more commands; journal_status() says why).
  bool Submit(const protocol::Command& cmd) {
    if (__builtin_expect(stopped_.load(std::memory_order_relaxed), 0)) return false;
    if (!input_.TryPush(cmd)) return false;
    if (options_.wait == WaitStrategy::kBlock) bell_.Ring();
    return true;
  }
  // Submit for a producer that calls Drive() right after: it does not wake
  // the runner thread (Drive does, if it leaves the command to it).
  bool SubmitQuiet(const protocol::Command& cmd) {
    if (__builtin_expect(stopped_.load(std::memory_order_relaxed), 0)) return false;
    return input_.TryPush(cmd);
  }
  // All-or-nothing batch of n commands (one release store). false when fewer
  // than n slots are free.
  bool SubmitN(const protocol::Command* cmds, size_t n) {
    if (__builtin_expect(stopped_.load(std::memory_order_relaxed), 0)) return false;
    if (!input_.TryPushN(cmds, n)) return false;
    if (options_.wait == WaitStrategy::kBlock) bell_.Ring();
    return true;
  }

  // ---- consumer ----

  // Moves up to max published events into out[0..); returns how many.
  size_t PollEvents(protocol::Event* out, size_t max) {
    const size_t n = output_.PopN(out, max);
    AfterPoll(n);
    return n;
  }
  // Calls f(const protocol::Event&) on up to max published events in order,
  // without copying them; returns how many. REQUIRES: f does not call back
  // into this runner's consumer side.
  template <typename F>
  size_t PollEvents(F&& f, size_t max = SIZE_MAX) {
    const size_t n = output_.Drain(f, max);
    AfterPoll(n);
    return n;
  }

  // ---- agent ----

  // One duty cycle. First retries the events of the last command if they
  // could not all be published; if they still cannot, returns 0 without
  // touching the input (backpressure). Then, up to `batch` times: takes the
  // next command from the input ring (zero-copy), applies it with
  // Shard::Apply, and publishes its events to the output ring with one
  // TryPushN; stops early when the input is empty or the output ring is full
  // (the unpublished events stay pending for the next call).
  // A command whose events outnumber the whole output ring cannot be
  // published in one piece; they go out in order in ring-sized pieces and
  // counters().oversized_groups counts it (size the ring to avoid it).
  // Returns the work done: commands applied plus 1 if pending events were
  // published; 0 means idle. Updates the counters.
  // REQUIRES: agent role (the runner thread, or the invoker when not started).
  // Cost: O(commands * Apply); no allocation, lock or syscall.
  int DoWork();

  // Threaded mode with kBlock, any producer thread, right after its Submit /
  // SubmitQuiet: runs duty cycles on the calling thread while they find
  // input, if no other thread (the runner thread included) holds the agent
  // role; otherwise returns 0 at once (the holder sees the command when it
  // lets the role go). Whatever work it leaves (input that came meanwhile,
  // a full output ring) it hands to the runner thread by ringing its
  // doorbell. Unlike DoWork it does not ring options.events_bell: the caller
  // polls the events itself, or rings it (Core does).
  // Returns the work done, as DoWork. No allocation; no syscall unless it
  // leaves work to a sleeping runner thread.
  int Drive();

  // ---- snapshots (any thread) ----

  // Asks for a snapshot at the start of the next duty cycle (or as soon as
  // the writer is idle). No-op without options.snapshot_writer. Wakes a
  // sleeping kBlock runner.
  void RequestSnapshot() {
    snapshot_requested_.store(true, std::memory_order_release);
    if (options_.wait == WaitStrategy::kBlock) bell_.Ring();
  }

  // ---- observers (any thread) ----

  ShardRunnerCounters counters() const;
  uint64_t commands_applied() const { return Load(commands_applied_); }
  uint64_t events_published() const { return Load(events_published_); }
  uint64_t last_seq() const { return Load(last_seq_); }
  size_t input_depth() const { return input_.size_approx(); }
  // CPU the runner thread observed itself on right after pinning; -1 before
  // Start() or in invoker mode.
  int cpu() const { return cpu_.load(std::memory_order_acquire); }
  const Options& options() const { return options_; }

  // ---- journal (observers, any thread) ----

  // True once the journal failed: Submit refuses, commands already queued
  // are answered with Rejected(kShardStopped, seq 0) and not applied, events
  // of durable commands are still delivered, and those of commands applied
  // but never made durable are withheld for good (they were never
  // acknowledged; the shard must restart from the journal).
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Ok, or the journal's error once stopped().
  absl::Status journal_status() const {
    return options_.journal != nullptr ? options_.journal->status() : absl::OkStatus();
  }
  // Events applied but not yet released (waiting for durability). Agent
  // thread only (approximate elsewhere).
  size_t held_events() const { return held_.size() - held_begin_; }

  // The runner's doorbell (kBlock): ring it after something the runner
  // waits for changed, e.g. the journal's durable_seq
  // (JournalWriterThread::NotifyOnDurable). Any thread.
  Doorbell* doorbell() { return &bell_; }
  // Consumer side: whether PollEvents would return something (the
  // events_bell sleeper's predicate). Consumer thread.
  bool HasEvents() const { return !output_.empty_approx(); }

 private:
  // Single-writer counter update: a plain load+store, no locked RMW.
  static void Add(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static uint64_t Load(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

  void AfterPoll(size_t n) {
    // The runner may sleep while backpressured; freed room is work for it.
    // Only then: ringing a runner that sleeps for want of input would wake
    // it for nothing, once per poll (perf: half the runner's futex calls).
    // An RMW, as Doorbell::Ring's: it orders the pop before the read, so
    // either this sees the flag or the runner's sleep check sees the room.
    if (n != 0 && options_.wait == WaitStrategy::kBlock &&
        output_blocked_.fetch_add(0, std::memory_order_acq_rel) != 0) {
      bell_.Ring();
    }
  }

  // Publishes events_[published_..size) if the output ring has room; true
  // when nothing is left pending.
  bool PublishPending();
  bool HasPending() const { return published_ < events_.size(); }
  // Sleep predicate of kBlock, evaluated on the runner thread.
  bool HasWork();
  // HasWork for the runner thread, which may not hold the agent role.
  bool SharedHasWork();
  // DoWork, ringing events_bell or not.
  int DoWorkRinging(bool ring_events);
  // DoWork without the doorbells.
  int DoCycle();
  // The journaled duty cycle (options.journal set): shard_runner_journal.cc.
  int DoWorkJournaled();
  // Releases held events of durable commands to the output ring; returns how many.
  size_t ReleaseDurable(protocol::Seq durable);
  // Moves events_[published_..) into the held queue; false if it is full.
  bool HoldPending();
  // Answers queued commands with Rejected(kShardStopped) after a journal failure.
  size_t RejectInput();
  // Nothing left for Stop() to wait for on the journal side.
  bool JournalDrained() const;
  // Takes a snapshot if one is due and the writer is idle:
  // shard_runner_snapshot.cc.
  void MaybeSnapshot();
  // Thread body: pins, reports the outcome through *started, then loops.
  void Run(std::promise<absl::Status>* started);

  const Options options_;
  Shard shard_;
  protocol::SpscRing<protocol::Command> input_;
  protocol::SpscRing<protocol::Event> output_;
  // Events of the command being published; published_ is how many of them
  // are already in the output ring. Agent only.
  EventBuffer events_;
  size_t published_ = 0;
  bool group_oversized_ = false;

  // Journal mode: events waiting for durability, in seq order:
  // held_[held_begin_..size). Capacity reserved up front; never grows.
  std::vector<protocol::Event> held_;
  size_t held_begin_ = 0;
  std::atomic<bool> stopped_{false};

  Doorbell bell_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<int> cpu_{-1};

  // Written by the agent only; read by observers. Own line, so scrapes do not
  // disturb the rings' index lines.
  alignas(64) std::atomic<uint64_t> commands_applied_{0};
  std::atomic<uint64_t> events_published_{0};
  // The agent role (Drive). The runner thread takes it around each duty
  // cycle; while another thread holds it, the runner thread finds no work
  // and may sleep (the holder rings it if it leaves some).
  Role agent_;
  // 1 while the last publish found the output ring too full (agent writes,
  // the consumer reads in AfterPoll).
  std::atomic<uint32_t> output_blocked_{0};
  std::atomic<uint64_t> busy_cycles_{0};
  std::atomic<uint64_t> idle_cycles_{0};
  std::atomic<uint64_t> backpressure_cycles_{0};
  std::atomic<uint64_t> oversized_groups_{0};
  std::atomic<uint64_t> last_seq_{0};

  // Snapshots: agent state, then counters (agent-written).
  std::atomic<bool> snapshot_requested_{false};
  bool snapshot_base_set_ = false;
  protocol::Seq snapshot_next_due_ = 0;  // every-n threshold
  std::atomic<uint64_t> snapshots_taken_{0};
  std::atomic<uint64_t> snapshots_deferred_{0};
  std::atomic<uint64_t> snapshot_last_seq_{0};
  std::atomic<uint64_t> snapshot_last_pause_ns_{0};
  std::atomic<uint64_t> snapshot_max_pause_ns_{0};
};

}  // namespace xc::engine::node
