#pragma once
// Internal to engine_io: the directory side shared by both file sinks, and
// the two sinks themselves (the public API is file_journal.h).

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/engine/journal_sink.h"

namespace xc::engine::io::internal {

// Status for a failed syscall: "<path>: <op> at offset <o>: <strerror>".
absl::Status ErrnoStatus(int err, const std::string& path, std::string_view op,
                         int64_t offset = -1);
// pwrite all of data[0..n) at offset (retrying short writes and EINTR);
// returns 0 or an errno.
int PwriteAll(int fd, const char* data, size_t n, uint64_t offset);
// Reads the whole file open on fd (named path in errors) and closes fd, in
// every outcome. A file that shrinks while being read yields what was there.
absl::StatusOr<std::string> ReadAllAndClose(int fd, const std::string& path);

// PosixJournalSink: listing, reading, truncating, creating and closing
// segment files in one directory. Subclasses provide the flush.
class PosixJournalSink : public JournalSink {
 public:
  ~PosixJournalSink() override;

  std::string SegmentPath(std::string_view name) const override;
  absl::StatusOr<std::vector<std::string>> ListSegments() override;
  absl::StatusOr<std::string> ReadSegment(std::string_view name) override;
  absl::Status TruncateSegment(std::string_view name, uint64_t size) override;
  absl::Status CreateSegment(std::string_view name, uint64_t preallocate_bytes) override;
  absl::Status CloseSegment(uint64_t final_size) override;

 protected:
  // Opens (creating if needed) the directory.
  absl::Status OpenDir(const std::string& dir);

  std::string dir_;
  int dir_fd_ = -1;
  int fd_ = -1;             // open segment, or -1
  std::string open_path_;   // its path, for messages
};

// Synchronous: pwrite + fdatasync inside BeginFlush.
class PwriteJournalSink final : public PosixJournalSink {
 public:
  static absl::StatusOr<std::unique_ptr<PwriteJournalSink>> Open(const std::string& dir);
  std::string Describe() const override { return "pwrite:" + dir_; }
  absl::Status BeginFlush(uint64_t offset, const char* data, size_t n, bool sync) override;
  std::optional<absl::Status> PollFlush() override;
  absl::Status WaitFlush() override;

 private:
  bool done_ = false;
  absl::Status result_;
};

}  // namespace xc::engine::io::internal
