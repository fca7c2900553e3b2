#pragma once
// User data events: what the order service pushes to a user's clients when
// the user's orders or balances change (Binance's user data stream,
// BINANCE_COMPAT.md §5): executionReport, outboundAccountPosition and
// balanceUpdate, as plain values. The order service's partitions produce
// them (Partition::EnableUserEvents, PartitionWorker::SetUserEventSink); the
// gateway renders them into Binance JSON (xc/gateway/user_stream.h).
//
// Kept in xc::order_service_api (beside messages.h) because the gateway may
// depend on the API target only (STYLE.md §9).
//
// Amounts are Amount (1e-8 units, decimal.h); times are protocol::Timestamp
// (ns since the epoch; the renderer writes ms).
//
// Order of events (per user, as Binance recommends): the execution reports
// of one change (an admission: NEW; one engine command: one TRADE per fill,
// then CANCELED / EXPIRED / ...), then one AccountPosition listing the
// assets whose free or locked changed in it, with their values after it.
// A deposit or withdrawal: BalanceUpdate, then AccountPosition.
//
// Thread safety: plain values. The name functions are pure.

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "xc/order_service/decimal.h"
#include "xc/order_service/messages.h"
#include "xc/protocol/types.h"

namespace xc::order_service {

// Binance's executionReport `x`.
enum class ExecutionType : uint8_t {
  kNew = 0,              // the order was admitted (before the engine saw it)
  kCanceled = 1,         // cancelled by its user (or a mass cancel)
  kReplaced = 2,         // amended in place (price / remaining quantity)
  kRejected = 3,         // the engine refused the admitted order
  kTrade = 4,            // one fill
  kExpired = 5,          // IOC / FOK / MARKET remainder expired
  kTradePrevention = 6,  // self-trade prevention expired it (X = EXPIRED_IN_MATCH)
};
const char* ExecutionTypeName(ExecutionType x);  // "NEW", ..., "TRADE_PREVENTION"

// executionReport: one order, as it is after the change.
struct ExecutionReport {
  protocol::UserId user = 0;
  protocol::Timestamp event_time = 0;  // E (the change's time)
  // The order after the change, as GET /api/v3/order shows it
  // (Partition::ToInfo) but without its fills (always empty here). Rendered
  // from it: s symbol, c client_order_id, S side, o type, f time_in_force,
  // q orig_qty (0 for MARKET by quote amount), p price (0 for MARKET),
  // P stop_price, F iceberg_qty, Q orig_quote_order_qty, X status,
  // i order_id, z executed_qty, Z cummulative_quote_qty, O time (admission),
  // V stp. Not rendered: its is_working (GET /order's isWorking: false until
  // the engine accepted the order; `w` is is_working below), update_time
  // (`T` is transaction_time) and reject (`r` is reject_reason).
  OrderInfo order;
  // C: the order's client id when it was cancelled (x = CANCELED), "" else.
  std::string orig_client_order_id;
  ExecutionType execution_type = ExecutionType::kNew;  // x
  // r: "NONE", or why the engine refused the order (x = REJECTED): one of
  // the engine's RejectCode names ("WOULD_TAKE_LIQUIDITY", ...).
  std::string reject_reason = "NONE";
  // W: when the order started working; -1 while it is not (pending stop,
  // not yet accepted, rejected). w: on the book now (reported true at
  // admission already for an order about to work).
  protocol::Timestamp working_time = -1;
  bool is_working = false;
  // x = TRADE only (otherwise 0, "", -1, false): l, L, Y, n, N, t, m.
  Amount last_qty = 0;
  Amount last_price = 0;
  Amount last_quote_qty = 0;
  Amount commission = 0;
  std::string commission_asset;  // "" (rendered as null) when no trade
  int64_t trade_id = -1;
  bool is_maker = false;
  protocol::Timestamp transaction_time = 0;  // T: the change's time
};

// outboundAccountPosition: the assets that changed, after the change.
struct AccountPosition {
  protocol::UserId user = 0;
  protocol::Timestamp event_time = 0;   // E
  protocol::Timestamp update_time = 0;  // u: the account's last update
  std::vector<BalanceInfo> balances;    // B: {a, f, l}, asset config order
};

// balanceUpdate: a deposit (delta > 0) or withdrawal (delta < 0) by the admin.
struct BalanceUpdate {
  protocol::UserId user = 0;
  protocol::Timestamp event_time = 0;  // E
  std::string asset;                   // a
  Amount delta = 0;                    // d (signed)
  protocol::Timestamp clear_time = 0;  // T
};

using UserEvent = std::variant<ExecutionReport, AccountPosition, BalanceUpdate>;

// The user an event is for.
inline protocol::UserId UserOf(const UserEvent& e) {
  return std::visit([](const auto& v) { return v.user; }, e);
}

// Receives user events in the order they happened (per partition).
// Thread: each producer calls it from its own thread (one PartitionWorker
// each), so an implementation shared by several partitions must be
// thread-safe. It must not block for long (it runs on the partition's
// thread) and must not call back into the producer.
class UserEventSink {
 public:
  virtual ~UserEventSink() = default;
  // `events` are valid during the call only.
  virtual void OnUserEvents(std::span<const UserEvent> events) = 0;
};

}  // namespace xc::order_service
