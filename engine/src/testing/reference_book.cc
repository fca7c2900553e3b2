#include "testing/reference_book.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "xc/protocol/hash.h"

namespace xc::engine::testing {

using protocol::Command;
using protocol::CommandType;
using protocol::Event;
using protocol::EventType;
using protocol::ExpireReason;
using protocol::CancelReason;
using protocol::OrderId;
using protocol::OrderType;
using protocol::Price;
using protocol::Qty;
using protocol::RejectCode;
using protocol::Side;
using protocol::StpMode;
using protocol::TimeInForce;

namespace {

bool IsStop(OrderType t) {
  return t == OrderType::kStopLossLimit || t == OrderType::kTakeProfitLimit;
}

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }

}  // namespace

// ---------------------------------------------------------------- dispatch

void ReferenceBook::Apply(const Command& cmd, protocol::Seq seq, EventBuffer& out) {
  cmd_ = &cmd;
  seq_ = seq;
  out_ = &out;
  traded_ = false;
  switch (cmd.type) {
    case CommandType::kNewOrder: NewOrder(cmd); break;
    case CommandType::kCancel: Cancel(cmd); break;
    case CommandType::kMassCancel: MassCancel(cmd); break;
    case CommandType::kAmend: Amend(cmd); break;
    default: EmitReject(RejectCode::kInvalidCommand); break;
  }
  if (traded_) RunStops();
  cmd_ = nullptr;
  out_ = nullptr;
}

Event& ReferenceBook::Emit(EventType type) {
  Event& e = out_->Emplace();
  e = Event{};
  e.type = type;
  e.symbol = symbol_;
  e.seq = seq_;
  e.ts = cmd_->ts;
  return e;
}

void ReferenceBook::EmitReject(RejectCode code) {
  Event& e = Emit(EventType::kRejected);
  e.order_id = cmd_->order_id;
  e.user = cmd_->user;
  e.side = cmd_->side;
  e.code = static_cast<int16_t>(code);
}

void ReferenceBook::EmitLevel(Side side, Price price) {
  const Levels& lv = SideLevels(side);
  auto it = lv.find(price);
  Event& e = Emit(EventType::kLevelChanged);
  e.side = side;
  e.price = price;
  e.qty = it == lv.end() ? 0 : Total(it->second);
}

// ---------------------------------------------------------------- new order

void ReferenceBook::NewOrder(const Command& c) {
  const bool market = c.order_type == OrderType::kMarket;
  const bool stop = IsStop(c.order_type);
  const bool by_quote = market && c.quote_qty != 0;

  if (by_quote ? (c.quote_qty <= 0 || c.qty != 0) : c.qty <= 0) {
    return EmitReject(RejectCode::kInvalidQuantity);
  }
  if (!market && c.price <= 0) return EmitReject(RejectCode::kInvalidPrice);
  if (stop && c.stop_price <= 0) return EmitReject(RejectCode::kInvalidStopPrice);
  if (c.order_type == OrderType::kLimitMaker && c.tif != TimeInForce::kGtc) {
    return EmitReject(RejectCode::kInvalidTimeInForce);
  }
  if (c.iceberg_qty != 0 &&
      (c.iceberg_qty < 0 || c.iceberg_qty >= c.qty || market || c.tif != TimeInForce::kGtc)) {
    return EmitReject(RejectCode::kInvalidIceberg);
  }
  if (index_.count(c.order_id) != 0) return EmitReject(RejectCode::kDuplicateOrderId);
  if (c.order_type == OrderType::kLimitMaker) {
    auto opp = c.side == Side::kBuy ? best_ask() : best_bid();
    if (opp && (c.side == Side::kBuy ? c.price >= *opp : c.price <= *opp)) {
      return EmitReject(RejectCode::kWouldTakeLiquidity);
    }
  }

  Order o;
  o.id = c.order_id;
  o.user = c.user;
  o.side = c.side;
  o.type = c.order_type;
  o.tif = market ? TimeInForce::kIoc : c.tif;
  o.stp = c.stp;
  o.price = market ? 0 : c.price;
  o.stop_price = stop ? c.stop_price : 0;
  o.iceberg_qty = c.iceberg_qty;

  if (stop && StopHolds(o, last_trade_price_)) {
    return EmitReject(RejectCode::kWouldTriggerImmediately);
  }

  Event& acc = Emit(EventType::kAccepted);
  acc.order_id = o.id;
  acc.user = o.user;
  acc.side = o.side;
  acc.price = o.price;
  acc.qty = c.qty;
  acc.code = static_cast<int16_t>(c.order_type);

  if (stop) {
    o.qty = c.qty;
    pending_.push_back(o);
    index_[o.id] = Where{true, o.side, o.price};
    return;
  }
  Taker t;
  t.o = o;
  t.market = market;
  t.by_quote = by_quote;
  t.left = c.qty;
  t.quote_left = by_quote ? c.quote_qty : 0;
  Execute(t);
}

bool ReferenceBook::StopHolds(const Order& s, Price last) const {
  if (last == 0) return false;  // no condition holds before the first trade
  const bool buy = s.side == Side::kBuy;
  if (s.type == OrderType::kStopLossLimit) return buy ? last >= s.stop_price : last <= s.stop_price;
  return buy ? last <= s.stop_price : last >= s.stop_price;  // take profit
}

bool ReferenceBook::Crosses(const Taker& t, Price level_price) const {
  if (t.market) return true;
  return t.o.side == Side::kBuy ? level_price <= t.o.price : level_price >= t.o.price;
}

void ReferenceBook::Execute(Taker& t) {
  if (!t.market && t.o.tif == TimeInForce::kFok && !CanFill(t)) {
    Event& e = Emit(EventType::kExpired);
    e.order_id = t.o.id;
    e.user = t.o.user;
    e.side = t.o.side;
    e.price = t.o.price;
    e.qty = t.left;
    e.code = static_cast<int16_t>(ExpireReason::kFokUnfilled);
    return;
  }
  const bool stp_stopped = Sweep(t);
  if (!t.HasLeft()) return;
  if (!stp_stopped && !t.market && t.o.tif == TimeInForce::kGtc) {
    Rest(t);
    return;
  }
  ExpireReason why = stp_stopped ? ExpireReason::kSelfTradePrevention
                     : t.market  ? ExpireReason::kMarketRemainder
                                 : ExpireReason::kIocRemainder;
  Event& e = Emit(EventType::kExpired);
  e.order_id = t.o.id;
  e.user = t.o.user;
  e.side = t.o.side;
  e.price = t.o.price;
  e.qty = t.by_quote ? t.quote_left : t.left;
  e.code = static_cast<int16_t>(why);
}

std::vector<Price> ReferenceBook::PriorityPrices(Side s) const {
  std::vector<Price> v;
  const Levels& lv = SideLevels(s);
  for (const auto& [p, q] : lv) v.push_back(p);
  if (s == Side::kBuy) std::reverse(v.begin(), v.end());
  return v;
}

bool ReferenceBook::CanFill(const Taker& t) const {
  const Side opp = protocol::Opposite(t.o.side);
  const Levels& lv = SideLevels(opp);
  const bool stp = t.o.stp != StpMode::kNone;
  const bool stops_walk = t.o.stp == StpMode::kExpireTaker || t.o.stp == StpMode::kExpireBoth;
  Qty avail = 0;
  for (Price p : PriorityPrices(opp)) {
    if (!Crosses(t, p)) break;
    const Queue& q = lv.at(p);
    bool stopped = false;
    for (const Order& m : q) {
      if (stp && m.user == t.o.user) {
        if (stops_walk) {
          stopped = true;
          break;
        }
        continue;
      }
      avail += m.visible;
    }
    if (stopped) break;
    for (const Order& m : q) {
      if (stp && m.user == t.o.user) continue;
      avail += m.hidden;
    }
    if (avail >= t.left) return true;
  }
  return avail >= t.left;
}

bool ReferenceBook::Sweep(Taker& t) {
  const Side opp = protocol::Opposite(t.o.side);
  Levels& lv = SideLevels(opp);
  bool stp_stopped = false;
  while (t.HasLeft() && !lv.empty()) {
    const Price p = opp == Side::kBuy ? lv.rbegin()->first : lv.begin()->first;
    if (!Crosses(t, p)) break;
    Queue& q = lv.at(p);
    bool touched = false;
    bool stop = false;
    while (!q.empty() && t.HasLeft()) {
      Order& m = q.front();
      if (t.o.stp != StpMode::kNone && m.user == t.o.user) {
        if (t.o.stp == StpMode::kExpireTaker) {
          stop = stp_stopped = true;
          break;
        }
        Event& e = Emit(EventType::kExpired);
        e.order_id = m.id;
        e.user = m.user;
        e.side = m.side;
        e.price = m.price;
        e.qty = m.visible + m.hidden;
        e.code = static_cast<int16_t>(ExpireReason::kSelfTradePrevention);
        index_.erase(m.id);
        q.pop_front();
        touched = true;
        if (t.o.stp == StpMode::kExpireBoth) {
          stop = stp_stopped = true;
          break;
        }
        continue;
      }
      const Qty n = t.by_quote ? std::min<Qty>(m.visible, t.quote_left / p)
                               : std::min<Qty>(m.visible, t.left);
      if (n == 0) {  // a quote market that cannot afford one more lot
        stop = true;
        break;
      }
      Event& e = Emit(EventType::kTrade);
      e.order_id = t.o.id;
      e.maker_id = m.id;
      e.user = t.o.user;
      e.maker_user = m.user;
      e.side = m.side;
      e.price = p;
      e.qty = n;
      e.trade_id = ++last_trade_id_;
      touched = true;
      traded_ = true;
      last_trade_price_ = p;
      if (t.by_quote) {
        t.quote_left -= n * p;
      } else {
        t.left -= n;
      }
      m.visible -= n;
      if (m.visible == 0) {
        if (m.hidden > 0) {
          // The iceberg shows a new slice and loses its place.
          Order r = m;
          r.visible = std::min(r.iceberg_qty, r.hidden);
          r.hidden -= r.visible;
          q.pop_front();
          q.push_back(r);
        } else {
          index_.erase(m.id);
          q.pop_front();
        }
      }
    }
    if (touched) EmitLevel(opp, p);
    if (q.empty()) lv.erase(p);
    if (stop) break;
  }
  return stp_stopped;
}

void ReferenceBook::Rest(const Taker& t) {
  Order o = t.o;
  o.stop_price = 0;
  o.qty = 0;
  o.visible = o.iceberg_qty > 0 ? std::min(o.iceberg_qty, t.left) : t.left;
  o.hidden = t.left - o.visible;
  SideLevels(o.side)[o.price].push_back(o);
  index_[o.id] = Where{false, o.side, o.price};
  EmitLevel(o.side, o.price);
}

void ReferenceBook::RunStops() {
  for (;;) {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const Order& s) { return StopHolds(s, last_trade_price_); });
    if (it == pending_.end()) return;
    Order s = *it;
    pending_.erase(it);
    index_.erase(s.id);
    Event& e = Emit(EventType::kTriggered);
    e.order_id = s.id;
    e.user = s.user;
    e.side = s.side;
    e.price = s.price;
    e.qty = s.qty;
    Taker t;
    t.o = s;
    t.left = s.qty;
    t.o.qty = 0;
    Execute(t);
  }
}

// ---------------------------------------------------------------- cancel

void ReferenceBook::Cancel(const Command& c) {
  auto w = index_.find(c.order_id);
  if (w == index_.end()) return EmitReject(RejectCode::kUnknownOrder);
  if (w->second.pending) {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const Order& s) { return s.id == c.order_id; });
    if (c.user != 0 && c.user != it->user) return EmitReject(RejectCode::kUnknownOrder);
    Event& e = Emit(EventType::kCancelled);
    e.order_id = it->id;
    e.user = it->user;
    e.side = it->side;
    e.price = it->price;
    e.qty = it->qty;
    e.code = static_cast<int16_t>(CancelReason::kUser);
    pending_.erase(it);
    index_.erase(w);
    return;
  }
  const Side side = w->second.side;
  const Price price = w->second.price;
  Levels& lv = SideLevels(side);
  Queue& q = lv.at(price);
  auto it = std::find_if(q.begin(), q.end(), [&](const Order& o) { return o.id == c.order_id; });
  if (c.user != 0 && c.user != it->user) return EmitReject(RejectCode::kUnknownOrder);
  Event& e = Emit(EventType::kCancelled);
  e.order_id = it->id;
  e.user = it->user;
  e.side = it->side;
  e.price = it->price;
  e.qty = it->visible + it->hidden;
  e.code = static_cast<int16_t>(CancelReason::kUser);
  q.erase(it);
  index_.erase(w);
  if (q.empty()) lv.erase(price);
  EmitLevel(side, price);
}

void ReferenceBook::MassCancel(const Command& c) {
  for (Side side : {Side::kBuy, Side::kSell}) {
    Levels& lv = SideLevels(side);
    for (Price p : PriorityPrices(side)) {
      Queue& q = lv.at(p);
      bool touched = false;
      for (auto it = q.begin(); it != q.end();) {
        if (it->user != c.user) {
          ++it;
          continue;
        }
        Event& e = Emit(EventType::kCancelled);
        e.order_id = it->id;
        e.user = it->user;
        e.side = it->side;
        e.price = it->price;
        e.qty = it->visible + it->hidden;
        e.code = static_cast<int16_t>(CancelReason::kMassCancel);
        index_.erase(it->id);
        it = q.erase(it);
        touched = true;
      }
      if (q.empty()) lv.erase(p);
      if (touched) EmitLevel(side, p);
    }
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->user != c.user) {
      ++it;
      continue;
    }
    Event& e = Emit(EventType::kCancelled);
    e.order_id = it->id;
    e.user = it->user;
    e.side = it->side;
    e.price = it->price;
    e.qty = it->qty;
    e.code = static_cast<int16_t>(CancelReason::kMassCancel);
    index_.erase(it->id);
    it = pending_.erase(it);
  }
}

// ---------------------------------------------------------------- amend

void ReferenceBook::Amend(const Command& c) {
  auto w = index_.find(c.order_id);
  if (w == index_.end()) return EmitReject(RejectCode::kUnknownOrder);
  const Order* found = nullptr;
  Queue* q = nullptr;
  Queue::iterator qit;
  if (w->second.pending) {
    found = &*std::find_if(pending_.begin(), pending_.end(),
                           [&](const Order& s) { return s.id == c.order_id; });
  } else {
    q = &SideLevels(w->second.side).at(w->second.price);
    qit = std::find_if(q->begin(), q->end(), [&](const Order& o) { return o.id == c.order_id; });
    found = &*qit;
  }
  if (c.user != 0 && c.user != found->user) return EmitReject(RejectCode::kUnknownOrder);
  if (c.qty <= 0) return EmitReject(RejectCode::kInvalidQuantity);
  if (c.price <= 0) return EmitReject(RejectCode::kInvalidPrice);
  if (w->second.pending) return EmitReject(RejectCode::kOrderNotAmendable);
  Order& o = *qit;
  if (o.type == OrderType::kLimitMaker) {
    auto opp = o.side == Side::kBuy ? best_ask() : best_bid();
    if (opp && (o.side == Side::kBuy ? c.price >= *opp : c.price <= *opp)) {
      return EmitReject(RejectCode::kWouldTakeLiquidity);
    }
  }

  if (c.price == o.price && c.qty <= o.visible + o.hidden) {
    o.visible = std::min(o.visible, c.qty);
    o.hidden = c.qty - o.visible;
    Event& e = Emit(EventType::kAmended);
    e.order_id = o.id;
    e.user = o.user;
    e.side = o.side;
    e.price = o.price;
    e.qty = c.qty;
    e.code = 1;
    EmitLevel(o.side, o.price);
    return;
  }

  // Re-queue: leave the level, then come back as a new GTC order.
  Taker t;
  t.o = o;
  t.o.price = c.price;
  t.o.tif = TimeInForce::kGtc;
  t.o.visible = t.o.hidden = 0;
  t.left = c.qty;
  const Side side = o.side;
  const Price old_price = o.price;
  q->erase(qit);
  index_.erase(w);
  if (q->empty()) SideLevels(side).erase(old_price);

  Event& e = Emit(EventType::kAmended);
  e.order_id = t.o.id;
  e.user = t.o.user;
  e.side = side;
  e.price = c.price;
  e.qty = c.qty;
  e.code = 0;
  EmitLevel(side, old_price);
  Execute(t);
}

// ---------------------------------------------------------------- queries

Qty ReferenceBook::Total(const Queue& q) {
  Qty s = 0;
  for (const Order& o : q) s += o.visible;
  return s;
}

uint64_t ReferenceBook::StateHash() const {
  using protocol::HashCombine;
  uint64_t h = protocol::kHashSeed;
  for (Side side : {Side::kBuy, Side::kSell}) {
    const Levels& lv = SideLevels(side);
    for (Price p : PriorityPrices(side)) {
      const Queue& q = lv.at(p);
      h = HashCombine(h, U(p));
      h = HashCombine(h, U(Total(q)));
      for (const Order& o : q) {
        h = HashCombine(h, o.id);
        h = HashCombine(h, o.user);
        h = HashCombine(h, U(o.visible));
        h = HashCombine(h, U(o.hidden));
        h = HashCombine(h, U(o.iceberg_qty));
        h = HashCombine(h, static_cast<uint64_t>(o.stp));
      }
    }
  }
  h = HashCombine(h, pending_.size());
  for (const Order& s : pending_) {
    h = HashCombine(h, s.id);
    h = HashCombine(h, s.user);
    h = HashCombine(h, static_cast<uint64_t>(s.side));
    h = HashCombine(h, static_cast<uint64_t>(s.type));
    h = HashCombine(h, U(s.stop_price));
    h = HashCombine(h, U(s.price));
    h = HashCombine(h, U(s.qty));
    h = HashCombine(h, U(s.iceberg_qty));
    h = HashCombine(h, static_cast<uint64_t>(s.tif));
    h = HashCombine(h, static_cast<uint64_t>(s.stp));
  }
  h = HashCombine(h, U(last_trade_price_));
  h = HashCombine(h, last_trade_id_);
  return h;
}

size_t ReferenceBook::resting_orders() const {
  size_t n = 0;
  for (const Levels* lv : {&bids_, &asks_}) {
    for (const auto& [p, q] : *lv) n += q.size();
  }
  return n;
}

std::optional<Price> ReferenceBook::best_bid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.rbegin()->first;
}

std::optional<Price> ReferenceBook::best_ask() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.begin()->first;
}

std::optional<OrderView> ReferenceBook::FindOrder(OrderId id) const {
  auto w = index_.find(id);
  if (w == index_.end()) return std::nullopt;
  const Order* o = nullptr;
  if (w->second.pending) {
    o = &*std::find_if(pending_.begin(), pending_.end(),
                       [&](const Order& s) { return s.id == id; });
  } else {
    const Queue& q = SideLevels(w->second.side).at(w->second.price);
    o = &*std::find_if(q.begin(), q.end(), [&](const Order& r) { return r.id == id; });
  }
  OrderView v;
  v.id = o->id;
  v.user = o->user;
  v.side = o->side;
  v.type = o->type;
  v.tif = o->tif;
  v.price = o->price;
  v.stop_price = w->second.pending ? o->stop_price : 0;
  v.visible = w->second.pending ? 0 : o->visible;
  v.hidden = w->second.pending ? o->qty : o->hidden;
  v.iceberg_qty = o->iceberg_qty;
  v.pending_stop = w->second.pending;
  return v;
}

size_t ReferenceBook::Depth(Side side, LevelView* out, size_t max_levels) const {
  size_t n = 0;
  const Levels& lv = SideLevels(side);
  for (Price p : PriorityPrices(side)) {
    if (n == max_levels) break;
    const Queue& q = lv.at(p);
    out[n].price = p;
    out[n].total = Total(q);
    out[n].orders = static_cast<uint32_t>(q.size());
    ++n;
  }
  return n;
}

// ---------------------------------------------------------------- printing

std::string EventToString(const Event& e) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "%s{side=%s code=%d sym=%u seq=%llu ts=%lld id=%llu maker=%llu user=%llu "
                "maker_user=%llu price=%lld qty=%lld trade=%llu}",
                protocol::EventTypeName(e.type), e.side == Side::kBuy ? "B" : "S", e.code,
                e.symbol, static_cast<unsigned long long>(e.seq), static_cast<long long>(e.ts),
                static_cast<unsigned long long>(e.order_id),
                static_cast<unsigned long long>(e.maker_id),
                static_cast<unsigned long long>(e.user),
                static_cast<unsigned long long>(e.maker_user), static_cast<long long>(e.price),
                static_cast<long long>(e.qty), static_cast<unsigned long long>(e.trade_id));
  return buf;
}

namespace {
const char* CommandTypeName(CommandType t) {
  switch (t) {
    case CommandType::kNewOrder: return "New";
    case CommandType::kCancel: return "Cancel";
    case CommandType::kMassCancel: return "MassCancel";
    case CommandType::kAmend: return "Amend";
  }
  return "?";
}
const char* OrderTypeName(OrderType t) {
  switch (t) {
    case OrderType::kLimit: return "kLimit";
    case OrderType::kMarket: return "kMarket";
    case OrderType::kLimitMaker: return "kLimitMaker";
    case OrderType::kStopLossLimit: return "kStopLossLimit";
    case OrderType::kTakeProfitLimit: return "kTakeProfitLimit";
  }
  return "?";
}
const char* TifName(TimeInForce t) {
  switch (t) {
    case TimeInForce::kGtc: return "kGtc";
    case TimeInForce::kIoc: return "kIoc";
    case TimeInForce::kFok: return "kFok";
  }
  return "?";
}
const char* StpName(StpMode s) {
  switch (s) {
    case StpMode::kNone: return "kNone";
    case StpMode::kExpireTaker: return "kExpireTaker";
    case StpMode::kExpireMaker: return "kExpireMaker";
    case StpMode::kExpireBoth: return "kExpireBoth";
  }
  return "?";
}
}  // namespace

std::string CommandToString(const Command& c) {
  char buf[320];
  std::snprintf(buf, sizeof(buf),
                "%s{%s %s %s stp=%s sym=%u ts=%lld id=%llu user=%llu price=%lld qty=%lld "
                "quote=%lld stop=%lld iceberg=%lld}",
                CommandTypeName(c.type), c.side == Side::kBuy ? "B" : "S",
                OrderTypeName(c.order_type), TifName(c.tif), StpName(c.stp), c.symbol,
                static_cast<long long>(c.ts), static_cast<unsigned long long>(c.order_id),
                static_cast<unsigned long long>(c.user), static_cast<long long>(c.price),
                static_cast<long long>(c.qty), static_cast<long long>(c.quote_qty),
                static_cast<long long>(c.stop_price), static_cast<long long>(c.iceberg_qty));
  return buf;
}

std::string CommandToCode(const Command& c) {
  char buf[400];
  std::snprintf(
      buf, sizeof(buf),
      "{Command c; c.type = CommandType::%s; c.side = Side::%s; c.order_type = OrderType::%s; "
      "c.tif = TimeInForce::%s; c.stp = StpMode::%s; c.order_id = %llu; c.user = %llu; "
      "c.price = %lld; c.qty = %lld; c.quote_qty = %lld; c.stop_price = %lld; "
      "c.iceberg_qty = %lld;}",
      c.type == CommandType::kNewOrder  ? "kNewOrder"
      : c.type == CommandType::kCancel  ? "kCancel"
      : c.type == CommandType::kAmend   ? "kAmend"
                                        : "kMassCancel",
      c.side == Side::kBuy ? "kBuy" : "kSell", OrderTypeName(c.order_type), TifName(c.tif),
      StpName(c.stp), static_cast<unsigned long long>(c.order_id),
      static_cast<unsigned long long>(c.user), static_cast<long long>(c.price),
      static_cast<long long>(c.qty), static_cast<long long>(c.quote_qty),
      static_cast<long long>(c.stop_price), static_cast<long long>(c.iceberg_qty));
  return buf;
}

}  // namespace xc::engine::testing

namespace xc::protocol {
void PrintTo(const Event& e, std::ostream* os) { *os << engine::testing::EventToString(e); }
void PrintTo(const Command& c, std::ostream* os) { *os << engine::testing::CommandToString(c); }
}  // namespace xc::protocol
