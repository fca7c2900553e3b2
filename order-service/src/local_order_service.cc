#include "xc/order_service/local_order_service.h"

#include <utility>

#include "xc/protocol/check.h"

namespace xc::order_service {

LocalOrderService::LocalOrderService(const SymbolTable* symbols, std::vector<Partition*> partitions)
    : symbols_(symbols), partitions_(std::move(partitions)) {
  XC_CHECK(!partitions_.empty());
  for (size_t i = 0; i < partitions_.size(); ++i) XC_CHECK(partitions_[i]->id() == i);
}

Partition& LocalOrderService::PartitionFor(protocol::UserId user) const {
  return *partitions_[PartitionOfUser(user, static_cast<uint32_t>(partitions_.size()))];
}

std::vector<SymbolConfig> LocalOrderService::ExchangeInfo() const {
  std::vector<SymbolConfig> out;
  for (const SymbolSpec& s : symbols_->symbols()) out.push_back(s.config);
  return out;
}

std::optional<ApiKeyRecord> LocalOrderService::LookupApiKey(std::string_view api_key) const {
  for (const Partition* p : partitions_) {
    if (auto r = p->LookupApiKey(api_key)) return r;
  }
  return std::nullopt;
}

ApiResult<OrderInfo> LocalOrderService::PlaceOrder(const PlaceOrderRequest& req) {
  auto r = PartitionFor(req.user).PlaceOrder(req);
  if (!r.ok()) return std::move(r).error();
  return std::move(r).value().order;
}

std::optional<ApiError> LocalOrderService::TestOrder(const PlaceOrderRequest& req) {
  return PartitionFor(req.user).TestOrder(req);
}

ApiResult<OrderInfo> LocalOrderService::CancelOrder(const OrderRef& ref) {
  return PartitionFor(ref.user).CancelOrder(ref);
}

ApiResult<std::vector<OrderInfo>> LocalOrderService::CancelOpenOrders(protocol::UserId user,
                                                                      std::string_view symbol,
                                                                      protocol::Timestamp now) {
  return PartitionFor(user).CancelOpenOrders(user, symbol, now);
}

ApiResult<CancelReplaceResult> LocalOrderService::CancelReplace(const CancelReplaceRequest& req) {
  return PartitionFor(req.cancel.user).CancelReplace(req);
}

ApiResult<OrderInfo> LocalOrderService::QueryOrder(const OrderRef& ref) const {
  return PartitionFor(ref.user).QueryOrder(ref);
}

ApiResult<std::vector<OrderInfo>> LocalOrderService::OpenOrders(protocol::UserId user,
                                                                std::string_view symbol) const {
  return PartitionFor(user).OpenOrders(user, symbol);
}

ApiResult<std::vector<OrderInfo>> LocalOrderService::AllOrders(protocol::UserId user,
                                                               std::string_view symbol) const {
  return PartitionFor(user).AllOrders(user, symbol);
}

ApiResult<std::vector<TradeInfo>> LocalOrderService::MyTrades(protocol::UserId user,
                                                              std::string_view symbol) const {
  return PartitionFor(user).MyTrades(user, symbol);
}

ApiResult<AccountInfo> LocalOrderService::Account(protocol::UserId user) const {
  return PartitionFor(user).Account(user);
}

}  // namespace xc::order_service
