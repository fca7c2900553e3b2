#pragma once
// MarketData: the gateway's view of the public market, built from engine
// events, for the Binance market-data endpoints (depth, trades, aggTrades,
// klines, ticker/24hr, ticker/price, ticker/bookTicker, avgPrice).
//
// Per symbol it keeps:
//   - the L2 book (price -> total visible quantity per side) and its
//     lastUpdateId: the engine sequence of the last event that changed it;
//   - the last `max_trades` trades, with the engine's per-symbol trade id
//     (Event::trade_id: 1, 2, ... in match order, kept across restarts,
//     the id both traders' executionReports and myTrades show);
//     isBuyerMaker = the maker side is BUY;
//   - the last `max_trades` aggregate trades: consecutive trades of one
//     taker order at one price (one engine command) merge into one;
//   - for each Binance kline interval (1s ... 1M), the last `max_klines`
//     klines that saw a trade (gaps are filled at query time with flat
//     klines at the previous close, as Binance shows them), and at least
//     1441 one-minute klines, which the rolling 24h ticker and the 5-minute
//     average price are computed from.
// Amounts out are order-service Amounts (1e-8 units): price = ticks *
// tickSize, quantity = lots * stepSize, quote = price * qty / 1e8
// (truncated per trade). Volumes are summed in int64, so one symbol's
// retained volume must stay below 9.2e10 whole units of an asset.
//
// Windows: the 24h ticker counts the one-minute klines whose open time is
// in (now - 24h, now], so its window is between 24h - 60s and 24h long
// (Binance's rolling window has the same minute granularity). avgPrice is
// the volume-weighted price of the one-minute klines in (now - 5min, now],
// or the last price when there was no trade in that window.
//
// Threads: exactly one writer thread calls OnEvents/OnEvent/ResetBook (the
// thread that receives the engine's events); any number of reader threads
// (the gateway's I/O threads) call the queries concurrently. Each symbol has
// its own mutex, held by the writer for one engine command's group of
// events (OnEvents) and by a reader while it copies the answer out, so
// readers of different symbols never contend and a reader never sees half a
// command: lastUpdateId S comes with all of command S's level changes (what
// Binance's diff-depth sync recipe relies on). The symbol table is immutable.
//
// Memory (bounded, grows only as trading happens): per symbol the book's
// levels, max_trades trades and aggregate trades (~48 and ~64 bytes each),
// and up to 16 * max_klines klines (~96 bytes each); with the defaults
// (10000, 1000) at most ~2.7 MB for a symbol that trades every second.
//
// Cost: an event is O(log levels) for the book and O(16) for the klines,
// allocating only when a deque grows a block (or the book a level); a group
// takes its symbol's mutex once; queries copy at most `limit`
// rows (the 24h ticker reads up to 1441 one-minute klines).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xc/order_service/messages.h"
#include "xc/protocol/event.h"
#include "xc/protocol/types.h"

namespace xc::gateway {

// Binance's kline intervals.
enum class KlineInterval : uint8_t {
  k1s,
  k1m,
  k3m,
  k5m,
  k15m,
  k30m,
  k1h,
  k2h,
  k4h,
  k6h,
  k8h,
  k12h,
  k1d,
  k3d,
  k1w,
  k1M
};
inline constexpr size_t kNumKlineIntervals = 16;
// "1s" ... "1M" (case-sensitive, as Binance); nullopt otherwise (-1120).
std::optional<KlineInterval> ParseKlineInterval(std::string_view s);
// The UTC open time (ms) of the interval that contains `ms`: fixed
// intervals from the epoch, 1w from Monday 00:00, 1M from the 1st 00:00.
int64_t KlineOpenTime(KlineInterval iv, int64_t ms);
// The open time of the next interval after the one opening at `open_ms`.
int64_t KlineNextOpenTime(KlineInterval iv, int64_t open_ms);

class MarketData {
 public:
  struct Options {
    size_t max_trades = 10000;  // trades and aggregate trades kept per symbol
    size_t max_klines = 1000;   // klines kept per symbol and interval (1m: >= 1441)
  };

  // REQUIRES: each config's tick_size and step_size parse as decimals (the
  // order service accepted them). Symbol id i is configs[i].
  explicit MarketData(std::vector<order_service::SymbolConfig> configs);
  MarketData(std::vector<order_service::SymbolConfig> configs, Options options);
  ~MarketData();
  MarketData(const MarketData&) = delete;
  MarketData& operator=(const MarketData&) = delete;

  // ---- Writer (one thread) ----

  // Applies one engine command's events (its group: all with one seq, in the
  // engine's order) under one acquisition of the symbol's mutex, so readers
  // see the book before or after the whole command, never in between.
  // Per event: kLevelChanged sets the level (qty 0 removes it) and makes
  // e.seq the lastUpdateId; kTrade (price = maker price, qty = lots, side =
  // maker side, ts = ns) appends a trade and updates the aggregate trades
  // and klines. Other types, and events of unknown symbols, are ignored.
  // A command touches one book, hence one symbol (engine::Shard::Apply); a
  // span that mixes symbols is applied one run of equal symbols at a time,
  // each run atomic. Empty: nothing.
  void OnEvents(std::span<const protocol::Event> group);
  // OnEvents of one event. Feeding a command's events one by one lets a
  // reader see lastUpdateId S with part of command S; the exchange's pump
  // uses OnEvents (tests and single-event commands use this).
  void OnEvent(const protocol::Event& e) { OnEvents({&e, 1}); }
  // Replaces the book of `symbol` (after a restart: from the engine's
  // snapshot) with these levels (ticks, lots; any order, qty > 0), whose
  // lastUpdateId is `seq`. Trades and statistics are kept. Unknown symbol:
  // ignored.
  // `last_trade` (ticks, 0: none) is the engine's last trade price: LastPrice
  // reports it until the next trade.
  void ResetBook(protocol::SymbolId symbol,
                 std::vector<std::pair<protocol::Price, protocol::Qty>> bids,
                 std::vector<std::pair<protocol::Price, protocol::Qty>> asks, protocol::Seq seq,
                 protocol::Price last_trade = 0);

  // ---- Readers (any thread) ----

  size_t num_symbols() const { return symbols_.size(); }
  // The id of `name`, or nullopt when it is not configured.
  std::optional<protocol::SymbolId> Find(std::string_view name) const;
  // REQUIRES for the queries below: symbol < num_symbols().
  const std::string& name(protocol::SymbolId symbol) const;
  // The Amount (1e-8 units) of one tick and of one lot (immutable).
  int64_t tick_units(protocol::SymbolId symbol) const;
  int64_t step_units(protocol::SymbolId symbol) const;

  struct Level {
    int64_t price = 0;  // Amount
    int64_t qty = 0;    // Amount
  };
  struct Depth {
    protocol::Seq last_update_id = 0;
    std::vector<Level> bids;  // best (highest) first
    std::vector<Level> asks;  // best (lowest) first
  };
  // The best `limit` levels of each side.
  Depth GetDepth(protocol::SymbolId symbol, size_t limit) const;

  struct BookTicker {
    Level bid;  // zeros when the side is empty
    Level ask;
  };
  BookTicker GetBookTicker(protocol::SymbolId symbol) const;

  // Best bid, best ask and last trade price in ticks (0: none), for the order
  // service's reference prices (MarketView).
  struct TopTicks {
    protocol::Price bid = 0, ask = 0, last = 0;
  };
  TopTicks GetTopTicks(protocol::SymbolId symbol) const;

  struct Trade {
    uint64_t id = 0;
    int64_t price = 0, qty = 0, quote_qty = 0;  // Amounts
    int64_t time_ms = 0;
    bool is_buyer_maker = false;
  };
  // The most recent `limit` trades, oldest first.
  std::vector<Trade> RecentTrades(protocol::SymbolId symbol, size_t limit) const;

  struct AggTrade {
    uint64_t id = 0;
    int64_t price = 0, qty = 0;  // Amounts
    uint64_t first_trade_id = 0, last_trade_id = 0;
    int64_t time_ms = 0;
    bool is_buyer_maker = false;
  };
  // Oldest first. With from_id: the first `limit` from that id; with
  // start_ms (and maybe end_ms): the first `limit` with time in
  // [start, end]; with only end_ms: the last `limit` at or before it;
  // with none: the most recent `limit`.
  std::vector<AggTrade> AggTrades(protocol::SymbolId symbol, std::optional<uint64_t> from_id,
                                  std::optional<int64_t> start_ms, std::optional<int64_t> end_ms,
                                  size_t limit) const;

  struct Kline {
    int64_t open_time = 0, close_time = 0;  // ms; close = next open - 1
    int64_t open = 0, high = 0, low = 0, close = 0;
    int64_t volume = 0, quote_volume = 0;
    int64_t count = 0;
    int64_t taker_buy_volume = 0, taker_buy_quote_volume = 0;
    uint64_t first_trade_id = 0, last_trade_id = 0;  // 0 when count == 0
  };
  // Consecutive klines, oldest first, with open times from the first
  // retained kline (and >= start_ms) up to the kline containing
  // min(end_ms, now_ms); intervals without trades are flat at the previous
  // close with zero volume. With start_ms: the first `limit` of those;
  // otherwise the last `limit`. Empty before the first trade.
  std::vector<Kline> Klines(protocol::SymbolId symbol, KlineInterval iv,
                            std::optional<int64_t> start_ms, std::optional<int64_t> end_ms,
                            size_t limit, int64_t now_ms) const;

  struct Ticker {
    int64_t open = 0, high = 0, low = 0, last = 0, last_qty = 0, prev_close = 0;
    int64_t volume = 0, quote_volume = 0, weighted_avg = 0;
    int64_t price_change = 0;
    int64_t price_change_percent_milli = 0;  // percent * 1000 ("-0.134" is -134)
    int64_t open_time = 0, close_time = 0;   // ms: now - 24h, now
    int64_t first_id = -1, last_id = -1, count = 0;
    BookTicker book;
  };
  // Rolling 24h statistics at `now_ms` (see the file comment). Without a
  // trade in the window: count 0, ids -1, open/high/low = last price (0 if
  // the symbol never traded), weighted_avg 0.
  Ticker Get24hTicker(protocol::SymbolId symbol, int64_t now_ms) const;

  // Last trade price (0 if never traded).
  int64_t LastPrice(protocol::SymbolId symbol) const;

  struct AvgPrice {
    int64_t price = 0;       // Amount
    int64_t close_time = 0;  // ms of the last trade in the window (of the last trade if none)
  };
  static constexpr int kAvgPriceMins = 5;
  AvgPrice GetAvgPrice(protocol::SymbolId symbol, int64_t now_ms) const;

 private:
  struct SymbolState;
  // One event of a known symbol. REQUIRES: s.mu held by the writer.
  void ApplyLocked(SymbolState& s, const protocol::Event& e);

  std::vector<std::unique_ptr<SymbolState>> symbols_;
  Options options_;
};

}  // namespace xc::gateway
