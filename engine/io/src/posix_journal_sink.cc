#include "posix_journal_sink.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xc/engine/journal_format.h"

namespace xc::engine::io::internal {

absl::Status ErrnoStatus(int err, const std::string& path, std::string_view op, int64_t offset) {
  absl::StatusCode code = absl::ErrnoToStatusCode(err);
  if (err == ENOSPC || err == EDQUOT) code = absl::StatusCode::kResourceExhausted;
  if (err == EIO) code = absl::StatusCode::kDataLoss;
  std::string msg = absl::StrCat(path, ": ", std::string(op));
  if (offset >= 0) absl::StrAppend(&msg, " at offset ", offset);
  absl::StrAppend(&msg, ": ", std::strerror(err));
  return absl::Status(code, msg);
}

int PwriteAll(int fd, const char* data, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;  // cannot happen for a regular file; do not spin
    data += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

PosixJournalSink::~PosixJournalSink() {
  if (fd_ >= 0) ::close(fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

absl::Status PosixJournalSink::OpenDir(const std::string& dir) {
  dir_ = dir;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, dir, "mkdir");
  }
  dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) return ErrnoStatus(errno, dir, "open directory");
  return absl::OkStatus();
}

std::string PosixJournalSink::SegmentPath(std::string_view name) const {
  return absl::StrCat(dir_, "/", std::string(name));
}

absl::StatusOr<std::vector<std::string>> PosixJournalSink::ListSegments() {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return ErrnoStatus(errno, dir_, "opendir");
  std::vector<std::pair<uint64_t, std::string>> found;
  while (dirent* e = ::readdir(d)) {
    if (auto seq = ParseJournalSegmentName(e->d_name)) found.emplace_back(*seq, e->d_name);
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

absl::StatusOr<std::string> ReadAllAndClose(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(err, path, "fstat");
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t r = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(err, path, "read", static_cast<int64_t>(got));
    }
    if (r == 0) break;  // shrank meanwhile
    got += static_cast<size_t>(r);
  }
  data.resize(got);
  ::close(fd);
  return data;
}

absl::StatusOr<std::string> PosixJournalSink::ReadSegment(std::string_view name) {
  const std::string path = SegmentPath(name);
  const int fd = ::openat(dir_fd_, std::string(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path, "open");
  return ReadAllAndClose(fd, path);
}

absl::Status PosixJournalSink::TruncateSegment(std::string_view name, uint64_t size) {
  const std::string path = SegmentPath(name);
  const int fd = ::openat(dir_fd_, std::string(name).c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path, "open");
  absl::Status s;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    s = ErrnoStatus(errno, path, "ftruncate", static_cast<int64_t>(size));
  } else if (::fsync(fd) != 0) {
    s = ErrnoStatus(errno, path, "fsync");
  }
  ::close(fd);
  return s;
}

absl::Status PosixJournalSink::CreateSegment(std::string_view name, uint64_t preallocate_bytes) {
  if (fd_ >= 0) return absl::FailedPreconditionError("journal: a segment is already open");
  const std::string path = SegmentPath(name);
  const int fd = ::openat(dir_fd_, std::string(name).c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, path, "create");
  if (preallocate_bytes > 0) {
    // Best effort: reserves the blocks up front (so a full disk shows up at
    // roll time rather than mid-batch where possible) and keeps the file
    // contiguous. The zeros it reads as are recovery's "clean end".
    if (::fallocate(fd, 0, 0, static_cast<off_t>(preallocate_bytes)) != 0 &&
        errno != EOPNOTSUPP && errno != ENOSYS) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(err, path, "fallocate", 0);
    }
  }
  // The new name must survive a crash before anything in it is acknowledged.
  if (::fsync(dir_fd_) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(err, dir_, "fsync directory");
  }
  fd_ = fd;
  open_path_ = path;
  return absl::OkStatus();
}

absl::Status PosixJournalSink::CloseSegment(uint64_t final_size) {
  if (fd_ < 0) return absl::FailedPreconditionError("journal: no segment open");
  absl::Status s;
  if (::ftruncate(fd_, static_cast<off_t>(final_size)) != 0) {
    s = ErrnoStatus(errno, open_path_, "ftruncate", static_cast<int64_t>(final_size));
  } else if (::fdatasync(fd_) != 0) {
    s = ErrnoStatus(errno, open_path_, "fdatasync");
  }
  ::close(fd_);
  fd_ = -1;
  return s;
}

// ---- PwriteJournalSink ----

absl::StatusOr<std::unique_ptr<PwriteJournalSink>> PwriteJournalSink::Open(
    const std::string& dir) {
  auto sink = std::unique_ptr<PwriteJournalSink>(new PwriteJournalSink());
  absl::Status s = sink->OpenDir(dir);
  if (!s.ok()) return s;
  return sink;
}

absl::Status PwriteJournalSink::BeginFlush(uint64_t offset, const char* data, size_t n,
                                           bool sync) {
  if (fd_ < 0) return absl::FailedPreconditionError("journal: no segment open");
  result_ = absl::OkStatus();
  if (n > 0) {
    if (const int err = PwriteAll(fd_, data, n, offset); err != 0) {
      result_ = ErrnoStatus(err, open_path_, "write", static_cast<int64_t>(offset));
    }
  }
  if (result_.ok() && sync && ::fdatasync(fd_) != 0) {
    result_ = ErrnoStatus(errno, open_path_, "fdatasync");
  }
  done_ = true;
  return absl::OkStatus();
}

std::optional<absl::Status> PwriteJournalSink::PollFlush() {
  if (!done_) return std::nullopt;
  done_ = false;
  return result_;
}

absl::Status PwriteJournalSink::WaitFlush() {
  if (!done_) return absl::OkStatus();
  done_ = false;
  return result_;
}

}  // namespace xc::engine::io::internal
