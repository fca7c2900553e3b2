#pragma once

#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/filters.h"
#include "xc/order_service/internal/chunked_table.h"
#include "xc/order_service/messages.h"
#include "xc/order_service/symbol_table.h"
#include "xc/order_service/user_events.h"
#include "xc/protocol/command.h"
#include "xc/protocol/event.h"
#include "xc/protocol/types.h"

namespace xc::order_service {

using PartitionId = uint32_t;

inline constexpr int kOrderIdPartitionShift = 48;
inline constexpr PartitionId PartitionOfOrder(protocol::OrderId id) {
  return static_cast<PartitionId>(id >> kOrderIdPartitionShift);
}
inline constexpr protocol::OrderId MakeOrderId(PartitionId p, uint64_t counter) {
  return (static_cast<uint64_t>(p) << kOrderIdPartitionShift) | counter;
}
// The partition of a user among `num_partitions`: a fixed 64-bit mix of the id
// (the same in every process and build), modulo the count.
PartitionId PartitionOfUser(protocol::UserId user, uint32_t num_partitions);

// Receives a partition's inputs, encoded, before they are applied
// (write-ahead). Replaying them in order into a fresh partition with the same
// id and symbols rebuilds the same state (same StateHash). Called on the
// partition's thread.
class PartitionJournal {
 public:
  virtual ~PartitionJournal() = default;
  virtual void Append(std::string_view record) = 0;
};

// Partition: the single-threaded state machine of one group of users (like an
// engine Shard for symbols). It owns those users' accounts, API keys,
// balances (free + locked per asset), open orders, client-order-id index,
// order and trade history, and the partition's fee account.
//
// Thread safety: owned by exactly one thread; every method must be called on
// it. Not thread-safe. Other threads reach it by messages (a later proxy); a
// test or the one-process build calls it directly ("invoker" mode).
//
// Ownership: a user belongs to PartitionOfUser(user, n); an order to
// PartitionOfOrder(order id) (the partition id is in the id's high bits, so
// ids are unique across partitions and the engine's id space never collides).
// The wiring routes engine events by those ids; each partition applies only
// its own side of a trade.
//
// Talks to the engine only through protocol messages: commands go out through
// the EngineLink, events come back through OnEngineEvent. Reference prices
// come from a MarketView.
//
// Money (DESIGN.md invariant 5). Amounts are integers of 1e-8 units.
//  * Placing an order locks what it can spend, moving it from free to locked:
//    BUY limit / LIMIT_MAKER / stop-limit: price * qty of quote; BUY MARKET by
//    quoteOrderQty: that amount (truncated to whole ticks*lots); BUY MARKET by
//    quantity: qty * MarketBuyBound (the order goes to the engine as an IOC
//    limit at that bound, so it can never spend more); any SELL: qty of base.
//    Fees are not locked: they are taken from what each side receives.
//  * A fill moves the spent part out of locked, credits the proceeds minus the
//    fee (maker or taker rate of the symbol, rounded down) to free, and the fee
//    to the fee account. A BUY that fills below its locked price gets the
//    difference back to free at once.
//  * When an order ends (filled, cancelled, expired, rejected) whatever it
//    still locks returns to free.
//  So, per asset, the sum over users plus the fee account changes only by
//  Credit and Withdraw, once every event of a trade has reached both its
//  partitions.
//
// Invariants (checked by CheckInvariants): no negative balance; per user and
// asset, locked equals the sum of the locks of the user's open orders;
// the client-order-id index holds exactly the open orders.
//
// Order states: NEW -> PARTIALLY_FILLED -> FILLED, and from NEW or
// PARTIALLY_FILLED to CANCELED (cancel), EXPIRED (IOC/FOK/MARKET remainder),
// EXPIRED_IN_MATCH (self-trade prevention); NEW -> REJECTED (the engine
// refused it: e.g. LIMIT_MAKER that would take). Final states never change.
//
// Allocation: per order (history entries, index strings); this is a service,
// not the engine's hot path. History is kept in memory for now.
class Partition {
 public:
  // `symbols` must outlive the partition. `link` may be null (then commands
  // are only returned, never sent; replay uses that). `market` may be null
  // (no reference prices: MARKET BUY by quantity is refused, PERCENT_PRICE
  // is skipped). `journal` may be null.
  Partition(PartitionId id, uint32_t num_partitions, const SymbolTable* symbols,
            EngineLink* link, const MarketView* market, PartitionJournal* journal = nullptr);
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  PartitionId id() const { return id_; }
  const SymbolTable& symbols() const { return *symbols_; }

  // ---- Admin (not Binance API; absl::Status) ----
  // AlreadyExists if the user exists; InvalidArgument if the user belongs to
  // another partition.
  [[nodiscard]] absl::Status CreateUser(protocol::UserId user);
  // Registers an API key with its HMAC secret for an existing user.
  // NotFound (user), AlreadyExists (key in this partition), InvalidArgument (empty).
  [[nodiscard]] absl::Status AddApiKey(protocol::UserId user, std::string api_key,
                                       std::string secret);
  // Adds `amount` (> 0) to the user's free balance of `asset` (a deposit).
  // NotFound (user or asset), InvalidArgument (amount <= 0).
  [[nodiscard]] absl::Status Credit(protocol::UserId user, std::string_view asset, Amount amount,
                                    protocol::Timestamp now);
  // Removes `amount` from free. As Credit, plus FailedPrecondition when free
  // is smaller (locked funds cannot be withdrawn).
  [[nodiscard]] absl::Status Withdraw(protocol::UserId user, std::string_view asset,
                                      Amount amount, protocol::Timestamp now);

  // ---- Trading (Binance semantics; see OrderServiceApi) ----
  struct Placed {
    OrderInfo order;           // as admitted: NEW, nothing executed
    protocol::Command command; // what was sent to the engine
  };
  // Validates (filters.h), refuses a newClientOrderId that an open order of
  // the user has (-2010 "Duplicate order sent."), refuses a LIMIT_MAKER that
  // would cross the current best price (-2010 "Order would immediately match
  // and take."; the engine checks again), checks and locks the funds (-2010
  // "Account has insufficient balance for requested action."), assigns the
  // order id and sends the NewOrder command. -2015 for an unknown user.
  ApiResult<Placed> PlaceOrder(const PlaceOrderRequest& req);
  // The checks of PlaceOrder against the current state, without any change
  // (OrderServiceApi::TestOrder). Not journaled.
  std::optional<ApiError> TestOrder(const PlaceOrderRequest& req) const;
  // Sends a Cancel for an open order. -2011 if the user has no open order with
  // that id / client id on that symbol. The answer shows the order as it is
  // now; it turns CANCELED when the engine's Cancelled arrives.
  ApiResult<OrderInfo> CancelOrder(const OrderRef& ref);
  // Sends one MassCancel for the user's open orders on the symbol. -1121 for
  // an unknown symbol, -2011 when there is no open order.
  ApiResult<std::vector<OrderInfo>> CancelOpenOrders(protocol::UserId user,
                                                     std::string_view symbol,
                                                     protocol::Timestamp now);
  // STOP_ON_FAILURE: -2011 if the order to cancel is not open; otherwise the
  // new order is checked as by PlaceOrder (its funds must be free now: the
  // old order's lock is released only when its cancel is confirmed) and, if
  // it passes, the Cancel and then the NewOrder are sent. On any error
  // nothing changes. The new order may reuse the cancelled order's client id.
  ApiResult<CancelReplaceResult> CancelReplace(const CancelReplaceRequest& req);

  // ---- Queries (no state change; not journaled) ----
  ApiResult<OrderInfo> QueryOrder(const OrderRef& ref) const;              // -2013
  // The order as its own command left it, for the answer to its placement:
  // Binance answers with the outcome of the order's own matching, so events
  // of later commands that the partition may already have applied when the
  // answer leaves (a fill as maker, a stop's trigger, a cancel) are not in
  // its status, executedQty, cummulativeQuoteQty, working flag or fills.
  // Before the order's first engine event: as QueryOrder. -2013 as QueryOrder.
  ApiResult<OrderInfo> PlacementAnswer(const OrderRef& ref) const;
  ApiResult<std::vector<OrderInfo>> OpenOrders(protocol::UserId user,
                                               std::string_view symbol) const;  // "" = all
  ApiResult<std::vector<OrderInfo>> AllOrders(protocol::UserId user,
                                              std::string_view symbol) const;
  ApiResult<std::vector<TradeInfo>> MyTrades(protocol::UserId user, std::string_view symbol) const;
  ApiResult<AccountInfo> Account(protocol::UserId user) const;
  // Key -> user and secret, among this partition's users.
  std::optional<ApiKeyRecord> LookupApiKey(std::string_view api_key) const;

  // ---- Engine events ----
  // Applies one event of a command this partition sent (or a trade whose
  // taker or maker it owns); events of orders it does not own are ignored.
  //  Accepted: the order is working (a stop order once Triggered).
  //  Rejected: a new order the engine refused -> REJECTED with the mapped
  //    Binance error, its lock released; a refused cancel changes nothing.
  //  Trade: settles the owned side(s) (see the class comment), records a trade
  //    in the history; the order turns PARTIALLY_FILLED or FILLED.
  //  Cancelled -> CANCELED; Expired -> EXPIRED, or EXPIRED_IN_MATCH for
  //    self-trade prevention (a MARKET by quote amount whose remainder is less
  //    than one lot at its last fill price counts as FILLED); both release
  //    the rest of the lock.
  //  Amended: price/remaining changed in place; the lock shrinks to match.
  //  LevelChanged: ignored (market data).
  // REQUIRES: events arrive in the engine's order for each symbol, each once.
  // Not journaled as a stream position; the threaded build uses
  // OnEngineEvents.
  void OnEngineEvent(const protocol::Event& e);

  // The sequenced form (DESIGN.md invariant 3): `events` are the events of
  // engine stream `stream` (one engine shard: its seq numbers) with seq in
  // (stream_seq(stream), through] that concern this partition, in order,
  // whole command groups only; `through` says that every group up to it has
  // been delivered (n may be 0: the watermark moves on). Events with seq <=
  // stream_seq(stream) are skipped (a resend after a restart), LevelChanged
  // events are ignored. The batch is journaled as one record, so a restart
  // finds either all of it or none. Then each event is applied as by
  // OnEngineEvent.
  void OnEngineEvents(uint32_t stream, protocol::Seq through, const protocol::Event* events,
                      size_t n);
  // The last seq of `stream` this partition has applied (0: none). A restart
  // resends the stream's events after it.
  protocol::Seq stream_seq(uint32_t stream) const;

  // For answers that wait for the engine (the threaded service):
  // true once the engine accepted or refused the order, or it ended.
  bool EngineConfirmed(protocol::OrderId id) const;
  // true once the order is FILLED, CANCELED, EXPIRED(_IN_MATCH) or REJECTED.
  bool IsFinal(protocol::OrderId id) const;
  // Recovery: the NewOrder commands of open orders the engine never
  // confirmed, oldest first. After every engine event up to the engine's
  // recovered seq has been delivered, these are the commands that were sent
  // but never reached the engine's journal (the crash cut them); sending
  // them again completes the partition's stream. Their clients got no
  // answer (answers wait for the engine), so resending is safe.
  std::vector<protocol::Command> UnconfirmedCommands() const;

  // ---- User events (user_events.h) ----
  // Off by default (then nothing is built). While on, every change of a
  // user's orders or balances appends its events to a buffer, in this order:
  //   Credit / Withdraw       balanceUpdate, then the asset's position;
  //   PlaceOrder (admission)  executionReport NEW, then the locked asset's
  //                           position (also the new order of CancelReplace);
  //   each engine command's events (OnEngineEvents: per seq; OnEngineEvent:
  //   per event), for the orders this partition owns:
  //     Trade      one TRADE per owned side (taker and/or maker);
  //     Cancelled  CANCELED (C = the order's client id);
  //     Expired    EXPIRED, TRADE_PREVENTION (status EXPIRED_IN_MATCH) for
  //                self-trade prevention, or EXPIRED with status FILLED for
  //                a MARKET by quote amount whose remainder is below a lot;
  //     Rejected   REJECTED (r = the engine's reason) of an admitted order;
  //     Amended    REPLACED;
  //     Accepted, Triggered, a refused cancel: nothing;
  //   then one outboundAccountPosition per user whose balances changed,
  //   listing those assets (free, locked after the change).
  // So an order's NEW comes before any of its TRADEs (it is produced at
  // admission, exactly once). Replay (recovery) produces nothing. Rejected
  // requests (an ApiError answer) produce nothing.
  void EnableUserEvents(bool on) { user_events_on_ = on; }
  bool user_events_enabled() const { return user_events_on_; }
  // Moves the buffered events, oldest first, to the end of *out.
  void TakeUserEvents(std::vector<UserEvent>* out);

  // ---- Introspection (tests, metrics, invariant checks) ----
  bool HasUser(protocol::UserId user) const { return users_.contains(user); }
  std::vector<protocol::UserId> Users() const;
  // Free + locked of `asset` summed over this partition's users plus its fee account.
  Amount TotalOf(AssetId asset) const;
  Amount fee_balance(AssetId asset) const { return fees_[asset]; }
  size_t open_orders() const { return open_count_; }
  [[nodiscard]] absl::Status CheckInvariants() const;
  // Hash of everything that decides future behaviour: users, keys, balances,
  // orders (all fields that change), fee account and id counters.
  uint64_t StateHash() const;

  // Applies one record written to the PartitionJournal (recovery). Commands
  // that the record produces are sent to the link if there is one (recover
  // with a null link: the engine has its own journal). InvalidArgument for a
  // malformed record.
  [[nodiscard]] absl::Status Replay(std::string_view record);

  // Tests only: the hash of client order ids in the per-user index (null:
  // the real one), so that a test can make ids collide. Set it before any
  // Partition exists and reset it after the last.
  static void SetClientIdHashForTesting(uint64_t (*hash)(std::string_view)) {
    client_id_hash_for_testing_ = hash;
  }

 private:
  struct Balance {
    Amount free = 0;
    Amount locked = 0;
  };
  struct Order {
    protocol::OrderId id = 0;
    protocol::UserId user = 0;
    protocol::SymbolId symbol = 0;
    std::string client_id;
    OrderType type = OrderType::kLimit;
    protocol::Side side = protocol::Side::kBuy;
    protocol::TimeInForce tif = protocol::TimeInForce::kGtc;
    protocol::StpMode stp = protocol::StpMode::kNone;
    protocol::Price price = 0;        // limit price, ticks (0 for MARKET)
    protocol::Price lock_price = 0;   // BUY: ticks per lot locked (0: MARKET by quote)
    protocol::Qty qty = 0;            // lots (0 for MARKET by quote)
    protocol::Notional quote_notional = 0;
    protocol::Price stop_price = 0;
    protocol::Qty iceberg_qty = 0;
    protocol::Qty executed = 0;
    protocol::Notional spent = 0;     // sum of price*lots traded
    Amount cum_quote = 0;
    OrderStatus status = OrderStatus::kNew;
    bool accepted = false;
    bool working = false;
    AssetId lock_asset = 0;
    Amount locked = 0;
    protocol::Price last_fill_price = 0;
    protocol::Timestamp time = 0;
    protocol::Timestamp update_time = 0;
    std::optional<ApiError> reject;
    std::vector<FillInfo> fills;
    // The order at the end of its own command (the engine events with the
    // seq of its Accepted or Rejected), for PlacementAnswer: its status and
    // how many of `fills` were made there (the first ones: an order trades
    // as maker only in later commands). Its executed and quote amounts then
    // are those fills' sums.
    protocol::Seq placed_seq = 0;  // 0: no engine event yet
    OrderStatus placed_status = OrderStatus::kNew;
    uint32_t placed_fills = 0;
  };
  struct Trade {
    uint64_t id = 0;
    protocol::OrderId order_id = 0;
    protocol::SymbolId symbol = 0;
    protocol::Price price = 0;
    protocol::Qty qty = 0;
    Amount commission = 0;
    bool is_buyer = false;
    bool is_maker = false;
    protocol::Timestamp time = 0;
  };
  struct User {
    std::vector<Balance> balances;
    // Deques and a tree: history grows without bound, and relocating or
    // rehashing all of it when a vector or hash table doubles stalls the
    // partition (see orders_; a node map of 14k client ids took ~3 ms).
    std::deque<protocol::OrderId> orders;  // admission order
    std::deque<Trade> trades;
    absl::btree_set<protocol::OrderId> open;
    // client order id -> the latest order with it (open or not), for ids
    // the client chose, keyed by ClientIdKey (see FindByClientId).
    absl::btree_multimap<uint64_t, protocol::OrderId> by_client_id;
    protocol::Timestamp update_time = 0;
  };
  // A new order that passed every check, with its lock, not yet committed.
  struct Admission {
    ValidatedOrder v;
    protocol::Price lock_price = 0;
    AssetId lock_asset = 0;
    Amount lock = 0;
  };

  ApiResult<Admission> Admit(const PlaceOrderRequest& req, const MarketQuote& quote,
                             protocol::OrderId replacing) const;
  Placed Commit(const PlaceOrderRequest& req, const Admission& a);
  protocol::Command CommandOf(const Order& o) const;
  void DoEngineEvents(uint32_t stream, protocol::Seq through);  // applies batch_
  void Send(const protocol::Command& cmd);
  MarketQuote QuoteOf(std::string_view symbol) const;
  const Order* FindOrder(const OrderRef& ref) const;
  // Client order ids. One the partition names itself, "xc-<order id>" (an
  // order placed without newClientOrderId), is not indexed: it names its
  // order, and the ids grow with the history, so an index would only add a
  // cache miss per level to every order. Ids the client chose are indexed by
  // a 64-bit hash in a B-tree (a tree of strings cost a miss and a string
  // compare per level); the order holds its id, so a hit is confirmed
  // against it, and ids that share a hash share the key.
  static uint64_t ClientIdKey(std::string_view client_id);
  static inline uint64_t (*client_id_hash_for_testing_)(std::string_view) = nullptr;
  // The order a name of the form "xc-<id>" names (0: not of that form).
  static protocol::OrderId GeneratedIdOrder(std::string_view client_id);
  // The latest order of `user` (`u`) with this client order id; 0: none.
  protocol::OrderId FindByClientId(protocol::UserId user, const User& u,
                                   std::string_view client_id) const;
  // Makes `o`, just committed, the latest order of its user `u` with its
  // client order id (a generated name needs nothing).
  void IndexClientId(User& u, const Order& o);
  // The entry of `client_id` among `index`'s entries under `key` (its
  // ClientIdKey), confirmed against each entry's order; index.end() if none.
  // `Index` is a user's by_client_id, const or not.
  template <typename Index>
  auto ClientIdEntry(Index& index, std::string_view client_id, uint64_t key) const
      -> decltype(index.begin());
  // The order with this id, or null when it is not one of this partition's.
  Order* OrderById(protocol::OrderId id) {
    return const_cast<Order*>(std::as_const(*this).OrderById(id));
  }
  const Order* OrderById(protocol::OrderId id) const {
    const uint64_t counter = id & ((uint64_t{1} << kOrderIdPartitionShift) - 1);
    if (PartitionOfOrder(id) != id_ || counter == 0 || counter > orders_.size()) return nullptr;
    return &orders_[counter - 1];
  }
  // The order with this id. REQUIRES: it is one of this partition's (an id
  // from its own indexes).
  Order& OrderAt(protocol::OrderId id) { return *OrderById(id); }
  const Order& OrderAt(protocol::OrderId id) const { return *OrderById(id); }
  Order* OwnOrder(protocol::OrderId id);
  // Keeps Order::placed_* up to date while `e` belongs to o's own command.
  static void NotePlacement(Order& o, const protocol::Event& e);
  // Applies e to `o`, its order if this partition's (null if not), and to a
  // trade's maker.
  void ApplyEngineEvent(const protocol::Event& e, Order* o);
  void ApplyFill(Order& o, const protocol::Event& e, bool is_maker);
  void Finish(Order& o, OrderStatus status, protocol::Timestamp ts);
  OrderInfo ToInfo(const Order& o) const;
  // ToInfo without the fills (for execution reports: copying every fill
  // into each report would cost O(fills) per event).
  OrderInfo ToInfoWithoutFills(const Order& o) const;
  TradeInfo ToInfo(const Trade& t) const;

  // Journaled inputs: the public methods encode, journal, then call these.
  ApiResult<Placed> DoPlaceOrder(const PlaceOrderRequest& req, const MarketQuote& quote);
  ApiResult<OrderInfo> DoCancelOrder(const OrderRef& ref);
  ApiResult<std::vector<OrderInfo>> DoCancelOpenOrders(protocol::UserId user,
                                                       std::string_view symbol,
                                                       protocol::Timestamp now);
  ApiResult<CancelReplaceResult> DoCancelReplace(const CancelReplaceRequest& req,
                                                 const MarketQuote& quote);
  absl::Status DoCreateUser(protocol::UserId user);
  absl::Status DoAddApiKey(protocol::UserId user, std::string api_key, std::string secret);
  absl::Status DoAdjust(protocol::UserId user, std::string_view asset, Amount delta,
                        protocol::Timestamp now);
  void DoEngineEvent(const protocol::Event& e);
  void Journal(const std::string& record);
  // User events (no-ops unless enabled and not replaying).
  bool EventsOn() const { return user_events_on_ && !replaying_; }
  void Report(const Order& o, ExecutionType x, protocol::Timestamp ts,
              const Trade* trade = nullptr);
  void Touch(protocol::UserId user, AssetId asset);
  void FlushPositions(protocol::Timestamp ts);

  const PartitionId id_;
  const uint32_t num_partitions_;
  const SymbolTable* const symbols_;
  EngineLink* const link_;
  const MarketView* const market_;
  PartitionJournal* const journal_;
  bool replaying_ = false;

  // A node tree: a User is large, and the B-tree's in-node storage of it
  // trips a sized-delete mismatch of this Abseil's btree under ASan when
  // User's size changes.
  std::map<protocol::UserId, User> users_;
  // Every order the partition ever admitted, by the counter of its id
  // (MakeOrderId(id_, i + 1) is orders_[i]): ids are dense and never
  // reused, so a table that only grows at its end serves, and its growth
  // never stalls (a hash map's doubling rehashed every order under the
  // partition's mutex: 164 ms at 918k orders). References stay valid.
  internal::ChunkedTable<Order> orders_;
  std::map<std::string, ApiKeyRecord, std::less<>> api_keys_;
  std::vector<Amount> fees_;
  uint64_t next_order_ = 1;
  uint64_t next_trade_ = 1;
  size_t open_count_ = 0;
  std::vector<protocol::Seq> stream_seq_;  // per engine stream: last seq applied
  std::vector<protocol::Event> batch_;     // scratch of OnEngineEvents / Replay
  bool user_events_on_ = false;
  std::vector<UserEvent> user_events_;                        // not yet taken
  std::vector<std::pair<protocol::UserId, AssetId>> dirty_;  // balances changed, not yet reported
};

}  // namespace xc::order_service
