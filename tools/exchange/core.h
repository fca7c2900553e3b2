#pragma once
// Core: the order service of the one-process exchange, wired to one engine
// ShardRunner, behind one mutex (first version; see exchange_main.cc).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/gateway/rest_api.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/local_order_service.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"

namespace xc::exchange {

// Owns the partitions and the LocalOrderService over them, is their
// EngineLink (commands -> runner->Submit) and MarketView (best bid/ask from
// the engine's LevelChanged events, last price from Trades), and runs the
// event pump thread (runner->PollEvents -> Partition::OnEngineEvent).
//
// Thread safety: every use of the order service, the partitions and the
// market view happens under mu() (Send and Quote are called by partitions,
// hence under it too). The pump is the runner's only consumer; Send, called
// under mu(), is its only producer.
class Core : public order_service::EngineLink, public order_service::MarketView {
 public:
  // Borrows all arguments. REQUIRES: the runner is started and outlives this.
  Core(const order_service::SymbolTable* symbols, uint32_t partitions,
       engine::node::ShardRunner* runner, const gateway::WallClock* clock);
  ~Core() override;  // StopPump()

  // Starts the pump thread. on_engine_stopped runs (once, on the pump thread)
  // if the runner stops accepting commands (journal failure).
  void StartPump(std::function<void()> on_engine_stopped);
  // Stops the pump after delivering every event the runner has published.
  // Call after runner->Stop(). Idempotent.
  void StopPump();

  std::mutex& mu() { return mu_; }
  // REQUIRES: mu() held.
  order_service::LocalOrderService& service() { return *service_; }

  struct NewUser {
    protocol::UserId user = 0;
    std::string api_key, secret_key;
  };
  // Creates the next user id with a fresh API key + secret (64 hex chars each
  // from /dev/urandom). Takes mu(). Internal if /dev/urandom fails.
  [[nodiscard]] absl::StatusOr<NewUser> CreateUser();
  // Credits (delta > 0) or withdraws (delta < 0) `asset` of `user`; returns
  // the balance afterwards. Takes mu(). NotFound "userId" / "asset";
  // FailedPrecondition when the free balance is short; InvalidArgument for 0.
  [[nodiscard]] absl::StatusOr<order_service::BalanceInfo> ChangeBalance(
      protocol::UserId user, std::string_view asset, order_service::Amount delta);

  // Sends a mass cancel for every open order of every user and waits (up to
  // `timeout`) until the engine has confirmed them. Shutdown only, after the
  // HTTP servers stopped. Returns the open orders left (0 normally).
  size_t CancelAllOpenOrders(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // EngineLink / MarketView. REQUIRES: mu() held (called by partitions).
  void Send(const protocol::Command& cmd) override;
  order_service::MarketQuote Quote(protocol::SymbolId symbol) const override;

 private:
  struct Book {
    std::map<protocol::Price, protocol::Qty, std::greater<>> bids;
    std::map<protocol::Price, protocol::Qty> asks;
    protocol::Price last = 0;
  };
  void PumpLoop(std::function<void()> on_engine_stopped);
  void Route(const protocol::Event& e);  // REQUIRES: mu() held
  size_t OpenOrders();                   // REQUIRES: mu() held

  const order_service::SymbolTable* symbols_;
  engine::node::ShardRunner* runner_;
  const gateway::WallClock* clock_;

  std::mutex mu_;
  std::vector<std::unique_ptr<order_service::Partition>> parts_;  // guarded by mu_
  std::unique_ptr<order_service::LocalOrderService> service_;     // guarded by mu_
  std::vector<Book> books_;                                       // guarded by mu_
  protocol::UserId next_user_ = 1;                                // guarded by mu_
  uint64_t dropped_commands_ = 0;                                 // guarded by mu_

  std::thread pump_;
  std::atomic<bool> stop_pump_{false};
};

// OrderServiceApi that takes core->mu() around each call of the
// LocalOrderService (what the gateway's RestApi is given).
class LockedOrderService final : public order_service::OrderServiceApi {
 public:
  explicit LockedOrderService(Core* core) : core_(core) {}

  std::vector<order_service::SymbolConfig> ExchangeInfo() const override;
  std::optional<order_service::ApiKeyRecord> LookupApiKey(std::string_view api_key) const override;
  order_service::ApiResult<order_service::OrderInfo> PlaceOrder(
      const order_service::PlaceOrderRequest& req) override;
  std::optional<order_service::ApiError> TestOrder(
      const order_service::PlaceOrderRequest& req) override;
  order_service::ApiResult<order_service::OrderInfo> CancelOrder(
      const order_service::OrderRef& ref) override;
  order_service::ApiResult<std::vector<order_service::OrderInfo>> CancelOpenOrders(
      protocol::UserId user, std::string_view symbol, protocol::Timestamp now) override;
  order_service::ApiResult<order_service::CancelReplaceResult> CancelReplace(
      const order_service::CancelReplaceRequest& req) override;
  order_service::ApiResult<order_service::OrderInfo> QueryOrder(
      const order_service::OrderRef& ref) const override;
  order_service::ApiResult<std::vector<order_service::OrderInfo>> OpenOrders(
      protocol::UserId user, std::string_view symbol) const override;
  order_service::ApiResult<std::vector<order_service::OrderInfo>> AllOrders(
      protocol::UserId user, std::string_view symbol) const override;
  order_service::ApiResult<std::vector<order_service::TradeInfo>> MyTrades(
      protocol::UserId user, std::string_view symbol) const override;
  order_service::ApiResult<order_service::AccountInfo> Account(
      protocol::UserId user) const override;

 private:
  Core* core_;
};

}  // namespace xc::exchange
