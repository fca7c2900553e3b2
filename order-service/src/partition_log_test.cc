#include "xc/order_service/partition_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace xc::order_service {
namespace {

class PartitionLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/xc-partition-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/partition-0.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  PartitionLog::OpenResult Open() {
    auto r = PartitionLog::Open(path_, {});
    EXPECT_TRUE(r.ok()) << r.status();
    return *std::move(r);
  }
  std::string dir_, path_;
};

TEST_F(PartitionLogTest, RecordsSurviveReopenOnlyOnceSynced) {
  {
    auto r = Open();
    EXPECT_TRUE(r.records.empty());
    r.log->Append("first");
    r.log->Append(std::string(100000, 'x'));
    EXPECT_TRUE(r.log->pending());
    ASSERT_TRUE(r.log->Sync().ok());
    EXPECT_FALSE(r.log->pending());
    EXPECT_EQ(r.log->records_synced(), 2u);
    EXPECT_TRUE(r.log->Sync().ok());  // nothing buffered: no-op
  }
  auto r = Open();
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], "first");
  EXPECT_EQ(r.records[1], std::string(100000, 'x'));
  EXPECT_EQ(r.cut_bytes, 0u);
}

TEST_F(PartitionLogTest, TornTailIsCutAndAppendsContinue) {
  {
    auto r = Open();
    r.log->Append("one");
    r.log->Append("two");
    ASSERT_TRUE(r.log->Sync().ok());
  }
  const auto whole = std::filesystem::file_size(path_);
  // A crash in the middle of the next write: half a record, then a record
  // whose CRC does not match.
  for (const std::string& junk : {std::string("\x01\x02\x03", 3),
                                  std::string("\0\0\0\0\x05\0\0\0three", 13)}) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
    ::close(fd);
    auto r = Open();
    ASSERT_EQ(r.records.size(), 2u);
    EXPECT_EQ(r.cut_bytes, junk.size());
    EXPECT_EQ(std::filesystem::file_size(path_), whole);
  }
  {
    auto r = Open();
    r.log->Append("three");
    ASSERT_TRUE(r.log->Sync().ok());
  }
  auto r = Open();
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[2], "three");
}

// Writes go through the mapping, grow the file in preallocated steps (and
// remap past the first mapping), and a copy of the file taken while the log
// is open -- what a crash of the process leaves -- holds every record
// written, followed by zeros that Open cuts without calling them torn.
TEST_F(PartitionLogTest, MappedWritesGrowTheFileAndSurviveACrash) {
  PartitionLogOptions o;
  o.sync = false;
  o.grow_bytes = 4096;
  o.map_bytes = 8192;  // remaps after two steps
  auto opened = PartitionLog::Open(path_, o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<PartitionLog> log = std::move(opened->log);
  EXPECT_TRUE(log->mapped());
  std::vector<std::string> written;
  for (int i = 0; i < 300; ++i) {
    written.push_back(std::string(static_cast<size_t>(1 + i % 97), static_cast<char>('a' + i % 26)));
    log->Append(written.back());
    if (i % 7 == 0) {
      ASSERT_TRUE(log->Sync().ok());
    }
  }
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(log->records_synced(), 300u);
  const uint64_t bytes = log->bytes();
  const auto on_disk = std::filesystem::file_size(path_);
  EXPECT_GT(on_disk, bytes);  // preallocated room
  EXPECT_EQ(on_disk % 4096, 0u);
  const std::string crashed = dir_ + "/crashed.log";
  std::filesystem::copy_file(path_, crashed);
  {
    auto r = PartitionLog::Open(crashed, o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->records, written);
    EXPECT_EQ(r->cut_bytes, 0u);
    EXPECT_EQ(r->zero_tail_bytes, on_disk - bytes);
    EXPECT_EQ(std::filesystem::file_size(crashed), bytes);
    r->log->Append("after");  // appends continue after the last record
    ASSERT_TRUE(r->log->Sync().ok());
  }
  auto r = PartitionLog::Open(crashed, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 301u);
  EXPECT_EQ(r->records.back(), "after");
  // A clean close leaves records only.
  log.reset();
  EXPECT_EQ(std::filesystem::file_size(path_), bytes);
  auto again = Open();
  EXPECT_EQ(again.records, written);
  EXPECT_EQ(again.zero_tail_bytes, 0u);
}

TEST_F(PartitionLogTest, OpenErrorsNameThePath) {
  auto r = PartitionLog::Open(dir_ + "/missing-dir/p.log", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("missing-dir"), std::string::npos);
}

}  // namespace
}  // namespace xc::order_service
