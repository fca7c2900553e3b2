#pragma once
// Three assertion levels (STYLE.md §7); the engine thread throws no exceptions.
//   XC_CHECK(cond)   always on; fatal. For "cannot happen after startup"
//                    (corrupt journal, lost ownership): a restart replays to
//                    the same state.
//   XC_DCHECK(cond)  debug-only invariant; compiled out with NDEBUG.
//   XC_BUG(msg)      release: logs and counts (xc::protocol::BugCount());
//                    debug: fatal.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace xc::protocol::internal {
[[noreturn]] inline void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "XC_CHECK failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}
inline std::atomic<uint64_t>& BugCounter() {
  static std::atomic<uint64_t> n{0};
  return n;
}
inline void Bug(const char* msg, const char* file, int line) {
  std::fprintf(stderr, "XC_BUG: %s at %s:%d\n", msg, file, line);
  BugCounter().fetch_add(1, std::memory_order_relaxed);
#ifndef NDEBUG
  std::abort();
#endif
}
}  // namespace xc::protocol::internal

namespace xc::protocol {
inline uint64_t BugCount() { return internal::BugCounter().load(std::memory_order_relaxed); }
}  // namespace xc::protocol

#define XC_CHECK(cond)                                                       \
  do {                                                                       \
    if (__builtin_expect(!(cond), 0))                                        \
      ::xc::protocol::internal::CheckFailed(#cond, __FILE__, __LINE__);      \
  } while (0)

#ifdef NDEBUG
#define XC_DCHECK(cond) \
  do {                  \
  } while (false && (cond))
#else
#define XC_DCHECK(cond) XC_CHECK(cond)
#endif

#define XC_BUG(msg) ::xc::protocol::internal::Bug((msg), __FILE__, __LINE__)
