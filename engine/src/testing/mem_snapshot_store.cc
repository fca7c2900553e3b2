#include "testing/mem_snapshot_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "xc/engine/journal_format.h"

namespace xc::engine::testing {

absl::Status MemSnapshotStore::Save(protocol::Seq seq, std::string_view image) {
  std::lock_guard<std::mutex> l(mu_);
  if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
  absl::StatusOr<ShardImageInfo> info = InspectShardImage(image);
  if (!info.ok()) return info.status();
  if (info->seq != seq) {
    return absl::InvalidArgumentError(absl::StrCat("mem: image of seq ", info->seq, " saved as ", seq));
  }
  snaps_[seq] = Snap{std::string(image), Crc32c(image.data(), image.size())};
  ++saves_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SnapshotInfo>> MemSnapshotStore::List() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<SnapshotInfo> out;
  for (const auto& [seq, s] : snaps_) out.push_back({seq, SnapshotFileName(seq), s.image.size()});
  return out;
}

absl::StatusOr<LoadedSnapshot> MemSnapshotStore::Load(protocol::Seq seq) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = snaps_.find(seq);
  const std::string name = SnapshotFileName(seq);
  if (it == snaps_.end()) return absl::NotFoundError(absl::StrCat("mem:", name, ": no such snapshot"));
  if (Crc32c(it->second.image.data(), it->second.image.size()) != it->second.crc) {
    return absl::DataLossError(absl::StrCat("mem:", name, ": image CRC mismatch"));
  }
  LoadedSnapshot out;
  out.seq = seq;
  out.name = name;
  out.image = it->second.image;
  return out;
}

absl::Status MemSnapshotStore::Remove(protocol::Seq seq) {
  std::lock_guard<std::mutex> l(mu_);
  snaps_.erase(seq);
  return absl::OkStatus();
}

void MemSnapshotStore::CorruptByte(protocol::Seq seq, uint64_t offset, uint8_t xor_mask) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = snaps_.find(seq);
  if (it != snaps_.end() && offset < it->second.image.size()) {
    it->second.image[offset] = static_cast<char>(it->second.image[offset] ^ xor_mask);
  }
}

void MemSnapshotStore::FailNextSave(absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_ = std::move(status);
}

uint64_t MemSnapshotStore::saves() const {
  std::lock_guard<std::mutex> l(mu_);
  return saves_;
}

}  // namespace xc::engine::testing
