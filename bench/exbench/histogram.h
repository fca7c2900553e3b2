#pragma once
// LatencyHistogram: an HdrHistogram-style log-linear histogram of
// non-negative integers (exbench records nanoseconds).
//
// Values below 128 have a bucket each; above, every power of two [2^e, 2^e+1)
// is split into 64 equal buckets, so a bucket is at most 1/64 (1.6%) of its
// values wide and a reported percentile is within 1.6% above the true value.
// Values at or above 2^41 (~37 minutes in ns) land in the last bucket.
//
// Percentiles report the upper bound of the bucket that holds the rank (as
// HdrHistogram's "highest equivalent value"), clamped to the exact maximum;
// min, max, count and sum are exact.
//
// Thread safety: none; exbench keeps one per worker thread and merges them
// after a phase. Record() is O(1), no allocation (the bucket array is fixed).

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace xc::exbench {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 7;                 // 128 linear buckets
  static constexpr int64_t kSub = int64_t{1} << kSubBits;
  static constexpr int64_t kHalf = kSub / 2;
  static constexpr int kMaxExp = 40;                 // top bucket covers [2^40, 2^41)
  static constexpr size_t kBuckets = kSub + (kMaxExp - kSubBits + 1) * kHalf;

  void Record(int64_t v) {
    if (v < 0) v = 0;
    ++counts_[Index(v)];
    ++count_;
    sum_ += static_cast<double>(v);
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  void Merge(const LatencyHistogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }
  void Reset() { *this = LatencyHistogram(); }

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }

  // The value at percentile p in [0, 100]: the smallest bucket upper bound
  // such that at least ceil(p/100 * count) values are at or below it. 0 when
  // empty.
  int64_t Percentile(double p) const {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(UpperBound(i), max_);
    }
    return max_;
  }

  static size_t Index(int64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    int e = std::bit_width(static_cast<uint64_t>(v)) - 1;  // >= kSubBits
    if (e > kMaxExp) return kBuckets - 1;
    const int shift = e - (kSubBits - 1);
    const int64_t sub = v >> shift;  // in [kHalf, kSub)
    return static_cast<size_t>(kSub + (shift - 1) * kHalf + (sub - kHalf));
  }
  static int64_t LowerBound(size_t i) {
    if (i < static_cast<size_t>(kSub)) return static_cast<int64_t>(i);
    const int64_t k = static_cast<int64_t>(i) - kSub;
    const int shift = static_cast<int>(k / kHalf) + 1;
    return (kHalf + k % kHalf) << shift;
  }
  static int64_t UpperBound(size_t i) {
    if (i < static_cast<size_t>(kSub)) return static_cast<int64_t>(i);
    const int64_t k = static_cast<int64_t>(i) - kSub;
    const int shift = static_cast<int>(k / kHalf) + 1;
    return ((kHalf + k % kHalf + 1) << shift) - 1;
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = 0;
};

}  // namespace xc::exbench
