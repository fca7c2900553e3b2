#pragma once
// ChunkedTable<T>: an append-only array of T, indexed 0..size()-1, kept in
// chunks of 2^kChunkBits elements.
//
// Why not a vector or a hash map: appending never moves an element (a
// reference stays valid for the table's life) and never touches the ones
// already there, so an append costs the same at any size. A hash map's
// growth rehashes every entry at once: the order table of a partition, an
// absl::node_hash_map, took 12 ms at 57k orders and 164 ms at 918k on the
// 2-vCPU VM, a stall of every request of that partition each time.
// A chunk is allocated when the first element of it is appended and its
// elements are constructed one by one, so its pages are touched (faulted
// in) as they fill, not all at once.
//
// Thread safety: none (the owner's, here the partition's mutex).

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace xc::order_service::internal {

template <typename T, size_t kChunkBits = 12>
class ChunkedTable {
 public:
  ChunkedTable() = default;
  ~ChunkedTable() {
    for (size_t i = 0; i < size_; ++i) (*this)[i].~T();
    for (T* c : chunks_) ::operator delete(c, std::align_val_t(alignof(T)));
  }
  ChunkedTable(const ChunkedTable&) = delete;
  ChunkedTable& operator=(const ChunkedTable&) = delete;

  size_t size() const { return size_; }

  // Appends T(args...) at index size(); returns it.
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if ((size_ >> kChunkBits) == chunks_.size()) {
      chunks_.push_back(static_cast<T*>(
          ::operator new(sizeof(T) << kChunkBits, std::align_val_t(alignof(T)))));
    }
    T* slot = &chunks_[size_ >> kChunkBits][size_ & kMask];
    new (slot) T(std::forward<Args>(args)...);
    ++size_;
    return *slot;
  }

  // REQUIRES: i < size().
  T& operator[](size_t i) { return chunks_[i >> kChunkBits][i & kMask]; }
  const T& operator[](size_t i) const { return chunks_[i >> kChunkBits][i & kMask]; }

 private:
  static constexpr size_t kMask = (size_t{1} << kChunkBits) - 1;

  std::vector<T*> chunks_;  // each holds 2^kChunkBits slots
  size_t size_ = 0;
};

}  // namespace xc::order_service::internal
