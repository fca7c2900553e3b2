#include "xc/engine/node/journal_thread.h"

#include <pthread.h>
#include <time.h>

#include <future>
#include <utility>

#include "xc/engine/node/cpu_affinity.h"
#include "xc/engine/node/wait_strategy.h"

namespace xc::engine::node {

JournalWriterThread::JournalWriterThread(JournalWriter* writer, int cpu)
    : writer_(writer), cpu_(cpu) {}

JournalWriterThread::~JournalWriterThread() { Stop(); }

absl::Status JournalWriterThread::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("journal thread already running");
  stop_.store(false, std::memory_order_relaxed);
  std::promise<absl::Status> started;
  std::future<absl::Status> result = started.get_future();
  thread_ = std::thread([this, &started] {
    pthread_setname_np(pthread_self(), "xc-journal");
    if (cpu_ != -1) {
      absl::Status pinned = PinCurrentThread(cpu_);
      if (!pinned.ok()) {
        started.set_value(std::move(pinned));
        return;
      }
    }
    started.set_value(absl::OkStatus());  // `started` is dead after this
    uint32_t idle = 0;
    // Under "none" the runner holds no events for durability, so nobody
    // waits for durable_seq: ringing it would wake an idle runner for
    // nothing after every write. A failure is still rung (it stops the shard).
    const bool ring_durable = writer_->options().policy.mode != DurabilityPolicy::Mode::kNone;
    while (!stop_.load(std::memory_order_acquire)) {
      const protocol::Seq durable = writer_->durable_seq();
      const bool failed = writer_->failed();
      const int work = writer_->DoWork();
      if (durable_bell_ != nullptr &&
          ((ring_durable && writer_->durable_seq() != durable) || writer_->failed() != failed)) {
        durable_bell_->Ring();
      }
      if (work != 0) {
        idle = 0;
        continue;
      }
      ++idle;
      // Spin briefly, then sleep or nap; no sched_yield rounds: on a VM with
      // few cores a yield is a costly context switch that buys nothing here.
      if (idle < 16) {
        IdleStrategy::CpuRelax();
      } else if (producer_rings_ && writer_->Idle()) {
        // Nothing to do until the producer appends (it rings bell_).
        bell_.Sleep([this] {
          return stop_.load(std::memory_order_acquire) || !writer_->Idle();
        });
        if (writer_->options().policy.mode == DurabilityPolicy::Mode::kNone) {
          // Under "none" nobody waits for the write (the runner does not
          // hold events): let a batch gather instead of one write per
          // command (perf at 8k orders/s: the journal thread and its io_uring
          // worker took 0.3 cores writing command by command). 2 ms: at most
          // 500 writes a second; the ring holds 64k commands meanwhile.
          const timespec ts{0, 2'000'000};
          ::nanosleep(&ts, nullptr);
        }
        idle = 0;
      } else {
        // A flush in flight (its completion is polled) or an interval sync
        // not yet due: nap.
        const timespec ts{0, 50'000};
        ::nanosleep(&ts, nullptr);
      }
    }
  });
  absl::Status s = result.get();
  if (!s.ok()) thread_.join();
  return s;
}

void JournalWriterThread::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  bell_.Wake();
  thread_.join();
}

}  // namespace xc::engine::node
