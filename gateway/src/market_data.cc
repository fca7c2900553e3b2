#include "xc/gateway/market_data.h"

#include <algorithm>

#include "xc/order_service/decimal.h"

namespace xc::gateway {

namespace os = xc::order_service;
using protocol::Price;
using protocol::Qty;

namespace {

constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

constexpr std::string_view kIntervalNames[kNumKlineIntervals] = {
    "1s", "1m", "3m", "5m",  "15m", "30m", "1h", "2h",
    "4h", "6h", "8h", "12h", "1d",  "3d",  "1w", "1M"};
constexpr int64_t kIntervalMs[kNumKlineIntervals] = {
    kSec,      kMin,      3 * kMin,  5 * kMin,   15 * kMin, 30 * kMin, kHour,    2 * kHour,
    4 * kHour, 6 * kHour, 8 * kHour, 12 * kHour, kDay,      3 * kDay,  7 * kDay, 0 /* calendar */};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Howard Hinnant's civil calendar conversions (proleptic Gregorian, UTC).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
void CivilFromDays(int64_t z, int64_t* y, unsigned* m) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t Mul(int64_t price, int64_t qty) {  // Amount * Amount / 1e8
  return static_cast<int64_t>(static_cast<__int128>(price) * qty / os::kUnitsPerWhole);
}

int64_t Units(const std::string& s) {
  auto p = os::ParseDecimal(s, os::kAmountDecimals);
  return p.ok() ? p.units : 0;
}

}  // namespace

std::optional<KlineInterval> ParseKlineInterval(std::string_view s) {
  for (size_t i = 0; i < kNumKlineIntervals; ++i) {
    if (kIntervalNames[i] == s) return static_cast<KlineInterval>(i);
  }
  return std::nullopt;
}

int64_t KlineOpenTime(KlineInterval iv, int64_t ms) {
  if (iv == KlineInterval::k1M) {
    int64_t y;
    unsigned m;
    CivilFromDays(FloorDiv(ms, kDay), &y, &m);
    return DaysFromCivil(y, m, 1) * kDay;
  }
  if (iv == KlineInterval::k1w) {
    constexpr int64_t kMonday = 4 * kDay;  // 1970-01-05 was a Monday
    return FloorDiv(ms - kMonday, 7 * kDay) * 7 * kDay + kMonday;
  }
  const int64_t len = kIntervalMs[static_cast<size_t>(iv)];
  return FloorDiv(ms, len) * len;
}

int64_t KlineNextOpenTime(KlineInterval iv, int64_t open_ms) {
  if (iv == KlineInterval::k1M) {
    int64_t y;
    unsigned m;
    CivilFromDays(FloorDiv(open_ms, kDay), &y, &m);
    if (m == 12) return DaysFromCivil(y + 1, 1, 1) * kDay;
    return DaysFromCivil(y, m + 1, 1) * kDay;
  }
  return open_ms + kIntervalMs[static_cast<size_t>(iv)];
}

struct MarketData::SymbolState {
  std::string name;
  int64_t tick = 0;  // Amount per tick
  int64_t step = 0;  // Amount per lot

  mutable std::mutex mu;
  // Guarded by mu:
  std::map<Price, Qty, std::greater<Price>> bids;
  std::map<Price, Qty> asks;
  protocol::Seq last_update_id = 0;
  std::deque<Trade> trades;
  struct Agg {
    AggTrade t;
    protocol::OrderId taker = 0;
    protocol::Seq seq = 0;
  };
  std::deque<Agg> aggs;
  uint64_t next_agg_id = 1;
  std::deque<Kline> klines[kNumKlineIntervals];
  int64_t last_price = 0, last_qty = 0, last_time = 0;
};

MarketData::MarketData(std::vector<os::SymbolConfig> configs)
    : MarketData(std::move(configs), Options{}) {}

MarketData::MarketData(std::vector<os::SymbolConfig> configs, Options options) : options_(options) {
  for (const auto& c : configs) {
    auto s = std::make_unique<SymbolState>();
    s->name = c.symbol;
    s->tick = Units(c.tick_size);
    s->step = Units(c.step_size);
    symbols_.push_back(std::move(s));
  }
}

MarketData::~MarketData() = default;

std::optional<protocol::SymbolId> MarketData::Find(std::string_view name) const {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i]->name == name) return static_cast<protocol::SymbolId>(i);
  }
  return std::nullopt;
}

const std::string& MarketData::name(protocol::SymbolId symbol) const {
  return symbols_[symbol]->name;
}

int64_t MarketData::tick_units(protocol::SymbolId symbol) const { return symbols_[symbol]->tick; }
int64_t MarketData::step_units(protocol::SymbolId symbol) const { return symbols_[symbol]->step; }

void MarketData::OnEvents(std::span<const protocol::Event> group) {
  size_t i = 0;
  while (i < group.size()) {
    const protocol::SymbolId symbol = group[i].symbol;
    size_t j = i + 1;
    while (j < group.size() && group[j].symbol == symbol) ++j;
    if (symbol < symbols_.size()) {
      SymbolState& s = *symbols_[symbol];
      // Once for the run: the point of a group is that no reader sees its middle.
      std::lock_guard<std::mutex> lock(s.mu);
      for (size_t k = i; k < j; ++k) ApplyLocked(s, group[k]);
    }
    i = j;
  }
}

void MarketData::ApplyLocked(SymbolState& s, const protocol::Event& e) {
  if (e.type == protocol::EventType::kLevelChanged) {
    if (e.side == protocol::Side::kBuy) {
      if (e.qty > 0)
        s.bids[e.price] = e.qty;
      else
        s.bids.erase(e.price);
    } else {
      if (e.qty > 0)
        s.asks[e.price] = e.qty;
      else
        s.asks.erase(e.price);
    }
    s.last_update_id = e.seq;
    return;
  }
  if (e.type != protocol::EventType::kTrade) return;

  const int64_t price = e.price * s.tick;
  const int64_t qty = e.qty * s.step;
  const int64_t quote = Mul(price, qty);
  const int64_t ms = e.ts / 1'000'000;
  const bool buyer_maker = e.side == protocol::Side::kBuy;

  // The engine's id (Event::trade_id), the one both sides' executionReports
  // and myTrades show; ids are the symbol's, with no gaps.
  Trade t{e.trade_id, price, qty, quote, ms, buyer_maker};
  s.trades.push_back(t);
  if (s.trades.size() > options_.max_trades) s.trades.pop_front();

  // Binance merges the fills of one taker order at one price; a taker
  // order only takes within its own command, hence the seq check too.
  if (!s.aggs.empty() && s.aggs.back().taker == e.order_id && s.aggs.back().seq == e.seq &&
      s.aggs.back().t.price == price) {
    s.aggs.back().t.qty += qty;
    s.aggs.back().t.last_trade_id = t.id;
  } else {
    s.aggs.push_back(SymbolState::Agg{
        AggTrade{s.next_agg_id++, price, qty, t.id, t.id, ms, buyer_maker}, e.order_id, e.seq});
    if (s.aggs.size() > options_.max_trades) s.aggs.pop_front();
  }

  for (size_t i = 0; i < kNumKlineIntervals; ++i) {
    const auto iv = static_cast<KlineInterval>(i);
    std::deque<Kline>& d = s.klines[i];
    const int64_t open = KlineOpenTime(iv, ms);
    // A trade stamped before the current kline (the clock stepped back)
    // still counts, in the current kline: history is never rewritten.
    if (d.empty() || d.back().open_time < open) {
      Kline k;
      k.open_time = open;
      k.close_time = KlineNextOpenTime(iv, open) - 1;
      k.open = k.high = k.low = price;
      k.first_trade_id = t.id;
      d.push_back(k);
      size_t cap = options_.max_klines;
      if (iv == KlineInterval::k1m) cap = std::max<size_t>(cap, 24 * 60 + 1);
      if (d.size() > cap) d.pop_front();
    }
    Kline& k = d.back();
    k.high = std::max(k.high, price);
    k.low = std::min(k.low, price);
    k.close = price;
    k.volume += qty;
    k.quote_volume += quote;
    ++k.count;
    if (!buyer_maker) {  // the taker bought
      k.taker_buy_volume += qty;
      k.taker_buy_quote_volume += quote;
    }
    k.last_trade_id = t.id;
  }
  s.last_price = price;
  s.last_qty = qty;
  s.last_time = ms;
}

void MarketData::ResetBook(protocol::SymbolId symbol, std::vector<std::pair<Price, Qty>> bids,
                           std::vector<std::pair<Price, Qty>> asks, protocol::Seq seq,
                           Price last_trade) {
  if (symbol >= symbols_.size()) return;
  SymbolState& s = *symbols_[symbol];
  std::lock_guard<std::mutex> lock(s.mu);
  s.bids.clear();
  s.asks.clear();
  for (const auto& [p, q] : bids) {
    if (q > 0) s.bids[p] = q;
  }
  for (const auto& [p, q] : asks) {
    if (q > 0) s.asks[p] = q;
  }
  s.last_update_id = seq;
  if (last_trade != 0) s.last_price = last_trade * s.tick;
}

MarketData::Depth MarketData::GetDepth(protocol::SymbolId symbol, size_t limit) const {
  const SymbolState& s = *symbols_[symbol];
  Depth d;
  std::lock_guard<std::mutex> lock(s.mu);
  d.last_update_id = s.last_update_id;
  d.bids.reserve(std::min(limit, s.bids.size()));
  d.asks.reserve(std::min(limit, s.asks.size()));
  for (auto it = s.bids.begin(); it != s.bids.end() && d.bids.size() < limit; ++it) {
    d.bids.push_back(Level{it->first * s.tick, it->second * s.step});
  }
  for (auto it = s.asks.begin(); it != s.asks.end() && d.asks.size() < limit; ++it) {
    d.asks.push_back(Level{it->first * s.tick, it->second * s.step});
  }
  return d;
}

MarketData::BookTicker MarketData::GetBookTicker(protocol::SymbolId symbol) const {
  const SymbolState& s = *symbols_[symbol];
  BookTicker b;
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.bids.empty())
    b.bid = Level{s.bids.begin()->first * s.tick, s.bids.begin()->second * s.step};
  if (!s.asks.empty())
    b.ask = Level{s.asks.begin()->first * s.tick, s.asks.begin()->second * s.step};
  return b;
}

MarketData::TopTicks MarketData::GetTopTicks(protocol::SymbolId symbol) const {
  const SymbolState& s = *symbols_[symbol];
  TopTicks t;
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.bids.empty()) t.bid = s.bids.begin()->first;
  if (!s.asks.empty()) t.ask = s.asks.begin()->first;
  t.last = s.last_price / s.tick;
  return t;
}

std::vector<MarketData::Trade> MarketData::RecentTrades(protocol::SymbolId symbol,
                                                        size_t limit) const {
  const SymbolState& s = *symbols_[symbol];
  std::lock_guard<std::mutex> lock(s.mu);
  const size_t n = std::min(limit, s.trades.size());
  return std::vector<Trade>(s.trades.end() - static_cast<std::ptrdiff_t>(n), s.trades.end());
}

std::vector<MarketData::AggTrade> MarketData::AggTrades(protocol::SymbolId symbol,
                                                        std::optional<uint64_t> from_id,
                                                        std::optional<int64_t> start_ms,
                                                        std::optional<int64_t> end_ms,
                                                        size_t limit) const {
  const SymbolState& s = *symbols_[symbol];
  std::vector<AggTrade> out;
  std::lock_guard<std::mutex> lock(s.mu);
  const auto& a = s.aggs;
  if (from_id || start_ms) {
    auto it = a.begin();
    if (from_id) {
      it = std::lower_bound(a.begin(), a.end(), *from_id,
                            [](const SymbolState::Agg& x, uint64_t id) { return x.t.id < id; });
    } else {
      it = std::find_if(a.begin(), a.end(),
                        [&](const SymbolState::Agg& x) { return x.t.time_ms >= *start_ms; });
    }
    for (; it != a.end() && out.size() < limit; ++it) {
      if (end_ms && it->t.time_ms > *end_ms) break;
      out.push_back(it->t);
    }
    return out;
  }
  auto end = a.end();
  if (end_ms) {
    while (end != a.begin() && std::prev(end)->t.time_ms > *end_ms) --end;
  }
  const size_t n = std::min<size_t>(limit, static_cast<size_t>(end - a.begin()));
  for (auto it = end - static_cast<std::ptrdiff_t>(n); it != end; ++it) out.push_back(it->t);
  return out;
}

std::vector<MarketData::Kline> MarketData::Klines(protocol::SymbolId symbol, KlineInterval iv,
                                                  std::optional<int64_t> start_ms,
                                                  std::optional<int64_t> end_ms, size_t limit,
                                                  int64_t now_ms) const {
  const SymbolState& s = *symbols_[symbol];
  std::vector<Kline> out;
  if (limit == 0) return out;
  std::lock_guard<std::mutex> lock(s.mu);
  const std::deque<Kline>& d = s.klines[static_cast<size_t>(iv)];
  if (d.empty()) return out;
  // The last open time to show: the kline containing min(end, now), but
  // never before the last kline that traded (a clock behind the trades).
  int64_t hi = KlineOpenTime(iv, std::min(end_ms.value_or(now_ms), now_ms));
  if (!end_ms) hi = std::max(hi, d.back().open_time);
  int64_t lo = d.front().open_time;
  if (start_ms) {
    int64_t first = KlineOpenTime(iv, *start_ms);  // first open at or after start
    if (first < *start_ms) first = KlineNextOpenTime(iv, first);
    lo = std::max(lo, first);
  }
  if (lo > hi) return out;
  // Open times to show: the first `limit` from lo, or the last `limit` up
  // to hi. Fixed intervals step by arithmetic; only 1M (at most 1000
  // months here) is stepped through the calendar.
  std::vector<int64_t> opens;
  if (start_ms || iv == KlineInterval::k1M) {
    for (int64_t t = lo; t <= hi; t = KlineNextOpenTime(iv, t)) {
      opens.push_back(t);
      if (start_ms && opens.size() == limit) break;
    }
    if (!start_ms && opens.size() > limit)
      opens.erase(opens.begin(), opens.end() - static_cast<std::ptrdiff_t>(limit));
  } else {
    const int64_t len = kIntervalMs[static_cast<size_t>(iv)];
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(limit), (hi - lo) / len + 1);
    for (int64_t i = n - 1; i >= 0; --i) opens.push_back(hi - i * len);
  }
  // Walk the stored klines alongside; a gap is flat at the previous close.
  auto it = std::lower_bound(d.begin(), d.end(), opens.front(),
                             [](const Kline& k, int64_t t) { return k.open_time < t; });
  int64_t prev_close = it == d.begin() ? 0 : std::prev(it)->close;
  out.reserve(opens.size());
  for (int64_t t : opens) {
    while (it != d.end() && it->open_time < t) prev_close = (it++)->close;
    if (it != d.end() && it->open_time == t) {
      out.push_back(*it);
      prev_close = it->close;
      ++it;
    } else {
      Kline k;
      k.open_time = t;
      k.close_time = KlineNextOpenTime(iv, t) - 1;
      k.open = k.high = k.low = k.close = prev_close;
      out.push_back(k);
    }
  }
  return out;
}

MarketData::Ticker MarketData::Get24hTicker(protocol::SymbolId symbol, int64_t now_ms) const {
  const SymbolState& s = *symbols_[symbol];
  Ticker t;
  t.open_time = now_ms - kDay;
  t.close_time = now_ms;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const std::deque<Kline>& d = s.klines[static_cast<size_t>(KlineInterval::k1m)];
    auto it = std::upper_bound(d.begin(), d.end(), now_ms - kDay,
                               [](int64_t x, const Kline& k) { return x < k.open_time; });
    t.prev_close = it == d.begin() ? 0 : std::prev(it)->close;
    for (; it != d.end() && it->open_time <= now_ms; ++it) {
      if (t.count == 0) {
        t.open = it->open;
        t.high = it->high;
        t.low = it->low;
        t.first_id = static_cast<int64_t>(it->first_trade_id);
      }
      t.high = std::max(t.high, it->high);
      t.low = std::min(t.low, it->low);
      t.volume += it->volume;
      t.quote_volume += it->quote_volume;
      t.count += it->count;
      t.last_id = static_cast<int64_t>(it->last_trade_id);
    }
    t.last = s.last_price;
    t.last_qty = s.last_qty;
    if (!s.bids.empty())
      t.book.bid = Level{s.bids.begin()->first * s.tick, s.bids.begin()->second * s.step};
    if (!s.asks.empty())
      t.book.ask = Level{s.asks.begin()->first * s.tick, s.asks.begin()->second * s.step};
  }
  if (t.count == 0) {
    t.open = t.high = t.low = t.last;
    return t;
  }
  t.price_change = t.last - t.open;
  if (t.open != 0) t.price_change_percent_milli = t.price_change * 100'000 / t.open;
  if (t.volume != 0) {
    t.weighted_avg =
        static_cast<int64_t>(static_cast<__int128>(t.quote_volume) * os::kUnitsPerWhole / t.volume);
  }
  return t;
}

int64_t MarketData::LastPrice(protocol::SymbolId symbol) const {
  const SymbolState& s = *symbols_[symbol];
  std::lock_guard<std::mutex> lock(s.mu);
  return s.last_price;
}

MarketData::AvgPrice MarketData::GetAvgPrice(protocol::SymbolId symbol, int64_t now_ms) const {
  const SymbolState& s = *symbols_[symbol];
  std::lock_guard<std::mutex> lock(s.mu);
  const std::deque<Kline>& d = s.klines[static_cast<size_t>(KlineInterval::k1m)];
  __int128 quote = 0;
  int64_t volume = 0;
  for (auto it = d.rbegin(); it != d.rend() && it->open_time > now_ms - kAvgPriceMins * kMin;
       ++it) {
    if (it->open_time > now_ms) continue;
    quote += it->quote_volume;
    volume += it->volume;
  }
  AvgPrice a;
  a.close_time = s.last_time;
  a.price = volume == 0 ? s.last_price : static_cast<int64_t>(quote * os::kUnitsPerWhole / volume);
  return a;
}

}  // namespace xc::gateway
