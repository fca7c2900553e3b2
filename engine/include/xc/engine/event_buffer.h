#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "xc/protocol/check.h"
#include "xc/protocol/event.h"

namespace xc::engine {

// EventBuffer collects the events of one command (or of a batch of commands)
// before they are published (STYLE.md §13: emit after the command, never
// re-enter). Owned by one shard; used on that shard's thread only; not
// thread-safe.
//
// Allocation: the constructor reserves `initial_capacity` events. Push never
// allocates while the buffer has room; a single command that emits more than
// the remaining room (a mass cancel of a huge book, a sweep of thousands of
// orders) doubles the storage once, which is the only allocation here. Warm-up
// therefore sizes it for the largest command seen, and steady flow allocates
// nothing.
class EventBuffer {
 public:
  explicit EventBuffer(size_t initial_capacity = 4096) { Reserve(initial_capacity); }
  ~EventBuffer() { std::free(data_); }
  EventBuffer(const EventBuffer&) = delete;
  EventBuffer& operator=(const EventBuffer&) = delete;

  // Appends e. Hot path: one compare and an 80-byte store.
  void Push(const protocol::Event& e) {
    if (__builtin_expect(size_ == capacity_, 0)) Reserve(capacity_ * 2);
    data_[size_++] = e;
  }
  // Appends a default event and returns it for the caller to fill in.
  protocol::Event& Emplace() {
    if (__builtin_expect(size_ == capacity_, 0)) Reserve(capacity_ * 2);
    return data_[size_++];
  }

  void clear() { size_ = 0; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  const protocol::Event& operator[](size_t i) const { return data_[i]; }
  protocol::Event& operator[](size_t i) { return data_[i]; }
  const protocol::Event* begin() const { return data_; }
  const protocol::Event* end() const { return data_ + size_; }

  // Grows the storage to at least n events (never shrinks). Allocates.
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    auto* p = static_cast<protocol::Event*>(std::malloc(n * sizeof(protocol::Event)));
    XC_CHECK(p != nullptr);  // out of memory: fatal, never an exception
    if (size_ != 0) std::memcpy(p, data_, size_ * sizeof(protocol::Event));
    std::free(data_);
    data_ = p;
    capacity_ = n;
  }

 private:
  protocol::Event* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace xc::engine
