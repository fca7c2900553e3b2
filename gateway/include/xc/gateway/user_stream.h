#pragma once
// UserStreamHub: the user data stream (BINANCE_COMPAT.md §5) over WebSocket
// sessions. It is the order service's UserEventSink: each event is rendered
// once into Binance JSON and sent to every session subscribed to its user.
//
// Events (E = the change's time in ms, amounts 8-decimal strings, ids and
// times numbers):
//   {"e":"executionReport","E","s","c","S","o","f","q","p","P","F","g":-1,
//    "C","x","X","r","i","l","z","L","n","N","T","t","I","w","m","M":false,
//    "O","Z","Y","Q","W","V"}
//     C: the original client id on x = CANCELED, "" otherwise; N: null
//     without a trade; t: -1 without a trade; I: 0 (Binance: ignore);
//     W: -1 while the order never worked (pending stop, rejected).
//   {"e":"outboundAccountPosition","E","u","B":[{"a","f","l"}]}
//   {"e":"balanceUpdate","E","a","d","T"}
// A subscription with a subscription id (the WebSocket API,
// userDataStream.subscribe) gets {"subscriptionId":N,"event":{...}}; one
// without (the legacy /ws/<listenKey> stream) gets the event itself.
//
// Legacy listen-key sessions: AcceptListenKey makes the WsHandler of a
// /ws/<listenKey> session (StreamHub::SetListenKeyAcceptor routes it here):
// subscribed unwrapped at once, unsubscribed when the session closes; what
// the client sends is ignored. ListenKeyClosed (DELETE userDataStream, or
// an expiry noticed by the caller) sends those sessions
// {"e":"listenKeyExpired","E","listenKey"} and unsubscribes them; the
// sessions stay open (the client closes them, as Binance's do).
//
// Threads: Subscribe / Unsubscribe / AcceptListenKey / ListenKeyClosed from
// I/O threads, OnUserEvents from the partitions' committing threads (several
// at once, one per partition at a time), subscriptions() from
// anywhere. One mutex guards the subscriptions; OnUserEvents holds it for
// its span, renders an event only when its user has subscribers, and never
// blocks on a client (WsSession::Send queues; a slow consumer is closed by
// the server).
// Ownership: holds the subscribed sessions (shared_ptr) until they are
// unsubscribed; listen-key sessions are unsubscribed by their OnClose, which
// HttpServer::Stop causes. Subscriptions made by others (the WebSocket API)
// must be unsubscribed by them when their session closes.
// Cost: per event, O(subscribers of its user) sends; one render per event
// with subscribers plus one wrap per wrapped subscriber.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xc/gateway/http_server.h"
#include "xc/order_service/user_events.h"
#include "xc/protocol/types.h"

namespace xc::gateway {

class UserStreamHub final : public order_service::UserEventSink {
 public:
  UserStreamHub() = default;
  UserStreamHub(const UserStreamHub&) = delete;
  UserStreamHub& operator=(const UserStreamHub&) = delete;

  // Sends `user`'s events from now on to `session`: wrapped as
  // {"subscriptionId":N,"event":{...}} when `subscription_id` is set, raw
  // otherwise. Returns a token (never 0) for Unsubscribe. A session may hold
  // several subscriptions (each gets its own copy). Any thread.
  uint64_t Subscribe(protocol::UserId user, std::shared_ptr<WsSession> session,
                     std::optional<int64_t> subscription_id);
  // Ends the subscription and drops its session reference. False for an
  // unknown (or already removed) token. Any thread.
  bool Unsubscribe(uint64_t token);
  // Live subscriptions (metrics). Any thread.
  size_t subscriptions() const;

  // The handler of a legacy /ws/<listenKey> session of `user` (subscribed
  // now, unwrapped; unsubscribed by its OnClose). Any thread.
  std::shared_ptr<WsHandler> AcceptListenKey(protocol::UserId user, std::string listen_key,
                                             std::shared_ptr<WsSession> session);
  // The listen key was closed or expired at `now` (ns): its sessions get
  // listenKeyExpired and are unsubscribed. Returns how many. Any thread.
  size_t ListenKeyClosed(std::string_view listen_key, protocol::Timestamp now);

  // UserEventSink: the partitions' committing threads.
  void OnUserEvents(std::span<const order_service::UserEvent> events) override;

  // The Binance JSON of one event (unwrapped). Pure; any thread.
  static std::string Render(const order_service::UserEvent& event);

 private:
  struct Sub {
    protocol::UserId user = 0;
    std::shared_ptr<WsSession> session;
    std::optional<int64_t> subscription_id;
    std::string listen_key;  // "" unless a legacy listen-key session
  };

  mutable std::mutex mu_;
  uint64_t next_token_ = 1;                                           // guarded by mu_
  std::unordered_map<uint64_t, Sub> subs_;                            // guarded by mu_
  std::unordered_map<protocol::UserId, std::vector<uint64_t>> by_user_;  // guarded by mu_
};

}  // namespace xc::gateway
