#pragma once
// ListenKeys: the listenKeys of the legacy user data stream
// (POST/PUT/DELETE /api/v3/userDataStream, then /ws/<listenKey>;
// BINANCE_COMPAT.md §5), Binance's rules: a key is 60 random alphanumerics,
// valid for 60 minutes from its creation or last extension; a user has at
// most one active key, and creating again returns (and extends) it.
//
// Time is an input: every call takes the caller's `now` (ns since the
// epoch, from the gateway's WallClock). Keys come from the kernel's CSPRNG
// (getrandom), because a listenKey is a bearer token for the user's stream.
//
// Thread safety: every method may be called from any thread; one mutex
// guards the table (calls are rare: a client creates one key and extends it
// every 30 minutes).
// Memory: one entry per user with a live key; expired keys are dropped by
// the next Create or TakeExpired (Create keeps the dropped keys for the next
// TakeExpired, so their streams are still told).

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xc/protocol/types.h"

namespace xc::gateway {

class ListenKeys {
 public:
  static constexpr size_t kKeyLength = 60;
  static constexpr protocol::Timestamp kValidity = 60LL * 60 * 1'000'000'000;

  // The user's active key, extended to now + kValidity, or a new one.
  std::string Create(protocol::UserId user, protocol::Timestamp now);
  // Extends `key` to now + kValidity. False when it is not an active key of
  // `user` (answer -1125).
  bool Extend(std::string_view key, protocol::UserId user, protocol::Timestamp now);
  // Closes `key`. False when it is not an active key of `user` (-1125).
  bool Close(std::string_view key, protocol::UserId user, protocol::Timestamp now);
  // The user `key` belongs to, while it is active; nullopt otherwise.
  std::optional<protocol::UserId> UserOf(std::string_view key, protocol::Timestamp now) const;
  // Drops every key expired at `now` and returns them (with those a Create
  // dropped since the last call), so that their open streams can be ended
  // (listenKeyExpired). Closed keys are not included (DELETE tells them).
  std::vector<std::string> TakeExpired(protocol::Timestamp now);

 private:
  struct Entry {
    protocol::UserId user = 0;
    protocol::Timestamp expires = 0;
  };
  // Moves the keys expired at `now` out of the tables into *out.
  // REQUIRES: mu_ held.
  void DropExpired(protocol::Timestamp now, std::vector<std::string>* out);
  // The live entry of `key` owned by `user`, or nullptr. REQUIRES: mu_ held.
  Entry* FindLive(std::string_view key, protocol::UserId user, protocol::Timestamp now);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> by_key_;           // guarded by mu_
  std::unordered_map<protocol::UserId, std::string> by_user_;  // guarded by mu_
  std::vector<std::string> dropped_;  // expired keys Create removed; guarded by mu_
};

}  // namespace xc::gateway
