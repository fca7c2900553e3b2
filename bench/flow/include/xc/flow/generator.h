#pragma once
// FlowGenerator: a seeded, deterministic source of realistic order flow for one
// symbol, for flowgen and the micro benchmarks.
//
// The generator runs the real matching engine (an xc::engine::OrderBook) on
// every command it emits, so it knows the touch and the set of live orders
// exactly: prices are placed relative to the real best bid/ask, cancels and
// amends name orders that are live at that point of the flow, and crossing
// orders meet real makers.
//
// Flow shape. First a prefill of passive adds, alternating sides, until the
// book holds `resting` orders. Then `ops` commands drawn from the mix:
//   * passive add (GTC limit)          ~50%  price = opposite best -/+ d (buy/sell),
//                                             d = 1 + floor(Exponential(depth_mean))
//   * cancel of a live order           ~35%  uniform among live orders
//   * IOC crossing order                 7%  a tick or two through the touch,
//   * GTC crossing order                 3%  qty = the sum of 1..3 resting-sized draws
//   * price amend (M) of a live order    5%  to a new passive price as for an add,
//                                             keeping its remaining quantity
// The add and cancel shares are moved gently (by at most `max_feedback`) in
// proportion to (live - resting) / resting, so the live count stays near
// `resting`; the side of a passive add leans the same way towards the thinner
// side. Quantities are uniform in [1, max_qty] lots.
//
// Determinism: the output is a pure function of Options. Randomness comes from
// std::mt19937_64 (its sequence is fixed by the standard) through the
// generator's own integer and exponential transforms (std:: distributions are
// implementation-defined). The exponential uses std::log, which glibc rounds
// correctly; another libm could in principle differ in rare last-bit cases.
//
// Thread safety: none; one generator per thread. Allocation: the book's pools
// at construction, then amortized growth of the live-order index.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "xc/flow/flow_format.h"
#include "xc/protocol/command.h"
#include "xc/protocol/types.h"

namespace xc::flow {

struct GeneratorOptions {
  uint64_t seed = 1;
  uint32_t resting = 1000;       // target live (resting) order count
  double depth_mean = 8.0;       // mean of the exponential part of a passive distance
  uint64_t ops = 1'000'000;      // commands after the prefill
  std::string symbol = "BTCUSDT";
  protocol::Price mid = 1'000'000;  // initial mid price (ticks)
  protocol::Qty max_qty = 20;       // quantities are uniform in [1, max_qty]
  // The mix, in percent of the ops after the prefill (must sum to 100; cancel
  // takes the rest).
  double add_pct = 50.0;
  double ioc_pct = 7.0;
  double gtc_cross_pct = 3.0;
  double amend_pct = 5.0;
  // Largest shift of the add/cancel shares (in percent points) by the feedback.
  double max_feedback = 15.0;
};

// What a generator has emitted so far.
struct GeneratorStats {
  uint64_t prefill = 0;       // passive adds of the prefill
  uint64_t adds = 0;          // passive adds after the prefill
  uint64_t cancels = 0;
  uint64_t ioc = 0;
  uint64_t gtc_cross = 0;
  uint64_t amends = 0;
  uint64_t trades = 0;        // Trade events seen in the book
  uint64_t volume = 0;        // sum of their qty
  uint64_t min_live = 0;      // over the ops after the prefill
  uint64_t max_live = 0;
  double sum_live = 0;        // sum over ops after the prefill (for the mean)
  // Live order count sampled every ops/20 commands after the prefill.
  std::vector<uint64_t> live_samples;
};

class FlowGenerator {
 public:
  // InvalidArgument for options that make no flow (resting 0, depth_mean <= 0,
  // percentages outside [0,100] or summing above 100, max_qty < 1).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<FlowGenerator>> Create(
      const GeneratorOptions& options);
  ~FlowGenerator();
  FlowGenerator(const FlowGenerator&) = delete;
  FlowGenerator& operator=(const FlowGenerator&) = delete;

  // Writes the next command to *cmd and applies it to the internal book.
  // Returns false (and leaves *cmd alone) once prefill + ops commands are out.
  bool Next(protocol::Command* cmd);

  // Commands this generator will emit in total (prefill + ops).
  uint64_t total_commands() const;
  const GeneratorStats& stats() const;
  const GeneratorOptions& options() const;
  // Orders live in the internal book now.
  uint64_t live_orders() const;

 private:
  class Impl;
  explicit FlowGenerator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Runs a generator to the end and returns its flow in memory (symbol table of
// one name: options.symbol). For tests and micro benchmarks; flowgen streams.
[[nodiscard]] absl::StatusOr<Flow> GenerateFlow(const GeneratorOptions& options,
                                                GeneratorStats* stats = nullptr);

// "key=value" lines describing the options, for the header of a flow file.
std::string DescribeOptions(const GeneratorOptions& options);
// One line with the realised mix (percent per op type, live min/mean/max).
std::string DescribeStats(const GeneratorStats& stats);

}  // namespace xc::flow
