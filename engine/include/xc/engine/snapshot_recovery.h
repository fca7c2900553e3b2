#pragma once
// Shard recovery: the newest valid snapshot plus the journal after it
// (DESIGN.md invariants 1 and 2; engine/doc/snapshot_format.md,
// engine/doc/journal_format.md).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/journal_reader.h"
#include "xc/engine/journal_sink.h"
#include "xc/engine/shard.h"
#include "xc/engine/snapshot_store.h"
#include "xc/protocol/types.h"

namespace xc::engine {

struct RecoveryOptions {
  // How the journal is scanned. repair (default true) cuts a torn tail, as a
  // restarting shard must before it appends; tools pass false. after_seq is
  // ignored (recovery sets it to the snapshot's seq).
  JournalScanOptions scan;
  // false: ignore the snapshots and replay the whole journal (which must
  // then start at seq 1).
  bool use_snapshots = true;
  // If non-zero, apply only commands with seq <= max_seq (the rest of the
  // journal is still checked): the state at a point in time, for tools. A
  // snapshot newer than max_seq is not used.
  protocol::Seq max_seq = 0;
  // If set, use the newest valid snapshot with seq <= *snapshot_at_most (and
  // replay the journal from there), even when newer ones exist: a consumer
  // that has applied the shard's events only up to that seq gets the rest
  // through on_events (the order service after a crash, DESIGN.md
  // invariant 3). 0: no snapshot, the journal from seq 1.
  std::optional<protocol::Seq> snapshot_at_most;
  // Called after each replayed command with its events (tools count trades).
  // Empty: events are discarded.
  std::function<void(protocol::Seq, const EventBuffer&)> on_events;
};

struct RecoveryResult {
  // The snapshot loaded (0 and "" when none: the journal was replayed from
  // seq 1), and newer ones skipped as corrupt ("<name>: <why>"), also when
  // none was valid.
  protocol::Seq snapshot_seq = 0;
  std::string snapshot_name;
  std::vector<std::string> skipped_snapshots;
  // Commands applied from the journal after the snapshot.
  uint64_t commands_replayed = 0;
  // The shard's last_seq() afterwards; a journal writer continues at
  // last_seq + 1 (JournalWriter's next_seq).
  protocol::Seq last_seq = 0;
  // The journal scan (segments, torn tail: torn_tail, torn_tail_detail).
  JournalScanResult journal;
};

// Rebuilds `shard` from `snapshots` (may be null: journal only) and `journal`:
// loads the newest snapshot that passes its checks (Shard::LoadFrom), then
// applies every journaled command with seq > the snapshot's seq through
// Shard::Apply, in order.
//
// REQUIRES: shard has its symbols (AddSymbol, with pools large enough for the
// snapshot) and has applied nothing; the journal sink has no segment open.
//
// Outcomes:
//  * Ok: shard.last_seq() == result.last_seq, and shard.StateHash() equals
//    that of an uninterrupted run over commands 1..last_seq (determinism). A
//    torn tail of the journal is cut (scan.repair) and reported.
//  * DataLoss: journal corruption or a sequence gap (ScanJournal), including
//    a journal whose first command after the snapshot is not snapshot seq + 1
//    (e.g. segments removed that the snapshot does not cover), or no
//    snapshot and a journal that does not start at seq 1.
//  * InvalidArgument / ResourceExhausted: a snapshot that passed its store's
//    checks but does not load into this shard (other symbols, pools too
//    small). Recovery does not fall back to an older snapshot then: it is a
//    configuration problem, not corruption.
//  * FailedPrecondition: the shard already applied commands; a journal of
//    another shard (scan.shard_id).
//  * the store's or sink's error for I/O failures.
// On error the shard is in an unspecified state: discard it, refuse to start.
//
// Thread: the caller's (startup, before the shard thread runs). Allocates the
// snapshot image and an event buffer. Cost: O(snapshot + journal suffix).
[[nodiscard]] absl::StatusOr<RecoveryResult> RecoverShard(SnapshotStore* snapshots,
                                                          JournalSink& journal, Shard* shard,
                                                          const RecoveryOptions& options = {});

}  // namespace xc::engine
