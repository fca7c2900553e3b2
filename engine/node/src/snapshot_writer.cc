#include "xc/engine/node/snapshot_writer.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <pthread.h>
#include <utility>

#include "xc/protocol/check.h"

namespace xc::engine::node {
namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

SnapshotWriterThread::SnapshotWriterThread(const Options& options) : options_(options) {
  XC_CHECK(options.store != nullptr);
  if (options.reserve_bytes != 0) buffer_.reserve(options.reserve_bytes);
}

SnapshotWriterThread::~SnapshotWriterThread() { Stop(); }

absl::Status SnapshotWriterThread::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("snapshot writer already running");
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "xc-snapshot");
    Run();
  });
  return absl::OkStatus();
}

void SnapshotWriterThread::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SnapshotWriterThread::Submit(protocol::Seq seq) {
  seq_ = seq;
  busy_.store(true, std::memory_order_release);
  // Taking the mutex orders the store before the writer's predicate check,
  // so the wake-up cannot be lost.
  { std::lock_guard<std::mutex> l(mu_); }
  cv_.notify_one();
}

void SnapshotWriterThread::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || busy_.load(std::memory_order_acquire); });
      if (!busy_.load(std::memory_order_acquire)) return;  // stop, nothing pending
    }
    Write();
    {
      std::lock_guard<std::mutex> l(mu_);
      busy_.store(false, std::memory_order_release);
    }
    cv_.notify_all();  // WaitIdle
  }
}

void SnapshotWriterThread::Write() {
  const protocol::Seq seq = seq_;
  // Wait for the journal: the snapshot must not be on disk before the
  // commands it contains are.
  const int64_t wait_start = NowNs();
  int64_t stop_deadline = 0;
  if (options_.journal != nullptr) {
    while (options_.journal->durable_seq() < seq) {
      if (options_.journal->failed()) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      bool stopping;
      {
        std::lock_guard<std::mutex> l(mu_);
        stopping = stop_;
      }
      if (stopping) {
        if (stop_deadline == 0) stop_deadline = NowNs() + int64_t{5'000'000'000};
        if (NowNs() > stop_deadline) {
          dropped_.fetch_add(1, std::memory_order_relaxed);
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  const int64_t t0 = NowNs();
  last_durable_wait_ns_.store(t0 - wait_start, std::memory_order_relaxed);
  absl::Status st = options_.store->Save(seq, buffer_);
  last_write_ns_.store(NowNs() - t0, std::memory_order_relaxed);
  if (st.ok()) {
    saved_.fetch_add(1, std::memory_order_relaxed);
    last_saved_seq_.store(seq, std::memory_order_relaxed);
    if (options_.after_save) st = options_.after_save(seq);
  }
  if (!st.ok()) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr, "snapshot: error at seq %" PRIu64 ": %s\n", seq,
                 std::string(st.message()).c_str());
    std::lock_guard<std::mutex> l(mu_);
    last_error_ = std::move(st);
  }
}

SnapshotWriterCounters SnapshotWriterThread::counters() const {
  SnapshotWriterCounters c;
  c.saved = saved_.load(std::memory_order_relaxed);
  c.failed = failed_.load(std::memory_order_relaxed);
  c.dropped = dropped_.load(std::memory_order_relaxed);
  c.last_saved_seq = last_saved_seq_.load(std::memory_order_relaxed);
  c.last_write_ns = last_write_ns_.load(std::memory_order_relaxed);
  c.last_durable_wait_ns = last_durable_wait_ns_.load(std::memory_order_relaxed);
  return c;
}

absl::Status SnapshotWriterThread::last_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_error_;
}

void SnapshotWriterThread::WaitIdle() const {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return !busy_.load(std::memory_order_acquire); });
}

}  // namespace xc::engine::node
