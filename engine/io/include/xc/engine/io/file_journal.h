#pragma once
// File-backed journal sinks (xc::engine_io): the JournalSink of a real
// directory, written with io_uring when the kernel permits it and with plain
// pwrite + fdatasync otherwise (STYLE.md §12, §18: io_uring is probed at run
// time; DESIGN.md "Hot path rules").

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/engine/journal_sink.h"

namespace xc::engine::io {

enum class JournalIoBackend : uint8_t {
  kAuto = 0,    // io_uring if io_uring_queue_init succeeds, else pwrite (with a log line)
  kUring = 1,   // io_uring or an error
  kPwrite = 2,  // pwrite(2) + fdatasync(2), synchronous inside BeginFlush
};

// "auto" | "io_uring" | "pwrite". InvalidArgument otherwise.
[[nodiscard]] absl::StatusOr<JournalIoBackend> ParseJournalIoBackend(std::string_view s);
const char* JournalIoBackendName(JournalIoBackend b);

// Whether this process may use io_uring: tries io_uring_queue_init on a tiny
// ring and tears it down. On refusal (EPERM from seccomp or
// kernel.io_uring_disabled, ENOSYS, a build without liburing) returns false
// and sets *why to the reason. Any thread; a few syscalls.
bool UringAvailable(std::string* why);

// Opens journal directory `dir` (created, with parents' existence required,
// if missing) as a JournalSink.
//
// Both implementations:
//  * segments are files `dir`/journal-<seq>.log, written at tracked offsets
//    (no O_APPEND), preallocated with fallocate(2) when asked (ignored where
//    unsupported), truncated to their final size on close;
//  * CreateSegment and TruncateSegment fsync the directory / file so that a
//    created, cut or closed segment survives a crash;
//  * "sync" is fdatasync(2) semantics (IORING_FSYNC_DATASYNC with io_uring);
//  * errors name the file, operation and offset: ResourceExhausted for
//    ENOSPC/EDQUOT, DataLoss for EIO, the errno's canonical code otherwise.
// PwriteJournalSink does the write and sync inside BeginFlush (the calling
// agent thread blocks for the sync latency); UringJournalSink submits the
// write and an fsync linked to it (IOSQE_IO_LINK) in one io_uring_submit and
// returns, so the agent keeps framing the next batch meanwhile; a short write
// is finished synchronously with pwrite.
//
// Backend choice: kAuto probes io_uring when `syncs` (the durability policy
// calls for fdatasync: that is what io_uring takes off the agent thread),
// and takes pwrite without syncs; when io_uring is refused it logs
//   "journal: io_uring refused (<reason>), using pwrite"
// to stderr and returns the pwrite sink. kUring returns FailedPrecondition
// when refused. Thread safety: as JournalSink (one thread at a time).
// Allocation: at open; nothing per flush.
[[nodiscard]] absl::StatusOr<std::unique_ptr<JournalSink>> OpenFileJournal(
    const std::string& dir, JournalIoBackend backend = JournalIoBackend::kAuto,
    bool syncs = true);

}  // namespace xc::engine::io
