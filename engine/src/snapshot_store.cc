#include "xc/engine/snapshot_store.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace xc::engine {

absl::StatusOr<std::optional<LoadedSnapshot>> SnapshotStore::LoadNewestValid(
    bool log_warnings, std::vector<std::string>* skipped) {
  absl::StatusOr<std::vector<SnapshotInfo>> list = List();
  if (!list.ok()) return list.status();
  for (auto it = list->rbegin(); it != list->rend(); ++it) {
    absl::StatusOr<LoadedSnapshot> s = Load(it->seq);
    if (s.ok()) return std::optional<LoadedSnapshot>(std::move(*s));
    // Only a failed check (or a file that vanished meanwhile) falls back to
    // an older snapshot; an I/O error is reported, since the older ones live
    // on the same storage.
    if (s.status().code() != absl::StatusCode::kDataLoss &&
        s.status().code() != absl::StatusCode::kNotFound) {
      return s.status();
    }
    if (log_warnings) {
      std::fprintf(stderr, "snapshot: warning: skipping %s\n",
                   std::string(s.status().message()).c_str());
    }
    if (skipped != nullptr) skipped->push_back(std::string(s.status().message()));
  }
  return std::optional<LoadedSnapshot>();
}

namespace {
// Mirrors of the headers written by Shard::SaveTo and OrderBook::SaveTo
// (engine/doc/snapshot_format.md).
constexpr uint32_t kShardImageMagic = 0x44534358;  // "XCSD"
constexpr uint32_t kBookImageMagic = 0x4b424358;   // "XCBK"
struct ShardHeader {
  uint32_t magic;
  uint32_t books;
  uint64_t seq;
};
struct BookBlockHeader {
  uint32_t symbol;
  uint32_t reserved;
  uint64_t bytes;
};
struct BookHeader {
  uint32_t magic;
  uint32_t version;
  uint32_t symbol;
  uint32_t reserved;
  int64_t last_trade_price;
  uint64_t resting;
  uint64_t stops;
};
static_assert(sizeof(BookHeader) == 40);
}  // namespace

absl::StatusOr<ShardImageInfo> InspectShardImage(std::string_view image) {
  ShardHeader h;
  if (image.size() < sizeof(h)) return absl::InvalidArgumentError("shard image: truncated");
  std::memcpy(&h, image.data(), sizeof(h));
  if (h.magic != kShardImageMagic) return absl::InvalidArgumentError("shard image: bad magic");
  image.remove_prefix(sizeof(h));
  ShardImageInfo info;
  info.seq = h.seq;
  for (uint32_t i = 0; i < h.books; ++i) {
    BookBlockHeader bb;
    BookHeader bh;
    if (image.size() < sizeof(bb)) return absl::InvalidArgumentError("shard image: truncated");
    std::memcpy(&bb, image.data(), sizeof(bb));
    image.remove_prefix(sizeof(bb));
    if (bb.bytes > image.size() || bb.bytes < sizeof(bh)) {
      return absl::InvalidArgumentError("shard image: bad book block size");
    }
    std::memcpy(&bh, image.data(), sizeof(bh));
    if (bh.magic != kBookImageMagic || bh.symbol != bb.symbol) {
      return absl::InvalidArgumentError("shard image: bad book header");
    }
    info.books.push_back({bb.symbol, bh.resting, bh.stops, bb.bytes});
    image.remove_prefix(bb.bytes);
  }
  if (!image.empty()) return absl::InvalidArgumentError("shard image: trailing bytes");
  return info;
}

std::string SnapshotFileName(protocol::Seq seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "snapshot-%020" PRIu64 ".snap", seq);
  return buf;
}

std::optional<protocol::Seq> ParseSnapshotFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "snapshot-";
  constexpr std::string_view kSuffix = ".snap";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  protocol::Seq v = 0;
  for (char c : name.substr(kPrefix.size(), 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    const protocol::Seq d = static_cast<protocol::Seq>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace xc::engine
