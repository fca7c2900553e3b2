#pragma once
// MemSnapshotStore: an in-memory SnapshotStore with fault injection, for
// recovery and snapshot-writer tests (TESTONLY: xc::engine_snapshot_testing).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "xc/engine/snapshot_store.h"

namespace xc::engine::testing {

// Snapshots are kept as (image, CRC32C of the image at Save time); Load checks
// the CRC and the image's seq, so CorruptByte makes a snapshot fail like a
// damaged file would (DataLoss). Thread safety: every method takes a mutex,
// so a test may inspect the store while a writer thread saves into it.
class MemSnapshotStore : public SnapshotStore {
 public:
  std::string Describe() const override { return "mem"; }
  absl::Status Save(protocol::Seq seq, std::string_view image) override;
  absl::StatusOr<std::vector<SnapshotInfo>> List() override;
  absl::StatusOr<LoadedSnapshot> Load(protocol::Seq seq) override;
  absl::Status Remove(protocol::Seq seq) override;

  // ---- faults and inspection ----
  // Flips bits of byte `offset` of snapshot seq's stored image.
  void CorruptByte(protocol::Seq seq, uint64_t offset, uint8_t xor_mask = 0xff);
  // The next Save fails with `status` (and stores nothing).
  void FailNextSave(absl::Status status);
  uint64_t saves() const;

 private:
  struct Snap {
    std::string image;
    uint32_t crc = 0;
  };
  mutable std::mutex mu_;
  std::map<protocol::Seq, Snap> snaps_;
  absl::Status fail_next_;
  uint64_t saves_ = 0;
};

}  // namespace xc::engine::testing
