#pragma once
// LocalOrderService implements OrderServiceApi over the partitions of one
// process in invoker mode: each request goes straight to the partition that
// owns its user (PartitionOfUser), on the caller's thread.
//
// Thread safety: none of its own; the caller must be the (single) thread that
// owns all the partitions, as in tests and the one-process build before the
// threaded proxy exists. Ownership: borrows the partitions and the symbol
// table, which must outlive it. Costs: one routing hash per request;
// LookupApiKey asks each partition in turn (O(partitions)).

#include <optional>
#include <string_view>
#include <vector>

#include "xc/order_service/order_service_api.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"

namespace xc::order_service {

class LocalOrderService : public OrderServiceApi {
 public:
  // REQUIRES: partitions[i]->id() == i, all built with partitions.size().
  LocalOrderService(const SymbolTable* symbols, std::vector<Partition*> partitions);

  Partition& PartitionFor(protocol::UserId user) const;

  std::vector<SymbolConfig> ExchangeInfo() const override;
  std::optional<ApiKeyRecord> LookupApiKey(std::string_view api_key) const override;
  ApiResult<OrderInfo> PlaceOrder(const PlaceOrderRequest& req) override;
  std::optional<ApiError> TestOrder(const PlaceOrderRequest& req) override;
  ApiResult<OrderInfo> CancelOrder(const OrderRef& ref) override;
  ApiResult<std::vector<OrderInfo>> CancelOpenOrders(protocol::UserId user, std::string_view symbol,
                                                     protocol::Timestamp now) override;
  ApiResult<CancelReplaceResult> CancelReplace(const CancelReplaceRequest& req) override;
  ApiResult<OrderInfo> QueryOrder(const OrderRef& ref) const override;
  ApiResult<std::vector<OrderInfo>> OpenOrders(protocol::UserId user,
                                               std::string_view symbol) const override;
  ApiResult<std::vector<OrderInfo>> AllOrders(protocol::UserId user,
                                              std::string_view symbol) const override;
  ApiResult<std::vector<TradeInfo>> MyTrades(protocol::UserId user,
                                             std::string_view symbol) const override;
  ApiResult<AccountInfo> Account(protocol::UserId user) const override;

 private:
  const SymbolTable* symbols_;
  std::vector<Partition*> partitions_;
};

}  // namespace xc::order_service
