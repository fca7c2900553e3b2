#pragma once
// Reading a journal back: recovery at shard start, `journal dump/verify/replay`,
// and (later) snapshot + journal-suffix recovery. Format: journal_format.h and
// engine/doc/journal_format.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/engine/journal_format.h"
#include "xc/engine/journal_sink.h"
#include "xc/protocol/command.h"
#include "xc/protocol/types.h"

namespace xc::engine {

struct JournalScanOptions {
  // true (recovery): cut a torn tail of the last segment, and the zero-filled
  // preallocated space after the last record of any segment, through
  // JournalSink::TruncateSegment, and print a warning line for a torn tail.
  // false (verify, dump): change nothing; report the torn tail in the result.
  bool repair = true;
  // Commands with seq <= after_seq are checked but not passed to the visitor
  // (they are covered by a snapshot at after_seq). The journal must then
  // reach back to after_seq + 1 (or be empty), otherwise DataLoss.
  protocol::Seq after_seq = 0;
  // If set, every segment header must carry this shard id (FailedPrecondition
  // otherwise: the directory belongs to another shard).
  std::optional<uint32_t> shard_id;
  // Print the torn-tail warning to stderr ("journal: warning: ..."). Tools
  // that print it themselves turn this off.
  bool log_warnings = true;
};

// What a scan found, per segment.
struct JournalSegmentInfo {
  std::string name;
  protocol::Seq first_seq = 0;     // from the segment header (0 if it has none)
  protocol::Seq last_seq = 0;      // of its last valid command (0 if none)
  uint64_t commands = 0;
  uint32_t shard_id = 0;
  uint64_t valid_bytes = 0;        // end of the last valid record
  uint64_t file_bytes = 0;         // size before any repair
};

struct JournalScanResult {
  std::vector<JournalSegmentInfo> segments;
  // First and last valid command seq in the journal; 0 when it has none. A
  // writer continues at last_seq + 1 (or after_seq + 1 if that is larger).
  protocol::Seq first_seq = 0;
  protocol::Seq last_seq = 0;
  uint64_t commands = 0;           // valid command records, visited or not
  // A torn tail was found (and cut, if repair): partial or garbage bytes after
  // the last valid record of the last segment, with no valid record after
  // them. torn_tail_detail names the file, offset and bytes dropped.
  bool torn_tail = false;
  std::string torn_tail_detail;
};

// Visitor of every valid record in journal order (segment headers included).
// `segment` is the file name. A non-Ok return stops the scan with that status.
using JournalVisitor =
    absl::FunctionRef<absl::Status(const std::string& segment, const JournalRecord& record)>;

// Reads every segment of `sink` in order, checks every record and the
// sequence, and visits the valid records.
//
// Outcomes:
//  * Ok: every record is valid, command seqs are consecutive within and
//    across segments, each segment starts with a header whose first_seq
//    matches its file name and its first command. A torn tail (see above) is
//    not an error: it is reported (and with repair, truncated and warned
//    about).
//  * DataLoss "journal corruption in <file> at offset <o>: <what>": a bad
//    record that is not a torn tail, i.e. in a segment that is not the last
//    one, or followed by a valid record later in the last segment.
//  * DataLoss "journal sequence gap in <file> at offset <o>: expected seq
//    <a>, found <b>": a command is missing (also across segments, and between
//    after_seq and the first command).
//  * FailedPrecondition: a segment of another shard or an unknown format version.
//  * the sink's error for I/O failures; the visitor's error if it fails.
// On an error, records before the problem have already been visited: the
// caller discards what it built from them and refuses to start.
//
// Thread: the caller's; uses the sink's reading side only (REQUIRES: no
// segment open). Allocates a segment's worth of memory at a time. Not for the
// hot path.
[[nodiscard]] absl::StatusOr<JournalScanResult> ScanJournal(JournalSink& sink,
                                                           const JournalScanOptions& options,
                                                           JournalVisitor visit);

// Convenience for replay: ScanJournal with a visitor that passes each command
// with seq > options.after_seq to on_command(seq, command).
[[nodiscard]] absl::StatusOr<JournalScanResult> ReplayJournal(
    JournalSink& sink, const JournalScanOptions& options,
    absl::FunctionRef<absl::Status(protocol::Seq, const protocol::Command&)> on_command);

}  // namespace xc::engine
