#pragma once
// The engine's domain vocabulary (STYLE.md §4). Everything that crosses the
// engine boundary is expressed in these types: integer ticks and lots, dense
// ids, and small enums. Decimal strings exist only at the API edge (gateway/).

#include <cstdint>

namespace xc::protocol {

// A price in ticks of its symbol (tick size is a symbol filter, order-service's
// concern). Always > 0 for a limit price.
using Price = int64_t;
// A quantity in lots of its symbol. Always > 0 in a valid command.
using Qty = int64_t;
// A quote amount in tick*lot units (price * qty); used by MARKET orders that
// spend or receive at most this much of the quote asset (Binance quoteOrderQty).
using Notional = int64_t;
// Unique among a shard's live orders; assigned by the order service.
using OrderId = uint64_t;
using UserId = uint64_t;
// Dense per-process symbol index (0..N-1), assigned from the config.
using SymbolId = uint32_t;
// Sequence number stamped by the sequencer that owns a stream (a shard).
using Seq = uint64_t;
// Ownership epoch (fencing token) of a symbol or partition.
using Epoch = uint64_t;
// Nanoseconds since the Unix epoch. Time is an input: the engine never reads a clock.
using Timestamp = int64_t;

enum class Side : uint8_t { kBuy = 0, kSell = 1 };

constexpr Side Opposite(Side s) { return s == Side::kBuy ? Side::kSell : Side::kBuy; }

enum class OrderType : uint8_t {
  kLimit = 0,
  kMarket = 1,
  kLimitMaker = 2,       // post-only: rejected, never rested, if it would take
  kStopLossLimit = 3,    // buy: triggers when last >= stop; sell: when last <= stop
  kTakeProfitLimit = 4,  // buy: triggers when last <= stop; sell: when last >= stop
};

enum class TimeInForce : uint8_t { kGtc = 0, kIoc = 1, kFok = 2 };

// Self-trade prevention, Binance's modes. The taker's mode decides; it applies
// when a taker meets a resting order of the same user.
enum class StpMode : uint8_t {
  kNone = 0,         // trade with yourself
  kExpireTaker = 1,  // the taker's remainder expires; the maker stays
  kExpireMaker = 2,  // the maker expires; the taker goes on matching
  kExpireBoth = 3,   // both expire
};

// Business rejects are codes, not errors (STYLE.md §5): they allocate nothing
// and carry no strings. Ranges by subsystem: engine 100-199, order service
// 200-299, risk 300-399, gateway 400-499. The gateway maps them to Binance codes.
enum class RejectCode : int16_t {
  kNone = 0,
  // engine
  kUnknownSymbol = 100,
  kDuplicateOrderId = 101,
  kInvalidQuantity = 102,      // qty <= 0 (or quote amount <= 0 for quote MARKET)
  kInvalidPrice = 103,         // limit price <= 0
  kInvalidTimeInForce = 104,   // e.g. LIMIT_MAKER with IOC/FOK
  kInvalidIceberg = 105,       // iceberg qty not in (0, qty) or TIF not GTC
  kInvalidStopPrice = 106,     // stop price <= 0
  kUnknownOrder = 107,         // cancel/amend of an id that is not live (or not the user's)
  kWouldTakeLiquidity = 108,   // LIMIT_MAKER that would cross
  kWouldTriggerImmediately = 109,  // stop order whose condition already holds
  kOrderNotAmendable = 110,    // amend of a pending stop order
  kBookFull = 111,             // the book's preallocated capacity is exhausted
  kInvalidCommand = 112,       // malformed command (unknown type/enum value)
  kShardStopped = 113,         // the shard refuses commands (e.g. journal failure)
};

// Why an order (or its remainder) expired without a user asking.
enum class ExpireReason : int16_t {
  kNone = 0,
  kIocRemainder = 1,        // IOC limit: the part that did not fill at once
  kFokUnfilled = 2,         // FOK that could not fill entirely: nothing traded
  kMarketRemainder = 3,     // MARKET: book exhausted or quote amount spent
  kSelfTradePrevention = 4, // STP expired this order (taker or maker)
};

enum class CancelReason : int16_t {
  kNone = 0,
  kUser = 1,        // cancel by id
  kMassCancel = 2,  // cancel of all a user's orders on a symbol
  kAmend = 3,       // reserved: not emitted by the engine today
};

}  // namespace xc::protocol
