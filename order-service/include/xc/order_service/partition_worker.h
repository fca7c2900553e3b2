#pragma once
// PartitionWorker: the owner of one Partition, its PartitionLog, and the
// order in which the partition's effects leave it (STYLE.md §9: one owner per
// piece of state; here a mutex is the owner, so that work on a partition runs
// on the thread that brings it: no hand-off to another thread).
//
// Run(task) runs the task at once on the calling thread (a gateway I/O
// thread with a client request, the event pump with engine events, an admin
// thread), under the partition's mutex. Then the batch it made is committed,
// as the engine's journal writer does it (group commit):
//   1. the log records the tasks appended are written (PartitionLog) and,
//      with PartitionLogOptions::sync, fdatasync'ed;
//   2. the engine commands the tasks produced are forwarded, in order, to the
//      engine link: a command leaves only after the record that decided it is
//      durable, so the engine never holds an order the order service could
//      forget (an order without an owner would break money conservation);
//   3. the user events the tasks produced (Partition::TakeUserEvents) go to
//      the user event sink, if one is set: like commands, a client never
//      sees an event of a change the order service could forget;
//   4. the pending checks run: each answers a waiting caller once its
//      condition holds (the engine confirmed the order, the cancel ended it)
//      and is dropped when it returns true. A check runs only once the batch
//      of the task that added it is durable; after that, every batch of
//      engine events runs it again (what it waits for comes with them:
//      engine events are durable in the engine's journal before they are
//      published, so answering from them needs no sync of ours).
// Who commits: one thread at a time, batch after batch, holding the mutex
// only to take a batch out and to finish it (so no thread waits for the mutex
// while its holder is in a system call). Without fdatasync (no log, or sync
// off) the writing is a page-cache copy, and the thread that ran the task
// commits at once, unless another thread is committing, which then takes
// this task's batch next: an order costs no thread hand-off in the order
// service. With fdatasync the worker's own thread commits, so a caller never
// waits for the disk, and one sync covers every task of that time.
// Answers (the callbacks a task or check hands to Defer) run on the thread
// that ran it, after the mutex is released: an answer may start new work on
// the partition (CancelReplace's second step), and it never delays others.
// While checks are pending the worker's thread runs them every
// kCheckInterval, so a check watching a deadline (an answer's timeout) fires
// even when nothing else happens.
//
// Backpressure: forwarding never waits (EngineLink::TrySend): the thread
// holding the partition may be the engine's event consumer, which a waiting
// engine needs. Commands the engine cannot take yet stay queued, in order;
// the worker's thread retries them, and Run waits (before taking the mutex)
// while more than kMaxUnsent are queued.
//
// Threads: Run, RunEvents, Call from any thread, except from inside a task,
// check or engine link (the mutex is not recursive). AddCheck and Defer from
// inside a task or check. partition() directly only while nothing runs
// (recovery before Start, inspection after Stop).
// Ownership: owns the partition; borrows the symbol table, market view,
// engine link and log, which must outlive it.
//
// Failure: when the log fails (disk full, EIO) the worker stops taking work:
// later tasks are dropped, waiting callers get no answer (their timeouts
// fire), on_failure runs once (the process must exit and restart from the
// logs), and failed() turns true. Commands of the failed batch are not sent.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/partition_log.h"
#include "xc/order_service/symbol_table.h"
#include "xc/order_service/user_events.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"

namespace xc::order_service {

class PartitionWorker final : private EngineLink {
 public:
  // Run finishes with a task before it returns, so it takes the task by
  // reference: no allocation, whatever the task captures, and the task may
  // refer to the caller's frame (what it must keep, it moves out).
  using Task = absl::FunctionRef<void(PartitionWorker&, Partition&)>;
  // Runs once its task's batch is durable, then after every later batch of
  // engine events (RunEvents) and every kCheckInterval, until it returns true
  // (then it is removed). So what it waits for must come with engine events
  // (an order confirmed, ended) or with time (a deadline).
  using Check = std::function<bool(Partition&)>;
  using Deferred = absl::AnyInvocable<void() &&>;

  // `log` may be null (nothing is journaled: tests, benchmarks).
  PartitionWorker(PartitionId id, uint32_t num_partitions, const SymbolTable* symbols,
                  const MarketView* market, EngineLink* engine, PartitionLog* log,
                  std::function<void(const absl::Status&)> on_failure = {});
  ~PartitionWorker() override;  // Stop()
  PartitionWorker(const PartitionWorker&) = delete;
  PartitionWorker& operator=(const PartitionWorker&) = delete;

  PartitionId id() const { return partition_.id(); }
  // REQUIRES: nothing runs (see the file comment).
  Partition& partition() { return partition_; }
  const Partition& partition() const { return partition_; }
  // REQUIRES: nothing runs. Call after recovery, before Start: publishes
  // durable_engine_seq() of the recovered (and synced) state.
  void MarkRecovered() { durable_engine_seq_.store(partition_.stream_seq(0)); }
  // Commands the partition produced while not running (recovery replay makes
  // some): dropped, not sent. REQUIRES: nothing runs.
  void DiscardUnsent() { outbox_.clear(); }
  // Where user events go (user_events.h), after each batch's commit, on the
  // committing thread (one at a time, so in order); null (the default):
  // the partition builds none. Events of a failed batch are dropped.
  // REQUIRES: before Start; `sink` outlives the worker and never calls back
  // into it.
  void SetUserEventSink(UserEventSink* sink) {
    user_sink_ = sink;
    partition_.EnableUserEvents(sink != nullptr);
  }

  // Starts the worker's thread (group commits with fdatasync, retries,
  // deadline checks). Run works before Start too; with fdatasync its batches
  // are then committed once started.
  void Start();
  // Commits what is left (one last batch), then joins the thread. Later Runs
  // are dropped. Idempotent.
  void Stop();

  // Runs `task` now, on this thread, under the partition's mutex, then
  // commits (see the file comment). Dropped (never run) after Stop began or
  // after a failure. Either way `task` is done with when Run returns.
  void Run(Task task);
  // Runs Partition::OnEngineEvents with a batch of engine events. With
  // `hold`, the answers it makes ready are appended there instead of run:
  // the caller runs them once every partition owning a side of the events
  // applied them (a client told its order filled must find the other side
  // filled too, on whatever partition it is).
  void RunEvents(uint32_t stream, protocol::Seq through, const protocol::Event* events,
                 size_t n, std::vector<Deferred>* hold = nullptr);
  // From a task or check: `check` runs once this task's batch is durable,
  // and then as Check says until it returns true.
  void AddCheck(Check check) { checks_.push_back({open_gen_, std::move(check)}); }
  // From a task or check: `fn` runs on this thread once the mutex is
  // released (answers to callers go this way).
  void Defer(Deferred fn) { deferred_.push_back(std::move(fn)); }

  // Runs fn(Partition&) and returns its result once the batch it ran in is
  // durable; nullopt when that takes longer than `timeout`, or the worker
  // stopped or failed first. Blocks the caller (for a sync's time at most,
  // with fdatasync; not at all without).
  template <typename F>
  auto Call(F fn, std::chrono::milliseconds timeout = kDefaultTimeout)
      -> std::optional<std::invoke_result_t<F, Partition&>> {
    using R = std::invoke_result_t<F, Partition&>;
    auto reply = std::make_shared<Reply<R>>();
    Run([&fn, &reply](PartitionWorker& w, Partition& p) {
      auto r = std::make_shared<R>(fn(p));
      w.AddCheck([&w, reply, r](Partition&) {
        w.Defer([reply, r] { reply->Set(std::move(*r)); });
        return true;
      });
    });
    return reply->Wait(timeout);
  }

  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
  // While checks are pending, the worker's thread runs them this often, so
  // that a check watching a deadline (an answer's timeout) sees it pass.
  static constexpr std::chrono::milliseconds kCheckInterval{100};
  // Commands queued for an engine that cannot take them before Run waits.
  static constexpr size_t kMaxUnsent = 4096;

  // A value handed from the partition to a waiting caller (one-shot).
  template <typename R>
  class Reply {
   public:
    void Set(R value) {
      std::lock_guard<std::mutex> l(mu_);
      if (!value_) value_.emplace(std::move(value));
      cv_.notify_all();
    }
    std::optional<R> Wait(std::chrono::milliseconds timeout) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, timeout, [&] { return value_.has_value(); });
      return std::move(value_);
    }

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<R> value_;
  };

  // Partition::stream_seq(0) as of the last durable batch: the engine seq up
  // to which this partition's log holds the engine's events. Any thread (the
  // engine's journal retention must keep what lies after it).
  protocol::Seq durable_engine_seq() const {
    return durable_engine_seq_.load(std::memory_order_acquire);
  }

  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Batches committed (relaxed; metrics).
  uint64_t cycles() const { return cycles_.load(std::memory_order_relaxed); }
  // Work waiting on this partition (relaxed; metrics: the playbook's
  // "partition queue depth"): threads waiting for its mutex, tasks not yet
  // committed (with fdatasync: waiting for the group commit) and commands
  // the engine has not taken yet.
  size_t queue_depth() const {
    return waiting_.load(std::memory_order_relaxed) + backlog_.load(std::memory_order_relaxed);
  }

 private:
  // What one commit takes out under the mutex.
  struct Batch {
    uint64_t gen = 0;
    std::string log;
    uint64_t records = 0;
    protocol::Seq engine_seq = 0;
    std::vector<protocol::Command> commands;
    std::vector<UserEvent> events;
  };

  void Send(const protocol::Command& cmd) override { outbox_.push_back(cmd); }
  // The worker's thread.
  void Loop();
  // Under the mutex (`l` holds it), when no one else commits: commits batch
  // after batch until none is left; the mutex is released around the I/O.
  // Returns whether it forwarded commands (then EngineLink::Flush is due).
  bool Commit(std::unique_lock<std::mutex>& l);
  // The committer, without the mutex: forwards queued commands until the
  // engine refuses one; returns how many went.
  size_t Forward();
  // Runs the checks of durable batches after `after_gen`, removing those
  // that return true.
  void RunChecks(uint64_t after_gen);
  // Run; engine_events: the task applies engine events (so every durable
  // check may have become ready); hold: as RunEvents.
  void RunTask(Task task, bool engine_events, std::vector<Deferred>* hold = nullptr);
  // Under the mutex: wakes the worker's thread if it waits.
  void WakeWorker() {
    if (!worker_waiting_) return;
    worker_waiting_ = false;
    cv_.notify_one();
  }
  // Releases `l`, calls EngineLink::Flush if `flush`, and runs what was
  // deferred under `l` (or appends it to `hold`).
  void Unlock(std::unique_lock<std::mutex>& l, bool flush = false,
              std::vector<Deferred>* hold = nullptr);
  // Under the mutex.
  void PublishBacklog() {
    backlog_.store(uncommitted_ + unsent_count_.load(std::memory_order_relaxed),
                   std::memory_order_relaxed);
  }

  Partition partition_;
  EngineLink* const engine_;
  PartitionLog* const log_;
  // The worker's thread commits (fdatasync); else the running thread does.
  const bool group_commit_;
  std::function<void(const absl::Status&)> on_failure_;

  std::mutex mu_;
  std::condition_variable cv_;  // wakes the worker's thread
  // Guarded by mu_ (with partition_):
  bool stop_ = false;
  bool committing_ = false;      // a thread is in Commit (or forwarding)
  bool worker_waiting_ = false;  // the worker's thread sleeps on cv_
  bool worker_untimed_ = false;  // ... with no timeout
  uint64_t open_gen_ = 1;        // the batch tasks add to now
  uint64_t durable_gen_ = 0;     // every batch up to this one is durable
  size_t uncommitted_ = 0;       // tasks of open_gen_
  std::vector<protocol::Command> outbox_;
  struct PendingCheck {
    uint64_t gen;
    Check check;
  };
  std::vector<PendingCheck> checks_;
  std::vector<Deferred> deferred_;
  bool checks_done_ = false;  // RunChecks completed a check since the last Unlock
  UserEventSink* user_sink_ = nullptr;
  // The committer's (Commit, Forward):
  Batch batch_;
  std::vector<protocol::Command> unsent_;  // durable, not yet taken by the engine
  size_t unsent_head_ = 0;

  std::atomic<protocol::Seq> durable_engine_seq_{0};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> cycles_{0};
  std::atomic<size_t> waiting_{0};
  std::atomic<size_t> backlog_{0};
  std::atomic<size_t> unsent_count_{0};  // unsent_ size, for Run's backpressure
  std::thread thread_;
};

}  // namespace xc::order_service
