// ShardRunner with snapshots: the shard thread serializes, the writer thread
// saves once the journal is durable, and snapshot + journal recover the same
// state as an uninterrupted run.

#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "testing/command_flow.h"
#include "testing/mem_journal_sink.h"
#include "testing/mem_snapshot_store.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/journal_thread.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/engine/node/snapshot_writer.h"
#include "xc/engine/snapshot_recovery.h"

namespace xc::engine::node {
namespace {

using protocol::Command;
using protocol::Event;
using protocol::Seq;
using testing::FlowCommand;
using testing::MemJournalSink;
using testing::MemSnapshotStore;

constexpr testing::FlowSpec kFlow{/*seed=*/11, /*symbols=*/3, 1u << 14, 1u << 10};
constexpr uint64_t kSeed = kFlow.seed;
constexpr uint32_t kSymbols = kFlow.symbols;

void AddSymbols(Shard* shard) { testing::AddFlowSymbols(shard, kFlow); }
uint64_t ReferenceHash(Seq n) { return testing::FlowReferenceHash(kFlow, n); }

// Submits commands [from, to) and polls until all their events are out
// (every command of the flow has at least one event).
void Feed(ShardRunner& r, Seq from, Seq to) {
  Seq next = from, seen = 0;
  while (seen < to) {
    if (next < to && r.Submit(FlowCommand(kSeed, next, kSymbols))) ++next;
    r.PollEvents([&](const Event& e) { seen = std::max<Seq>(seen, e.seq); }, 4096);
  }
}

struct Rig {
  MemJournalSink sink;
  MemSnapshotStore store;
  std::unique_ptr<JournalWriter> journal;
  std::unique_ptr<JournalWriterThread> journal_thread;
  std::unique_ptr<SnapshotWriterThread> snaps;
  std::unique_ptr<ShardRunner> runner;

  void Start(uint64_t every) {
    JournalWriterOptions jo;
    jo.ring_capacity = 1 << 12;
    jo.max_batch_bytes = 64 << 10;
    jo.segment_bytes = 256 << 10;
    journal = std::make_unique<JournalWriter>(&sink, 1, jo);
    journal_thread = std::make_unique<JournalWriterThread>(journal.get());
    SnapshotWriterOptions so;
    so.store = &store;
    so.journal = journal.get();
    snaps = std::make_unique<SnapshotWriterThread>(so);
    ShardRunnerOptions ro;
    ro.input_capacity = 1 << 12;
    ro.output_capacity = 1 << 14;
    ro.held_capacity = 1 << 14;
    ro.journal = journal.get();
    ro.snapshot_writer = snaps.get();
    ro.snapshot_every_n_commands = every;
    ro.wait = WaitStrategy::kYield;
    runner = std::make_unique<ShardRunner>(ro);
    AddSymbols(&runner->shard());
    ASSERT_TRUE(journal_thread->Start().ok());
    ASSERT_TRUE(snaps->Start().ok());
    ASSERT_TRUE(runner->Start().ok());
  }
  void Stop() {
    runner->Stop();
    snaps->Stop();
    journal_thread->Stop();
    ASSERT_TRUE(journal->Close().ok());
  }
};

TEST(ShardRunnerSnapshotTest, PeriodicSnapshotsRecoverTheSameState) {
  Rig rig;
  rig.Start(/*every=*/2'000);
  Feed(*rig.runner, 0, 15'000);
  rig.Stop();
  const ShardRunnerCounters c = rig.runner->counters();
  EXPECT_GE(c.snapshots_taken, 3u);
  EXPECT_GT(c.snapshot_last_pause_ns, 0u);
  EXPECT_GE(c.snapshot_max_pause_ns, c.snapshot_last_pause_ns);
  const SnapshotWriterCounters w = rig.snaps->counters();
  EXPECT_EQ(w.saved + w.dropped, c.snapshots_taken);
  EXPECT_EQ(w.failed, 0u);
  EXPECT_EQ(w.last_saved_seq, c.snapshot_last_seq);
  auto list = rig.store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_FALSE(list->empty());

  Shard shard;
  AddSymbols(&shard);
  RecoveryOptions o;
  o.scan.log_warnings = false;
  auto r = RecoverShard(&rig.store, rig.sink, &shard, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->snapshot_seq, list->back().seq);
  EXPECT_EQ(r->last_seq, 15'000u);
  EXPECT_EQ(shard.StateHash(), ReferenceHash(15'000));
  EXPECT_EQ(shard.StateHash(), rig.runner->shard().StateHash());
}

TEST(ShardRunnerSnapshotTest, SnapshotWaitsForTheJournal) {
  Rig rig;
  rig.sink.SetAsync(true);  // flushes stay in flight until CompletePending
  rig.Start(/*every=*/0);
  for (Seq i = 0; i < 10; ++i) ASSERT_TRUE(rig.runner->Submit(FlowCommand(kSeed, i, kSymbols)));
  while (rig.runner->last_seq() < 10) std::this_thread::yield();
  rig.runner->RequestSnapshot();
  while (rig.runner->counters().snapshots_taken < 1) std::this_thread::yield();
  EXPECT_EQ(rig.runner->counters().snapshot_last_seq, 10u);
  // Matching ran ahead; nothing is durable yet, so nothing may be saved.
  EXPECT_LT(rig.journal->durable_seq(), 10u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(rig.store.saves(), 0u);
  EXPECT_FALSE(rig.snaps->idle());
  // Let the journal complete: the snapshot follows.
  rig.sink.SetAsync(false);
  rig.sink.CompletePending();
  rig.snaps->WaitIdle();
  EXPECT_EQ(rig.store.saves(), 1u);
  EXPECT_GE(rig.journal->durable_seq(), 10u);
  auto list = rig.store.List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].seq, 10u);
  rig.Stop();
}

TEST(ShardRunnerSnapshotTest, FailedSaveIsCountedAndTheShardGoesOn) {
  Rig rig;
  rig.store.FailNextSave(absl::ResourceExhaustedError("injected ENOSPC"));
  rig.Start(/*every=*/1'000);
  Feed(*rig.runner, 0, 5'000);
  rig.Stop();
  const SnapshotWriterCounters w = rig.snaps->counters();
  EXPECT_EQ(w.failed, 1u);
  EXPECT_EQ(rig.snaps->last_error().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_GE(w.saved, 1u);
  EXPECT_EQ(rig.runner->last_seq(), 5'000u);
}

}  // namespace
}  // namespace xc::engine::node
