#pragma once
// PartitionWorker: the thread that owns one Partition (STYLE.md §9: one owner
// thread per piece of state), its PartitionLog, and the order in which the
// partition's effects leave it.
//
// The cycle (group commit, as the engine's journal writer does it):
//   1. take every queued task (client requests, admin requests, engine event
//      batches) and run them, in arrival order, on the partition;
//   2. PartitionLog::Sync(): one write + fdatasync for all their records;
//   3. forward the engine commands the tasks produced, in order, to the
//      engine link: a command leaves only after the record that decided it is
//      durable, so the engine never holds an order the order service could
//      forget (an order without an owner would break money conservation);
//   4. run the pending checks: each answers a waiting caller once its
//      condition holds (the engine confirmed the order, the cancel ended it),
//      and is dropped when it returns true. Checks left from earlier cycles
//      (waiting for engine events only) run before this cycle's sync: their
//      requests are durable, and engine events are durable in the engine's
//      journal before they are published.
//   An idle worker with pending checks runs them every kCheckInterval (no
//   sync: nothing new to make durable), so deadline-watching checks fire.
// So every answer reflects durable state only (or state a restart rebuilds
// from the engine's journal), and a batch of N requests costs one sync.
//
// Threads: Post/PostEvents/Call from any thread; the task bodies, AddCheck and
// the checks run on the worker thread. partition() directly only while the
// worker is not running (recovery before Start, inspection after Stop).
// Ownership: owns the partition; borrows the symbol table, market view,
// engine link and log, which must outlive it.
//
// Failure: when the log fails (disk full, EIO) the worker stops taking work:
// later tasks are dropped, waiting callers get no answer (their timeouts
// fire), on_failure runs once (the process must exit and restart from the
// logs), and failed() turns true. Commands of the failed batch are not sent.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/partition_log.h"
#include "xc/order_service/symbol_table.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"

namespace xc::order_service {

class PartitionWorker final : private EngineLink {
 public:
  using Task = std::function<void(PartitionWorker&, Partition&)>;
  // Runs after each sync; returns true when done (then it is removed).
  using Check = std::function<bool(Partition&)>;

  // `log` may be null (nothing is journaled: tests, benchmarks).
  PartitionWorker(PartitionId id, uint32_t num_partitions, const SymbolTable* symbols,
                  const MarketView* market, EngineLink* engine, PartitionLog* log,
                  std::function<void(const absl::Status&)> on_failure = {});
  ~PartitionWorker() override;  // Stop()
  PartitionWorker(const PartitionWorker&) = delete;
  PartitionWorker& operator=(const PartitionWorker&) = delete;

  PartitionId id() const { return partition_.id(); }
  // REQUIRES: not running.
  Partition& partition() { return partition_; }
  // REQUIRES: not running. Call after recovery, before Start: publishes
  // durable_engine_seq() of the recovered (and synced) state.
  void MarkRecovered() { durable_engine_seq_.store(partition_.stream_seq(0)); }
  const Partition& partition() const { return partition_; }
  // Commands the partition produced while not running (recovery replay makes
  // some): dropped, not sent. REQUIRES: not running.
  void DiscardUnsent() { outbox_.clear(); }

  void Start();
  // Runs what is queued (one last cycle), then joins. Idempotent.
  void Stop();

  // Queues `task`. Dropped (never run) after Stop began or after a failure.
  void Post(Task task);
  // Queues a batch of engine events for Partition::OnEngineEvents.
  void PostEvents(uint32_t stream, protocol::Seq through, std::vector<protocol::Event> events);
  // From a task: `check` runs after this cycle's sync, and after every later
  // cycle until it returns true.
  void AddCheck(Check check) { checks_.push_back(std::move(check)); }

  // Runs fn(Partition&) on the worker and returns its result once the cycle
  // it ran in is durable; nullopt when that takes longer than `timeout`, or
  // the worker stopped or failed first (the task may still run later).
  // Blocks the caller. REQUIRES: not called from the worker thread.
  template <typename F>
  auto Call(F fn, std::chrono::milliseconds timeout = kDefaultTimeout)
      -> std::optional<std::invoke_result_t<F, Partition&>> {
    using R = std::invoke_result_t<F, Partition&>;
    auto reply = std::make_shared<Reply<R>>();
    Post([fn = std::move(fn), reply](PartitionWorker& w, Partition& p) mutable {
      auto r = std::make_shared<R>(fn(p));
      w.AddCheck([reply, r](Partition&) {
        reply->Set(std::move(*r));
        return true;
      });
    });
    return reply->Wait(timeout);
  }

  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
  // While checks are pending, an idle worker still runs them this often, so
  // that a check watching a deadline (an answer's timeout) sees it pass.
  static constexpr std::chrono::milliseconds kCheckInterval{100};

  // A value handed from the worker to a waiting caller (one-shot).
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

  // Partition::stream_seq(0) as of the last successful sync: the engine seq
  // up to which this partition's log holds the engine's events. Any thread
  // (the engine's journal retention must keep what lies after it).
  protocol::Seq durable_engine_seq() const {
    return durable_engine_seq_.load(std::memory_order_acquire);
  }

  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Cycles run and syncs made (relaxed; metrics).
  uint64_t cycles() const { return cycles_.load(std::memory_order_relaxed); }
  // Tasks queued and not yet taken by a cycle (relaxed; metrics: the
  // playbook's "partition queue depth"). Updated under the queue's mutex, so
  // it costs Post nothing beyond one relaxed store.
  size_t queue_depth() const { return queue_depth_.load(std::memory_order_relaxed); }

 private:
  void Send(const protocol::Command& cmd) override { outbox_.push_back(cmd); }
  void Loop();
  void RunCycle(std::deque<Task>& tasks);
  // Runs checks [from, to), removing those that return true.
  void RunChecks(size_t from, size_t to);

  Partition partition_;
  EngineLink* const engine_;
  PartitionLog* const log_;
  std::function<void(const absl::Status&)> on_failure_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;  // guarded by mu_
  bool stop_ = false;       // guarded by mu_

  // Worker thread only.
  std::vector<protocol::Command> outbox_;
  std::vector<Check> checks_;

  std::atomic<protocol::Seq> durable_engine_seq_{0};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> cycles_{0};
  std::atomic<size_t> queue_depth_{0};  // queue_.size(), written under mu_
  std::thread thread_;
};

}  // namespace xc::order_service
