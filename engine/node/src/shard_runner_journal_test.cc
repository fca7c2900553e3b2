// ShardRunner with a journal: output is held until the journal says the
// command is durable, and a journal failure stops the shard without losing
// anything already acknowledged.

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "testing/mem_journal_sink.h"
#include "xc/engine/journal_reader.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/journal_thread.h"
#include "xc/engine/node/shard_runner.h"

namespace xc::engine::node {
namespace {

using protocol::Command;
using protocol::Event;
using protocol::EventType;
using protocol::RejectCode;
using protocol::Seq;
using protocol::Side;
using testing::MemJournalSink;

bool SanitizerScale() {
  const char* s = std::getenv("XC_TEST_SCALE");
  if (s != nullptr && std::strcmp(s, "sanitizer") == 0) return true;
#ifdef XC_SANITIZER_BUILD
  return true;
#else
  return false;
#endif
}

std::vector<Command> MakeFlow(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Command> out;
  uint64_t id = 1;
  for (size_t i = 0; i < n; ++i) {
    Command c;
    if (id > 10 && rng() % 4 == 0) {
      c = Command::Cancel(0, 1 + rng() % (id - 1));
    } else {
      const Side side = rng() % 2 ? Side::kBuy : Side::kSell;
      c = Command::Limit(0, id++, 1 + rng() % 5, side,
                         1000 + static_cast<int64_t>(rng() % 21) - 10, 1 + rng() % 9);
    }
    c.ts = static_cast<int64_t>(i + 1);
    out.push_back(c);
  }
  return out;
}

ShardRunnerOptions Opts(JournalWriter* j) {
  ShardRunnerOptions o;
  o.input_capacity = 1 << 12;
  o.output_capacity = 1 << 14;
  o.journal = j;
  o.held_capacity = 1 << 12;
  return o;
}

JournalWriterOptions JOpts() {
  JournalWriterOptions o;
  o.ring_capacity = 1 << 10;
  o.max_batch_bytes = 64 << 10;
  return o;
}

std::vector<Event> Poll(ShardRunner& r) {
  std::vector<Event> out;
  r.PollEvents([&](const Event& e) { out.push_back(e); });
  return out;
}

TEST(ShardRunnerJournalTest, EventsAreHeldUntilTheCommandIsDurable) {
  MemJournalSink sink;
  sink.SetAsync(true);
  JournalWriter journal(&sink, 1, JOpts());
  ShardRunner runner(Opts(&journal));
  ASSERT_TRUE(runner.shard().AddSymbol(0, OrderBook::Options{}).ok());
  ASSERT_TRUE(runner.Submit(Command::Limit(0, 1, 7, Side::kBuy, 100, 5)));
  ASSERT_TRUE(runner.Submit(Command::Limit(0, 2, 8, Side::kSell, 100, 2)));
  EXPECT_EQ(runner.DoWork(), 2);  // matched...
  EXPECT_TRUE(Poll(runner).empty());  // ...but nothing is out
  EXPECT_GT(runner.held_events(), 0u);
  journal.DoWork();  // flush of 1..2 in flight
  runner.DoWork();
  EXPECT_TRUE(Poll(runner).empty());
  ASSERT_TRUE(runner.Submit(Command::Cancel(0, 1)));
  runner.DoWork();  // 3 applied while 1..2 are in flight
  sink.CompletePending();
  journal.DoWork();  // 1..2 durable; 3 goes out in the next flush
  EXPECT_EQ(journal.durable_seq(), 2u);
  runner.DoWork();
  std::vector<Event> ev = Poll(runner);
  ASSERT_FALSE(ev.empty());
  for (const Event& e : ev) EXPECT_LE(e.seq, 2u);
  EXPECT_EQ(ev.back().seq, 2u);
  EXPECT_TRUE(std::any_of(ev.begin(), ev.end(),
                          [](const Event& e) { return e.type == EventType::kTrade; }));
  sink.CompletePending();
  journal.DoWork();
  runner.DoWork();
  ev = Poll(runner);
  ASSERT_FALSE(ev.empty());
  for (const Event& e : ev) EXPECT_EQ(e.seq, 3u);
  EXPECT_EQ(runner.held_events(), 0u);
}

TEST(ShardRunnerJournalTest, SameOutputAsWithoutAJournalAndTheJournalReplaysIt) {
  const std::vector<Command> flow = MakeFlow(SanitizerScale() ? 2000 : 20000, 7);
  // Reference: no journal.
  ShardRunner plain(Opts(nullptr));
  ASSERT_TRUE(plain.shard().AddSymbol(0, OrderBook::Options{}).ok());
  std::vector<Event> want;
  for (const Command& c : flow) {
    while (!plain.Submit(c)) plain.DoWork();
    if (plain.input_depth() > 100) plain.DoWork();
    for (const Event& e : Poll(plain)) want.push_back(e);
  }
  while (plain.DoWork() != 0) {
  }
  for (const Event& e : Poll(plain)) want.push_back(e);

  MemJournalSink sink;
  JournalWriter journal(&sink, 1, JOpts());
  ShardRunner runner(Opts(&journal));
  ASSERT_TRUE(runner.shard().AddSymbol(0, OrderBook::Options{}).ok());
  std::vector<Event> got;
  auto step = [&] {
    runner.DoWork();
    journal.DoWork();
    for (const Event& e : Poll(runner)) {
      EXPECT_LE(e.seq, journal.durable_seq());
      got.push_back(e);
    }
  };
  for (const Command& c : flow) {
    while (!runner.Submit(c)) step();
    if (runner.input_depth() > 50) step();
  }
  for (int i = 0; i < 1000 && got.size() < want.size(); ++i) step();
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  EXPECT_EQ(runner.shard().StateHash(), plain.shard().StateHash());

  // Replaying the journal through a fresh shard gives the same state.
  ASSERT_TRUE(journal.Close().ok());
  Shard replayed;
  ASSERT_TRUE(replayed.AddSymbol(0, OrderBook::Options{}).ok());
  EventBuffer scratch;
  auto r = ReplayJournal(sink, JournalScanOptions{}, [&](Seq s, const Command& c) {
    replayed.Apply(c, scratch);
    scratch.clear();
    EXPECT_EQ(replayed.last_seq(), s);
    return absl::OkStatus();
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->last_seq, flow.size());
  EXPECT_EQ(replayed.StateHash(), plain.shard().StateHash());
}

TEST(ShardRunnerJournalTest, JournalFailureStopsTheShardAndKeepsDurableOutput) {
  MemJournalSink sink;
  sink.FailNthWrite(2, absl::ResourceExhaustedError("mem: No space left on device"));
  JournalWriter journal(&sink, 1, JOpts());
  ShardRunner runner(Opts(&journal));
  ASSERT_TRUE(runner.shard().AddSymbol(0, OrderBook::Options{}).ok());
  for (uint64_t i = 1; i <= 5; ++i) {
    ASSERT_TRUE(runner.Submit(Command::Limit(0, i, 1, Side::kBuy, 100 - int64_t(i), 1)));
  }
  runner.DoWork();
  journal.DoWork();  // write #1 (+ sync) of 1..5
  journal.DoWork();  // its completion: 1..5 durable
  EXPECT_EQ(journal.durable_seq(), 5u);
  for (uint64_t i = 6; i <= 10; ++i) {
    ASSERT_TRUE(runner.Submit(Command::Limit(0, i, 1, Side::kBuy, 100 - int64_t(i), 1)));
  }
  runner.DoWork();   // 6..10 applied, held
  journal.DoWork();  // write #2 ...
  journal.DoWork();  // ... fails  EXPECT_TRUE(journal.failed());
  for (uint64_t i = 11; i <= 13; ++i) {
    ASSERT_TRUE(runner.Submit(Command::Limit(0, i, 1, Side::kBuy, 90, 1)));  // queued before it notices
  }
  runner.DoWork();
  EXPECT_TRUE(runner.stopped());
  EXPECT_FALSE(runner.Submit(Command::Limit(0, 99, 1, Side::kBuy, 90, 1)));
  EXPECT_EQ(runner.journal_status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(runner.journal_status().message().find("No space left on device"), std::string::npos);

  const std::vector<Event> ev = Poll(runner);
  size_t durable_events = 0, stopped_rejects = 0;
  for (const Event& e : ev) {
    if (e.type == EventType::kRejected && e.code == int16_t(RejectCode::kShardStopped)) {
      EXPECT_EQ(e.seq, 0u);
      EXPECT_GE(e.order_id, 11u);
      ++stopped_rejects;
    } else {
      EXPECT_LE(e.seq, 5u) << "output of a non-durable command escaped";
      ++durable_events;
    }
  }
  EXPECT_GT(durable_events, 0u);
  EXPECT_EQ(stopped_rejects, 3u);
  EXPECT_EQ(runner.shard().last_seq(), 10u);  // 11.. were never applied
  // What a restart finds: exactly the durable prefix.
  sink.SimulateCrash();
  auto r = ScanJournal(sink, JournalScanOptions{},
                       [](const std::string&, const JournalRecord&) { return absl::OkStatus(); });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->last_seq, 5u);
}

TEST(ShardRunnerJournalTest, ThreadedRunnerAndJournalThread) {
  const std::vector<Command> flow = MakeFlow(SanitizerScale() ? 3000 : 30000, 11);
  MemJournalSink sink;
  JournalWriter journal(&sink, 1, JOpts());
  ShardRunnerOptions o = Opts(&journal);
  o.wait = WaitStrategy::kBlock;
  ShardRunner runner(o);
  ASSERT_TRUE(runner.shard().AddSymbol(0, OrderBook::Options{}).ok());
  JournalWriterThread jt(&journal);
  ASSERT_TRUE(jt.Start().ok());
  ASSERT_TRUE(runner.Start().ok());
  std::vector<Event> got;
  auto poll = [&] {
    const Seq durable_before = journal.durable_seq();
    (void)durable_before;
    runner.PollEvents([&](const Event& e) {
      // durable_seq only grows, so reading it after the event is valid.
      EXPECT_LE(e.seq, journal.durable_seq());
      got.push_back(e);
    });
  };
  for (const Command& c : flow) {
    while (!runner.Submit(c)) poll();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((got.empty() || got.back().seq < flow.size()) &&
         std::chrono::steady_clock::now() < deadline) {
    poll();
    std::this_thread::yield();
  }
  runner.Stop();
  poll();
  jt.Stop();
  ASSERT_TRUE(journal.Close().ok());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().seq, flow.size());
  EXPECT_EQ(runner.shard().last_seq(), flow.size());
  EXPECT_LT(journal.counters().syncs, flow.size());
}

}  // namespace
// The exchange's wiring: every agent sleeps on a doorbell instead of polling
// (runner -> journal thread after appends, journal thread -> runner when
// durable, runner -> consumer after publishing). Bursts with pauses make
// each of them fall asleep many times; a lost wake-up would hang the test.
TEST(ShardRunnerJournalTest, DoorbellsBetweenAllAgentsLoseNoWakeUp) {
  const std::vector<Command> flow = MakeFlow(SanitizerScale() ? 2000 : 20000, 12);
  MemJournalSink sink;
  JournalWriter journal(&sink, 1, JOpts());
  JournalWriterThread jt(&journal);
  Doorbell consumer;
  ShardRunnerOptions o = Opts(&journal);
  o.wait = WaitStrategy::kBlock;
  o.journal_bell = jt.EnableDoorbell();
  o.events_bell = &consumer;
  o.durable_rings_doorbell = true;
  ShardRunner runner(o);
  jt.NotifyOnDurable(runner.doorbell());
  ASSERT_TRUE(runner.shard().AddSymbol(0, OrderBook::Options{}).ok());
  ASSERT_TRUE(jt.Start().ok());
  ASSERT_TRUE(runner.Start().ok());
  std::vector<Event> got;
  std::thread producer([&] {
    for (size_t i = 0; i < flow.size(); ++i) {
      while (!runner.Submit(flow[i])) std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (i % 256 == 255) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  while (got.empty() || got.back().seq < flow.size()) {
    const size_t n = runner.PollEvents([&](const Event& e) {
      EXPECT_LE(e.seq, journal.durable_seq());
      got.push_back(e);
    });
    if (n == 0) consumer.Sleep([&] { return runner.HasEvents(); });
  }
  producer.join();
  runner.Stop();
  jt.Stop();
  ASSERT_TRUE(journal.Close().ok());
  EXPECT_EQ(got.back().seq, flow.size());
  EXPECT_GT(runner.counters().sleeps, 0u) << "the runner never slept: nothing was tested";
  EXPECT_GT(consumer.sleeps(), 0u);
}

// Under policy "none" a steady stream (one command a millisecond) is written
// on the gather's timer alone: the journal thread sleeps on the producer's
// doorbell only after a whole gather without a command, not after every
// write, so the producer's rings (on the order's path) rarely wake it. The
// previous loop slept on the doorbell after each write: 101 times here.
TEST(ShardRunnerJournalTest, UnderNoneASteadyStreamWakesTheJournalOnItsTimer) {
  MemJournalSink sink;
  JournalWriterOptions jo = JOpts();
  jo.policy.mode = DurabilityPolicy::Mode::kNone;
  JournalWriter journal(&sink, 1, jo);
  JournalWriterThread jt(&journal);
  Doorbell* bell = jt.EnableDoorbell();
  ASSERT_TRUE(jt.Start().ok());
  constexpr Seq kCommands = 200;
  for (Seq seq = 1; seq <= kCommands; ++seq) {
    Command c = Command::Limit(0, seq, 1, Side::kBuy, 1000, 1);
    c.ts = static_cast<int64_t>(seq);
    ASSERT_TRUE(journal.TryAppend(seq, c));
    bell->Ring();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (journal.durable_seq() < kCommands && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(journal.durable_seq(), kCommands) << "written without a Close";
  jt.Stop();
  ASSERT_TRUE(journal.Close().ok());
  EXPECT_GE(bell->sleeps(), 1u);  // it did wait for the first command
  EXPECT_LE(bell->sleeps(), kCommands / 10);
}

}  // namespace xc::engine::node
