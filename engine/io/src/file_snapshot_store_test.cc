#include "xc/engine/io/file_snapshot_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/command_flow.h"
#include "xc/engine/io/file_journal.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/shard.h"
#include "xc/engine/snapshot_recovery.h"

namespace xc::engine::io {
namespace {

namespace fs = std::filesystem;
using protocol::Seq;
using testing::FlowCommand;

constexpr uint64_t kSeed = 7;
constexpr uint32_t kSymbols = 3;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/xc_snapshot_test_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void AddSymbols(Shard* shard) {
  OrderBook::Options o;
  o.max_orders = 1u << 14;
  o.max_levels = 1u << 10;
  for (uint32_t s = 0; s < kSymbols; ++s) ASSERT_TRUE(shard->AddSymbol(s, o).ok());
}

void ApplyFlow(Shard* shard, Seq n) {
  EventBuffer ev(4096);
  while (shard->last_seq() < n) {
    ev.clear();
    shard->Apply(FlowCommand(kSeed, shard->last_seq(), kSymbols), ev);
  }
}

std::string Image(Seq n) {
  Shard shard;
  AddSymbols(&shard);
  ApplyFlow(&shard, n);
  std::string img;
  shard.SaveTo(&img);
  return img;
}

std::vector<std::string> Names(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST(FileSnapshotStoreTest, RoundTrip) {
  TempDir dir;
  auto store = OpenFileSnapshotStore(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string img = Image(2000);
  ASSERT_TRUE((*store)->Save(2000, img).ok());
  auto list = (*store)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].seq, 2000u);
  EXPECT_EQ((*list)[0].bytes, img.size() + kSnapshotFileHeaderSize);
  auto loaded = (*store)->Load(2000);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->image, img);

  Shard a, b;
  AddSymbols(&a);
  AddSymbols(&b);
  ApplyFlow(&a, 2000);
  ASSERT_TRUE(b.LoadFrom(loaded->image).ok());
  EXPECT_EQ(a.StateHash(), b.StateHash());
  // No temporaries left behind; a wrong seq is refused.
  EXPECT_EQ(Names(dir.path(), "snapshot-"), std::vector<std::string>{SnapshotFileName(2000)});
  EXPECT_EQ((*store)->Save(2001, img).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->Load(5).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE((*store)->Remove(2000).ok());
  ASSERT_TRUE((*store)->Remove(2000).ok());
  EXPECT_TRUE((*store)->List()->empty());
}

TEST(FileSnapshotStoreTest, CorruptNewestFallsBackToOlder) {
  TempDir dir;
  auto store = OpenFileSnapshotStore(dir.path());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Save(100, Image(100)).ok());
  ASSERT_TRUE((*store)->Save(200, Image(200)).ok());
  ASSERT_TRUE((*store)->Save(300, Image(300)).ok());
  // 300: a flipped image byte; 200: truncated.
  FlipByte(dir / SnapshotFileName(300), kSnapshotFileHeaderSize + 77);
  ASSERT_EQ(::truncate((dir / SnapshotFileName(200)).c_str(), 500), 0);
  std::vector<std::string> skipped;
  auto newest = (*store)->LoadNewestValid(/*log_warnings=*/false, &skipped);
  ASSERT_TRUE(newest.ok()) << newest.status();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->seq, 100u);
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("image CRC mismatch"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[0].find(SnapshotFileName(300)), std::string::npos);
  EXPECT_NE(skipped[1].find("image length"), std::string::npos) << skipped[1];
  EXPECT_EQ((*store)->Load(300).status().code(), absl::StatusCode::kDataLoss);
  // A flipped header byte.
  FlipByte(dir / SnapshotFileName(100), 17);
  EXPECT_NE((*store)->Load(100).status().message().find("header CRC"), std::string::npos);
  newest = (*store)->LoadNewestValid(false);
  ASSERT_TRUE(newest.ok());
  EXPECT_FALSE(newest->has_value());
}

TEST(FileSnapshotStoreTest, MissingDirectory) {
  TempDir dir;
  const std::string missing = dir / "nope";
  auto store = OpenFileSnapshotStore(missing, /*create=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(store.status().message().find(missing), std::string::npos);
  store = OpenFileSnapshotStore(missing, /*create=*/true);
  ASSERT_TRUE(store.ok()) << store.status();
  auto newest = (*store)->LoadNewestValid(false);
  ASSERT_TRUE(newest.ok());
  EXPECT_FALSE(newest->has_value());
  EXPECT_FALSE(OpenFileSnapshotStore(dir / "a/b/c").ok());  // parents must exist
}

TEST(FileSnapshotStoreTest, InterruptedSaveLeavesNoSnapshotAndIsCleanedUp) {
  TempDir dir;
  {
    // What a crash in the middle of Save leaves: a partial temporary.
    std::ofstream f(dir / (SnapshotFileName(50) + ".tmp"));
    f << "partial";
  }
  auto store = OpenFileSnapshotStore(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->List()->empty());
  EXPECT_TRUE(Names(dir.path(), "snapshot-").empty());
}

// A journal directory written by a real JournalWriter with small segments.
void WriteJournal(const std::string& dir, Seq from, Seq to) {
  auto sink = OpenFileJournal(dir, JournalIoBackend::kPwrite);
  ASSERT_TRUE(sink.ok()) << sink.status();
  JournalWriterOptions wo;
  wo.segment_bytes = 16 << 10;  // ~150 commands per segment
  wo.max_batch_bytes = 4 << 10;
  wo.preallocate = false;
  wo.policy.mode = DurabilityPolicy::Mode::kNone;
  JournalWriter w(sink->get(), from, wo);
  for (Seq s = from; s <= to; ++s) {
    while (!w.TryAppend(s, FlowCommand(kSeed, s - 1, kSymbols))) w.DoWork();
  }
  ASSERT_TRUE(w.Close().ok());
}

// Segment files of dir as (first seq) list.
std::vector<Seq> SegmentSeqs(const std::string& dir) {
  std::vector<Seq> out;
  for (const std::string& n : Names(dir, "journal-")) out.push_back(*ParseJournalSegmentName(n));
  return out;
}

TEST(RetentionTest, DeleteRemovesSegmentsCoveredByTheOldestKeptSnapshot) {
  TempDir dir;
  WriteJournal(dir.path(), 1, 2000);
  const std::vector<Seq> before = SegmentSeqs(dir.path());
  ASSERT_GT(before.size(), 8u);
  auto store = OpenFileSnapshotStore(dir.path());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Save(700, Image(700)).ok());
  ASSERT_TRUE((*store)->Save(1200, Image(1200)).ok());
  ASSERT_TRUE((*store)->Save(1500, Image(1500)).ok());

  RetentionPolicy p;  // delete, keep 2 snapshots
  auto r = ApplyRetention(dir.path(), **store, p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cut_seq, 1200u);
  EXPECT_EQ(r->snapshots_removed, std::vector<Seq>{700});
  const std::vector<Seq> after = SegmentSeqs(dir.path());
  // Kept: the segment holding 1201 and everything after it; nothing more.
  ASSERT_GT(after.size(), 1u);
  EXPECT_LE(after.front(), 1201u);
  EXPECT_GT(after[1], 1201u);
  EXPECT_EQ(after.back(), before.back());
  size_t i = 0;
  while (before[i] != after.front()) ++i;
  ASSERT_GT(i, 0u);
  EXPECT_EQ(r->segments_removed.size(), i);

  // Recovery still works from the newest snapshot, and from the older one
  // when the newest is corrupt.
  for (int round = 0; round < 2; ++round) {
    auto sink = OpenFileJournal(dir.path(), JournalIoBackend::kPwrite);
    ASSERT_TRUE(sink.ok());
    Shard shard, ref;
    AddSymbols(&shard);
    AddSymbols(&ref);
    ApplyFlow(&ref, 2000);
    RecoveryOptions o;
    o.scan.log_warnings = false;
    auto rec = RecoverShard(store->get(), **sink, &shard, o);
    ASSERT_TRUE(rec.ok()) << rec.status();
    EXPECT_EQ(rec->snapshot_seq, round == 0 ? 1500u : 1200u);
    EXPECT_EQ(rec->last_seq, 2000u);
    EXPECT_EQ(shard.StateHash(), ref.StateHash());
    FlipByte(dir / SnapshotFileName(1500), kSnapshotFileHeaderSize + 30);
  }
}

TEST(RetentionTest, KeepOneCutsAtTheNewestSnapshot) {
  TempDir dir;
  WriteJournal(dir.path(), 1, 2000);
  auto store = OpenFileSnapshotStore(dir.path());
  ASSERT_TRUE((*store)->Save(1500, Image(1500)).ok());
  RetentionPolicy p;
  p.keep_snapshots = 1;
  auto r = ApplyRetention(dir.path(), **store, p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cut_seq, 1500u);
  const std::vector<Seq> after = SegmentSeqs(dir.path());
  EXPECT_LE(after.front(), 1501u);
  EXPECT_GT(after.size() > 1 ? after[1] : 9999u, 1501u);
}

TEST(RetentionTest, KeepAndArchive) {
  TempDir dir;
  WriteJournal(dir.path(), 1, 1000);
  const std::vector<Seq> before = SegmentSeqs(dir.path());
  auto store = OpenFileSnapshotStore(dir.path());
  ASSERT_TRUE((*store)->Save(900, Image(900)).ok());

  auto keep = RetentionPolicy::Parse("keep");
  ASSERT_TRUE(keep.ok());
  ASSERT_TRUE(ApplyRetention(dir.path(), **store, *keep).ok());
  EXPECT_EQ(SegmentSeqs(dir.path()), before);

  auto arch = RetentionPolicy::Parse("archive:" + (dir / "archive"));
  ASSERT_TRUE(arch.ok());
  EXPECT_EQ(arch->ToString(), "archive:" + (dir / "archive"));
  auto r = ApplyRetention(dir.path(), **store, *arch);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE(r->segments_removed.empty());
  std::vector<Seq> both = SegmentSeqs(dir.path());
  const std::vector<Seq> archived = SegmentSeqs(dir / "archive");
  EXPECT_EQ(archived.size(), r->segments_removed.size());
  both.insert(both.begin(), archived.begin(), archived.end());
  EXPECT_EQ(both, before);  // moved, not lost

  EXPECT_FALSE(RetentionPolicy::Parse("archive:").ok());
  EXPECT_FALSE(RetentionPolicy::Parse("shred").ok());
  EXPECT_EQ(RetentionPolicy::Parse("delete")->mode, RetentionPolicy::Mode::kDelete);
}

TEST(RetentionTest, NeverTouchesTheNewestSegment) {
  TempDir dir;
  WriteJournal(dir.path(), 1, 1000);
  const std::vector<Seq> before = SegmentSeqs(dir.path());
  auto store = OpenFileSnapshotStore(dir.path());
  ASSERT_TRUE((*store)->Save(1000, Image(1000)).ok());
  RetentionPolicy p;
  p.keep_snapshots = 1;
  ASSERT_TRUE(ApplyRetention(dir.path(), **store, p).ok());
  EXPECT_EQ(SegmentSeqs(dir.path()), std::vector<Seq>{before.back()});
}

}  // namespace
}  // namespace xc::engine::io
