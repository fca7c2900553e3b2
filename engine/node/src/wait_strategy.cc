#include "xc/engine/node/wait_strategy.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include <string>

#include "absl/strings/str_cat.h"

namespace xc::engine::node {

absl::StatusOr<WaitStrategy> ParseWaitStrategy(std::string_view s) {
  if (s == "spin") return WaitStrategy::kSpin;
  if (s == "yield") return WaitStrategy::kYield;
  if (s == "block") return WaitStrategy::kBlock;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown wait strategy '", std::string(s), "' (expected spin|yield|block)"));
}

const char* WaitStrategyName(WaitStrategy w) {
  switch (w) {
    case WaitStrategy::kSpin:
      return "spin";
    case WaitStrategy::kYield:
      return "yield";
    case WaitStrategy::kBlock:
      return "block";
  }
  return "unknown";
}

void Doorbell::FutexWait(uint32_t e) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  // The kernel compares the word with e atomically against a concurrent
  // Wake (which changes it first), so no wake-up is lost; EAGAIN (changed
  // already) and EINTR just return: the caller re-checks.
  while (epoch_.load(std::memory_order_acquire) == e) {
    long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, e,
                     nullptr, nullptr, 0);
    if (r == -1 && errno != EINTR) break;
  }
}

void Doorbell::FutexWakeAll() {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

}  // namespace xc::engine::node
