#include "xc/order_service/threaded_order_service.h"

#include <memory>
#include <utility>

#include "xc/protocol/check.h"

namespace xc::order_service {
namespace {

using Clock = std::chrono::steady_clock;

ApiError Timeout() { return ApiError(ErrorId::kTimeout); }

OrderRef RefOf(const OrderInfo& o, protocol::UserId user) {
  return OrderRef{user, o.symbol, o.order_id, "", 0};
}

}  // namespace

ThreadedOrderService::ThreadedOrderService(const SymbolTable* symbols,
                                           std::vector<PartitionWorker*> workers,
                                           std::chrono::milliseconds timeout)
    : symbols_(symbols), workers_(std::move(workers)), timeout_(timeout) {
  XC_CHECK(!workers_.empty());
  for (size_t i = 0; i < workers_.size(); ++i) XC_CHECK(workers_[i]->id() == i);
}

PartitionWorker& ThreadedOrderService::WorkerFor(protocol::UserId user) const {
  return *workers_[PartitionOfUser(user, static_cast<uint32_t>(workers_.size()))];
}

template <typename T, typename Start, typename Ready, typename Finish>
void ThreadedOrderService::AwaitAsync(protocol::UserId user, Start start, Ready ready,
                                      Finish finish, Done<T> done) const {
  const Clock::time_point deadline = Clock::now() + timeout_;
  // Run finishes with the task before it returns: the task moves what the
  // checks keep out of this frame.
  WorkerFor(user).Run([&](PartitionWorker& w, Partition& p) {
    auto started = start(p);
    // A check that returns true is never run again, so it hands `done` on
    // by move: a copy would copy the caller's whole continuation (the
    // gateway's answer context), allocations included.
    if (!started.ok()) {
      // Answered once the request's batch is durable (it was journaled).
      w.AddCheck([&w, done = std::move(done), e = std::move(started).error()](Partition&) mutable {
        w.Defer([done = std::move(done), e = std::move(e)] { done(e); });
        return true;
      });
      return;
    }
    using Ctx = std::decay_t<decltype(started.value())>;
    w.AddCheck([&w, deadline, ctx = Ctx(std::move(started).value()), ready = std::move(ready),
                finish = std::move(finish), done = std::move(done)](Partition& p) mutable {
      if (ready(p, ctx)) {
        w.Defer([done = std::move(done), r = finish(p, ctx)]() mutable { done(std::move(r)); });
        return true;
      }
      if (Clock::now() < deadline) return false;
      w.Defer([done = std::move(done)] { done(Timeout()); });
      return true;
    });
  });
}

template <typename T, typename F>
ApiResult<T> ThreadedOrderService::Wait(F async) const {
  auto reply = std::make_shared<PartitionWorker::Reply<ApiResult<T>>>();
  async([reply](ApiResult<T> r) { reply->Set(std::move(r)); });
  // The worker answers -1007 itself at the deadline; this wait is longer so
  // that its answer wins, and still ends if the worker stopped or failed.
  std::optional<ApiResult<T>> r = reply->Wait(timeout_ + 2 * PartitionWorker::kCheckInterval);
  if (!r) return Timeout();
  return std::move(*r);
}

template <typename F>
auto ThreadedOrderService::Query(protocol::UserId user, F fn) const
    -> std::invoke_result_t<F, Partition&> {
  auto r = WorkerFor(user).Call(std::move(fn), timeout_);
  if (!r) return Timeout();
  return std::move(*r);
}

std::vector<SymbolConfig> ThreadedOrderService::ExchangeInfo() const {
  std::vector<SymbolConfig> out;
  for (const SymbolSpec& s : symbols_->symbols()) out.push_back(s.config);
  return out;
}

std::optional<ApiKeyRecord> ThreadedOrderService::LookupApiKey(std::string_view api_key) const {
  // A key may belong to any partition; the gateway caches the answer.
  const std::string key(api_key);
  for (PartitionWorker* w : workers_) {
    auto r = w->Call([key](Partition& p) { return p.LookupApiKey(key); }, timeout_);
    if (r && *r) return *r;
  }
  return std::nullopt;
}

ApiResult<OrderInfo> ThreadedOrderService::PlaceOrder(const PlaceOrderRequest& req) {
  return Wait<OrderInfo>([&](Done<OrderInfo> d) { PlaceOrderAsync(req, std::move(d)); });
}

void ThreadedOrderService::PlaceOrderAsync(const PlaceOrderRequest& req, Done<OrderInfo> done) {
  const protocol::UserId user = req.user;
  AwaitAsync<OrderInfo>(
      user, [req](Partition& p) { return p.PlaceOrder(req); },
      [](Partition& p, const Partition::Placed& pl) {
        return p.EngineConfirmed(pl.order.order_id);
      },
      [user](Partition& p, const Partition::Placed& pl) -> ApiResult<OrderInfo> {
        // As the order's own command left it, not as later commands did.
        ApiResult<OrderInfo> q = p.PlacementAnswer(RefOf(pl.order, user));
        // Refused by the engine (e.g. a LIMIT_MAKER that would take after
        // all): Binance answers the refusal, not a REJECTED order.
        if (q.ok() && q.value().status == OrderStatus::kRejected && q.value().reject) {
          return *q.value().reject;
        }
        return q;
      },
      std::move(done));
}

std::optional<ApiError> ThreadedOrderService::TestOrder(const PlaceOrderRequest& req) {
  auto r = WorkerFor(req.user).Call([req](Partition& p) { return p.TestOrder(req); }, timeout_);
  if (!r) return Timeout();
  return *r;
}

ApiResult<OrderInfo> ThreadedOrderService::CancelOrder(const OrderRef& ref) {
  return Wait<OrderInfo>([&](Done<OrderInfo> d) { CancelOrderAsync(ref, std::move(d)); });
}

void ThreadedOrderService::CancelOrderAsync(const OrderRef& ref, Done<OrderInfo> done) {
  const protocol::UserId user = ref.user;
  AwaitAsync<OrderInfo>(
      user, [ref](Partition& p) { return p.CancelOrder(ref); },
      [](Partition& p, const OrderInfo& o) { return p.IsFinal(o.order_id); },
      [user](Partition& p, const OrderInfo& o) -> ApiResult<OrderInfo> {
        ApiResult<OrderInfo> q = p.QueryOrder(RefOf(o, user));
        // It ended otherwise first (a trade filled it before the cancel got
        // there): the cancel did nothing, as Binance says for a filled order.
        if (q.ok() && q.value().status != OrderStatus::kCanceled) return errors::UnknownOrder();
        return q;
      },
      std::move(done));
}

ApiResult<std::vector<OrderInfo>> ThreadedOrderService::CancelOpenOrders(protocol::UserId user,
                                                                       std::string_view symbol,
                                                                       protocol::Timestamp now) {
  return Wait<std::vector<OrderInfo>>([&](Done<std::vector<OrderInfo>> d) {
    CancelOpenOrdersAsync(user, symbol, now, std::move(d));
  });
}

void ThreadedOrderService::CancelOpenOrdersAsync(protocol::UserId user, std::string_view symbol,
                                                 protocol::Timestamp now,
                                                 Done<std::vector<OrderInfo>> done) {
  AwaitAsync<std::vector<OrderInfo>>(
      user, [user, sym = std::string(symbol), now](Partition& p) {
        return p.CancelOpenOrders(user, sym, now);
      },
      [](Partition& p, const std::vector<OrderInfo>& os) {
        for (const OrderInfo& o : os) {
          if (!p.IsFinal(o.order_id)) return false;
        }
        return true;
      },
      [user](Partition& p, const std::vector<OrderInfo>& os) -> ApiResult<std::vector<OrderInfo>> {
        std::vector<OrderInfo> out;
        out.reserve(os.size());
        for (const OrderInfo& o : os) {
          ApiResult<OrderInfo> q = p.QueryOrder(RefOf(o, user));
          if (q.ok()) out.push_back(std::move(q).value());
        }
        return out;
      },
      std::move(done));
}

ApiResult<CancelReplaceResult> ThreadedOrderService::CancelReplace(
    const CancelReplaceRequest& req) {
  return Wait<CancelReplaceResult>(
      [&](Done<CancelReplaceResult> d) { CancelReplaceAsync(req, std::move(d)); });
}

void ThreadedOrderService::CancelReplaceAsync(const CancelReplaceRequest& req,
                                              Done<CancelReplaceResult> done) {
  // Two steps, not Partition::CancelReplace's single admission: the new
  // order must see the funds the cancel released (moving a buy's price with
  // the same money), which only the engine's confirmation frees. The second
  // step starts from the cancel's answer, which runs outside the partition's
  // mutex (PartitionWorker::Defer), as its own task.
  CancelOrderAsync(req.cancel, [this, order = req.order,
                                done = std::move(done)](ApiResult<OrderInfo> cancelled) mutable {
    if (!cancelled.ok()) return done(std::move(cancelled).error());
    PlaceOrderAsync(order, [c = std::move(cancelled).value(),
                            done = std::move(done)](ApiResult<OrderInfo> placed) mutable {
      CancelReplaceResult out;
      out.cancelled = std::move(c);
      if (placed.ok()) {
        out.placed = std::move(placed).value();
      } else {
        out.placed_error = std::move(placed).error();
      }
      done(std::move(out));
    });
  });
}

ApiResult<OrderInfo> ThreadedOrderService::QueryOrder(const OrderRef& ref) const {
  return Query(ref.user, [ref](Partition& p) { return p.QueryOrder(ref); });
}

ApiResult<std::vector<OrderInfo>> ThreadedOrderService::OpenOrders(protocol::UserId user,
                                                                 std::string_view symbol) const {
  return Query(user, [user, s = std::string(symbol)](Partition& p) {
    return p.OpenOrders(user, s);
  });
}

ApiResult<std::vector<OrderInfo>> ThreadedOrderService::AllOrders(protocol::UserId user,
                                                                std::string_view symbol) const {
  return Query(user, [user, s = std::string(symbol)](Partition& p) {
    return p.AllOrders(user, s);
  });
}

ApiResult<std::vector<TradeInfo>> ThreadedOrderService::MyTrades(protocol::UserId user,
                                                               std::string_view symbol) const {
  return Query(user, [user, s = std::string(symbol)](Partition& p) {
    return p.MyTrades(user, s);
  });
}

ApiResult<AccountInfo> ThreadedOrderService::Account(protocol::UserId user) const {
  return Query(user, [user](Partition& p) { return p.Account(user); });
}

}  // namespace xc::order_service
