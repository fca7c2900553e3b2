#include "xc/order_service/partition.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "partition_test_util.h"

namespace xc::order_service {
namespace {

// What a client sees of an error: its code and text.
using Wire = std::pair<int, std::string>;
Wire W(const ApiError& e) { return {e.code(), std::string(e.msg())}; }

using protocol::Command;
using protocol::CommandType;
using protocol::Event;
using protocol::EventType;
using protocol::OrderId;
using protocol::Side;
using protocol::TimeInForce;
using protocol::UserId;

using partition_test::Ev;
using partition_test::Limit;
using partition_test::MemJournal;
using partition_test::RecordingLink;
using partition_test::TradeEv;

constexpr Amount U = kUnitsPerWhole;  // one whole unit of an asset

class FakeMarket : public MarketView {
 public:
  MarketQuote Quote(protocol::SymbolId s) const override {
    auto it = quotes.find(s);
    return it == quotes.end() ? MarketQuote{} : it->second;
  }
  std::map<protocol::SymbolId, MarketQuote> quotes;
};

// First user id >= from that belongs to partition p of n.
UserId UserIn(PartitionId p, uint32_t n, UserId from = 1) {
  while (PartitionOfUser(from, n) != p) ++from;
  return from;
}

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(partition_test::BuildDefaultTable(&table_));
    btc_ = *table_.FindAsset("BTC");
    usdt_ = *table_.FindAsset("USDT");
    eth_ = *table_.FindAsset("ETH");
    p_ = std::make_unique<Partition>(0, 1, &table_, &link_, &market_, &journal_);
    ASSERT_TRUE(p_->CreateUser(alice_).ok());
    ASSERT_TRUE(p_->CreateUser(bob_).ok());
  }
  OrderId Place(const PlaceOrderRequest& r) { return partition_test::Place(*p_, r); }
  BalanceInfo Bal(UserId u, AssetId a) { return p_->Account(u).value().balances[a]; }
  OrderInfo Query(UserId u, OrderId id, std::string symbol = "BTCUSDT") {
    OrderRef ref{u, std::move(symbol), id, "", 0};
    auto r = p_->QueryOrder(ref);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : OrderInfo{};
  }
  void Ok() { ASSERT_TRUE(p_->CheckInvariants().ok()) << p_->CheckInvariants(); }
  // Funds alice and bob, places alice's buy *a of 0.01 and bob's sell *b of
  // 0.004 at 40000, and returns the engine's events for them (seq 7 and 8):
  // both accepted, b fills against a with `trade_id`.
  std::vector<Event> FundAndCross(OrderId* a, OrderId* b, uint64_t trade_id) {
    EXPECT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
    EXPECT_TRUE(p_->Credit(bob_, "BTC", 1 * U, 1).ok());
    *a = Place(Limit(alice_, Side::kBuy, "0.01", "40000"));
    *b = Place(Limit(bob_, Side::kSell, "0.004", "40000"));
    Event acc_a = Ev(EventType::kAccepted, *a, alice_, Side::kBuy, 4000000, 1000);
    acc_a.seq = 7;
    Event acc_b = Ev(EventType::kAccepted, *b, bob_, Side::kSell, 4000000, 400);
    acc_b.seq = 8;
    Event fill = TradeEv(*b, bob_, *a, alice_, Side::kBuy, 4000000, 400);
    fill.seq = 8;
    fill.trade_id = trade_id;
    return {acc_a, acc_b, fill};
  }


  SymbolTable table_;
  AssetId btc_ = 0, usdt_ = 0, eth_ = 0;
  RecordingLink link_;
  FakeMarket market_;
  MemJournal journal_;
  std::unique_ptr<Partition> p_;
  const UserId alice_ = 1, bob_ = 2;
};

TEST_F(PartitionTest, AdminCreditWithdrawAndKeys) {
  EXPECT_EQ(p_->CreateUser(alice_).code(), absl::StatusCode::kAlreadyExists);
  Partition other(1, 2, &table_, nullptr, nullptr);
  EXPECT_EQ(other.CreateUser(UserIn(0, 2)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  EXPECT_EQ(p_->Credit(alice_, "DOGE", 1, 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(p_->Credit(99, "USDT", 1, 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(p_->Credit(alice_, "USDT", 0, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(p_->Withdraw(alice_, "USDT", 1001 * U, 1).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(p_->Withdraw(alice_, "USDT", 400 * U, 1).ok());
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 600 * U, 0}));
  EXPECT_EQ(p_->TotalOf(usdt_), 600 * U);
  ASSERT_TRUE(p_->AddApiKey(alice_, "key-a", "secret-a").ok());
  EXPECT_EQ(p_->AddApiKey(bob_, "key-a", "x").code(), absl::StatusCode::kAlreadyExists);
  auto k = p_->LookupApiKey("key-a");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->user, alice_);
  EXPECT_EQ(k->secret, "secret-a");
  EXPECT_FALSE(p_->LookupApiKey("nope").has_value());
  // Withdrawing locked funds is refused.
  Place(Limit(alice_, Side::kBuy, "0.01", "40000"));  // locks 400
  EXPECT_EQ(p_->Withdraw(alice_, "USDT", 300 * U, 1).code(),
            absl::StatusCode::kFailedPrecondition);
  Ok();
}

TEST_F(PartitionTest, LimitBuyLocksThenTakerFillBelowLimitReleasesAndChargesFee) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  auto res = p_->PlaceOrder(Limit(alice_, Side::kBuy, "0.01", "40000"));
  ASSERT_TRUE(res.ok());
  const OrderId id = res.value().order.order_id;
  EXPECT_EQ(PartitionOfOrder(id), 0u);
  const Command& c = res.value().command;
  EXPECT_EQ(c.type, CommandType::kNewOrder);
  EXPECT_EQ(c.order_type, protocol::OrderType::kLimit);
  EXPECT_EQ(c.price, 4000000);  // ticks of 0.01
  EXPECT_EQ(c.qty, 1000);       // lots of 0.00001
  EXPECT_EQ(c.user, alice_);
  ASSERT_EQ(link_.sent.size(), 1u);
  EXPECT_EQ(link_.sent[0].order_id, id);
  EXPECT_EQ(res.value().order.status, OrderStatus::kNew);
  EXPECT_FALSE(res.value().order.is_working);
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 600 * U, 400 * U}));
  Ok();

  p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_, Side::kBuy, 4000000, 1000));
  EXPECT_TRUE(Query(alice_, id).is_working);
  // Takes a resting sell at 39000 owned by another partition (its side is not ours).
  const OrderId foreign = MakeOrderId(7, 1);
  p_->OnEngineEvent(TradeEv(id, alice_, foreign, 555, Side::kSell, 3900000, 1000));
  // Spent 390 USDT, 10 released; got 0.01 BTC minus 0.1% taker fee.
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 610 * U, 0}));
  EXPECT_EQ(Bal(alice_, btc_), (BalanceInfo{"BTC", 1000000 - 1000, 0}));
  EXPECT_EQ(p_->fee_balance(btc_), 1000);
  const OrderInfo o = Query(alice_, id);
  EXPECT_EQ(o.status, OrderStatus::kFilled);
  EXPECT_EQ(o.executed_qty, 1000000);
  EXPECT_EQ(o.cummulative_quote_qty, 390 * U);
  ASSERT_EQ(o.fills.size(), 1u);
  EXPECT_EQ(o.fills[0].price, 39000 * U);
  EXPECT_EQ(o.fills[0].commission, 1000);
  EXPECT_EQ(o.fills[0].commission_asset, "BTC");
  EXPECT_FALSE(o.fills[0].is_maker);
  auto trades = p_->MyTrades(alice_, "BTCUSDT");
  ASSERT_TRUE(trades.ok());
  ASSERT_EQ(trades.value().size(), 1u);
  EXPECT_TRUE(trades.value()[0].is_buyer);
  EXPECT_EQ(trades.value()[0].quote_qty, 390 * U);
  EXPECT_EQ(p_->open_orders(), 0u);
  Ok();
}

TEST_F(PartitionTest, SellMakerPartialFillsThenCancelReleasesTheRest) {
  ASSERT_TRUE(p_->Credit(bob_, "BTC", 1 * U, 1).ok());
  const OrderId id = Place(Limit(bob_, Side::kSell, "0.5", "40000"));
  EXPECT_EQ(Bal(bob_, btc_), (BalanceInfo{"BTC", U / 2, U / 2}));
  p_->OnEngineEvent(Ev(EventType::kAccepted, id, bob_, Side::kSell, 4000000, 50000));
  // A foreign taker buys 0.1 BTC from the resting order (maker side = sell).
  p_->OnEngineEvent(TradeEv(MakeOrderId(3, 9), 777, id, bob_, Side::kSell, 4000000, 10000));
  // 4000 USDT minus 0.09% maker fee = 3.6 USDT.
  EXPECT_EQ(Bal(bob_, usdt_), (BalanceInfo{"USDT", 4000 * U - 36 * U / 10, 0}));
  EXPECT_EQ(Bal(bob_, btc_), (BalanceInfo{"BTC", U / 2, 4 * U / 10}));
  EXPECT_EQ(p_->fee_balance(usdt_), 36 * U / 10);
  EXPECT_EQ(Query(bob_, id).status, OrderStatus::kPartiallyFilled);
  EXPECT_TRUE(Query(bob_, id).fills[0].is_maker);
  Ok();

  auto c = p_->CancelOrder(OrderRef{bob_, "BTCUSDT", id, "", 2000});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value().status, OrderStatus::kPartiallyFilled);  // until the engine confirms
  EXPECT_EQ(link_.sent.back().type, CommandType::kCancel);
  EXPECT_EQ(link_.sent.back().order_id, id);
  p_->OnEngineEvent(Ev(EventType::kCancelled, id, bob_, Side::kSell, 4000000, 40000, 1));
  EXPECT_EQ(Query(bob_, id).status, OrderStatus::kCanceled);
  EXPECT_EQ(Bal(bob_, btc_), (BalanceInfo{"BTC", 9 * U / 10, 0}));
  // Final states do not change: a second cancel is unknown, a late event ignored.
  EXPECT_EQ(p_->CancelOrder(OrderRef{bob_, "BTCUSDT", id, "", 0}).error(), errors::UnknownOrder());
  p_->OnEngineEvent(Ev(EventType::kCancelled, id, bob_, Side::kSell, 4000000, 40000, 1));
  EXPECT_EQ(Query(bob_, id).status, OrderStatus::kCanceled);
  EXPECT_EQ(p_->TotalOf(btc_), 9 * U / 10);
  Ok();
}

TEST_F(PartitionTest, InsufficientBalanceChangesNothing) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 100 * U, 1).ok());
  const uint64_t before = p_->StateHash();
  auto r = p_->PlaceOrder(Limit(alice_, Side::kBuy, "0.01", "40000"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(W(r.error()),
            (Wire{-2010, "Account has insufficient balance for requested action."}));
  r = p_->PlaceOrder(Limit(alice_, Side::kSell, "0.01", "40000"));
  EXPECT_EQ(r.error(), errors::InsufficientBalance());
  r = p_->PlaceOrder(Limit(alice_, Side::kBuy, "0.01", "40000.001"));
  EXPECT_EQ(W(r.error()), (Wire{-1013, "Filter failure: PRICE_FILTER"}));
  r = p_->PlaceOrder(Limit(12345, Side::kBuy, "0.001", "40000"));
  EXPECT_EQ(r.error().code(), -2015);
  EXPECT_EQ(p_->StateHash(), before);
  EXPECT_TRUE(link_.sent.empty());
  // Exactly enough is enough.
  EXPECT_TRUE(p_->PlaceOrder(Limit(alice_, Side::kBuy, "0.0025", "40000")).ok());
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 0, 100 * U}));
  Ok();
}

TEST_F(PartitionTest, SequencedEventBatchesApplyOnceAndReplay) {
  OrderId a = 0, b = 0;
  const std::vector<Event> batch = FundAndCross(&a, &b, /*trade_id=*/0);
  EXPECT_EQ(p_->UnconfirmedCommands().size(), 2u);
  EXPECT_EQ(p_->UnconfirmedCommands()[0].order_id, a);
  p_->OnEngineEvents(0, 8, batch.data(), batch.size());
  EXPECT_EQ(p_->stream_seq(0), 8u);
  EXPECT_TRUE(p_->UnconfirmedCommands().empty());
  EXPECT_TRUE(p_->EngineConfirmed(a));
  EXPECT_TRUE(p_->IsFinal(b));
  const uint64_t after = p_->StateHash();
  // A resend of the same events (a restart) changes nothing.
  p_->OnEngineEvents(0, 8, batch.data(), batch.size());
  EXPECT_EQ(p_->StateHash(), after);
  EXPECT_EQ(Query(alice_, a).executed_qty, U * 4 / 1000);
  // A watermark-only batch moves the seq on.
  p_->OnEngineEvents(0, 20, nullptr, 0);
  EXPECT_EQ(p_->stream_seq(0), 20u);
  Ok();
  // Replaying the journal rebuilds the same state.
  Partition again(0, 1, &table_, nullptr, &market_);
  for (const std::string& r : journal_.records) ASSERT_TRUE(again.Replay(r).ok());
  EXPECT_EQ(again.StateHash(), p_->StateHash());
  EXPECT_EQ(again.stream_seq(0), 20u);
  EXPECT_FALSE(again.Replay(std::string("B") + "short").ok());
}

// A trade's id is the engine's (Event::trade_id): both sides show the same
// one. Records journaled before events carried it ('E', 'B': 72-byte events)
// still replay, their trades numbered by the partition as they were then.
TEST_F(PartitionTest, TradesCarryTheEnginesTradeIdAndOldRecordsStillReplay) {
  OrderId a = 0, b = 0;
  const std::vector<Event> batch = FundAndCross(&a, &b, /*trade_id=*/41);
  p_->OnEngineEvents(0, 8, batch.data(), batch.size());
  ASSERT_TRUE(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", a, "", 9}).ok());
  p_->OnEngineEvent(Ev(EventType::kCancelled, a, alice_, Side::kBuy, 4000000, 600, 1));  // 'e'
  EXPECT_TRUE(p_->IsFinal(a));
  const std::vector<TradeInfo> ta = p_->MyTrades(alice_, "BTCUSDT").value();
  const std::vector<TradeInfo> tb = p_->MyTrades(bob_, "BTCUSDT").value();
  ASSERT_EQ(ta.size(), 1u);
  ASSERT_EQ(tb.size(), 1u);
  EXPECT_EQ(ta[0].id, 41u);
  EXPECT_EQ(tb[0].id, 41u);
  EXPECT_TRUE(ta[0].is_maker);
  EXPECT_FALSE(tb[0].is_maker);

  // The same journal replays to the same state.
  Partition again(0, 1, &table_, nullptr, &market_);
  for (const std::string& r : journal_.records) ASSERT_TRUE(again.Replay(r).ok());
  EXPECT_EQ(again.StateHash(), p_->StateHash());
  EXPECT_EQ(again.MyTrades(bob_, "BTCUSDT").value().at(0).id, 41u);

  // Rewritten as the old records ('b' -> 'B', 'e' -> 'E', 80-byte events ->
  // 72 bytes):
  // the same balances and orders, the trade numbered by the partition.
  std::vector<std::string> old;
  bool rewrote = false;
  for (const std::string& r : journal_.records) {
    if (r[0] == 'e') {
      ASSERT_EQ(r.size(), 1 + sizeof(Event));
      old.push_back("E" + r.substr(1, 72));
      continue;
    }
    if (r[0] != 'b') {
      old.push_back(r);
      continue;
    }
    const size_t head = 1 + 3 * sizeof(uint64_t);
    std::string o = "B" + r.substr(1, head - 1);
    for (size_t at = head; at < r.size(); at += sizeof(Event)) o += r.substr(at, 72);
    old.push_back(std::move(o));
    rewrote = true;
  }
  ASSERT_TRUE(rewrote);
  Partition legacy(0, 1, &table_, nullptr, &market_);
  for (const std::string& r : old) ASSERT_TRUE(legacy.Replay(r).ok());
  EXPECT_EQ(legacy.Account(alice_).value().balances, p_->Account(alice_).value().balances);
  EXPECT_EQ(legacy.Account(bob_).value().balances, p_->Account(bob_).value().balances);
  EXPECT_TRUE(legacy.IsFinal(b));
  EXPECT_TRUE(legacy.IsFinal(a));
  // (The taker's side settles first; before the engine numbered trades, the
  // two sides of one trade had ids of their own.)
  EXPECT_EQ(legacy.MyTrades(bob_, "BTCUSDT").value().at(0).id, MakeOrderId(0, 1));
  EXPECT_EQ(legacy.MyTrades(alice_, "BTCUSDT").value().at(0).id, MakeOrderId(0, 2));
  EXPECT_FALSE(legacy.Replay(std::string("B") + std::string(24 + 71, '\0')).ok());
}

// A placement's answer shows the order as its own command left it, even when
// the events of a later command reached the partition first (one batch):
// alice's buy rested (NEW, no fills) although bob's sell has since filled
// part of it; bob's answer shows his own fill. QueryOrder shows both now.
TEST_F(PartitionTest, PlacementAnswerIsTheOutcomeOfTheOrdersOwnCommand) {
  OrderId a = 0, b = 0;
  const std::vector<Event> batch = FundAndCross(&a, &b, /*trade_id=*/5);
  const OrderRef ra{alice_, "BTCUSDT", a, "", 0}, rb{bob_, "BTCUSDT", b, "", 0};
  // Before any engine event: as QueryOrder.
  EXPECT_EQ(p_->PlacementAnswer(ra).value().status, OrderStatus::kNew);
  p_->OnEngineEvents(0, 8, batch.data(), batch.size());

  const OrderInfo qa = p_->QueryOrder(ra).value();
  EXPECT_EQ(qa.status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(qa.fills.size(), 1u);
  const OrderInfo pa = p_->PlacementAnswer(ra).value();
  EXPECT_EQ(pa.status, OrderStatus::kNew);
  EXPECT_EQ(pa.executed_qty, 0);
  EXPECT_EQ(pa.cummulative_quote_qty, 0);
  EXPECT_TRUE(pa.fills.empty());
  EXPECT_TRUE(pa.is_working);
  EXPECT_EQ(pa.orig_qty, qa.orig_qty);

  const OrderInfo pb = p_->PlacementAnswer(rb).value();
  EXPECT_EQ(pb.status, OrderStatus::kFilled);
  EXPECT_EQ(pb.executed_qty, U * 4 / 1000);
  EXPECT_EQ(pb.cummulative_quote_qty, 160 * U);
  ASSERT_EQ(pb.fills.size(), 1u);
  EXPECT_EQ(pb.fills[0].trade_id, 5u);
  EXPECT_FALSE(pb.fills[0].is_maker);

  // A later cancel of alice's order does not change her placement's answer;
  // the journal replay rebuilds the same answers.
  ASSERT_TRUE(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", a, "", 9}).ok());
  Event cancelled = Ev(EventType::kCancelled, a, alice_, Side::kBuy, 4000000, 600, 1);
  cancelled.seq = 9;
  p_->OnEngineEvent(cancelled);
  EXPECT_EQ(p_->QueryOrder(ra).value().status, OrderStatus::kCanceled);
  EXPECT_EQ(p_->PlacementAnswer(ra).value().status, OrderStatus::kNew);
  Partition again(0, 1, &table_, nullptr, &market_);
  for (const std::string& r : journal_.records) ASSERT_TRUE(again.Replay(r).ok());
  EXPECT_EQ(again.PlacementAnswer(ra).value().status, OrderStatus::kNew);
  EXPECT_EQ(again.PlacementAnswer(rb).value().fills.size(), 1u);
  EXPECT_EQ(p_->PlacementAnswer(OrderRef{alice_, "BTCUSDT", 999, "", 0}).error(),
            errors::OrderDoesNotExist());
}

TEST_F(PartitionTest, TestOrderChecksLikePlaceOrderAndChangesNothing) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 100 * U, 1).ok());
  const uint64_t before = p_->StateHash();
  EXPECT_EQ(p_->TestOrder(Limit(alice_, Side::kBuy, "0.01", "40000")),
            errors::InsufficientBalance());
  EXPECT_EQ(W(*p_->TestOrder(Limit(alice_, Side::kBuy, "0.01", "40000.001"))),
            (Wire{-1013, "Filter failure: PRICE_FILTER"}));
  EXPECT_EQ(p_->TestOrder(Limit(12345, Side::kBuy, "0.001", "40000"))->code(), -2015);
  EXPECT_EQ(p_->TestOrder(Limit(alice_, Side::kBuy, "0.0025", "40000")), std::nullopt);
  EXPECT_EQ(p_->StateHash(), before);
  EXPECT_TRUE(link_.sent.empty());
  // The same order placed for real, then tested again with its client id.
  auto r = Limit(alice_, Side::kBuy, "0.001", "40000");
  r.new_client_order_id = "dup";
  Place(r);
  EXPECT_EQ(p_->TestOrder(r), errors::DuplicateOrder());
  Ok();
}

// The client-order-id tests run twice: with the real hash of the per-user
// index, and with one under which every id collides (all share one key, so
// each lookup must confirm the id against the order).
class PartitionClientIdTest : public PartitionTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) Partition::SetClientIdHashForTesting([](std::string_view) -> uint64_t { return 7; });
    PartitionTest::SetUp();
  }
  void TearDown() override { Partition::SetClientIdHashForTesting(nullptr); }
};
INSTANTIATE_TEST_SUITE_P(Hash, PartitionClientIdTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Colliding" : "Real"; });

TEST_P(PartitionClientIdTest, DuplicateClientOrderIdAmongOpenOrders) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  ASSERT_TRUE(p_->Credit(bob_, "USDT", 1000 * U, 1).ok());
  auto r = Limit(alice_, Side::kBuy, "0.001", "40000");
  r.new_client_order_id = "my-order_1";
  const OrderId id = Place(r);
  EXPECT_EQ(Query(alice_, id).client_order_id, "my-order_1");
  // A second id of the same user is found as itself (under the colliding
  // hash, behind the first in the index).
  auto r2 = r;
  r2.new_client_order_id = "my-order_2";
  const OrderId id2 = Place(r2);
  EXPECT_EQ(p_->QueryOrder(OrderRef{alice_, "BTCUSDT", 0, "my-order_2", 0}).value().order_id, id2);
  EXPECT_EQ(p_->PlaceOrder(r2).error(), errors::DuplicateOrder());
  EXPECT_EQ(p_->QueryOrder(OrderRef{alice_, "BTCUSDT", 0, "my-order_3", 0}).error(),
            errors::OrderDoesNotExist());
  auto dup = p_->PlaceOrder(r);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(W(dup.error()), (Wire{-2010, "Duplicate order sent."}));
  // Another user may use the same id.
  auto rb = r;
  rb.user = bob_;
  EXPECT_TRUE(p_->PlaceOrder(rb).ok());
  // Illegal client ids.
  auto bad = r;
  bad.new_client_order_id = "has space";
  EXPECT_EQ(p_->PlaceOrder(bad).error(),
            errors::IllegalChars("newClientOrderId", kClientOrderIdLegalRange));
  // Query and cancel by client id.
  auto q = p_->QueryOrder(OrderRef{alice_, "BTCUSDT", 0, "my-order_1", 0});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value().order_id, id);
  EXPECT_EQ(p_->QueryOrder(OrderRef{alice_, "ETHUSDT", id, "", 0}).error(),
            errors::OrderDoesNotExist());
  ASSERT_TRUE(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", 0, "my-order_1", 0}).ok());
  // Still open until the engine confirms: still a duplicate.
  EXPECT_EQ(p_->PlaceOrder(r).error(), errors::DuplicateOrder());
  p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_));
  p_->OnEngineEvent(Ev(EventType::kCancelled, id, alice_, Side::kBuy, 4000000, 100, 1));
  const OrderId again = Place(r);  // closed now: the id is free again
  EXPECT_NE(again, id);
  EXPECT_EQ(p_->QueryOrder(OrderRef{alice_, "BTCUSDT", 0, "my-order_1", 0}).value().order_id,
            again);
  // Generated ids are unique and legal.
  auto g = Limit(alice_, Side::kBuy, "0.001", "40000");
  const OrderInfo a = Query(alice_, Place(g));
  const OrderInfo b = Query(alice_, Place(g));
  EXPECT_NE(a.client_order_id, b.client_order_id);
  EXPECT_TRUE(IsValidClientOrderId(a.client_order_id));
  Ok();
}

TEST_F(PartitionTest, LimitMakerRejectedByPrecheckAndByEngine) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  auto r = Limit(alice_, Side::kBuy, "0.01", "40000");
  r.type = OrderType::kLimitMaker;
  r.time_in_force.reset();
  market_.quotes[0] = MarketQuote{3990000, 4000000, 0};
  auto res = p_->PlaceOrder(r);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(W(res.error()), (Wire{-2010, "Order would immediately match and take."}));
  // The view lagged: admitted, but the engine refuses it.
  market_.quotes[0] = MarketQuote{3990000, 4100000, 0};
  const OrderId id = Place(r);
  EXPECT_EQ(link_.sent.back().order_type, protocol::OrderType::kLimitMaker);
  EXPECT_EQ(Bal(alice_, usdt_).locked, 400 * U);
  p_->OnEngineEvent(Ev(EventType::kRejected, id, alice_, Side::kBuy, 0, 0,
                       static_cast<int16_t>(protocol::RejectCode::kWouldTakeLiquidity)));
  const OrderInfo o = Query(alice_, id);
  EXPECT_EQ(o.status, OrderStatus::kRejected);
  ASSERT_TRUE(o.reject.has_value());
  EXPECT_EQ(*o.reject, errors::WouldMatchAndTake());
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 1000 * U, 0}));
  Ok();
}

TEST_F(PartitionTest, MarketBuyByQuoteAmount) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  PlaceOrderRequest r;
  r.user = alice_;
  r.symbol = "BTCUSDT";
  r.type = OrderType::kMarket;
  r.quote_order_qty = "100";
  auto res = p_->PlaceOrder(r);
  ASSERT_TRUE(res.ok());
  const OrderId id = res.value().order.order_id;
  EXPECT_EQ(res.value().command.order_type, protocol::OrderType::kMarket);
  EXPECT_EQ(res.value().command.quote_qty, 100 * U / 10);  // 10 units per tick*lot
  EXPECT_EQ(res.value().command.qty, 0);
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 900 * U, 100 * U}));
  p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_));
  // 0.002 BTC at 40000 = 80 USDT, then 0.0005 at 39999.99 = 19.999995 USDT.
  p_->OnEngineEvent(TradeEv(id, alice_, MakeOrderId(5, 1), 9, Side::kSell, 4000000, 200));
  EXPECT_EQ(Query(alice_, id).status, OrderStatus::kPartiallyFilled);
  p_->OnEngineEvent(TradeEv(id, alice_, MakeOrderId(5, 2), 9, Side::kSell, 3999999, 50));
  // Left: 100 - 80 - 19.999995 = 0.000005 USDT = 50 ticks*lots... below one lot at 39999.99.
  p_->OnEngineEvent(Ev(EventType::kExpired, id, alice_, Side::kBuy, 0, 50,
                       static_cast<int16_t>(protocol::ExpireReason::kMarketRemainder)));
  const OrderInfo o = Query(alice_, id);
  EXPECT_EQ(o.status, OrderStatus::kFilled);
  EXPECT_EQ(o.orig_quote_order_qty, 100 * U);
  EXPECT_EQ(o.cummulative_quote_qty, 80 * U + 1999999500);
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 900 * U + 500, 0}));
  EXPECT_EQ(Bal(alice_, btc_).free, 250000 - 250);  // 0.0025 BTC minus 0.1%
  Ok();
}

TEST_F(PartitionTest, MarketBuyByQuoteExpiresWhenBookRunsOut) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  PlaceOrderRequest r;
  r.user = alice_;
  r.symbol = "BTCUSDT";
  r.type = OrderType::kMarket;
  r.quote_order_qty = "100";
  const OrderId id = Place(r);
  p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_));
  p_->OnEngineEvent(TradeEv(id, alice_, MakeOrderId(5, 1), 9, Side::kSell, 4000000, 100));
  p_->OnEngineEvent(Ev(EventType::kExpired, id, alice_, Side::kBuy, 0, 600000000,
                       static_cast<int16_t>(protocol::ExpireReason::kMarketRemainder)));
  EXPECT_EQ(Query(alice_, id).status, OrderStatus::kExpired);
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 960 * U, 0}));
  Ok();
}

TEST_F(PartitionTest, MarketBuyByQuantityIsBoundedByTheBand) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  PlaceOrderRequest r;
  r.user = alice_;
  r.symbol = "BTCUSDT";
  r.type = OrderType::kMarket;
  r.quantity = "0.02";
  // No reference price: cannot be bounded.
  EXPECT_EQ(p_->PlaceOrder(r).error(), errors::FilterFailure("PERCENT_PRICE_BY_SIDE"));
  // Best ask 40000: bound 42000, 0.02 BTC needs 840 USDT.
  market_.quotes[0] = MarketQuote{0, 4000000, 0};
  auto res = p_->PlaceOrder(r);
  ASSERT_TRUE(res.ok()) << res.error().msg();
  const Command c = res.value().command;
  EXPECT_EQ(c.order_type, protocol::OrderType::kLimit);
  EXPECT_EQ(c.tif, TimeInForce::kIoc);
  EXPECT_EQ(c.price, 4200000);
  EXPECT_EQ(res.value().order.type, OrderType::kMarket);
  EXPECT_EQ(res.value().order.price, 0);
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 160 * U, 840 * U}));
  // 0.03 would need 1260.
  r.quantity = "0.03";
  EXPECT_EQ(p_->PlaceOrder(r).error(), errors::InsufficientBalance());
  const OrderId id = res.value().order.order_id;
  p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_));
  p_->OnEngineEvent(TradeEv(id, alice_, MakeOrderId(5, 1), 9, Side::kSell, 4000000, 1000));
  p_->OnEngineEvent(Ev(EventType::kExpired, id, alice_, Side::kBuy, 4200000, 1000,
                       static_cast<int16_t>(protocol::ExpireReason::kIocRemainder)));
  EXPECT_EQ(Query(alice_, id).status, OrderStatus::kExpired);
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 600 * U, 0}));
  Ok();
}

TEST_F(PartitionTest, SelfTradeSettlesBothSidesAndStpExpiresInMatch) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  ASSERT_TRUE(p_->Credit(alice_, "BTC", U, 1).ok());
  const OrderId sell = Place(Limit(alice_, Side::kSell, "0.01", "40000"));
  const OrderId buy = Place(Limit(alice_, Side::kBuy, "0.02", "40000"));
  p_->OnEngineEvent(Ev(EventType::kAccepted, sell, alice_));
  p_->OnEngineEvent(Ev(EventType::kAccepted, buy, alice_));
  p_->OnEngineEvent(TradeEv(buy, alice_, sell, alice_, Side::kSell, 4000000, 1000));
  // Quote: -400 +400 - 0.36 maker fee; base: -0.01 + 0.01 - 0.00001 taker fee.
  EXPECT_EQ(p_->TotalOf(usdt_), 1000 * U);
  EXPECT_EQ(p_->TotalOf(btc_), U);
  EXPECT_EQ(p_->fee_balance(usdt_), 36000000);
  EXPECT_EQ(p_->fee_balance(btc_), 1000);
  EXPECT_EQ(Query(alice_, sell).status, OrderStatus::kFilled);
  EXPECT_EQ(Query(alice_, buy).status, OrderStatus::kPartiallyFilled);
  p_->OnEngineEvent(Ev(EventType::kExpired, buy, alice_, Side::kBuy, 4000000, 1000,
                       static_cast<int16_t>(protocol::ExpireReason::kSelfTradePrevention)));
  EXPECT_EQ(Query(alice_, buy).status, OrderStatus::kExpiredInMatch);
  EXPECT_EQ(Bal(alice_, usdt_).locked, 0);
  Ok();
}

TEST_F(PartitionTest, StopOrderWorksOnlyOnceTriggered) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  auto r = Limit(alice_, Side::kBuy, "0.01", "41000");
  r.type = OrderType::kStopLossLimit;
  r.stop_price = "40500";
  const OrderId id = Place(r);
  EXPECT_EQ(link_.sent.back().order_type, protocol::OrderType::kStopLossLimit);
  EXPECT_EQ(link_.sent.back().stop_price, 4050000);
  EXPECT_EQ(Bal(alice_, usdt_).locked, 410 * U);
  p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_));
  EXPECT_FALSE(Query(alice_, id).is_working);
  p_->OnEngineEvent(Ev(EventType::kTriggered, id, alice_, Side::kBuy, 4100000, 1000));
  EXPECT_TRUE(Query(alice_, id).is_working);
  EXPECT_EQ(Query(alice_, id).status, OrderStatus::kNew);
  // A stop that would trigger at once is refused by the engine.
  const OrderId id2 = Place(r);
  p_->OnEngineEvent(Ev(EventType::kRejected, id2, alice_, Side::kBuy, 0, 0,
                       static_cast<int16_t>(protocol::RejectCode::kWouldTriggerImmediately)));
  EXPECT_EQ(*Query(alice_, id2).reject, errors::StopWouldTrigger());
  Ok();
}

TEST_F(PartitionTest, CancelOpenOrdersAndUnknowns) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  ASSERT_TRUE(p_->Credit(alice_, "ETH", 10 * U, 1).ok());
  EXPECT_EQ(W(p_->CancelOpenOrders(alice_, "BTCUSDT", 0).error()),
            (Wire{-2011, "Unknown order sent."}));
  EXPECT_EQ(p_->CancelOpenOrders(alice_, "FOO", 0).error(), errors::InvalidSymbol());
  EXPECT_EQ(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", 42, "", 0}).error(),
            errors::UnknownOrder());
  EXPECT_EQ(W(p_->QueryOrder(OrderRef{alice_, "BTCUSDT", 42, "", 0}).error()),
            (Wire{-2013, "Order does not exist."}));
  const OrderId a = Place(Limit(alice_, Side::kBuy, "0.001", "40000"));
  const OrderId b = Place(Limit(alice_, Side::kBuy, "0.001", "39000"));
  const OrderId e = Place(Limit(alice_, Side::kSell, "1", "3000", "ETHUSDT"));
  // Ids of no order of this partition: one past its last, another
  // partition's first, the largest id.
  for (OrderId bad : {e + 1, MakeOrderId(PartitionOfOrder(a) + 1, 1), ~OrderId{0}}) {
    EXPECT_EQ(W(p_->QueryOrder(OrderRef{alice_, "BTCUSDT", bad, "", 0}).error()),
              (Wire{-2013, "Order does not exist."}))
        << bad;
    EXPECT_EQ(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", bad, "", 0}).error(),
              errors::UnknownOrder())
        << bad;
  }
  // Bob cannot cancel Alice's order.
  EXPECT_EQ(p_->CancelOrder(OrderRef{bob_, "BTCUSDT", a, "", 0}).error(), errors::UnknownOrder());
  EXPECT_EQ(p_->OpenOrders(alice_, "").value().size(), 3u);
  EXPECT_EQ(p_->OpenOrders(alice_, "BTCUSDT").value().size(), 2u);
  auto all = p_->CancelOpenOrders(alice_, "BTCUSDT", 9);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.value().size(), 2u);
  EXPECT_EQ(link_.sent.back().type, CommandType::kMassCancel);
  EXPECT_EQ(link_.sent.back().user, alice_);
  for (OrderId id : {a, b}) {
    p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_));
    p_->OnEngineEvent(Ev(EventType::kCancelled, id, alice_, Side::kBuy, 0, 100,
                         static_cast<int16_t>(protocol::CancelReason::kMassCancel)));
  }
  EXPECT_EQ(p_->OpenOrders(alice_, "").value().size(), 1u);
  EXPECT_EQ(p_->AllOrders(alice_, "BTCUSDT").value().size(), 2u);
  EXPECT_EQ(p_->AllOrders(alice_, "BTCUSDT").value()[0].status, OrderStatus::kCanceled);
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 1000 * U, 0}));
  EXPECT_EQ(Bal(alice_, eth_), (BalanceInfo{"ETH", 9 * U, U}));
  (void)e;
  Ok();
}

TEST_P(PartitionClientIdTest, ChosenIdsThatLookGenerated) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  ASSERT_TRUE(p_->Credit(bob_, "USDT", 1000 * U, 1).ok());
  auto by_cid = [&](UserId u, const std::string& cid) {
    auto q = p_->QueryOrder(OrderRef{u, "BTCUSDT", 0, cid, 0});
    return q.ok() ? q.value().order_id : OrderId{0};
  };
  auto named = [](OrderId id) { return "xc-" + std::to_string(id); };
  const auto r = Limit(alice_, Side::kBuy, "0.001", "40000");
  const OrderId a = Place(r);  // named by the partition
  EXPECT_EQ(Query(alice_, a).client_order_id, named(a));
  EXPECT_EQ(by_cid(alice_, named(a)), a);
  EXPECT_EQ(by_cid(bob_, named(a)), 0u);  // not Bob's
  EXPECT_EQ(by_cid(alice_, "xc-0" + std::to_string(a)), 0u);
  // Choosing the name of an open order is a duplicate.
  auto d = r;
  d.new_client_order_id = named(a);
  EXPECT_EQ(p_->PlaceOrder(d).error(), errors::DuplicateOrder());
  // Choosing the name the partition will give to a later order: the later
  // order has the name too and, the latest, is the one found.
  auto b = r;
  b.new_client_order_id = named(a + 2);
  const OrderId bid = Place(b);
  ASSERT_EQ(bid, a + 1);
  EXPECT_EQ(by_cid(alice_, named(a + 2)), bid);
  const OrderId c = Place(r);
  ASSERT_EQ(c, a + 2);
  EXPECT_EQ(by_cid(alice_, named(a + 2)), c);
  Ok();
  // Once order a is closed its name is free, and a chosen one is the latest.
  ASSERT_TRUE(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", a, "", 0}).ok());
  p_->OnEngineEvent(Ev(EventType::kAccepted, a, alice_));
  p_->OnEngineEvent(Ev(EventType::kCancelled, a, alice_, Side::kBuy, 4000000, 100, 1));
  const OrderId e = Place(d);
  EXPECT_EQ(by_cid(alice_, named(a)), e);
  EXPECT_EQ(Query(alice_, a).client_order_id, named(a));
  Ok();
}

TEST_P(PartitionClientIdTest, CancelReplace) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  auto r = Limit(alice_, Side::kBuy, "0.01", "40000");
  r.new_client_order_id = "keep";
  const OrderId old = Place(r);
  p_->OnEngineEvent(Ev(EventType::kAccepted, old, alice_));
  CancelReplaceRequest cr;
  cr.cancel = OrderRef{alice_, "BTCUSDT", old, "", 0};
  cr.order = Limit(alice_, Side::kBuy, "0.02", "40000");  // needs 800, only 600 free
  const size_t sent = link_.sent.size();
  EXPECT_EQ(p_->CancelReplace(cr).error(), errors::InsufficientBalance());
  EXPECT_EQ(link_.sent.size(), sent);  // nothing cancelled
  cr.order = Limit(alice_, Side::kBuy, "0.01", "39000");
  cr.order.new_client_order_id = "keep";  // may reuse the cancelled order's id
  auto res = p_->CancelReplace(cr);
  ASSERT_TRUE(res.ok()) << res.error().msg();
  ASSERT_EQ(link_.sent.size(), sent + 2);
  EXPECT_EQ(link_.sent[sent].type, CommandType::kCancel);
  EXPECT_EQ(link_.sent[sent + 1].type, CommandType::kNewOrder);
  const OrderId neu = res.value().placed.order_id;
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 210 * U, 790 * U}));
  p_->OnEngineEvent(Ev(EventType::kCancelled, old, alice_, Side::kBuy, 4000000, 1000, 1));
  p_->OnEngineEvent(Ev(EventType::kAccepted, neu, alice_));
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 610 * U, 390 * U}));
  EXPECT_EQ(p_->QueryOrder(OrderRef{alice_, "BTCUSDT", 0, "keep", 0}).value().order_id, neu);
  cr.cancel.order_id = old;
  EXPECT_EQ(p_->CancelReplace(cr).error(), errors::UnknownOrder());
  Ok();
}

TEST_F(PartitionTest, AmendKeepsPriorityAndShrinksTheLock) {
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  const OrderId id = Place(Limit(alice_, Side::kBuy, "0.02", "40000"));
  p_->OnEngineEvent(Ev(EventType::kAccepted, id, alice_));
  p_->OnEngineEvent(Ev(EventType::kAmended, id, alice_, Side::kBuy, 4000000, 500, 1));
  EXPECT_EQ(Bal(alice_, usdt_), (BalanceInfo{"USDT", 800 * U, 200 * U}));
  EXPECT_EQ(Query(alice_, id).orig_qty, 500000);
  Ok();
}

TEST_F(PartitionTest, TwoPartitionsEachSettleTheirOwnSide) {
  const UserId a = UserIn(0, 2), b = UserIn(1, 2);
  RecordingLink l0, l1;
  Partition p0(0, 2, &table_, &l0, nullptr), p1(1, 2, &table_, &l1, nullptr);
  ASSERT_TRUE(p0.CreateUser(a).ok());
  ASSERT_TRUE(p1.CreateUser(b).ok());
  ASSERT_TRUE(p0.Credit(a, "BTC", U, 1).ok());
  ASSERT_TRUE(p1.Credit(b, "USDT", 10000 * U, 1).ok());
  auto sell = p0.PlaceOrder(Limit(a, Side::kSell, "0.1", "40000"));
  auto buy = p1.PlaceOrder(Limit(b, Side::kBuy, "0.1", "41000"));
  ASSERT_TRUE(sell.ok() && buy.ok());
  const OrderId s = sell.value().order.order_id, t = buy.value().order.order_id;
  EXPECT_EQ(PartitionOfOrder(s), 0u);
  EXPECT_EQ(PartitionOfOrder(t), 1u);
  const Event trade = TradeEv(t, b, s, a, Side::kSell, 4000000, 10000);
  for (Partition* p : {&p0, &p1}) {
    p->OnEngineEvent(Ev(EventType::kAccepted, s, a));
    p->OnEngineEvent(Ev(EventType::kAccepted, t, b));
    p->OnEngineEvent(trade);
  }
  // Maker a: +4000 USDT - 0.09%; taker b: +0.1 BTC - 0.1%, 4100 locked -> 4000 spent, 100 back.
  EXPECT_EQ(p0.Account(a).value().balances[usdt_].free, 4000 * U - 360000000);
  EXPECT_EQ(p1.Account(b).value().balances[btc_].free, U / 10 - U / 10000);
  EXPECT_EQ(p1.Account(b).value().balances[usdt_], (BalanceInfo{"USDT", 6000 * U, 0}));
  for (AssetId x : {btc_, usdt_}) {
    EXPECT_EQ(p0.TotalOf(x) + p1.TotalOf(x), x == btc_ ? U : 10000 * U);
  }
  EXPECT_TRUE(p0.CheckInvariants().ok());
  EXPECT_TRUE(p1.CheckInvariants().ok());
}

TEST_F(PartitionTest, JournalReplayRebuildsTheSameState) {
  ASSERT_TRUE(p_->AddApiKey(alice_, "k", "s").ok());
  ASSERT_TRUE(p_->Credit(alice_, "USDT", 1000 * U, 1).ok());
  ASSERT_TRUE(p_->Credit(bob_, "BTC", U, 1).ok());
  ASSERT_TRUE(p_->Withdraw(bob_, "BTC", U / 4, 1).ok());
  market_.quotes[0] = MarketQuote{0, 4000000, 4000000};
  const OrderId b1 = Place(Limit(alice_, Side::kBuy, "0.01", "40000"));
  const OrderId s1 = Place(Limit(bob_, Side::kSell, "0.005", "39000"));
  PlaceOrderRequest m;
  m.user = alice_;
  m.symbol = "BTCUSDT";
  m.type = OrderType::kMarket;
  m.quantity = "0.001";
  const OrderId m1 = Place(m);
  (void)p_->PlaceOrder(Limit(alice_, Side::kBuy, "100", "40000"));  // refused, journaled anyway
  p_->OnEngineEvent(Ev(EventType::kAccepted, b1, alice_));
  p_->OnEngineEvent(Ev(EventType::kAccepted, s1, bob_));
  p_->OnEngineEvent(TradeEv(s1, bob_, b1, alice_, Side::kBuy, 4000000, 500));
  p_->OnEngineEvent(Ev(EventType::kAccepted, m1, alice_));
  p_->OnEngineEvent(Ev(EventType::kExpired, m1, alice_, Side::kBuy, 0, 100, 1));
  ASSERT_TRUE(p_->CancelOrder(OrderRef{alice_, "BTCUSDT", b1, "", 7}).ok());
  p_->OnEngineEvent(Ev(EventType::kCancelled, b1, alice_, Side::kBuy, 4000000, 500, 1));
  Ok();

  market_.quotes.clear();  // replay must not depend on the live view
  RecordingLink replay_link;
  Partition q(0, 1, &table_, &replay_link, &market_);
  for (const std::string& rec : journal_.records) ASSERT_TRUE(q.Replay(rec).ok());
  EXPECT_EQ(q.StateHash(), p_->StateHash());
  EXPECT_EQ(replay_link.sent.size(), link_.sent.size());
  EXPECT_EQ(q.Account(alice_).value().balances, p_->Account(alice_).value().balances);
  EXPECT_TRUE(q.LookupApiKey("k").has_value());
  EXPECT_FALSE(q.Replay("Zjunk").ok());
  EXPECT_FALSE(q.Replay(std::string_view(journal_.records[0]).substr(0, 3)).ok());
}

}  // namespace
}  // namespace xc::order_service

#include "xc/order_service/local_order_service.h"

namespace xc::order_service {
namespace {

TEST(LocalOrderServiceTest, RoutesUsersToTheirPartitions) {
  auto t = SymbolTable::Build(SymbolTable::DefaultConfigs());
  ASSERT_TRUE(t.ok());
  RecordingLink link;
  Partition p0(0, 2, &*t, &link, nullptr), p1(1, 2, &*t, &link, nullptr);
  LocalOrderService svc(&*t, {&p0, &p1});
  const UserId a = UserIn(0, 2), b = UserIn(1, 2);
  ASSERT_TRUE(svc.PartitionFor(a).CreateUser(a).ok());
  ASSERT_TRUE(svc.PartitionFor(b).CreateUser(b).ok());
  EXPECT_TRUE(p0.HasUser(a));
  EXPECT_TRUE(p1.HasUser(b));
  ASSERT_TRUE(p1.AddApiKey(b, "kb", "sb").ok());
  EXPECT_EQ(svc.LookupApiKey("kb")->user, b);
  ASSERT_TRUE(p1.Credit(b, "USDT", 100 * U, 0).ok());
  PlaceOrderRequest r;
  r.user = b;
  r.symbol = "BTCUSDT";
  r.side = Side::kBuy;
  r.time_in_force = TimeInForce::kGtc;
  r.quantity = "0.001";
  r.price = "40000";
  auto o = svc.PlaceOrder(r);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(PartitionOfOrder(o.value().order_id), 1u);
  EXPECT_EQ(svc.OpenOrders(b, "BTCUSDT").value().size(), 1u);
  EXPECT_EQ(svc.Account(b).value().balances[*t->FindAsset("USDT")].locked, 40 * U);
  EXPECT_EQ(svc.ExchangeInfo().size(), 3u);
  EXPECT_EQ(svc.ExchangeInfo()[0].tick_size, "0.01");
  EXPECT_EQ(svc.Account(a + b + 1000).error(), errors::InvalidApiKey());
}

}  // namespace
}  // namespace xc::order_service
