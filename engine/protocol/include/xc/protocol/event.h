#pragma once
// Events: the only output of an engine shard. Each command yields a group of
// events, all stamped with the command's sequence number and timestamp, in the
// order documented on xc::engine::OrderBook. Plain values, fixed size.

#include <cstdint>
#include <type_traits>

#include "xc/protocol/types.h"

namespace xc::protocol {

enum class EventType : uint8_t {
  kAccepted = 0,      // order_id, user, side, price (limit; 0 for MARKET), qty (base qty,
                      // or 0 for MARKET by quote). code = OrderType
  kRejected = 1,      // order_id, user, code = RejectCode. Nothing changed.
  kTrade = 2,         // order_id = taker, maker_id, user = taker user, maker_user,
                      // side = MAKER side, price = maker price, qty = lots traded,
                      // trade_id
  kCancelled = 3,     // order_id, user, side, price, qty = quantity that was left (visible +
                      // hidden); code = CancelReason
  kExpired = 4,       // order_id, user, side, price, qty = quantity that expired;
                      // code = ExpireReason
  kAmended = 5,       // order_id, user, side, price = new price, qty = new remaining;
                      // code = 1 if the order kept its queue position, 0 if re-queued
  kTriggered = 6,     // a pending stop order became a limit order: order_id, user, side,
                      // price = limit price, qty = its quantity
  kLevelChanged = 7,  // level 2: side, price, qty = new total visible quantity (0 = gone)
};

struct Event {
  EventType type = EventType::kAccepted;
  Side side = Side::kBuy;
  int16_t code = 0;
  SymbolId symbol = 0;
  Seq seq = 0;
  Timestamp ts = 0;
  OrderId order_id = 0;
  OrderId maker_id = 0;
  UserId user = 0;
  UserId maker_user = 0;
  Price price = 0;
  Qty qty = 0;
  // kTrade: the symbol's trade id, the one both sides and the public trade
  // stream show: 1 for the symbol's first trade, then one more per trade in
  // match order, with no gaps; carried across snapshots (OrderBook image)
  // and so across restarts and replays. 0 on every other event.
  uint64_t trade_id = 0;

  friend bool operator==(const Event&, const Event&) = default;
};

static_assert(std::is_trivially_copyable_v<Event>);
static_assert(sizeof(Event) == 80);

const char* EventTypeName(EventType t);

}  // namespace xc::protocol
