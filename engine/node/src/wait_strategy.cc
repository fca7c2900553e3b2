#include "xc/engine/node/wait_strategy.h"

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

}  // namespace xc::engine::node
