#include "xc/engine/journal_reader.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xc/protocol/status_macros.h"

namespace xc::engine {
namespace {

bool AllZero(std::string_view data, uint64_t from) {
  for (size_t i = from; i < data.size(); ++i) {
    if (data[i] != 0) return false;
  }
  return true;
}

// Whether a valid record starts anywhere after `from` (at record alignment).
// This is what tells a torn tail (garbage up to the end) from corruption in
// the middle (good data follows the bad record, so something durable and
// possibly acknowledged would be lost by cutting there).
bool ValidRecordAfter(std::string_view data, uint64_t from) {
  JournalRecord rec;
  for (uint64_t o = from + kJournalRecordAlign; o + kJournalRecordHeaderSize <= data.size();
       o += kJournalRecordAlign) {
    if (DecodeJournalRecord(data, o, &rec) == JournalDecode::kOk) return true;
  }
  return false;
}

absl::Status Corruption(const std::string& path, uint64_t offset, const std::string& what) {
  return absl::DataLossError(
      absl::StrCat("journal corruption in ", path, " at offset ", offset, ": ", what));
}

absl::Status Gap(const std::string& path, uint64_t offset, protocol::Seq expected,
                 protocol::Seq found) {
  return absl::DataLossError(absl::StrCat("journal sequence gap in ", path, " at offset ", offset,
                                          ": expected seq ", expected, ", found ", found));
}

}  // namespace

absl::StatusOr<JournalScanResult> ScanJournal(JournalSink& sink, const JournalScanOptions& options,
                                              JournalVisitor visit) {
  JournalScanResult result;
  XC_ASSIGN_OR_RETURN(std::vector<std::string> names, sink.ListSegments());
  // The seq the next command must carry; 0 until the first segment header.
  protocol::Seq expected = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const std::string path = sink.SegmentPath(name);
    const bool last = i + 1 == names.size();
    XC_ASSIGN_OR_RETURN(const std::string data, sink.ReadSegment(name));
    JournalSegmentInfo info;
    info.name = name;
    info.file_bytes = data.size();
    const protocol::Seq name_seq = ParseJournalSegmentName(name).value_or(0);

    uint64_t off = 0;
    bool have_header = false;
    for (;;) {
      JournalRecord rec;
      const JournalDecode d = DecodeJournalRecord(data, off, &rec);
      if (d == JournalDecode::kEnd) break;
      if (d != JournalDecode::kOk) {
        if (d == JournalDecode::kZeros && AllZero(data, off)) break;  // preallocated space
        if (!last || ValidRecordAfter(data, off)) {
          return Corruption(path, off, JournalDecodeName(d));
        }
        result.torn_tail = true;
        result.torn_tail_detail =
            absl::StrCat("torn tail in ", path, " at offset ", off, ": ", data.size() - off,
                         " bytes dropped (", JournalDecodeName(d), ")");
        break;
      }
      if (!have_header) {
        JournalSegmentHeader h;
        if (!rec.segment_header(&h)) {
          return Corruption(path, off, "segment does not start with a segment header");
        }
        if (h.magic != kJournalMagic) return Corruption(path, off, "bad segment magic");
        if (h.version != kJournalFormatVersion) {
          return absl::FailedPreconditionError(absl::StrCat(
              path, ": journal format version ", h.version, ", this build reads ",
              kJournalFormatVersion));
        }
        if (options.shard_id.has_value() && h.shard_id != *options.shard_id) {
          return absl::FailedPreconditionError(absl::StrCat(
              path, ": segment of shard ", h.shard_id, ", expected shard ", *options.shard_id));
        }
        if (h.first_seq != name_seq || rec.seq != h.first_seq) {
          return Corruption(path, off,
                            absl::StrCat("segment header first seq ", h.first_seq,
                                         " does not match the file name"));
        }
        if (expected != 0 && h.first_seq != expected) {
          return Gap(path, off, expected, h.first_seq);
        }
        if (expected == 0 && options.after_seq != 0 && h.first_seq > options.after_seq + 1) {
          return Gap(path, off, options.after_seq + 1, h.first_seq);
        }
        expected = h.first_seq;
        have_header = true;
        info.first_seq = h.first_seq;
        info.shard_id = h.shard_id;
      } else if (rec.type != JournalRecordType::kCommand) {
        return Corruption(path, off, "unexpected record type inside a segment");
      } else {
        if (rec.seq != expected) return Gap(path, off, expected, rec.seq);
        if (rec.payload.size() != sizeof(protocol::Command)) {
          return Corruption(path, off, "command record of the wrong size");
        }
        ++expected;
        ++info.commands;
        info.last_seq = rec.seq;
        if (result.first_seq == 0) result.first_seq = rec.seq;
        result.last_seq = rec.seq;
        ++result.commands;
      }
      XC_RETURN_IF_ERROR(visit(name, rec));
      off += rec.size;
    }
    info.valid_bytes = off;
    if (!have_header && !last) {
      return Corruption(path, 0, "empty segment before the last one");
    }
    if (result.torn_tail && options.log_warnings) {
      std::fprintf(stderr, "journal: warning: %s%s\n", result.torn_tail_detail.c_str(),
                   options.repair ? "; truncated" : "");
    }
    if (options.repair && info.valid_bytes < info.file_bytes) {
      XC_RETURN_IF_ERROR(sink.TruncateSegment(name, info.valid_bytes));
    }
    result.segments.push_back(std::move(info));
  }
  return result;
}

absl::StatusOr<JournalScanResult> ReplayJournal(
    JournalSink& sink, const JournalScanOptions& options,
    absl::FunctionRef<absl::Status(protocol::Seq, const protocol::Command&)> on_command) {
  return ScanJournal(sink, options,
                     [&](const std::string&, const JournalRecord& rec) -> absl::Status {
                       protocol::Command cmd;
                       if (rec.seq <= options.after_seq || !rec.command(&cmd)) {
                         return absl::OkStatus();
                       }
                       return on_command(rec.seq, cmd);
                     });
}

}  // namespace xc::engine
