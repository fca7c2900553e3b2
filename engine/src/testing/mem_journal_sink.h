#pragma once
// MemJournalSink: an in-memory JournalSink with fault injection, for tests of
// the journal writer, recovery and the shard pipeline (STYLE.md §12, §15;
// LevelDB's memenv + ErrorEnv + fault_injection_test).

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "xc/engine/journal_sink.h"

namespace xc::engine::testing {

// A journal directory held in memory. Every file has what was written (the
// "page cache") and how much of it was synced (the "disk"): the journal only
// appends, so the synced image is a prefix. SimulateCrash() throws the
// unsynced part away, as a power loss would.
//
// Faults (all off by default):
//  * FailNthWrite(n): the n-th write (1-based, counting flushes with bytes)
//    fails with the given status, after landing `partial_bytes` of its data;
//  * FailNthSync(n): the n-th sync fails (the data stays unsynced);
//  * SetCapacity(bytes): total bytes over all files; a write that would go
//    beyond lands what fits and fails with ResourceExhausted (ENOSPC);
//  * CorruptByte(name, offset): flips bits in both images (bit rot).
//
// Thread safety: every method locks an internal mutex, so a test may inspect
// the sink while a writer thread uses it. Flushes complete synchronously in
// BeginFlush (PollFlush reports them at once), unless SetAsync(true): then a
// flush completes only at the PollFlush/WaitFlush after CompletePending(), so
// tests can hold a flush "in flight".
class MemJournalSink : public JournalSink {
 public:
  MemJournalSink() = default;

  // ---- JournalSink ----
  std::string Describe() const override { return "mem"; }
  std::string SegmentPath(std::string_view name) const override {
    return "mem:" + std::string(name);
  }
  absl::StatusOr<std::vector<std::string>> ListSegments() override;
  absl::StatusOr<std::string> ReadSegment(std::string_view name) override;
  absl::Status TruncateSegment(std::string_view name, uint64_t size) override;
  absl::Status CreateSegment(std::string_view name, uint64_t preallocate_bytes) override;
  absl::Status BeginFlush(uint64_t offset, const char* data, size_t n, bool sync) override;
  std::optional<absl::Status> PollFlush() override;
  absl::Status WaitFlush() override;
  absl::Status CloseSegment(uint64_t final_size) override;

  // ---- faults ----
  void FailNthWrite(uint64_t n, absl::Status status = absl::DataLossError("injected EIO"),
                    size_t partial_bytes = 0);
  void FailNthSync(uint64_t n, absl::Status status = absl::DataLossError("injected EIO"));
  void SetCapacity(uint64_t bytes);
  void CorruptByte(std::string_view name, uint64_t offset, uint8_t xor_mask = 0xff);
  // Power loss: every file reverts to its synced image, plus the first
  // `keep_unsynced` bytes of what was written after it (a torn write that half
  // reached the disk). Closes the open segment; a flush in flight is lost.
  void SimulateCrash(size_t keep_unsynced = 0);

  // Holds flushes in flight until CompletePending() (see class comment).
  void SetAsync(bool async);
  void CompletePending();

  // ---- inspection ----
  uint64_t writes() const;
  uint64_t syncs() const;
  std::optional<std::string> written(std::string_view name) const;  // page-cache image
  std::optional<std::string> synced(std::string_view name) const;   // disk image
  // Replaces a file's contents in both images (creates it if needed).
  void SetFile(std::string_view name, std::string contents);

 private:
  struct File {
    std::string data;         // written
    uint64_t synced_len = 0;  // data[0, synced_len) is on "disk" (append-only use)
  };
  struct Op {
    uint64_t offset = 0;
    std::string bytes;
    bool sync = false;
  };
  uint64_t UsedLocked() const;
  void ExecuteLocked();

  mutable std::mutex mu_;
  std::map<std::string, File, std::less<>> files_;
  std::string open_;
  bool is_open_ = false;
  // Completion state.
  bool in_flight_ = false;
  bool ready_ = false;
  absl::Status result_;
  Op pending_;
  bool async_ = false;
  // Faults and counters.
  uint64_t writes_ = 0, syncs_ = 0;
  uint64_t fail_write_at_ = 0, fail_sync_at_ = 0;
  size_t fail_write_partial_ = 0;
  absl::Status fail_write_status_, fail_sync_status_;
  uint64_t capacity_ = UINT64_MAX;
};

}  // namespace xc::engine::testing
