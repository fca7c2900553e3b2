// Micro benchmarks of xc::engine::OrderBook (STYLE.md §16: BM_<Component>_<Operation>).
//
//   build/bin/engine-bench [--benchmark_filter=...] [--benchmark_repetitions=N]
//
// Every benchmark runs on a book of about 1,000 resting orders unless its
// argument says otherwise; one iteration is one command (items/s = commands/s).
// Book maintenance that is not the measured operation (refills, clean-ups) runs
// with the timer paused, batched so the pause overhead is amortised.

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "xc/engine/event_buffer.h"
#include "xc/engine/order_book.h"
#include "xc/flow/generator.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"

namespace {

using xc::engine::EventBuffer;
using xc::engine::OrderBook;
using xc::protocol::Command;
using xc::protocol::Event;
using xc::protocol::EventType;
using xc::protocol::OrderId;
using xc::protocol::Price;
using xc::protocol::Qty;
using xc::protocol::Side;
using xc::protocol::TimeInForce;

constexpr Price kMid = 1'000'000;
constexpr xc::protocol::UserId kUser = 1;
constexpr int kLevels = 50;       // levels per side of the standing book
constexpr int kPerSide = 500;     // orders per side of the standing book
constexpr size_t kBatch = 1024;   // ops between timer pauses

// A book with the standing ~1k orders: kPerSide bids on kMid-1 .. kMid-kLevels
// and as many asks on kMid+1 .. kMid+kLevels, qty 10 each.
struct Fixture {
  explicit Fixture(uint32_t max_orders = 1u << 16)
      : book(std::make_unique<OrderBook>(0, OrderBook::Options{max_orders, 1u << 16})),
        events(1 << 12) {
    for (int i = 0; i < kPerSide; ++i) {
      Apply(Command::Limit(0, next_id++, kUser, Side::kBuy, kMid - 1 - i % kLevels, 10));
      Apply(Command::Limit(0, next_id++, kUser, Side::kSell, kMid + 1 + i % kLevels, 10));
    }
  }
  void Apply(const Command& c) {
    book->Apply(c, ++seq, events);
    events.clear();
  }
  std::unique_ptr<OrderBook> book;
  EventBuffer events;
  xc::protocol::Seq seq = 0;
  OrderId next_id = 1;
};

// Passive prices near the touch (geometric-ish: mostly the first few levels).
std::vector<Price> PassiveBidPrices(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Price> out(n);
  for (auto& p : out) {
    const uint64_t r = rng();
    p = kMid - 1 - static_cast<Price>((r & 7) * ((r >> 3) & 7) % kLevels);
  }
  return out;
}

// Passive add of a GTC bid to the ~1k book; the added orders are cancelled
// (timer paused) every kBatch adds, so the book stays at 1k..2k orders.
void BM_OrderBook_Add(benchmark::State& state) {
  Fixture f;
  const std::vector<Price> prices = PassiveBidPrices(kBatch, 1);
  std::vector<OrderId> added;
  added.reserve(kBatch);
  size_t i = 0;
  for (auto _ : state) {
    const OrderId id = f.next_id++;
    f.book->Apply(Command::Limit(0, id, kUser, Side::kBuy, prices[i], 5), ++f.seq, f.events);
    f.events.clear();
    added.push_back(id);
    if (++i == kBatch) {
      state.PauseTiming();
      for (OrderId a : added) f.Apply(Command::Cancel(0, a));
      added.clear();
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OrderBook_Add);

// Cancel of a random live order of the ~1k book (plus the kBatch refilled
// ones, cancelled in random order); refills run with the timer paused.
void BM_OrderBook_Cancel(benchmark::State& state) {
  Fixture f;
  const std::vector<Price> prices = PassiveBidPrices(kBatch, 2);
  std::mt19937_64 rng(3);
  std::vector<OrderId> ids(kBatch);
  size_t i = kBatch;
  for (auto _ : state) {
    if (i == kBatch) {
      state.PauseTiming();
      for (size_t k = 0; k < kBatch; ++k) {
        ids[k] = f.next_id++;
        f.Apply(Command::Limit(0, ids[k], kUser, Side::kBuy, prices[k], 5));
      }
      std::shuffle(ids.begin(), ids.end(), rng);
      i = 0;
      state.ResumeTiming();
    }
    f.book->Apply(Command::Cancel(0, ids[i++]), ++f.seq, f.events);
    f.events.clear();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OrderBook_Cancel);

// IOC buy taking exactly one maker (all makers are 10 lots) at the best ask.
// The taken makers are put back at their prices every 256 takes (timer paused).
void BM_OrderBook_Match(benchmark::State& state) {
  Fixture f;
  constexpr size_t kTakes = 256;
  std::array<Price, kTakes> taken{};
  size_t i = 0;
  uint64_t trades = 0;
  for (auto _ : state) {
    f.book->Apply(Command::Limit(0, f.next_id++, kUser, Side::kBuy, kMid + kLevels, 10,
                                 TimeInForce::kIoc),
                  ++f.seq, f.events);
    for (const Event& e : f.events) {
      if (e.type == EventType::kTrade) {
        taken[i] = e.price;
        ++trades;
      }
    }
    f.events.clear();
    if (++i == kTakes) {
      state.PauseTiming();
      for (Price p : taken) f.Apply(Command::Limit(0, f.next_id++, kUser, Side::kSell, p, 10));
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["fills_per_op"] =
      static_cast<double>(trades) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_OrderBook_Match);

// Amend of a random resting bid of the ~1k book. Arg 0: keep priority (same
// price, quantity down by one lot); arg 1: move to another passive price (the
// order is re-queued at the back of its new level).
void BM_OrderBook_Amend(benchmark::State& state) {
  const bool move = state.range(0) == 1;
  Fixture f;
  struct Mine {
    OrderId id;
    Price price;
    Qty qty;
  };
  std::vector<Mine> mine;
  for (int k = 0; k < kPerSide; ++k) {
    const Mine m{f.next_id++, kMid - 1 - k % kLevels, Qty{1} << 40};
    f.Apply(Command::Limit(0, m.id, kUser, Side::kBuy, m.price, m.qty));
    mine.push_back(m);
  }
  std::mt19937_64 rng(4);
  std::vector<uint32_t> order(1 << 14);
  for (auto& o : order) o = static_cast<uint32_t>(rng() % mine.size());
  std::vector<Price> moves = PassiveBidPrices(order.size(), 5);
  size_t i = 0;
  for (auto _ : state) {
    Mine& m = mine[order[i]];
    if (move) {
      m.price = moves[i] != m.price ? moves[i] : m.price - 1 < kMid - kLevels ? kMid - 1
                                                                               : m.price - 1;
    } else {
      --m.qty;
    }
    f.book->Apply(Command::Amend(0, m.id, m.price, m.qty), ++f.seq, f.events);
    f.events.clear();
    i = (i + 1) & (order.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OrderBook_Amend)->ArgName("move")->Arg(0)->Arg(1);

// Replays generated flow (xc::flow::FlowGenerator: 50% passive adds, 35%
// cancels, 7% IOC, 3% GTC crossing, 5% amends) with the argument as the
// resting target; depth mean 8 for 1k resting, 50 above. When the flow is used
// up the book is rebuilt (timer paused) and the flow restarts with its prefill.
void BM_OrderBook_MixedFlow(benchmark::State& state) {
  xc::flow::GeneratorOptions o;
  o.seed = 1;
  o.resting = static_cast<uint32_t>(state.range(0));
  o.depth_mean = o.resting <= 1000 ? 8 : 50;
  o.ops = 2'000'000;
  // Generated once per argument (it takes about a second).
  static std::map<uint32_t, std::vector<Command>> cache;
  std::vector<Command>& cmds = cache[o.resting];
  if (cmds.empty()) {
    absl::StatusOr<xc::flow::Flow> flow = xc::flow::GenerateFlow(o);
    if (!flow.ok()) {
      state.SkipWithError(std::string(flow.status().message()).c_str());
      return;
    }
    cmds = std::move(flow->commands);
  }
  const OrderBook::Options opts{std::max<uint32_t>(1u << 16, o.resting * 4), 1u << 16};
  auto book = std::make_unique<OrderBook>(0, opts);
  EventBuffer events(1 << 12);
  xc::protocol::Seq seq = 0;
  size_t i = 0;
  for (auto _ : state) {
    book->Apply(cmds[i], ++seq, events);
    benchmark::DoNotOptimize(events.size());
    events.clear();
    if (++i == cmds.size()) {
      state.PauseTiming();
      book = std::make_unique<OrderBook>(0, opts);
      seq = 0;
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OrderBook_MixedFlow)->Arg(1000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();
