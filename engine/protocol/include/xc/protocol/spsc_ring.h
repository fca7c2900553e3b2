#pragma once
// SpscRing: a bounded, lock-free, single-producer single-consumer queue of
// trivially copyable values (commands into a shard, events out of it).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

#include "xc/protocol/check.h"

namespace xc::protocol {

// SpscRing<T> is a fixed-capacity FIFO between exactly one producer thread and
// exactly one consumer thread, after Rigtorp's SPSCQueue and Aeron's
// one-to-one ring buffer.
//
// Thread safety: the producer methods (TryPush, TryPushN, free_approx) must be
// called from one thread at a time (the producer); the consumer methods
// (TryPop, PopN, Peek, Consume, Drain) from one thread at a time (the
// consumer). The two may be the same thread. capacity() and size_approx() may
// be called from any thread. Ownership of the roles may move between threads
// only through a happens-before edge (e.g. std::thread start/join).
//
// Invariants:
//  * head_ <= tail_ <= head_ + capacity (indices are 64-bit and never wrap in
//    practice: 2^64 items at 1e9/s is ~585 years);
//  * slot i & mask_ holds a published, unconsumed item for head_ <= i < tail_;
//  * only the producer writes tail_ and cached_head_; only the consumer writes
//    head_ and cached_tail_. Each pair sits on its own cache line, so the two
//    sides share a line only when one of them actually needs the other's index.
//
// Memory ordering: the producer copies items into their slots, then publishes
// them with one release store of tail_. The consumer reads tail_ with acquire
// (only when its cached copy says the ring looks empty), so every slot below
// the tail it saw is fully written. Symmetrically, the consumer reads the
// slots, then frees them with one release store of head_; the producer reads
// head_ with acquire (only when its cached copy says the ring looks full)
// before overwriting a slot, so it never overwrites an item still being read.
// The cached copies are always <= the real index, so a stale cache can only
// make the ring look fuller (producer) or emptier (consumer) than it is, never
// the other way round; on that slow path the real index is reloaded.
//
// Batches: TryPushN publishes n items all-or-nothing with a single release
// store, so a consumer sees either none or all of them. PopN and Drain free
// what they read with a single release store as well.
//
// Allocation: the constructor allocates capacity slots (cache-line aligned);
// nothing after that. No method blocks, locks, or makes a syscall: waiting
// when full or empty is the caller's policy (see engine_node's WaitStrategy).
//
// Cost: TryPush/TryPop are a few loads and stores when the cached index
// suffices, plus one cache-line transfer when it does not.
template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "SpscRing holds trivially copyable values");
  static_assert(std::is_trivially_destructible_v<T>);
  static_assert(std::is_default_constructible_v<T>);

 public:
  static constexpr size_t kCacheLine = 64;

  // REQUIRES: capacity is a power of two >= 2 (checked; fatal otherwise).
  explicit SpscRing(size_t capacity) : capacity_(capacity), mask_(capacity - 1) {
    XC_CHECK(capacity >= 2 && (capacity & (capacity - 1)) == 0);
    slots_ = static_cast<T*>(::operator new (capacity * sizeof(T), std::align_val_t{kCacheLine}));
    std::uninitialized_value_construct_n(slots_, capacity);
  }
  ~SpscRing() { ::operator delete (slots_, std::align_val_t{kCacheLine}); }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Number of items published and not yet consumed. Exact when called by the
  // producer or the consumer while the other side is idle; otherwise a value
  // that was true at some instant during the call. Any thread.
  size_t size_approx() const {
    // head first: tail only grows, so tail - head can't underflow.
    const uint64_t h = head_.load(std::memory_order_acquire);
    const uint64_t t = tail_.load(std::memory_order_acquire);
    return static_cast<size_t>(t - h);
  }
  bool empty_approx() const { return size_approx() == 0; }

  // ---- producer side ----

  // Appends v if there is room. Returns false (and changes nothing) when full.
  bool TryPush(const T& v) {
    const uint64_t t = tail_.load(std::memory_order_relaxed);
    if (t - cached_head_ == capacity_) {
      cached_head_ = head_.load(std::memory_order_acquire);
      if (t - cached_head_ == capacity_) return false;
    }
    slots_[t & mask_] = v;
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // Appends items[0..n) all-or-nothing: returns false (and publishes nothing)
  // when fewer than n slots are free. The consumer sees the n items appear
  // together (one release store). n == 0 succeeds trivially. A batch larger
  // than capacity() can never succeed; callers split such batches themselves.
  bool TryPushN(const T* items, size_t n) {
    if (n == 0) return true;
    const uint64_t t = tail_.load(std::memory_order_relaxed);
    if (capacity_ - (t - cached_head_) < n) {
      cached_head_ = head_.load(std::memory_order_acquire);
      if (capacity_ - (t - cached_head_) < n) return false;
    }
    const size_t start = static_cast<size_t>(t & mask_);
    const size_t first = std::min(n, capacity_ - start);
    std::copy_n(items, first, slots_ + start);
    std::copy_n(items + first, n - first, slots_);
    tail_.store(t + n, std::memory_order_release);
    return true;
  }

  // Free slots as the producer sees them (refreshes its cached head). Producer
  // thread only. The true value can only be larger (the consumer frees more).
  size_t free_approx() {
    cached_head_ = head_.load(std::memory_order_acquire);
    return capacity_ - static_cast<size_t>(tail_.load(std::memory_order_relaxed) - cached_head_);
  }

  // ---- consumer side ----

  // Moves the oldest item into *out. Returns false (out untouched) when empty.
  bool TryPop(T* out) {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    if (h == cached_tail_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (h == cached_tail_) return false;
    }
    *out = slots_[h & mask_];
    head_.store(h + 1, std::memory_order_release);
    return true;
  }

  // Moves up to max of the oldest items into out[0..) and frees their slots
  // with one release store. Returns how many (0 when empty).
  size_t PopN(T* out, size_t max) {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    const size_t n = std::min(max, Available(h, max));
    if (n == 0) return 0;
    const size_t start = static_cast<size_t>(h & mask_);
    const size_t first = std::min(n, capacity_ - start);
    std::copy_n(slots_ + start, first, out);
    std::copy_n(slots_, n - first, out + first);
    head_.store(h + n, std::memory_order_release);
    return n;
  }

  // Zero-copy read, part 1: the longest contiguous run of readable items
  // starting at the oldest, at most max long. It ends early at the physical
  // end of the storage; a second Peek after Consume returns the wrapped rest.
  // The items stay valid, and owned by the consumer, until Consume frees them.
  // Empty span when the ring is empty. Nothing is freed by Peek.
  std::span<const T> Peek(size_t max = SIZE_MAX) {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    const size_t start = static_cast<size_t>(h & mask_);
    const size_t n = std::min({max, Available(h, max), capacity_ - start});
    return std::span<const T>(slots_ + start, n);
  }

  // Zero-copy read, part 2: frees the n oldest items (one release store).
  // REQUIRES: n <= the size of the span the last Peek returned; the consumer
  // no longer reads those items (the producer may overwrite them at once).
  void Consume(size_t n) {
    if (n == 0) return;
    const uint64_t h = head_.load(std::memory_order_relaxed);
    XC_DCHECK(n <= cached_tail_ - h);
    head_.store(h + n, std::memory_order_release);
  }

  // Calls f(const T&) on up to max of the oldest items, in order, without
  // copying them out, then frees them all with one release store. Returns how
  // many were visited. REQUIRES: f does not use this ring's consumer side.
  template <typename F>
  size_t Drain(F&& f, size_t max = SIZE_MAX) {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    const size_t n = std::min(max, Available(h, max));
    if (n == 0) return 0;
    const size_t start = static_cast<size_t>(h & mask_);
    const size_t first = std::min(n, capacity_ - start);
    for (size_t i = 0; i < first; ++i) f(static_cast<const T&>(slots_[start + i]));
    for (size_t i = 0; i < n - first; ++i) f(static_cast<const T&>(slots_[i]));
    head_.store(h + n, std::memory_order_release);
    return n;
  }

 private:
  // Readable items from head h as the consumer sees them; reloads the real
  // tail only when the cached one gives fewer than `want`.
  size_t Available(uint64_t h, size_t want) {
    size_t avail = static_cast<size_t>(cached_tail_ - h);
    if (avail < want) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      avail = static_cast<size_t>(cached_tail_ - h);
    }
    return avail;
  }

  // Read-only after construction: shared by both sides without contention.
  alignas(kCacheLine) const size_t capacity_;
  const uint64_t mask_;
  T* slots_ = nullptr;

  // Producer's line: its index and its cache of the consumer's.
  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  uint64_t cached_head_ = 0;

  // Consumer's line: its index and its cache of the producer's.
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
  uint64_t cached_tail_ = 0;
  // sizeof is a multiple of kCacheLine (alignas above), so whatever follows
  // this object in memory does not share head_'s line either.
};

}  // namespace xc::protocol
