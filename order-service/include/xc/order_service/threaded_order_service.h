#pragma once
// ThreadedOrderService: OrderServiceApi over PartitionWorkers, the order
// service as the gateway uses it in a running exchange.
//
// Routing: a request runs on the PartitionWorker of PartitionOfUser(user), on
// the calling thread (PartitionWorker::Run). The synchronous forms block the
// caller (a gateway I/O thread) until the answer is ready or `timeout`
// passes; then it gets Binance's -1007 "Timeout waiting for response from
// backend server. Send status unknown; execution status unknown." (the
// request may still take effect, as on Binance).
//
// When answers are ready (each only after the partition's log holds the
// request, PartitionWorker):
//  * PlaceOrder: once the engine confirmed the order (accepted, so it is in
//    the engine's journal, DESIGN.md invariant 2; or refused). The answer
//    shows the order after the whole command: for an order that matched on
//    arrival, its fills and status (FILLED / PARTIALLY_FILLED / EXPIRED).
//    A refusal by the engine (LIMIT_MAKER that would take) is answered with
//    its error, as Binance does.
//  * CancelOrder: once the order ended. CANCELED -> the order; if it ended
//    otherwise first (filled by a trade that raced the cancel) -> -2011.
//  * CancelOpenOrders: once every order it cancelled ended; the answer lists
//    them as they ended.
//  * CancelReplace: as Binance does it: the cancel first (answered once the
//    order ended; -2011 if it was not open or filled first: nothing else
//    happens), then the new order as by PlaceOrder, which may use the funds
//    the cancel released. A refusal of the new order then comes back as
//    CancelReplaceResult::placed_error (the cancel stands).
//  * Queries and TestOrder: at once (they change nothing).
// The *Async forms answer the same without holding the caller's thread: on
// the thread that made the answer ready (the caller's own when it is ready at
// once, e.g. an error without fdatasync; else the engine event pump's, or the
// partition's group commit), outside the partition's mutex. The synchronous
// forms are them plus a wait. An answer not ready `timeout` after the
// request is -1007 (the worker runs pending checks at least every
// PartitionWorker::kCheckInterval, so the -1007 comes at most that much late).
// Thread safety: every method from any thread, concurrently. Ownership:
// borrows the workers and the symbol table.

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "xc/order_service/order_service_api.h"
#include "xc/order_service/partition_worker.h"
#include "xc/order_service/symbol_table.h"

namespace xc::order_service {

class ThreadedOrderService final : public OrderServiceApi {
 public:
  // REQUIRES: workers[i]->id() == i, all built with workers.size().
  ThreadedOrderService(const SymbolTable* symbols, std::vector<PartitionWorker*> workers,
                       std::chrono::milliseconds timeout = PartitionWorker::kDefaultTimeout);

  PartitionWorker& WorkerFor(protocol::UserId user) const;

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

  void PlaceOrderAsync(const PlaceOrderRequest& req, Done<OrderInfo> done) override;
  void CancelOrderAsync(const OrderRef& ref, Done<OrderInfo> done) override;
  void CancelOpenOrdersAsync(protocol::UserId user, std::string_view symbol,
                             protocol::Timestamp now, Done<std::vector<OrderInfo>> done) override;
  void CancelReplaceAsync(const CancelReplaceRequest& req,
                          Done<CancelReplaceResult> done) override;

 private:
  // Runs `start` on the user's worker; if it succeeds, answers `done` with
  // `finish(partition)` once `ready(partition)` holds (see the file comment),
  // or with -1007 once the timeout passed.
  template <typename T, typename Start, typename Ready, typename Finish>
  void AwaitAsync(protocol::UserId user, Start start, Ready ready, Finish finish,
                  Done<T> done) const;
  // Calls `async` with a Done and waits for it (at most the timeout).
  template <typename T, typename F>
  ApiResult<T> Wait(F async) const;
  // Runs a query on the user's worker.
  template <typename F>
  auto Query(protocol::UserId user, F fn) const -> std::invoke_result_t<F, Partition&>;

  const SymbolTable* symbols_;
  std::vector<PartitionWorker*> workers_;
  std::chrono::milliseconds timeout_;
};

}  // namespace xc::order_service
