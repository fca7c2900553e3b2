#include "xc/gateway/listen_keys.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>

#include "xc/protocol/check.h"

namespace xc::gateway {

namespace {

std::string RandomKey() {
  static constexpr char kAlnum[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string key;
  while (key.size() < ListenKeys::kKeyLength) {
    uint8_t buf[64];
    ssize_t n = ::getrandom(buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    XC_CHECK(n > 0);
    for (ssize_t i = 0; i < n && key.size() < ListenKeys::kKeyLength; ++i) {
      // 248 = 4 * 62: rejecting the rest keeps the characters uniform.
      if (buf[i] < 248) key.push_back(kAlnum[buf[i] % 62]);
    }
  }
  return key;
}

}  // namespace

void ListenKeys::DropExpired(protocol::Timestamp now, std::vector<std::string>* out) {
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    if (it->second.expires <= now) {
      by_user_.erase(it->second.user);
      out->push_back(it->first);
      it = by_key_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::string> ListenKeys::TakeExpired(protocol::Timestamp now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.swap(dropped_);
  DropExpired(now, &out);
  return out;
}

ListenKeys::Entry* ListenKeys::FindLive(std::string_view key, protocol::UserId user,
                                        protocol::Timestamp now) {
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end() || it->second.user != user || it->second.expires <= now) return nullptr;
  return &it->second;
}

std::string ListenKeys::Create(protocol::UserId user, protocol::Timestamp now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto u = by_user_.find(user);
  if (u != by_user_.end()) {
    if (Entry* e = FindLive(u->second, user, now)) {
      e->expires = now + kValidity;
      return u->second;
    }
  }
  DropExpired(now, &dropped_);
  std::string key;
  do {
    key = RandomKey();
  } while (by_key_.count(key) != 0);
  by_key_[key] = Entry{user, now + kValidity};
  by_user_[user] = key;
  return key;
}

bool ListenKeys::Extend(std::string_view key, protocol::UserId user, protocol::Timestamp now) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = FindLive(key, user, now);
  if (e == nullptr) return false;
  e->expires = now + kValidity;
  return true;
}

bool ListenKeys::Close(std::string_view key, protocol::UserId user, protocol::Timestamp now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (FindLive(key, user, now) == nullptr) return false;
  by_key_.erase(std::string(key));
  by_user_.erase(user);
  return true;
}

std::optional<protocol::UserId> ListenKeys::UserOf(std::string_view key,
                                                   protocol::Timestamp now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.user;
}

}  // namespace xc::gateway
