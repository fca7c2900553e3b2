#include "xc/gateway/market_data.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace xc::gateway {
namespace {

namespace os = xc::order_service;
using protocol::Event;
using protocol::EventType;
using protocol::Side;

constexpr int64_t U = os::kUnitsPerWhole;
// 2023-11-14 22:13:20 UTC, a Tuesday.
constexpr int64_t kT0 = 1'700'000'000'000;

std::vector<os::SymbolConfig> Configs() {
  os::SymbolConfig btc;
  btc.symbol = "BTCUSDT";
  btc.tick_size = "0.01";   // 1 tick = 1'000'000 units
  btc.step_size = "0.001";  // 1 lot = 100'000 units
  os::SymbolConfig eth;
  eth.symbol = "ETHBTC";
  eth.tick_size = "0.00001";
  eth.step_size = "0.001";
  return {btc, eth};
}

constexpr int64_t kTick = 1'000'000;
constexpr int64_t kLot = 100'000;

Event Level(Side side, int64_t price_ticks, int64_t lots, protocol::Seq seq) {
  Event e;
  e.type = EventType::kLevelChanged;
  e.symbol = 0;
  e.side = side;
  e.price = price_ticks;
  e.qty = lots;
  e.seq = seq;
  return e;
}

// Trade `trade_id` (the engine numbers each symbol's trades 1, 2, ...) at
// `price` (whole USDT) of `lots`, taker order `taker`, at `ms`.
Event TradeAt(uint64_t trade_id, int64_t price, int64_t lots, Side maker_side, int64_t ms,
              protocol::Seq seq, protocol::OrderId taker = 100) {
  Event e;
  e.type = EventType::kTrade;
  e.trade_id = trade_id;
  e.symbol = 0;
  e.side = maker_side;
  e.price = price * 100;  // ticks of 0.01
  e.qty = lots;
  e.ts = ms * 1'000'000;
  e.seq = seq;
  e.order_id = taker;
  e.maker_id = 1;
  return e;
}

TEST(MarketDataTest, FindsSymbolsById) {
  MarketData md(Configs());
  EXPECT_EQ(md.num_symbols(), 2u);
  EXPECT_EQ(md.Find("ETHBTC"), 1u);
  EXPECT_EQ(md.Find("DOGE"), std::nullopt);
  EXPECT_EQ(md.name(0), "BTCUSDT");
}

TEST(MarketDataTest, BookFromLevelEvents) {
  MarketData md(Configs());
  md.OnEvent(Level(Side::kBuy, 4'000'000, 100, 1));  // 40000.00 x 0.1
  md.OnEvent(Level(Side::kBuy, 3'999'000, 200, 2));
  md.OnEvent(Level(Side::kSell, 4'001'000, 50, 3));
  md.OnEvent(Level(Side::kSell, 4'002'000, 70, 4));
  md.OnEvent(Level(Side::kSell, 4'002'000, 0, 5));  // gone
  md.OnEvent(Level(Side::kBuy, 4'000'000, 300, 6));  // new total
  Event other = Level(Side::kBuy, 1, 1, 99);
  other.symbol = 7;  // unknown symbol: ignored
  md.OnEvent(other);

  MarketData::Depth d = md.GetDepth(0, 100);
  EXPECT_EQ(d.last_update_id, 6u);
  ASSERT_EQ(d.bids.size(), 2u);
  EXPECT_EQ(d.bids[0].price, 40000 * U);
  EXPECT_EQ(d.bids[0].qty, 300 * kLot);
  EXPECT_EQ(d.bids[1].price, 39990 * U);
  ASSERT_EQ(d.asks.size(), 1u);
  EXPECT_EQ(d.asks[0].price, 40010 * U);
  EXPECT_EQ(d.asks[0].qty, 50 * kLot);
  EXPECT_EQ(md.GetDepth(0, 1).bids.size(), 1u);
  EXPECT_EQ(md.GetDepth(1, 100).last_update_id, 0u);

  MarketData::BookTicker b = md.GetBookTicker(0);
  EXPECT_EQ(b.bid.price, 40000 * U);
  EXPECT_EQ(b.ask.qty, 50 * kLot);
}

TEST(MarketDataTest, ResetBookReplacesTheBookAndItsUpdateId) {
  MarketData md(Configs());
  md.OnEvent(Level(Side::kBuy, 4'000'000, 100, 1));
  md.ResetBook(0, {{3'000'000, 5}, {3'100'000, 6}, {2'000'000, 0}}, {{3'200'000, 7}}, 42);
  MarketData::Depth d = md.GetDepth(0, 10);
  EXPECT_EQ(d.last_update_id, 42u);
  ASSERT_EQ(d.bids.size(), 2u);
  EXPECT_EQ(d.bids[0].price, 31000 * U);  // sorted best first whatever the input order
  EXPECT_EQ(d.bids[1].price, 30000 * U);
  ASSERT_EQ(d.asks.size(), 1u);
  EXPECT_EQ(d.asks[0].qty, 7 * kLot);
  // Later events apply on top.
  md.OnEvent(Level(Side::kSell, 3'200'000, 0, 43));
  EXPECT_TRUE(md.GetDepth(0, 10).asks.empty());
  EXPECT_EQ(md.GetDepth(0, 10).last_update_id, 43u);
}

// One engine command can change several levels under one seq (a buy that
// sweeps two asks). Fed one event at a time, a reader between the two events
// sees lastUpdateId 3 with half of command 3, and a Binance client synced on
// that snapshot drops the diff event (u = 3) that carries the rest: its book
// stays wrong with no gap to see. OnEvents applies a command as one group.
TEST(MarketDataTest, OnEventsAppliesACommandAsOneGroup) {
  const Event sweep[] = {TradeAt(1, 40010, 50, Side::kSell, kT0, 3, 100),
                         TradeAt(2, 40020, 20, Side::kSell, kT0, 3, 100),
                         Level(Side::kSell, 4'001'000, 0, 3), Level(Side::kSell, 4'002'000, 50, 3)};
  {
    // The per-event path: a reader in the middle of command 3.
    MarketData md(Configs());
    md.OnEvent(Level(Side::kSell, 4'001'000, 50, 1));
    md.OnEvent(Level(Side::kSell, 4'002'000, 70, 2));
    for (int i = 0; i < 3; ++i) md.OnEvent(sweep[i]);
    const MarketData::Depth torn = md.GetDepth(0, 10);
    EXPECT_EQ(torn.last_update_id, 3u);
    ASSERT_EQ(torn.asks.size(), 1u);
    EXPECT_EQ(torn.asks[0].qty, 70 * kLot);  // command 3's second change is missing
  }
  MarketData md(Configs());
  md.OnEvents({});  // nothing
  const Event before[] = {Level(Side::kSell, 4'001'000, 50, 1)};
  md.OnEvents(before);
  md.OnEvent(Level(Side::kSell, 4'002'000, 70, 2));  // a one-event group
  md.OnEvents(sweep);
  const MarketData::Depth d = md.GetDepth(0, 10);
  EXPECT_EQ(d.last_update_id, 3u);
  ASSERT_EQ(d.asks.size(), 1u);
  EXPECT_EQ(d.asks[0].price, 40020 * U);
  EXPECT_EQ(d.asks[0].qty, 50 * kLot);
  // The group's trades are recorded as if fed one by one.
  const auto trades = md.RecentTrades(0, 10);
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].id, 1u);
  EXPECT_EQ(trades[0].price, 40010 * U);
  EXPECT_EQ(trades[1].id, 2u);
  EXPECT_EQ(trades[1].qty, 20 * kLot);
  const auto aggs = md.AggTrades(0, std::nullopt, std::nullopt, std::nullopt, 10);
  ASSERT_EQ(aggs.size(), 2u);  // two prices
  EXPECT_EQ(aggs[1].first_trade_id, 2u);
  EXPECT_EQ(md.LastPrice(0), 40020 * U);
}

// A reader racing the writer never sees a command half applied: command S
// sets the bid at 100 and the ask at 200 both to S lots, in one group. (A
// stress check of OnEvents; the window a per-event writer leaves is a few
// ns, so this rarely catches one: the deterministic case is above.)
TEST(MarketDataTest, ReadersNeverSeeHalfACommand) {
  MarketData md(Configs());
  constexpr protocol::Seq kCommands = 20'000;
  std::atomic<bool> reading{false}, done{false};
  std::thread writer([&] {
    while (!reading.load()) std::this_thread::yield();
    for (protocol::Seq s = 1; s <= kCommands; ++s) {
      const auto lots = static_cast<int64_t>(s);
      const Event group[] = {Level(Side::kBuy, 100, lots, s), Level(Side::kSell, 200, lots, s)};
      md.OnEvents(group);
    }
    done.store(true);
  });
  uint64_t reads = 0, torn = 0;
  reading.store(true);
  while (!done.load()) {
    const MarketData::Depth d = md.GetDepth(0, 5);
    ++reads;
    if (d.last_update_id == 0) continue;
    const auto want = static_cast<int64_t>(d.last_update_id) * kLot;
    if (d.bids.size() != 1 || d.asks.size() != 1 || d.bids[0].qty != want ||
        d.asks[0].qty != want) {
      ++torn;
    }
  }
  writer.join();
  EXPECT_EQ(torn, 0u) << "of " << reads << " reads";
  EXPECT_EQ(md.GetDepth(0, 5).last_update_id, kCommands);
}

TEST(MarketDataTest, TradesGetIdsAndAreBounded) {
  MarketData md(Configs(), MarketData::Options{.max_trades = 3, .max_klines = 10});
  md.OnEvent(TradeAt(1, 40000, 100, Side::kSell, kT0, 1));  // maker sold: buyer took
  md.OnEvent(TradeAt(2, 40001, 200, Side::kBuy, kT0 + 1, 2));
  auto t = md.RecentTrades(0, 10);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].id, 1u);
  EXPECT_EQ(t[0].price, 40000 * U);
  EXPECT_EQ(t[0].qty, 100 * kLot);
  EXPECT_EQ(t[0].quote_qty, 4000 * U);  // 40000 * 0.1
  EXPECT_EQ(t[0].time_ms, kT0);
  EXPECT_FALSE(t[0].is_buyer_maker);
  EXPECT_TRUE(t[1].is_buyer_maker);
  for (int i = 0; i < 5; ++i) md.OnEvent(TradeAt(3 + i, 40000, 1, Side::kSell, kT0 + 2, 3 + i));
  t = md.RecentTrades(0, 10);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.front().id, 5u);
  EXPECT_EQ(t.back().id, 7u);
  t = md.RecentTrades(0, 1);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].id, 7u);
}

// Trades carry the engine's id (Event::trade_id), the one the traders' own
// reports show; aggregate trades and klines cover those ids. An exchange
// restarted from a snapshot goes on from the symbol's last id, not from 1.
TEST(MarketDataTest, TradesKeepTheEnginesTradeIds) {
  MarketData md(Configs());
  const Event group[] = {TradeAt(41, 40000, 10, Side::kSell, kT0, 9, 100),
                         TradeAt(42, 40000, 20, Side::kSell, kT0, 9, 100)};
  const Event c = TradeAt(43, 40001, 5, Side::kSell, kT0 + 1, 10, 101);
  md.OnEvents(group);
  md.OnEvent(c);
  const auto t = md.RecentTrades(0, 10);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].id, 41u);
  EXPECT_EQ(t[1].id, 42u);
  EXPECT_EQ(t[2].id, 43u);
  const auto aggs = md.AggTrades(0, std::nullopt, std::nullopt, std::nullopt, 10);
  ASSERT_EQ(aggs.size(), 2u);
  EXPECT_EQ(aggs[0].first_trade_id, 41u);
  EXPECT_EQ(aggs[0].last_trade_id, 42u);
  EXPECT_EQ(aggs[1].first_trade_id, 43u);
  EXPECT_EQ(aggs[1].last_trade_id, 43u);
}

TEST(MarketDataTest, AggTradesMergeOneTakerAtOnePrice) {
  MarketData md(Configs());
  // Taker 100 sweeps two makers at 40000 then one at 40001 (one command).
  md.OnEvent(TradeAt(1, 40000, 10, Side::kSell, kT0, 5, 100));
  md.OnEvent(TradeAt(2, 40000, 20, Side::kSell, kT0, 5, 100));
  md.OnEvent(TradeAt(3, 40001, 30, Side::kSell, kT0, 5, 100));
  // Another taker at the same price: a new aggregate.
  md.OnEvent(TradeAt(4, 40001, 5, Side::kSell, kT0 + 10, 6, 101));
  // The same taker id in a later command (never merged across commands).
  md.OnEvent(TradeAt(5, 40001, 5, Side::kSell, kT0 + 20, 7, 101));

  auto a = md.AggTrades(0, std::nullopt, std::nullopt, std::nullopt, 500);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].id, 1u);
  EXPECT_EQ(a[0].price, 40000 * U);
  EXPECT_EQ(a[0].qty, 30 * kLot);
  EXPECT_EQ(a[0].first_trade_id, 1u);
  EXPECT_EQ(a[0].last_trade_id, 2u);
  EXPECT_FALSE(a[0].is_buyer_maker);
  EXPECT_EQ(a[1].first_trade_id, 3u);
  EXPECT_EQ(a[1].last_trade_id, 3u);
  EXPECT_EQ(a[2].first_trade_id, 4u);
  EXPECT_EQ(a[3].first_trade_id, 5u);

  // fromId, startTime/endTime and limit.
  a = md.AggTrades(0, 2, std::nullopt, std::nullopt, 2);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].id, 2u);
  EXPECT_EQ(a[1].id, 3u);
  a = md.AggTrades(0, std::nullopt, kT0 + 5, kT0 + 15, 500);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].id, 3u);
  a = md.AggTrades(0, std::nullopt, std::nullopt, kT0 + 10, 1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].id, 3u);
  a = md.AggTrades(0, std::nullopt, std::nullopt, std::nullopt, 1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].id, 4u);
}

TEST(MarketDataTest, KlineIntervalsAndCalendarAlignment) {
  EXPECT_EQ(ParseKlineInterval("1M"), KlineInterval::k1M);
  EXPECT_EQ(ParseKlineInterval("1m"), KlineInterval::k1m);
  EXPECT_EQ(ParseKlineInterval("2m"), std::nullopt);
  EXPECT_EQ(ParseKlineInterval("1H"), std::nullopt);
  EXPECT_EQ(KlineOpenTime(KlineInterval::k1m, kT0 + 59'999), kT0 - 20'000 + 60'000);
  EXPECT_EQ(KlineOpenTime(KlineInterval::k1h, kT0), 1'699'999'200'000);  // 22:00
  // 1w: Monday 2023-11-13 00:00 UTC.
  EXPECT_EQ(KlineOpenTime(KlineInterval::k1w, kT0), 1'699'833'600'000);
  // 1M: 2023-11-01 00:00 UTC; next 2023-12-01; December rolls into January.
  EXPECT_EQ(KlineOpenTime(KlineInterval::k1M, kT0), 1'698'796'800'000);
  EXPECT_EQ(KlineNextOpenTime(KlineInterval::k1M, 1'698'796'800'000), 1'701'388'800'000);
  EXPECT_EQ(KlineNextOpenTime(KlineInterval::k1M, 1'701'388'800'000), 1'704'067'200'000);
  EXPECT_EQ(KlineOpenTime(KlineInterval::k1d, kT0), 1'699'920'000'000);
}

TEST(MarketDataTest, KlinesRollOverAndFillGaps) {
  MarketData md(Configs());
  const int64_t m0 = KlineOpenTime(KlineInterval::k1m, kT0);
  md.OnEvent(TradeAt(1, 100, 1000, Side::kSell, m0 + 1'000, 1));  // taker buys 1 BTC at 100
  md.OnEvent(TradeAt(2, 110, 1000, Side::kBuy, m0 + 2'000, 2));   // taker sells at 110
  md.OnEvent(TradeAt(3, 90, 2000, Side::kSell, m0 + 59'999, 3));
  // Nothing in minute 1; minute 2 trades at 95.
  md.OnEvent(TradeAt(4, 95, 1000, Side::kSell, m0 + 120'000, 4));

  auto k = md.Klines(0, KlineInterval::k1m, std::nullopt, std::nullopt, 500, m0 + 180'500);
  ASSERT_EQ(k.size(), 4u);  // minutes 0..3, minute 3 is the current, empty one
  EXPECT_EQ(k[0].open_time, m0);
  EXPECT_EQ(k[0].close_time, m0 + 59'999);
  EXPECT_EQ(k[0].open, 100 * U);
  EXPECT_EQ(k[0].high, 110 * U);
  EXPECT_EQ(k[0].low, 90 * U);
  EXPECT_EQ(k[0].close, 90 * U);
  EXPECT_EQ(k[0].volume, 4 * U);
  EXPECT_EQ(k[0].quote_volume, 390 * U);
  EXPECT_EQ(k[0].count, 3);
  EXPECT_EQ(k[0].taker_buy_volume, 3 * U);
  EXPECT_EQ(k[0].taker_buy_quote_volume, 280 * U);
  EXPECT_EQ(k[1].open_time, m0 + 60'000);  // the gap: flat at the previous close
  EXPECT_EQ(k[1].open, 90 * U);
  EXPECT_EQ(k[1].close, 90 * U);
  EXPECT_EQ(k[1].volume, 0);
  EXPECT_EQ(k[2].open, 95 * U);
  EXPECT_EQ(k[2].count, 1);
  EXPECT_EQ(k[3].open_time, m0 + 180'000);
  EXPECT_EQ(k[3].close, 95 * U);
  EXPECT_EQ(k[3].count, 0);

  // limit keeps the most recent; startTime the earliest from it; endTime cuts.
  k = md.Klines(0, KlineInterval::k1m, std::nullopt, std::nullopt, 2, m0 + 180'500);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].open_time, m0 + 120'000);
  k = md.Klines(0, KlineInterval::k1m, m0 + 1, std::nullopt, 2, m0 + 180'500);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].open_time, m0 + 60'000);
  k = md.Klines(0, KlineInterval::k1m, std::nullopt, m0 + 60'000, 500, m0 + 180'500);
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[1].open_time, m0 + 60'000);

  // The hour kline holds all four trades; the month one too.
  k = md.Klines(0, KlineInterval::k1h, std::nullopt, std::nullopt, 500, m0 + 180'500);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].count, 4);
  EXPECT_EQ(k[0].close, 95 * U);
  k = md.Klines(0, KlineInterval::k1M, std::nullopt, std::nullopt, 500, m0 + 180'500);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].open_time, 1'698'796'800'000);
  EXPECT_EQ(k[0].close_time, 1'701'388'800'000 - 1);
  // No trades at all: no klines.
  EXPECT_TRUE(md.Klines(1, KlineInterval::k1m, std::nullopt, std::nullopt, 5, m0).empty());
}

TEST(MarketDataTest, KlineHistoryIsBounded) {
  MarketData md(Configs(), MarketData::Options{.max_trades = 10, .max_klines = 3});
  for (int i = 0; i < 10; ++i) {
    md.OnEvent(TradeAt(i + 1, 100 + i, 1, Side::kSell, kT0 + i * 1000, i + 1));
  }
  auto k = md.Klines(0, KlineInterval::k1s, std::nullopt, std::nullopt, 500, kT0 + 9'000);
  ASSERT_EQ(k.size(), 3u);
  EXPECT_EQ(k[0].open, 107 * U);
}

TEST(MarketDataTest, RollingTwentyFourHourTicker) {
  MarketData md(Configs());
  const int64_t day = 86'400'000;
  md.OnEvent(TradeAt(1, 50, 1000, Side::kSell, kT0 - day - 120'000, 1));  // before the window
  md.OnEvent(TradeAt(2, 100, 1000, Side::kSell, kT0 - day + 60'000, 2));
  md.OnEvent(TradeAt(3, 120, 1000, Side::kBuy, kT0 - 3'600'000, 3));
  md.OnEvent(TradeAt(4, 80, 2000, Side::kSell, kT0 - 1'000, 4));
  md.OnEvent(Level(Side::kBuy, 7900, 10, 5));

  MarketData::Ticker t = md.Get24hTicker(0, kT0);
  EXPECT_EQ(t.open_time, kT0 - day);
  EXPECT_EQ(t.close_time, kT0);
  EXPECT_EQ(t.open, 100 * U);
  EXPECT_EQ(t.high, 120 * U);
  EXPECT_EQ(t.low, 80 * U);
  EXPECT_EQ(t.last, 80 * U);
  EXPECT_EQ(t.last_qty, 2 * U);
  EXPECT_EQ(t.prev_close, 50 * U);
  EXPECT_EQ(t.volume, 4 * U);
  EXPECT_EQ(t.quote_volume, 380 * U);
  EXPECT_EQ(t.weighted_avg, 95 * U);
  EXPECT_EQ(t.price_change, -20 * U);
  EXPECT_EQ(t.price_change_percent_milli, -20'000);  // -20.000%
  EXPECT_EQ(t.first_id, 2);
  EXPECT_EQ(t.last_id, 4);
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.book.bid.price, 79 * U);

  // A day later only the last trade's minute... and then nothing.
  t = md.Get24hTicker(0, kT0 + day - 60'000);
  EXPECT_EQ(t.count, 1);
  EXPECT_EQ(t.open, 80 * U);
  t = md.Get24hTicker(0, kT0 + day + 60'000);
  EXPECT_EQ(t.count, 0);
  EXPECT_EQ(t.first_id, -1);
  EXPECT_EQ(t.last_id, -1);
  EXPECT_EQ(t.open, 80 * U);  // the last price
  EXPECT_EQ(t.volume, 0);
  EXPECT_EQ(md.LastPrice(0), 80 * U);
  EXPECT_EQ(md.Get24hTicker(1, kT0).last, 0);
}

TEST(MarketDataTest, FiveMinuteAveragePrice) {
  MarketData md(Configs());
  EXPECT_EQ(md.GetAvgPrice(0, kT0).price, 0);
  md.OnEvent(TradeAt(1, 200, 1000, Side::kSell, kT0 - 600'000, 1));  // 10 min ago: outside
  md.OnEvent(TradeAt(2, 100, 1000, Side::kSell, kT0 - 120'000, 2));
  md.OnEvent(TradeAt(3, 130, 2000, Side::kSell, kT0 - 60'000, 3));
  MarketData::AvgPrice a = md.GetAvgPrice(0, kT0);
  EXPECT_EQ(a.price, 120 * U);  // (100 + 260) / 3
  EXPECT_EQ(a.close_time, kT0 - 60'000);
  // No trade in the last five minutes: the last price.
  a = md.GetAvgPrice(0, kT0 + 600'000);
  EXPECT_EQ(a.price, 130 * U);
}

}  // namespace
}  // namespace xc::gateway
