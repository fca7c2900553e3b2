#pragma once
// JournalWriterThread: runs a JournalWriter's duty cycle on a thread of its
// own (STYLE.md §10 threaded mode; the invoker mode is calling DoWork directly).

#include <atomic>
#include <thread>

#include "absl/status/status.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/wait_strategy.h"

namespace xc::engine::node {

// Owns one thread that loops writer->DoWork() until Stop(). When a cycle
// finds no work it backs off: spin (pause) for a while, then sleep on the
// producer's doorbell when the writer is idle (EnableDoorbell), else nap
// 50 us at a time, so an idle journal costs little CPU and a waiting flush
// is seen within ~20 us (io_uring) while a busy one is never slowed (work
// resets the backoff).
//
// Thread safety: Start/Stop/destructor from the owner thread. The writer's
// agent role belongs to this thread between Start and Stop; the owner may
// call writer->Close() after Stop(). Not copyable. Allocation: the thread.
class JournalWriterThread {
 public:
  // REQUIRES: writer outlives this object. cpu: pin to this core (-1: no pin).
  explicit JournalWriterThread(JournalWriter* writer, int cpu = -1);
  ~JournalWriterThread();  // Stop()
  JournalWriterThread(const JournalWriterThread&) = delete;
  JournalWriterThread& operator=(const JournalWriterThread&) = delete;

  // Starts the thread. FailedPrecondition if running; the pinning error if
  // `cpu` is refused (the thread is then not running).
  [[nodiscard]] absl::Status Start();
  // Stops the loop and joins. Does not Close the writer; commands appended
  // but not yet written stay in its ring (call writer->Close() afterwards to
  // flush them). No-op when not running.
  void Stop();
  bool running() const { return thread_.joinable(); }

  // Returns the doorbell the producer must ring after TryAppend
  // (ShardRunnerOptions::journal_bell); from then on an idle writer
  // (JournalWriter::Idle: nothing queued, in flight or due) sleeps on it
  // instead of polling. Under policy "none" appended commands then gather
  // for 10 ms before a write, and while they keep coming the thread sleeps
  // on that timer alone, not on the doorbell (the producer's Ring finds no
  // sleeper and makes no system call). Without this call the thread polls
  // (spin, then 50 us naps). REQUIRES: not running.
  Doorbell* EnableDoorbell() {
    producer_rings_ = true;
    return &bell_;
  }
  // `bell` is rung whenever the writer's durable_seq advanced (the shard
  // runner's doorbell, so a runner holding events for durability can sleep
  // until they are releasable), except under policy "none", where no events
  // are held; and when the writer fails. REQUIRES: not running.
  void NotifyOnDurable(Doorbell* bell) { durable_bell_ = bell; }

 private:
  JournalWriter* const writer_;
  const int cpu_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  Doorbell bell_;
  bool producer_rings_ = false;
  Doorbell* durable_bell_ = nullptr;
};

}  // namespace xc::engine::node
