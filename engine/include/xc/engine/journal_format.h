#pragma once
// The on-disk record format of a shard's command journal (STYLE.md §12, after
// LevelDB's log_format.h). The full specification, with byte offsets and the
// recovery rules, is engine/doc/journal_format.md; this header is its code.
//
// A journal is a directory of segment files named journal-<first seq, 20
// digits>.log. A segment is a sequence of records, each
//
//   +0  u32 crc     CRC32C (Castagnoli) of bytes [4, 24 + length)
//   +4  u32 length  payload bytes (excluding header and padding)
//   +8  u64 seq     command sequence number (segment header: the first seq)
//   +16 u16 type    JournalRecordType
//   +18 u16 flags   0 in version 1
//   +20 u32 reserved 0 in version 1
//   +24 payload[length], then zero padding up to a multiple of 8 bytes
//
// all integers little-endian. The first record of every segment is a segment
// header; command records follow with consecutive sequence numbers. Bytes
// after the last record of a segment are zero (preallocated space) or absent.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "xc/protocol/crc32c.h"
#include "xc/protocol/command.h"
#include "xc/protocol/types.h"

namespace xc::engine {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the journal format is little-endian; a big-endian port must byte-swap");

inline constexpr uint32_t kJournalFormatVersion = 1;
// "XCJOURNL" as a little-endian u64: the first 8 payload bytes of a segment header.
inline constexpr uint64_t kJournalMagic = 0x4C4E52554F4A4358ULL;
inline constexpr size_t kJournalRecordHeaderSize = 24;
// Records start at multiples of this offset within a segment.
inline constexpr size_t kJournalRecordAlign = 8;
// Largest payload a reader accepts; anything larger is corruption.
inline constexpr uint32_t kJournalMaxPayload = 1u << 20;

enum class JournalRecordType : uint16_t {
  // Payload JournalSegmentHeader; first record of every segment; seq = first_seq.
  kSegmentHeader = 1,
  // Payload: one protocol::Command (80 bytes, its in-memory layout); seq = the
  // sequence number the shard stamped when it applied the command.
  kCommand = 2,
};

// Payload of a kSegmentHeader record (24 bytes).
struct JournalSegmentHeader {
  uint64_t magic = kJournalMagic;
  uint32_t version = kJournalFormatVersion;
  uint32_t shard_id = 0;
  // Sequence number of the first command record of this segment; equals the
  // number in the file name.
  protocol::Seq first_seq = 0;
};
static_assert(sizeof(JournalSegmentHeader) == 24);

// Bytes a record with a payload of `payload_len` bytes occupies, padding included.
constexpr size_t JournalRecordSize(size_t payload_len) {
  return kJournalRecordHeaderSize +
         ((payload_len + kJournalRecordAlign - 1) & ~(kJournalRecordAlign - 1));
}
inline constexpr size_t kJournalCommandRecordSize = JournalRecordSize(sizeof(protocol::Command));
inline constexpr size_t kJournalSegmentHeaderRecordSize =
    JournalRecordSize(sizeof(JournalSegmentHeader));
static_assert(kJournalCommandRecordSize == 104);

// The journal's checksum (xc/protocol/crc32c.h).
using protocol::Crc32c;
using protocol::Crc32cExtend;
using protocol::Crc32cIsHardware;

// Writes one record (header, payload, zero padding) to dst and returns the
// bytes written, JournalRecordSize(len). REQUIRES: dst has that much room;
// len <= kJournalMaxPayload. No allocation.
size_t EncodeJournalRecord(JournalRecordType type, protocol::Seq seq, const void* payload,
                           uint32_t len, char* dst);
// The writer's hot path: a command record (104 bytes). No allocation.
inline size_t EncodeCommandRecord(protocol::Seq seq, const protocol::Command& cmd, char* dst) {
  return EncodeJournalRecord(JournalRecordType::kCommand, seq, &cmd, sizeof(cmd), dst);
}

// One decoded record; payload points into the buffer that was decoded.
struct JournalRecord {
  JournalRecordType type = JournalRecordType::kCommand;
  protocol::Seq seq = 0;
  std::string_view payload;
  // Offset of the record's first byte in its segment, and its padded size.
  uint64_t offset = 0;
  size_t size = 0;

  // The command of a kCommand record; false for another type or a payload of
  // the wrong size.
  bool command(protocol::Command* out) const {
    if (type != JournalRecordType::kCommand || payload.size() != sizeof(protocol::Command)) {
      return false;
    }
    std::memcpy(static_cast<void*>(out), payload.data(), sizeof(protocol::Command));
    return true;
  }
  // The header of a kSegmentHeader record; false otherwise.
  bool segment_header(JournalSegmentHeader* out) const {
    if (type != JournalRecordType::kSegmentHeader || payload.size() != sizeof(*out)) return false;
    std::memcpy(out, payload.data(), sizeof(*out));
    return true;
  }
};

enum class JournalDecode : uint8_t {
  kOk = 0,
  kEnd,        // no bytes left at offset
  kZeros,      // the bytes at offset start with an all-zero header (preallocated space)
  kTruncated,  // fewer bytes than the header or the length it declares
  kBadLength,  // length > kJournalMaxPayload, or misaligned offset
  kBadCrc,     // CRC mismatch (also: non-zero flags/reserved, unknown type)
};
const char* JournalDecodeName(JournalDecode d);

// Decodes the record at `offset` of a segment's bytes. On kOk fills *out
// (payload is a view into `segment`). Pure function; any thread; no allocation.
JournalDecode DecodeJournalRecord(std::string_view segment, uint64_t offset, JournalRecord* out);

// "journal-00000000000000000001.log" for first_seq 1.
std::string JournalSegmentName(protocol::Seq first_seq);
// The first seq in a segment file name, or nullopt if `name` is not one.
std::optional<protocol::Seq> ParseJournalSegmentName(std::string_view name);

}  // namespace xc::engine
