#pragma once
// FlowCommand: a deterministic order flow that is a pure function of (seed,
// index), for recovery and crash tests that must reproduce "the first n
// commands" in another process or after a restart without replaying a
// generator's state (TESTONLY).

#include <cstdint>

#include "xc/engine/event_buffer.h"
#include "xc/engine/order_book.h"
#include "xc/engine/shard.h"
#include "xc/protocol/check.h"
#include "xc/protocol/command.h"
#include "xc/protocol/types.h"

namespace xc::engine::testing {

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Command number `index` (0-based; it is applied with seq index + 1) of the
// flow `seed` over `symbols` symbols: ~60% GTC limit orders around a fixed
// mid (both sides overlap, so about half of them trade), ~25% cancels of a
// recent order (some already gone: kUnknownOrder), ~8% IOC orders through
// the touch, ~7% amends of a recent order. Order ids are index + 1, so they
// are unique; users 1..50 (self-trades happen and are allowed: STP none).
inline protocol::Command FlowCommand(uint64_t seed, uint64_t index, uint32_t symbols = 4) {
  const uint64_t h = SplitMix64(seed * 0x100000001B3ULL ^ SplitMix64(index));
  const uint64_t h2 = SplitMix64(h);
  const auto sym = static_cast<protocol::SymbolId>(h % symbols);
  const uint64_t kind = (h >> 8) % 100;
  const protocol::OrderId id = index + 1;
  const protocol::UserId user = 1 + (h >> 16) % 50;
  const protocol::Side side = ((h >> 23) & 1) != 0 ? protocol::Side::kBuy : protocol::Side::kSell;
  const protocol::Price price = 10'000 + static_cast<int64_t>((h >> 24) % 41) - 20;
  const protocol::Qty qty = 1 + static_cast<int64_t>((h >> 40) % 20);
  // A recent order id (may be of another symbol, filled or cancelled).
  const uint64_t back = 1 + h2 % 3000;
  const protocol::OrderId recent = back < id ? id - back : 1;
  protocol::Command c;
  if (kind < 60) {
    c = protocol::Command::Limit(sym, id, user, side, price, qty);
  } else if (kind < 85) {
    c = protocol::Command::Cancel(sym, recent);
  } else if (kind < 93) {
    c = protocol::Command::Limit(sym, id, user, side,
                                 side == protocol::Side::kBuy ? price + 10 : price - 10, qty,
                                 protocol::TimeInForce::kIoc);
  } else {
    c = protocol::Command::Amend(sym, recent, price, qty);
  }
  c.ts = static_cast<protocol::Timestamp>(index) * 1000;
  return c;
}

// A flow and the books it runs on: symbols 0..symbols-1, each with the same
// pools. One value serves the test that writes a journal, the process that
// recovers it and the reference run that checks the hash.
struct FlowSpec {
  uint64_t seed = 1;
  uint32_t symbols = 4;
  uint32_t max_orders = 1u << 15;
  uint32_t max_levels = 1u << 10;
};

// Adds the flow's books to an empty shard.
inline void AddFlowSymbols(Shard* shard, const FlowSpec& f) {
  OrderBook::Options o;
  o.max_orders = f.max_orders;
  o.max_levels = f.max_levels;
  for (uint32_t s = 0; s < f.symbols; ++s) XC_CHECK(shard->AddSymbol(s, o).ok());
}

// Applies the flow's commands from the shard's last_seq() up to seq n
// (events discarded).
inline void ApplyFlow(Shard* shard, const FlowSpec& f, protocol::Seq n, EventBuffer* ev) {
  while (shard->last_seq() < n) {
    ev->clear();
    shard->Apply(FlowCommand(f.seed, shard->last_seq(), f.symbols), *ev);
  }
}

// State hash of an uninterrupted run over the flow's commands 1..n.
inline uint64_t FlowReferenceHash(const FlowSpec& f, protocol::Seq n) {
  Shard shard;
  AddFlowSymbols(&shard, f);
  EventBuffer ev(4096);
  ApplyFlow(&shard, f, n, &ev);
  return shard.StateHash();
}

}  // namespace xc::engine::testing
