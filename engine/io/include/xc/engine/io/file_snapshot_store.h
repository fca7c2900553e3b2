#pragma once
// Snapshot files and journal retention (xc::engine_io). File header:
// engine/doc/snapshot_format.md, "Snapshot file".

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/engine/snapshot_store.h"
#include "xc/protocol/types.h"

namespace xc::engine::io {

// Size of the header in front of the image in a snapshot file.
inline constexpr size_t kSnapshotFileHeaderSize = 40;

// Opens the snapshots of directory `dir` (the shard's journal directory:
// snapshot-<seq, 20 digits>.snap files live beside journal-<seq>.log).
// create: make the directory (not its parents) if missing; otherwise a missing
// directory is NotFound. Leftover temporaries of an interrupted Save
// (snapshot-*.snap.tmp) are deleted.
//
// FileSnapshotStore, per SnapshotStore:
//  * Save writes header + image to snapshot-<seq>.snap.tmp, fdatasyncs it,
//    renames it over snapshot-<seq>.snap and fsyncs the directory; so a crash
//    leaves either no snapshot-<seq>.snap or a complete one.
//  * Load checks the header (magic, version, its own CRC), the file size
//    against the image length, the image's CRC32C and that the image's own
//    seq equals the header's and the name's; DataLoss "<path>: <what>" when
//    one fails.
// Thread safety: as SnapshotStore (one thread at a time). Allocation: Load
// reads the whole file into memory; Save writes from the caller's buffer.
[[nodiscard]] absl::StatusOr<std::unique_ptr<SnapshotStore>> OpenFileSnapshotStore(
    const std::string& dir, bool create = true);

// What happens to journal segments that a snapshot has made unnecessary.
struct RetentionPolicy {
  enum class Mode : uint8_t {
    kKeep = 0,     // leave them
    kDelete = 1,   // unlink them (the default)
    kArchive = 2,  // move them into archive_dir (created if missing)
  };
  Mode mode = Mode::kDelete;
  std::string archive_dir;
  // Snapshots kept (newest first; older ones are removed). The journal is
  // cut at the OLDEST kept snapshot, so that recovery can fall back to it
  // when the newest one turns out corrupt. 1 = cut at the newest snapshot.
  // 0 = keep every snapshot (the journal is then cut at the newest).
  uint32_t keep_snapshots = 2;

  // "keep" | "delete" | "archive:<dir>". InvalidArgument otherwise.
  [[nodiscard]] static absl::StatusOr<RetentionPolicy> Parse(std::string_view s);
  std::string ToString() const;
};

struct RetentionResult {
  protocol::Seq cut_seq = 0;  // segments holding only seqs <= this went
  std::vector<std::string> segments_removed;  // or archived
  std::vector<protocol::Seq> snapshots_removed;
};

// Applies `policy` to journal directory `dir` after a snapshot became durable:
// removes snapshots beyond the newest keep_snapshots, then removes (or
// archives) every segment journal-<f>.log whose successor segment starts at
// or before cut_seq + 1, i.e. whose commands all have seq <= cut_seq, where
// cut_seq is the oldest kept snapshot's seq. The newest segment is never
// touched (the writer may have it open), nor any segment holding cut_seq + 1
// or later. Segments are judged by their file names only, so this may run on
// any thread while the journal writer appends (it never touches the segment
// being written). Snapshots are removed through `store`.
// Errors: the first failing unlink/rename/copy, naming the file.
[[nodiscard]] absl::StatusOr<RetentionResult> ApplyRetention(const std::string& dir,
                                                             SnapshotStore& store,
                                                             const RetentionPolicy& policy);

}  // namespace xc::engine::io
