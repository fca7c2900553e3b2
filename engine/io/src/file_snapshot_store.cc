#include "xc/engine/io/file_snapshot_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "posix_journal_sink.h"
#include "xc/engine/journal_format.h"
#include "xc/protocol/status_macros.h"

namespace xc::engine::io {
namespace {

using internal::ErrnoStatus;

// "XCSNAPSH" as a little-endian u64.
constexpr uint64_t kSnapshotFileMagic = 0x48535041534E4358ULL;
constexpr uint32_t kSnapshotFileVersion = 1;

struct FileHeader {
  uint64_t magic = kSnapshotFileMagic;
  uint32_t version = kSnapshotFileVersion;
  uint32_t reserved = 0;
  uint64_t seq = 0;
  uint64_t image_len = 0;
  uint32_t image_crc = 0;
  uint32_t header_crc = 0;  // CRC32C of the 36 bytes before it
};
static_assert(sizeof(FileHeader) == kSnapshotFileHeaderSize);

int WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, dir, "open");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, dir, "fsync");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(errno, dir, "opendir");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path, "open");
  return internal::ReadAllAndClose(fd, path);
}

class FileSnapshotStore final : public SnapshotStore {
 public:
  explicit FileSnapshotStore(std::string dir) : dir_(std::move(dir)) {}

  std::string Describe() const override { return "file:" + dir_; }

  absl::Status Save(protocol::Seq seq, std::string_view image) override {
    absl::StatusOr<ShardImageInfo> info = InspectShardImage(image);
    if (!info.ok()) return info.status();
    if (info->seq != seq) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot: image of seq ", info->seq, " saved as seq ", seq));
    }
    FileHeader h;
    h.seq = seq;
    h.image_len = image.size();
    h.image_crc = Crc32c(image.data(), image.size());
    h.header_crc = Crc32c(&h, offsetof(FileHeader, header_crc));

    const std::string path = Path(SnapshotFileName(seq));
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(errno, tmp, "open");
    int err = WriteAll(fd, reinterpret_cast<const char*>(&h), sizeof(h));
    const char* op = "write";
    if (err == 0) err = WriteAll(fd, image.data(), image.size());
    if (err == 0 && ::fdatasync(fd) != 0) {
      err = errno;
      op = "fdatasync";
    }
    ::close(fd);
    if (err != 0) {
      ::unlink(tmp.c_str());
      return ErrnoStatus(err, tmp, op);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus(err, path, "rename");
    }
    return SyncDir(dir_);
  }

  absl::StatusOr<std::vector<SnapshotInfo>> List() override {
    XC_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir_));
    std::vector<SnapshotInfo> out;
    for (const std::string& n : names) {
      std::optional<protocol::Seq> seq = ParseSnapshotFileName(n);
      if (!seq.has_value()) continue;
      struct stat st;
      const uint64_t bytes =
          ::stat(Path(n).c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      out.push_back({*seq, n, bytes});
    }
    std::sort(out.begin(), out.end(),
              [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.seq < b.seq; });
    return out;
  }

  absl::StatusOr<LoadedSnapshot> Load(protocol::Seq seq) override {
    const std::string name = SnapshotFileName(seq);
    const std::string path = Path(name);
    absl::StatusOr<std::string> data = ReadFile(path);
    if (!data.ok()) return data.status();
    auto bad = [&](const std::string& what) {
      return absl::DataLossError(absl::StrCat(path, ": ", what));
    };
    FileHeader h;
    if (data->size() < sizeof(h)) return bad(absl::StrCat("truncated header (", data->size(), " bytes)"));
    std::memcpy(&h, data->data(), sizeof(h));
    if (h.magic != kSnapshotFileMagic) return bad("bad magic");
    if (h.header_crc != Crc32c(&h, offsetof(FileHeader, header_crc))) return bad("header CRC mismatch");
    if (h.version != kSnapshotFileVersion) {
      return bad(absl::StrCat("format version ", h.version, ", this build reads ",
                              kSnapshotFileVersion));
    }
    if (h.seq != seq) return bad(absl::StrCat("header seq ", h.seq, " does not match the name"));
    if (data->size() - sizeof(h) != h.image_len) {
      return bad(absl::StrCat("image length ", h.image_len, " but ", data->size() - sizeof(h),
                              " bytes follow the header"));
    }
    std::string_view image(data->data() + sizeof(h), h.image_len);
    if (Crc32c(image.data(), image.size()) != h.image_crc) return bad("image CRC mismatch");
    absl::StatusOr<ShardImageInfo> info = InspectShardImage(image);
    if (!info.ok()) return bad(std::string(info.status().message()));
    if (info->seq != seq) return bad(absl::StrCat("image holds seq ", info->seq));
    LoadedSnapshot out;
    out.seq = seq;
    out.name = name;
    data->erase(0, sizeof(h));
    out.image = std::move(*data);
    return out;
  }

  absl::Status Remove(protocol::Seq seq) override {
    const std::string path = Path(SnapshotFileName(seq));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, path, "unlink");
    return absl::OkStatus();
  }

  absl::Status RemoveTemporaries() {
    XC_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir_));
    for (const std::string& n : names) {
      constexpr std::string_view kTmp = ".tmp";
      if (n.size() > kTmp.size() && n.compare(n.size() - kTmp.size(), kTmp.size(), kTmp) == 0 &&
          ParseSnapshotFileName(std::string_view(n).substr(0, n.size() - kTmp.size()))) {
        const std::string p = Path(n);
        if (::unlink(p.c_str()) != 0 && errno != ENOENT) return ErrnoStatus(errno, p, "unlink");
      }
    }
    return absl::OkStatus();
  }

 private:
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  const std::string dir_;
};

// Moves `from` to `to_dir`, by rename or (across file systems) by copy,
// fdatasync and unlink.
absl::Status MoveFile(const std::string& from, const std::string& to_dir,
                      const std::string& name) {
  const std::string to = absl::StrCat(to_dir, "/", name);
  if (::rename(from.c_str(), to.c_str()) == 0) return absl::OkStatus();
  if (errno != EXDEV) return ErrnoStatus(errno, from, "rename");
  XC_ASSIGN_OR_RETURN(std::string data, ReadFile(from));
  const std::string tmp = to + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, tmp, "open");
  int err = WriteAll(fd, data.data(), data.size());
  if (err == 0 && ::fdatasync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, tmp, "write");
  }
  if (::rename(tmp.c_str(), to.c_str()) != 0) return ErrnoStatus(errno, to, "rename");
  XC_RETURN_IF_ERROR(SyncDir(to_dir));
  if (::unlink(from.c_str()) != 0) return ErrnoStatus(errno, from, "unlink");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SnapshotStore>> OpenFileSnapshotStore(const std::string& dir,
                                                                     bool create) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) return ErrnoStatus(errno, dir, "stat");
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus(errno, dir, "mkdir");
  } else if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, ": not a directory"));
  }
  auto store = std::make_unique<FileSnapshotStore>(dir);
  XC_RETURN_IF_ERROR(store->RemoveTemporaries());
  return std::unique_ptr<SnapshotStore>(std::move(store));
}

absl::StatusOr<RetentionPolicy> RetentionPolicy::Parse(std::string_view s) {
  RetentionPolicy p;
  if (s == "keep") {
    p.mode = Mode::kKeep;
  } else if (s == "delete") {
    p.mode = Mode::kDelete;
  } else if (s.substr(0, 8) == "archive:" && s.size() > 8) {
    p.mode = Mode::kArchive;
    p.archive_dir = std::string(s.substr(8));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad retention policy '", std::string(s), "': expected keep, delete or archive:<dir>"));
  }
  return p;
}

std::string RetentionPolicy::ToString() const {
  switch (mode) {
    case Mode::kKeep: return "keep";
    case Mode::kDelete: return "delete";
    case Mode::kArchive: return "archive:" + archive_dir;
  }
  return "?";
}

absl::StatusOr<RetentionResult> ApplyRetention(const std::string& dir, SnapshotStore& store,
                                               const RetentionPolicy& policy) {
  RetentionResult result;
  XC_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> snaps, store.List());
  if (snaps.empty()) return result;
  size_t first_kept = 0;
  if (policy.keep_snapshots != 0 && snaps.size() > policy.keep_snapshots) {
    first_kept = snaps.size() - policy.keep_snapshots;
  }
  // The journal first: if we crash in between, the older snapshots are
  // merely left over (removed next time), never needed-but-gone.
  result.cut_seq = policy.keep_snapshots == 0 ? snaps.back().seq : snaps[first_kept].seq;

  if (policy.mode != RetentionPolicy::Mode::kKeep) {
    XC_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
    std::vector<std::pair<protocol::Seq, std::string>> segs;
    for (std::string& n : names) {
      if (auto f = ParseJournalSegmentName(n)) segs.emplace_back(*f, std::move(n));
    }
    std::sort(segs.begin(), segs.end());
    if (policy.mode == RetentionPolicy::Mode::kArchive) {
      if (::mkdir(policy.archive_dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(errno, policy.archive_dir, "mkdir");
      }
    }
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
      // Segment i holds seqs [first_i, first_{i+1}) (consecutive seqs).
      if (segs[i + 1].first > result.cut_seq + 1) break;
      const std::string path = absl::StrCat(dir, "/", segs[i].second);
      if (policy.mode == RetentionPolicy::Mode::kArchive) {
        XC_RETURN_IF_ERROR(MoveFile(path, policy.archive_dir, segs[i].second));
      } else if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return ErrnoStatus(errno, path, "unlink");
      }
      result.segments_removed.push_back(segs[i].second);
    }
    if (!result.segments_removed.empty()) {
      if (policy.mode == RetentionPolicy::Mode::kArchive) {
        XC_RETURN_IF_ERROR(SyncDir(policy.archive_dir));
      }
      XC_RETURN_IF_ERROR(SyncDir(dir));
    }
  }
  for (size_t i = 0; i < first_kept; ++i) {
    XC_RETURN_IF_ERROR(store.Remove(snaps[i].seq));
    result.snapshots_removed.push_back(snaps[i].seq);
  }
  return result;
}

}  // namespace xc::engine::io
