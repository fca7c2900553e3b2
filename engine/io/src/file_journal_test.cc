#include "xc/engine/io/file_journal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "xc/engine/journal_format.h"
#include "xc/engine/journal_reader.h"
#include "xc/engine/journal_writer.h"

namespace xc::engine::io {
namespace {

using protocol::Command;
using protocol::Seq;

Command Cmd(Seq s) {
  Command c = Command::Limit(0, s, 1, protocol::Side::kBuy, 100 + static_cast<int64_t>(s % 9), 1);
  c.ts = static_cast<int64_t>(s);
  return c;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/xc_journal_test_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    EXPECT_NE(p, nullptr);
    path_ = p != nullptr ? p : "/tmp";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class FileJournalTest : public ::testing::TestWithParam<JournalIoBackend> {
 protected:
  void SetUp() override {
    std::string why;
    if (GetParam() == JournalIoBackend::kUring && !UringAvailable(&why)) {
      GTEST_SKIP() << "io_uring refused here: " << why;
    }
  }
  std::unique_ptr<JournalSink> Open() {
    auto s = OpenFileJournal(dir_.path(), GetParam());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Appends [from, to] and runs the writer until durable (bounded wait).
  static void WriteDurably(JournalWriter& w, Seq from, Seq to) {
    Seq s = from;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (w.durable_seq() < to && std::chrono::steady_clock::now() < deadline && !w.failed()) {
      while (s <= to && w.TryAppend(s, Cmd(s))) ++s;
      w.DoWork();
    }
    ASSERT_EQ(w.durable_seq(), to) << w.status();
  }
  std::vector<Seq> Recover(JournalScanResult* out = nullptr, absl::Status* err = nullptr) {
    auto sink = Open();
    std::vector<Seq> seqs;
    JournalScanOptions o;
    o.log_warnings = false;
    auto r = ReplayJournal(*sink, o, [&](Seq s, const Command& c) {
      EXPECT_EQ(c.order_id, s);
      seqs.push_back(s);
      return absl::OkStatus();
    });
    if (err != nullptr) *err = r.status();
    else EXPECT_TRUE(r.ok()) << r.status();
    if (out != nullptr && r.ok()) *out = *r;
    return seqs;
  }
  std::string SegmentPath(Seq first) const {
    return dir_.path() + "/" + JournalSegmentName(first);
  }

  TempDir dir_;
};

std::vector<Seq> Range(Seq a, Seq b) {
  std::vector<Seq> v;
  for (Seq s = a; s <= b; ++s) v.push_back(s);
  return v;
}

TEST_P(FileJournalTest, WritesRollsAndRecovers) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->Describe().rfind(GetParam() == JournalIoBackend::kUring ? "io_uring:" : "pwrite:",
                                   0),
            0u);
  JournalWriterOptions o;
  o.segment_bytes = 64 << 10;
  o.max_batch_bytes = 16 << 10;
  JournalWriter w(sink.get(), 1, o);
  WriteDurably(w, 1, 3000);
  ASSERT_TRUE(w.Close().ok()) << w.status();
  JournalScanResult r;
  EXPECT_EQ(Recover(&r), Range(1, 3000));
  EXPECT_GE(r.segments.size(), 4u);  // 3000 * 104 B / 64 KiB
  EXPECT_FALSE(r.torn_tail);
  for (const auto& seg : r.segments) EXPECT_EQ(seg.valid_bytes, seg.file_bytes) << seg.name;
}

TEST_P(FileJournalTest, CrashWithOpenPreallocatedSegmentRecoversCleanly) {
  {
    auto sink = Open();
    JournalWriterOptions o;
    o.segment_bytes = 1 << 20;  // preallocated: the file is 1 MiB of mostly zeros
    JournalWriter w(sink.get(), 1, o);
    WriteDurably(w, 1, 500);
    // No Close: the process "dies" here with the segment open.
  }
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(1)), 1u << 20);
  JournalScanResult r;
  EXPECT_EQ(Recover(&r), Range(1, 500));
  EXPECT_FALSE(r.torn_tail);  // zeros are a clean end
  EXPECT_EQ(std::filesystem::file_size(SegmentPath(1)), 48u + 500 * 104);
  // And the journal continues after a restart.
  {
    auto sink = Open();
    JournalWriter w(sink.get(), 501, JournalWriterOptions{});
    WriteDurably(w, 501, 600);
    ASSERT_TRUE(w.Close().ok());
  }
  EXPECT_EQ(Recover(), Range(1, 600));
}

TEST_P(FileJournalTest, TornTailTruncatedAndMidFileCorruptionRefused) {
  {
    auto sink = Open();
    JournalWriter w(sink.get(), 1, JournalWriterOptions{});
    WriteDurably(w, 1, 100);
    ASSERT_TRUE(w.Close().ok());
  }
  const std::string path = SegmentPath(1);
  const uint64_t size = 48 + 100 * 104;
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size - 50)), 0);  // torn last record
  JournalScanResult r;
  EXPECT_EQ(Recover(&r), Range(1, 99));
  EXPECT_TRUE(r.torn_tail);
  EXPECT_NE(r.torn_tail_detail.find(path + " at offset " + std::to_string(size - 104)),
            std::string::npos)
      << r.torn_tail_detail;
  EXPECT_EQ(std::filesystem::file_size(path), size - 104);

  // Flip a byte inside record 10: corruption before the tail.
  const uint64_t at = 48 + 9 * 104 + 60;
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char b = 0;
  ASSERT_EQ(::pread(fd, &b, 1, static_cast<off_t>(at)), 1);
  b = static_cast<char>(b ^ 0x5a);
  ASSERT_EQ(::pwrite(fd, &b, 1, static_cast<off_t>(at)), 1);
  ::close(fd);
  absl::Status err;
  Recover(nullptr, &err);
  EXPECT_EQ(err.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(err.message().find("journal corruption in " + path + " at offset " +
                               std::to_string(48 + 9 * 104)),
            std::string::npos)
      << err;
  EXPECT_EQ(std::filesystem::file_size(path), size - 104);  // refused: nothing cut
}

// A write error on a real file: RLIMIT_FSIZE makes the kernel refuse to grow
// the segment past 64 KiB (EFBIG), standing in for a full disk. In a child
// process, so the limit does not touch the test runner.
TEST_P(FileJournalTest, WriteErrorLatchesWithAClearError) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{64 << 10, 64 << 10};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    auto sink = OpenFileJournal(dir_.path(), GetParam());
    if (!sink.ok()) ::_exit(10);
    JournalWriterOptions o;
    o.preallocate = false;
    o.max_batch_bytes = 8 << 10;
    JournalWriter w(sink->get(), 1, o);
    Seq s = 1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!w.failed() && std::chrono::steady_clock::now() < deadline) {
      while (s <= 5000 && w.TryAppend(s, Cmd(s))) ++s;
      w.DoWork();
    }
    if (!w.failed()) ::_exit(11);
    const std::string msg(w.status().message());
    if (msg.find(JournalSegmentName(1)) == std::string::npos) ::_exit(12);
    if (msg.find("write") == std::string::npos) ::_exit(13);
    // Nothing past the limit was acknowledged.
    if (w.durable_seq() * 104 + 48 > (64u << 10)) ::_exit(14);
    if (w.TryAppend(s, Cmd(s))) ::_exit(15);
    std::fprintf(stderr, "durable=%llu\n", static_cast<unsigned long long>(w.durable_seq()));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // What is on disk recovers to at least the acknowledged prefix.
  JournalScanResult r;
  Recover(&r);
  EXPECT_GT(r.last_seq, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, FileJournalTest,
                         ::testing::Values(JournalIoBackend::kPwrite, JournalIoBackend::kUring),
                         [](const auto& info) {
                           return std::string(JournalIoBackendName(info.param));
                         });

TEST(FileJournalBackendTest, ParseAndAutoChoice) {
  EXPECT_EQ(*ParseJournalIoBackend("pwrite"), JournalIoBackend::kPwrite);
  EXPECT_EQ(*ParseJournalIoBackend("io_uring"), JournalIoBackend::kUring);
  EXPECT_EQ(*ParseJournalIoBackend("auto"), JournalIoBackend::kAuto);
  EXPECT_FALSE(ParseJournalIoBackend("aio").ok());
  TempDir dir;
  auto sink = OpenFileJournal(dir.path() + "/sub", JournalIoBackend::kAuto);
  ASSERT_TRUE(sink.ok()) << sink.status();
  std::string why;
  const bool uring = UringAvailable(&why);
  EXPECT_EQ((*sink)->Describe().rfind(uring ? "io_uring:" : "pwrite:", 0), 0u);
  auto missing = OpenFileJournal("/nonexistent_dir_xc/a/b", JournalIoBackend::kPwrite);
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace xc::engine::io
