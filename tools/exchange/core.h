#pragma once
// Core: the order service of the one-process exchange (PartitionWorkers, one
// thread and one log file each) wired to one engine ShardRunner, and the
// restart story that ties the two journals together.
//
// Flow of an order: gateway I/O thread -> ThreadedOrderService -> the user's
// PartitionWorker, on that same thread (validate, lock funds, journal, write)
// -> Core::TrySend -> runner (match, journal, sync) -> event pump, which
// settles the partitions of the orders' owners on its own thread (journal,
// write) and answers -> the client's I/O thread sends. Two thread hand-offs
// in all (runner, pump) plus the way back to the connection's thread. With
// fdatasync each partition's group commit adds its worker thread to both
// ways (PartitionWorker).
//
// Restart (DESIGN.md invariants 2, 3, 5). Each partition journals its inputs,
// engine events included, in batches that carry the engine seq they cover
// (Partition::OnEngineEvents). At start:
//   1. Recover(): replay every partition log -> partition state as of its
//      last synced batch, and the engine seq W each has applied;
//   2. the engine recovers from its newest snapshot at or before min W
//      (RecoveryOptions::snapshot_at_most) plus its journal, and every event
//      it replays goes through DeliverRecovered() to the partitions, which
//      skip what they already have: fills and cancels the crash kept from
//      them are applied now, exactly once;
//   3. FinishRecovery(): every order a partition journaled and sent but the
//      engine never journaled (the crash cut it on the way) is unconfirmed;
//      its client got no answer (answers wait for the engine); its command is
//      sent again, so the two sides agree. Quotes are seeded from the books.
// Hence nothing acknowledged is lost and nothing is applied twice; a test
// kills the process at random points and checks it (tests/exchange_crash_test).
//
// Threads: Send/TrySend from any thread holding a partition (one mutex makes
// the runner's single producer role safe); the pump thread polls the runner,
// settles the partitions and feeds market data
// (CoreOptions::on_market_events, one command at a time), from which Quote reads the reference
// prices; admin calls from any thread. Setup (Recover, DeliverRecovered,
// FinishRecovery, Start) on one thread before anything runs.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/engine/shard.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/rest_api.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/partition_log.h"
#include "xc/order_service/partition_worker.h"
#include "xc/order_service/symbol_table.h"
#include "xc/order_service/threaded_order_service.h"

namespace xc::exchange {

struct CoreOptions {
  uint32_t partitions = 2;
  // Directory of the partition logs (partition-<i>.log); created if missing.
  std::string dir;
  // fdatasync each partition batch (false: page cache only).
  bool sync = true;
  // How long a client request waits for the order service + engine.
  std::chrono::milliseconds timeout{10'000};
  // Called on the pump thread once per engine command with all its events
  // (one seq, one symbol; the span is valid for the call only), in seq
  // order, before the partitions get them: market data applies each command
  // atomically (MarketData::OnEvents, StreamHub::OnEvents), so no reader
  // sees lastUpdateId S with part of command S.
  std::function<void(std::span<const protocol::Event>)> on_market_events;
  // The market data on_market_events keeps (and on_book_reset seeds): the
  // partitions' reference prices (Core::Quote) are read from it. Required.
  const gateway::MarketData* market = nullptr;
  // Called by FinishRecovery with each recovered book (ticks, lots; best
  // first), the engine seq and the last trade price (ticks), for market data.
  std::function<void(protocol::SymbolId, std::vector<std::pair<protocol::Price, protocol::Qty>>,
                     std::vector<std::pair<protocol::Price, protocol::Qty>>, protocol::Seq,
                     protocol::Price)>
      on_book_reset;
  // Where the partitions' user data events go (user_events.h), after each
  // batch's commit, on the committing threads; null: none are built. Set on the
  // workers by Start (recovery produces none). Must outlive Stop().
  order_service::UserEventSink* user_events = nullptr;
  // Called once when a partition log fails (the process must exit).
  std::function<void()> on_fatal;
  // Run to completion: the thread that sends a command to the engine (a
  // gateway I/O thread with an order) applies it itself when the engine is
  // free (ShardRunner::Drive) and settles its events when the pump is free
  // (Core::Flush); the runner and pump threads take over whatever it leaves.
  // false: every command goes through the runner thread and every event
  // through the pump thread (the engine's work stays on its pinned core).
  bool run_to_completion = true;
};

class Core : public order_service::EngineLink, public order_service::MarketView {
 public:
  // Engine stream id of the one shard (Partition::OnEngineEvents).
  static constexpr uint32_t kStream = 0;

  Core(const order_service::SymbolTable* symbols, CoreOptions options,
       const gateway::WallClock* clock);
  ~Core() override;  // Stop()

  // ---- setup, in this order ----
  // Step 1: opens and replays the partition logs. Errors: log I/O; a record
  // the partition refuses (DataLoss naming the file and record); logs of
  // another partition count in the directory (FailedPrecondition: users are
  // placed by the count, so it is fixed once data exists).
  [[nodiscard]] absl::Status Recover(std::string* report);
  // The engine seq every partition has applied (the minimum).
  protocol::Seq PartitionsEngineSeq() const;
  // Step 2: the events of the replayed engine command `seq`.
  void DeliverRecovered(protocol::Seq seq, const protocol::Event* events, size_t n);
  // Step 3: the engine recovered through `engine_seq` into `shard`. Seeds
  // the quotes, makes the partitions' recovery records durable, and returns
  // how many unconfirmed orders will be sent again by Start.
  [[nodiscard]] absl::StatusOr<size_t> FinishRecovery(protocol::Seq engine_seq,
                                                      const engine::Shard& shard);
  // Step 4: sends the unconfirmed orders, starts the workers and the pump.
  // REQUIRES: the runner is started and outlives Stop().
  void Start(engine::node::ShardRunner* runner);
  // After runner->Stop(): delivers every event the runner published, then
  // stops the workers (their last batch is synced). Idempotent.
  void Stop();

  order_service::OrderServiceApi& api() { return *api_; }

  // The engine seq up to which every partition's log holds the engine's
  // events (durable). The engine's journal after it must stay: a restart
  // replays from a snapshot at or before it. Any thread.
  protocol::Seq DurableEngineSeq() const;

  // ---- admin (any thread, after Start) ----
  struct NewUser {
    protocol::UserId user = 0;
    std::string api_key, secret_key;
  };
  // The next user id with a fresh API key + secret (64 hex chars each from
  // /dev/urandom), durable when it returns. Internal if /dev/urandom fails;
  // Unavailable on timeout.
  [[nodiscard]] absl::StatusOr<NewUser> CreateUser();
  // Credits (delta > 0) or withdraws (delta < 0) `asset` of `user`; returns
  // the balance afterwards, durable. NotFound "userId" / "asset";
  // FailedPrecondition when the free balance is short; InvalidArgument for 0.
  [[nodiscard]] absl::StatusOr<order_service::BalanceInfo> ChangeBalance(
      protocol::UserId user, std::string_view asset, order_service::Amount delta);

  // EngineLink / MarketView (threads holding a partition). Send waits while
  // the runner's input ring is full; TrySend refuses then.
  void Send(const protocol::Command& cmd) override;
  bool TrySend(const protocol::Command& cmd) override;
  // After TrySend, with no partition held: with run_to_completion, drives
  // the engine and pumps its events on this thread (see CoreOptions).
  void Flush() override;
  // Waits (futex) while a Dispatch is applying events to the partitions,
  // unless called from inside it.
  void AwaitDeliveries() override;
  order_service::MarketQuote Quote(protocol::SymbolId symbol) const override;

  uint64_t resent_orders() const { return resend_.size(); }

  // The pump's doorbell: give it to the runner as
  // ShardRunnerOptions::events_bell, and the idle pump sleeps on it instead
  // of polling. Without it the pump polls (yield, then 50 us naps).
  engine::node::Doorbell* events_doorbell() { return &events_bell_; }

  // The partition workers, for metrics (queue_depth(), cycles(): relaxed
  // reads, any thread). REQUIRES: after Recover.
  size_t partitions() const { return workers_.size(); }
  const order_service::PartitionWorker& worker(size_t i) const { return *workers_[i]; }

 private:
  void PumpLoop();
  // One poll of the runner's events, settled and fed to market data; returns
  // how many were polled. REQUIRES: pump_role_.
  size_t PumpOnce();
  // Splits complete groups [0, n) by owning partition and posts them.
  void Dispatch(const protocol::Event* ev, size_t n, protocol::Seq through);
  // One submission of `cmd` (quietly: the caller drives the runner itself).
  // True when it is in the runner's input ring, or dropped because the
  // runner stopped; false when the ring is full. REQUIRES: send_mu_.
  bool SubmitOrDrop(const protocol::Command& cmd, bool quiet);

  // Events taken by one poll at most.
  static constexpr size_t kMaxPoll = 8192;

  const order_service::SymbolTable* symbols_;
  CoreOptions options_;
  const gateway::WallClock* clock_;
  engine::node::ShardRunner* runner_ = nullptr;

  std::vector<std::unique_ptr<order_service::PartitionLog>> logs_;
  std::vector<std::unique_ptr<order_service::PartitionWorker>> workers_;
  std::unique_ptr<order_service::ThreadedOrderService> api_;
  std::vector<protocol::Command> resend_;

  std::mutex send_mu_;  // the runner's producer role
  std::vector<protocol::Seq> posted_;  // pump: last `through` posted per partition
  protocol::Seq through_ = 0;          // pump: the last complete group's seq
  std::vector<std::vector<protocol::Event>> scratch_;  // pump: per partition
  std::vector<protocol::Event> pump_buf_;              // pump: polled, not yet whole
  // pump: answers of one Dispatch, run once every partition applied it.
  std::vector<order_service::PartitionWorker::Deferred> held_answers_;
  // Odd while a Dispatch applies events (AwaitDeliveries waits on it), and
  // how many threads wait (Dispatch wakes them only then: a futex call per
  // Dispatch otherwise).
  std::atomic<uint64_t> dispatch_seq_{0};
  std::atomic<uint32_t> dispatch_waiters_{0};
  // The pump role: the pump thread, or a thread in Flush; one at a time.
  engine::node::Role pump_role_;

  std::atomic<protocol::UserId> next_user_{1};
  std::thread pump_;
  std::atomic<bool> stop_pump_{false};
  engine::node::Doorbell events_bell_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace xc::exchange
