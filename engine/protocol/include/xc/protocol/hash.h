#pragma once
// The mixing step of every state hash (books, shards, reference books in the
// tests). One definition so that two implementations of the same state agree.

#include <cstdint>

namespace xc::protocol {

// Folds v into h. Order-sensitive; not cryptographic.
constexpr uint64_t HashCombine(uint64_t h, uint64_t v) {
  v *= 0x9e3779b97f4a7c15ULL;
  v ^= v >> 29;
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

constexpr uint64_t kHashSeed = 0xcbf29ce484222325ULL;

}  // namespace xc::protocol
