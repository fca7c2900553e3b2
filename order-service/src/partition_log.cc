#include "xc/order_service/partition_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "xc/protocol/check.h"
#include "xc/protocol/crc32c.h"

namespace xc::order_service {
namespace {

constexpr size_t kHeader = 8;

absl::Status OsError(const std::string& what, const std::string& path) {
  const int e = errno;
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(e));
  if (e == ENOENT) return absl::NotFoundError(msg);
  if (e == EACCES || e == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

absl::StatusOr<PartitionLog::OpenResult> PartitionLog::Open(const std::string& path,
                                                           const PartitionLogOptions& options) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return OsError("open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status s = OsError("stat", path);
    ::close(fd);
    return s;
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = OsError("read", path);
      ::close(fd);
      return s;
    }
    got += static_cast<size_t>(n);
  }
  OpenResult r;
  size_t off = 0;
  while (data.size() - off >= kHeader) {
    const uint32_t crc = Load32(data.data() + off);
    const uint32_t len = Load32(data.data() + off + 4);
    if (len == 0 || len > kMaxRecord || data.size() - off - kHeader < len) break;
    if (protocol::Crc32c(data.data() + off + 4, 4 + len) != crc) break;
    r.records.emplace_back(data.data() + off + kHeader, len);
    off += kHeader + len;
  }
  // Zeros after the last record are preallocated room (a crash before the
  // destructor cut it), not a torn write.
  size_t end = data.size();
  while (end > off && data[end - 1] == '\0') --end;
  r.cut_bytes = end - off;
  r.zero_tail_bytes = data.size() - end;
  if (off != data.size()) {
    // Only the last write can be torn; cut it so that appends continue from
    // the last whole record, and make the cut durable before anything new.
    if (::ftruncate(fd, static_cast<off_t>(off)) != 0 || ::fdatasync(fd) != 0) {
      absl::Status s = OsError("truncate", path);
      ::close(fd);
      return s;
    }
  }
  r.log.reset(new PartitionLog(fd, path, off, options));
  return r;
}

PartitionLog::PartitionLog(int fd, std::string path, uint64_t size,
                           const PartitionLogOptions& options)
    : fd_(fd), allocated_(size), path_(std::move(path)), size_(size), options_(options) {
  // MAP_NORESERVE: address space only; pages exist where written. Refused
  // (no mmap for this file system): pwrite.
  void* m = ::mmap(nullptr, options_.map_bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_NORESERVE, fd_, 0);
  if (m != MAP_FAILED) {
    map_ = static_cast<char*>(m);
    mapped_ = options_.map_bytes;
  }
}

PartitionLog::~PartitionLog() {
  if (status_.ok() && pending()) (void)Sync();
  if (map_ != nullptr) {
    ::munmap(map_, mapped_);
    // Cut the preallocated tail, so a clean file holds records only.
    if (allocated_ != size_ && ::ftruncate(fd_, static_cast<off_t>(size_)) == 0 &&
        options_.sync) {
      (void)::fdatasync(fd_);
    }
  }
  ::close(fd_);
}

void PartitionLog::Populate(uint64_t need) {
  // One madvise maps a window of pages: on this VM a page fault is a trap
  // into the hypervisor, so 64 faults cost far more than one call. Only
  // without fdatasync: prefaulted pages are dirty, and a sync would write
  // the zeros ahead too.
  constexpr uint64_t kWindow = 256 << 10;
  const uint64_t from = populated_ > size_ ? populated_ : size_ & ~uint64_t{4095};
  const uint64_t to = std::min(allocated_, std::max(need, from + kWindow));
  if (to <= from) return;
  if (::madvise(map_ + from, to - from, MADV_POPULATE_WRITE) != 0) {
    populated_ = UINT64_MAX;  // refused (kernel < 5.14): page faults as usual
    return;
  }
  populated_ = to;
}

bool PartitionLog::Grow(uint64_t need) {
  const uint64_t step = options_.grow_bytes == 0 ? 1 : options_.grow_bytes;
  const uint64_t target = (need + step - 1) / step * step;
  if (target > mapped_) {
    uint64_t len = mapped_;
    while (len < target) len *= 2;
    void* m = ::mremap(map_, mapped_, len, MREMAP_MAYMOVE);
    if (m == MAP_FAILED) {
      status_ = OsError("mremap", path_);
      return false;
    }
    map_ = static_cast<char*>(m);
    mapped_ = len;
  }
  // Allocated blocks, so that no store into the mapping can meet a full disk.
  const int rc = ::fallocate(fd_, 0, static_cast<off_t>(allocated_),
                             static_cast<off_t>(target - allocated_));
  if (rc != 0) {
    if (errno == EOPNOTSUPP) {
      // No fallocate here: write the rest with pwrite rather than risk a
      // SIGBUS on a page a full disk cannot hold.
      ::munmap(map_, mapped_);
      map_ = nullptr;
      mapped_ = 0;
      return true;
    }
    status_ = errno == ENOSPC || errno == EDQUOT
                  ? absl::ResourceExhaustedError(
                        absl::StrCat("fallocate ", path_, ": ", std::strerror(errno)))
                  : OsError("fallocate", path_);
    return false;
  }
  allocated_ = target;
  return true;
}

void PartitionLog::Append(std::string_view record) {
  XC_CHECK(!record.empty() && record.size() <= kMaxRecord);
  const uint32_t len = static_cast<uint32_t>(record.size());
  const size_t at = buf_.size();
  buf_.resize(at + kHeader + len);
  char* p = buf_.data() + at;
  std::memcpy(p + 4, &len, 4);
  std::memcpy(p + kHeader, record.data(), len);
  const uint32_t crc = protocol::Crc32c(p + 4, 4 + len);
  std::memcpy(p, &crc, 4);
  ++buffered_records_;
}

uint64_t PartitionLog::TakeBuffered(std::string* batch) {
  batch->clear();
  batch->swap(buf_);
  const uint64_t n = buffered_records_;
  buffered_records_ = 0;
  return n;
}

absl::Status PartitionLog::Sync() {
  const uint64_t n = TakeBuffered(&spare_);
  return Write(spare_, n);
}

absl::Status PartitionLog::Write(std::string_view batch, uint64_t records) {
  if (!status_.ok()) return status_;
  if (batch.empty()) return absl::OkStatus();
  size_t done = 0;
  if (map_ != nullptr) {
    if (size_ + batch.size() > allocated_ && !Grow(size_ + batch.size())) return status_;
  }
  // Tested again: Grow falls back to pwrite (and unmaps) when the kernel
  // refuses to grow the file or the mapping.
  if (map_ != nullptr) {
    if (!options_.sync && size_ + batch.size() > populated_) Populate(size_ + batch.size());
    std::memcpy(map_ + size_, batch.data(), batch.size());
    done = batch.size();
  }
  while (done < batch.size()) {
    const ssize_t n = ::pwrite(fd_, batch.data() + done, batch.size() - done,
                               static_cast<off_t>(size_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status_ = OsError("write", path_);
      return status_;
    }
    done += static_cast<size_t>(n);
  }
  if (options_.sync && ::fdatasync(fd_) != 0) {
    status_ = OsError("fdatasync", path_);
    return status_;
  }
  size_ += batch.size();
  records_synced_ += records;
  return absl::OkStatus();
}

}  // namespace xc::order_service
