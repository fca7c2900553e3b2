#include "core.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace xc::exchange {
namespace {

using order_service::Amount;

absl::StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError("open /dev/urandom failed");
  size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::read(fd, raw.data() + got, bytes - got);
    if (n <= 0) {
      ::close(fd);
      return absl::InternalError("read /dev/urandom failed");
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace

Core::Core(const order_service::SymbolTable* symbols, uint32_t partitions,
           engine::node::ShardRunner* runner, const gateway::WallClock* clock)
    : symbols_(symbols), runner_(runner), clock_(clock), books_(symbols->size()) {
  std::vector<order_service::Partition*> raw;
  for (order_service::PartitionId p = 0; p < partitions; ++p) {
    parts_.push_back(std::make_unique<order_service::Partition>(p, partitions, symbols, this, this,
                                                                /*journal=*/nullptr));
    raw.push_back(parts_.back().get());
  }
  service_ = std::make_unique<order_service::LocalOrderService>(symbols, std::move(raw));
}

Core::~Core() { StopPump(); }

void Core::StartPump(std::function<void()> on_engine_stopped) {
  pump_ = std::thread([this, f = std::move(on_engine_stopped)] { PumpLoop(f); });
}

void Core::StopPump() {
  stop_pump_.store(true, std::memory_order_release);
  if (pump_.joinable()) pump_.join();
}

void Core::PumpLoop(std::function<void()> on_engine_stopped) {
  std::vector<protocol::Event> pending;
  pending.reserve(4096);
  protocol::Event buf[256];
  int idle = 0;
  bool reported = false;
  for (;;) {
    // Read before polling: once set, the runner has stopped and published
    // everything, so an empty poll afterwards means nothing is left.
    const bool stop = stop_pump_.load(std::memory_order_acquire);
    const size_t n = runner_->PollEvents(buf, std::size(buf));
    pending.insert(pending.end(), buf, buf + n);
    if (!pending.empty()) {
      // try_lock: never wait for a handler that may itself wait for the
      // engine (Send on a full input ring); keep draining the runner instead.
      std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
      if (lock.owns_lock()) {
        for (const protocol::Event& e : pending) Route(e);
        pending.clear();
      }
    }
    if (!reported && runner_->stopped()) {
      reported = true;
      if (on_engine_stopped) on_engine_stopped();
    }
    if (n != 0) {
      idle = 0;
      continue;
    }
    if (stop && pending.empty()) return;
    if (++idle < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}

void Core::Route(const protocol::Event& e) {
  if (e.symbol < books_.size()) {
    Book& b = books_[e.symbol];
    if (e.type == protocol::EventType::kLevelChanged) {
      if (e.side == protocol::Side::kBuy) {
        if (e.qty == 0)
          b.bids.erase(e.price);
        else
          b.bids[e.price] = e.qty;
      } else {
        if (e.qty == 0)
          b.asks.erase(e.price);
        else
          b.asks[e.price] = e.qty;
      }
      return;
    }
    if (e.type == protocol::EventType::kTrade) b.last = e.price;
  }
  const order_service::PartitionId a = order_service::PartitionOfOrder(e.order_id);
  if (a < parts_.size()) parts_[a]->OnEngineEvent(e);
  if (e.type == protocol::EventType::kTrade) {
    const order_service::PartitionId m = order_service::PartitionOfOrder(e.maker_id);
    if (m != a && m < parts_.size()) parts_[m]->OnEngineEvent(e);
  }
}

void Core::Send(const protocol::Command& cmd) {
  // The input ring holds 16k commands; a full one means the engine is behind,
  // and waiting here (under mu_) is the backpressure of this first version.
  while (!runner_->Submit(cmd)) {
    if (runner_->stopped()) {
      // The journal failed: the process is shutting down with exit code 1.
      ++dropped_commands_;
      return;
    }
    std::this_thread::yield();
  }
}

order_service::MarketQuote Core::Quote(protocol::SymbolId symbol) const {
  order_service::MarketQuote q;
  if (symbol >= books_.size()) return q;
  const Book& b = books_[symbol];
  if (!b.bids.empty()) q.best_bid = b.bids.begin()->first;
  if (!b.asks.empty()) q.best_ask = b.asks.begin()->first;
  q.last = b.last;
  return q;
}

absl::StatusOr<Core::NewUser> Core::CreateUser() {
  auto key = RandomHex(32);
  if (!key.ok()) return key.status();
  auto secret = RandomHex(32);
  if (!secret.ok()) return secret.status();
  std::lock_guard<std::mutex> lock(mu_);
  protocol::UserId id = next_user_++;
  order_service::Partition& p = service_->PartitionFor(id);
  if (absl::Status s = p.CreateUser(id); !s.ok()) return s;
  if (absl::Status s = p.AddApiKey(id, *key, *secret); !s.ok()) return s;
  return NewUser{id, *std::move(key), *std::move(secret)};
}

absl::StatusOr<order_service::BalanceInfo> Core::ChangeBalance(protocol::UserId user,
                                                               std::string_view asset,
                                                               Amount delta) {
  const auto asset_id = symbols_->FindAsset(asset);
  if (!asset_id) return absl::NotFoundError("asset");
  if (delta == 0) return absl::InvalidArgumentError("amount");
  std::lock_guard<std::mutex> lock(mu_);
  order_service::Partition& p = service_->PartitionFor(user);
  if (!p.HasUser(user)) return absl::NotFoundError("userId");
  const protocol::Timestamp now = clock_->NowNanos();
  absl::Status s =
      delta > 0 ? p.Credit(user, asset, delta, now) : p.Withdraw(user, asset, -delta, now);
  if (!s.ok()) return s;
  auto account = p.Account(user);
  if (!account.ok()) return absl::InternalError("account lookup failed");
  return account.value().balances[*asset_id];
}

size_t Core::OpenOrders() {
  size_t n = 0;
  for (const auto& p : parts_) n += p->open_orders();
  return n;
}

size_t Core::CancelAllOpenOrders(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (OpenOrders() == 0) return 0;
    const protocol::Timestamp now = clock_->NowNanos();
    for (const auto& p : parts_) {
      for (protocol::UserId u : p->Users()) {
        for (const auto& s : symbols_->symbols()) {
          (void)p->CancelOpenOrders(u, s.name, now);  // -2011 when none: fine
        }
      }
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      const size_t left = OpenOrders();
      if (left == 0 || std::chrono::steady_clock::now() >= deadline) return left;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// ---- LockedOrderService ----

#define XC_LOCKED(call)                          \
  std::lock_guard<std::mutex> lock(core_->mu()); \
  return core_->service().call

std::vector<order_service::SymbolConfig> LockedOrderService::ExchangeInfo() const {
  XC_LOCKED(ExchangeInfo());
}
std::optional<order_service::ApiKeyRecord> LockedOrderService::LookupApiKey(
    std::string_view api_key) const {
  XC_LOCKED(LookupApiKey(api_key));
}
order_service::ApiResult<order_service::OrderInfo> LockedOrderService::PlaceOrder(
    const order_service::PlaceOrderRequest& req) {
  XC_LOCKED(PlaceOrder(req));
}
std::optional<order_service::ApiError> LockedOrderService::TestOrder(
    const order_service::PlaceOrderRequest& req) {
  XC_LOCKED(TestOrder(req));
}
order_service::ApiResult<order_service::OrderInfo> LockedOrderService::CancelOrder(
    const order_service::OrderRef& ref) {
  XC_LOCKED(CancelOrder(ref));
}
order_service::ApiResult<std::vector<order_service::OrderInfo>>
LockedOrderService::CancelOpenOrders(protocol::UserId user, std::string_view symbol,
                                     protocol::Timestamp now) {
  XC_LOCKED(CancelOpenOrders(user, symbol, now));
}
order_service::ApiResult<order_service::CancelReplaceResult> LockedOrderService::CancelReplace(
    const order_service::CancelReplaceRequest& req) {
  XC_LOCKED(CancelReplace(req));
}
order_service::ApiResult<order_service::OrderInfo> LockedOrderService::QueryOrder(
    const order_service::OrderRef& ref) const {
  XC_LOCKED(QueryOrder(ref));
}
order_service::ApiResult<std::vector<order_service::OrderInfo>> LockedOrderService::OpenOrders(
    protocol::UserId user, std::string_view symbol) const {
  XC_LOCKED(OpenOrders(user, symbol));
}
order_service::ApiResult<std::vector<order_service::OrderInfo>> LockedOrderService::AllOrders(
    protocol::UserId user, std::string_view symbol) const {
  XC_LOCKED(AllOrders(user, symbol));
}
order_service::ApiResult<std::vector<order_service::TradeInfo>> LockedOrderService::MyTrades(
    protocol::UserId user, std::string_view symbol) const {
  XC_LOCKED(MyTrades(user, symbol));
}
order_service::ApiResult<order_service::AccountInfo> LockedOrderService::Account(
    protocol::UserId user) const {
  XC_LOCKED(Account(user));
}

#undef XC_LOCKED

}  // namespace xc::exchange
