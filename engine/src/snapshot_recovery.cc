#include "xc/engine/snapshot_recovery.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "xc/protocol/status_macros.h"

namespace xc::engine {

absl::StatusOr<RecoveryResult> RecoverShard(SnapshotStore* snapshots, JournalSink& journal,
                                            Shard* shard, const RecoveryOptions& options) {
  if (shard->last_seq() != 0) {
    return absl::FailedPreconditionError("recovery: the shard has already applied commands");
  }
  RecoveryResult result;
  if (snapshots != nullptr && options.use_snapshots) {
    std::optional<LoadedSnapshot> snap;
    protocol::Seq limit = options.max_seq;
    if (options.snapshot_at_most.has_value() && (limit == 0 || *options.snapshot_at_most < limit)) {
      limit = *options.snapshot_at_most;
    }
    const bool limited = options.max_seq != 0 || options.snapshot_at_most.has_value();
    if (!limited) {
      XC_ASSIGN_OR_RETURN(snap, snapshots->LoadNewestValid(options.scan.log_warnings,
                                                           &result.skipped_snapshots));
    } else {
      // The newest valid snapshot not after max_seq.
      XC_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> list, snapshots->List());
      for (auto it = list.rbegin(); it != list.rend() && !snap.has_value(); ++it) {
        if (it->seq > limit) continue;
        absl::StatusOr<LoadedSnapshot> s = snapshots->Load(it->seq);
        if (s.ok()) {
          snap = std::move(*s);
        } else if (s.status().code() != absl::StatusCode::kDataLoss) {
          return s.status();
        } else {
          result.skipped_snapshots.push_back(std::string(s.status().message()));
        }
      }
    }
    if (snap.has_value()) {
      absl::Status st = shard->LoadFrom(snap->image);
      if (!st.ok()) {
        return absl::Status(st.code(), absl::StrCat("recovery: snapshot ", snap->name,
                                                    " does not load: ", st.message()));
      }
      if (shard->last_seq() != snap->seq) {
        return absl::DataLossError(absl::StrCat("recovery: snapshot ", snap->name,
                                                " holds seq ", shard->last_seq()));
      }
      result.snapshot_seq = snap->seq;
      result.snapshot_name = std::move(snap->name);
    }
  }

  JournalScanOptions scan = options.scan;
  scan.after_seq = result.snapshot_seq;
  EventBuffer events(4096);
  uint64_t replayed = 0;
  absl::StatusOr<JournalScanResult> r =
      ReplayJournal(journal, scan, [&](protocol::Seq seq, const protocol::Command& cmd) {
        if (options.max_seq != 0 && seq > options.max_seq) return absl::OkStatus();
        // ScanJournal already proves continuity within the journal; this also
        // ties the journal to the snapshot (and to seq 1 without one).
        if (seq != shard->last_seq() + 1) {
          return absl::DataLossError(absl::StrCat(
              "recovery: journal sequence gap: expected seq ", shard->last_seq() + 1,
              ", found ", seq, result.snapshot_seq != 0
                                   ? absl::StrCat(" (after snapshot ", result.snapshot_name, ")")
                                   : std::string(" (no snapshot)")));
        }
        events.clear();
        shard->Apply(cmd, events);
        if (options.on_events) options.on_events(seq, events);
        ++replayed;
        return absl::OkStatus();
      });
  if (!r.ok()) return r.status();
  result.journal = std::move(*r);
  result.commands_replayed = replayed;
  result.last_seq = shard->last_seq();
  return result;
}

}  // namespace xc::engine
