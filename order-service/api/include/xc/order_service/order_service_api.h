#pragma once
// OrderServiceApi: the requests the gateway makes of the order service, one
// method per Binance endpoint it serves (BINANCE_COMPAT.md §1.1).
//
// Thread safety and ownership: an implementation routes each request to the
// partition that owns the user (user id -> partition by hash) and runs it on
// that partition's thread. In "invoker" mode (tests, the one-process build
// before the gateway exists) the caller's thread is the partition thread, so
// calls must not overlap. The threaded proxy used by the gateway arrives with
// it; it keeps these signatures and semantics.
//
// Outcomes: every method returns an ApiError with Binance's code and exact
// message instead of a value when it refuses, and a refused request changes
// nothing (DESIGN.md invariant 6). Order placement is asynchronous with
// respect to matching: PlaceOrder answers once funds are locked and the
// command is on its way to the engine (status NEW, is_working false); fills,
// cancels and expiries arrive later and show in QueryOrder and the history.

#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "xc/order_service/api_error.h"
#include "xc/order_service/messages.h"
#include "xc/protocol/types.h"

namespace xc::order_service {

// The continuation of an asynchronous request (the *Async methods below):
// called exactly once with the answer the synchronous method would return,
// on a thread of the implementation's choosing (the partition's thread in
// the threaded service, the caller's in the default implementations). It
// must not block and must not call the synchronous methods of the same
// service (the partition thread would wait for itself).
template <typename T>
using Done = std::function<void(ApiResult<T>)>;

class OrderServiceApi {
 public:
  virtual ~OrderServiceApi() = default;

  // exchangeInfo: the configured symbols and their filters.
  virtual std::vector<SymbolConfig> ExchangeInfo() const = 0;
  // Looks up an API key for request signing; nullopt for an unknown key
  // (answer -2015).
  virtual std::optional<ApiKeyRecord> LookupApiKey(std::string_view api_key) const = 0;

  // POST /order. Errors: -1121, -1100, -1102, -1106, -1013 (filters), -2010
  // (insufficient balance, duplicate client order id, would take), -2015.
  virtual ApiResult<OrderInfo> PlaceOrder(const PlaceOrderRequest& req) = 0;
  // POST /order/test: every check PlaceOrder makes (filters, duplicate client
  // order id, LIMIT_MAKER that would take, funds), and nothing else: no lock,
  // no order id, no command, not journaled. nullopt when PlaceOrder would
  // admit the order now; otherwise the error it would answer.
  virtual std::optional<ApiError> TestOrder(const PlaceOrderRequest& req) = 0;
  // DELETE /order: sends the cancel; the order turns CANCELED when the engine
  // confirms. -2011 when the order is unknown or no longer open.
  virtual ApiResult<OrderInfo> CancelOrder(const OrderRef& ref) = 0;
  // DELETE /openOrders: cancels every open order of the user on the symbol.
  // -2011 when there is none.
  virtual ApiResult<std::vector<OrderInfo>> CancelOpenOrders(protocol::UserId user,
                                                             std::string_view symbol,
                                                             protocol::Timestamp now) = 0;
  // POST /order/cancelReplace (STOP_ON_FAILURE). An error means nothing was
  // cancelled: -2011 (the order to cancel is not open), or, in
  // implementations that check the new order before cancelling, its error.
  // Otherwise the old order is cancelled and the result says whether the
  // new one was placed (placed_error unset) or refused afterwards.
  virtual ApiResult<CancelReplaceResult> CancelReplace(const CancelReplaceRequest& req) = 0;
  // GET /order. -2013 when the user has no such order on the symbol.
  virtual ApiResult<OrderInfo> QueryOrder(const OrderRef& ref) const = 0;
  // GET /openOrders; an empty symbol means every symbol.
  virtual ApiResult<std::vector<OrderInfo>> OpenOrders(protocol::UserId user,
                                                       std::string_view symbol) const = 0;
  // GET /allOrders: open and closed orders of the symbol, oldest first.
  virtual ApiResult<std::vector<OrderInfo>> AllOrders(protocol::UserId user,
                                                      std::string_view symbol) const = 0;
  // GET /myTrades: the user's executions on the symbol, oldest first.
  virtual ApiResult<std::vector<TradeInfo>> MyTrades(protocol::UserId user,
                                                     std::string_view symbol) const = 0;
  // GET /account.
  virtual ApiResult<AccountInfo> Account(protocol::UserId user) const = 0;

  // Asynchronous forms of the requests that wait for the engine, for callers
  // that must not hold a thread while an order travels (the WebSocket API).
  // Same checks, effects and answers as the synchronous method, given to
  // `done` (see Done). The defaults call the synchronous method and `done`
  // on the caller's thread; the threaded service answers from the
  // partition's thread once the answer is ready, or with -1007 after its
  // timeout.
  virtual void PlaceOrderAsync(const PlaceOrderRequest& req, Done<OrderInfo> done) {
    done(PlaceOrder(req));
  }
  virtual void CancelOrderAsync(const OrderRef& ref, Done<OrderInfo> done) {
    done(CancelOrder(ref));
  }
  virtual void CancelOpenOrdersAsync(protocol::UserId user, std::string_view symbol,
                                     protocol::Timestamp now,
                                     Done<std::vector<OrderInfo>> done) {
    done(CancelOpenOrders(user, symbol, now));
  }
  virtual void CancelReplaceAsync(const CancelReplaceRequest& req,
                                  Done<CancelReplaceResult> done) {
    done(CancelReplace(req));
  }
};

}  // namespace xc::order_service
