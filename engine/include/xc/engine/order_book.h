#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

#include "xc/engine/event_buffer.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"
#include "xc/protocol/types.h"

namespace xc::engine {

// A snapshot of one live order, for queries (depth tools, flowgen, tests).
struct OrderView {
  protocol::OrderId id = 0;
  protocol::UserId user = 0;
  protocol::Side side = protocol::Side::kBuy;
  protocol::OrderType type = protocol::OrderType::kLimit;
  protocol::TimeInForce tif = protocol::TimeInForce::kGtc;
  protocol::Price price = 0;        // limit price
  protocol::Price stop_price = 0;   // pending stop orders only
  protocol::Qty visible = 0;        // quantity shown on the book (0 for a pending stop)
  protocol::Qty hidden = 0;         // iceberg reserve not yet shown; for a pending stop,
                                    // its whole quantity
  protocol::Qty iceberg_qty = 0;    // iceberg slice size; 0 = plain order
  bool pending_stop = false;        // waiting for its trigger, not on the book
};

// One price level as seen by depth queries.
struct LevelView {
  protocol::Price price = 0;
  protocol::Qty total = 0;  // sum of the visible quantity of its orders
  uint32_t orders = 0;
};

// OrderBook is the price-time priority book of one symbol.
//
// Thread safety: owned by exactly one engine shard; every method must be called
// on that shard's thread. Not thread-safe.
//
// Invariants (hold whenever a method returns):
//  * never crossed: best bid < best ask when both sides are non-empty;
//  * each level's total equals the sum of the visible quantity of its orders,
//    and no level is empty;
//  * within a level, orders are in arrival order (priority), except that an
//    iceberg whose visible slice is exhausted is replenished at the back;
//  * live order ids (resting and pending stops) are unique.
//
// Allocation: orders, levels and the id index come from pools sized by
// Options at construction. After construction no command allocates, except
// EventBuffer growth (see there). A command that would need a slot beyond the
// pools is rejected with kBookFull.
//
// Determinism: the output of every method is a pure function of the book's
// state and its arguments; the book reads no clock and no randomness.
//
// Events of one command, in order (each stamped with `seq`, `ts` and the symbol):
//
// New order (CommandType::kNewOrder):
//  * Rejected(code), and nothing else, when the command is invalid, checked in
//    this order: an enum field out of range (kInvalidCommand), qty <= 0
//    (kInvalidQuantity; for a MARKET by quote: quote_qty <= 0, or both qty and
//    quote_qty set; quote_qty is ignored for other types), limit price <= 0 (kInvalidPrice; not checked for MARKET),
//    stop price <= 0 (kInvalidStopPrice), LIMIT_MAKER or MARKET not GTC/IOC as
//    expected (kInvalidTimeInForce: LIMIT_MAKER must be GTC; MARKET is always
//    treated as IOC, its tif is ignored), an iceberg with iceberg_qty >= qty or
//    a TIF other than GTC or on a MARKET order (kInvalidIceberg), a live order
//    with the same id (kDuplicateOrderId), a LIMIT_MAKER that would cross
//    (kWouldTakeLiquidity), a stop whose condition holds against the last trade
//    price at entry (kWouldTriggerImmediately; no condition holds before the
//    first trade), or no room in the pools (kBookFull).
//  * Otherwise Accepted, then:
//    - stop orders: nothing more; the order waits off the book for its trigger.
//    - FOK that cannot fill entirely: Expired(kFokUnfilled) with the whole qty;
//      nothing else changes. "Can fill" walks the crossing levels in priority:
//      per level, first the visible part of each order in queue order, then the
//      hidden iceberg reserves; an order of the same user counts nothing when
//      the taker's STP mode is not NONE, and for EXPIRE_TAKER / EXPIRE_BOTH the
//      walk stops there (the taker would expire on meeting it).
//    - the sweep (every order type that can take): while the taker has quantity
//      left and the best opposite level crosses its limit (MARKET: any level),
//      it meets that level's front order M:
//        . same user and taker STP != NONE: EXPIRE_TAKER -> stop the sweep, the
//          taker expires (below); EXPIRE_MAKER -> Expired(M, visible+hidden,
//          kSelfTradePrevention), M leaves the book, go on; EXPIRE_BOTH -> as
//          EXPIRE_MAKER, then stop the sweep and the taker expires.
//        . otherwise Trade(taker, M, M's price, q) with q = min(taker left, M
//          visible); for a MARKET by quote, q = min(M visible, floor(quote left
//          / price)) and the sweep stops when that is 0. M leaves the book when
//          it has nothing left; an iceberg whose visible part reached 0 shows a
//          new slice min(iceberg_qty, hidden) at the back of the level.
//      After the sweep leaves a level that it touched (at least one trade or
//      maker expiry there), or stops inside it: LevelChanged(maker side, price,
//      new total).
//    - then the remainder, if any: GTC limit (or LIMIT_MAKER) rests at the back
//      of its level (iceberg: with a visible slice of min(iceberg_qty, left))
//      and LevelChanged(own side, price, new total); otherwise Expired(left):
//      kSelfTradePrevention if STP stopped the sweep, else kIocRemainder (IOC
//      limit or triggered stop with IOC), kFokUnfilled cannot happen here,
//      kMarketRemainder (MARKET). For a MARKET by quote the remainder is the
//      unspent quote amount: Expired(qty = quote left) when it is > 0.
//  * Then, if the command traded, pending stops are checked against the last
//    trade price: while some pending stop's condition holds, the earliest
//    accepted of them emits Triggered and is processed as a limit order with
//    its own price, TIF, STP and iceberg (sweep, then rest or expire as above;
//    no second Accepted). Its trades may trigger more stops.
//
// Cancel (kCancel): Cancelled(kUser, remaining visible + hidden) and, for an
// order on the book, LevelChanged for its level. Rejected(kUnknownOrder) when
// the id is not live or cmd.user is non-zero and is not the order's owner.
//
// Mass cancel (kMassCancel): for each live order of cmd.user, in the order
// bids best-to-worst, asks best-to-worst (queue order within a level), then
// pending stops in arrival order: Cancelled(kMassCancel); each touched level
// emits one LevelChanged after its last cancel. No events if the user has no
// live order. Cost O(live orders); off the fast path.
//
// Amend (kAmend; price = new price, qty = new remaining):
//  * Rejected: kUnknownOrder (as for cancel), kInvalidQuantity (qty <= 0),
//    kInvalidPrice (price <= 0), kOrderNotAmendable (pending stop),
//    kWouldTakeLiquidity (a LIMIT_MAKER moved to a crossing price; unchanged).
//  * Same price and qty <= remaining: the order keeps its queue position.
//    Amended(code 1), LevelChanged. For an iceberg, the hidden reserve shrinks
//    first (visible = min(visible, qty)).
//  * Otherwise the order leaves its level (LevelChanged for the old level) and
//    re-enters as a new order with the new price and qty, keeping its id, side,
//    user, TIF (GTC), STP and iceberg slice: Amended(code 0), LevelChanged(old
//    level), then the sweep and the rest exactly as for a new order (no
//    Accepted). A move to a crossing price therefore trades.
//
// Hot-path cost: add/cancel/amend keeping priority are O(1) plus the search of
// a level near the touch; a sweep is O(levels crossed + makers met). No
// allocation, lock, syscall or exception.
class OrderBook {
 public:
  struct Options {
    uint32_t max_orders = 1u << 20;  // live orders (resting + pending stops)
    uint32_t max_levels = 1u << 16;  // price levels per side
  };

  OrderBook(protocol::SymbolId symbol, const Options& options);
  explicit OrderBook(protocol::SymbolId symbol) : OrderBook(symbol, Options{}) {}
  ~OrderBook();
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;

  // Applies cmd and appends its events to out (see the class comment).
  // REQUIRES: cmd.symbol == symbol(); seq is the shard's next sequence number.
  void Apply(const protocol::Command& cmd, protocol::Seq seq, EventBuffer& out);

  // A hint that `cmd` comes soon: starts loading the cache line of its order id
  // in the id index, so that a shard draining a batch overlaps that memory
  // access with the current command. No effect on state or output. O(1).
  void Prefetch(const protocol::Command& cmd) const;

  // State hash over everything that decides future output: per side, levels in
  // priority order (price, total) with their orders in queue order (id, user,
  // visible, hidden, iceberg slice, STP mode), then pending stops in arrival
  // order, then the last trade price and trade id. Two books that went through the same
  // commands have equal hashes. O(live orders); not for the hot path.
  uint64_t StateHash() const;

  protocol::SymbolId symbol() const;
  const Options& options() const;
  // Orders resting on the book (pending stops excluded).
  size_t resting_orders() const;
  size_t pending_stops() const;
  std::optional<protocol::Price> best_bid() const;
  std::optional<protocol::Price> best_ask() const;
  // Price of the last trade, 0 before the first.
  protocol::Price last_trade_price() const;
  // Event::trade_id of the last trade, 0 before the first.
  uint64_t last_trade_id() const;
  std::optional<OrderView> FindOrder(protocol::OrderId id) const;
  // Writes up to max_levels levels of `side`, best first; returns how many.
  size_t Depth(protocol::Side side, LevelView* out, size_t max_levels) const;

  // Snapshot support (engine/doc/snapshot_format.md). SaveTo appends the
  // book's whole state to *out: the last trade price and id, every resting order in
  // priority order (per side, levels best first, queue order within a level)
  // and the pending stops in arrival order. Cost: O(live orders), a sequential
  // write of ~70 bytes per order and no other work, so a shard pauses for
  // about a memcpy of its books. Allocates only by growing *out.
  void SaveTo(std::string* out) const;
  // Rebuilds the state written by SaveTo into this book, which must be empty
  // (no live order, no trade yet). Afterwards StateHash() equals the saved
  // book's. Errors: InvalidArgument for a non-empty book, a truncated or
  // malformed image, an image of another symbol; ResourceExhausted when it
  // does not fit the pools. On error the book is left empty. Not for the hot
  // path.
  [[nodiscard]] absl::Status LoadFrom(std::string_view image);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xc::engine
