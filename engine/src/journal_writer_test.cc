#include "xc/engine/journal_writer.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "journal_test_util.h"
#include "testing/mem_journal_sink.h"
#include "xc/engine/journal_reader.h"

namespace xc::engine {
namespace {

using journal_test::Cmd;
using journal_test::Range;
using protocol::Command;
using protocol::Seq;
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

// Recovers `sink` and returns the seqs of the commands found (checking each
// command's contents against Cmd(seq)).
std::vector<Seq> Recover(MemJournalSink& sink, JournalScanResult* result = nullptr) {
  std::vector<Seq> seqs;
  JournalScanOptions o;
  o.log_warnings = false;
  auto r = ReplayJournal(sink, o, [&](Seq s, const Command& c) {
    const Command want = Cmd(s);
    EXPECT_EQ(std::memcmp(&c, &want, sizeof(c)), 0) << s;
    seqs.push_back(s);
    return absl::OkStatus();
  });
  EXPECT_TRUE(r.ok()) << r.status();
  if (result != nullptr && r.ok()) *result = *r;
  return seqs;
}

JournalWriterOptions Opts(std::string_view policy = "fsync") {
  JournalWriterOptions o;
  o.policy = *DurabilityPolicy::Parse(policy);
  o.ring_capacity = 1024;
  o.max_batch_bytes = 64 << 10;
  o.segment_bytes = 1 << 20;
  return o;
}

void AppendRange(JournalWriter& w, Seq from, Seq to) {
  for (Seq s = from; s <= to; ++s) ASSERT_TRUE(w.TryAppend(s, Cmd(s))) << s;
}

TEST(DurabilityPolicyTest, ParseAndPrint) {
  EXPECT_EQ(DurabilityPolicy::Parse("fsync")->mode, DurabilityPolicy::Mode::kFsync);
  EXPECT_EQ(DurabilityPolicy::Parse("none")->mode, DurabilityPolicy::Mode::kNone);
  auto i = DurabilityPolicy::Parse("interval:5");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->mode, DurabilityPolicy::Mode::kInterval);
  EXPECT_EQ(i->interval_ms, 5);
  EXPECT_EQ(i->ToString(), "interval:5");
  for (const char* bad : {"", "fsync ", "interval:", "interval:0", "interval:-1", "interval:x",
                          "always"}) {
    EXPECT_EQ(DurabilityPolicy::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(JournalWriterTest, GroupCommitBatchesWhatArrivesDuringAFlush) {
  MemJournalSink sink;
  sink.SetAsync(true);  // flushes stay in flight until CompletePending
  JournalWriter w(&sink, 1, Opts());
  AppendRange(w, 1, 1);
  EXPECT_EQ(w.DoWork(), 2);  // framed 1, started flush #1
  AppendRange(w, 2, 101);    // arrive while #1 is in flight
  EXPECT_EQ(w.DoWork(), 100);
  EXPECT_EQ(w.durable_seq(), 0u);
  sink.CompletePending();
  w.DoWork();  // completes #1, starts #2 with all 100
  EXPECT_EQ(w.durable_seq(), 1u);
  EXPECT_EQ(w.DoWork(), 0);  // #2 in flight, nothing new
  sink.CompletePending();
  w.DoWork();
  EXPECT_EQ(w.durable_seq(), 101u);
  EXPECT_EQ(sink.syncs(), 2u);
  EXPECT_EQ(sink.writes(), 2u);
  const JournalWriterCounters c = w.counters();
  EXPECT_EQ(c.records, 101u);
  EXPECT_EQ(c.flushes, 2u);
  EXPECT_EQ(c.syncs, 2u);
  ASSERT_TRUE(w.Close().ok());
  EXPECT_EQ(Recover(sink), Range(1, 101));
}

TEST(JournalWriterTest, ThreadedProducerGetsFewerSyncsThanCommands) {
  MemJournalSink sink;
  JournalWriterOptions o = Opts();
  o.segment_bytes = 256 << 10;  // also rolls a few times
  JournalWriter w(&sink, 1, o);
  const Seq n = SanitizerScale() ? 20'000 : 200'000;
  std::atomic<bool> stop{false};
  std::thread agent([&] {
    while (!stop.load(std::memory_order_acquire)) {
      if (w.DoWork() == 0) std::this_thread::yield();
    }
  });
  for (Seq s = 1; s <= n; ++s) {
    while (!w.TryAppend(s, Cmd(s))) std::this_thread::yield();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (w.durable_seq() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  stop.store(true, std::memory_order_release);
  agent.join();
  EXPECT_EQ(w.durable_seq(), n);
  const JournalWriterCounters c = w.counters();
  EXPECT_LT(c.syncs, n / 2) << "group commit should batch";
  EXPECT_GT(c.segments, 1u);
  ASSERT_TRUE(w.Close().ok());
  JournalScanResult r;
  EXPECT_EQ(Recover(sink, &r).size(), n);
  EXPECT_EQ(r.last_seq, n);
  EXPECT_EQ(r.segments.size(), c.segments);
}

TEST(JournalWriterTest, SegmentsRollAtTheSizeLimit) {
  MemJournalSink sink;
  JournalWriterOptions o = Opts();
  o.segment_bytes = 4096;
  o.max_batch_bytes = 4096;
  JournalWriter w(&sink, 1, o);
  for (Seq s = 1; s <= 300; s += 10) {
    AppendRange(w, s, s + 9);
    w.DoWork();
  }
  ASSERT_TRUE(w.Close().ok());
  auto names = sink.ListSegments();
  ASSERT_TRUE(names.ok());
  EXPECT_GE(names->size(), 6u);  // 300 * 104 B / ~4 KiB
  JournalScanResult r;
  EXPECT_EQ(Recover(sink, &r), Range(1, 300));
  for (const JournalSegmentInfo& seg : r.segments) {
    EXPECT_EQ(seg.name, JournalSegmentName(seg.first_seq));
    EXPECT_LE(seg.valid_bytes, 4096u + 10 * kJournalCommandRecordSize + 48);
    EXPECT_EQ(seg.valid_bytes, seg.file_bytes);  // closed segments are trimmed
  }
}

TEST(JournalWriterTest, FsyncPolicyAcksOnlyAfterTheSync) {
  MemJournalSink sink;
  sink.SetAsync(true);
  JournalWriter w(&sink, 1, Opts("fsync"));
  AppendRange(w, 1, 10);
  w.DoWork();
  EXPECT_EQ(w.durable_seq(), 0u);  // written maybe, not synced
  sink.CompletePending();
  w.DoWork();
  EXPECT_EQ(w.durable_seq(), 10u);
  EXPECT_EQ(sink.synced(JournalSegmentName(1))->size(), 48u + 10 * 104u);
}

TEST(JournalWriterTest, IntervalPolicySyncsOnlyWhenTheIntervalIsDue) {
  MemJournalSink sink;
  int64_t now = 1'000'000'000;
  JournalWriterOptions o = Opts("interval:5");
  o.now_ns = [&now] { return now; };
  JournalWriter w(&sink, 1, o);
  AppendRange(w, 1, 10);
  w.DoWork();  // writes, no sync: the interval started at construction
  w.DoWork();
  EXPECT_EQ(sink.writes(), 1u);
  EXPECT_EQ(sink.syncs(), 0u);
  EXPECT_EQ(w.durable_seq(), 0u);
  AppendRange(w, 11, 20);
  w.DoWork();
  w.DoWork();
  EXPECT_EQ(sink.writes(), 2u);
  EXPECT_EQ(w.durable_seq(), 0u);
  now += 5'000'000;  // 5 ms later: a pure sync goes out
  w.DoWork();
  w.DoWork();
  EXPECT_EQ(sink.syncs(), 1u);
  EXPECT_EQ(w.durable_seq(), 20u);
  EXPECT_EQ(w.DoWork(), 0);  // nothing unsynced: no more syncs
  now += 50'000'000;
  EXPECT_EQ(w.DoWork(), 0);
  EXPECT_EQ(sink.syncs(), 1u);
  // Due at the time of the next write: write and sync go out together.
  AppendRange(w, 21, 25);
  w.DoWork();
  w.DoWork();
  EXPECT_EQ(sink.syncs(), 2u);
  EXPECT_EQ(w.durable_seq(), 25u);
  // A crash loses only what was never synced: nothing acknowledged.
  AppendRange(w, 26, 30);
  w.DoWork();
  w.DoWork();
  EXPECT_EQ(w.durable_seq(), 25u);
  sink.SimulateCrash();
  EXPECT_EQ(Recover(sink), Range(1, 25));
}

TEST(JournalWriterTest, NonePolicyIsDurableOnceWrittenAndSyncsOnlyOnClose) {
  MemJournalSink sink;
  JournalWriter w(&sink, 1, Opts("none"));
  AppendRange(w, 1, 10);
  w.DoWork();
  w.DoWork();
  EXPECT_EQ(w.durable_seq(), 10u);
  EXPECT_EQ(sink.syncs(), 0u);
  ASSERT_TRUE(w.Close().ok());
  EXPECT_EQ(sink.syncs(), 1u);
  EXPECT_EQ(Recover(sink), Range(1, 10));
}

TEST(JournalWriterTest, FailedWriteLatchesAndStopsDurableSeq) {
  MemJournalSink sink;
  sink.FailNthWrite(3, absl::DataLossError("injected EIO"), /*partial_bytes=*/150);
  JournalWriter w(&sink, 1, Opts());
  AppendRange(w, 1, 10);
  w.DoWork();
  w.DoWork();
  AppendRange(w, 11, 20);
  w.DoWork();
  w.DoWork();
  EXPECT_EQ(w.durable_seq(), 20u);
  EXPECT_FALSE(w.failed());
  AppendRange(w, 21, 30);
  w.DoWork();  // write #3 fails after landing 150 bytes
  w.DoWork();
  EXPECT_TRUE(w.failed());
  EXPECT_EQ(w.durable_seq(), 20u);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(w.status().message().find("injected EIO"), std::string::npos);
  EXPECT_NE(w.status().message().find("durable through seq 20"), std::string::npos);
  EXPECT_FALSE(w.TryAppend(31, Cmd(31)));
  EXPECT_EQ(w.DoWork(), 0);
  EXPECT_EQ(w.durable_seq(), 20u);
  EXPECT_FALSE(w.Close().ok());
  // Power loss now: recovery finds the acknowledged prefix, plus whatever
  // whole records of the failed write happened to reach the disk.
  MemJournalSink copy_none, copy_some;
  for (MemJournalSink* c : {&copy_none, &copy_some}) {
    c->SetFile(JournalSegmentName(1), *sink.written(JournalSegmentName(1)));
  }
  (void)copy_none.TruncateSegment(JournalSegmentName(1), sink.synced(JournalSegmentName(1))->size());
  EXPECT_EQ(Recover(copy_none), Range(1, 20));
  JournalScanResult r;
  EXPECT_EQ(Recover(copy_some, &r), Range(1, 21));  // 150 bytes: one record and a torn one
  EXPECT_TRUE(r.torn_tail);
}

TEST(JournalWriterTest, FailedSyncLatches) {
  MemJournalSink sink;
  sink.FailNthSync(2);
  JournalWriter w(&sink, 1, Opts());
  AppendRange(w, 1, 5);
  w.DoWork();
  w.DoWork();
  AppendRange(w, 6, 9);
  w.DoWork();
  w.DoWork();
  EXPECT_TRUE(w.failed());
  EXPECT_EQ(w.durable_seq(), 5u);
  sink.SimulateCrash();
  EXPECT_EQ(Recover(sink), Range(1, 5));
}

TEST(JournalWriterTest, DiskFullIsResourceExhaustedAndLosesNothingAcknowledged) {
  MemJournalSink sink;
  sink.SetCapacity(48 + 25 * 104 + 50);  // room for 25 records and a half
  JournalWriter w(&sink, 1, Opts());
  Seq s = 1;
  for (; s <= 100 && !w.failed(); s += 10) {
    if (!w.TryAppend(s, Cmd(s))) break;
    AppendRange(w, s + 1, s + 9);
    w.DoWork();
    w.DoWork();
  }
  EXPECT_TRUE(w.failed());
  EXPECT_EQ(w.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(w.status().message().find("No space left on device"), std::string::npos);
  EXPECT_EQ(w.durable_seq(), 20u);
  // The failed write landed what fit (records 21..25 and half of 26), never
  // synced. Whether or not that reached the disk, recovery keeps 1..20.
  MemJournalSink kept;
  kept.SetFile(JournalSegmentName(1), *sink.written(JournalSegmentName(1)));
  JournalScanResult r;
  EXPECT_EQ(Recover(kept, &r), Range(1, 25));
  EXPECT_TRUE(r.torn_tail);
  sink.SimulateCrash();
  EXPECT_EQ(Recover(sink, &r), Range(1, 20));
}

TEST(JournalWriterTest, CrashDropsUnsyncedDataAndRecoveryYieldsTheSyncedPrefix) {
  for (size_t keep : {size_t{0}, size_t{30}, size_t{104}, size_t{333}}) {
    MemJournalSink sink;
    sink.SetAsync(true);
    JournalWriter w(&sink, 1, Opts());
    AppendRange(w, 1, 7);
    w.DoWork();
    sink.CompletePending();
    w.DoWork();  // 1..7 durable
    AppendRange(w, 8, 20);
    w.DoWork();  // 8..20 framed and handed over (in flight: not yet written)
    EXPECT_EQ(w.durable_seq(), 7u);
    sink.CompletePending();  // written and synced, but the writer has not seen it
    AppendRange(w, 21, 30);
    w.DoWork();  // completes (durable 20), starts 21..30
    EXPECT_EQ(w.durable_seq(), 20u);
    // Crash with the flush of 21..30 in flight, part of it maybe on disk.
    sink.SimulateCrash(keep);
    JournalScanResult r;
    const std::vector<Seq> got = Recover(sink, &r);
    const Seq whole = 20 + keep / 104;  // complete records that reached the disk
    EXPECT_EQ(got, Range(1, whole)) << keep;
    EXPECT_EQ(r.torn_tail, keep % 104 != 0) << keep;
    EXPECT_GE(r.last_seq, w.durable_seq());  // nothing acknowledged is lost
  }
}

TEST(JournalWriterTest, RestartContinuesTheJournal) {
  MemJournalSink sink;
  {
    JournalWriter w(&sink, 1, Opts("none"));
    AppendRange(w, 1, 10);
    w.DoWork();
    w.DoWork();
    AppendRange(w, 11, 15);
    w.DoWork();
    w.DoWork();
    // Nothing was synced ("none"); the crash keeps 14 records and a torn one.
    sink.SimulateCrash(48 + 14 * 104 + 97);
  }
  JournalScanResult r;
  EXPECT_EQ(Recover(sink, &r), Range(1, 14));
  EXPECT_TRUE(r.torn_tail);
  {
    JournalWriter w(&sink, r.last_seq + 1, Opts());
    AppendRange(w, 15, 40);
    w.DoWork();
    w.DoWork();
    ASSERT_TRUE(w.Close().ok());
  }
  EXPECT_EQ(Recover(sink, &r), Range(1, 40));
  EXPECT_EQ(r.segments.size(), 2u);
  EXPECT_EQ(r.segments[1].first_seq, 15u);
}

TEST(JournalWriterTest, CloseFlushesEverythingUnderEveryPolicy) {
  for (const char* p : {"fsync", "interval:1000", "none"}) {
    MemJournalSink sink;
    JournalWriter w(&sink, 100, Opts(p));
    AppendRange(w, 100, 199);
    ASSERT_TRUE(w.Close().ok()) << p;
    EXPECT_EQ(w.durable_seq(), 199u) << p;
    sink.SimulateCrash();
    EXPECT_EQ(Recover(sink), Range(100, 199)) << p;
  }
}

}  // namespace
}  // namespace xc::engine
