#include "xc/engine/journal_format.h"

#include <charconv>
#include <cstdio>

namespace xc::engine {
namespace {

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

size_t EncodeJournalRecord(JournalRecordType type, protocol::Seq seq, const void* payload,
                           uint32_t len, char* dst) {
  const size_t size = JournalRecordSize(len);
  const uint16_t t = static_cast<uint16_t>(type);
  const uint16_t flags = 0;
  const uint32_t reserved = 0;
  std::memcpy(dst + 4, &len, 4);
  std::memcpy(dst + 8, &seq, 8);
  std::memcpy(dst + 16, &t, 2);
  std::memcpy(dst + 18, &flags, 2);
  std::memcpy(dst + 20, &reserved, 4);
  std::memcpy(dst + kJournalRecordHeaderSize, payload, len);
  // Zero padding: recovery's "all zeros after the last record" rule and
  // deterministic file contents both rely on it.
  std::memset(dst + kJournalRecordHeaderSize + len, 0, size - kJournalRecordHeaderSize - len);
  const uint32_t crc = Crc32c(dst + 4, kJournalRecordHeaderSize - 4 + len);
  std::memcpy(dst, &crc, 4);
  return size;
}

const char* JournalDecodeName(JournalDecode d) {
  switch (d) {
    case JournalDecode::kOk: return "ok";
    case JournalDecode::kEnd: return "end";
    case JournalDecode::kZeros: return "zero-filled space";
    case JournalDecode::kTruncated: return "truncated record";
    case JournalDecode::kBadLength: return "bad record length";
    case JournalDecode::kBadCrc: return "CRC mismatch";
  }
  return "?";
}

JournalDecode DecodeJournalRecord(std::string_view segment, uint64_t offset, JournalRecord* out) {
  if (offset >= segment.size()) return JournalDecode::kEnd;
  if (offset % kJournalRecordAlign != 0) return JournalDecode::kBadLength;
  const size_t left = segment.size() - offset;
  const char* p = segment.data() + offset;
  if (left < kJournalRecordHeaderSize) {
    for (size_t i = 0; i < left; ++i) {
      if (p[i] != 0) return JournalDecode::kTruncated;
    }
    return JournalDecode::kZeros;
  }
  const uint32_t crc = Load32(p);
  const uint32_t len = Load32(p + 4);
  if (crc == 0 && len == 0) {
    uint64_t rest[2];
    std::memcpy(rest, p + 8, 16);
    if ((rest[0] | rest[1]) == 0) return JournalDecode::kZeros;
  }
  if (len > kJournalMaxPayload) return JournalDecode::kBadLength;
  const size_t size = JournalRecordSize(len);
  if (size > left) return JournalDecode::kTruncated;
  if (Crc32c(p + 4, kJournalRecordHeaderSize - 4 + len) != crc) return JournalDecode::kBadCrc;
  uint16_t type, flags;
  uint32_t reserved;
  std::memcpy(&type, p + 16, 2);
  std::memcpy(&flags, p + 18, 2);
  std::memcpy(&reserved, p + 20, 4);
  if (flags != 0 || reserved != 0 ||
      (type != static_cast<uint16_t>(JournalRecordType::kSegmentHeader) &&
       type != static_cast<uint16_t>(JournalRecordType::kCommand))) {
    // A valid CRC over fields this version does not know: a newer writer.
    // Treated as a bad record; the scanner's message says which.
    return JournalDecode::kBadCrc;
  }
  out->type = static_cast<JournalRecordType>(type);
  std::memcpy(&out->seq, p + 8, 8);
  out->payload = std::string_view(p + kJournalRecordHeaderSize, len);
  out->offset = offset;
  out->size = size;
  return JournalDecode::kOk;
}

std::string JournalSegmentName(protocol::Seq first_seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "journal-%020llu.log",
                static_cast<unsigned long long>(first_seq));
  return buf;
}

std::optional<protocol::Seq> ParseJournalSegmentName(std::string_view name) {
  constexpr std::string_view kPrefix = "journal-";
  constexpr std::string_view kSuffix = ".log";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  const std::string_view digits = name.substr(kPrefix.size(), 20);
  protocol::Seq v = 0;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace xc::engine
