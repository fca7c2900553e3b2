// The order service against the real matching engine (cross-component: links
// xc::engine_core and xc::order_service; only tests and executables may).
//
// Wiring: one EngineLink that queues commands, and a Pump() that applies them
// to an xc::engine::Shard synchronously and hands each event to the partitions
// that own its orders (the taker's and, for a trade, the maker's), exactly as
// the process wiring will. The Shard's books serve as the MarketView.
//
// The long random test proves DESIGN.md invariant 5 (money is conserved): for
// every asset, the sum over all users of free + locked plus every partition's
// fee account equals credits minus withdrawals, after every step of a long
// random sequence of deposits, withdrawals, orders of every type, cancels,
// mass cancels and cancel-replaces by users spread over several partitions.
// It also checks each partition's invariants after every step, and at the end
// that journal replay rebuilds every partition's state.
//
// It also checks the user data events (user_events.h) the partitions produce
// over the whole run: each order has exactly one NEW, before anything else of
// it; the sum of its TRADE `l` is its executedQty and the sum of `n` its
// commissions (myTrades); its last report has its final status; and the last
// outboundAccountPosition of each user and asset equals Account().

#include <deque>
#include <map>
#include <variant>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "xc/engine/event_buffer.h"
#include "xc/engine/shard.h"
#include "xc/order_service/decimal.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"
#include "xc/order_service/user_events.h"
#include "xc/protocol/check.h"

namespace xc {
namespace {

using order_service::Amount;
using order_service::AssetId;
using order_service::BalanceInfo;
using order_service::MarketQuote;
using order_service::OrderInfo;
using order_service::OrderRef;
using order_service::OrderStatus;
using order_service::OrderType;
using order_service::Partition;
using order_service::PartitionId;
using order_service::PlaceOrderRequest;
using order_service::SymbolTable;
using protocol::Side;
using protocol::TimeInForce;
using protocol::UserId;

constexpr Amount U = order_service::kUnitsPerWhole;

class MemJournal : public order_service::PartitionJournal {
 public:
  void Append(std::string_view r) override { records.emplace_back(r); }
  std::vector<std::string> records;
};

class Exchange : public order_service::EngineLink, public order_service::MarketView {
 public:
  Exchange(const SymbolTable* table, uint32_t partitions) : table_(table) {
    for (const auto& s : table->symbols()) {
      EXPECT_TRUE(shard_.AddSymbol(s.id, engine::OrderBook::Options{1u << 14, 1u << 12}).ok());
    }
    for (PartitionId p = 0; p < partitions; ++p) {
      journals_.push_back(std::make_unique<MemJournal>());
      parts_.push_back(
          std::make_unique<Partition>(p, partitions, table, this, this, journals_.back().get()));
    }
  }

  void Send(const protocol::Command& c) override { queue_.push_back(c); }

  MarketQuote Quote(protocol::SymbolId s) const override {
    const engine::OrderBook* b = shard_.book(s);
    MarketQuote q;
    if (b == nullptr) return q;
    q.best_bid = b->best_bid().value_or(0);
    q.best_ask = b->best_ask().value_or(0);
    q.last = b->last_trade_price();
    return q;
  }

  // Applies queued commands and routes their events until nothing is left.
  void Pump() {
    while (!queue_.empty()) {
      const protocol::Command c = queue_.front();
      queue_.pop_front();
      buf_.clear();
      shard_.Apply(c, buf_);
      for (const protocol::Event& e : buf_) {
        if (e.type == protocol::EventType::kLevelChanged) continue;
        const PartitionId a = order_service::PartitionOfOrder(e.order_id);
        if (a < parts_.size()) parts_[a]->OnEngineEvent(e);
        if (e.type == protocol::EventType::kTrade) {
          ++trades_;
          const PartitionId m = order_service::PartitionOfOrder(e.maker_id);
          if (m != a && m < parts_.size()) parts_[m]->OnEngineEvent(e);
        }
      }
    }
  }

  Partition& of(UserId u) {
    return *parts_[order_service::PartitionOfUser(u, static_cast<uint32_t>(parts_.size()))];
  }
  Partition& part(size_t i) { return *parts_[i]; }
  size_t partitions() const { return parts_.size(); }
  const MemJournal& journal(size_t i) const { return *journals_[i]; }
  Amount Total(AssetId a) const {
    Amount t = 0;
    for (const auto& p : parts_) t += p->TotalOf(a);
    return t;
  }
  uint64_t trades() const { return trades_; }
  const engine::Shard& shard() const { return shard_; }

 private:
  const SymbolTable* table_;
  engine::Shard shard_;
  engine::EventBuffer buf_;
  std::deque<protocol::Command> queue_;
  std::vector<std::unique_ptr<MemJournal>> journals_;
  std::vector<std::unique_ptr<Partition>> parts_;
  uint64_t trades_ = 0;
};

class OrderServiceEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = SymbolTable::Build(SymbolTable::DefaultConfigs());
    ASSERT_TRUE(t.ok());
    table_ = std::make_unique<SymbolTable>(*std::move(t));
  }
  static PlaceOrderRequest Limit(UserId u, std::string sym, Side side, std::string qty,
                                 std::string price, TimeInForce tif = TimeInForce::kGtc) {
    PlaceOrderRequest r;
    r.user = u;
    r.symbol = std::move(sym);
    r.side = side;
    r.type = OrderType::kLimit;
    r.time_in_force = tif;
    r.quantity = std::move(qty);
    r.price = std::move(price);
    return r;
  }
  std::unique_ptr<SymbolTable> table_;
};

UserId UserIn(PartitionId p, uint32_t n, UserId from) {
  while (order_service::PartitionOfUser(from, n) != p) ++from;
  return from;
}

TEST_F(OrderServiceEngineTest, CrossPartitionTradeSettlesExactly) {
  Exchange x(table_.get(), 2);
  const UserId maker = UserIn(0, 2, 1), taker = UserIn(1, 2, 1);
  ASSERT_TRUE(x.of(maker).CreateUser(maker).ok());
  ASSERT_TRUE(x.of(taker).CreateUser(taker).ok());
  ASSERT_TRUE(x.of(maker).Credit(maker, "BTC", U, 0).ok());
  ASSERT_TRUE(x.of(taker).Credit(taker, "USDT", 10000 * U, 0).ok());
  const AssetId btc = *table_->FindAsset("BTC"), usdt = *table_->FindAsset("USDT");

  auto s1 = x.of(maker).PlaceOrder(Limit(maker, "BTCUSDT", Side::kSell, "0.1", "40000"));
  auto s2 = x.of(maker).PlaceOrder(Limit(maker, "BTCUSDT", Side::kSell, "0.1", "40100"));
  ASSERT_TRUE(s1.ok() && s2.ok());
  x.Pump();
  EXPECT_TRUE(x.of(maker).QueryOrder(OrderRef{maker, "BTCUSDT", s1.value().order.order_id, "", 0})
                  .value()
                  .is_working);
  // Taker buys 0.15 at up to 40100: 0.1 at 40000 and 0.05 at 40100.
  auto b = x.of(taker).PlaceOrder(Limit(taker, "BTCUSDT", Side::kBuy, "0.15", "40100"));
  ASSERT_TRUE(b.ok());
  x.Pump();
  const OrderInfo bo =
      x.of(taker).QueryOrder(OrderRef{taker, "BTCUSDT", b.value().order.order_id, "", 0}).value();
  EXPECT_EQ(bo.status, OrderStatus::kFilled);
  EXPECT_EQ(bo.cummulative_quote_qty, 4000 * U + 2005 * U);
  ASSERT_EQ(bo.fills.size(), 2u);
  // Taker: spent 6005 of 6015 locked, 10 back; 0.15 BTC minus 0.1%.
  EXPECT_EQ(x.of(taker).Account(taker).value().balances[usdt],
            (BalanceInfo{"USDT", 10000 * U - 6005 * U, 0}));
  EXPECT_EQ(x.of(taker).Account(taker).value().balances[btc].free, 15 * U / 100 - 15000);
  // Maker: proceeds minus 0.09%; 0.05 BTC still locked in the partly filled order.
  EXPECT_EQ(x.of(maker).Account(maker).value().balances[usdt].free,
            6005 * U - 6005 * U * 9 / 10000);
  EXPECT_EQ(x.of(maker).Account(maker).value().balances[btc],
            (BalanceInfo{"BTC", 8 * U / 10, 5 * U / 100}));
  EXPECT_EQ(x.of(maker)
                .QueryOrder(OrderRef{maker, "BTCUSDT", s2.value().order.order_id, "", 0})
                .value()
                .status,
            OrderStatus::kPartiallyFilled);
  EXPECT_EQ(x.Total(btc), U);
  EXPECT_EQ(x.Total(usdt), 10000 * U);

  // LIMIT_MAKER that would cross is refused up front (the view is the book).
  auto lm = Limit(taker, "BTCUSDT", Side::kBuy, "0.01", "40100");
  lm.type = OrderType::kLimitMaker;
  lm.time_in_force.reset();
  EXPECT_EQ(x.of(taker).PlaceOrder(lm).error(), order_service::errors::WouldMatchAndTake());

  // A MARKET BUY by quantity bounded at 1.05 x best ask sweeps the rest and expires.
  PlaceOrderRequest m;
  m.user = taker;
  m.symbol = "BTCUSDT";
  m.type = OrderType::kMarket;
  m.quantity = "0.06";
  auto mo = x.of(taker).PlaceOrder(m);
  ASSERT_TRUE(mo.ok()) << mo.error().msg();
  x.Pump();
  const OrderInfo mi =
      x.of(taker).QueryOrder(OrderRef{taker, "BTCUSDT", mo.value().order.order_id, "", 0}).value();
  EXPECT_EQ(mi.status, OrderStatus::kExpired);
  EXPECT_EQ(mi.executed_qty, 5 * U / 100);
  EXPECT_EQ(x.of(taker).Account(taker).value().balances[usdt].locked, 0);
  EXPECT_EQ(x.of(maker).Account(maker).value().balances[btc].locked, 0);
  EXPECT_EQ(x.Total(btc), U);
  EXPECT_EQ(x.Total(usdt), 10000 * U);
  EXPECT_EQ(protocol::BugCount(), 0u);
}

// Random but valid-looking order flow around a moving mid price.
class Flow {
 public:
  Flow(const SymbolTable& t, uint64_t seed) : t_(t), rng_(seed) {}
  uint64_t Next(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool Chance(int pct) { return static_cast<int>(Next(100)) < pct; }

  PlaceOrderRequest Order(UserId u) {
    static const char* kSyms[] = {"BTCUSDT", "ETHUSDT", "ETHBTC"};
    static const protocol::Price kMid[] = {4000000, 300000, 7500};  // 40000, 3000, 0.075
    static const protocol::Qty kMaxLots[] = {3000, 5000, 500};
    const int si = static_cast<int>(Next(3));
    const order_service::SymbolSpec& s = *t_.Find(kSyms[si]);
    PlaceOrderRequest r;
    r.user = u;
    r.symbol = kSyms[si];
    r.side = Chance(50) ? Side::kBuy : Side::kSell;
    const protocol::Price spread = kMid[si] / 200;  // +-0.5%
    const protocol::Price px = kMid[si] - spread + static_cast<protocol::Price>(Next(2 * spread));
    const protocol::Qty lots = 1 + static_cast<protocol::Qty>(Next(kMaxLots[si]));
    auto dec = [](Amount v) { return order_service::FormatDecimalTrimmed(v); };
    r.price = dec(px * s.tick);
    r.quantity = dec(lots * s.step);
    r.stp = static_cast<protocol::StpMode>(Next(4));
    const int kind = static_cast<int>(Next(100));
    if (kind < 45) {
      r.type = OrderType::kLimit;
      r.time_in_force = TimeInForce::kGtc;
    } else if (kind < 55) {
      r.type = OrderType::kLimit;
      r.time_in_force = Chance(50) ? TimeInForce::kIoc : TimeInForce::kFok;
    } else if (kind < 65) {
      r.type = OrderType::kLimitMaker;
      if (Chance(30)) r.iceberg_qty = dec(std::max<protocol::Qty>(1, lots / 3) * s.step);
    } else if (kind < 80) {
      r.type = OrderType::kMarket;
      r.price.reset();
      if (r.side == Side::kBuy && Chance(50)) {
        r.quantity.reset();
        r.quote_order_qty = dec(lots * s.step / 10 * (kMid[si] * s.tick) / U * 10 + Next(1000));
      }
    } else if (kind < 90) {
      r.type = Chance(50) ? OrderType::kStopLossLimit : OrderType::kTakeProfitLimit;
      r.time_in_force = Chance(80) ? TimeInForce::kGtc : TimeInForce::kIoc;
      const protocol::Price stop = kMid[si] - spread + static_cast<protocol::Price>(Next(2 * spread));
      r.stop_price = dec(stop * s.tick);
    } else {
      // Invalid ones: bad decimals, filter failures, missing params.
      r.type = OrderType::kLimit;
      r.time_in_force = TimeInForce::kGtc;
      switch (Next(4)) {
        case 0: r.price = "1e5"; break;
        case 1: r.quantity = dec(lots * s.step + 1); break;
        case 2: r.price.reset(); break;
        default: r.symbol = "NOPE"; break;
      }
    }
    return r;
  }

 private:
  const SymbolTable& t_;
  std::mt19937_64 rng_;
};

TEST_F(OrderServiceEngineTest, MoneyIsConservedOverLongRandomSequences) {
  constexpr uint32_t kPartitions = 4;
  constexpr int kUsers = 16;
  constexpr int kSteps = 30000;
  Exchange x(table_.get(), kPartitions);
  Flow flow(*table_, 20260721);
  std::vector<UserId> users;
  for (int i = 0; i < kUsers; ++i) {
    const UserId u = 1000 + static_cast<UserId>(i);
    ASSERT_TRUE(x.of(u).CreateUser(u).ok());
    users.push_back(u);
  }
  for (size_t i = 0; i < x.partitions(); ++i) x.part(i).EnableUserEvents(true);
  std::set<PartitionId> used;
  for (UserId u : users) used.insert(order_service::PartitionOfUser(u, kPartitions));
  ASSERT_GE(used.size(), 3u) << "users should spread over partitions";

  const size_t n_assets = table_->num_assets();
  std::vector<Amount> expected(n_assets, 0);
  auto credit = [&](UserId u, AssetId a, Amount v) {
    ASSERT_TRUE(x.of(u).Credit(u, table_->asset_name(a), v, 0).ok());
    expected[a] += v;
  };
  for (UserId u : users) {
    credit(u, *table_->FindAsset("BTC"), 2 * U);
    credit(u, *table_->FindAsset("ETH"), 30 * U);
    credit(u, *table_->FindAsset("USDT"), 100000 * U);
  }

  std::vector<int> outcomes(8, 0);
  for (int step = 0; step < kSteps; ++step) {
    const UserId u = users[flow.Next(users.size())];
    Partition& p = x.of(u);
    const int op = static_cast<int>(flow.Next(100));
    const protocol::Timestamp now = step;
    if (op < 4) {
      const AssetId a = static_cast<AssetId>(flow.Next(n_assets));
      credit(u, a, 1 + static_cast<Amount>(flow.Next(10 * U)));
      ++outcomes[0];
    } else if (op < 8) {
      const AssetId a = static_cast<AssetId>(flow.Next(n_assets));
      const Amount v = 1 + static_cast<Amount>(flow.Next(5 * U));
      if (p.Withdraw(u, table_->asset_name(a), v, now).ok()) expected[a] -= v;
      ++outcomes[1];
    } else if (op < 70) {
      PlaceOrderRequest r = flow.Order(u);
      r.now = now;
      if (flow.Chance(5)) r.new_client_order_id = "c" + std::to_string(flow.Next(20));
      ++outcomes[p.PlaceOrder(r).ok() ? 2 : 3];
    } else if (op < 85) {
      auto open = p.OpenOrders(u, "");
      if (open.ok() && !open.value().empty()) {
        const OrderInfo& o = open.value()[flow.Next(open.value().size())];
        ++outcomes[p.CancelOrder(OrderRef{u, o.symbol, o.order_id, "", now}).ok() ? 4 : 5];
      }
    } else if (op < 90) {
      static const char* kSyms[] = {"BTCUSDT", "ETHUSDT", "ETHBTC"};
      (void)p.CancelOpenOrders(u, kSyms[flow.Next(3)], now);
      ++outcomes[6];
    } else {
      auto open = p.OpenOrders(u, "");
      if (open.ok() && !open.value().empty()) {
        const OrderInfo& o = open.value()[flow.Next(open.value().size())];
        order_service::CancelReplaceRequest cr;
        cr.cancel = OrderRef{u, o.symbol, o.order_id, "", now};
        cr.order = flow.Order(u);
        cr.order.symbol = o.symbol;
        cr.order.now = now;
        (void)p.CancelReplace(cr);
        ++outcomes[7];
      }
    }
    x.Pump();
    for (AssetId a = 0; a < n_assets; ++a) {
      ASSERT_EQ(x.Total(a), expected[a])
          << "asset " << table_->asset_name(a) << " after step " << step;
    }
    for (size_t i = 0; i < x.partitions(); ++i) {
      const absl::Status st = x.part(i).CheckInvariants();
      ASSERT_TRUE(st.ok()) << st << " partition " << i << " step " << step;
    }
  }
  // Enough of everything happened for the test to mean something.
  EXPECT_GT(x.trades(), 2000u);
  EXPECT_GT(outcomes[2], 5000);
  EXPECT_GT(outcomes[3], 500);
  EXPECT_GT(outcomes[4], 1000);

  // Cancel everything: nothing may stay locked, and totals still hold.
  for (UserId u : users) {
    for (const char* s : {"BTCUSDT", "ETHUSDT", "ETHBTC"}) (void)x.of(u).CancelOpenOrders(u, s, 0);
  }
  x.Pump();
  for (UserId u : users) {
    for (const BalanceInfo& b : x.of(u).Account(u).value().balances) {
      EXPECT_EQ(b.locked, 0) << u << " " << b.asset;
    }
  }
  for (AssetId a = 0; a < n_assets; ++a) {
    EXPECT_EQ(x.Total(a), expected[a]);
    Amount fees = 0;
    for (size_t i = 0; i < x.partitions(); ++i) fees += x.part(i).fee_balance(a);
    EXPECT_GT(fees, 0) << table_->asset_name(a);
  }
  EXPECT_EQ(protocol::BugCount(), 0u);

  // User events add up to the orders, trades and balances.
  struct OrderSum {
    int news = 0;
    int reports = 0;
    Amount l = 0, n = 0;
    OrderStatus last = OrderStatus::kNew;
  };
  std::map<std::pair<UserId, protocol::OrderId>, OrderSum> sums;
  std::map<std::pair<UserId, std::string>, BalanceInfo> last_pos;
  size_t n_events = 0;
  for (size_t i = 0; i < x.partitions(); ++i) {
    std::vector<order_service::UserEvent> evs;
    x.part(i).TakeUserEvents(&evs);
    n_events += evs.size();
    for (const order_service::UserEvent& e : evs) {
      if (const auto* r = std::get_if<order_service::ExecutionReport>(&e)) {
        OrderSum& s = sums[{r->user, r->order.order_id}];
        if (r->execution_type == order_service::ExecutionType::kNew) {
          EXPECT_EQ(s.reports, 0) << "NEW after another report of order " << r->order.order_id;
          ++s.news;
        }
        ++s.reports;
        if (r->execution_type == order_service::ExecutionType::kTrade) {
          s.l += r->last_qty;
          s.n += r->commission;
          EXPECT_GT(r->last_qty, 0);
        } else {
          EXPECT_EQ(r->last_qty, 0);
        }
        s.last = r->order.status;
      } else if (const auto* p = std::get_if<order_service::AccountPosition>(&e)) {
        for (const BalanceInfo& b : p->balances) last_pos[{p->user, b.asset}] = b;
      }
    }
  }
  EXPECT_GT(n_events, 50000u);
  size_t orders_checked = 0;
  for (UserId u : users) {
    Partition& p = x.of(u);
    for (const char* sym : {"BTCUSDT", "ETHUSDT", "ETHBTC"}) {
      std::map<protocol::OrderId, Amount> commissions;
      for (const auto& t : p.MyTrades(u, sym).value()) commissions[t.order_id] += t.commission;
      for (const OrderInfo& o : p.AllOrders(u, sym).value()) {
        const OrderSum& s = sums[{u, o.order_id}];
        EXPECT_EQ(s.news, 1) << "order " << o.order_id;
        EXPECT_EQ(s.l, o.executed_qty) << "order " << o.order_id;
        EXPECT_EQ(s.n, commissions[o.order_id]) << "order " << o.order_id;
        EXPECT_EQ(s.last, o.status) << "order " << o.order_id;
        ++orders_checked;
      }
    }
    for (const BalanceInfo& b : p.Account(u).value().balances) {
      auto it = last_pos.find({u, b.asset});
      ASSERT_NE(it, last_pos.end()) << u << " " << b.asset;
      EXPECT_EQ(it->second, b) << u << " " << b.asset;
    }
  }
  EXPECT_EQ(orders_checked, sums.size());

  // Every partition's journal replays to the same state.
  for (size_t i = 0; i < x.partitions(); ++i) {
    Partition q(static_cast<PartitionId>(i), kPartitions, table_.get(), nullptr, nullptr);
    for (const std::string& rec : x.journal(i).records) ASSERT_TRUE(q.Replay(rec).ok());
    EXPECT_EQ(q.StateHash(), x.part(i).StateHash()) << "partition " << i;
  }
}

}  // namespace
}  // namespace xc
