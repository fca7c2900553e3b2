#pragma once
// Helpers shared by the Partition tests (partition_test.cc,
// user_events_test.cc, threaded_order_service_test.cc): the default symbol
// table, the engine's side as fakes, engine events as a shard
// emits them, and order requests.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"

namespace xc::order_service::partition_test {

// Builds SymbolTable::DefaultConfigs() into *out (a fatal failure if it does
// not build: call under ASSERT_NO_FATAL_FAILURE).
inline void BuildDefaultTable(SymbolTable* out) {
  auto t = SymbolTable::Build(SymbolTable::DefaultConfigs());
  ASSERT_TRUE(t.ok()) << t.status();
  *out = *std::move(t);
}

// The engine link of a Partition under test: keeps what it was sent.
class RecordingLink : public EngineLink {
 public:
  void Send(const protocol::Command& c) override { sent.push_back(c); }
  std::vector<protocol::Command> sent;
};

// A PartitionJournal in memory: the records, in order.
class MemJournal : public PartitionJournal {
 public:
  void Append(std::string_view r) override { records.emplace_back(r); }
  std::vector<std::string> records;
};

// An engine event for order `id` of `user` (seq 0, ts 1000: a test that
// cares stamps them).
inline protocol::Event Ev(protocol::EventType t, protocol::OrderId id, protocol::UserId user,
                          protocol::Side side = protocol::Side::kBuy, protocol::Price price = 0,
                          protocol::Qty qty = 0, int16_t code = 0) {
  protocol::Event e;
  e.type = t;
  e.order_id = id;
  e.user = user;
  e.side = side;
  e.price = price;
  e.qty = qty;
  e.code = code;
  e.ts = 1000;
  return e;
}

// A trade of taker order `taker` against resting order `maker` (the event's
// side is the maker's).
inline protocol::Event TradeEv(protocol::OrderId taker, protocol::UserId taker_user,
                               protocol::OrderId maker, protocol::UserId maker_user,
                               protocol::Side maker_side, protocol::Price price,
                               protocol::Qty qty) {
  protocol::Event e = Ev(protocol::EventType::kTrade, taker, taker_user, maker_side, price, qty);
  e.maker_id = maker;
  e.maker_user = maker_user;
  return e;
}

// A GTC limit order request at time 500.
inline PlaceOrderRequest Limit(protocol::UserId u, protocol::Side side, std::string qty,
                               std::string price, std::string symbol = "BTCUSDT") {
  PlaceOrderRequest r;
  r.user = u;
  r.symbol = std::move(symbol);
  r.side = side;
  r.type = OrderType::kLimit;
  r.time_in_force = protocol::TimeInForce::kGtc;
  r.quantity = std::move(qty);
  r.price = std::move(price);
  r.now = 500;
  return r;
}

// Places `r`, which must be accepted; its order id (0 after the failure).
inline protocol::OrderId Place(Partition& p, const PlaceOrderRequest& r) {
  auto res = p.PlaceOrder(r);
  EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().msg());
  return res.ok() ? res.value().order.order_id : 0;
}

}  // namespace xc::order_service::partition_test
