#pragma once
// What an agent thread does when its duty cycle found no work (STYLE.md §10,
// after Aeron's idle strategies): spin, yield, or block until a producer
// rings its doorbell.

#include <atomic>
#include <cstdint>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"

namespace xc::engine::node {

enum class WaitStrategy : uint8_t {
  // Busy-poll with a CPU pause hint. Lowest latency; burns its core at 100%.
  kSpin = 0,
  // sched_yield between polls. Lets other threads of the core run; still 100%
  // CPU when alone on the core.
  kYield = 1,
  // Spin briefly, then sleep on a futex (std::atomic::wait) until a producer
  // rings the Doorbell. Near-zero CPU when idle; a wake-up costs a syscall on
  // both sides, but only after the consumer announced it sleeps: a busy
  // consumer costs producers one locked add, no syscall.
  kBlock = 2,
};

// "spin" | "yield" | "block" (exact, lower case). InvalidArgument otherwise.
[[nodiscard]] absl::StatusOr<WaitStrategy> ParseWaitStrategy(std::string_view s);
// The name ParseWaitStrategy accepts for w.
const char* WaitStrategyName(WaitStrategy w);

// Doorbell lets one consumer thread sleep until some producer has published
// work, with no syscall on the producer side unless the consumer is asleep.
//
// Thread safety: Sleep is called by the one consumer thread; Ring and Wake by
// any number of producer threads.
//
// Protocol (Dekker-style): every access to `sleeping_` is an acq_rel
// read-modify-write, so all of them form one chain in which each
// synchronizes with the one before it:
//   consumer: e = epoch; RMW sleeping = 1; if (!has_work()) wait(epoch != e);
//             RMW sleeping = 0
//   producer: publish work (e.g. the ring's release store);
//             if (RMW-read sleeping (fetch_add 0) == 1) { ++epoch; notify }
// If the producer's RMW comes first in that chain, the publication happens
// before the consumer's has_work() check, which therefore sees the work. If
// the consumer's announcement comes first, the producer reads 1 and bumps the
// epoch, which makes the wait return (std::atomic::wait re-checks the value
// before blocking). So a wake-up is never lost. (Standalone seq_cst fences
// would do too, but ThreadSanitizer does not model them.) Spurious wake-ups
// are possible; the consumer just runs its duty cycle once more.
//
// Allocation: none. Cost: Ring is one locked add on a line that stays in the
// producer's cache while the consumer is busy; no syscall unless it sleeps.
class Doorbell {
 public:
  // Consumer: blocks until has_work() is true or Ring/Wake was called after
  // this call started. has_work is evaluated once, after the announcement.
  template <typename HasWork>
  void Sleep(HasWork&& has_work) {
    const uint32_t e = epoch_.load(std::memory_order_acquire);
    sleeping_.exchange(1, std::memory_order_acq_rel);
    if (!has_work()) {
      sleeps_.store(sleeps_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      FutexWait(e);
    }
    sleeping_.exchange(0, std::memory_order_acq_rel);
  }

  // Producer: call after publishing work. Wakes the consumer only if it
  // announced it is sleeping.
  void Ring() {
    // An RMW, not a load: see the protocol above. fetch_add (lock xadd) rather
    // than fetch_or, which would compile to a CAS loop.
    if (sleeping_.fetch_add(0, std::memory_order_acq_rel) != 0) Wake();
  }

  // Unconditional wake (e.g. a stop request). Costs a futex syscall when
  // the consumer waits.
  void Wake() {
    epoch_.fetch_add(1, std::memory_order_release);
    FutexWakeAll();
  }

  // Times the consumer actually went to sleep. Any thread (relaxed).
  uint64_t sleeps() const { return sleeps_.load(std::memory_order_relaxed); }
  // Whether the consumer has announced it sleeps (it is asleep, or about to
  // re-check for work and sleep). Any thread (relaxed); for tests and metrics.
  bool sleeping() const { return sleeping_.load(std::memory_order_relaxed) != 0; }

 private:
  // A direct futex, not std::atomic::wait: libstdc++'s wait spins with
  // sched_yield before it sleeps, and on a VM with few cores those yields
  // are costly context switches (they were most of the exchange's CPU
  // samples under load). Returns once epoch_ != e (or spuriously).
  void FutexWait(uint32_t e);
  void FutexWakeAll();

  alignas(64) std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> sleeping_{0};
  std::atomic<uint64_t> sleeps_{0};  // written by the consumer only
};

// Role: a duty that one thread at a time performs, taken by whichever thread
// gets there first (run to completion: the shard's agent role, the event
// pump's role). A thread that fails to take it relies on the holder, so the
// holder must look for work again after Release (release, then look); with
// the seq_cst fences here, a producer that published work and then failed
// TryAcquire is seen by the holder's look after Release.
// Thread safety: any thread. Cost: one CAS / one store and fence; no syscall.
class Role {
 public:
  bool TryAcquire() {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // the caller's work first
    uint32_t free = 0;
    return held_.compare_exchange_strong(free, 1, std::memory_order_seq_cst);
  }
  void Release() {
    held_.store(0, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // then the holder looks
  }
  bool held() const { return held_.load(std::memory_order_seq_cst) != 0; }
  // Frees a role kept by a stopped holder. REQUIRES: nobody uses it.
  void Reset() { held_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> held_{0};
};

// IdleStrategy applies a WaitStrategy in an agent loop:
//   while (running) { int w = agent.DoWork(); idle.Idle(w, has_work); }
// Idle(w > 0) resets the backoff and returns at once.
//
// Thread safety: used by the one agent thread. Allocation: none.
class IdleStrategy {
 public:
  // For kBlock, `bell` is the doorbell producers ring; it must outlive this.
  // REQUIRES: bell != nullptr when w == kBlock.
  explicit IdleStrategy(WaitStrategy w, Doorbell* bell = nullptr) : kind_(w), bell_(bell) {}

  // has_work: a cheap check (e.g. "input ring not empty") used by kBlock
  // before it sleeps, so that work published just before the announcement is
  // not slept through.
  template <typename HasWork>
  void Idle(int work_count, HasWork&& has_work) {
    if (work_count > 0) {
      idle_rounds_ = 0;
      return;
    }
    ++idle_rounds_;
    switch (kind_) {
      case WaitStrategy::kSpin:
        CpuRelax();
        break;
      case WaitStrategy::kYield:
        std::this_thread::yield();
        break;
      case WaitStrategy::kBlock:
        if (idle_rounds_ <= kSpinRounds) {
          CpuRelax();
        } else if (idle_rounds_ <= kSpinRounds + kYieldRounds) {
          std::this_thread::yield();
        } else {
          bell_->Sleep(has_work);
          idle_rounds_ = 0;
        }
        break;
    }
  }

  WaitStrategy kind() const { return kind_; }

  static void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
  }

 private:
  // kBlock backs off spin -> sleep, so a burst with short gaps does not pay
  // a futex round trip per command. No sched_yield rounds in between: on a
  // VM with few cores each yield is a costly context switch (perf of the
  // exchange at 5k orders/s: most samples under sched_yield) that the
  // doorbell's wake-up makes unnecessary.
  // Few spin rounds: on a shared core a spin is CPU taken from the threads
  // that would produce the work (perf at 8k orders/s: the runner's idle
  // spins cost a fifth of a core).
  static constexpr uint32_t kSpinRounds = 32;
  static constexpr uint32_t kYieldRounds = 0;

  WaitStrategy kind_;
  Doorbell* bell_;
  uint32_t idle_rounds_ = 0;
};

}  // namespace xc::engine::node
