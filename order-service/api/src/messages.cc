#include "xc/order_service/messages.h"

#include "xc/order_service/user_events.h"

namespace xc::order_service {

const char* OrderStatusName(OrderStatus s) {
  switch (s) {
    case OrderStatus::kNew: return "NEW";
    case OrderStatus::kPartiallyFilled: return "PARTIALLY_FILLED";
    case OrderStatus::kFilled: return "FILLED";
    case OrderStatus::kCanceled: return "CANCELED";
    case OrderStatus::kExpired: return "EXPIRED";
    case OrderStatus::kExpiredInMatch: return "EXPIRED_IN_MATCH";
    case OrderStatus::kRejected: return "REJECTED";
  }
  return "UNKNOWN";
}

const char* OrderTypeName(OrderType t) {
  switch (t) {
    case OrderType::kLimit: return "LIMIT";
    case OrderType::kMarket: return "MARKET";
    case OrderType::kLimitMaker: return "LIMIT_MAKER";
    case OrderType::kStopLossLimit: return "STOP_LOSS_LIMIT";
    case OrderType::kTakeProfitLimit: return "TAKE_PROFIT_LIMIT";
  }
  return "UNKNOWN";
}

const char* SideName(protocol::Side s) { return s == protocol::Side::kBuy ? "BUY" : "SELL"; }

const char* TimeInForceName(protocol::TimeInForce t) {
  switch (t) {
    case protocol::TimeInForce::kGtc: return "GTC";
    case protocol::TimeInForce::kIoc: return "IOC";
    case protocol::TimeInForce::kFok: return "FOK";
  }
  return "UNKNOWN";
}

std::optional<OrderType> ParseOrderType(std::string_view s) {
  if (s == "LIMIT") return OrderType::kLimit;
  if (s == "MARKET") return OrderType::kMarket;
  if (s == "LIMIT_MAKER") return OrderType::kLimitMaker;
  if (s == "STOP_LOSS_LIMIT") return OrderType::kStopLossLimit;
  if (s == "TAKE_PROFIT_LIMIT") return OrderType::kTakeProfitLimit;
  return std::nullopt;
}

std::optional<protocol::Side> ParseSide(std::string_view s) {
  if (s == "BUY") return protocol::Side::kBuy;
  if (s == "SELL") return protocol::Side::kSell;
  return std::nullopt;
}

std::optional<protocol::TimeInForce> ParseTimeInForce(std::string_view s) {
  if (s == "GTC") return protocol::TimeInForce::kGtc;
  if (s == "IOC") return protocol::TimeInForce::kIoc;
  if (s == "FOK") return protocol::TimeInForce::kFok;
  return std::nullopt;
}

bool IsValidClientOrderId(std::string_view s) {
  if (s.empty() || s.size() > 36) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

const char* ExecutionTypeName(ExecutionType x) {
  switch (x) {
    case ExecutionType::kNew: return "NEW";
    case ExecutionType::kCanceled: return "CANCELED";
    case ExecutionType::kReplaced: return "REPLACED";
    case ExecutionType::kRejected: return "REJECTED";
    case ExecutionType::kTrade: return "TRADE";
    case ExecutionType::kExpired: return "EXPIRED";
    case ExecutionType::kTradePrevention: return "TRADE_PREVENTION";
  }
  return "UNKNOWN";
}

}  // namespace xc::order_service
