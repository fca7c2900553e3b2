// User data events of a Partition (user_events.h): exact sequences for the
// changes Binance reports, driven with engine events as partition_test.cc
// does. The random-run property (sum of TRADE `l` = executedQty, last
// position = Account()) is in tests/order_service_engine_test.cc, against the
// real engine.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "partition_test_util.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/user_events.h"

namespace xc::order_service {
namespace {

using protocol::Event;
using protocol::EventType;
using protocol::OrderId;
using protocol::Side;
using protocol::TimeInForce;
using protocol::UserId;

using partition_test::Ev;
using partition_test::MemJournal;
using partition_test::RecordingLink;
using partition_test::TradeEv;

constexpr Amount U = kUnitsPerWhole;

class UserEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(partition_test::BuildDefaultTable(&table_));
    p_ = std::make_unique<Partition>(0, 1, &table_, &link_, nullptr);
    ASSERT_TRUE(p_->CreateUser(alice_).ok());
    ASSERT_TRUE(p_->CreateUser(bob_).ok());
    p_->EnableUserEvents(true);
  }
  // With a client order id ("buy-1", "sell-1") and at 0.5 s.
  PlaceOrderRequest Limit(UserId u, Side side, std::string qty, std::string price,
                          TimeInForce tif = TimeInForce::kGtc) {
    PlaceOrderRequest r = partition_test::Limit(u, side, std::move(qty), std::move(price));
    r.time_in_force = tif;
    r.new_client_order_id = side == Side::kBuy ? "buy-1" : "sell-1";
    r.now = 500'000'000;
    return r;
  }
  OrderId Place(const PlaceOrderRequest& r) { return partition_test::Place(*p_, r); }
  // One engine command's events: command `seq`, at `seq` seconds.
  void Batch(protocol::Seq seq, std::vector<Event> ev) {
    for (Event& e : ev) {
      e.seq = seq;
      e.ts = static_cast<protocol::Timestamp>(seq) * 1'000'000'000;
    }
    p_->OnEngineEvents(0, seq, ev.data(), ev.size());
  }
  std::vector<UserEvent> Take() {
    std::vector<UserEvent> out;
    p_->TakeUserEvents(&out);
    return out;
  }
  // A compact trace: "ER alice NEW/NEW", "AP bob BTC=free/locked,...", "BU alice USDT +d".
  std::string Trace(const std::vector<UserEvent>& evs) {
    std::string s;
    for (const UserEvent& e : evs) {
      if (!s.empty()) s += " | ";
      if (const auto* r = std::get_if<ExecutionReport>(&e)) {
        s += "ER " + std::to_string(r->user) + " " + r->order.client_order_id + " " +
             ExecutionTypeName(r->execution_type) + "/" + OrderStatusName(r->order.status);
      } else if (const auto* p = std::get_if<AccountPosition>(&e)) {
        s += "AP " + std::to_string(p->user);
        for (const BalanceInfo& b : p->balances) {
          s += " " + b.asset + "=" + FormatDecimalTrimmed(b.free) + "/" +
               FormatDecimalTrimmed(b.locked);
        }
      } else {
        const auto& b = std::get<BalanceUpdate>(e);
        s += "BU " + std::to_string(b.user) + " " + b.asset + " " +
             (b.delta < 0 ? "-" + FormatDecimalTrimmed(-b.delta) : FormatDecimalTrimmed(b.delta));
      }
    }
    return s;
  }

  SymbolTable table_;
  RecordingLink link_;
  std::unique_ptr<Partition> p_;
  const UserId alice_ = 1, bob_ = 2;
};

TEST_F(UserEventsTest, OffByDefaultAndNothingForRefusedRequests) {
  Partition q(0, 1, &table_, nullptr, nullptr);
  ASSERT_TRUE(q.CreateUser(alice_).ok());
  ASSERT_TRUE(q.Credit(alice_, "USDT", U, 1).ok());
  std::vector<UserEvent> out;
  q.TakeUserEvents(&out);
  EXPECT_TRUE(out.empty());
  // Enabled, but the request is refused: nothing.
  EXPECT_FALSE(p_->Withdraw(alice_, "USDT", U, 1).ok());
  EXPECT_FALSE(p_->PlaceOrder(Limit(alice_, Side::kBuy, "0.01", "40000")).ok());
  EXPECT_TRUE(Take().empty());
}

TEST_F(UserEventsTest, CreditAndWithdrawAreBalanceUpdatesThenPositions) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 7'000'000).ok());
  ASSERT_TRUE(p_->Withdraw(alice_, "USDT", 250 * U, 8'000'000).ok());
  const auto ev = Take();
  EXPECT_EQ(Trace(ev), "BU 1 USDT 1000 | AP 1 USDT=1000/0 | BU 1 USDT -250 | AP 1 USDT=750/0");
  const auto& bu = std::get<BalanceUpdate>(ev[2]);
  EXPECT_EQ(bu.delta, -250 * U);
  EXPECT_EQ(bu.event_time, 8'000'000);
  EXPECT_EQ(bu.clear_time, 8'000'000);
  EXPECT_EQ(std::get<AccountPosition>(ev[3]).update_time, 8'000'000);
  EXPECT_TRUE(Take().empty());  // taken
}

TEST_F(UserEventsTest, NewThenPartialTradeThenFillingTrade) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  ASSERT_TRUE(p_->Credit(bob_, "BTC", U, 1).ok());
  Take();
  const OrderId buy = Place(Limit(alice_, Side::kBuy, "0.01", "40000"));
  auto ev = Take();
  ASSERT_EQ(Trace(ev), "ER 1 buy-1 NEW/NEW | AP 1 USDT=600/400");
  {
    const auto& r = std::get<ExecutionReport>(ev[0]);
    EXPECT_EQ(r.order.symbol, "BTCUSDT");
    EXPECT_EQ(r.order.order_id, buy);
    EXPECT_EQ(r.order.side, Side::kBuy);
    EXPECT_EQ(r.order.type, OrderType::kLimit);
    EXPECT_EQ(r.order.time_in_force, TimeInForce::kGtc);
    EXPECT_EQ(r.order.orig_qty, U / 100);
    EXPECT_EQ(r.order.price, 40000 * U);
    EXPECT_EQ(r.reject_reason, "NONE");
    EXPECT_EQ(r.orig_client_order_id, "");
    EXPECT_EQ(r.order.executed_qty, 0);
    EXPECT_EQ(r.trade_id, -1);
    EXPECT_EQ(r.commission_asset, "");
    EXPECT_EQ(r.order.time, 500'000'000);
    EXPECT_EQ(r.working_time, 500'000'000);
    EXPECT_TRUE(r.is_working);
  }
  // Accepted: nothing new to report.
  Batch(1, {Ev(EventType::kAccepted, buy, alice_, Side::kBuy, 4000000, 1000)});
  EXPECT_TRUE(Take().empty());

  // Bob sells 0.004 into it: his NEW, then one command with both sides.
  const OrderId sell = Place(Limit(bob_, Side::kSell, "0.004", "40000"));
  ASSERT_EQ(Trace(Take()), "ER 2 sell-1 NEW/NEW | AP 2 BTC=0.996/0.004");
  Batch(2, {Ev(EventType::kAccepted, sell, bob_, Side::kSell, 4000000, 400),
            TradeEv(sell, bob_, buy, alice_, Side::kBuy, 4000000, 400)});
  ev = Take();
  // Taker 0.1% on 160 USDT = 0.16; maker 0.09% on 0.004 BTC = 0.0000036.
  ASSERT_EQ(Trace(ev),
            "ER 2 sell-1 TRADE/FILLED | ER 1 buy-1 TRADE/PARTIALLY_FILLED"
            " | AP 2 BTC=0.996/0 USDT=159.84/0 | AP 1 BTC=0.0039964/0 USDT=600/240");
  {
    const auto& t = std::get<ExecutionReport>(ev[1]);
    EXPECT_EQ(t.last_qty, 400'000);
    EXPECT_EQ(t.last_price, 40000 * U);
    EXPECT_EQ(t.last_quote_qty, 160 * U);
    EXPECT_EQ(t.commission, 360);
    EXPECT_EQ(t.commission_asset, "BTC");
    EXPECT_TRUE(t.is_maker);
    EXPECT_EQ(t.order.executed_qty, 400'000);
    EXPECT_EQ(t.order.cummulative_quote_qty, 160 * U);
    EXPECT_EQ(t.transaction_time, 2'000'000'000);
    EXPECT_EQ(t.event_time, 2'000'000'000);
    const auto trades = p_->MyTrades(alice_, "BTCUSDT").value();
    ASSERT_EQ(trades.size(), 1u);
    EXPECT_EQ(t.trade_id, static_cast<int64_t>(trades[0].id));
    const auto& s = std::get<ExecutionReport>(ev[0]);
    EXPECT_FALSE(s.is_maker);
    EXPECT_EQ(s.commission, 16 * U / 100);
    EXPECT_EQ(s.commission_asset, "USDT");
    EXPECT_FALSE(s.is_working);  // filled: off the book
    const auto& ap = std::get<AccountPosition>(ev[3]);
    EXPECT_EQ(ap.update_time, 2'000'000'000);
  }

  // A foreign taker fills the rest at 39999.
  Batch(3, {TradeEv(MakeOrderId(5, 1), 99, buy, alice_, Side::kBuy, 3999900, 600)});
  ev = Take();
  ASSERT_EQ(Trace(ev), "ER 1 buy-1 TRADE/FILLED | AP 1 BTC=0.009991/0 USDT=600.006/0");
  const auto& f = std::get<ExecutionReport>(ev[0]);
  EXPECT_EQ(f.order.executed_qty, U / 100);
  EXPECT_EQ(f.last_qty, 600'000);
  EXPECT_EQ(f.order.cummulative_quote_qty, 160 * U + 239'994 * U / 1000);
}

TEST_F(UserEventsTest, CancelReportsTheOriginalClientId) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  const OrderId buy = Place(Limit(alice_, Side::kBuy, "0.01", "40000"));
  Batch(1, {Ev(EventType::kAccepted, buy, alice_, Side::kBuy, 4000000, 1000)});
  Take();
  ASSERT_TRUE(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", buy, "", 0}).ok());
  EXPECT_TRUE(Take().empty());  // until the engine confirms
  Batch(2, {Ev(EventType::kCancelled, buy, alice_, Side::kBuy, 4000000, 1000, 1)});
  const auto ev = Take();
  ASSERT_EQ(Trace(ev), "ER 1 buy-1 CANCELED/CANCELED | AP 1 USDT=1000/0");
  const auto& r = std::get<ExecutionReport>(ev[0]);
  EXPECT_EQ(r.orig_client_order_id, "buy-1");
  EXPECT_FALSE(r.is_working);
  EXPECT_EQ(r.working_time, 500'000'000);
  // A late duplicate changes nothing and reports nothing.
  Batch(3, {Ev(EventType::kCancelled, buy, alice_, Side::kBuy, 4000000, 1000, 1)});
  EXPECT_TRUE(Take().empty());
}

TEST_F(UserEventsTest, IocRemainderExpiresAfterItsTrade) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  const OrderId buy = Place(Limit(alice_, Side::kBuy, "0.01", "40000", TimeInForce::kIoc));
  Take();
  Batch(1, {Ev(EventType::kAccepted, buy, alice_, Side::kBuy, 4000000, 1000),
            TradeEv(buy, alice_, MakeOrderId(3, 3), 77, Side::kSell, 4000000, 250),
            Ev(EventType::kExpired, buy, alice_, Side::kBuy, 4000000, 750,
               static_cast<int16_t>(protocol::ExpireReason::kIocRemainder))});
  const auto ev = Take();
  ASSERT_EQ(Trace(ev),
            "ER 1 buy-1 TRADE/PARTIALLY_FILLED | ER 1 buy-1 EXPIRED/EXPIRED"
            " | AP 1 BTC=0.0024975/0 USDT=900/0");
  EXPECT_EQ(std::get<ExecutionReport>(ev[1]).order.executed_qty, 250'000);
  EXPECT_EQ(std::get<ExecutionReport>(ev[1]).last_qty, 0);
}

TEST_F(UserEventsTest, EngineRejectAndSelfTradePrevention) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  auto r = Limit(alice_, Side::kBuy, "0.01", "40000");
  r.type = OrderType::kLimitMaker;
  r.time_in_force.reset();
  const OrderId id = Place(r);
  Take();
  Batch(1, {Ev(EventType::kRejected, id, alice_, Side::kBuy, 0, 0,
               static_cast<int16_t>(protocol::RejectCode::kWouldTakeLiquidity))});
  auto ev = Take();
  ASSERT_EQ(Trace(ev), "ER 1 buy-1 REJECTED/REJECTED | AP 1 USDT=1000/0");
  EXPECT_EQ(std::get<ExecutionReport>(ev[0]).reject_reason, "WOULD_TAKE_LIQUIDITY");
  EXPECT_EQ(std::get<ExecutionReport>(ev[0]).working_time, -1);

  const OrderId b = Place(Limit(alice_, Side::kBuy, "0.01", "40000"));
  Take();
  Batch(2, {Ev(EventType::kAccepted, b, alice_, Side::kBuy, 4000000, 1000),
            Ev(EventType::kExpired, b, alice_, Side::kBuy, 4000000, 1000,
               static_cast<int16_t>(protocol::ExpireReason::kSelfTradePrevention))});
  ev = Take();
  ASSERT_EQ(Trace(ev), "ER 1 buy-1 TRADE_PREVENTION/EXPIRED_IN_MATCH | AP 1 USDT=1000/0");
}

TEST_F(UserEventsTest, ReplayProducesNothing) {
  MemJournal journal;
  Partition src(0, 1, &table_, nullptr, nullptr, &journal);
  ASSERT_TRUE(src.CreateUser(alice_).ok());
  ASSERT_TRUE(src.Credit(alice_, "USDT", 1000 * U, 1).ok());
  ASSERT_TRUE(src.PlaceOrder(Limit(alice_, Side::kBuy, "0.01", "40000")).ok());
  Partition dst(0, 1, &table_, nullptr, nullptr);
  dst.EnableUserEvents(true);
  for (const std::string& rec : journal.records) ASSERT_TRUE(dst.Replay(rec).ok());
  std::vector<UserEvent> out;
  dst.TakeUserEvents(&out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(dst.StateHash(), src.StateHash());
}

}  // namespace
}  // namespace xc::order_service
