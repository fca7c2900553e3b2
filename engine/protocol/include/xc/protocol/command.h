#pragma once
// Commands: the only input of an engine shard.
//
// A command is a plain value (trivially copyable, fixed 80 bytes, no pointers)
// so that it travels unchanged through SPSC rings, the journal (whose record
// payload is exactly these bytes: engine/doc/journal_format.md) and, later,
// TCP links between processes. Its layout is therefore part of the on-disk
// format: add fields only in the reserved bytes or behind a format version.
//
// Who fills it: the order service (or a tool such as engine-replay) builds the
// command after validating it against the symbol's filters; the engine checks
// only what it needs for its own invariants and rejects the rest with a
// RejectCode (see OrderBook). Time is an input: `ts` is set by whoever admitted
// the command and the engine never reads a clock. The sequence number is not a
// field: the shard stamps the next one when it applies the command, and every
// event the command yields carries it.
//
// Thread safety: a value type; no sharing concerns.

#include <cstdint>
#include <type_traits>

#include "xc/protocol/types.h"

namespace xc::protocol {

enum class CommandType : uint8_t {
  kNewOrder = 0,    // uses every field below
  kCancel = 1,      // symbol, order_id, user (0 = any owner)
  kMassCancel = 2,  // symbol, user: cancels all of the user's live orders on the symbol
  kAmend = 3,       // symbol, order_id, user (0 = any), price = new price, qty = new remaining
};

// Field use by type (unused fields must be zero so that journals of equal
// input are byte-identical):
//   kNewOrder   all fields; price unused for MARKET; qty = 0 and quote_qty > 0
//               for a MARKET by quote amount; stop_price for the two stop
//               types; iceberg_qty for an iceberg (GTC only).
//   kCancel     symbol, order_id, user (0 = whoever owns it; non-zero must match).
//   kMassCancel symbol, user.
//   kAmend      symbol, order_id, user (as cancel), price = new limit price,
//               qty = new remaining quantity.
struct Command {
  CommandType type = CommandType::kNewOrder;
  Side side = Side::kBuy;
  OrderType order_type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  StpMode stp = StpMode::kNone;
  uint8_t reserved[3] = {0, 0, 0};
  SymbolId symbol = 0;
  uint32_t reserved2 = 0;
  Timestamp ts = 0;
  OrderId order_id = 0;
  UserId user = 0;
  Price price = 0;          // limit price (ignored for MARKET)
  Qty qty = 0;              // base quantity; 0 for a MARKET by quote amount
  Notional quote_qty = 0;   // MARKET by quote amount (qty must then be 0)
  Price stop_price = 0;     // STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT
  Qty iceberg_qty = 0;      // visible part of an iceberg; 0 = not an iceberg

  // Builders for the common shapes; fields not named are zero/defaults. They
  // build what the engine accepts as valid when the arguments are valid; they
  // do not validate.
  static Command Limit(SymbolId sym, OrderId id, UserId user, Side side, Price price, Qty qty,
                       TimeInForce tif = TimeInForce::kGtc, StpMode stp = StpMode::kNone) {
    Command c;
    c.type = CommandType::kNewOrder;
    c.order_type = OrderType::kLimit;
    c.symbol = sym;
    c.order_id = id;
    c.user = user;
    c.side = side;
    c.price = price;
    c.qty = qty;
    c.tif = tif;
    c.stp = stp;
    return c;
  }
  static Command LimitMaker(SymbolId sym, OrderId id, UserId user, Side side, Price price,
                            Qty qty) {
    Command c = Limit(sym, id, user, side, price, qty);
    c.order_type = OrderType::kLimitMaker;
    return c;
  }
  static Command Market(SymbolId sym, OrderId id, UserId user, Side side, Qty qty,
                        StpMode stp = StpMode::kNone) {
    Command c = Limit(sym, id, user, side, 0, qty, TimeInForce::kIoc, stp);
    c.order_type = OrderType::kMarket;
    return c;
  }
  static Command MarketQuote(SymbolId sym, OrderId id, UserId user, Side side, Notional quote,
                             StpMode stp = StpMode::kNone) {
    Command c = Market(sym, id, user, side, 0, stp);
    c.quote_qty = quote;
    return c;
  }
  static Command Stop(SymbolId sym, OrderId id, UserId user, Side side, OrderType type,
                      Price stop, Price price, Qty qty, TimeInForce tif = TimeInForce::kGtc) {
    Command c = Limit(sym, id, user, side, price, qty, tif);
    c.order_type = type;
    c.stop_price = stop;
    return c;
  }
  static Command Cancel(SymbolId sym, OrderId id, UserId user = 0) {
    Command c;
    c.type = CommandType::kCancel;
    c.symbol = sym;
    c.order_id = id;
    c.user = user;
    return c;
  }
  static Command MassCancel(SymbolId sym, UserId user) {
    Command c;
    c.type = CommandType::kMassCancel;
    c.symbol = sym;
    c.user = user;
    return c;
  }
  static Command Amend(SymbolId sym, OrderId id, Price new_price, Qty new_qty, UserId user = 0) {
    Command c;
    c.type = CommandType::kAmend;
    c.symbol = sym;
    c.order_id = id;
    c.user = user;
    c.price = new_price;
    c.qty = new_qty;
    return c;
  }
};

static_assert(std::is_trivially_copyable_v<Command>);
static_assert(sizeof(Command) == 80);

}  // namespace xc::protocol
