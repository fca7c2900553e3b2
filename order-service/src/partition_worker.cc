#include "xc/order_service/partition_worker.h"

#include <utility>

namespace xc::order_service {

PartitionWorker::PartitionWorker(PartitionId id, uint32_t num_partitions,
                                 const SymbolTable* symbols, const MarketView* market,
                                 EngineLink* engine, PartitionLog* log,
                                 std::function<void(const absl::Status&)> on_failure)
    : partition_(id, num_partitions, symbols, this, market, log),
      engine_(engine),
      log_(log),
      on_failure_(std::move(on_failure)) {}

PartitionWorker::~PartitionWorker() { Stop(); }

void PartitionWorker::Start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void PartitionWorker::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PartitionWorker::Post(Task task) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ || failed()) return;
    queue_.push_back(std::move(task));
    queue_depth_.store(queue_.size(), std::memory_order_relaxed);
  }
  cv_.notify_one();
}

void PartitionWorker::PostEvents(uint32_t stream, protocol::Seq through,
                                 std::vector<protocol::Event> events) {
  Post([stream, through, ev = std::move(events)](PartitionWorker&, Partition& p) {
    p.OnEngineEvents(stream, through, ev.data(), ev.size());
  });
}

void PartitionWorker::Loop() {
  std::deque<Task> tasks;
  for (;;) {
    bool stopping;
    {
      std::unique_lock<std::mutex> l(mu_);
      auto ready = [&] { return stop_ || !queue_.empty(); };
      if (checks_.empty()) {
        cv_.wait(l, ready);
      } else {
        cv_.wait_for(l, kCheckInterval, ready);
      }
      tasks.swap(queue_);
      queue_depth_.store(0, std::memory_order_relaxed);
      stopping = stop_;
    }
    if (!tasks.empty()) {
      RunCycle(tasks);
    } else if (!failed()) {
      RunChecks(0, checks_.size());  // timed wake: deadlines only
    }
    // Stop runs what was queued before it (one last cycle), then exits.
    if (stopping || failed()) return;
  }
}

void PartitionWorker::RunCycle(std::deque<Task>& tasks) {
  // Checks from earlier cycles wait only for engine events: their requests
  // are durable already, and an engine event is durable in the engine's
  // journal before it is published (a restart delivers it again), so they
  // may answer before this cycle's sync. That saves a sync on the way back
  // of every order.
  const size_t earlier = checks_.size();
  for (Task& t : tasks) t(*this, partition_);
  tasks.clear();
  RunChecks(0, earlier);
  if (log_ != nullptr) {
    absl::Status s = log_->Sync();
    if (!s.ok()) {
      // Nothing of this cycle is durable: send none of its commands and
      // answer none of its callers.
      outbox_.clear();
      failed_.store(true, std::memory_order_release);
      if (on_failure_) on_failure_(s);
      return;
    }
    durable_engine_seq_.store(partition_.stream_seq(0), std::memory_order_release);
  }
  for (const protocol::Command& c : outbox_) engine_->Send(c);
  outbox_.clear();
  // Checks added by this cycle's tasks: their requests are durable now.
  RunChecks(0, checks_.size());
  cycles_.fetch_add(1, std::memory_order_relaxed);
}

void PartitionWorker::RunChecks(size_t from, size_t to) {
  size_t keep = from;
  for (size_t i = from; i < checks_.size(); ++i) {
    if (i < to && checks_[i](partition_)) continue;
    if (keep != i) checks_[keep] = std::move(checks_[i]);
    ++keep;
  }
  checks_.resize(keep);
}

}  // namespace xc::order_service
