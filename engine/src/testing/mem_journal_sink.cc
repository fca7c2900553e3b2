#include "testing/mem_journal_sink.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xc/engine/journal_format.h"

namespace xc::engine::testing {

absl::StatusOr<std::vector<std::string>> MemJournalSink::ListSegments() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::pair<uint64_t, std::string>> found;
  for (const auto& [name, file] : files_) {
    if (auto seq = ParseJournalSegmentName(name)) found.emplace_back(*seq, name);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

absl::StatusOr<std::string> MemJournalSink::ReadSegment(std::string_view name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("mem:", std::string(name), ": no such file"));
  return it->second.data;
}

absl::Status MemJournalSink::TruncateSegment(std::string_view name, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("mem:", std::string(name), ": no such file"));
  it->second.data.resize(size);
  it->second.synced_len = size;
  return absl::OkStatus();
}

absl::Status MemJournalSink::CreateSegment(std::string_view name, uint64_t preallocate_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  if (is_open_) return absl::FailedPreconditionError("mem: a segment is already open");
  File& f = files_[std::string(name)];
  // Preallocation is not simulated beyond the size check: a real fallocate
  // that fails is ignored too (best effort).
  (void)preallocate_bytes;
  f.data.clear();
  f.synced_len = 0;
  open_ = std::string(name);
  is_open_ = true;
  return absl::OkStatus();
}

absl::Status MemJournalSink::BeginFlush(uint64_t offset, const char* data, size_t n, bool sync) {
  std::lock_guard<std::mutex> l(mu_);
  if (!is_open_) return absl::FailedPreconditionError("mem: no segment open");
  if (in_flight_) return absl::FailedPreconditionError("mem: a flush is already in flight");
  in_flight_ = true;
  ready_ = false;
  pending_ = Op{offset, std::string(data, n), sync};
  if (!async_) ExecuteLocked();
  return absl::OkStatus();
}

void MemJournalSink::ExecuteLocked() {
  const Op op = std::move(pending_);
  File& f = files_[open_];
  absl::Status s;
  if (!op.bytes.empty()) {
    ++writes_;
    size_t land = op.bytes.size();
    if (fail_write_at_ != 0 && writes_ == fail_write_at_) {
      land = std::min(land, fail_write_partial_);
      s = fail_write_status_;
    }
    const uint64_t used = UsedLocked();
    const uint64_t grow =
        op.offset + land > f.data.size() ? op.offset + land - f.data.size() : 0;
    if (used + grow > capacity_) {
      const uint64_t room = capacity_ - used;
      const uint64_t fits = f.data.size() + room > op.offset ? f.data.size() + room - op.offset : 0;
      land = std::min<uint64_t>(land, fits);
      s = absl::ResourceExhaustedError(
          absl::StrCat("mem:", open_, ": write at offset ", op.offset, ": No space left on device"));
    }
    if (f.data.size() < op.offset + land) f.data.resize(op.offset + land);
    std::copy_n(op.bytes.data(), land, f.data.begin() + static_cast<ptrdiff_t>(op.offset));
  }
  if (s.ok() && op.sync) {
    ++syncs_;
    if (fail_sync_at_ != 0 && syncs_ == fail_sync_at_) {
      s = fail_sync_status_;
    } else {
      f.synced_len = f.data.size();
    }
  }
  result_ = s;
  ready_ = true;
}

std::optional<absl::Status> MemJournalSink::PollFlush() {
  std::lock_guard<std::mutex> l(mu_);
  if (!in_flight_ || !ready_) return std::nullopt;
  in_flight_ = false;
  return result_;
}

absl::Status MemJournalSink::WaitFlush() {
  std::lock_guard<std::mutex> l(mu_);
  if (!in_flight_) return absl::OkStatus();
  if (!ready_) ExecuteLocked();  // nothing else would ever complete it
  in_flight_ = false;
  return result_;
}

absl::Status MemJournalSink::CloseSegment(uint64_t final_size) {
  std::lock_guard<std::mutex> l(mu_);
  if (!is_open_) return absl::FailedPreconditionError("mem: no segment open");
  File& f = files_[open_];
  f.data.resize(final_size);
  ++syncs_;
  if (fail_sync_at_ != 0 && syncs_ == fail_sync_at_) return fail_sync_status_;
  f.synced_len = f.data.size();
  is_open_ = false;
  return absl::OkStatus();
}

void MemJournalSink::FailNthWrite(uint64_t n, absl::Status status, size_t partial_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  fail_write_at_ = n;
  fail_write_status_ = std::move(status);
  fail_write_partial_ = partial_bytes;
}

void MemJournalSink::FailNthSync(uint64_t n, absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_sync_at_ = n;
  fail_sync_status_ = std::move(status);
}

void MemJournalSink::SetCapacity(uint64_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  capacity_ = bytes;
}

void MemJournalSink::CorruptByte(std::string_view name, uint64_t offset, uint8_t xor_mask) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return;
  std::string& d = it->second.data;
  if (offset < d.size()) d[offset] = static_cast<char>(d[offset] ^ xor_mask);
}

void MemJournalSink::SimulateCrash(size_t keep_unsynced) {
  std::lock_guard<std::mutex> l(mu_);
  if (in_flight_ && !ready_ && !pending_.bytes.empty()) {
    // The write in flight may have partly reached the disk: land its bytes
    // (unsynced); keep_unsynced decides how much of them survives.
    File& f = files_[open_];
    const Op& op = pending_;
    if (f.data.size() < op.offset + op.bytes.size()) f.data.resize(op.offset + op.bytes.size());
    std::copy(op.bytes.begin(), op.bytes.end(), f.data.begin() + static_cast<ptrdiff_t>(op.offset));
  }
  for (auto& [name, f] : files_) {
    const uint64_t keep = std::min<uint64_t>(f.synced_len + keep_unsynced, f.data.size());
    f.data.resize(keep);
    f.synced_len = keep;
  }
  is_open_ = false;
  in_flight_ = false;
  ready_ = false;
}

void MemJournalSink::SetAsync(bool async) {
  std::lock_guard<std::mutex> l(mu_);
  async_ = async;
}

void MemJournalSink::CompletePending() {
  std::lock_guard<std::mutex> l(mu_);
  if (in_flight_ && !ready_) ExecuteLocked();
}

uint64_t MemJournalSink::writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}
uint64_t MemJournalSink::syncs() const {
  std::lock_guard<std::mutex> l(mu_);
  return syncs_;
}

std::optional<std::string> MemJournalSink::written(std::string_view name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return std::nullopt;
  return it->second.data;
}

std::optional<std::string> MemJournalSink::synced(std::string_view name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return std::nullopt;
  return it->second.data.substr(0, it->second.synced_len);
}

void MemJournalSink::SetFile(std::string_view name, std::string contents) {
  std::lock_guard<std::mutex> l(mu_);
  File& f = files_[std::string(name)];
  f.data = std::move(contents);
  f.synced_len = f.data.size();
}

uint64_t MemJournalSink::UsedLocked() const {
  uint64_t n = 0;
  for (const auto& [name, f] : files_) n += f.data.size();
  return n;
}

}  // namespace xc::engine::testing
