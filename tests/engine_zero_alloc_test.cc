// Proves DESIGN.md's hot-path rule "no allocation per order in the engine
// thread": after warm-up, a million more commands of a mixed flow (passive
// adds, cancels, IOC/FOK/MARKET takers, crossing GTC orders, icebergs, amends
// keeping and losing priority, STP) cause zero heap allocations, both through
// Shard::Apply directly and through ShardRunner::DoWork in invoker mode (the
// ring path).
//
// How: this binary replaces every global operator new/delete variant (plain,
// array, nothrow, aligned, sized) and interposes glibc's malloc family, and
// counts calls while a flag is set around the measured section. Sanitizer
// builds own operator new and malloc, so there the replacements are not
// compiled in; instead the sanitizer's allocator hooks
// (__sanitizer_install_malloc_and_free_hooks) count every allocation, new
// and malloc alike. If the runtime has no such hook (e.g. UBSan alone), the
// tests run the flow and skip the assertion with a message.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/engine/order_book.h"
#include "xc/engine/shard.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_new_calls{0};
std::atomic<uint64_t> g_delete_calls{0};
std::atomic<uint64_t> g_malloc_calls{0};

inline void Count(std::atomic<uint64_t>& c) {
  if (g_counting.load(std::memory_order_relaxed)) c.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

#ifdef XC_SANITIZER_BUILD
// Weak: present in the ASan/TSan/MSan runtimes, absent with UBSan alone.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             size_t),
                                                         void (*free_hook)(const volatile void*))
    __attribute__((weak));

namespace {
void SanitizerMallocHook(const volatile void*, size_t) { Count(g_malloc_calls); }
void SanitizerFreeHook(const volatile void*) { Count(g_delete_calls); }
// True when allocations are being counted.
bool CountingHooks() {
  static const bool installed =
      __sanitizer_install_malloc_and_free_hooks != nullptr &&
      __sanitizer_install_malloc_and_free_hooks(SanitizerMallocHook, SanitizerFreeHook) != 0;
  return installed;
}
}  // namespace
#else
namespace {
bool CountingHooks() { return true; }
}  // namespace
#endif

#ifndef XC_SANITIZER_BUILD
// glibc's real allocator entry points (exported, stable since 2.2.5). The
// operator new replacements call them directly so that one operator new is
// counted once (as new), not also as a malloc.
extern "C" {
void* __libc_malloc(size_t n);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t n);
void* __libc_memalign(size_t align, size_t n);
void __libc_free(void* p);
}

namespace {
void* NewImpl(size_t n) {
  Count(g_new_calls);
  void* p = __libc_malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* NewAlignedImpl(size_t n, std::align_val_t al) {
  Count(g_new_calls);
  void* p = __libc_memalign(static_cast<size_t>(al), n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void DeleteImpl(void* p) {
  if (p == nullptr) return;
  Count(g_delete_calls);
  __libc_free(p);
}
}  // namespace

void* operator new(size_t n) { return NewImpl(n); }
void* operator new[](size_t n) { return NewImpl(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  Count(g_new_calls);
  return __libc_malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  Count(g_new_calls);
  return __libc_malloc(n == 0 ? 1 : n);
}
void* operator new(size_t n, std::align_val_t al) { return NewAlignedImpl(n, al); }
void* operator new[](size_t n, std::align_val_t al) { return NewAlignedImpl(n, al); }
void* operator new(size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  Count(g_new_calls);
  return __libc_memalign(static_cast<size_t>(al), n == 0 ? 1 : n);
}
void* operator new[](size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  Count(g_new_calls);
  return __libc_memalign(static_cast<size_t>(al), n == 0 ? 1 : n);
}

void operator delete(void* p) noexcept { DeleteImpl(p); }
void operator delete[](void* p) noexcept { DeleteImpl(p); }
void operator delete(void* p, size_t) noexcept { DeleteImpl(p); }
void operator delete[](void* p, size_t) noexcept { DeleteImpl(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { DeleteImpl(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { DeleteImpl(p); }
void operator delete(void* p, std::align_val_t) noexcept { DeleteImpl(p); }
void operator delete[](void* p, std::align_val_t) noexcept { DeleteImpl(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { DeleteImpl(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { DeleteImpl(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { DeleteImpl(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { DeleteImpl(p); }

// The C allocator (EventBuffer uses malloc). An executable's definitions
// interpose libc's for the whole process; free stays libc's own, which is
// right because every pointer still comes from glibc's heap.
extern "C" {
void* malloc(size_t n) noexcept {
  Count(g_malloc_calls);
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) noexcept {
  Count(g_malloc_calls);
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) noexcept {
  Count(g_malloc_calls);
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t align, size_t n) noexcept {
  Count(g_malloc_calls);
  return __libc_memalign(align, n);
}
void* memalign(size_t align, size_t n) noexcept {
  Count(g_malloc_calls);
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) noexcept {
  Count(g_malloc_calls);
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return 22;  // EINVAL
  void* p = __libc_memalign(align, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}  // extern "C"
#endif  // XC_SANITIZER_BUILD

namespace xc {
namespace {

using engine::EventBuffer;
using engine::OrderBook;
using engine::Shard;
using engine::node::ShardRunner;
using protocol::Command;
using protocol::Event;
using protocol::EventType;
using protocol::OrderId;
using protocol::OrderType;
using protocol::Side;
using protocol::StpMode;
using protocol::TimeInForce;

constexpr protocol::SymbolId kSym = 3;

bool SanitizerScale() {
#ifdef XC_SANITIZER_BUILD
  return true;
#else
  const char* s = std::getenv("XC_TEST_SCALE");
  return s != nullptr && std::string_view(s) == "sanitizer";
#endif
}

// Allocation counts at one instant.
struct AllocCounts {
  uint64_t news = g_new_calls.load();
  uint64_t deletes = g_delete_calls.load();
  uint64_t mallocs = g_malloc_calls.load();
};

// Counts allocations made by this process while alive.
class CountingScope {
 public:
  CountingScope() { g_counting.store(true); }
  ~CountingScope() { g_counting.store(false); }
};

// A deterministic mixed flow on one symbol. It reads the book (resting count,
// FindOrder) to keep the book at a steady depth and to aim cancels and amends
// at live orders. All its memory is allocated in the constructor.
class FlowGen {
 public:
  FlowGen(uint64_t seed, const OrderBook* book) : rng_(seed), book_(book), ids_(1u << 13) {}

  Command Next() {
    Command c = Make();
    c.ts = ++ts_;
    return c;
  }

 private:
  Command Make() {
    const Side side = (rng_() & 1) != 0 ? Side::kBuy : Side::kSell;
    const bool buy = side == Side::kBuy;
    const uint64_t user = 1 + rng_() % 32;
    // A slow random walk of the mid keeps the touch moving across levels.
    if (rng_() % 64 == 0) mid_ += (rng_() & 1) != 0 ? 1 : -1;
    mid_ = std::clamp<int64_t>(mid_, 5'000, 15'000);
    const int64_t qty = 1 + static_cast<int64_t>(rng_() % 40);
    const size_t resting = book_->resting_orders();
    // Steady state around kTarget resting orders: cancel more when above it.
    const uint64_t cancel_share = resting > kTarget ? 45 : 20;
    const uint64_t r = rng_() % 100;

    if (r < cancel_share) {
      return Command::Cancel(kSym, PickLive(), (rng_() % 8 == 0) ? user : 0);
    }
    if (r < cancel_share + 10) {
      const OrderId id = PickLive();
      const std::optional<engine::OrderView> o = book_->FindOrder(id);
      if (o.has_value() && !o->pending_stop && (rng_() & 1) != 0) {
        // Same price, smaller quantity: keeps its queue position.
        return Command::Amend(kSym, id, o->price, std::max<int64_t>(1, o->visible + o->hidden - 1));
      }
      const int64_t off = 1 + static_cast<int64_t>(rng_() % 25);
      return Command::Amend(kSym, id, (rng_() & 1) != 0 ? mid_ - off : mid_ + off, qty);
    }
    const OrderId id = next_id_++;
    const uint64_t kind = rng_() % 100;
    if (kind < 55) {  // passive GTC
      const int64_t off = 1 + static_cast<int64_t>(rng_() % 30);
      Command c = Command::Limit(kSym, id, user, side, buy ? mid_ - off : mid_ + off, qty);
      if (rng_() % 20 == 0) {
        c.qty = qty * 4;
        c.iceberg_qty = qty;
      }
      Remember(id);
      return c;
    }
    const int64_t through = static_cast<int64_t>(rng_() % 6);
    const int64_t px = buy ? mid_ + through : mid_ - through;
    const StpMode stp = static_cast<StpMode>(rng_() % 4);
    if (kind < 75) return Command::Limit(kSym, id, user, side, px, qty, TimeInForce::kIoc, stp);
    if (kind < 80) return Command::Limit(kSym, id, user, side, px, qty, TimeInForce::kFok, stp);
    if (kind < 85) return Command::Market(kSym, id, user, side, qty, stp);
    if (kind < 87) return Command::LimitMaker(kSym, id, user, side, px, qty);
    // GTC crossing: takes, and rests what is left.
    Remember(id);
    return Command::Limit(kSym, id, user, side, px, qty, TimeInForce::kGtc, stp);
  }

  void Remember(OrderId id) { ids_[n_ids_++ & (ids_.size() - 1)] = id; }
  // A remembered id that is still live, if a few probes find one; otherwise
  // a dead one (whose cancel/amend is rejected: a path worth covering too).
  OrderId PickLive() {
    const size_t n = std::min<size_t>(n_ids_, ids_.size());
    if (n == 0) return 1;
    OrderId id = 0;
    for (int probe = 0; probe < 8; ++probe) {
      id = ids_[rng_() % n];
      if (book_->FindOrder(id).has_value()) break;
    }
    return id;
  }

  static constexpr size_t kTarget = 4'000;
  std::mt19937_64 rng_;
  const OrderBook* book_;
  std::vector<OrderId> ids_;
  size_t n_ids_ = 0;
  OrderId next_id_ = 1;
  int64_t mid_ = 10'000;
  int64_t ts_ = 0;
};

// What the flow exercised, so that "no allocation" is not proven on a flow
// that never trades. Plain array: counting it allocates nothing.
struct EventMix {
  uint64_t by_type[8] = {};
  void Add(const Event& e) { ++by_type[static_cast<size_t>(e.type) & 7]; }
  uint64_t operator[](EventType t) const { return by_type[static_cast<size_t>(t)]; }
};

void ExpectRichFlow(const EventMix& mix) {
  std::printf("event mix:");
  for (int t = 0; t < 8; ++t) {
    std::printf(" %s=%llu", protocol::EventTypeName(static_cast<EventType>(t)),
                static_cast<unsigned long long>(mix.by_type[t]));
  }
  std::printf("\n");
  EXPECT_GT(mix[EventType::kAccepted], 0u);
  EXPECT_GT(mix[EventType::kTrade], 0u);
  EXPECT_GT(mix[EventType::kCancelled], 0u);
  EXPECT_GT(mix[EventType::kExpired], 0u);
  EXPECT_GT(mix[EventType::kAmended], 0u);
  EXPECT_GT(mix[EventType::kRejected], 0u);
  EXPECT_GT(mix[EventType::kLevelChanged], 0u);
}

OrderBook::Options BookOptions() {
  OrderBook::Options o;
  o.max_orders = 1u << 17;
  o.max_levels = 1u << 14;
  return o;
}

size_t WarmupCommands() { return SanitizerScale() ? 50'000 : 300'000; }
size_t MeasuredCommands() { return SanitizerScale() ? 100'000 : 1'000'000; }

// Guards against a vacuous pass: the hooks must see allocations when there are some.
TEST(EngineZeroAllocTest, CountingHooksSeeAllocations) {
  if (!CountingHooks()) {
    GTEST_SKIP() << "sanitizer build without allocator hooks: allocations cannot be counted";
  }
  const AllocCounts before;
  {
    CountingScope scope;
    void* volatile p = ::operator new(64);
    ::operator delete(p);
    void* volatile q = std::malloc(64);
    std::free(q);
    void* volatile r = ::operator new (64, std::align_val_t{64});
    ::operator delete (r, std::align_val_t{64});
  }
  const AllocCounts after;
  // Replacement build: 2 operator new + 1 malloc (free itself is libc's, not
  // counted). Sanitizer build: the hooks see all 3 as mallocs and 3 frees.
  EXPECT_EQ((after.news - before.news) + (after.mallocs - before.mallocs), 3u);
  EXPECT_GE(after.deletes - before.deletes, 2u);
}

TEST(EngineZeroAllocTest, ShardApplyAllocatesNothingAfterWarmup) {
  CountingHooks();  // installs the sanitizer hooks, if any, before the warm-up
  Shard shard;
  ASSERT_TRUE(shard.AddSymbol(kSym, BookOptions()).ok());
  EventBuffer events(4096);
  FlowGen gen(20240601, shard.book(kSym));
  EventMix mix;

  for (size_t i = 0; i < WarmupCommands(); ++i) {
    events.clear();
    shard.Apply(gen.Next(), events);
  }
  const AllocCounts before;
  {
    CountingScope scope;
    for (size_t i = 0; i < MeasuredCommands(); ++i) {
      events.clear();
      shard.Apply(gen.Next(), events);
      for (const Event& e : events) mix.Add(e);
    }
  }
  const AllocCounts after;
  ExpectRichFlow(mix);
  EXPECT_EQ(shard.commands_applied(), WarmupCommands() + MeasuredCommands());
  if (!CountingHooks()) {
    GTEST_SKIP() << "sanitizer build without allocator hooks: flow ran, allocation "
                    "counting skipped (the sanitizer owns operator new/malloc)";
  }
  EXPECT_EQ(after.news - before.news, 0u)
      << "operator new calls during " << MeasuredCommands() << " commands";
  EXPECT_EQ(after.mallocs - before.mallocs, 0u)
      << "malloc-family calls during " << MeasuredCommands() << " commands";
  EXPECT_EQ(after.deletes - before.deletes, 0u);
}

TEST(EngineZeroAllocTest, ShardRunnerRingPathAllocatesNothingAfterWarmup) {
  CountingHooks();
  ShardRunner::Options options;
  options.input_capacity = 1024;
  options.output_capacity = 1u << 14;
  options.batch = 64;
  ShardRunner runner(options);  // invoker mode: never started
  ASSERT_TRUE(runner.shard().AddSymbol(kSym, BookOptions()).ok());
  FlowGen gen(777, runner.shard().book(kSym));
  EventMix mix;
  uint64_t polled = 0;
  auto on_event = [&](const Event& e) {
    mix.Add(e);
    ++polled;
  };

  // Submit in bursts, run one duty cycle, drain the events: the shape of the
  // one-process build's loop.
  auto run = [&](size_t n) {
    size_t submitted = 0;
    while (submitted < n) {
      for (int k = 0; k < 48 && submitted < n; ++k) {
        if (!runner.Submit(gen.Next())) break;
        ++submitted;
      }
      runner.DoWork();
      runner.PollEvents(on_event);
    }
    while (runner.DoWork() != 0) runner.PollEvents(on_event);
    runner.PollEvents(on_event);
  };

  run(WarmupCommands());
  const AllocCounts before;
  {
    CountingScope scope;
    run(MeasuredCommands());
  }
  const AllocCounts after;
  ExpectRichFlow(mix);
  EXPECT_EQ(runner.commands_applied(), WarmupCommands() + MeasuredCommands());
  EXPECT_EQ(runner.events_published(), polled);
  EXPECT_EQ(runner.counters().oversized_groups, 0u);
  if (!CountingHooks()) {
    GTEST_SKIP() << "sanitizer build without allocator hooks: flow ran, allocation "
                    "counting skipped (the sanitizer owns operator new/malloc)";
  }
  EXPECT_EQ(after.news - before.news, 0u)
      << "operator new calls during " << MeasuredCommands() << " commands";
  EXPECT_EQ(after.mallocs - before.mallocs, 0u)
      << "malloc-family calls during " << MeasuredCommands() << " commands";
  EXPECT_EQ(after.deletes - before.deletes, 0u);
}

}  // namespace
}  // namespace xc
