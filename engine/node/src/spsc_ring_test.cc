#include "xc/protocol/spsc_ring.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace xc::protocol {
namespace {

// Sanitizer builds run ~20x slower; the stress test scales down there.
bool SanitizerScale() {
  const char* s = std::getenv("XC_TEST_SCALE");
  if (s != nullptr && std::strcmp(s, "sanitizer") == 0) return true;
#ifdef XC_SANITIZER_BUILD
  return true;
#else
  return false;
#endif
}

TEST(SpscRingTest, PushPopFifoAndFullEmpty) {
  SpscRing<int> ring(4);
  EXPECT_EQ(ring.capacity(), 4u);
  int v = -1;
  EXPECT_FALSE(ring.TryPop(&v));
  EXPECT_EQ(v, -1);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.TryPush(i));
  EXPECT_FALSE(ring.TryPush(99));
  EXPECT_EQ(ring.size_approx(), 4u);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.TryPop(&v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(ring.TryPop(&v));
  EXPECT_TRUE(ring.empty_approx());
}

TEST(SpscRingTest, WrapsAroundManyTimes) {
  SpscRing<uint64_t> ring(8);
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring.TryPush(next_in++));
    uint64_t v;
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(ring.TryPop(&v));
      ASSERT_EQ(v, next_out++);
    }
  }
}

TEST(SpscRingTest, PushNIsAllOrNothing) {
  SpscRing<int> ring(8);
  const int a[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_TRUE(ring.TryPushN(a, 0));
  EXPECT_TRUE(ring.TryPushN(a, 5));
  EXPECT_FALSE(ring.TryPushN(a + 5, 4));  // only 3 free
  EXPECT_EQ(ring.size_approx(), 5u);
  EXPECT_TRUE(ring.TryPushN(a + 5, 3));
  EXPECT_EQ(ring.size_approx(), 8u);
  EXPECT_FALSE(ring.TryPushN(a, 1));
  int out[8];
  EXPECT_EQ(ring.PopN(out, 8), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], i);
  // A batch larger than the ring never fits.
  int big[9] = {};
  EXPECT_FALSE(ring.TryPushN(big, 9));
}

TEST(SpscRingTest, PushNAndPopNAcrossTheWrap) {
  SpscRing<int> ring(8);
  const int a[6] = {10, 11, 12, 13, 14, 15};
  int out[8];
  ASSERT_TRUE(ring.TryPushN(a, 6));
  ASSERT_EQ(ring.PopN(out, 6), 6u);
  // head = tail = 6: the next 6 items occupy slots 6,7,0,1,2,3.
  ASSERT_TRUE(ring.TryPushN(a, 6));
  EXPECT_EQ(ring.PopN(out, 2), 2u);
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[1], 11);
  EXPECT_EQ(ring.PopN(out, 8), 4u);
  EXPECT_EQ(out[0], 12);
  EXPECT_EQ(out[3], 15);
  EXPECT_EQ(ring.PopN(out, 8), 0u);
}

TEST(SpscRingTest, PeekIsContiguousAndConsumeFrees) {
  SpscRing<int> ring(8);
  const int a[6] = {0, 1, 2, 3, 4, 5};
  int out[8];
  ASSERT_TRUE(ring.TryPushN(a, 6));
  ASSERT_EQ(ring.PopN(out, 6), 6u);
  ASSERT_TRUE(ring.TryPushN(a, 6));  // slots 6,7,0,1,2,3
  std::span<const int> s = ring.Peek();
  ASSERT_EQ(s.size(), 2u);  // stops at the physical end
  EXPECT_EQ(s[0], 0);
  EXPECT_EQ(s[1], 1);
  // Peek frees nothing.
  EXPECT_EQ(ring.size_approx(), 6u);
  EXPECT_EQ(ring.Peek(1).size(), 1u);
  ring.Consume(2);
  EXPECT_EQ(ring.size_approx(), 4u);
  s = ring.Peek();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s[3], 5);
  ring.Consume(1);
  s = ring.Peek();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], 3);
  ring.Consume(3);
  EXPECT_TRUE(ring.Peek().empty());
  // Freed slots are reusable.
  EXPECT_TRUE(ring.TryPushN(a, 6));
}

TEST(SpscRingTest, DrainVisitsInOrderAcrossTheWrap) {
  SpscRing<int> ring(4);
  const int a[4] = {0, 1, 2, 3};
  int out[4];
  ASSERT_TRUE(ring.TryPushN(a, 3));
  ASSERT_EQ(ring.PopN(out, 3), 3u);
  ASSERT_TRUE(ring.TryPushN(a, 4));  // slots 3,0,1,2
  std::vector<int> seen;
  EXPECT_EQ(ring.Drain([&](const int& v) { seen.push_back(v); }, 3), 3u);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(ring.Drain([&](const int& v) { seen.push_back(v); }), 1u);
  EXPECT_EQ(seen.back(), 3);
  EXPECT_EQ(ring.Drain([&](const int&) { FAIL(); }), 0u);
}

TEST(SpscRingTest, SlotsAreCacheLineAligned) {
  SpscRing<uint64_t> ring(16);
  ASSERT_TRUE(ring.TryPush(1));
  std::span<const uint64_t> s = ring.Peek();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(s.data()) % 64, 0u);
}

TEST(SpscRingDeathTest, CapacityMustBeAPowerOfTwo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(SpscRing<int> r(12), "XC_CHECK");
  EXPECT_DEATH(SpscRing<int> r(1), "XC_CHECK");
}

// One item of the stress test: its sequence number, a check word derived
// from it, and whether it ends a TryPushN batch.
struct Item {
  uint64_t seq;
  uint64_t check;
  uint32_t batch_end;
  uint32_t pad;
};
constexpr uint64_t Check(uint64_t seq) { return seq * 0x9e3779b97f4a7c15ULL ^ 0x5bd1e995ULL; }

// Two threads, tens of millions of sequenced items through a small ring (so
// it is constantly full or empty), every producer and consumer API mixed.
// Checks: order, no loss, no duplicate, no torn item, and batch atomicity
// (a consumer that takes everything available always stops at a batch end).
TEST(SpscRingTest, TwoThreadStressKeepsOrderAndLosesNothing) {
  const uint64_t n = SanitizerScale() ? 1'000'000 : 30'000'000;
  SpscRing<Item> ring(1024);

  std::thread producer([&] {
    std::mt19937_64 rng(42);
    Item batch[64];
    uint64_t seq = 0;
    while (seq < n) {
      const uint64_t r = rng();
      if ((r & 3) == 0) {
        const Item it{seq, Check(seq), 1, 0};
        while (!ring.TryPush(it)) std::this_thread::yield();
        ++seq;
      } else {
        const size_t k = std::min<uint64_t>(1 + (r >> 8) % 64, n - seq);
        for (size_t i = 0; i < k; ++i) {
          batch[i] = Item{seq + i, Check(seq + i), i + 1 == k ? 1u : 0u, 0};
        }
        while (!ring.TryPushN(batch, k)) std::this_thread::yield();
        seq += k;
      }
    }
  });

  uint64_t expect = 0;
  uint64_t errors = 0;
  uint64_t torn_batches = 0;
  std::vector<Item> out(2048);
  auto check = [&](const Item& it) {
    if (it.seq != expect || it.check != Check(it.seq)) ++errors;
    expect = it.seq + 1;
  };
  uint64_t round = 0;
  while (expect < n && errors == 0) {
    size_t got = 0;
    switch (round++ & 3) {
      case 0: {
        Item it;
        if (ring.TryPop(&it)) {
          check(it);
          got = 1;
        }
        break;
      }
      case 1: {
        // Takes everything available (out is larger than the ring), so the
        // last item must close a batch: tail only moves by whole batches.
        got = ring.PopN(out.data(), out.size());
        for (size_t i = 0; i < got; ++i) check(out[i]);
        if (got != 0 && out[got - 1].batch_end == 0) ++torn_batches;
        break;
      }
      case 2: {
        std::span<const Item> s = ring.Peek(100);
        for (const Item& it : s) check(it);
        ring.Consume(s.size());
        got = s.size();
        break;
      }
      case 3:
        got = ring.Drain(check, 300);
        break;
    }
    if (got == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(torn_batches, 0u);
  EXPECT_EQ(expect, n);
  Item it;
  EXPECT_FALSE(ring.TryPop(&it));
}

}  // namespace
}  // namespace xc::protocol
