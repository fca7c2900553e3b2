#include "xc/gateway/stream_hub.h"

#include <pthread.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <unordered_set>

#include "src/rest_util.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/decimal.h"

namespace xc::gateway {

namespace os = xc::order_service;
using internal::AmtValue;
using internal::AppendInt;
using protocol::Price;
using protocol::Qty;
using protocol::Seq;
using protocol::SymbolId;

namespace {

// Stream kinds; each has a fixed name suffix after "<sym>". The kline
// kinds are kKline + the KlineInterval; kMiniArr is "!miniTicker@arr"
// (no symbol).
enum Kind : uint8_t {
  kTrade,
  kAggTrade,
  kDepth,
  kDepth100,
  kDepth1000,
  kBookTicker,
  kDepth5,  // partial book, 1000 ms: 5, 10, 20 levels
  kDepth10,
  kDepth20,
  kDepth5F,  // partial book, 100 ms
  kDepth10F,
  kDepth20F,
  kMiniTicker,
  kTicker,
  kKline,
  kMiniArr = kKline + kNumKlineIntervals,
  kNumKinds
};
constexpr std::string_view kSuffix[kNumKinds] = {
    "@trade",          "@aggTrade",       "@depth",         "@depth@100ms",   "@depth@1000ms",
    "@bookTicker",     "@depth5",         "@depth10",       "@depth20",       "@depth5@100ms",
    "@depth10@100ms",  "@depth20@100ms",  "@miniTicker",    "@ticker",        "@kline_1s",
    "@kline_1m",       "@kline_3m",       "@kline_5m",      "@kline_15m",     "@kline_30m",
    "@kline_1h",       "@kline_2h",       "@kline_4h",      "@kline_6h",      "@kline_8h",
    "@kline_12h",      "@kline_1d",       "@kline_3d",      "@kline_1w",      "@kline_1M",
    "!miniTicker@arr"};
constexpr size_t kPartialLevels[3] = {5, 10, 20};

// Kline stream state of one symbol and interval.
struct KlineState {
  int64_t open = 0;         // open time of the interval being followed (0: none yet)
  int64_t pushed_open = 0;  // open time of the last kline sent
  uint64_t seen_trades = 0; // SymbolStreams::trades when it was last sent
  int64_t due = 0;          // earliest time of the next x=false update
};

// The ticker fields the 24hrMiniTicker shows, and all of them.
bool SameMini(const MarketData::Ticker& a, const MarketData::Ticker& b) {
  return a.last == b.last && a.open == b.open && a.high == b.high && a.low == b.low &&
         a.volume == b.volume && a.quote_volume == b.quote_volume;
}
bool SameFull(const MarketData::Ticker& a, const MarketData::Ticker& b) {
  return SameMini(a, b) && a.last_qty == b.last_qty && a.prev_close == b.prev_close &&
         a.count == b.count && a.first_id == b.first_id && a.last_id == b.last_id &&
         a.book.bid.price == b.book.bid.price && a.book.bid.qty == b.book.bid.qty &&
         a.book.ask.price == b.book.ask.price && a.book.ask.qty == b.book.ask.qty;
}

using Buffer = std::shared_ptr<const std::string>;

void Key(std::string_view k, std::string* out) {
  out->append(",\"").append(k).append("\":");
}

// Pending level changes of one symbol for one depth speed.
struct DepthAcc {
  std::map<Price, Qty, std::greater<Price>> bids;
  std::map<Price, Qty> asks;
  Seq last = 0;    // seq of the last change collected
  Seq prev_u = 0;  // u of the last event sent (or dropped for want of subscribers)
  int64_t due = 0;
};

}  // namespace

class StreamHub::Session : public WsHandler {
 public:
  Session(StreamHub* hub, std::shared_ptr<WsSession> ws, bool combined)
      : hub_(hub), ws_(std::move(ws)), combined_(combined) {}
  void OnMessage(std::string_view text) override { hub_->HandleMessage(this, text); }
  void OnClose() override { hub_->Remove(this); }

  void Send(Buffer b) { ws_->Send(std::move(b)); }
  void Reply(std::string s) { ws_->Send(std::make_shared<const std::string>(std::move(s))); }

  StreamHub* hub_;
  std::shared_ptr<WsSession> ws_;
  const bool combined_;
  // Guarded by the hub's mutex: subscribed names, in subscription order.
  std::vector<std::string> names;
};

struct StreamHub::SymbolStreams {
  std::string lower;  // "btcusdt"
  std::vector<Session*> subs[kNumKinds];
  DepthAcc fast, slow;
  std::optional<MarketData::AggTrade> agg;  // pending, complete at the next command
  Seq agg_seq = 0;
  MarketData::BookTicker last_bt;
  // Timed streams (Flush). force[k]: somebody subscribed to k since its
  // last send, so the next one goes out even if nothing changed.
  bool force[kNumKinds] = {};
  Seq partial_sent[6] = {};  // lastUpdateId last sent per partial-depth kind
  int64_t partial_due[2] = {0, 0};  // slow, fast
  int64_t ticker_due = 0;
  std::optional<MarketData::Ticker> last_ticker;
  uint64_t trades = 0;  // trade events seen
  KlineState klines[kNumKlineIntervals];
};

struct StreamHub::Impl {
  Impl(const MarketData& m, const WallClock& c) : market(m), clock(c) {}

  // Sends `data` to every subscriber of (sym, kind), wrapped for combined
  // sessions. REQUIRES: mu held.
  void Publish(SymbolStreams& st, Kind kind, const std::string& data) {
    Publish(st.subs[kind], st.lower, kSuffix[kind], data);
  }
  void Publish(const std::vector<Session*>& subs, std::string_view prefix,
               std::string_view suffix, const std::string& data) {
    Buffer raw, wrapped;
    for (Session* s : subs) {
      if (s->combined_) {
        if (!wrapped) {
          auto w = std::make_shared<std::string>();
          w->reserve(data.size() + prefix.size() + 32);
          w->append("{\"stream\":\"").append(prefix).append(suffix);
          w->append("\",\"data\":").append(data).push_back('}');
          wrapped = std::move(w);
        }
        s->Send(wrapped);
      } else {
        if (!raw) raw = std::make_shared<const std::string>(data);
        s->Send(raw);
      }
    }
  }

  void EmitAgg(SymbolId id, SymbolStreams& st) {
    if (!st.agg) return;
    const MarketData::AggTrade& a = *st.agg;
    std::string d = "{\"e\":\"aggTrade\"";
    Key("E", &d);
    AppendInt(a.time_ms, &d);
    d.append(",\"s\":\"").append(market.name(id)).push_back('"');
    Key("a", &d);
    AppendInt(static_cast<int64_t>(a.id), &d);
    Key("p", &d);
    AmtValue(a.price, &d);
    Key("q", &d);
    AmtValue(a.qty, &d);
    Key("f", &d);
    AppendInt(static_cast<int64_t>(a.first_trade_id), &d);
    Key("l", &d);
    AppendInt(static_cast<int64_t>(a.last_trade_id), &d);
    Key("T", &d);
    AppendInt(a.time_ms, &d);
    d.append(a.is_buyer_maker ? ",\"m\":true" : ",\"m\":false").append(",\"M\":true}");
    st.agg.reset();
    Publish(st, kAggTrade, d);
  }

  void FlushDepth(SymbolId id, SymbolStreams& st, DepthAcc& acc, int64_t interval, int64_t now,
                  Kind k1, Kind k2) {
    if (now < acc.due) return;
    acc.due = now + interval;
    if (acc.last <= acc.prev_u) return;
    if (!st.subs[k1].empty() || (k2 != kNumKinds && !st.subs[k2].empty())) {
      std::string d = "{\"e\":\"depthUpdate\"";
      Key("E", &d);
      AppendInt(now, &d);
      d.append(",\"s\":\"").append(market.name(id)).push_back('"');
      Key("U", &d);
      AppendInt(static_cast<int64_t>(acc.prev_u + 1), &d);
      Key("u", &d);
      AppendInt(static_cast<int64_t>(acc.last), &d);
      const int64_t tick = market.tick_units(id), step = market.step_units(id);
      auto levels = [&](const auto& m) {
        d.push_back('[');
        bool first = true;
        for (const auto& [p, q] : m) {
          if (!first) d.push_back(',');
          first = false;
          internal::LevelValue(p * tick, q * step, &d);
        }
        d.push_back(']');
      };
      Key("b", &d);
      levels(acc.bids);
      Key("a", &d);
      levels(acc.asks);
      d.push_back('}');
      Publish(st, k1, d);
      if (k2 != kNumKinds) Publish(st, k2, d);
    }
    acc.prev_u = acc.last;
    acc.bids.clear();
    acc.asks.clear();
  }

  // Partial book streams of one speed (0: 1000 ms, 1: 100 ms).
  // The Flush* below run with `lock` (on mu) held and release it around
  // their MarketData queries, so the pump's OnEvent does not wait for
  // them; the state they keep is Flush's alone, and they look at the
  // subscribers again after each query.
  void FlushPartial(SymbolId id, SymbolStreams& st, int speed, int64_t interval, int64_t now,
                    std::unique_lock<std::mutex>& lock) {
    if (now < st.partial_due[speed]) return;
    const int base = speed ? kDepth5F : kDepth5;
    if (st.subs[base].empty() && st.subs[base + 1].empty() && st.subs[base + 2].empty()) return;
    st.partial_due[speed] = now + interval;
    lock.unlock();
    const MarketData::Depth d = market.GetDepth(id, 20);
    lock.lock();
    for (int i = 0; i < 3; ++i) {
      const auto k = static_cast<Kind>(base + i);
      Seq& sent = st.partial_sent[speed * 3 + i];
      if (st.subs[k].empty() || (!st.force[k] && sent == d.last_update_id)) continue;
      st.force[k] = false;
      sent = d.last_update_id;
      std::string s = "{\"lastUpdateId\":";
      AppendInt(static_cast<int64_t>(d.last_update_id), &s);
      Key("bids", &s);
      internal::AppendLevels(d.bids, kPartialLevels[i], &s);
      Key("asks", &s);
      internal::AppendLevels(d.asks, kPartialLevels[i], &s);
      s.push_back('}');
      Publish(st, k, s);
    }
  }

  // @miniTicker, @ticker (every ticker_ms, when changed); appends the mini
  // payload of a changed symbol to `arr` when the array has subscribers.
  void FlushTicker(SymbolId id, SymbolStreams& st, int64_t interval, int64_t now,
                   std::string* arr, std::unique_lock<std::mutex>& lock) {
    if (now < st.ticker_due) return;
    if (arr_subs.empty() && st.subs[kMiniTicker].empty() && st.subs[kTicker].empty()) return;
    st.ticker_due = now + interval;
    lock.unlock();
    const MarketData::Ticker t = market.Get24hTicker(id, now);
    lock.lock();
    if (t.last == 0) return;  // never traded
    const bool mini_changed = !st.last_ticker || !SameMini(t, *st.last_ticker);
    const bool full_changed = !st.last_ticker || !SameFull(t, *st.last_ticker);
    st.last_ticker = t;
    const std::string& name = market.name(id);
    const bool want_arr = !arr_subs.empty();
    if (mini_changed || (st.force[kMiniTicker] && !st.subs[kMiniTicker].empty())) {
      std::string d = "{\"e\":\"24hrMiniTicker\"";
      Key("E", &d);
      AppendInt(now, &d);
      d.append(",\"s\":\"").append(name).push_back('"');
      Key("c", &d);
      AmtValue(t.last, &d);
      Key("o", &d);
      AmtValue(t.open, &d);
      Key("h", &d);
      AmtValue(t.high, &d);
      Key("l", &d);
      AmtValue(t.low, &d);
      Key("v", &d);
      AmtValue(t.volume, &d);
      Key("q", &d);
      AmtValue(t.quote_volume, &d);
      d.push_back('}');
      if (!st.subs[kMiniTicker].empty()) {
        st.force[kMiniTicker] = false;
        Publish(st, kMiniTicker, d);
      }
      if (want_arr && mini_changed) {
        arr->push_back(arr->empty() ? '[' : ',');
        arr->append(d);
      }
    }
    if (!st.subs[kTicker].empty() && (full_changed || st.force[kTicker])) {
      st.force[kTicker] = false;
      std::string d = "{\"e\":\"24hrTicker\"";
      Key("E", &d);
      AppendInt(now, &d);
      d.append(",\"s\":\"").append(name).push_back('"');
      Key("p", &d);
      AmtValue(t.price_change, &d);
      d.append(",\"P\":\"");
      os::AppendDecimal(t.price_change_percent_milli, 3, &d);
      d.push_back('"');
      Key("w", &d);
      AmtValue(t.weighted_avg, &d);
      Key("x", &d);
      AmtValue(t.prev_close, &d);
      Key("c", &d);
      AmtValue(t.last, &d);
      Key("Q", &d);
      AmtValue(t.last_qty, &d);
      Key("b", &d);
      AmtValue(t.book.bid.price, &d);
      Key("B", &d);
      AmtValue(t.book.bid.qty, &d);
      Key("a", &d);
      AmtValue(t.book.ask.price, &d);
      Key("A", &d);
      AmtValue(t.book.ask.qty, &d);
      Key("o", &d);
      AmtValue(t.open, &d);
      Key("h", &d);
      AmtValue(t.high, &d);
      Key("l", &d);
      AmtValue(t.low, &d);
      Key("v", &d);
      AmtValue(t.volume, &d);
      Key("q", &d);
      AmtValue(t.quote_volume, &d);
      Key("O", &d);
      AppendInt(t.open_time, &d);
      Key("C", &d);
      AppendInt(t.close_time, &d);
      Key("F", &d);
      AppendInt(t.first_id, &d);
      Key("L", &d);
      AppendInt(t.last_id, &d);
      Key("n", &d);
      AppendInt(t.count, &d);
      d.push_back('}');
      Publish(st, kTicker, d);
    }
  }

  void SendKline(SymbolId id, SymbolStreams& st, size_t iv, const MarketData::Kline& k,
                 bool closed, int64_t now) {
    std::string d = "{\"e\":\"kline\"";
    Key("E", &d);
    AppendInt(now, &d);
    const std::string& name = market.name(id);
    d.append(",\"s\":\"").append(name).append("\",\"k\":{\"t\":");
    AppendInt(k.open_time, &d);
    Key("T", &d);
    AppendInt(k.close_time, &d);
    d.append(",\"s\":\"").append(name).push_back('"');
    d.append(",\"i\":\"").append(kSuffix[kKline + iv].substr(7)).push_back('"');
    Key("f", &d);
    AppendInt(k.count ? static_cast<int64_t>(k.first_trade_id) : -1, &d);
    Key("L", &d);
    AppendInt(k.count ? static_cast<int64_t>(k.last_trade_id) : -1, &d);
    Key("o", &d);
    AmtValue(k.open, &d);
    Key("c", &d);
    AmtValue(k.close, &d);
    Key("h", &d);
    AmtValue(k.high, &d);
    Key("l", &d);
    AmtValue(k.low, &d);
    Key("v", &d);
    AmtValue(k.volume, &d);
    Key("n", &d);
    AppendInt(k.count, &d);
    d.append(closed ? ",\"x\":true" : ",\"x\":false");
    Key("q", &d);
    AmtValue(k.quote_volume, &d);
    Key("V", &d);
    AmtValue(k.taker_buy_volume, &d);
    Key("Q", &d);
    AmtValue(k.taker_buy_quote_volume, &d);
    d.append(",\"B\":\"0\"}}");
    Publish(st, static_cast<Kind>(kKline + iv), d);
    st.klines[iv].pushed_open = k.open_time;
  }

  // @kline_<iv>: the closed kline (x=true) once its interval has passed, if
  // it traded or was sent; the current one (x=false) after trades, at most
  // every 1000 ms (1s) or 2000 ms (others).
  void FlushKlines(SymbolId id, SymbolStreams& st, int64_t now,
                   std::unique_lock<std::mutex>& lock) {
    for (size_t iv = 0; iv < kNumKlineIntervals; ++iv) {
      const auto k = static_cast<Kind>(kKline + iv);
      if (st.subs[k].empty()) continue;
      KlineState& ks = st.klines[iv];
      const auto interval = static_cast<KlineInterval>(iv);
      const int64_t open = KlineOpenTime(interval, now);
      auto get = [&](int64_t t) -> std::optional<MarketData::Kline> {
        lock.unlock();
        auto v = market.Klines(id, interval, t, t, 1, now);
        lock.lock();
        if (v.empty() || v[0].open_time != t) return std::nullopt;
        return v[0];
      };
      if (ks.open != 0 && ks.open < open) {
        auto c = get(ks.open);
        if (c && (c->count > 0 || ks.pushed_open == ks.open)) SendKline(id, st, iv, *c, true, now);
        ks.due = 0;  // trades since the last send may be in the new interval
      }
      ks.open = open;
      if ((ks.seen_trades != st.trades && now >= ks.due) || st.force[k]) {
        const uint64_t trades = st.trades;  // before the query: later ones come next time
        auto c = get(open);
        ks.seen_trades = trades;
        if (c && (c->count > 0 || st.force[k])) {
          SendKline(id, st, iv, *c, false, now);
          ks.due = now + (interval == KlineInterval::k1s ? 1000 : 2000);
        }
        st.force[k] = false;
      }
    }
  }

  // The events of one symbol from one OnEvents call. MarketData has applied
  // all of them already, so its trade ids, aggregates and book are read once
  // for the run, at its end. REQUIRES: mu held.
  void OnRun(SymbolId id, std::span<const protocol::Event> run) {
    SymbolStreams& st = symbols[id];
    size_t trades = 0;
    const protocol::Event* last_level = nullptr;
    for (const protocol::Event& e : run) {
      if (st.agg && st.agg_seq != e.seq) EmitAgg(id, st);  // its command has ended
      if (e.type == protocol::EventType::kLevelChanged) {
        for (DepthAcc* acc : {&st.fast, &st.slow}) {
          if (e.side == protocol::Side::kBuy) {
            acc->bids[e.price] = e.qty;
          } else {
            acc->asks[e.price] = e.qty;
          }
          acc->last = e.seq;
        }
        last_level = &e;
      } else if (e.type == protocol::EventType::kTrade) {
        ++trades;
      }
    }
    if (trades > 0) OnTrades(id, st, run, trades);
    if (last_level != nullptr && !st.subs[kBookTicker].empty()) {
      // One update for the run's final top of book: a half-applied command's
      // top is never shown.
      MarketData::BookTicker bt = market.GetBookTicker(id);
      if (bt.bid.price != st.last_bt.bid.price || bt.bid.qty != st.last_bt.bid.qty ||
          bt.ask.price != st.last_bt.ask.price || bt.ask.qty != st.last_bt.ask.qty) {
        st.last_bt = bt;
        std::string d = "{\"u\":";
        AppendInt(static_cast<int64_t>(last_level->seq), &d);
        d.append(",\"s\":\"").append(market.name(id)).push_back('"');
        Key("b", &d);
        AmtValue(bt.bid.price, &d);
        Key("B", &d);
        AmtValue(bt.bid.qty, &d);
        Key("a", &d);
        AmtValue(bt.ask.price, &d);
        Key("A", &d);
        AmtValue(bt.ask.qty, &d);
        d.push_back('}');
        Publish(st, kBookTicker, d);
      }
    }
  }

  // The run's `n` trades are MarketData's last `n` (one writer, and the run
  // is all of this symbol's events in the call). REQUIRES: mu held.
  void OnTrades(SymbolId id, SymbolStreams& st, std::span<const protocol::Event> run, size_t n) {
    st.trades += n;
    if (!st.subs[kTrade].empty()) {
      const std::vector<MarketData::Trade> ts = market.RecentTrades(id, n);
      // Fewer than n only when max_trades is smaller: those are the last ones.
      const size_t skip = n - ts.size();
      size_t k = 0;
      for (const protocol::Event& e : run) {
        if (e.type != protocol::EventType::kTrade || k++ < skip) continue;
        const MarketData::Trade& t = ts[k - 1 - skip];
        std::string d = "{\"e\":\"trade\"";
        Key("E", &d);
        AppendInt(e.ts / 1'000'000, &d);
        d.append(",\"s\":\"").append(market.name(id)).push_back('"');
        Key("t", &d);
        AppendInt(static_cast<int64_t>(t.id), &d);
        Key("p", &d);
        AmtValue(t.price, &d);
        Key("q", &d);
        AmtValue(t.qty, &d);
        Key("T", &d);
        AppendInt(t.time_ms, &d);
        d.append(t.is_buyer_maker ? ",\"m\":true" : ",\"m\":false").append(",\"M\":true}");
        Publish(st, kTrade, d);
      }
    }
    if (!st.subs[kAggTrade].empty()) {
      // The aggregates the run's trades made or extended are among the last
      // n; each but the last is complete (MarketData extends only the
      // newest), the last waits for the next command or Flush.
      const auto as = market.AggTrades(id, std::nullopt, std::nullopt, std::nullopt, n);
      if (as.empty()) return;
      const uint64_t first_trade = as.back().last_trade_id + 1 - n;
      Seq seq = 0;
      for (const protocol::Event& e : run) {
        if (e.type == protocol::EventType::kTrade) seq = e.seq;
      }
      for (const MarketData::AggTrade& a : as) {
        if (a.last_trade_id < first_trade) continue;  // complete before this run
        if (st.agg && st.agg->id != a.id) EmitAgg(id, st);
        st.agg = a;
        st.agg_seq = seq;
      }
    }
  }

  // "btcusdt@depth@100ms" -> (symbol, kind); false when not a known stream.
  bool Parse(std::string_view name, SymbolId* id, Kind* kind) const {
    if (name == kSuffix[kMiniArr]) {
      *id = 0;
      *kind = kMiniArr;
      return true;
    }
    size_t at = name.find('@');
    if (at == std::string_view::npos) return false;
    std::string_view sym = name.substr(0, at), rest = name.substr(at);
    int k = -1;
    for (int i = 0; i < kMiniArr; ++i) {
      if (kSuffix[i] == rest) k = i;
    }
    if (k < 0) return false;
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (symbols[i].lower == sym) {
        *id = static_cast<SymbolId>(i);
        *kind = static_cast<Kind>(k);
        return true;
      }
    }
    return false;
  }

  // REQUIRES: mu held, `name` parses.
  void Subscribe(Session* s, std::string_view name) {
    if (std::find(s->names.begin(), s->names.end(), name) != s->names.end()) return;
    SymbolId id;
    Kind k;
    if (!Parse(name, &id, &k)) return;
    s->names.emplace_back(name);
    if (k == kMiniArr) {
      arr_subs.push_back(s);
    } else {
      symbols[id].subs[k].push_back(s);
      symbols[id].force[k] = true;
      if (k >= kKline && symbols[id].subs[k].size() == 1) {
        symbols[id].klines[k - kKline] = KlineState{};  // forget an old interval
      }
    }
  }
  void Unsubscribe(Session* s, std::string_view name) {
    auto it = std::find(s->names.begin(), s->names.end(), name);
    if (it == s->names.end()) return;
    s->names.erase(it);
    SymbolId id;
    Kind k;
    if (!Parse(name, &id, &k)) return;
    auto& v = k == kMiniArr ? arr_subs : symbols[id].subs[k];
    v.erase(std::remove(v.begin(), v.end(), s), v.end());
  }

  const MarketData& market;
  const WallClock& clock;
  mutable std::mutex mu;
  std::vector<SymbolStreams> symbols;  // the vector itself is immutable
  std::unordered_set<Session*> sessions;
  std::vector<Session*> arr_subs;  // !miniTicker@arr
  std::condition_variable stop_cv;
  bool stop = false;
};

StreamHub::StreamHub(const MarketData& market, const WallClock& clock)
    : StreamHub(market, clock, Options{}) {}

StreamHub::StreamHub(const MarketData& market, const WallClock& clock, Options options)
    : impl_(std::make_unique<Impl>(market, clock)), options_(options) {
  impl_->symbols.resize(market.num_symbols());
  for (size_t i = 0; i < impl_->symbols.size(); ++i) {
    std::string& l = impl_->symbols[i].lower;
    l = market.name(static_cast<SymbolId>(i));
    for (char& c : l) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (options_.flush_thread) {
    flusher_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "xc-md-flush");
      std::unique_lock<std::mutex> lock(impl_->mu);
      while (!impl_->stop) {
        impl_->stop_cv.wait_for(lock, std::chrono::milliseconds(options_.depth_fast_ms));
        if (impl_->stop) break;
        lock.unlock();
        Flush(impl_->clock.NowNanos() / 1'000'000);
        lock.lock();
      }
    });
  }
}

StreamHub::~StreamHub() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->stop_cv.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

void StreamHub::Register(HttpServer& server) {
  auto accept = [this](const HttpRequest& req, std::shared_ptr<WsSession> ws) {
    return Accept(req, std::move(ws));
  };
  server.RouteWebSocket("/ws", accept);
  server.RouteWebSocket("/stream", accept);
}

size_t StreamHub::num_sessions() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->sessions.size();
}

namespace {

// Splits `s` at '/' and calls f(part) for every non-empty part, with "%40"
// decoded to '@' (some clients percent-encode the query).
template <typename F>
void ForEachName(std::string_view s, F f) {
  while (!s.empty()) {
    size_t slash = s.find('/');
    std::string_view part = s.substr(0, slash);
    std::string name;
    for (size_t i = 0; i < part.size(); ++i) {
      if (part[i] == '%' && i + 2 < part.size() + 0 && part.substr(i, 3) == "%40") {
        name.push_back('@');
        i += 2;
      } else {
        name.push_back(part[i]);
      }
    }
    if (!name.empty()) f(name);
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
}

}  // namespace

std::shared_ptr<WsHandler> StreamHub::Accept(const HttpRequest& req,
                                             std::shared_ptr<WsSession> ws) {
  const bool combined = req.path == "/stream" || req.path.substr(0, 8) == "/stream/";
  if (!combined && listen_key_acceptor_ && req.path.size() == 4 + 60 &&
      req.path.substr(0, 4) == "/ws/") {
    const std::string_view key = req.path.substr(4);
    const bool alnum = std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
    if (alnum) return listen_key_acceptor_(key, std::move(ws));
  }
  auto s = std::make_shared<Session>(this, std::move(ws), combined);
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto add = [&](std::string_view name) {
    SymbolId id;
    Kind k;
    if (s->names.size() < options_.max_streams && impl_->Parse(name, &id, &k)) {
      impl_->Subscribe(s.get(), name);
    }
  };
  if (combined) {
    std::string_view q = req.query;
    while (!q.empty()) {
      size_t amp = q.find('&');
      std::string_view kv = q.substr(0, amp);
      if (kv.substr(0, 8) == "streams=") ForEachName(kv.substr(8), add);
      if (amp == std::string_view::npos) break;
      q.remove_prefix(amp + 1);
    }
  } else if (req.path.size() > 4) {
    ForEachName(req.path.substr(4), add);  // after "/ws/"
  }
  impl_->sessions.insert(s.get());
  return s;
}

void StreamHub::Remove(Session* s) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  while (!s->names.empty()) impl_->Unsubscribe(s, std::string(s->names.back()));
  impl_->sessions.erase(s);
}

void StreamHub::HandleMessage(Session* s, std::string_view text) {
  thread_local simdjson::dom::parser parser;
  std::string id = "null";
  auto error = [&](int code, std::string_view msg) {
    std::string r = "{\"error\":{\"code\":";
    AppendInt(code, &r);
    r.append(",\"msg\":\"");
    os::AppendJsonEscaped(msg, &r);
    r.append("\"},\"id\":").append(id).push_back('}');
    s->Reply(std::move(r));
  };
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc)) {
    return error(3, "Invalid JSON: expected value at line 1 column 1");
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return error(2, "Invalid request: expected an object");
  simdjson::dom::element idv;
  if (!obj["id"].get(idv)) {
    uint64_t u;
    std::string_view sv;
    if (!idv.get_uint64().get(u)) {
      id.clear();
      AppendInt(static_cast<int64_t>(u), &id);
    } else if (!idv.get_string().get(sv)) {
      id = "\"";
      os::AppendJsonEscaped(sv, &id);
      id.push_back('"');
    } else if (!idv.is_null()) {
      return error(2, "Invalid request: request ID must be an unsigned integer");
    }
  }
  std::string_view method;
  if (obj["method"].get_string().get(method)) {
    return error(2, "Invalid request: missing field `method`");
  }
  const bool sub = method == "SUBSCRIBE", unsub = method == "UNSUBSCRIBE";
  if (method == "LIST_SUBSCRIPTIONS") {
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::string r = "{\"result\":[";
    for (size_t i = 0; i < s->names.size(); ++i) {
      if (i) r.push_back(',');
      r.push_back('"');
      r.append(s->names[i]).push_back('"');
    }
    r.append("],\"id\":").append(id).push_back('}');
    s->Reply(std::move(r));
    return;
  }
  if (!sub && !unsub) {
    return error(2, std::string("Invalid request: unknown variant `") + std::string(method) +
                        "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, "
                        "`SET_PROPERTY`, `GET_PROPERTY`");
  }
  simdjson::dom::array params;
  if (obj["params"].get_array().get(params)) {
    return error(2, "Invalid request: missing field `params`");
  }
  std::vector<std::string_view> names;
  for (simdjson::dom::element p : params) {
    std::string_view n;
    if (p.get_string().get(n)) return error(2, "Invalid request: params must be strings");
    SymbolId sid;
    Kind k;
    if (!impl_->Parse(n, &sid, &k)) {
      return error(2, std::string("Invalid request: unknown stream `") + std::string(n) + "`");
    }
    names.push_back(n);
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (sub) {
    size_t fresh = 0;
    for (auto n : names) {
      fresh += std::find(s->names.begin(), s->names.end(), n) == s->names.end();
    }
    if (s->names.size() + fresh > options_.max_streams) {
      return error(2, "Invalid request: too many streams");
    }
    for (auto n : names) impl_->Subscribe(s, n);
  } else {
    for (auto n : names) impl_->Unsubscribe(s, n);
  }
  // Under the lock: the ack is queued before any event of a new stream.
  s->Reply("{\"result\":null,\"id\":" + id + "}");
}

void StreamHub::OnEvents(std::span<const protocol::Event> group) {
  Impl& m = *impl_;
  // Held for the whole group: Flush never finds a command half collected.
  std::lock_guard<std::mutex> lock(m.mu);
  size_t i = 0;
  while (i < group.size()) {
    const SymbolId id = group[i].symbol;
    size_t j = i + 1;
    while (j < group.size() && group[j].symbol == id) ++j;
    if (id < m.symbols.size()) m.OnRun(id, group.subspan(i, j - i));
    i = j;
  }
}

void StreamHub::Flush(int64_t now_ms) {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mu);
  std::string arr;  // !miniTicker@arr: the changed symbols' mini tickers
  for (size_t i = 0; i < m.symbols.size(); ++i) {
    SymbolStreams& st = m.symbols[i];
    const auto id = static_cast<SymbolId>(i);
    m.EmitAgg(id, st);
    m.FlushDepth(id, st, st.fast, options_.depth_fast_ms, now_ms, kDepth100, kNumKinds);
    m.FlushDepth(id, st, st.slow, options_.depth_slow_ms, now_ms, kDepth, kDepth1000);
    m.FlushPartial(id, st, 0, options_.depth_slow_ms, now_ms, lock);
    m.FlushPartial(id, st, 1, options_.depth_fast_ms, now_ms, lock);
    m.FlushTicker(id, st, options_.ticker_ms, now_ms, &arr, lock);
    m.FlushKlines(id, st, now_ms, lock);
  }
  if (!arr.empty()) {
    arr.push_back(']');
    m.Publish(m.arr_subs, "", kSuffix[kMiniArr], arr);
  }
}

}  // namespace xc::gateway
