#include "xc/order_service/partition_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
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

TEST_F(PartitionLogTest, OpenErrorsNameThePath) {
  auto r = PartitionLog::Open(dir_ + "/missing-dir/p.log", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("missing-dir"), std::string::npos);
}

}  // namespace
}  // namespace xc::order_service
