#pragma once
// JournalSink: the seam between the journal (format, writer, recovery, all in
// engine_core) and the storage it lives on (STYLE.md §2, §12; LevelDB's Env).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace xc::engine {

// JournalSink is one journal directory: a set of segment files
// (journal-<seq>.log, see journal_format.h) that can be listed, read and
// truncated (recovery, tools), and written one segment at a time with at most
// one flush in flight (JournalWriter).
//
// Implementations: PwriteJournalSink and UringJournalSink (engine_io, real
// files; OpenFileJournal picks one at run time), MemJournalSink
// (xc::engine_journal_testing: in memory, with fault injection).
//
// Thread safety: not thread-safe. One thread at a time uses a sink (the
// recovery thread, then the journal writer's agent thread); hand-over needs a
// happens-before edge (thread start/join).
//
// Flush model: BeginFlush starts "write these bytes at this offset of the
// open segment, then (optionally) make the segment durable"; completion is
// observed by PollFlush (non-blocking) or WaitFlush. A synchronous sink
// (pwrite) does the work inside BeginFlush and reports it at the next poll; an
// asynchronous one (io_uring) returns at once and the caller keeps working
// (group commit: the next batch accumulates while this one is on its way).
//
// Errors are absl::Status with a message that names the file and offset:
// ResourceExhausted for ENOSPC/EDQUOT (disk full), DataLoss for EIO, the
// errno's canonical code otherwise. After an error the open segment's contents
// beyond the last successful sync are unspecified (a partial write may have
// landed); recovery truncates them as a torn tail.
class JournalSink {
 public:
  virtual ~JournalSink() = default;

  // "pwrite:/var/lib/xc/shard0", "io_uring:...", "mem": for log lines.
  virtual std::string Describe() const = 0;
  // Where segment `name` lives, for messages: "/var/lib/xc/shard0/journal-...log".
  virtual std::string SegmentPath(std::string_view name) const = 0;

  // ---- reading (recovery, tools); not while a segment is open ----

  // Names of the segment files present (those ParseJournalSegmentName
  // accepts), ascending by first sequence number. Other files are ignored.
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> ListSegments() = 0;
  // The whole contents of segment `name` (at most a segment's size, 64 MiB by
  // default). NotFound if it does not exist.
  [[nodiscard]] virtual absl::StatusOr<std::string> ReadSegment(std::string_view name) = 0;
  // Cuts segment `name` to `size` bytes and makes that durable. Used by
  // recovery to drop a torn tail and the preallocated zeros after it.
  [[nodiscard]] virtual absl::Status TruncateSegment(std::string_view name, uint64_t size) = 0;

  // ---- writing: one open segment at a time ----

  // Creates segment `name` (replacing a file of that name, which recovery has
  // proven empty), optionally preallocating `preallocate_bytes` of zeros
  // (fallocate; best effort), makes its directory entry durable, and opens it
  // for flushes. REQUIRES: no segment open.
  [[nodiscard]] virtual absl::Status CreateSegment(std::string_view name,
                                                   uint64_t preallocate_bytes) = 0;
  // Starts a flush: write data[0..n) at byte `offset` of the open segment,
  // then, if `sync`, make everything written to the segment so far durable
  // (fdatasync semantics). n == 0 with sync is a pure sync.
  // REQUIRES: a segment is open; no flush in flight; data[0..n) stays valid and
  // unmodified until the flush's completion has been reported.
  // Returns an error only if the flush could not be started (nothing is in
  // flight then); I/O errors are reported at completion.
  [[nodiscard]] virtual absl::Status BeginFlush(uint64_t offset, const char* data, size_t n,
                                                bool sync) = 0;
  // nullopt while the flush is in flight (or none was started); otherwise its
  // outcome, reported exactly once: Ok only if every byte was written and, if
  // asked, synced.
  virtual std::optional<absl::Status> PollFlush() = 0;
  // Blocks until the flush in flight completes and returns its outcome (Ok
  // when none is in flight).
  [[nodiscard]] virtual absl::Status WaitFlush() = 0;
  // Truncates the open segment to `final_size` (dropping unused preallocated
  // space), syncs it, and closes it. REQUIRES: no flush in flight.
  [[nodiscard]] virtual absl::Status CloseSegment(uint64_t final_size) = 0;
};

}  // namespace xc::engine
