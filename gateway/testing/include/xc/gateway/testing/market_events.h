#pragma once
// Test helpers for the market-data side of the gateway (MarketData,
// MarketDataApi, StreamHub): a fixed wall clock and the two engine events
// market data reads, built field by field. Header only; any thread.

#include <cstdint>

#include "xc/gateway/rest_api.h"
#include "xc/protocol/event.h"
#include "xc/protocol/types.h"

namespace xc::gateway::testing {

// A WallClock that always says `ms` milliseconds since the epoch.
class FixedClock final : public WallClock {
 public:
  explicit FixedClock(int64_t ms) : ms_(ms) {}
  protocol::Timestamp NowNanos() const override { return ms_ * 1'000'000; }

 private:
  int64_t ms_;
};

// LevelChanged on symbol 0: `side` at `price` ticks now holds `lots` (0: gone).
inline protocol::Event LevelEvent(protocol::Side side, int64_t price, int64_t lots,
                                  protocol::Seq seq) {
  protocol::Event e;
  e.type = protocol::EventType::kLevelChanged;
  e.side = side;
  e.price = price;
  e.qty = lots;
  e.seq = seq;
  return e;
}

// Trade `trade_id` (the engine numbers each symbol's trades 1, 2, ...) on
// symbol 0 of `lots` at `price` ticks against a `maker_side` maker, taker
// order `taker`, at `ms` milliseconds.
inline protocol::Event TradeEvent(uint64_t trade_id, int64_t price, int64_t lots,
                                  protocol::Side maker_side, int64_t ms, protocol::Seq seq,
                                  protocol::OrderId taker) {
  protocol::Event e;
  e.type = protocol::EventType::kTrade;
  e.trade_id = trade_id;
  e.side = maker_side;
  e.price = price;
  e.qty = lots;
  e.ts = ms * 1'000'000;
  e.seq = seq;
  e.order_id = taker;
  return e;
}

}  // namespace xc::gateway::testing
