#include "xc/engine/node/journal_thread.h"

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
    if (cpu_ != -1) {
      absl::Status pinned = PinCurrentThread(cpu_);
      if (!pinned.ok()) {
        started.set_value(std::move(pinned));
        return;
      }
    }
    started.set_value(absl::OkStatus());  // `started` is dead after this
    uint32_t idle = 0;
    while (!stop_.load(std::memory_order_acquire)) {
      if (writer_->DoWork() != 0) {
        idle = 0;
        continue;
      }
      ++idle;
      if (idle < 200) {
        IdleStrategy::CpuRelax();
      } else if (idle < 260) {
        std::this_thread::yield();
      } else {
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
  thread_.join();
}

}  // namespace xc::engine::node
