#include "xc/engine/node/journal_thread.h"

#include <pthread.h>
#include <time.h>

#include <future>
#include <utility>

#include "xc/engine/node/cpu_affinity.h"
#include "xc/engine/node/wait_strategy.h"

namespace xc::engine::node {

namespace {
// Under policy "none": how long appended commands gather before a write.
constexpr long kNoneGatherNs = 10'000'000;
}  // namespace

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
    const bool none = writer_->options().policy.mode == DurabilityPolicy::Mode::kNone;
    // Under "none": the last gather (below) ended with commands to write,
    // so more are likely coming.
    bool streaming = false;
    while (!stop_.load(std::memory_order_acquire)) {
      const protocol::Seq durable = writer_->durable_seq();
      const bool failed = writer_->failed();
      const int work = writer_->DoWork();
      if (durable_bell_ != nullptr &&
          ((!none && writer_->durable_seq() != durable) || writer_->failed() != failed)) {
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
        // Nothing to do until the producer appends (it rings bell_). Under
        // "none", while commands keep coming, the gather's timer alone wakes
        // the thread: one wake-up per gather instead of two, and no ring
        // (a futex wake on the order's path) for the producer.
        if (!none || !streaming) {
          bell_.Sleep([this] {
            return stop_.load(std::memory_order_acquire) || !writer_->Idle();
          });
        }
        if (none) {
          // Under "none" nobody waits for the write (the runner does not
          // hold events, and the order service sends again on restart what
          // the engine's journal lacks): let a batch gather instead of one
          // write per command (perf at 8k orders/s: the journal thread and
          // its io_uring worker took 0.3 cores writing command by command).
          // Each wake-up of this thread costs a VM tens of µs of CPU and
          // takes a core from the threads serving orders (perf sched at 10k
          // orders/s: 12% of the I/O threads' waits were behind it), hence
          // 10 ms: at most 100 writes a second; the ring holds 64k commands.
          const timespec ts{0, kNoneGatherNs};
          ::nanosleep(&ts, nullptr);
          streaming = !writer_->Idle();
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
