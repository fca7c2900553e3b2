// Core end to end (order-service partitions + a real engine ShardRunner, no
// gateway): guards the "held answers" of Core::Dispatch (c0cddd2). The
// answers one Dispatch makes ready leave only after every partition owning a
// side of its events applied them, so a taker told FILLED who at once asks
// for the maker's order, owned by another partition, finds it FILLED, not
// NEW. The taker is on partition 0 and the maker on partition 1: Dispatch
// settles partitions in id order, so without the hold the taker's answer
// would run before partition 1 saw the trade, every time.

#include "core.h"
#include "core_testing.h"

#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/rest_api.h"
#include "xc/order_service/decimal.h"
#include "xc/order_service/messages.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"

namespace xc::exchange {
namespace {

using order_service::ApiResult;
using order_service::OrderInfo;
using order_service::OrderStatus;
using order_service::OrderStatusName;

constexpr order_service::Amount kWhole = order_service::kUnitsPerWhole;
constexpr uint32_t kPartitions = 2;
constexpr char kSymbol[] = "BTCUSDT";

// Param: CoreOptions::run_to_completion (the answer then runs on the thread
// that placed the taker's order, inside PlaceOrderAsync; else on the pump's).
class CoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const std::vector<order_service::SymbolConfig> configs = testing::ConfigsOf(kSymbol);
    ASSERT_EQ(configs.size(), 1u);
    auto table = order_service::SymbolTable::Build(configs);
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *std::move(table);
    market_ = std::make_unique<gateway::MarketData>(configs);

    char tmpl[] = "/tmp/xc-core-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;

    CoreOptions o = testing::JournalNoneOptions(dir_, kPartitions, market_.get(), GetParam());
    o.timeout = std::chrono::milliseconds(5'000);
    o.on_fatal = [] { ADD_FAILURE() << "partition log failed"; };
    core_ = std::make_unique<Core>(&table_, std::move(o), &clock_);
    std::string report;
    ASSERT_TRUE(core_->Recover(&report).ok()) << report;
    auto runner = testing::StartEngine(core_.get(), table_, 1u << 12);
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = *std::move(runner);
  }

  void TearDown() override {
    // As exchange_main.cc shuts down: the runner drains, then Core delivers
    // the last events and stops the workers.
    if (runner_) runner_->Stop();
    if (core_) core_->Stop();
    core_.reset();
    runner_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A new user on partition `want` (Core::CreateUser hands out ids in order,
  // so ids on the other partition are skipped), with funds.
  protocol::UserId UserOn(order_service::PartitionId want) {
    for (int i = 0; i < 64; ++i) {
      auto u = core_->CreateUser();
      EXPECT_TRUE(u.ok()) << u.status();
      if (!u.ok()) return 0;
      if (order_service::PartitionOfUser(u->user, kPartitions) != want) continue;
      const std::pair<const char*, order_service::Amount> funds[] = {
          {"BTC", 10 * kWhole}, {"USDT", 1'000'000 * kWhole}};
      for (const auto& [asset, amount] : funds) {
        auto b = core_->ChangeBalance(u->user, asset, amount);
        EXPECT_TRUE(b.ok()) << b.status();
      }
      return u->user;
    }
    ADD_FAILURE() << "no user id on partition " << want;
    return 0;
  }

  order_service::PlaceOrderRequest Limit(protocol::UserId user, protocol::Side side) {
    order_service::PlaceOrderRequest r;
    r.user = user;
    r.symbol = kSymbol;
    r.side = side;
    r.type = order_service::OrderType::kLimit;
    r.time_in_force = protocol::TimeInForce::kGtc;
    r.quantity = "0.001";
    r.price = "40000";
    r.now = clock_.NowNanos();
    return r;
  }

  order_service::SymbolTable table_;
  gateway::SystemWallClock clock_;
  std::unique_ptr<gateway::MarketData> market_;
  std::string dir_;
  std::unique_ptr<engine::node::ShardRunner> runner_;
  std::unique_ptr<Core> core_;
};

TEST_P(CoreTest, TakerToldFilledFindsMakerOnOtherPartitionFilled) {
  const protocol::UserId taker = UserOn(0);
  const protocol::UserId maker = UserOn(1);
  ASSERT_NE(taker, 0u);
  ASSERT_NE(maker, 0u);
  order_service::OrderServiceApi& api = core_->api();

  constexpr int kCrosses = 200;
  int maker_not_filled = 0;
  for (int i = 0; i < kCrosses; ++i) {
    auto rest = api.PlaceOrder(Limit(maker, protocol::Side::kSell));
    ASSERT_TRUE(rest.ok()) << rest.error().msg();
    ASSERT_EQ(rest.value().status, OrderStatus::kNew) << "cross " << i;
    const order_service::OrderRef maker_ref{maker, kSymbol, rest.value().order_id, "",
                                            clock_.NowNanos()};
    ASSERT_EQ(order_service::PartitionOfOrder(maker_ref.order_id), 1u);

    struct Seen {
      std::optional<ApiResult<OrderInfo>> taker, maker;
    };
    std::promise<Seen> seen;
    std::future<Seen> got = seen.get_future();
    api.PlaceOrderAsync(Limit(taker, protocol::Side::kBuy),
                        [&api, &seen, maker_ref](ApiResult<OrderInfo> answer) {
                          // The fastest client there is: the maker's order is
                          // asked for before this answer returns, so no later
                          // event can settle partition 1 first. A synchronous
                          // query is safe here: the answer runs outside every
                          // partition's mutex, and with sync off the query's
                          // batch is committed on this thread (nothing to
                          // wait for); a hang would end in -1007 after
                          // CoreOptions::timeout.
                          Seen s;
                          s.maker.emplace(api.QueryOrder(maker_ref));
                          s.taker.emplace(std::move(answer));
                          seen.set_value(std::move(s));
                        });
    ASSERT_EQ(got.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "cross " << i;
    Seen s = got.get();
    ASSERT_TRUE(s.taker->ok()) << s.taker->error().msg();
    ASSERT_EQ(s.taker->value().status, OrderStatus::kFilled)
        << "cross " << i << ": taker " << OrderStatusName(s.taker->value().status);
    ASSERT_TRUE(s.maker->ok()) << s.maker->error().msg();
    if (s.maker->value().status != OrderStatus::kFilled && ++maker_not_filled <= 3) {
      ADD_FAILURE() << "cross " << i << ": taker told FILLED, maker's order is "
                    << OrderStatusName(s.maker->value().status);
    }
  }
  EXPECT_EQ(maker_not_filled, 0) << "of " << kCrosses << " crosses";

  // Both partitions applied every trade: the maker has nothing open.
  auto open = api.OpenOrders(maker, kSymbol);
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open.value().empty());

  // One id per trade, the engine's: the taker's and the maker's trade lists
  // and the public trades agree, 1 to kCrosses in order.
  auto taker_trades = api.MyTrades(taker, kSymbol);
  auto maker_trades = api.MyTrades(maker, kSymbol);
  ASSERT_TRUE(taker_trades.ok());
  ASSERT_TRUE(maker_trades.ok());
  ASSERT_EQ(taker_trades.value().size(), static_cast<size_t>(kCrosses));
  ASSERT_EQ(maker_trades.value().size(), static_cast<size_t>(kCrosses));
  const protocol::SymbolId sym = *market_->Find(kSymbol);
  std::vector<gateway::MarketData::Trade> pub;
  for (int i = 0; i < 1000 && pub.size() < static_cast<size_t>(kCrosses); ++i) {
    if (i != 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pub = market_->RecentTrades(sym, kCrosses);
  }
  ASSERT_EQ(pub.size(), static_cast<size_t>(kCrosses));
  for (int i = 0; i < kCrosses; ++i) {
    EXPECT_EQ(taker_trades.value()[i].id, static_cast<uint64_t>(i + 1)) << i;
    EXPECT_EQ(maker_trades.value()[i].id, taker_trades.value()[i].id) << i;
    EXPECT_EQ(pub[i].id, taker_trades.value()[i].id) << i;
    EXPECT_FALSE(taker_trades.value()[i].is_maker);
    EXPECT_TRUE(maker_trades.value()[i].is_maker);
  }
}

TEST_P(CoreTest, RefusesLogsOfAnotherPartitionCount) {
  // Data written with kPartitions partitions (a user with a balance)...
  const protocol::UserId user = UserOn(1);
  ASSERT_NE(user, 0u);
  runner_->Stop();
  core_->Stop();
  core_.reset();
  // ...is refused under another count, and left as it was.
  auto reopen = [&](uint32_t n) {
    CoreOptions o;
    o.partitions = n;
    o.dir = dir_ + "/orders";
    o.sync = false;
    o.market = market_.get();
    return std::make_unique<Core>(&table_, std::move(o), &clock_);
  };
  for (uint32_t n : {1u, kPartitions + 1}) {
    std::unique_ptr<Core> other = reopen(n);
    std::string report;
    const absl::Status s = other->Recover(&report);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << n << ": " << s;
    EXPECT_NE(s.message().find("set partitions = 2"), std::string_view::npos) << s;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/orders/partition-2.log"));
  // The same count still recovers the user.
  std::unique_ptr<Core> same = reopen(kPartitions);
  std::string report;
  ASSERT_TRUE(same->Recover(&report).ok()) << report;
  EXPECT_NE(report.find("order service: 2 partitions"), std::string::npos) << report;
  auto account = same->api().Account(user);
  ASSERT_TRUE(account.ok());
  bool usdt = false;
  for (const auto& b : account.value().balances) {
    if (b.asset != "USDT") continue;
    usdt = true;
    EXPECT_EQ(b.free, 1'000'000 * kWhole);
  }
  EXPECT_TRUE(usdt);
}

INSTANTIATE_TEST_SUITE_P(RunToCompletion, CoreTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "RunToCompletion" : "PumpThread";
                         });

}  // namespace
}  // namespace xc::exchange
