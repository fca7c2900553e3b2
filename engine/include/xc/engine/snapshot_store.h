#pragma once
// SnapshotStore: the seam between shard snapshots (Shard::SaveTo images,
// recovery in snapshot_recovery.h, all in engine_core) and the storage they
// live on (STYLE.md §2, §9). The file implementation is
// xc::engine::io::FileSnapshotStore (engine_io); an in-memory fake with fault
// injection is xc::engine::testing::MemSnapshotStore (xc::engine_snapshot_testing).
// Image format: engine/doc/snapshot_format.md.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/protocol/types.h"

namespace xc::engine {

// One stored snapshot, as listed (not yet validated).
struct SnapshotInfo {
  protocol::Seq seq = 0;
  std::string name;    // "snapshot-00000000000000001000.snap" (file stores); for messages
  uint64_t bytes = 0;  // stored size, header included
};

// A snapshot that passed every check of its store (size, CRC, seq).
struct LoadedSnapshot {
  protocol::Seq seq = 0;
  std::string name;
  std::string image;  // the Shard::SaveTo image
};

// SnapshotStore holds a shard's snapshots, each the Shard::SaveTo image at a
// sequence number, at most one per seq.
//
// Thread safety: not thread-safe; one thread at a time (the recovery thread,
// then the snapshot writer thread; hand-over needs a happens-before edge).
//
// Durability: Save returns Ok only once the snapshot is durable and complete:
// a crash at any point leaves either the old set of snapshots or the old set
// plus the new one, never a half-written snapshot that loads. Corruption
// after the fact (bit rot, a truncated copy) is detected by the store's
// checksums: LoadNewestValid skips such a snapshot with a warning.
//
// Errors name the snapshot (file path) and the operation: ResourceExhausted
// for a full disk, DataLoss for EIO or a failed check (Load), the errno's
// canonical code otherwise.
class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // "file:/var/lib/xc/shard0", "mem": for log lines.
  virtual std::string Describe() const = 0;

  // Stores `image` as the snapshot at `seq`, replacing one at the same seq.
  // REQUIRES: image is a Shard::SaveTo image whose sequence number is seq (a
  // store may check it: InvalidArgument). Blocks for the write and its sync
  // (for a file store, ~image size / disk bandwidth + one fsync); never call
  // it on a shard thread.
  [[nodiscard]] virtual absl::Status Save(protocol::Seq seq, std::string_view image) = 0;

  // The snapshots present, ascending by seq, unvalidated. Files that are not
  // snapshots (temporaries of an interrupted Save included) are not listed.
  [[nodiscard]] virtual absl::StatusOr<std::vector<SnapshotInfo>> List() = 0;

  // The image of snapshot `seq` after checking it. NotFound if absent;
  // DataLoss "<name>: <why>" if it fails a check.
  [[nodiscard]] virtual absl::StatusOr<LoadedSnapshot> Load(protocol::Seq seq) = 0;

  // The newest snapshot that passes every check, skipping (and, if
  // log_warnings, printing "snapshot: warning: skipping <name>: <why>" to
  // stderr) newer ones that do not. nullopt when there is none (no snapshot
  // at all, or all corrupt). If `skipped` is set, appends "<name>: <why>"
  // for each snapshot skipped, newest first. Errors: only I/O failures other
  // than a failed check (e.g. the directory cannot be read).
  [[nodiscard]] virtual absl::StatusOr<std::optional<LoadedSnapshot>> LoadNewestValid(
      bool log_warnings = true, std::vector<std::string>* skipped = nullptr);

  // Deletes snapshot `seq`. Ok if it was not there.
  [[nodiscard]] virtual absl::Status Remove(protocol::Seq seq) = 0;
};

// What a Shard::SaveTo image contains, read from its headers without
// loading it (tools size the books' pools from it before Shard::LoadFrom).
struct ShardImageInfo {
  protocol::Seq seq = 0;
  struct Book {
    protocol::SymbolId symbol = 0;
    uint64_t resting_orders = 0;
    uint64_t pending_stops = 0;
    uint64_t bytes = 0;
  };
  std::vector<Book> books;  // ascending symbol id
};
// Parses the shard and book headers of an image (format:
// engine/doc/snapshot_format.md). InvalidArgument for a truncated image or a
// bad magic. Pure function; O(books).
[[nodiscard]] absl::StatusOr<ShardImageInfo> InspectShardImage(std::string_view image);

// "snapshot-00000000000000001000.snap" for seq 1000 (the name a file store
// gives a snapshot; also used by the fake so that messages look alike).
std::string SnapshotFileName(protocol::Seq seq);
// The seq in a snapshot file name, or nullopt if `name` is not one.
std::optional<protocol::Seq> ParseSnapshotFileName(std::string_view name);

}  // namespace xc::engine
