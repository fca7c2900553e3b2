#include "xc/gateway/listen_keys.h"

#include <gtest/gtest.h>

#include <cctype>

namespace xc::gateway {
namespace {

constexpr protocol::Timestamp kMin = 60'000'000'000;
constexpr protocol::Timestamp kT0 = 1'700'000'000'000'000'000;

TEST(ListenKeysTest, CreateExtendCloseAndExpire) {
  ListenKeys keys;
  const std::string k = keys.Create(7, kT0);
  ASSERT_EQ(k.size(), 60u);
  for (char c : k) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << k;
  EXPECT_EQ(keys.UserOf(k, kT0), 7u);
  // POST again: the same key, extended.
  EXPECT_EQ(keys.Create(7, kT0 + 30 * kMin), k);
  EXPECT_EQ(keys.UserOf(k, kT0 + 89 * kMin), 7u);
  EXPECT_EQ(keys.UserOf(k, kT0 + 90 * kMin), std::nullopt);
  // Another user gets another key and cannot touch this one.
  const std::string k2 = keys.Create(8, kT0);
  EXPECT_NE(k2, k);
  EXPECT_FALSE(keys.Extend(k, 8, kT0));
  EXPECT_FALSE(keys.Close(k, 8, kT0));
  // PUT extends by 60 minutes from now.
  EXPECT_TRUE(keys.Extend(k, 7, kT0 + 80 * kMin));
  EXPECT_EQ(keys.UserOf(k, kT0 + 139 * kMin), 7u);
  // DELETE closes it.
  EXPECT_TRUE(keys.Close(k, 7, kT0 + 81 * kMin));
  EXPECT_EQ(keys.UserOf(k, kT0 + 81 * kMin), std::nullopt);
  EXPECT_FALSE(keys.Extend(k, 7, kT0 + 81 * kMin));
  // Expired keys cannot be extended; the next POST makes a new one.
  EXPECT_FALSE(keys.Extend(k2, 8, kT0 + 61 * kMin));
  const std::string k3 = keys.Create(8, kT0 + 61 * kMin);
  EXPECT_NE(k3, k2);
  EXPECT_EQ(keys.UserOf(k3, kT0 + 61 * kMin), 8u);
  EXPECT_EQ(keys.UserOf("nope", kT0), std::nullopt);
}

TEST(ListenKeysTest, TakeExpiredReturnsEachExpiredKeyOnce) {
  ListenKeys keys;
  const std::string a = keys.Create(1, kT0);
  const std::string b = keys.Create(2, kT0 + 10 * kMin);
  const std::string c = keys.Create(3, kT0);
  ASSERT_TRUE(keys.Close(c, 3, kT0 + kMin));  // closed: DELETE told its streams
  EXPECT_TRUE(keys.TakeExpired(kT0 + 59 * kMin).empty());
  EXPECT_EQ(keys.TakeExpired(kT0 + 60 * kMin), std::vector<std::string>{a});
  EXPECT_TRUE(keys.TakeExpired(kT0 + 60 * kMin).empty());
  EXPECT_EQ(keys.UserOf(b, kT0 + 60 * kMin), 2u);
  // A Create that drops an expired key keeps it for the next TakeExpired.
  const std::string d = keys.Create(4, kT0 + 71 * kMin);
  EXPECT_NE(d, b);
  EXPECT_EQ(keys.TakeExpired(kT0 + 71 * kMin), std::vector<std::string>{b});
}

}  // namespace
}  // namespace xc::gateway
