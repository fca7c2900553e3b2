#include "xc/engine/node/shard_runner.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "xc/engine/node/cpu_affinity.h"
#include "xc/engine/node/wait_strategy.h"
#include "xc/engine/shard.h"

namespace xc::engine::node {
namespace {

using protocol::Command;
using protocol::Event;
using protocol::OrderId;
using protocol::Side;
using protocol::SymbolId;
using protocol::TimeInForce;

bool SanitizerScale() {
  const char* s = std::getenv("XC_TEST_SCALE");
  if (s != nullptr && std::strcmp(s, "sanitizer") == 0) return true;
#ifdef XC_SANITIZER_BUILD
  return true;
#else
  return false;
#endif
}

// Deterministic order flow over two symbols: passive adds, IOC and GTC
// crossing orders, market orders, cancels, amends and rare mass cancels.
class Flow {
 public:
  explicit Flow(uint64_t seed) : rng_(seed) {}

  Command Next() {
    const SymbolId sym = static_cast<SymbolId>(rng_() % 2);
    const Side side = (rng_() & 1) != 0 ? Side::kBuy : Side::kSell;
    const bool buy = side == Side::kBuy;
    const uint64_t user = 1 + rng_() % 8;
    const int64_t mid = 10'000 + static_cast<int64_t>(rng_() % 7) - 3;
    const int64_t qty = 1 + static_cast<int64_t>(rng_() % 50);
    const uint64_t r = rng_() % 1000;
    Command c;
    if (r < 450) {
      const int64_t off = 1 + static_cast<int64_t>(rng_() % 20);
      c = Command::Limit(sym, next_id_, user, side, buy ? mid - off : mid + off, qty);
      Remember(next_id_++);
    } else if (r < 550) {
      const int64_t off = static_cast<int64_t>(rng_() % 5);
      c = Command::Limit(sym, next_id_++, user, side, buy ? mid + off : mid - off, qty,
                         TimeInForce::kIoc);
    } else if (r < 620) {
      const int64_t off = static_cast<int64_t>(rng_() % 5);
      c = Command::Limit(sym, next_id_, user, side, buy ? mid + off : mid - off, qty);
      Remember(next_id_++);
    } else if (r < 640) {
      c = Command::Market(sym, next_id_++, user, side, qty);
    } else if (r < 890) {
      c = Command::Cancel(sym, Pick());
    } else if (r < 998) {
      const int64_t off = 1 + static_cast<int64_t>(rng_() % 20);
      c = Command::Amend(sym, Pick(), (rng_() & 1) != 0 ? mid - off : mid + off, qty);
    } else {
      c = Command::MassCancel(sym, user);
    }
    c.ts = ++ts_;
    return c;
  }

 private:
  void Remember(OrderId id) { recent_[recent_n_++ % recent_.size()] = id; }
  OrderId Pick() {
    const size_t n = std::min<size_t>(recent_n_, recent_.size());
    return n == 0 ? 1 : recent_[rng_() % n];
  }

  std::mt19937_64 rng_;
  OrderId next_id_ = 1;
  int64_t ts_ = 0;
  std::vector<OrderId> recent_ = std::vector<OrderId>(1024);
  size_t recent_n_ = 0;
};

void AddBooks(Shard& shard) {
  OrderBook::Options o;
  o.max_orders = 1u << 16;
  o.max_levels = 1u << 12;
  ASSERT_TRUE(shard.AddSymbol(0, o).ok());
  ASSERT_TRUE(shard.AddSymbol(1, o).ok());
}

std::vector<Command> MakeCommands(uint64_t seed, size_t n) {
  Flow flow(seed);
  std::vector<Command> cmds(n);
  for (Command& c : cmds) c = flow.Next();
  return cmds;
}

// The reference: the same commands through a plain Shard, in invoker mode.
struct Reference {
  std::vector<Event> events;
  uint64_t state_hash = 0;
};
Reference RunReference(const std::vector<Command>& cmds) {
  Shard shard;
  AddBooks(shard);
  EventBuffer buf;
  Reference ref;
  for (const Command& c : cmds) {
    buf.clear();
    shard.Apply(c, buf);
    ref.events.insert(ref.events.end(), buf.begin(), buf.end());
  }
  ref.state_hash = shard.StateHash();
  return ref;
}

// Compares streams and reports the first difference (not 10^6 failures).
void ExpectSameEvents(const std::vector<Event>& got, const std::vector<Event>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i] == want[i])
        << "first difference at event " << i << " (seq " << want[i].seq << ")";
  }
}

// Bounded wait for a condition another thread makes true; never a bare sleep.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(WaitStrategyTest, ParsesNamesAndRejectsOthers) {
  for (WaitStrategy w : {WaitStrategy::kSpin, WaitStrategy::kYield, WaitStrategy::kBlock}) {
    absl::StatusOr<WaitStrategy> p = ParseWaitStrategy(WaitStrategyName(w));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, w);
  }
  EXPECT_EQ(ParseWaitStrategy("busy").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseWaitStrategy("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseWaitStrategy("Spin").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DoorbellTest, RingWakesASleeper) {
  Doorbell bell;
  std::atomic<bool> work{false};
  std::atomic<bool> woke{false};
  std::thread consumer([&] {
    while (!work.load()) bell.Sleep([&] { return work.load(); });
    woke.store(true);
  });
  // The consumer may or may not be asleep yet; either way it must wake.
  ASSERT_TRUE(WaitFor([&] { return bell.sleeps() > 0; }));
  work.store(true);
  bell.Ring();
  consumer.join();
  EXPECT_TRUE(woke.load());
}

TEST(CpuAffinityTest, AllowedCpusMatchesSchedGetaffinity) {
  absl::StatusOr<std::vector<int>> cpus = AllowedCpus();
  ASSERT_TRUE(cpus.ok()) << cpus.status();
  ASSERT_FALSE(cpus->empty());
  EXPECT_TRUE(std::is_sorted(cpus->begin(), cpus->end()));
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(static_cast<int>(cpus->size()), CPU_COUNT(&set));
  for (int c : *cpus) EXPECT_TRUE(CPU_ISSET(c, &set)) << c;
}

TEST(CpuAffinityTest, PinningLandsOnEachAllowedCpu) {
  absl::StatusOr<std::vector<int>> cpus = AllowedCpus();
  ASSERT_TRUE(cpus.ok());
  for (int cpu : *cpus) {
    absl::Status st;
    int seen = -2;
    std::vector<int> after;
    std::thread t([&] {
      st = PinCurrentThread(cpu);
      seen = CurrentCpu();
      absl::StatusOr<std::vector<int>> a = AllowedCpus();
      if (a.ok()) after = *a;
    });
    t.join();
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(seen, cpu);
    EXPECT_EQ(after, std::vector<int>{cpu});
  }
}

TEST(CpuAffinityTest, PinningOutsideTheAllowedSetFails) {
  absl::StatusOr<std::vector<int>> cpus = AllowedCpus();
  ASSERT_TRUE(cpus.ok());
  std::thread t([&] {
    EXPECT_EQ(PinCurrentThread(-1).code(), absl::StatusCode::kInvalidArgument);
    // CPU_SETSIZE-1 is beyond any test machine's cpuset here unless allowed.
    const int far = CPU_SETSIZE - 1;
    if (!std::binary_search(cpus->begin(), cpus->end(), far)) {
      EXPECT_EQ(PinCurrentThread(far).code(), absl::StatusCode::kInvalidArgument);
    }
  });
  t.join();
}

TEST(ShardRunnerTest, StartRejectsACpuOutsideTheAllowedSet) {
  absl::StatusOr<std::vector<int>> cpus = AllowedCpus();
  ASSERT_TRUE(cpus.ok());
  ShardRunner::Options o;
  o.cpu = cpus->back() + 1;
  ShardRunner runner(o);
  EXPECT_EQ(runner.Start().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(runner.running());
  EXPECT_EQ(runner.cpu(), -1);
}

TEST(ShardRunnerTest, InvokerModeMatchesPlainShard) {
  const std::vector<Command> cmds = MakeCommands(7, 20'000);
  const Reference ref = RunReference(cmds);

  ShardRunner::Options o;
  o.input_capacity = 1024;
  o.batch = 64;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  std::vector<Event> got;
  size_t next = 0;
  while (next < cmds.size() || runner.input_depth() != 0) {
    while (next < cmds.size() && runner.Submit(cmds[next])) ++next;
    runner.DoWork();
    runner.PollEvents([&](const Event& e) { got.push_back(e); });
  }
  EXPECT_EQ(runner.DoWork(), 0);
  runner.PollEvents([&](const Event& e) { got.push_back(e); });
  ExpectSameEvents(got, ref.events);
  EXPECT_EQ(runner.shard().StateHash(), ref.state_hash);
  const ShardRunnerCounters c = runner.counters();
  EXPECT_EQ(c.commands_applied, cmds.size());
  EXPECT_EQ(c.last_seq, cmds.size());
  EXPECT_EQ(c.events_published, ref.events.size());
  EXPECT_EQ(c.input_depth, 0u);
  EXPECT_GT(c.busy_cycles, 0u);
  EXPECT_GT(c.idle_cycles, 0u);
  EXPECT_EQ(c.oversized_groups, 0u);
}

// A tiny output ring: the runner must hold back (never drop, never split)
// events when the consumer lags, and resume where it stopped.
TEST(ShardRunnerTest, BackpressureHoldsEventsAndStopsApplying) {
  const std::vector<Command> cmds = MakeCommands(11, 3'000);
  const Reference ref = RunReference(cmds);

  ShardRunner::Options o;
  o.input_capacity = 4096;
  o.output_capacity = 64;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  ASSERT_TRUE(runner.SubmitN(cmds.data(), cmds.size()));
  // Without polling, the runner fills the output ring and then stops applying.
  for (int i = 0; i < 10; ++i) runner.DoWork();
  EXPECT_LT(runner.commands_applied(), cmds.size());
  EXPECT_LE(runner.events_published(), 64u);
  EXPECT_EQ(runner.DoWork(), 0);
  EXPECT_GT(runner.counters().backpressure_cycles, 0u);

  std::vector<Event> got;
  Event buf[16];
  for (int i = 0; i < 1'000'000 && got.size() < ref.events.size(); ++i) {
    runner.DoWork();
    // Small polls: the consumer is slower than the shard.
    const size_t n = runner.PollEvents(buf, 16);
    got.insert(got.end(), buf, buf + n);
  }
  EXPECT_EQ(runner.commands_applied(), cmds.size());
  ExpectSameEvents(got, ref.events);
  EXPECT_EQ(runner.shard().StateHash(), ref.state_hash);
}

// A group larger than the whole output ring cannot be atomic; it still goes
// out complete and in order, and the counter says so.
TEST(ShardRunnerTest, OversizedGroupIsPublishedInOrderAndCounted) {
  std::vector<Command> cmds;
  for (OrderId id = 1; id <= 40; ++id) {
    cmds.push_back(Command::Limit(0, id, 5, Side::kBuy, 9'000 - static_cast<int64_t>(id), 1));
  }
  cmds.push_back(Command::MassCancel(0, 5));  // 40 Cancelled + 40 LevelChanged
  const Reference ref = RunReference(cmds);
  ASSERT_GT(ref.events.size(), 80u);

  ShardRunner::Options o;
  o.output_capacity = 16;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  ASSERT_TRUE(runner.SubmitN(cmds.data(), cmds.size()));
  std::vector<Event> got;
  for (int i = 0; i < 10'000 && got.size() < ref.events.size(); ++i) {
    runner.DoWork();
    runner.PollEvents([&](const Event& e) { got.push_back(e); });
  }
  ExpectSameEvents(got, ref.events);
  EXPECT_EQ(runner.counters().oversized_groups, 1u);
}

// A blocking runner whose output ring fills sleeps (it has pending events
// and no room); only the consumer's polls can wake it, and it rings only
// then (not after every poll: that would wake an idle runner for nothing).
// A lost wake-up hangs this test.
TEST(ShardRunnerTest, BlockedRunnerIsWokenByTheConsumerAndOnlyThen) {
  const std::vector<Command> cmds = MakeCommands(5, 3'000);
  const Reference ref = RunReference(cmds);
  ShardRunner::Options o;
  o.wait = WaitStrategy::kBlock;
  o.input_capacity = 4096;
  o.output_capacity = 64;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  ASSERT_TRUE(runner.Start().ok());
  ASSERT_TRUE(runner.SubmitN(cmds.data(), cmds.size()));
  std::vector<Event> got;
  Event buf[8];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (got.size() < ref.events.size()) {
    // A slow consumer: the runner is blocked on a full ring most of the time.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    const size_t n = runner.PollEvents(buf, 8);
    got.insert(got.end(), buf, buf + n);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "runner never woke";
  }
  ExpectSameEvents(got, ref.events);
  EXPECT_GT(runner.counters().backpressure_cycles, 0u);
  // A few more commands whose events fit: the runner publishes them and
  // sleeps for want of input; taking those events must not wake it.
  std::vector<Command> more;
  for (OrderId id = 900'001; id <= 900'004; ++id) {
    more.push_back(Command::Limit(0, id, 7, Side::kBuy, 10 + static_cast<int64_t>(id % 10), 1));
  }
  const uint64_t published = runner.events_published();
  ASSERT_TRUE(runner.SubmitN(more.data(), more.size()));
  ASSERT_TRUE(WaitFor([&] {
    return runner.commands_applied() == cmds.size() + more.size() &&
           runner.events_published() > published && runner.counters().sleeping;
  }));
  const uint64_t sleeps = runner.counters().sleeps;
  size_t taken = 0;
  while (size_t n = runner.PollEvents(buf, 1)) taken += n;
  EXPECT_GT(taken, 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(runner.counters().sleeps, sleeps);
  runner.Stop();
}

// Run to completion: producers that apply their own commands (Drive) while
// the runner thread is there too. The agent role passes between them; the
// result must be the plain shard's, and nothing may be left unapplied
// (a producer whose Drive found the role taken relies on the holder).
TEST(ShardRunnerTest, ProducersDrivingThemselvesGiveThePlainShardsResult) {
  const size_t n = SanitizerScale() ? 20'000 : 200'000;
  const std::vector<Command> cmds = MakeCommands(77, n);
  const Reference ref = RunReference(cmds);
  ShardRunner::Options o;
  o.wait = WaitStrategy::kBlock;
  o.input_capacity = 1024;
  o.output_capacity = 1u << 12;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  ASSERT_TRUE(runner.Start().ok());
  std::mutex submit_mu;  // the producer role: one Submit at a time
  size_t next = 0;       // guarded by submit_mu
  std::atomic<int> drove{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 3; ++t) {
    producers.emplace_back([&] {
      for (;;) {
        {
          std::lock_guard<std::mutex> l(submit_mu);
          if (next == cmds.size()) return;
          if (!runner.SubmitQuiet(cmds[next])) {
            runner.doorbell()->Ring();  // full: the engine is behind
            continue;
          }
          ++next;
        }
        if (runner.Drive() != 0) drove.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::vector<Event> got;
  got.reserve(ref.events.size());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (got.size() < ref.events.size()) {
    if (runner.PollEvents([&](const Event& e) { got.push_back(e); }) == 0) {
      std::this_thread::yield();
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "commands left unapplied";
  }
  for (auto& p : producers) p.join();
  runner.Stop();
  ExpectSameEvents(got, ref.events);
  EXPECT_EQ(runner.shard().StateHash(), ref.state_hash);
  EXPECT_EQ(runner.commands_applied(), n);
  EXPECT_GT(drove.load(), 0);
}

class ShardRunnerThreadedTest : public ::testing::TestWithParam<WaitStrategy> {};

// The runner thread, pinned to an allowed core, must produce exactly the
// events and state of a plain Shard fed the same commands.
TEST_P(ShardRunnerThreadedTest, SameEventsAndStateAsPlainShard) {
  const size_t n = SanitizerScale() ? 20'000 : 300'000;
  const std::vector<Command> cmds = MakeCommands(1234, n);
  const Reference ref = RunReference(cmds);

  absl::StatusOr<std::vector<int>> cpus = AllowedCpus();
  ASSERT_TRUE(cpus.ok());
  ShardRunner::Options o;
  o.wait = GetParam();
  o.cpu = cpus->back();
  o.input_capacity = 4096;
  o.output_capacity = 1u << 14;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  ASSERT_TRUE(runner.Start().ok());
  EXPECT_TRUE(runner.running());
  EXPECT_EQ(runner.cpu(), cpus->back());

  // One thread is both producer and consumer here; the roles are separate
  // rings, so interleaving them is fine and keeps the test free of sleeps.
  std::vector<Event> got;
  got.reserve(ref.events.size());
  size_t next = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (next < cmds.size()) {
    size_t k = 0;
    while (next < cmds.size() && k < 512 && runner.Submit(cmds[next])) ++next, ++k;
    const size_t polled = runner.PollEvents([&](const Event& e) { got.push_back(e); });
    if (k == 0 && polled == 0) std::this_thread::yield();
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "runner made no progress";
  }
  ASSERT_TRUE(WaitFor([&] {
    runner.PollEvents([&](const Event& e) { got.push_back(e); });
    return got.size() >= ref.events.size();
  }));
  runner.Stop();
  runner.PollEvents([&](const Event& e) { got.push_back(e); });
  EXPECT_FALSE(runner.running());

  ExpectSameEvents(got, ref.events);
  EXPECT_EQ(runner.shard().StateHash(), ref.state_hash);
  const ShardRunnerCounters c = runner.counters();
  EXPECT_EQ(c.commands_applied, n);
  EXPECT_EQ(c.last_seq, n);
  EXPECT_EQ(c.events_published, ref.events.size());
  EXPECT_EQ(c.input_depth, 0u);
  EXPECT_GT(c.busy_cycles, 0u);
}

// Stop() returns only after every command submitted before it is applied and
// its events are published, whatever the runner was doing (even asleep).
TEST_P(ShardRunnerThreadedTest, StopDrainsTheInput) {
  const std::vector<Command> cmds = MakeCommands(99, 3'000);
  const Reference ref = RunReference(cmds);

  ShardRunner::Options o;
  o.wait = GetParam();
  o.input_capacity = 4096;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  ASSERT_TRUE(runner.Start().ok());
  if (GetParam() == WaitStrategy::kBlock) {
    // Let it fall asleep first, so Stop has to wake it.
    ASSERT_TRUE(WaitFor([&] { return runner.counters().sleeps > 0; }));
  }
  ASSERT_TRUE(runner.SubmitN(cmds.data(), cmds.size()));
  runner.Stop();
  EXPECT_EQ(runner.commands_applied(), cmds.size());
  EXPECT_EQ(runner.input_depth(), 0u);
  std::vector<Event> got;
  runner.PollEvents([&](const Event& e) { got.push_back(e); });
  ExpectSameEvents(got, ref.events);
  EXPECT_EQ(runner.shard().StateHash(), ref.state_hash);
}

// With kBlock the runner sleeps when idle and a single Submit wakes it.
TEST(ShardRunnerBlockTest, SleepsWhenIdleAndSubmitWakesIt) {
  ShardRunner::Options o;
  o.wait = WaitStrategy::kBlock;
  ShardRunner runner(o);
  AddBooks(runner.shard());
  ASSERT_TRUE(runner.Start().ok());
  for (int round = 0; round < 20; ++round) {
    // Idle again after the previous round: it announces sleep, then sleeps.
    ASSERT_TRUE(WaitFor([&] { return runner.counters().sleeping; }));
    ASSERT_TRUE(WaitFor([&] { return runner.counters().sleeps > 0; }));
    ASSERT_TRUE(runner.Submit(Command::Limit(0, 1'000 + round, 1, Side::kBuy, 100, 1)));
    size_t events = 0;
    ASSERT_TRUE(WaitFor([&] {
      events += runner.PollEvents([](const Event&) {});
      return events > 0 && runner.commands_applied() == static_cast<uint64_t>(round + 1);
    }));
  }
  runner.Stop();
}

INSTANTIATE_TEST_SUITE_P(AllStrategies, ShardRunnerThreadedTest,
                         ::testing::Values(WaitStrategy::kSpin, WaitStrategy::kYield,
                                           WaitStrategy::kBlock),
                         [](const ::testing::TestParamInfo<WaitStrategy>& info) {
                           return std::string(WaitStrategyName(info.param));
                         });

}  // namespace
}  // namespace xc::engine::node
