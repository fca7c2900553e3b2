#pragma once
// The messages of the order service's API (xc::order_service_api): what the
// gateway sends (requests) and gets back (order, trade, account views), in
// Binance's vocabulary. Amounts are integers in 1e-8 units (decimal.h);
// decimal strings from clients are carried as they arrived, so that parsing,
// filter checks and their exact error messages live in one place (the order
// service) and the gateway stays a thin edge.
//
// Thread safety: plain values. The name/parse helpers are pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xc/order_service/api_error.h"
#include "xc/order_service/decimal.h"
#include "xc/protocol/types.h"

namespace xc::order_service {

// Binance order status (BINANCE_COMPAT.md §2.3). NEW and PARTIALLY_FILLED are
// open; the rest are final.
enum class OrderStatus : uint8_t {
  kNew = 0,
  kPartiallyFilled = 1,
  kFilled = 2,
  kCanceled = 3,
  kExpired = 4,
  kExpiredInMatch = 5,  // expired by self-trade prevention
  kRejected = 6,
};
const char* OrderStatusName(OrderStatus s);  // "NEW", "PARTIALLY_FILLED", ...
inline bool IsOpen(OrderStatus s) {
  return s == OrderStatus::kNew || s == OrderStatus::kPartiallyFilled;
}

// Binance order types we accept (exchangeInfo `orderTypes`).
enum class OrderType : uint8_t {
  kLimit = 0,
  kMarket = 1,
  kLimitMaker = 2,
  kStopLossLimit = 3,
  kTakeProfitLimit = 4,
};
const char* OrderTypeName(OrderType t);                   // "LIMIT", ...
const char* SideName(protocol::Side s);                   // "BUY" / "SELL"
const char* TimeInForceName(protocol::TimeInForce t);     // "GTC" / "IOC" / "FOK"
// Parsers for the gateway: exact upper-case Binance names; nullopt otherwise
// (answer with errors::InvalidOrderType() / InvalidSide() / InvalidTimeInForce()).
std::optional<OrderType> ParseOrderType(std::string_view s);
std::optional<protocol::Side> ParseSide(std::string_view s);
std::optional<protocol::TimeInForce> ParseTimeInForce(std::string_view s);

// Binance's newClientOrderId pattern ^[a-zA-Z0-9-_]{1,36}$.
inline constexpr std::string_view kClientOrderIdLegalRange = "^[a-zA-Z0-9-_]{1,36}$";
bool IsValidClientOrderId(std::string_view s);

// POST /api/v3/order. Decimal fields hold the client's string; nullopt means
// "not sent". `now` is the admission time (time is an input, STYLE.md §11).
struct PlaceOrderRequest {
  protocol::UserId user = 0;
  std::string symbol;
  protocol::Side side = protocol::Side::kBuy;
  OrderType type = OrderType::kLimit;
  std::optional<protocol::TimeInForce> time_in_force;
  std::optional<std::string> quantity;
  std::optional<std::string> quote_order_qty;
  std::optional<std::string> price;
  std::optional<std::string> stop_price;
  std::optional<std::string> iceberg_qty;
  std::string new_client_order_id;  // empty: the service makes one up
  protocol::StpMode stp = protocol::StpMode::kNone;
  protocol::Timestamp now = 0;
};

// Names one order of a user: by orderId, else by origClientOrderId.
struct OrderRef {
  protocol::UserId user = 0;
  std::string symbol;
  protocol::OrderId order_id = 0;         // 0: use orig_client_order_id
  std::string orig_client_order_id;
  protocol::Timestamp now = 0;
};

// POST /api/v3/order/cancelReplace with cancelReplaceMode=STOP_ON_FAILURE:
// the new order is checked first; if it is refused nothing is cancelled.
struct CancelReplaceRequest {
  OrderRef cancel;
  PlaceOrderRequest order;
};

// One execution of an order, from the order owner's point of view.
struct FillInfo {
  uint64_t trade_id = 0;
  Amount price = 0;       // quote units per whole base unit
  Amount qty = 0;         // base units
  Amount quote_qty = 0;   // quote units
  Amount commission = 0;  // units of commission_asset
  std::string commission_asset;
  bool is_maker = false;
  protocol::Timestamp time = 0;
};

// An order as Binance shows it (GET /api/v3/order, executionReport).
struct OrderInfo {
  std::string symbol;
  protocol::OrderId order_id = 0;
  std::string client_order_id;
  protocol::Side side = protocol::Side::kBuy;
  OrderType type = OrderType::kLimit;
  protocol::TimeInForce time_in_force = protocol::TimeInForce::kGtc;
  OrderStatus status = OrderStatus::kNew;
  Amount price = 0;                  // 0 for MARKET
  Amount orig_qty = 0;               // 0 for MARKET by quote amount
  Amount orig_quote_order_qty = 0;   // MARKET by quote amount only
  Amount executed_qty = 0;
  Amount cummulative_quote_qty = 0;  // Binance's spelling
  Amount stop_price = 0;
  Amount iceberg_qty = 0;
  protocol::StpMode stp = protocol::StpMode::kNone;
  protocol::Timestamp time = 0;         // admission
  protocol::Timestamp update_time = 0;  // last change
  // False until the engine accepted the order (and for pending stop orders
  // until they trigger), as Binance's isWorking.
  bool is_working = false;
  // Set when status is REJECTED: why the engine refused it.
  std::optional<ApiError> reject;
  std::vector<FillInfo> fills;  // every execution, oldest first
};

// GET /api/v3/myTrades row.
struct TradeInfo {
  std::string symbol;
  uint64_t id = 0;
  protocol::OrderId order_id = 0;
  Amount price = 0;
  Amount qty = 0;
  Amount quote_qty = 0;
  Amount commission = 0;
  std::string commission_asset;
  protocol::Timestamp time = 0;
  bool is_buyer = false;
  bool is_maker = false;
};

struct BalanceInfo {
  std::string asset;
  Amount free = 0;
  Amount locked = 0;
  friend bool operator==(const BalanceInfo&, const BalanceInfo&) = default;
};

// GET /api/v3/account.
struct AccountInfo {
  protocol::UserId user = 0;
  std::vector<BalanceInfo> balances;  // every configured asset, config order
  protocol::Timestamp update_time = 0;
};

struct CancelReplaceResult {
  OrderInfo cancelled;  // the old order (as cancelled, or as its cancel was sent)
  OrderInfo placed;     // the new order (unset when placed_error is set)
  // Set when the old order was cancelled but the new one was then refused
  // (Binance's -2021 "partially failed"): why.
  std::optional<ApiError> placed_error;
};

// An API key and its HMAC-SHA256 secret (both ASCII), and the user it signs for.
struct ApiKeyRecord {
  std::string api_key;
  std::string secret;
  protocol::UserId user = 0;
};

// One symbol of exchangeInfo, in the decimal strings Binance publishes. Also
// the order service's configuration format (order-service/include/.../
// symbol_table.h parses it into integer scales).
struct SymbolConfig {
  std::string symbol;       // "BTCUSDT"
  std::string base_asset;   // "BTC"
  std::string quote_asset;  // "USDT"
  // PRICE_FILTER
  std::string min_price, max_price, tick_size;
  // LOT_SIZE
  std::string min_qty, max_qty, step_size;
  // MARKET_LOT_SIZE (stepSize of LOT_SIZE applies to MARKET orders too)
  std::string market_min_qty, market_max_qty;
  // NOTIONAL, or MIN_NOTIONAL when notional_filter == "MIN_NOTIONAL" (then
  // max_notional is ignored and the minimum applies to MARKET orders as well)
  std::string notional_filter = "NOTIONAL";
  std::string min_notional, max_notional;
  bool apply_min_to_market = true;
  bool apply_max_to_market = false;
  // PERCENT_PRICE_BY_SIDE, multipliers of the reference price
  std::string bid_multiplier_up, bid_multiplier_down;
  std::string ask_multiplier_up, ask_multiplier_down;
  // A MARKET BUY by quantity locks qty * best ask * this (and is sent to the
  // engine as an IOC limit at that price, so it can never spend more).
  std::string market_buy_band = "1.05";
  // Fee rates, charged on what each side receives.
  std::string maker_fee, taker_fee;
};

}  // namespace xc::order_service
