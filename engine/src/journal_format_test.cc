#include "xc/engine/journal_format.h"

#include <string>

#include "gtest/gtest.h"
#include "xc/protocol/command.h"

namespace xc::engine {
namespace {

using protocol::Command;
using protocol::Side;

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
  std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62A8AB43u);
}

TEST(Crc32cTest, ExtendEqualsWholeAtEverySplit) {
  std::string s;
  for (int i = 0; i < 300; ++i) s.push_back(static_cast<char>(i * 7 + 3));
  const uint32_t whole = Crc32c(s.data(), s.size());
  for (size_t cut = 0; cut <= s.size(); cut += 13) {
    EXPECT_EQ(Crc32cExtend(Crc32c(s.data(), cut), s.data() + cut, s.size() - cut), whole) << cut;
  }
}

TEST(JournalFormatTest, CommandRecordRoundTrip) {
  Command c = Command::Limit(3, 42, 7, Side::kSell, 10'100, 25);
  c.ts = 123456789;
  char buf[kJournalCommandRecordSize];
  ASSERT_EQ(EncodeCommandRecord(99, c, buf), kJournalCommandRecordSize);
  JournalRecord rec;
  const std::string_view seg(buf, sizeof(buf));
  ASSERT_EQ(DecodeJournalRecord(seg, 0, &rec), JournalDecode::kOk);
  EXPECT_EQ(rec.type, JournalRecordType::kCommand);
  EXPECT_EQ(rec.seq, 99u);
  EXPECT_EQ(rec.size, kJournalCommandRecordSize);
  Command out;
  ASSERT_TRUE(rec.command(&out));
  EXPECT_EQ(std::memcmp(&out, &c, sizeof(c)), 0);
  JournalSegmentHeader h;
  EXPECT_FALSE(rec.segment_header(&h));
}

TEST(JournalFormatTest, SegmentHeaderRoundTripAndPadding) {
  JournalSegmentHeader h;
  h.shard_id = 5;
  h.first_seq = 1000;
  char buf[kJournalSegmentHeaderRecordSize];
  ASSERT_EQ(EncodeJournalRecord(JournalRecordType::kSegmentHeader, 1000, &h, sizeof(h), buf),
            48u);
  JournalRecord rec;
  ASSERT_EQ(DecodeJournalRecord(std::string_view(buf, 48), 0, &rec), JournalDecode::kOk);
  JournalSegmentHeader out;
  ASSERT_TRUE(rec.segment_header(&out));
  EXPECT_EQ(out.magic, kJournalMagic);
  EXPECT_EQ(out.shard_id, 5u);
  EXPECT_EQ(out.first_seq, 1000u);
  // A 3-byte payload is padded with zeros to 8.
  char small[32];
  std::memset(small, 0x55, sizeof(small));
  EXPECT_EQ(EncodeJournalRecord(JournalRecordType::kCommand, 1, "abc", 3, small), 32u);
  for (int i = 27; i < 32; ++i) EXPECT_EQ(small[i], 0);
}

TEST(JournalFormatTest, DecodeDetectsEveryKindOfDamage) {
  Command c = Command::Cancel(1, 2);
  std::string seg(kJournalCommandRecordSize, '\0');
  EncodeCommandRecord(1, c, seg.data());
  JournalRecord rec;
  // Any flipped bit anywhere in header or payload fails the CRC.
  for (size_t i = 0; i < kJournalRecordHeaderSize + sizeof(Command); ++i) {
    std::string bad = seg;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    const JournalDecode d = DecodeJournalRecord(bad, 0, &rec);
    EXPECT_NE(d, JournalDecode::kOk) << "byte " << i;
  }
  EXPECT_EQ(DecodeJournalRecord(std::string_view(seg).substr(0, 50), 0, &rec),
            JournalDecode::kTruncated);
  EXPECT_EQ(DecodeJournalRecord(std::string_view(seg).substr(0, 10), 0, &rec),
            JournalDecode::kTruncated);
  EXPECT_EQ(DecodeJournalRecord(seg, seg.size(), &rec), JournalDecode::kEnd);
  EXPECT_EQ(DecodeJournalRecord(std::string(64, '\0'), 0, &rec), JournalDecode::kZeros);
  EXPECT_EQ(DecodeJournalRecord(std::string(5, '\0'), 0, &rec), JournalDecode::kZeros);
  std::string huge = seg;
  const uint32_t len = kJournalMaxPayload + 1;
  std::memcpy(huge.data() + 4, &len, 4);
  EXPECT_EQ(DecodeJournalRecord(huge, 0, &rec), JournalDecode::kBadLength);
  EXPECT_EQ(DecodeJournalRecord(seg, 4, &rec), JournalDecode::kBadLength);  // misaligned
}

TEST(JournalFormatTest, SegmentNames) {
  EXPECT_EQ(JournalSegmentName(1), "journal-00000000000000000001.log");
  EXPECT_EQ(ParseJournalSegmentName("journal-00000000000000000001.log"), 1u);
  EXPECT_EQ(ParseJournalSegmentName(JournalSegmentName(18446744073709551615ull)),
            18446744073709551615ull);
  EXPECT_FALSE(ParseJournalSegmentName("journal-1.log").has_value());
  EXPECT_FALSE(ParseJournalSegmentName("journal-0000000000000000000x.log").has_value());
  EXPECT_FALSE(ParseJournalSegmentName("snapshot-00000000000000000001.log").has_value());
  EXPECT_FALSE(ParseJournalSegmentName("journal-00000000000000000001.tmp").has_value());
}

}  // namespace
}  // namespace xc::engine
