#include "xc/engine/snapshot_recovery.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/command_flow.h"
#include "testing/mem_journal_sink.h"
#include "testing/mem_snapshot_store.h"
#include "xc/engine/journal_format.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/shard.h"

namespace xc::engine {
namespace {

using protocol::Seq;
using testing::FlowCommand;
using testing::MemJournalSink;
using testing::MemSnapshotStore;

constexpr testing::FlowSpec kFlow{/*seed=*/42, /*symbols=*/4, 1u << 15, 1u << 10};
constexpr uint64_t kSeed = kFlow.seed;
constexpr uint32_t kSymbols = kFlow.symbols;

void AddSymbols(Shard* shard) { testing::AddFlowSymbols(shard, kFlow); }
// Hash of an uninterrupted run over commands 1..n.
uint64_t ReferenceHash(Seq n) { return testing::FlowReferenceHash(kFlow, n); }

// A segment file holding commands [from, to] of the flow.
std::string Segment(Seq from, Seq to) {
  std::string out(kJournalSegmentHeaderRecordSize, '\0');
  JournalSegmentHeader h;
  h.first_seq = from;
  EncodeJournalRecord(JournalRecordType::kSegmentHeader, from, &h, sizeof(h), out.data());
  for (Seq s = from; s <= to; ++s) {
    const size_t at = out.size();
    out.resize(at + kJournalCommandRecordSize);
    EncodeCommandRecord(s, FlowCommand(kSeed, s - 1, kSymbols), out.data() + at);
  }
  return out;
}

// The image of a shard after commands 1..n.
std::string Image(Seq n) {
  Shard shard;
  AddSymbols(&shard);
  EventBuffer ev(4096);
  for (Seq i = 0; i < n; ++i) {
    ev.clear();
    shard.Apply(FlowCommand(kSeed, i, kSymbols), ev);
  }
  std::string img;
  shard.SaveTo(&img);
  return img;
}

// Runs the flow through a shard and a real JournalWriter (invoker mode,
// small segments), saving a snapshot every `every` commands.
void RunJournaled(MemJournalSink* sink, MemSnapshotStore* store, Seq n, Seq every) {
  Shard shard;
  AddSymbols(&shard);
  JournalWriterOptions wo;
  wo.segment_bytes = 64 << 10;
  wo.max_batch_bytes = 16 << 10;
  wo.ring_capacity = 1024;
  JournalWriter w(sink, 1, wo);
  EventBuffer ev(4096);
  std::string img;
  for (Seq i = 0; i < n; ++i) {
    ev.clear();
    shard.Apply(FlowCommand(kSeed, i, kSymbols), ev);
    while (!w.TryAppend(shard.last_seq(), FlowCommand(kSeed, i, kSymbols))) w.DoWork();
    if (shard.last_seq() % every == 0) {
      img.clear();
      shard.SaveTo(&img);
      ASSERT_TRUE(store->Save(shard.last_seq(), img).ok());
    }
  }
  ASSERT_TRUE(w.Close().ok());
}

RecoveryOptions Quiet() {
  RecoveryOptions o;
  o.scan.log_warnings = false;
  return o;
}

TEST(SnapshotRecoveryTest, SnapshotPlusJournalEqualsUninterruptedRun) {
  MemJournalSink sink;
  MemSnapshotStore store;
  RunJournaled(&sink, &store, 20'000, 7'000);
  Shard shard;
  AddSymbols(&shard);
  auto r = RecoverShard(&store, sink, &shard, Quiet());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->snapshot_seq, 14'000u);
  EXPECT_EQ(r->snapshot_name, SnapshotFileName(14'000));
  EXPECT_EQ(r->commands_replayed, 6'000u);
  EXPECT_EQ(r->last_seq, 20'000u);
  EXPECT_GT(r->journal.segments.size(), 3u);
  EXPECT_EQ(shard.StateHash(), ReferenceHash(20'000));

  // Same result from the journal alone.
  Shard full;
  AddSymbols(&full);
  auto r2 = RecoverShard(nullptr, sink, &full, Quiet());
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->snapshot_seq, 0u);
  EXPECT_EQ(r2->commands_replayed, 20'000u);
  EXPECT_EQ(full.StateHash(), shard.StateHash());
}

TEST(SnapshotRecoveryTest, CorruptNewestSnapshotFallsBackToOlder) {
  MemJournalSink sink;
  MemSnapshotStore store;
  RunJournaled(&sink, &store, 10'000, 3'000);
  store.CorruptByte(9'000, 100);
  Shard shard;
  AddSymbols(&shard);
  auto r = RecoverShard(&store, sink, &shard, Quiet());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->snapshot_seq, 6'000u);
  ASSERT_EQ(r->skipped_snapshots.size(), 1u);
  EXPECT_NE(r->skipped_snapshots[0].find("CRC"), std::string::npos);
  EXPECT_EQ(r->commands_replayed, 4'000u);
  EXPECT_EQ(shard.StateHash(), ReferenceHash(10'000));
}

TEST(SnapshotRecoveryTest, TornTailIsCutAndReported) {
  MemJournalSink sink;
  MemSnapshotStore store;
  ASSERT_TRUE(store.Save(100, Image(100)).ok());
  std::string seg = Segment(1, 300);
  seg.resize(seg.size() - 40);  // the last record is torn
  sink.SetFile(JournalSegmentName(1), seg);
  Shard shard;
  AddSymbols(&shard);
  auto r = RecoverShard(&store, sink, &shard, Quiet());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->journal.torn_tail);
  EXPECT_EQ(r->snapshot_seq, 100u);
  EXPECT_EQ(r->last_seq, 299u);
  EXPECT_EQ(r->commands_replayed, 199u);
  EXPECT_EQ(shard.StateHash(), ReferenceHash(299));
  // Repaired: the segment now ends at the last whole record.
  EXPECT_EQ(sink.ReadSegment(JournalSegmentName(1))->size(),
            kJournalSegmentHeaderRecordSize + 299 * kJournalCommandRecordSize);
}

TEST(SnapshotRecoveryTest, JournalGapAfterSnapshotIsRefused) {
  MemSnapshotStore store;
  ASSERT_TRUE(store.Save(100, Image(100)).ok());
  {
    MemJournalSink sink;
    sink.SetFile(JournalSegmentName(150), Segment(150, 200));
    Shard shard;
    AddSymbols(&shard);
    auto r = RecoverShard(&store, sink, &shard, Quiet());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_NE(r.status().message().find("expected seq 101"), std::string::npos) << r.status();
  }
  {
    // Without a snapshot the journal must start at seq 1.
    MemJournalSink sink;
    sink.SetFile(JournalSegmentName(50), Segment(50, 60));
    Shard shard;
    AddSymbols(&shard);
    auto r = RecoverShard(nullptr, sink, &shard, Quiet());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  }
}

TEST(SnapshotRecoveryTest, JournalThatStartsAtTheSnapshotOrBeforeIsFine) {
  MemSnapshotStore store;
  ASSERT_TRUE(store.Save(100, Image(100)).ok());
  for (Seq first : {Seq{1}, Seq{60}, Seq{101}}) {
    MemJournalSink sink;
    sink.SetFile(JournalSegmentName(first), Segment(first, 250));
    Shard shard;
    AddSymbols(&shard);
    auto r = RecoverShard(&store, sink, &shard, Quiet());
    ASSERT_TRUE(r.ok()) << first << ": " << r.status();
    EXPECT_EQ(r->commands_replayed, 150u);
    EXPECT_EQ(shard.StateHash(), ReferenceHash(250)) << first;
  }
  // A journal that ends before the snapshot: the snapshot is the state.
  MemJournalSink sink;
  sink.SetFile(JournalSegmentName(1), Segment(1, 80));
  Shard shard;
  AddSymbols(&shard);
  auto r = RecoverShard(&store, sink, &shard, Quiet());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->last_seq, 100u);
  EXPECT_EQ(r->commands_replayed, 0u);
}

TEST(SnapshotRecoveryTest, SnapshotOfOtherSymbolsIsAConfigurationError) {
  MemSnapshotStore store;
  ASSERT_TRUE(store.Save(100, Image(100)).ok());
  MemJournalSink sink;
  Shard shard;
  ASSERT_TRUE(shard.AddSymbol(0, OrderBook::Options{}).ok());
  auto r = RecoverShard(&store, sink, &shard, Quiet());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

TEST(SnapshotRecoveryTest, EventsOfReplayedCommandsReachTheCallback) {
  MemSnapshotStore store;
  ASSERT_TRUE(store.Save(100, Image(100)).ok());
  MemJournalSink sink;
  sink.SetFile(JournalSegmentName(1), Segment(1, 200));
  Shard shard;
  AddSymbols(&shard);
  RecoveryOptions o = Quiet();
  std::vector<Seq> seen;
  o.on_events = [&](Seq s, const EventBuffer& ev) {
    EXPECT_GT(ev.size(), 0u);
    seen.push_back(s);
  };
  auto r = RecoverShard(&store, sink, &shard, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(seen.front(), 101u);
  EXPECT_EQ(seen.back(), 200u);
}

TEST(SnapshotRecoveryTest, SnapshotAtMostReplaysFromAnOlderSnapshot) {
  MemJournalSink sink;
  MemSnapshotStore store;
  RunJournaled(&sink, &store, 10'000, 3'000);
  for (auto [limit, snap] : {std::pair<Seq, Seq>{8'999, 6'000}, {9'000, 9'000}, {2'999, 0}}) {
    Shard shard;
    AddSymbols(&shard);
    RecoveryOptions o = Quiet();
    o.snapshot_at_most = limit;
    Seq first = 0;
    o.on_events = [&](Seq s, const EventBuffer&) {
      if (first == 0) first = s;
    };
    auto r = RecoverShard(&store, sink, &shard, o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->snapshot_seq, snap) << limit;
    EXPECT_EQ(first, snap + 1) << limit;
    EXPECT_EQ(r->last_seq, 10'000u);
    EXPECT_EQ(shard.StateHash(), ReferenceHash(10'000));
  }
}

TEST(SnapshotStoreTest, InspectAndNames) {
  const std::string img = Image(500);
  auto info = InspectShardImage(img);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->seq, 500u);
  ASSERT_EQ(info->books.size(), kSymbols);
  uint64_t live = 0;
  for (const auto& b : info->books) live += b.resting_orders + b.pending_stops;
  EXPECT_GT(live, 0u);
  EXPECT_FALSE(InspectShardImage(std::string_view(img).substr(0, img.size() - 1)).ok());
  EXPECT_EQ(SnapshotFileName(1000), "snapshot-00000000000000001000.snap");
  EXPECT_EQ(ParseSnapshotFileName("snapshot-00000000000000001000.snap"), 1000u);
  EXPECT_FALSE(ParseSnapshotFileName("snapshot-00000000000000001000.snap.tmp").has_value());
  EXPECT_FALSE(ParseSnapshotFileName("journal-00000000000000001000.log").has_value());
}

}  // namespace
}  // namespace xc::engine
