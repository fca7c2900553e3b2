#include "xc/order_service/partition_worker.h"

#include <pthread.h>

#include <iterator>
#include <utility>

namespace xc::order_service {

PartitionWorker::PartitionWorker(PartitionId id, uint32_t num_partitions,
                                 const SymbolTable* symbols, const MarketView* market,
                                 EngineLink* engine, PartitionLog* log,
                                 std::function<void(const absl::Status&)> on_failure)
    : partition_(id, num_partitions, symbols, this, market, log),
      engine_(engine),
      log_(log),
      group_commit_(log != nullptr && log->syncs()),
      on_failure_(std::move(on_failure)) {}

PartitionWorker::~PartitionWorker() { Stop(); }

void PartitionWorker::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "xc-partition");
    Loop();
  });
}

void PartitionWorker::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PartitionWorker::Run(Task task) { RunTask(task, /*engine_events=*/false); }

void PartitionWorker::RunTask(Task task, bool engine_events, std::vector<Deferred>* hold) {
  // Backpressure: the engine is behind (its input ring is full). Wait here,
  // holding nothing, rather than queue without bound; the worker's thread
  // keeps forwarding meanwhile.
  while (unsent_count_.load(std::memory_order_relaxed) > kMaxUnsent && !failed()) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  waiting_.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock<std::mutex> l(mu_);
  waiting_.fetch_sub(1, std::memory_order_relaxed);
  if (stop_ || failed()) return;
  task(*this, partition_);
  bool forwarded = false;
  ++uncommitted_;
  PublishBacklog();
  // Checks of batches already durable may answer from engine events (and
  // only from them, or from time: see Check); this task's own checks wait
  // for its commit. Not after other tasks: scanning every pending check
  // after every request cost more as the backlog grew (the more in flight,
  // the more checks, the slower each request).
  if (engine_events) RunChecks(0);
  if (group_commit_) {
    WakeWorker();
  } else if (!committing_) {
    forwarded = Commit(l);
    // Pending checks need the worker's timed runs (deadlines); it sleeps
    // without a timeout only after a quiet second, so this wake-up is rare.
    if (worker_untimed_ && !checks_.empty()) {
      worker_untimed_ = false;
      cv_.notify_one();
    }
  }
  // else: the thread committing now takes this task's batch next.
  Unlock(l, forwarded, hold);
}

void PartitionWorker::RunEvents(uint32_t stream, protocol::Seq through,
                                const protocol::Event* events, size_t n,
                                std::vector<Deferred>* hold) {
  RunTask(
      [&](PartitionWorker&, Partition& p) { p.OnEngineEvents(stream, through, events, n); },
      /*engine_events=*/true, hold);
}

bool PartitionWorker::Commit(std::unique_lock<std::mutex>& l) {
  // One committer at a time (committing_): batches reach the disk, and their
  // commands the engine, in order. The mutex is not held across the write,
  // the forwarding or the user events, so tasks keep running meanwhile (and
  // no thread waits for the mutex while its holder is in a system call).
  committing_ = true;
  bool forwarded = false;
  while (uncommitted_ != 0 && !failed()) {
    batch_.gen = open_gen_++;
    batch_.records = log_ != nullptr ? log_->TakeBuffered(&batch_.log) : 0;
    batch_.engine_seq = partition_.stream_seq(0);
    batch_.commands.clear();
    batch_.commands.swap(outbox_);
    batch_.events.clear();
    if (user_sink_ != nullptr) partition_.TakeUserEvents(&batch_.events);
    uncommitted_ = 0;
    l.unlock();
    const absl::Status s =
        log_ != nullptr ? log_->Write(batch_.log, batch_.records) : absl::OkStatus();
    if (s.ok()) {
      if (log_ != nullptr) {
        durable_engine_seq_.store(batch_.engine_seq, std::memory_order_release);
      }
      unsent_.insert(unsent_.end(), batch_.commands.begin(), batch_.commands.end());
      if (Forward() != 0) forwarded = true;
      if (!batch_.events.empty()) user_sink_->OnUserEvents(batch_.events);
    }
    l.lock();
    if (!s.ok()) {
      // Nothing of this batch is durable: send none of its commands and
      // answer none of its callers (their checks never run: durable_gen_
      // stays).
      if (!failed_.exchange(true, std::memory_order_acq_rel) && on_failure_) {
        Defer([f = on_failure_, s] { f(s); });
      }
      break;
    }
    // The checks this batch made durable; older ones wait for events.
    const uint64_t before = durable_gen_;
    durable_gen_ = batch_.gen;
    RunChecks(before);
    cycles_.fetch_add(1, std::memory_order_relaxed);
    // The engine is full: the worker's thread retries.
    if (unsent_count_.load(std::memory_order_relaxed) != 0) WakeWorker();
  }
  PublishBacklog();
  committing_ = false;
  return forwarded;
}

size_t PartitionWorker::Forward() {
  const size_t from = unsent_head_;
  while (unsent_head_ < unsent_.size() && engine_->TrySend(unsent_[unsent_head_])) ++unsent_head_;
  const size_t sent = unsent_head_ - from;
  if (unsent_head_ == unsent_.size()) {
    unsent_.clear();
    unsent_head_ = 0;
  }
  unsent_count_.store(unsent_.size() - unsent_head_, std::memory_order_relaxed);
  return sent;
}

void PartitionWorker::RunChecks(uint64_t after_gen) {
  // checks_ is in batch order: skip the prefix of batches up to after_gen.
  size_t keep = checks_.size();
  while (keep > 0 && checks_[keep - 1].gen > after_gen) --keep;
  // A check may add checks (they belong to the open batch and stay).
  for (size_t i = keep; i < checks_.size(); ++i) {
    if (checks_[i].gen <= durable_gen_ && checks_[i].check(partition_)) {
      checks_done_ = true;
      continue;
    }
    if (keep != i) checks_[keep] = std::move(checks_[i]);
    ++keep;
  }
  checks_.resize(keep);
}

void PartitionWorker::Unlock(std::unique_lock<std::mutex>& l, bool flush,
                             std::vector<Deferred>* hold) {
  const bool checks_done = std::exchange(checks_done_, false);
  // The answers run once the mutex is released (they may start new work),
  // here or by the caller that holds them.
  std::vector<Deferred> run;
  if (hold != nullptr) {
    std::move(deferred_.begin(), deferred_.end(), std::back_inserter(*hold));
    deferred_.clear();
  } else if (!deferred_.empty()) {
    run.swap(deferred_);
  }
  l.unlock();
  if (flush) engine_->Flush();
  if (run.empty()) return;
  // A check that completed here, not in RunEvents, may have found events
  // that a delivery under way applied to this partition but not yet to the
  // other side's (the batch became durable, or time passed, in between).
  if (checks_done) engine_->AwaitDeliveries();
  for (Deferred& f : run) std::move(f)();
}

void PartitionWorker::Loop() {
  using Clock = std::chrono::steady_clock;
  constexpr std::chrono::seconds kLinger{1};
  Clock::time_point linger_until{};
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    const bool stopping = stop_;
    if (failed()) break;
    if (!committing_ && uncommitted_ != 0) {
      // With fdatasync this thread is the committer (group commit); else a
      // task whose committer stopped early (a failure) is left.
      const bool forwarded = Commit(l);
      Unlock(l, forwarded);
      l.lock();
      continue;
    }
    if (!committing_ && unsent_count_.load(std::memory_order_relaxed) != 0) {
      // Retry what the engine could not take. Only a committer forwards.
      committing_ = true;
      l.unlock();
      const bool forwarded = Forward() != 0;
      if (forwarded) engine_->Flush();
      l.lock();
      committing_ = false;
      PublishBacklog();
    }
    if (stopping) break;
    // Tasks may have come while the mutex was released above.
    if (!committing_ && uncommitted_ != 0) continue;
    if (unsent_count_.load(std::memory_order_relaxed) != 0) {
      // The engine's input is full: retry soon.
      cv_.wait_for(l, std::chrono::microseconds(100));
    } else if (!checks_.empty() || Clock::now() < linger_until) {
      // Deadlines only: nothing new to make durable. Timed waits go on for a
      // while after the last check went, so that a steady trickle of
      // requests never has to wake this thread (see Run).
      if (!checks_.empty()) linger_until = Clock::now() + kLinger;
      worker_waiting_ = true;
      if (cv_.wait_for(l, kCheckInterval) == std::cv_status::timeout) {
        worker_waiting_ = false;
        RunChecks(0);
        Unlock(l);
        l.lock();
      }
    } else {
      worker_waiting_ = true;
      worker_untimed_ = true;
      cv_.wait(l);
      worker_untimed_ = false;
    }
    worker_waiting_ = false;
  }
  // Stopping with commands the engine never took (it stopped first): they
  // stay unconfirmed, and the next start sends them again.
  Unlock(l);
}

}  // namespace xc::order_service
