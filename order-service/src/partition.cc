#include "xc/order_service/partition.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <set>
#include <utility>

#include "absl/hash/hash.h"
#include "xc/order_service/internal/str_cat.h"
#include "xc/protocol/check.h"
#include "xc/protocol/hash.h"

namespace xc::order_service {

using protocol::Command;
using protocol::Event;
using protocol::EventType;
using protocol::OrderId;
using protocol::Price;
using protocol::Qty;
using protocol::Seq;
using protocol::Side;
using protocol::Timestamp;
using protocol::UserId;

PartitionId PartitionOfUser(UserId user, uint32_t num_partitions) {
  // splitmix64 finalizer: stable across processes, builds and Abseil versions
  // (absl::Hash is salted per process and must not decide ownership).
  uint64_t z = user + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<PartitionId>(z % num_partitions);
}

namespace {

// The name of an order placed without newClientOrderId: this, then its id.
constexpr std::string_view kGeneratedIdPrefix = "xc-";

// Engine events journaled before Event::trade_id existed were its first 72
// bytes (records 'E' and 'B'); read into an Event, their trade_id stays 0.
constexpr size_t kLegacyEventBytes = 72;
static_assert(offsetof(Event, trade_id) == kLegacyEventBytes &&
              sizeof(Event) == kLegacyEventBytes + sizeof(uint64_t));

// ---- Journal record encoding: a type byte, then fixed little-endian
// integers and length-prefixed strings. ----
// A record is built in one buffer per thread, reused: Journal copies it
// into the log's batch, and a fresh string per record took three or four
// allocations. One Writer at a time per thread (checked, always: a second
// would corrupt a journal record).
class Writer {
 public:
  explicit Writer(char type) : buf_(Buffer()) {
    XC_CHECK(!in_use_);
    in_use_ = true;
    buf_.clear();
    buf_.push_back(type);
  }
  ~Writer() { in_use_ = false; }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  Writer& U64(uint64_t v) {
    buf_.append(reinterpret_cast<const char*>(&v), sizeof(v));
    return *this;
  }
  Writer& I64(int64_t v) { return U64(static_cast<uint64_t>(v)); }
  Writer& Str(std::string_view s) {
    U64(s.size());
    buf_.append(s);
    return *this;
  }
  Writer& OptStr(const std::optional<std::string>& s) {
    U64(s.has_value() ? 1 : 0);
    return s.has_value() ? Str(*s) : *this;
  }
  Writer& Raw(const void* p, size_t n) {
    buf_.append(static_cast<const char*>(p), n);
    return *this;
  }
  const std::string& str() const { return buf_; }

 private:
  static std::string& Buffer() {
    thread_local std::string buf;
    return buf;
  }
  static thread_local bool in_use_;
  std::string& buf_;
};

thread_local bool Writer::in_use_ = false;

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool U64(uint64_t* v) {
    if (s_.size() < sizeof(*v)) return ok_ = false;
    std::memcpy(v, s_.data(), sizeof(*v));
    s_.remove_prefix(sizeof(*v));
    return true;
  }
  uint64_t U64() {
    uint64_t v = 0;
    U64(&v);
    return v;
  }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  std::string Str() {
    const uint64_t n = U64();
    if (!ok_ || s_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string r(s_.substr(0, n));
    s_.remove_prefix(n);
    return r;
  }
  std::optional<std::string> OptStr() {
    if (U64() == 0) return std::nullopt;
    return Str();
  }
  bool Raw(void* p, size_t n) {
    if (s_.size() < n) return ok_ = false;
    std::memcpy(p, s_.data(), n);
    s_.remove_prefix(n);
    return true;
  }
  bool ok() const { return ok_ && s_.empty(); }

 private:
  std::string_view s_;
  bool ok_ = true;
};

void PutRequest(Writer& w, const PlaceOrderRequest& r) {
  w.U64(r.user).Str(r.symbol).U64(static_cast<uint64_t>(r.side)).U64(static_cast<uint64_t>(r.type));
  w.U64(r.time_in_force.has_value() ? 1 + static_cast<uint64_t>(*r.time_in_force) : 0);
  w.OptStr(r.quantity).OptStr(r.quote_order_qty).OptStr(r.price).OptStr(r.stop_price);
  w.OptStr(r.iceberg_qty).Str(r.new_client_order_id).U64(static_cast<uint64_t>(r.stp)).I64(r.now);
}
PlaceOrderRequest GetRequest(Reader& r) {
  PlaceOrderRequest q;
  q.user = r.U64();
  q.symbol = r.Str();
  q.side = static_cast<Side>(r.U64());
  q.type = static_cast<OrderType>(r.U64());
  if (const uint64_t t = r.U64(); t != 0) q.time_in_force = static_cast<protocol::TimeInForce>(t - 1);
  q.quantity = r.OptStr();
  q.quote_order_qty = r.OptStr();
  q.price = r.OptStr();
  q.stop_price = r.OptStr();
  q.iceberg_qty = r.OptStr();
  q.new_client_order_id = r.Str();
  q.stp = static_cast<protocol::StpMode>(r.U64());
  q.now = r.I64();
  return q;
}
void PutRef(Writer& w, const OrderRef& r) {
  w.U64(r.user).Str(r.symbol).U64(r.order_id).Str(r.orig_client_order_id).I64(r.now);
}
OrderRef GetRef(Reader& r) {
  OrderRef f;
  f.user = r.U64();
  f.symbol = r.Str();
  f.order_id = r.U64();
  f.orig_client_order_id = r.Str();
  f.now = r.I64();
  return f;
}
void PutQuote(Writer& w, const MarketQuote& q) { w.I64(q.best_bid).I64(q.best_ask).I64(q.last); }
MarketQuote GetQuote(Reader& r) {
  MarketQuote q;
  q.best_bid = r.I64();
  q.best_ask = r.I64();
  q.last = r.I64();
  return q;
}

// executionReport `r` of an order the engine refused.
const char* RejectReasonName(protocol::RejectCode c) {
  using protocol::RejectCode;
  switch (c) {
    case RejectCode::kNone: return "NONE";
    case RejectCode::kUnknownSymbol: return "UNKNOWN_SYMBOL";
    case RejectCode::kDuplicateOrderId: return "DUPLICATE_ORDER";
    case RejectCode::kInvalidQuantity: return "INVALID_QUANTITY";
    case RejectCode::kInvalidPrice: return "INVALID_PRICE";
    case RejectCode::kInvalidTimeInForce: return "INVALID_TIME_IN_FORCE";
    case RejectCode::kInvalidIceberg: return "INVALID_ICEBERG";
    case RejectCode::kInvalidStopPrice: return "INVALID_STOP_PRICE";
    case RejectCode::kUnknownOrder: return "UNKNOWN_ORDER";
    case RejectCode::kWouldTakeLiquidity: return "WOULD_TAKE_LIQUIDITY";
    case RejectCode::kWouldTriggerImmediately: return "WOULD_TRIGGER_IMMEDIATELY";
    case RejectCode::kOrderNotAmendable: return "ORDER_NOT_AMENDABLE";
    case RejectCode::kBookFull: return "BOOK_FULL";
    case RejectCode::kInvalidCommand: return "INVALID_COMMAND";
    case RejectCode::kShardStopped: return "SHARD_STOPPED";
  }
  return "UNKNOWN";
}

Amount FeeOf(Amount proceeds, Rate rate) {
  return static_cast<Amount>(static_cast<__int128>(proceeds) * rate / kUnitsPerWhole);
}

}  // namespace

Partition::Partition(PartitionId id, uint32_t num_partitions, const SymbolTable* symbols,
                     EngineLink* link, const MarketView* market, PartitionJournal* journal)
    : id_(id),
      num_partitions_(num_partitions),
      symbols_(symbols),
      link_(link),
      market_(market),
      journal_(journal),
      fees_(symbols->num_assets(), 0) {
  XC_CHECK(num_partitions > 0 && id < num_partitions);
}

void Partition::Journal(const std::string& record) {
  if (journal_ != nullptr && !replaying_) journal_->Append(record);
}

void Partition::Send(const Command& cmd) {
  if (link_ != nullptr) link_->Send(cmd);
}

MarketQuote Partition::QuoteOf(std::string_view symbol) const {
  const SymbolSpec* s = symbols_->Find(symbol);
  if (market_ == nullptr || s == nullptr) return {};
  return market_->Quote(s->id);
}

// ---------------- Admin ----------------

absl::Status Partition::CreateUser(UserId user) {
  Journal(Writer('U').U64(user).str());
  return DoCreateUser(user);
}

absl::Status Partition::DoCreateUser(UserId user) {
  if (PartitionOfUser(user, num_partitions_) != id_) {
    return absl::InvalidArgumentError(internal::Cat("user ", user, " belongs to partition ",
                                                   PartitionOfUser(user, num_partitions_)));
  }
  if (users_.contains(user)) return absl::AlreadyExistsError(internal::Cat("user ", user));
  users_[user].balances.resize(symbols_->num_assets());
  return absl::OkStatus();
}

absl::Status Partition::AddApiKey(UserId user, std::string api_key, std::string secret) {
  Journal(Writer('K').U64(user).Str(api_key).Str(secret).str());
  return DoAddApiKey(user, std::move(api_key), std::move(secret));
}

absl::Status Partition::DoAddApiKey(UserId user, std::string api_key, std::string secret) {
  if (!users_.contains(user)) return absl::NotFoundError(internal::Cat("user ", user));
  if (api_key.empty() || secret.empty()) return absl::InvalidArgumentError("empty key or secret");
  if (api_keys_.contains(api_key)) return absl::AlreadyExistsError("api key exists");
  std::string k = api_key;
  api_keys_.emplace(std::move(k), ApiKeyRecord{std::move(api_key), std::move(secret), user});
  return absl::OkStatus();
}

absl::Status Partition::Credit(UserId user, std::string_view asset, Amount amount, Timestamp now) {
  if (amount <= 0) return absl::InvalidArgumentError("amount must be > 0");
  Journal(Writer('A').U64(user).Str(asset).I64(amount).I64(now).str());
  return DoAdjust(user, asset, amount, now);
}

absl::Status Partition::Withdraw(UserId user, std::string_view asset, Amount amount,
                                 Timestamp now) {
  if (amount <= 0) return absl::InvalidArgumentError("amount must be > 0");
  Journal(Writer('A').U64(user).Str(asset).I64(-amount).I64(now).str());
  return DoAdjust(user, asset, -amount, now);
}

absl::Status Partition::DoAdjust(UserId user, std::string_view asset, Amount delta, Timestamp now) {
  auto it = users_.find(user);
  if (it == users_.end()) return absl::NotFoundError(internal::Cat("user ", user));
  const std::optional<AssetId> a = symbols_->FindAsset(asset);
  if (!a.has_value()) return absl::NotFoundError(internal::Cat("asset ", asset));
  Balance& b = it->second.balances[*a];
  if (delta < 0 && b.free < -delta) {
    return absl::FailedPreconditionError("insufficient free balance");
  }
  if (delta > 0 && b.free > INT64_MAX - delta) return absl::OutOfRangeError("balance overflow");
  b.free += delta;
  it->second.update_time = now;
  if (EventsOn()) {
    BalanceUpdate ev;
    ev.user = user;
    ev.event_time = now;
    ev.asset = symbols_->asset_name(*a);
    ev.delta = delta;
    ev.clear_time = now;
    user_events_.emplace_back(std::move(ev));
    Touch(user, *a);
    FlushPositions(now);
  }
  return absl::OkStatus();
}

// ---------------- Orders ----------------

ApiResult<Partition::Admission> Partition::Admit(const PlaceOrderRequest& req,
                                                 const MarketQuote& quote,
                                                 OrderId replacing) const {
  auto uit = users_.find(req.user);
  if (uit == users_.end()) return errors::InvalidApiKey();
  const User& u = uit->second;
  ApiResult<ValidatedOrder> vr = ValidateOrder(*symbols_, req, quote);
  if (!vr.ok()) return vr.error();
  Admission a;
  a.v = vr.value();
  const SymbolSpec& s = *a.v.spec;
  if (!req.new_client_order_id.empty()) {
    if (!IsValidClientOrderId(req.new_client_order_id)) {
      return errors::IllegalChars("newClientOrderId", kClientOrderIdLegalRange);
    }
    const OrderId same = FindByClientId(req.user, u, req.new_client_order_id);
    if (same != 0 && same != replacing && IsOpen(OrderAt(same).status)) {
      return errors::DuplicateOrder();
    }
  }
  if (a.v.type == OrderType::kLimitMaker &&
      ((a.v.side == Side::kBuy && quote.best_ask != 0 && a.v.price >= quote.best_ask) ||
       (a.v.side == Side::kSell && quote.best_bid != 0 && a.v.price <= quote.best_bid))) {
    return errors::WouldMatchAndTake();
  }
  __int128 lock = 0;
  if (a.v.side == Side::kSell) {
    a.lock_asset = s.base;
    lock = static_cast<__int128>(a.v.qty) * s.step;
  } else {
    a.lock_asset = s.quote;
    if (a.v.type == OrderType::kMarket && a.v.qty == 0) {
      lock = static_cast<__int128>(a.v.quote_notional) * s.notional_unit;
    } else {
      a.lock_price = a.v.price;
      if (a.v.type == OrderType::kMarket) {
        const std::optional<Price> bound = MarketBuyBound(s, quote);
        if (!bound.has_value()) return errors::FilterFailure("PERCENT_PRICE_BY_SIDE");
        a.lock_price = *bound;
      }
      lock = static_cast<__int128>(a.lock_price) * a.v.qty * s.notional_unit;
    }
  }
  if (lock <= 0) return errors::PriceQtyZero();
  if (lock > u.balances[a.lock_asset].free) return errors::InsufficientBalance();
  a.lock = static_cast<Amount>(lock);
  return a;
}

// The NewOrder command of an order, as Commit sends it (and a recovery that
// finds it unconfirmed sends it again).
Command Partition::CommandOf(const Order& o) const {
  const OrderId id = o.id;
  Command cmd;
  switch (o.type) {
    case OrderType::kLimit:
      cmd = Command::Limit(o.symbol, id, o.user, o.side, o.price, o.qty, o.tif, o.stp);
      break;
    case OrderType::kLimitMaker:
      cmd = Command::LimitMaker(o.symbol, id, o.user, o.side, o.price, o.qty);
      cmd.stp = o.stp;
      break;
    case OrderType::kMarket:
      if (o.qty == 0) {
        cmd = Command::MarketQuote(o.symbol, id, o.user, o.side, o.quote_notional, o.stp);
      } else if (o.side == Side::kBuy) {
        // Bounded market buy: an IOC limit at the locked price, so the engine
        // can never make it spend more than it locked.
        cmd = Command::Limit(o.symbol, id, o.user, o.side, o.lock_price, o.qty,
                             protocol::TimeInForce::kIoc, o.stp);
      } else {
        cmd = Command::Market(o.symbol, id, o.user, o.side, o.qty, o.stp);
      }
      break;
    case OrderType::kStopLossLimit:
    case OrderType::kTakeProfitLimit:
      cmd = Command::Stop(o.symbol, id, o.user, o.side,
                          o.type == OrderType::kStopLossLimit ? protocol::OrderType::kStopLossLimit
                                                              : protocol::OrderType::kTakeProfitLimit,
                          o.stop_price, o.price, o.qty, o.tif);
      cmd.stp = o.stp;
      break;
  }
  cmd.iceberg_qty = o.iceberg_qty;
  cmd.ts = o.time;
  return cmd;
}

Partition::Placed Partition::Commit(const PlaceOrderRequest& req, const Admission& a) {
  const SymbolSpec& s = *a.v.spec;
  User& u = users_.at(req.user);
  const OrderId id = MakeOrderId(id_, next_order_++);
  Order& o = orders_.emplace_back();  // orders_[next_order_ - 2]: see orders_
  o.id = id;
  o.user = req.user;
  o.symbol = s.id;
  o.client_id = req.new_client_order_id.empty() ? internal::Cat(kGeneratedIdPrefix, id)
                                                 : req.new_client_order_id;
  o.type = a.v.type;
  o.side = a.v.side;
  o.tif = a.v.tif;
  o.stp = req.stp;
  o.price = a.v.price;
  o.lock_price = a.lock_price;
  o.qty = a.v.qty;
  o.quote_notional = a.v.quote_notional;
  o.stop_price = a.v.stop_price;
  o.iceberg_qty = a.v.iceberg_qty;
  o.lock_asset = a.lock_asset;
  o.locked = a.lock;
  o.time = o.update_time = req.now;
  Balance& b = u.balances[a.lock_asset];
  b.free -= a.lock;
  b.locked += a.lock;
  u.orders.push_back(id);
  u.open.insert(id);
  if (!req.new_client_order_id.empty()) IndexClientId(u, o);  // a generated name needs none
  u.update_time = req.now;
  ++open_count_;
  if (EventsOn()) {
    Report(o, ExecutionType::kNew, req.now);
    Touch(o.user, a.lock_asset);
    FlushPositions(req.now);
  }

  const Command cmd = CommandOf(o);
  Send(cmd);
  return Placed{ToInfo(o), cmd};
}

ApiResult<Partition::Placed> Partition::PlaceOrder(const PlaceOrderRequest& req) {
  // The reference prices are an input too: journal them so that replay takes
  // the same decisions.
  const MarketQuote quote = QuoteOf(req.symbol);
  if (journal_ != nullptr && !replaying_) {
    Writer w('P');
    PutRequest(w, req);
    PutQuote(w, quote);
    Journal(w.str());
  }
  return DoPlaceOrder(req, quote);
}

std::optional<ApiError> Partition::TestOrder(const PlaceOrderRequest& req) const {
  ApiResult<Admission> a = Admit(req, QuoteOf(req.symbol), 0);
  if (!a.ok()) return a.error();
  return std::nullopt;
}

ApiResult<Partition::Placed> Partition::DoPlaceOrder(const PlaceOrderRequest& req,
                                                     const MarketQuote& quote) {
  ApiResult<Admission> a = Admit(req, quote, 0);
  if (!a.ok()) return a.error();
  return Commit(req, a.value());
}

uint64_t Partition::ClientIdKey(std::string_view client_id) {
  // Salted per process: the index lives in memory only (rebuilt by Replay).
  return client_id_hash_for_testing_ != nullptr ? client_id_hash_for_testing_(client_id)
                                                : absl::HashOf(client_id);
}

OrderId Partition::GeneratedIdOrder(std::string_view client_id) {
  const size_t n = kGeneratedIdPrefix.size();
  if (client_id.size() <= n || client_id.substr(0, n) != kGeneratedIdPrefix || client_id[n] == '0') {
    return 0;
  }
  OrderId id = 0;
  const char* end = client_id.data() + client_id.size();
  auto [ptr, ec] = std::from_chars(client_id.data() + n, end, id);
  return ec == std::errc() && ptr == end ? id : 0;
}

template <typename Index>
auto Partition::ClientIdEntry(Index& index, std::string_view client_id, uint64_t key) const
    -> decltype(index.begin()) {
  auto [it, end] = index.equal_range(key);
  for (; it != end; ++it) {
    if (OrderAt(it->second).client_id == client_id) return it;
  }
  return index.end();
}

OrderId Partition::FindByClientId(UserId user, const User& u, std::string_view client_id) const {
  auto e = ClientIdEntry(u.by_client_id, client_id, ClientIdKey(client_id));
  const OrderId found = e == u.by_client_id.end() ? 0 : e->second;
  // A chosen id may also be the name the partition gave a later order of
  // the same user: the later of the two is the latest.
  const OrderId named = GeneratedIdOrder(client_id);
  if (named > found) {
    const Order* o = OrderById(named);
    if (o != nullptr && o->user == user && o->client_id == client_id) return named;
  }
  return found;
}

void Partition::IndexClientId(User& u, const Order& o) {
  // Chosen, but the very name the partition gives this order: found by it.
  if (GeneratedIdOrder(o.client_id) == o.id) return;
  const uint64_t key = ClientIdKey(o.client_id);
  auto e = ClientIdEntry(u.by_client_id, o.client_id, key);
  if (e != u.by_client_id.end()) {
    e->second = o.id;  // an older order chose this id: `o` is the latest now
  } else {
    u.by_client_id.emplace(key, o.id);
  }
}

const Partition::Order* Partition::FindOrder(const OrderRef& ref) const {
  auto uit = users_.find(ref.user);
  if (uit == users_.end()) return nullptr;
  OrderId id = ref.order_id;
  if (id == 0) {
    id = FindByClientId(ref.user, uit->second, ref.orig_client_order_id);
    if (id == 0) return nullptr;
  }
  const Order* o = OrderById(id);
  if (o == nullptr || o->user != ref.user) return nullptr;
  if (symbols_->at(o->symbol).name != ref.symbol) return nullptr;
  return o;
}

ApiResult<OrderInfo> Partition::CancelOrder(const OrderRef& ref) {
  if (journal_ != nullptr && !replaying_) {
    Writer w('C');
    PutRef(w, ref);
    Journal(w.str());
  }
  return DoCancelOrder(ref);
}

ApiResult<OrderInfo> Partition::DoCancelOrder(const OrderRef& ref) {
  if (symbols_->Find(ref.symbol) == nullptr) return errors::InvalidSymbol();
  const Order* o = FindOrder(ref);
  if (o == nullptr || !IsOpen(o->status)) return errors::UnknownOrder();
  Command cmd = Command::Cancel(o->symbol, o->id, o->user);
  cmd.ts = ref.now;
  Send(cmd);
  return ToInfo(*o);
}

ApiResult<std::vector<OrderInfo>> Partition::CancelOpenOrders(UserId user, std::string_view symbol,
                                                              Timestamp now) {
  Journal(Writer('M').U64(user).Str(symbol).I64(now).str());
  return DoCancelOpenOrders(user, symbol, now);
}

ApiResult<std::vector<OrderInfo>> Partition::DoCancelOpenOrders(UserId user,
                                                                std::string_view symbol,
                                                                Timestamp now) {
  const SymbolSpec* s = symbols_->Find(symbol);
  if (s == nullptr) return errors::InvalidSymbol();
  auto uit = users_.find(user);
  if (uit == users_.end()) return errors::InvalidApiKey();
  std::vector<OrderInfo> out;
  for (OrderId id : uit->second.open) {
    const Order& o = OrderAt(id);
    if (o.symbol == s->id) out.push_back(ToInfo(o));
  }
  if (out.empty()) return errors::UnknownOrder();
  Command cmd = Command::MassCancel(s->id, user);
  cmd.ts = now;
  Send(cmd);
  return out;
}

ApiResult<CancelReplaceResult> Partition::CancelReplace(const CancelReplaceRequest& req) {
  const MarketQuote quote = QuoteOf(req.order.symbol);
  if (journal_ != nullptr && !replaying_) {
    Writer w('R');
    PutRef(w, req.cancel);
    PutRequest(w, req.order);
    PutQuote(w, quote);
    Journal(w.str());
  }
  return DoCancelReplace(req, quote);
}

ApiResult<CancelReplaceResult> Partition::DoCancelReplace(const CancelReplaceRequest& req,
                                                          const MarketQuote& quote) {
  if (symbols_->Find(req.cancel.symbol) == nullptr) return errors::InvalidSymbol();
  const Order* old = FindOrder(req.cancel);
  if (old == nullptr || !IsOpen(old->status)) return errors::UnknownOrder();
  ApiResult<Admission> a = Admit(req.order, quote, old->id);
  if (!a.ok()) return a.error();
  CancelReplaceResult r;
  r.cancelled = ToInfo(*old);
  Command cancel = Command::Cancel(old->symbol, old->id, old->user);
  cancel.ts = req.cancel.now;
  Send(cancel);
  r.placed = Commit(req.order, a.value()).order;
  return r;
}

// ---------------- Engine events ----------------

Partition::Order* Partition::OwnOrder(OrderId id) {
  return OrderById(id);
}

void Partition::OnEngineEvents(uint32_t stream, Seq through, const Event* events, size_t n) {
  if (stream >= stream_seq_.size()) stream_seq_.resize(stream + 1, 0);
  const Seq seen = stream_seq_[stream];
  if (through <= seen) return;  // a resend of what this partition has (invariant 3)
  // Keep what is new and concerns the books' owners (market data is not
  // journaled), then journal the batch as ONE record: the watermark and the
  // events it covers are durable together or not at all.
  batch_.clear();
  for (size_t i = 0; i < n; ++i) {
    const Event& e = events[i];
    if (e.seq > seen && e.seq <= through && e.type != EventType::kLevelChanged) {
      batch_.push_back(e);
    }
  }
  if (journal_ != nullptr && !replaying_) {
    Writer w('b');
    w.U64(stream).U64(through).U64(batch_.size());
    if (!batch_.empty()) w.Raw(batch_.data(), batch_.size() * sizeof(Event));
    Journal(w.str());
  }
  DoEngineEvents(stream, through);
}

void Partition::DoEngineEvents(uint32_t stream, Seq through) {
  if (stream >= stream_seq_.size()) stream_seq_.resize(stream + 1, 0);
  for (size_t i = 0; i < batch_.size(); ++i) {
    DoEngineEvent(batch_[i]);
    // One command's events end here: report the balances they changed.
    if (!dirty_.empty() && (i + 1 == batch_.size() || batch_[i + 1].seq != batch_[i].seq)) {
      FlushPositions(batch_[i].ts);
    }
  }
  stream_seq_[stream] = through;
}

Seq Partition::stream_seq(uint32_t stream) const {
  return stream < stream_seq_.size() ? stream_seq_[stream] : 0;
}

bool Partition::EngineConfirmed(OrderId id) const {
  const Order* o = OrderById(id);
  return o != nullptr && (o->accepted || !IsOpen(o->status));
}

bool Partition::IsFinal(OrderId id) const {
  const Order* o = OrderById(id);
  return o != nullptr && !IsOpen(o->status);
}

std::vector<Command> Partition::UnconfirmedCommands() const {
  std::vector<Command> out;  // in id order, the order of admission
  for (size_t i = 0; i < orders_.size(); ++i) {
    const Order& o = orders_[i];
    if (!o.accepted && IsOpen(o.status)) out.push_back(CommandOf(o));
  }
  return out;
}

void Partition::OnEngineEvent(const Event& e) {
  if (e.type == EventType::kLevelChanged) return;  // market data: not journaled
  if (journal_ != nullptr && !replaying_) {
    Journal(Writer('e').Raw(&e, sizeof(e)).str());
  }
  DoEngineEvent(e);
  if (!dirty_.empty()) FlushPositions(e.ts);
}

void Partition::Finish(Order& o, OrderStatus status, Timestamp ts) {
  XC_DCHECK(IsOpen(o.status));
  User& u = users_.at(o.user);
  Balance& b = u.balances[o.lock_asset];
  b.locked -= o.locked;
  b.free += o.locked;
  if (o.locked != 0) Touch(o.user, o.lock_asset);
  o.locked = 0;
  o.status = status;
  o.working = false;
  o.update_time = ts;
  u.update_time = ts;
  u.open.erase(o.id);
  --open_count_;
}

void Partition::ApplyFill(Order& o, const Event& e, bool is_maker) {
  if (!IsOpen(o.status)) {
    XC_BUG("trade for an order that is not open");
    return;
  }
  const SymbolSpec& s = symbols_->at(o.symbol);
  User& u = users_.at(o.user);
  const Qty q = e.qty;
  const Amount base = q * s.step;
  const Amount quote = static_cast<Amount>(static_cast<__int128>(e.price) * q * s.notional_unit);
  const Rate rate = is_maker ? s.maker_fee : s.taker_fee;
  Amount fee = 0;
  if (o.side == Side::kBuy) {
    // Locked at lock_price per lot (or, by quote amount, exactly what it spends).
    const Amount held = o.lock_price != 0
                            ? static_cast<Amount>(static_cast<__int128>(o.lock_price) * q *
                                                  s.notional_unit)
                            : quote;
    if (held > o.locked || held < quote) {
      XC_BUG("buy fill beyond its lock");
      return;
    }
    Balance& qb = u.balances[s.quote];
    qb.locked -= held;
    qb.free += held - quote;
    o.locked -= held;
    fee = FeeOf(base, rate);
    u.balances[s.base].free += base - fee;
    fees_[s.base] += fee;
  } else {
    if (base > o.locked) {
      XC_BUG("sell fill beyond its lock");
      return;
    }
    Balance& bb = u.balances[s.base];
    bb.locked -= base;
    o.locked -= base;
    fee = FeeOf(quote, rate);
    u.balances[s.quote].free += quote - fee;
    fees_[s.quote] += fee;
  }
  o.executed += q;
  o.spent += e.price * q;
  o.cum_quote += quote;
  o.last_fill_price = e.price;
  o.update_time = e.ts;
  u.update_time = e.ts;
  // The engine's id for the symbol's trade, which the other side and the
  // public trade stream show too. Events journaled before the engine
  // numbered trades carry 0: those keep the partition's own numbering, in
  // the MakeOrderId range, far above any engine id.
  const uint64_t trade_id = e.trade_id != 0 ? e.trade_id : MakeOrderId(id_, next_trade_++);
  Trade t;
  t.id = trade_id;
  t.order_id = o.id;
  t.symbol = o.symbol;
  t.price = e.price;
  t.qty = q;
  t.commission = fee;
  t.is_buyer = o.side == Side::kBuy;
  t.is_maker = is_maker;
  t.time = e.ts;
  u.trades.push_back(t);
  FillInfo f;
  f.trade_id = trade_id;
  f.price = e.price * s.tick;
  f.qty = base;
  f.quote_qty = quote;
  f.commission = fee;
  f.commission_asset = symbols_->asset_name(o.side == Side::kBuy ? s.base : s.quote);
  f.is_maker = is_maker;
  f.time = e.ts;
  o.fills.push_back(std::move(f));
  Touch(o.user, s.base);
  Touch(o.user, s.quote);
  const bool done = o.qty != 0 ? o.executed >= o.qty : o.spent >= o.quote_notional;
  if (done) {
    Finish(o, OrderStatus::kFilled, e.ts);
  } else {
    o.status = OrderStatus::kPartiallyFilled;
  }
  if (EventsOn()) Report(o, ExecutionType::kTrade, e.ts, &u.trades.back());
}

void Partition::NotePlacement(Order& o, const Event& e) {
  if (o.placed_seq == 0) {
    if (e.type != EventType::kAccepted && e.type != EventType::kRejected) return;
    o.placed_seq = e.seq;
  }
  if (e.seq != o.placed_seq) return;  // a later command's
  o.placed_status = o.status;
  o.placed_fills = static_cast<uint32_t>(o.fills.size());
}

void Partition::DoEngineEvent(const Event& e) {
  // The event's order (a trade's taker) if it is this partition's: looked up
  // once, for applying the event and then for its placement state. A maker's
  // fill is always a later command than the maker's own.
  Order* o = OwnOrder(e.order_id);
  ApplyEngineEvent(e, o);
  if (o != nullptr) NotePlacement(*o, e);
}

void Partition::ApplyEngineEvent(const Event& e, Order* o) {
  switch (e.type) {
    case EventType::kAccepted: {
      if (o != nullptr) {
        o->accepted = true;
        o->working = IsOpen(o->status) && o->type != OrderType::kStopLossLimit &&
                     o->type != OrderType::kTakeProfitLimit;
        o->update_time = e.ts;
      }
      break;
    }
    case EventType::kTriggered: {
      if (o != nullptr && IsOpen(o->status)) {
        o->working = true;
        o->update_time = e.ts;
      }
      break;
    }
    case EventType::kRejected: {
      // A refused cancel (the order already ended) changes nothing; only a
      // new order that was never accepted turns REJECTED.
      if (o == nullptr || o->accepted || !IsOpen(o->status)) break;
      // kNone never comes with a Rejected event; should it, the order still
      // needs a reason to show.
      o->reject = FromRejectCode(static_cast<protocol::RejectCode>(e.code))
                      .value_or(errors::Unknown());
      Finish(*o, OrderStatus::kRejected, e.ts);
      if (EventsOn()) {
        Report(*o, ExecutionType::kRejected, e.ts);
        std::get<ExecutionReport>(user_events_.back()).reject_reason =
            RejectReasonName(static_cast<protocol::RejectCode>(e.code));
      }
      break;
    }
    case EventType::kTrade: {
      if (o != nullptr) ApplyFill(*o, e, /*is_maker=*/false);
      if (Order* maker = OwnOrder(e.maker_id)) ApplyFill(*maker, e, /*is_maker=*/true);
      break;
    }
    case EventType::kCancelled: {
      if (o != nullptr && IsOpen(o->status)) {
        Finish(*o, OrderStatus::kCanceled, e.ts);
        if (EventsOn()) Report(*o, ExecutionType::kCanceled, e.ts);
      }
      break;
    }
    case EventType::kExpired: {
      if (o == nullptr || !IsOpen(o->status)) break;
      OrderStatus st = OrderStatus::kExpired;
      if (e.code == static_cast<int16_t>(protocol::ExpireReason::kSelfTradePrevention)) {
        st = OrderStatus::kExpiredInMatch;
      } else if (o->type == OrderType::kMarket && o->qty == 0 && o->executed > 0 &&
                 e.qty < o->last_fill_price) {
        // By quote amount, and what is left would not buy one more lot at the
        // last price: Binance reports such an order FILLED.
        st = OrderStatus::kFilled;
      }
      Finish(*o, st, e.ts);
      if (EventsOn()) {
        Report(*o,
               st == OrderStatus::kExpiredInMatch ? ExecutionType::kTradePrevention
                                                  : ExecutionType::kExpired,
               e.ts);
      }
      break;
    }
    case EventType::kAmended: {
      if (o == nullptr || !IsOpen(o->status)) break;
      const SymbolSpec& s = symbols_->at(o->symbol);
      const __int128 need = o->side == Side::kSell
                                ? static_cast<__int128>(e.qty) * s.step
                                : static_cast<__int128>(e.price) * e.qty * s.notional_unit;
      if (need > o->locked) {
        XC_BUG("amend needs more than the order locks");
        break;
      }
      const Amount release = o->locked - static_cast<Amount>(need);
      Balance& b = users_.at(o->user).balances[o->lock_asset];
      b.locked -= release;
      b.free += release;
      if (release != 0) Touch(o->user, o->lock_asset);
      o->locked -= release;
      o->price = e.price;
      if (o->side == Side::kBuy) o->lock_price = e.price;
      o->qty = o->executed + e.qty;
      o->update_time = e.ts;
      if (EventsOn()) Report(*o, ExecutionType::kReplaced, e.ts);
      break;
    }
    case EventType::kLevelChanged:
      break;
  }
}

// ---------------- User events ----------------


void Partition::TakeUserEvents(std::vector<UserEvent>* out) {
  if (out->empty()) {
    out->swap(user_events_);
  } else {
    std::move(user_events_.begin(), user_events_.end(), std::back_inserter(*out));
  }
  user_events_.clear();
}

void Partition::Touch(UserId user, AssetId asset) {
  if (EventsOn()) dirty_.emplace_back(user, asset);
}

void Partition::FlushPositions(Timestamp ts) {
  if (dirty_.empty()) return;
  // One position per user, users in the order they changed, assets in
  // config order.
  std::vector<UserId> order;
  for (const auto& [user, asset] : dirty_) {
    if (std::find(order.begin(), order.end(), user) == order.end()) order.push_back(user);
  }
  std::sort(dirty_.begin(), dirty_.end());
  dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
  for (UserId user : order) {
    const User& u = users_.at(user);
    AccountPosition p;
    p.user = user;
    p.event_time = ts;
    p.update_time = u.update_time;
    auto it = std::lower_bound(dirty_.begin(), dirty_.end(), std::pair<UserId, AssetId>(user, 0));
    for (; it != dirty_.end() && it->first == user; ++it) {
      const Balance& b = u.balances[it->second];
      p.balances.push_back(BalanceInfo{symbols_->asset_name(it->second), b.free, b.locked});
    }
    user_events_.emplace_back(std::move(p));
  }
  dirty_.clear();
}

void Partition::Report(const Order& o, ExecutionType x, Timestamp ts, const Trade* trade) {
  const SymbolSpec& s = symbols_->at(o.symbol);
  const bool stop = o.type == OrderType::kStopLossLimit || o.type == OrderType::kTakeProfitLimit;
  ExecutionReport r;
  r.user = o.user;
  r.event_time = ts;
  r.order = ToInfoWithoutFills(o);
  if (x == ExecutionType::kCanceled) r.orig_client_order_id = o.client_id;
  r.execution_type = x;
  // On the book: open, and (a stop order) triggered. NEW is reported at
  // admission, before the engine's Accepted, for an order about to work.
  r.is_working = IsOpen(o.status) && (!stop || o.working);
  const bool never_worked =
      o.status == OrderStatus::kRejected || (stop && !o.working && IsOpen(o.status));
  r.working_time = never_worked ? -1 : o.time;
  r.transaction_time = ts;
  if (trade != nullptr) {
    r.last_qty = trade->qty * s.step;
    r.last_price = trade->price * s.tick;
    r.last_quote_qty =
        static_cast<Amount>(static_cast<__int128>(trade->price) * trade->qty * s.notional_unit);
    r.commission = trade->commission;
    r.commission_asset = symbols_->asset_name(trade->is_buyer ? s.base : s.quote);
    r.trade_id = static_cast<int64_t>(trade->id);
    r.is_maker = trade->is_maker;
  }
  user_events_.emplace_back(std::move(r));
}

// ---------------- Queries ----------------

OrderInfo Partition::ToInfo(const Order& o) const {
  OrderInfo i = ToInfoWithoutFills(o);
  i.fills = o.fills;
  return i;
}

OrderInfo Partition::ToInfoWithoutFills(const Order& o) const {
  const SymbolSpec& s = symbols_->at(o.symbol);
  OrderInfo i;
  i.symbol = s.name;
  i.order_id = o.id;
  i.client_order_id = o.client_id;
  i.side = o.side;
  i.type = o.type;
  i.time_in_force = o.tif;
  i.status = o.status;
  i.price = o.price * s.tick;
  i.orig_qty = o.qty * s.step;
  i.orig_quote_order_qty = o.quote_notional * s.notional_unit;
  i.executed_qty = o.executed * s.step;
  i.cummulative_quote_qty = o.cum_quote;
  i.stop_price = o.stop_price * s.tick;
  i.iceberg_qty = o.iceberg_qty * s.step;
  i.stp = o.stp;
  i.time = o.time;
  i.update_time = o.update_time;
  i.is_working = o.working;
  i.reject = o.reject;
  return i;
}

TradeInfo Partition::ToInfo(const Trade& t) const {
  const SymbolSpec& s = symbols_->at(t.symbol);
  TradeInfo i;
  i.symbol = s.name;
  i.id = t.id;
  i.order_id = t.order_id;
  i.price = t.price * s.tick;
  i.qty = t.qty * s.step;
  i.quote_qty = static_cast<Amount>(static_cast<__int128>(t.price) * t.qty * s.notional_unit);
  i.commission = t.commission;
  i.commission_asset = symbols_->asset_name(t.is_buyer ? s.base : s.quote);
  i.time = t.time;
  i.is_buyer = t.is_buyer;
  i.is_maker = t.is_maker;
  return i;
}

ApiResult<OrderInfo> Partition::QueryOrder(const OrderRef& ref) const {
  if (symbols_->Find(ref.symbol) == nullptr) return errors::InvalidSymbol();
  const Order* o = FindOrder(ref);
  if (o == nullptr) return errors::OrderDoesNotExist();
  return ToInfo(*o);
}

ApiResult<OrderInfo> Partition::PlacementAnswer(const OrderRef& ref) const {
  if (symbols_->Find(ref.symbol) == nullptr) return errors::InvalidSymbol();
  const Order* o = FindOrder(ref);
  if (o == nullptr) return errors::OrderDoesNotExist();
  if (o->placed_seq == 0) return ToInfo(*o);
  OrderInfo i = ToInfoWithoutFills(*o);
  i.status = o->placed_status;
  i.fills.assign(o->fills.begin(), o->fills.begin() + o->placed_fills);
  i.executed_qty = 0;
  i.cummulative_quote_qty = 0;
  for (const FillInfo& f : i.fills) {
    i.executed_qty += f.qty;
    i.cummulative_quote_qty += f.quote_qty;
  }
  // Working once accepted, unless a stop still waiting for its trigger (a
  // stop triggers in a later command, never its own).
  i.is_working = i.status != OrderStatus::kRejected && o->type != OrderType::kStopLossLimit &&
                 o->type != OrderType::kTakeProfitLimit;
  return i;
}

ApiResult<std::vector<OrderInfo>> Partition::OpenOrders(UserId user,
                                                        std::string_view symbol) const {
  const SymbolSpec* s = nullptr;
  if (!symbol.empty() && (s = symbols_->Find(symbol)) == nullptr) return errors::InvalidSymbol();
  auto uit = users_.find(user);
  if (uit == users_.end()) return errors::InvalidApiKey();
  std::vector<OrderInfo> out;
  for (OrderId id : uit->second.open) {
    const Order& o = OrderAt(id);
    if (s == nullptr || o.symbol == s->id) out.push_back(ToInfo(o));
  }
  return out;
}

ApiResult<std::vector<OrderInfo>> Partition::AllOrders(UserId user, std::string_view symbol) const {
  const SymbolSpec* s = symbols_->Find(symbol);
  if (s == nullptr) return errors::InvalidSymbol();
  auto uit = users_.find(user);
  if (uit == users_.end()) return errors::InvalidApiKey();
  std::vector<OrderInfo> out;
  for (OrderId id : uit->second.orders) {
    const Order& o = OrderAt(id);
    if (o.symbol == s->id) out.push_back(ToInfo(o));
  }
  return out;
}

ApiResult<std::vector<TradeInfo>> Partition::MyTrades(UserId user, std::string_view symbol) const {
  const SymbolSpec* s = symbols_->Find(symbol);
  if (s == nullptr) return errors::InvalidSymbol();
  auto uit = users_.find(user);
  if (uit == users_.end()) return errors::InvalidApiKey();
  std::vector<TradeInfo> out;
  for (const Trade& t : uit->second.trades) {
    if (t.symbol == s->id) out.push_back(ToInfo(t));
  }
  return out;
}

ApiResult<AccountInfo> Partition::Account(UserId user) const {
  auto uit = users_.find(user);
  if (uit == users_.end()) return errors::InvalidApiKey();
  AccountInfo a;
  a.user = user;
  a.update_time = uit->second.update_time;
  for (AssetId i = 0; i < symbols_->num_assets(); ++i) {
    const Balance& b = uit->second.balances[i];
    a.balances.push_back(BalanceInfo{symbols_->asset_name(i), b.free, b.locked});
  }
  return a;
}

std::optional<ApiKeyRecord> Partition::LookupApiKey(std::string_view api_key) const {
  auto it = api_keys_.find(api_key);
  if (it == api_keys_.end()) return std::nullopt;
  return it->second;
}

std::vector<UserId> Partition::Users() const {
  std::vector<UserId> out;
  for (const auto& [id, u] : users_) out.push_back(id);
  return out;
}

Amount Partition::TotalOf(AssetId asset) const {
  Amount t = fees_[asset];
  for (const auto& [id, u] : users_) t += u.balances[asset].free + u.balances[asset].locked;
  return t;
}

absl::Status Partition::CheckInvariants() const {
  size_t open = 0;
  for (const auto& [uid, u] : users_) {
    std::vector<Amount> locks(symbols_->num_assets(), 0);
    for (OrderId id : u.open) {
      const Order& o = OrderAt(id);
      if (!IsOpen(o.status)) return absl::InternalError(internal::Cat("closed order in open set ", id));
      if (o.locked < 0) return absl::InternalError(internal::Cat("negative order lock ", id));
      locks[o.lock_asset] += o.locked;
      ++open;
    }
    std::set<std::string_view> client_ids;
    for (const auto& [key, id] : u.by_client_id) {
      const Order* o = OrderById(id);
      if (o == nullptr || ClientIdKey(o->client_id) != key || o->user != uid ||
          GeneratedIdOrder(o->client_id) == id || !client_ids.insert(o->client_id).second) {
        return absl::InternalError(internal::Cat("client index entry of order ", id, " is wrong"));
      }
    }
    for (OrderId id : u.orders) {
      const OrderId latest = FindByClientId(uid, u, OrderAt(id).client_id);
      if (latest < id || OrderAt(latest).client_id != OrderAt(id).client_id) {
        return absl::InternalError(internal::Cat("client order id of order ", id, " not indexed"));
      }
    }
    for (AssetId a = 0; a < symbols_->num_assets(); ++a) {
      const Balance& b = u.balances[a];
      if (b.free < 0 || b.locked < 0) {
        return absl::InternalError(internal::Cat("negative balance user ", uid, " asset ", a));
      }
      if (b.locked != locks[a]) {
        return absl::InternalError(internal::Cat("user ", uid, " asset ", symbols_->asset_name(a),
                                                " locked ", b.locked, " != open-order locks ",
                                                locks[a]));
      }
    }
  }
  if (open != open_count_) return absl::InternalError("open order count mismatch");
  for (Amount f : fees_) {
    if (f < 0) return absl::InternalError("negative fee balance");
  }
  return absl::OkStatus();
}

uint64_t Partition::StateHash() const {
  using protocol::HashCombine;
  uint64_t h = HashCombine(protocol::kHashSeed, id_);
  h = HashCombine(h, next_order_);
  h = HashCombine(h, next_trade_);
  for (Amount f : fees_) h = HashCombine(h, static_cast<uint64_t>(f));
  for (Seq q : stream_seq_) h = HashCombine(h, q);
  for (const auto& [k, rec] : api_keys_) {
    h = HashCombine(h, std::hash<std::string>{}(k));
    h = HashCombine(h, std::hash<std::string>{}(rec.secret));
    h = HashCombine(h, rec.user);
  }
  for (const auto& [uid, u] : users_) {
    h = HashCombine(h, uid);
    for (const Balance& b : u.balances) {
      h = HashCombine(h, static_cast<uint64_t>(b.free));
      h = HashCombine(h, static_cast<uint64_t>(b.locked));
    }
    h = HashCombine(h, u.trades.size());
    for (OrderId id : u.orders) {
      const Order& o = OrderAt(id);
      h = HashCombine(h, id);
      h = HashCombine(h, static_cast<uint64_t>(o.status));
      h = HashCombine(h, static_cast<uint64_t>(o.executed));
      h = HashCombine(h, static_cast<uint64_t>(o.cum_quote));
      h = HashCombine(h, static_cast<uint64_t>(o.locked));
      h = HashCombine(h, static_cast<uint64_t>(o.price));
      h = HashCombine(h, static_cast<uint64_t>(o.qty));
      h = HashCombine(h, std::hash<std::string>{}(o.client_id));
      h = HashCombine(h, (o.accepted ? 1u : 0u) | (o.working ? 2u : 0u));
    }
  }
  return h;
}

// ---------------- Recovery ----------------

absl::Status Partition::Replay(std::string_view record) {
  if (record.empty()) return absl::InvalidArgumentError("empty journal record");
  Reader r(record.substr(1));
  replaying_ = true;
  absl::Status st = absl::OkStatus();
  switch (record[0]) {
    case 'U': {
      const UserId u = r.U64();
      if (r.ok()) (void)DoCreateUser(u);
      break;
    }
    case 'K': {
      const UserId u = r.U64();
      std::string k = r.Str();
      std::string s = r.Str();
      if (r.ok()) (void)DoAddApiKey(u, std::move(k), std::move(s));
      break;
    }
    case 'A': {
      const UserId u = r.U64();
      const std::string asset = r.Str();
      const Amount d = r.I64();
      const Timestamp now = r.I64();
      if (r.ok()) (void)DoAdjust(u, asset, d, now);
      break;
    }
    case 'P': {
      const PlaceOrderRequest q = GetRequest(r);
      const MarketQuote mq = GetQuote(r);
      if (r.ok()) (void)DoPlaceOrder(q, mq);
      break;
    }
    case 'C': {
      const OrderRef f = GetRef(r);
      if (r.ok()) (void)DoCancelOrder(f);
      break;
    }
    case 'M': {
      const UserId u = r.U64();
      const std::string sym = r.Str();
      const Timestamp now = r.I64();
      if (r.ok()) (void)DoCancelOpenOrders(u, sym, now);
      break;
    }
    case 'R': {
      CancelReplaceRequest q;
      q.cancel = GetRef(r);
      q.order = GetRequest(r);
      const MarketQuote mq = GetQuote(r);
      if (r.ok()) (void)DoCancelReplace(q, mq);
      break;
    }
    case 'e':    // one engine event
    case 'E': {  // the same, written before Event::trade_id (kLegacyEventBytes)
      const size_t size = record[0] == 'e' ? sizeof(Event) : kLegacyEventBytes;
      Event e;
      if (r.Raw(&e, size) && r.ok()) DoEngineEvent(e);
      break;
    }
    case 'b':    // a batch of engine events
    case 'B': {  // the same, written before Event::trade_id
      const size_t size = record[0] == 'b' ? sizeof(Event) : kLegacyEventBytes;
      const uint64_t stream = r.U64();
      const Seq through = r.U64();
      const uint64_t n = r.U64();
      batch_.clear();
      if (stream <= UINT32_MAX && n <= record.size() / size) {
        batch_.resize(n);
        for (Event& e : batch_) r.Raw(&e, size);
      }
      if (r.ok() && batch_.size() == n) {
        DoEngineEvents(static_cast<uint32_t>(stream), through);
      } else {
        st = absl::InvalidArgumentError("malformed event batch record");
      }
      break;
    }
    default:
      st = absl::InvalidArgumentError("unknown journal record type");
  }
  replaying_ = false;
  if (st.ok() && !r.ok()) st = absl::InvalidArgumentError("malformed journal record");
  return st;
}

}  // namespace xc::order_service
