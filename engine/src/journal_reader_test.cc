#include "xc/engine/journal_reader.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "journal_test_util.h"
#include "testing/mem_journal_sink.h"

namespace xc::engine {
namespace {

using journal_test::Cmd;
using journal_test::CommandOffset;
using journal_test::Range;
using journal_test::Segment;
using protocol::Command;
using protocol::Seq;
using testing::MemJournalSink;

absl::StatusOr<JournalScanResult> Replay(MemJournalSink& sink, std::vector<Seq>* seqs,
                                         JournalScanOptions o = {}) {
  o.log_warnings = false;
  return ReplayJournal(sink, o, [&](Seq s, const Command& c) {
    EXPECT_EQ(std::memcmp(&c, &static_cast<const Command&>(Cmd(s)), sizeof(c)), 0) << s;
    seqs->push_back(s);
    return absl::OkStatus();
  });
}

TEST(JournalReaderTest, EmptyDirectoryIsAnEmptyJournal) {
  MemJournalSink sink;
  std::vector<Seq> seqs;
  auto r = Replay(sink, &seqs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->last_seq, 0u);
  EXPECT_TRUE(seqs.empty());
}

TEST(JournalReaderTest, ReadsSegmentsInOrder) {
  MemJournalSink sink;
  sink.SetFile(JournalSegmentName(6), Segment(Range(6, 9)));
  sink.SetFile(JournalSegmentName(1), Segment(Range(1, 5)));
  sink.SetFile("unrelated.txt", "hello");
  std::vector<Seq> seqs;
  auto r = Replay(sink, &seqs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(seqs, Range(1, 9));
  EXPECT_EQ(r->first_seq, 1u);
  EXPECT_EQ(r->last_seq, 9u);
  ASSERT_EQ(r->segments.size(), 2u);
  EXPECT_EQ(r->segments[1].first_seq, 6u);
  EXPECT_EQ(r->segments[1].commands, 4u);
  EXPECT_FALSE(r->torn_tail);
}

TEST(JournalReaderTest, AfterSeqSkipsSnapshottedCommands) {
  MemJournalSink sink;
  sink.SetFile(JournalSegmentName(1), Segment(Range(1, 9)));
  std::vector<Seq> seqs;
  JournalScanOptions o;
  o.after_seq = 4;
  auto r = Replay(sink, &seqs, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(seqs, Range(5, 9));
  // A journal that starts after the snapshot's next seq has a hole.
  MemJournalSink late;
  late.SetFile(JournalSegmentName(7), Segment(Range(7, 9)));
  seqs.clear();
  r = Replay(late, &seqs, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("expected seq 5, found 7"), std::string::npos)
      << r.status();
}

TEST(JournalReaderTest, TornTailIsTruncatedWithWarning) {
  MemJournalSink sink;
  const std::string name = JournalSegmentName(1);
  std::string seg = Segment(Range(1, 5));
  const uint64_t cut = CommandOffset(4) + 30;  // in the middle of the 5th record
  sink.SetFile(name, seg.substr(0, cut));
  std::vector<Seq> seqs;
  JournalScanOptions verify;
  verify.repair = false;
  auto r = Replay(sink, &seqs, verify);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->torn_tail);
  EXPECT_NE(r->torn_tail_detail.find("mem:" + name + " at offset " +
                                     std::to_string(CommandOffset(4))),
            std::string::npos)
      << r->torn_tail_detail;
  EXPECT_EQ(sink.written(name)->size(), cut);  // verify changes nothing

  seqs.clear();
  r = Replay(sink, &seqs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->torn_tail);
  EXPECT_EQ(seqs, Range(1, 4));
  EXPECT_EQ(sink.written(name)->size(), CommandOffset(4));  // cut back
  // Recovering again finds a clean journal.
  seqs.clear();
  r = Replay(sink, &seqs);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->torn_tail);
}

TEST(JournalReaderTest, GarbageTailAndZeroTail) {
  MemJournalSink sink;
  const std::string name = JournalSegmentName(1);
  // Preallocated zeros after the records: clean, silently trimmed.
  sink.SetFile(name, Segment(Range(1, 3)) + std::string(4096, '\0'));
  std::vector<Seq> seqs;
  auto r = Replay(sink, &seqs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->torn_tail);
  EXPECT_EQ(sink.written(name)->size(), CommandOffset(3));
  // A whole record of garbage then zeros (half-written batch): torn.
  std::string seg = Segment(Range(1, 4));
  for (uint64_t i = CommandOffset(3); i < seg.size(); ++i) seg[i] = static_cast<char>(i);
  sink.SetFile(name, seg + std::string(1000, '\0'));
  seqs.clear();
  r = Replay(sink, &seqs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->torn_tail);
  EXPECT_EQ(seqs, Range(1, 3));
}

TEST(JournalReaderTest, EmptyOrHeaderlessLastSegmentIsATornTail) {
  MemJournalSink sink;
  sink.SetFile(JournalSegmentName(1), Segment(Range(1, 3)));
  sink.SetFile(JournalSegmentName(4), std::string(20, '\x07'));  // crashed while creating
  std::vector<Seq> seqs;
  auto r = Replay(sink, &seqs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->torn_tail);
  EXPECT_EQ(r->last_seq, 3u);
  EXPECT_EQ(sink.written(JournalSegmentName(4))->size(), 0u);
}

TEST(JournalReaderTest, MidFileCorruptionRefusesNamingFileAndOffset) {
  MemJournalSink sink;
  const std::string name = JournalSegmentName(1);
  sink.SetFile(name, Segment(Range(1, 10)));
  sink.CorruptByte(name, CommandOffset(3) + 40);
  std::vector<Seq> seqs;
  auto r = Replay(sink, &seqs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  const std::string want =
      "journal corruption in mem:" + name + " at offset " + std::to_string(CommandOffset(3));
  EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("CRC mismatch"), std::string::npos) << r.status();
  EXPECT_EQ(sink.written(name)->size(), CommandOffset(10));  // nothing was cut
}

TEST(JournalReaderTest, TornLookingDamageInAnEarlierSegmentIsCorruption) {
  MemJournalSink sink;
  const std::string first = JournalSegmentName(1);
  const std::string seg = Segment(Range(1, 5));
  sink.SetFile(first, seg.substr(0, seg.size() - 10));  // cut short: but not the last file
  sink.SetFile(JournalSegmentName(5), Segment(Range(5, 8)));
  std::vector<Seq> seqs;
  auto r = Replay(sink, &seqs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("mem:" + first + " at offset " +
                                      std::to_string(CommandOffset(4))),
            std::string::npos)
      << r.status();
}

TEST(JournalReaderTest, SequenceGapsAreDetected) {
  {
    MemJournalSink sink;
    sink.SetFile(JournalSegmentName(1), Segment({1, 2, 4, 5}));
    std::vector<Seq> seqs;
    auto r = Replay(sink, &seqs);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("sequence gap in mem:" + JournalSegmentName(1) +
                                        " at offset " + std::to_string(CommandOffset(2)) +
                                        ": expected seq 3, found 4"),
              std::string::npos)
        << r.status();
  }
  {  // across segments
    MemJournalSink sink;
    sink.SetFile(JournalSegmentName(1), Segment(Range(1, 3)));
    sink.SetFile(JournalSegmentName(5), Segment(Range(5, 6)));
    std::vector<Seq> seqs;
    auto r = Replay(sink, &seqs);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("expected seq 4, found 5"), std::string::npos)
        << r.status();
  }
  {  // header disagrees with the file name
    MemJournalSink sink;
    sink.SetFile(JournalSegmentName(2), Segment(Range(1, 3)));
    std::vector<Seq> seqs;
    EXPECT_EQ(Replay(sink, &seqs).status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(JournalReaderTest, ShardIdIsChecked) {
  MemJournalSink sink;
  sink.SetFile(JournalSegmentName(1), Segment(Range(1, 3), 0, /*shard=*/7));
  std::vector<Seq> seqs;
  JournalScanOptions o;
  o.shard_id = 7;
  EXPECT_TRUE(Replay(sink, &seqs, o).ok());
  o.shard_id = 8;
  EXPECT_EQ(Replay(sink, &seqs, o).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace xc::engine
