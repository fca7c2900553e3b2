#include "xc/gateway/user_stream.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "src/rest_util.h"

namespace xc::gateway {

namespace os = order_service;
using internal::Amt;
using internal::AppendInt;
using internal::Bool;
using internal::Int;
using internal::Ms;
using internal::Str;

namespace {

void RenderReport(const os::ExecutionReport& r, std::string* out) {
  const os::OrderInfo& o = r.order;
  out->append("{\"e\":\"executionReport\"");
  Int("E", Ms(r.event_time), out);
  Str("s", o.symbol, out);
  Str("c", o.client_order_id, out);
  Str("S", os::SideName(o.side), out);
  Str("o", os::OrderTypeName(o.type), out);
  Str("f", os::TimeInForceName(o.time_in_force), out);
  Amt("q", o.orig_qty, out);
  Amt("p", o.price, out);
  Amt("P", o.stop_price, out);
  Amt("F", o.iceberg_qty, out);
  Int("g", -1, out);
  Str("C", r.orig_client_order_id, out);
  Str("x", os::ExecutionTypeName(r.execution_type), out);
  Str("X", os::OrderStatusName(o.status), out);
  Str("r", r.reject_reason, out);
  Int("i", static_cast<int64_t>(o.order_id), out);
  Amt("l", r.last_qty, out);
  Amt("z", o.executed_qty, out);
  Amt("L", r.last_price, out);
  Amt("n", r.commission, out);
  if (r.commission_asset.empty()) {
    out->append(",\"N\":null");
  } else {
    Str("N", r.commission_asset, out);
  }
  Int("T", Ms(r.transaction_time), out);
  Int("t", r.trade_id, out);
  Int("I", 0, out);
  Bool("w", r.is_working, out);
  Bool("m", r.is_maker, out);
  Bool("M", false, out);
  Int("O", Ms(o.time), out);
  Amt("Z", o.cummulative_quote_qty, out);
  Amt("Y", r.last_quote_qty, out);
  Amt("Q", o.orig_quote_order_qty, out);
  Int("W", r.working_time < 0 ? -1 : Ms(r.working_time), out);
  Str("V", internal::StpName(o.stp), out);
  out->push_back('}');
}

void RenderPosition(const os::AccountPosition& p, std::string* out) {
  out->append("{\"e\":\"outboundAccountPosition\"");
  Int("E", Ms(p.event_time), out);
  Int("u", Ms(p.update_time), out);
  out->append(",\"B\":[");
  for (size_t i = 0; i < p.balances.size(); ++i) {
    if (i != 0) out->push_back(',');
    out->append("{\"a\":\"");
    os::AppendJsonEscaped(p.balances[i].asset, out);
    out->push_back('"');
    Amt("f", p.balances[i].free, out);
    Amt("l", p.balances[i].locked, out);
    out->push_back('}');
  }
  out->append("]}");
}

void RenderBalanceUpdate(const os::BalanceUpdate& b, std::string* out) {
  out->append("{\"e\":\"balanceUpdate\"");
  Int("E", Ms(b.event_time), out);
  Str("a", b.asset, out);
  Amt("d", b.delta, out);
  Int("T", Ms(b.clear_time), out);
  out->push_back('}');
}

// The handler of a legacy /ws/<listenKey> session.
class ListenKeySession final : public WsHandler {
 public:
  ListenKeySession(UserStreamHub* hub, uint64_t token) : hub_(hub), token_(token) {}
  void OnMessage(std::string_view) override {}  // nothing to ask on this stream
  void OnClose() override { hub_->Unsubscribe(token_); }

 private:
  UserStreamHub* const hub_;
  const uint64_t token_;
};

}  // namespace

std::string UserStreamHub::Render(const os::UserEvent& event) {
  std::string out;
  out.reserve(512);
  if (const auto* r = std::get_if<os::ExecutionReport>(&event)) {
    RenderReport(*r, &out);
  } else if (const auto* p = std::get_if<os::AccountPosition>(&event)) {
    RenderPosition(*p, &out);
  } else {
    RenderBalanceUpdate(std::get<os::BalanceUpdate>(event), &out);
  }
  return out;
}

uint64_t UserStreamHub::Subscribe(protocol::UserId user, std::shared_ptr<WsSession> session,
                                  std::optional<int64_t> subscription_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t token = next_token_++;
  subs_.emplace(token, Sub{user, std::move(session), subscription_id, {}});
  by_user_[user].push_back(token);
  return token;
}

bool UserStreamHub::Unsubscribe(uint64_t token) {
  std::shared_ptr<WsSession> drop;  // released after the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subs_.find(token);
  if (it == subs_.end()) return false;
  auto u = by_user_.find(it->second.user);
  if (u != by_user_.end()) {
    std::erase(u->second, token);
    if (u->second.empty()) by_user_.erase(u);
  }
  drop = std::move(it->second.session);
  subs_.erase(it);
  return true;
}

size_t UserStreamHub::subscriptions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

std::shared_ptr<WsHandler> UserStreamHub::AcceptListenKey(protocol::UserId user,
                                                          std::string listen_key,
                                                          std::shared_ptr<WsSession> session) {
  uint64_t token;
  {
    std::lock_guard<std::mutex> lock(mu_);
    token = next_token_++;
    subs_.emplace(token, Sub{user, std::move(session), std::nullopt, std::move(listen_key)});
    by_user_[user].push_back(token);
  }
  return std::make_shared<ListenKeySession>(this, token);
}

size_t UserStreamHub::ListenKeyClosed(std::string_view listen_key, protocol::Timestamp now) {
  std::vector<uint64_t> tokens;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string msg = "{\"e\":\"listenKeyExpired\"";
    Int("E", Ms(now), &msg);
    Str("listenKey", listen_key, &msg);
    msg.push_back('}');
    auto shared = std::make_shared<const std::string>(std::move(msg));
    for (const auto& [token, sub] : subs_) {
      if (!sub.listen_key.empty() && sub.listen_key == listen_key) {
        sub.session->Send(shared);
        tokens.push_back(token);
      }
    }
  }
  for (uint64_t t : tokens) Unsubscribe(t);
  return tokens.size();
}

void UserStreamHub::OnUserEvents(std::span<const os::UserEvent> events) {
  std::lock_guard<std::mutex> lock(mu_);
  if (subs_.empty()) return;
  for (const os::UserEvent& e : events) {
    auto u = by_user_.find(os::UserOf(e));
    if (u == by_user_.end()) continue;
    std::string raw = Render(e);
    std::shared_ptr<const std::string> shared_raw;
    for (uint64_t token : u->second) {
      const Sub& sub = subs_.at(token);
      if (sub.subscription_id.has_value()) {
        std::string wrapped = "{\"subscriptionId\":";
        AppendInt(*sub.subscription_id, &wrapped);
        wrapped.append(",\"event\":").append(raw).push_back('}');
        sub.session->Send(std::make_shared<const std::string>(std::move(wrapped)));
      } else {
        if (!shared_raw) shared_raw = std::make_shared<const std::string>(raw);
        sub.session->Send(shared_raw);
      }
    }
  }
}

}  // namespace xc::gateway
