#pragma once
// PartitionLog: a partition's journal on disk (DESIGN.md invariant 2 for the
// order service): one append-only file of CRC-framed records, replayed into a
// fresh Partition at start (Partition::Replay).
//
// File format: a sequence of records, each
//   u32 crc32c   over the next 4 bytes and the payload (xc/protocol/crc32c.h)
//   u32 length   of the payload, 1 .. kMaxRecord
//   payload      one PartitionJournal record (Partition's own encoding)
// little-endian, no padding, no file header (the file name says which
// partition it is; the records say everything else).
//
// Group commit: Append only buffers; Sync writes everything buffered at once
// and, when options.sync, with one fdatasync().
//
// Writes go through a shared memory mapping of the file: a batch is one
// memcpy into the page cache, no system call (the partition log was written
// twice per order; its pwrite cost 15% of the exchange's CPU at 15k orders/s
// on the 2-vCPU VM). What is copied there survives a crash of the process
// like a write() does; fdatasync covers it as well (options.sync). The file
// grows by options.grow_bytes at a time, allocated with fallocate(2) so that
// a full disk is an error of the write that needed the room (ResourceExhausted),
// never a SIGBUS on a page of the mapping; where the mapping or fallocate is
// refused the log falls back to pwrite. The preallocated tail is zero bytes:
// the destructor cuts it, and after a crash Open does (a zero length ends the
// records; zeros are not counted as a torn tail). The owner (the partition's
// PartitionWorker) syncs once per batch of requests and answers the batch
// only after it returns Ok, so nothing answered is ever lost. To keep
// appending while a batch is on its way to the disk, the owner may split
// Sync in two: TakeBuffered (under the lock that guards Append) moves the
// batch out, and Write (outside it) writes and syncs it.
//
// Thread safety: Append, TakeBuffered, pending and Sync under the owner's
// lock (one thread at a time); Write by one thread at a time, concurrently
// with them; the accessors below status() read what Write keeps, so call
// them where Write's effects are visible (after it, under the owner's lock).
// Ownership: owns the fd.
// Errors: after the first failed write or sync the log is failed for good
// (status()); Sync keeps returning that error and nothing more is written:
// the process must stop and restart from the file.
//
// Torn tail: a crash can leave the last write partly on disk. Open keeps the
// longest prefix of valid records and truncates the rest (reported in
// OpenResult::cut_bytes). Because records are only ever appended and each
// Sync is one write, only the data of the last unsynced write can be torn.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/order_service/partition.h"

namespace xc::order_service {

struct PartitionLogOptions {
  // fdatasync after each write (survives power loss). false: the kernel's
  // page cache only (survives a crash of the process, not of the machine).
  bool sync = true;
  // The file grows (fallocate) by this much when a write needs room.
  uint64_t grow_bytes = 16u << 20;
  // Address space mapped over the file at open; a larger file remaps (mremap).
  uint64_t map_bytes = 64ull << 30;
};

class PartitionLog final : public PartitionJournal {
 public:
  static constexpr uint32_t kMaxRecord = 64u << 20;

  struct OpenResult {
    std::unique_ptr<PartitionLog> log;
    std::vector<std::string> records;  // every valid record, in order
    uint64_t cut_bytes = 0;            // torn tail removed (0: clean)
    uint64_t zero_tail_bytes = 0;      // unwritten preallocated tail removed
  };
  // Opens or creates `path` (its directory must exist), reads its records and
  // cuts a torn tail. Errors: the OS error of open/read/truncate (Internal /
  // NotFound / PermissionDenied, with the path).
  [[nodiscard]] static absl::StatusOr<OpenResult> Open(const std::string& path,
                                                       const PartitionLogOptions& options);
  ~PartitionLog() override;
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Buffers one record (PartitionJournal). REQUIRES: 1 <= size <= kMaxRecord.
  void Append(std::string_view record) override;
  // Writes and (options.sync) syncs what Append buffered. Ok at once when
  // nothing is buffered. REQUIRES: no Write running.
  [[nodiscard]] absl::Status Sync();
  // Swaps what Append buffered into *batch (its old contents are dropped;
  // its capacity is reused) and returns how many records it holds.
  uint64_t TakeBuffered(std::string* batch);
  // Writes a batch TakeBuffered returned, in the order taken, and
  // (options.sync) syncs it. Ok at once for an empty batch; after the first
  // failure every call returns that error and writes nothing.
  [[nodiscard]] absl::Status Write(std::string_view batch, uint64_t records);
  bool pending() const { return !buf_.empty(); }
  // fdatasync per batch (PartitionLogOptions::sync).
  bool syncs() const { return options_.sync; }
  const absl::Status& status() const { return status_; }
  uint64_t records_synced() const { return records_synced_; }
  uint64_t bytes() const { return size_; }  // of records (not the preallocated tail)
  bool mapped() const { return map_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  PartitionLog(int fd, std::string path, uint64_t size, const PartitionLogOptions& options);
  // Makes the file at least `need` bytes long (allocated) and mapped; false
  // with status_ set when the file system refuses.
  bool Grow(uint64_t need);
  // Maps the pages up to at least `need` (and a window beyond) in one call.
  void Populate(uint64_t need);

  int fd_;
  char* map_ = nullptr;     // nullptr: writes use pwrite
  uint64_t mapped_ = 0;     // bytes of address space at map_
  uint64_t allocated_ = 0;  // the file's length, of which size_ are records
  uint64_t populated_ = 0;  // mapped in ahead up to here (Populate)
  std::string path_;
  uint64_t size_;
  PartitionLogOptions options_;
  std::string buf_;
  std::string spare_;  // Sync's batch buffer
  uint64_t buffered_records_ = 0;
  uint64_t records_synced_ = 0;
  absl::Status status_;
};

}  // namespace xc::order_service
