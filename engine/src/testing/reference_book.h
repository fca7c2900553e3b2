#pragma once
// The reference book: a deliberately simple model of xc::engine::OrderBook
// that the optimized book is tested against (STYLE.md §14).

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include "xc/engine/event_buffer.h"
#include "xc/engine/order_book.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"
#include "xc/protocol/types.h"

namespace xc::engine::testing {

// ReferenceBook is an obviously-correct, slow price-time priority book of one
// symbol with exactly the observable behaviour of OrderBook: the same events,
// in the same order, for every command (see the class comment of OrderBook,
// which is the specification), and the same StateHash().
//
// It is written for clarity, not speed: a std::map of price -> std::list of
// orders per side, an std::unordered_map from id to where the order lives, and
// a std::vector of pending stops in arrival order. Level totals are recomputed
// by summing the queue whenever they are needed. It allocates freely and has
// no capacity limit (so it never rejects with kBookFull; tests must keep the
// fast book's pools large enough).
//
// Thread safety: none; one thread (the test's) owns it.
//
// Invariants (hold whenever a method returns): never crossed; no empty level;
// every live id (resting or pending stop) is in the index exactly once; no
// pending stop's condition holds against the last trade price.
//
// StateHash recipe (the fast book implements the identical recipe; every value
// is passed to xc::protocol::HashCombine as uint64_t, enums via their
// underlying integer):
//   h = kHashSeed
//   for side in (buy, sell):
//     for each level in priority order (bids high -> low, asks low -> high):
//       h = HashCombine(h, price); h = HashCombine(h, total visible qty)
//       for each order in queue order:
//         h = HashCombine(h, id); h = HashCombine(h, user);
//         h = HashCombine(h, visible); h = HashCombine(h, hidden);
//         h = HashCombine(h, iceberg_qty); h = HashCombine(h, stp)
//   h = HashCombine(h, number of pending stops)
//   for each pending stop in arrival order:
//     h = HashCombine(h, id); h = HashCombine(h, user); h = HashCombine(h, side);
//     h = HashCombine(h, order type); h = HashCombine(h, stop_price);
//     h = HashCombine(h, limit price); h = HashCombine(h, qty (visible + hidden));
//     h = HashCombine(h, iceberg_qty); h = HashCombine(h, tif); h = HashCombine(h, stp)
//   h = HashCombine(h, last_trade_price)
//   h = HashCombine(h, last_trade_id)
//
// Readings of the specification chosen where it leaves room (the fast book
// must make the same choices; each is exercised by order_book_test.cc):
//  1. A MARKET order is "by quote" iff quote_qty != 0; it is then valid only
//     with quote_qty > 0 and qty == 0. Non-MARKET orders ignore quote_qty.
//  2. A MARKET by quote whose sweep ends with unspent quote emits
//     Expired(qty = unspent quote amount, kMarketRemainder, or
//     kSelfTradePrevention if STP stopped it); nothing if it spent exactly all.
//  3. LevelChanged during a sweep is emitted only for levels the sweep touched
//     (at least one trade or maker expiry there); a level where the sweep
//     stops before touching anything (EXPIRE_TAKER at its front, or a quote
//     market that cannot afford one lot there) gets no LevelChanged.
//  4. A triggered stop with TIF FOK is checked exactly like a new FOK order:
//     if it cannot fill entirely it emits Expired(kFokUnfilled, its qty) right
//     after Triggered.
//  5. Amend rejects are checked in the order listed in the spec: kUnknownOrder,
//     kInvalidQuantity, kInvalidPrice, kOrderNotAmendable, kWouldTakeLiquidity.
//     Rejected events (new order, cancel and amend alike) copy order_id, user
//     and side from the command.
//  6. Mass cancel with user 0 cancels the orders whose owner is 0 (none in
//     practice); 0 is not a wildcard there.
//  7. An iceberg's visible slice after an amend that keeps priority is
//     min(visible, qty), hidden = qty - visible. An amend that re-queues keeps
//     iceberg_qty even if the new qty is not above it.
//  8. A resting order triggered from a stop keeps its stop order type in
//     FindOrder().type; its stop_price reads 0 once it is on the book.
//  9. FindOrder() of a pending stop reports visible = 0 and hidden = its qty.
class ReferenceBook {
 public:
  explicit ReferenceBook(protocol::SymbolId symbol) : symbol_(symbol) {}
  // Same shape as OrderBook's constructor; the options are ignored (no pools).
  ReferenceBook(protocol::SymbolId symbol, const OrderBook::Options& /*options*/)
      : symbol_(symbol) {}
  ReferenceBook(const ReferenceBook&) = delete;
  ReferenceBook& operator=(const ReferenceBook&) = delete;

  // Applies cmd and appends its events to out, as OrderBook::Apply.
  // REQUIRES: cmd.symbol == symbol().
  void Apply(const protocol::Command& cmd, protocol::Seq seq, EventBuffer& out);

  // See the recipe in the class comment.
  uint64_t StateHash() const;

  protocol::SymbolId symbol() const { return symbol_; }
  size_t resting_orders() const;
  size_t pending_stops() const { return pending_.size(); }
  std::optional<protocol::Price> best_bid() const;
  std::optional<protocol::Price> best_ask() const;
  protocol::Price last_trade_price() const { return last_trade_price_; }
  uint64_t last_trade_id() const { return last_trade_id_; }
  std::optional<OrderView> FindOrder(protocol::OrderId id) const;
  size_t Depth(protocol::Side side, LevelView* out, size_t max_levels) const;

 private:
  struct Order {
    protocol::OrderId id = 0;
    protocol::UserId user = 0;
    protocol::Side side = protocol::Side::kBuy;
    protocol::OrderType type = protocol::OrderType::kLimit;
    protocol::TimeInForce tif = protocol::TimeInForce::kGtc;
    protocol::StpMode stp = protocol::StpMode::kNone;
    protocol::Price price = 0;       // limit price; 0 for MARKET
    protocol::Price stop_price = 0;  // pending stops only
    protocol::Qty visible = 0;       // resting orders only
    protocol::Qty hidden = 0;        // resting orders only
    protocol::Qty qty = 0;           // pending stops only: whole quantity
    protocol::Qty iceberg_qty = 0;
  };
  using Queue = std::list<Order>;
  // Both sides ascending by price; bids are walked in reverse for priority.
  using Levels = std::map<protocol::Price, Queue>;

  // An incoming order while it matches (new order, triggered stop, re-queued
  // amend).
  struct Taker {
    Order o;
    bool market = false;
    bool by_quote = false;
    protocol::Qty left = 0;             // base quantity still wanted
    protocol::Notional quote_left = 0;  // MARKET by quote: quote still to spend
    bool HasLeft() const { return by_quote ? quote_left > 0 : left > 0; }
  };

  void NewOrder(const protocol::Command& cmd);
  void Cancel(const protocol::Command& cmd);
  void MassCancel(const protocol::Command& cmd);
  void Amend(const protocol::Command& cmd);
  void RunStops();

  // FOK check, sweep, then rest or expire the remainder.
  void Execute(Taker& t);
  bool CanFill(const Taker& t) const;
  // Returns true when self-trade prevention stopped the sweep.
  bool Sweep(Taker& t);
  void Rest(const Taker& t);

  bool Crosses(const Taker& t, protocol::Price level_price) const;
  bool StopHolds(const Order& s, protocol::Price last) const;
  Levels& SideLevels(protocol::Side s) { return s == protocol::Side::kBuy ? bids_ : asks_; }
  const Levels& SideLevels(protocol::Side s) const {
    return s == protocol::Side::kBuy ? bids_ : asks_;
  }
  static protocol::Qty Total(const Queue& q);
  // Prices of one side in priority order.
  std::vector<protocol::Price> PriorityPrices(protocol::Side s) const;

  protocol::Event& Emit(protocol::EventType type);
  void EmitReject(protocol::RejectCode code);
  void EmitLevel(protocol::Side side, protocol::Price price);

  protocol::SymbolId symbol_;
  Levels bids_;
  Levels asks_;
  std::vector<Order> pending_;  // stops waiting for their trigger, arrival order
  struct Where {
    bool pending = false;
    protocol::Side side = protocol::Side::kBuy;
    protocol::Price price = 0;
  };
  std::unordered_map<protocol::OrderId, Where> index_;
  protocol::Price last_trade_price_ = 0;
  uint64_t last_trade_id_ = 0;

  // The command being applied.
  const protocol::Command* cmd_ = nullptr;
  protocol::Seq seq_ = 0;
  EventBuffer* out_ = nullptr;
  bool traded_ = false;
};

// Human-readable forms for test failure messages.
std::string EventToString(const protocol::Event& e);
std::string CommandToString(const protocol::Command& c);
// The command as C++ source building it, for pasting a reproducer into a test.
std::string CommandToCode(const protocol::Command& c);

}  // namespace xc::engine::testing

namespace xc::protocol {
// gtest printers (found by ADL), so that EXPECT_EQ on events and event vectors
// prints readable values. Defined in reference_book.cc.
void PrintTo(const Event& e, std::ostream* os);
void PrintTo(const Command& c, std::ostream* os);
}  // namespace xc::protocol
