#include "xc/engine/journal_writer.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "xc/protocol/check.h"

namespace xc::engine {

// ---- DurabilityPolicy ----

absl::StatusOr<DurabilityPolicy> DurabilityPolicy::Parse(std::string_view s) {
  DurabilityPolicy p;
  if (s == "fsync") return p;
  if (s == "none") {
    p.mode = Mode::kNone;
    return p;
  }
  constexpr std::string_view kInterval = "interval:";
  if (s.substr(0, kInterval.size()) == kInterval) {
    const std::string_view v = s.substr(kInterval.size());
    int64_t ms = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), ms);
    if (!v.empty() && r.ec == std::errc() && r.ptr == v.data() + v.size() && ms >= 1) {
      p.mode = Mode::kInterval;
      p.interval_ms = ms;
      return p;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "bad durability policy '", std::string(s), "': expected fsync, interval:<ms> (ms >= 1) or none"));
}

std::string DurabilityPolicy::ToString() const {
  switch (mode) {
    case Mode::kFsync: return "fsync";
    case Mode::kInterval: return absl::StrCat("interval:", interval_ms);
    case Mode::kNone: return "none";
  }
  return "?";
}

// ---- JournalWriter ----

// A batch buffer: kReserve bytes in front of the records, so that a segment
// header can be prepended in place when the batch opens a new segment (the
// write stays one contiguous buffer, one syscall / one SQE).
struct JournalWriter::Batch {
  static constexpr size_t kReserve = 64;
  static_assert(kReserve >= kJournalSegmentHeaderRecordSize);
  static constexpr size_t kAlign = 4096;

  explicit Batch(size_t capacity)
      : capacity(capacity),
        storage(static_cast<char*>(::operator new(kReserve + capacity, std::align_val_t{kAlign}))) {}
  ~Batch() { ::operator delete(storage, std::align_val_t{kAlign}); }
  char* records() { return storage + kReserve; }
  void Reset() {
    len = 0;
    count = 0;
    first_seq = 0;
    last_seq = 0;
  }

  const size_t capacity;  // record bytes
  char* const storage;
  size_t len = 0;
  size_t count = 0;
  protocol::Seq first_seq = 0;
  protocol::Seq last_seq = 0;
};

JournalWriter::JournalWriter(JournalSink* sink, protocol::Seq next_seq, const Options& options)
    : sink_(sink),
      options_(options),
      ring_(options.ring_capacity),
      fill_(std::make_unique<Batch>(options.max_batch_bytes)),
      flight_(std::make_unique<Batch>(options.max_batch_bytes)),
      next_seq_(next_seq),
      written_seq_(next_seq - 1),
      synced_seq_(next_seq - 1),
      durable_seq_(next_seq - 1) {
  XC_CHECK(sink != nullptr);
  XC_CHECK(next_seq >= 1);
  XC_CHECK(options.max_batch_bytes >= 4096);
  XC_CHECK(options.segment_bytes >= 4096);
  XC_CHECK(options.policy.mode != DurabilityPolicy::Mode::kInterval ||
           options.policy.interval_ms >= 1);
  written_seq_pub_.store(written_seq_, std::memory_order_relaxed);
  last_sync_start_ns_ = Now();
}

JournalWriter::~JournalWriter() {
  // The sink may still be reading flight_'s buffer: wait before freeing it.
  if (in_flight_) (void)sink_->WaitFlush();
}

int64_t JournalWriter::Now() const {
  if (options_.now_ns) return options_.now_ns();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::Status JournalWriter::status() const {
  if (!failed_.load(std::memory_order_acquire)) return absl::OkStatus();
  return status_;  // written once, before the release store of failed_
}

JournalWriterCounters JournalWriter::counters() const {
  JournalWriterCounters c;
  c.records = records_.load(std::memory_order_relaxed);
  c.flushes = flushes_.load(std::memory_order_relaxed);
  c.syncs = syncs_.load(std::memory_order_relaxed);
  c.bytes = bytes_.load(std::memory_order_relaxed);
  c.segments = segments_.load(std::memory_order_relaxed);
  c.durable_seq = durable_seq_.load(std::memory_order_relaxed);
  c.written_seq = written_seq_pub_.load(std::memory_order_relaxed);
  c.failed = failed_.load(std::memory_order_relaxed);
  return c;
}

size_t JournalWriter::Drain() {
  size_t n = 0;
  for (;;) {
    const size_t room = (fill_->capacity - fill_->len) / kJournalCommandRecordSize;
    if (room == 0) break;
    const std::span<const Entry> entries = ring_.Peek(room);
    if (entries.empty()) break;
    char* dst = fill_->records() + fill_->len;
    for (const Entry& e : entries) {
      // A gap here would write a journal that recovery refuses: the shard
      // handed us a wrong seq, which cannot happen after startup.
      XC_CHECK(e.seq == next_seq_);
      dst += EncodeCommandRecord(e.seq, e.cmd, dst);
      ++next_seq_;
    }
    if (fill_->count == 0) fill_->first_seq = entries.front().seq;
    fill_->last_seq = entries.back().seq;
    fill_->count += entries.size();
    fill_->len += entries.size() * kJournalCommandRecordSize;
    ring_.Consume(entries.size());
    n += entries.size();
  }
  if (n != 0) Add(records_, n);
  return n;
}

size_t JournalWriter::fill_count() const { return fill_->count; }

int JournalWriter::DoWork() {
  if (failed_.load(std::memory_order_relaxed) || closed_) return 0;
  int work = 0;
  if (in_flight_) {
    std::optional<absl::Status> done = sink_->PollFlush();
    if (done.has_value()) {
      Complete(*done);
      ++work;
      if (failed_.load(std::memory_order_relaxed)) return work;
    }
  }
  work += static_cast<int>(Drain());
  if (in_flight_) return work;

  const bool pending = fill_->count != 0;
  bool started = false;
  switch (options_.policy.mode) {
    case DurabilityPolicy::Mode::kFsync:
      if (pending) started = StartFlush(true, true);
      break;
    case DurabilityPolicy::Mode::kInterval: {
      const bool unsynced = pending || written_seq_ > synced_seq_;
      const bool due =
          unsynced && Now() - last_sync_start_ns_ >= options_.policy.interval_ms * 1'000'000;
      if (pending) {
        started = StartFlush(true, due);
      } else if (due) {
        started = StartFlush(false, true);
      }
      break;
    }
    case DurabilityPolicy::Mode::kNone:
      if (pending) started = StartFlush(true, false);
      break;
  }
  return work + (started ? 1 : 0);
}

bool JournalWriter::StartFlush(bool write, bool sync) {
  const char* data = nullptr;
  size_t n = 0;
  if (write) {
    if (segment_open_ && segment_offset_ >= options_.segment_bytes) {
      absl::Status rolled = Roll();
      if (!rolled.ok()) {
        Fail(std::move(rolled));
        return false;
      }
    }
    size_t header = 0;
    if (!segment_open_) {
      segment_name_ = JournalSegmentName(fill_->first_seq);
      absl::Status created =
          sink_->CreateSegment(segment_name_, options_.preallocate ? options_.segment_bytes : 0);
      if (!created.ok()) {
        Fail(std::move(created));
        return false;
      }
      segment_open_ = true;
      segment_offset_ = 0;
      Add(segments_, 1);
      JournalSegmentHeader h;
      h.shard_id = options_.shard_id;
      h.first_seq = fill_->first_seq;
      header = kJournalSegmentHeaderRecordSize;
      EncodeJournalRecord(JournalRecordType::kSegmentHeader, h.first_seq, &h, sizeof(h),
                          fill_->records() - header);
    }
    data = fill_->records() - header;
    n = header + fill_->len;
    flight_info_.first_seq = fill_->first_seq;
    flight_info_.last_seq = fill_->last_seq;
  } else {
    flight_info_.first_seq = 0;
    flight_info_.last_seq = 0;
  }
  flight_info_.bytes = n;
  flight_info_.synced = sync;
  flight_sync_ = sync;
  flight_start_ns_ = Now();
  if (sync) {
    flight_sync_upto_ = write ? fill_->last_seq : written_seq_;
    last_sync_start_ns_ = flight_start_ns_;
  }
  absl::Status begun = sink_->BeginFlush(segment_offset_, data, n, sync);
  if (!begun.ok()) {
    Fail(std::move(begun));
    return false;
  }
  segment_offset_ += n;
  in_flight_ = true;
  std::swap(fill_, flight_);
  fill_->Reset();
  return true;
}

void JournalWriter::Complete(const absl::Status& s) {
  in_flight_ = false;
  if (!s.ok()) {
    Fail(s);
    return;
  }
  if (flight_info_.last_seq != 0) written_seq_ = flight_info_.last_seq;
  if (flight_sync_) {
    synced_seq_ = flight_sync_upto_;
    Add(syncs_, 1);
  }
  Add(flushes_, 1);
  Add(bytes_, flight_info_.bytes);
  Publish();
  if (options_.on_flush) {
    flight_info_.latency_ns = Now() - flight_start_ns_;
    options_.on_flush(flight_info_);
  }
}

absl::Status JournalWriter::Roll() {
  // CloseSegment syncs: every segment but the last is durable in full, so
  // only the last one can ever have a torn tail (recovery relies on it).
  absl::Status closed = sink_->CloseSegment(segment_offset_);
  if (!closed.ok()) return closed;
  segment_open_ = false;
  synced_seq_ = written_seq_;
  Add(syncs_, 1);
  Publish();
  return absl::OkStatus();
}

void JournalWriter::Publish() {
  written_seq_pub_.store(written_seq_, std::memory_order_relaxed);
  const protocol::Seq durable =
      options_.policy.mode == DurabilityPolicy::Mode::kNone ? written_seq_ : synced_seq_;
  if (durable > durable_seq_.load(std::memory_order_relaxed)) {
    durable_seq_.store(durable, std::memory_order_release);
  }
}

void JournalWriter::Fail(absl::Status s) {
  const protocol::Seq durable = durable_seq_.load(std::memory_order_relaxed);
  status_ = absl::Status(
      s.code(), absl::StrCat("journal failed: ", s.message(), " (durable through seq ", durable,
                             "; the shard accepts no more commands and must restart from the "
                             "journal)"));
  std::fprintf(stderr, "journal: error: %s\n", std::string(status_.message()).c_str());
  failed_.store(true, std::memory_order_release);
}

absl::Status JournalWriter::Close() {
  if (closed_) return status();
  while (!failed_.load(std::memory_order_relaxed)) {
    if (in_flight_) {
      Complete(sink_->WaitFlush());
      continue;
    }
    Drain();
    if (fill_->count != 0) {
      if (StartFlush(true, true)) continue;
      break;
    }
    if (!ring_.empty_approx()) continue;
    break;  // CloseSegment below syncs whatever is still unsynced
  }
  if (!failed_.load(std::memory_order_relaxed) && segment_open_) {
    absl::Status closed = sink_->CloseSegment(segment_offset_);
    if (!closed.ok()) {
      Fail(std::move(closed));
    } else {
      segment_open_ = false;
      synced_seq_ = written_seq_;
      Publish();
    }
  }
  closed_ = true;
  return status();
}

}  // namespace xc::engine
