#include "xc/gateway/hmac.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xc::gateway {
namespace {

std::string Bytes(size_t n, unsigned char b) { return std::string(n, static_cast<char>(b)); }

std::string Hex(const HmacSha256Key& key, std::string_view msg) { return ToHex(key.Sign(msg)); }

// RFC 4231 §4, HMAC-SHA-256 outputs (test case 5, truncated output, is omitted).
TEST(HmacSha256Test, Rfc4231Case1) {
  EXPECT_EQ(Hex(HmacSha256Key(Bytes(20, 0x0b)), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231Case2ShortKey) {
  EXPECT_EQ(Hex(HmacSha256Key("Jefe"), "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, Rfc4231Case3) {
  EXPECT_EQ(Hex(HmacSha256Key(Bytes(20, 0xaa)), Bytes(50, 0xdd)),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256Test, Rfc4231Case4) {
  std::string key;
  for (int i = 1; i <= 25; ++i) key.push_back(static_cast<char>(i));
  EXPECT_EQ(Hex(HmacSha256Key(key), Bytes(50, 0xcd)),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256Test, Rfc4231Case6KeyLongerThanBlock) {
  EXPECT_EQ(Hex(HmacSha256Key(Bytes(131, 0xaa)),
                "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, Rfc4231Case7LongKeyAndData) {
  EXPECT_EQ(Hex(HmacSha256Key(Bytes(131, 0xaa)),
                "This is a test using a larger than block-size key and a larger than "
                "block-size data. The key needs to be hashed before being used by the HMAC "
                "algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256Test, PiecesHashLikeTheirConcatenation) {
  const HmacSha256Key key("secret");
  const std::vector<std::string_view> pieces = {"symbol=A&", "", "side=BUY", "&x=1"};
  EXPECT_EQ(key.Sign(pieces), key.Sign("symbol=A&side=BUY&x=1"));
}

TEST(HmacSha256Test, PreparedKeyIsReusableAndCopyable) {
  const HmacSha256Key key("Jefe");
  const HmacSha256Key copy = key;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Hex(copy, "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  EXPECT_EQ(key.Sign("a"), copy.Sign("a"));
  EXPECT_NE(key.Sign("a"), key.Sign("b"));
}

TEST(HmacSha256Test, VerifyAcceptsEitherHexCaseOnly64Digits) {
  const HmacSha256Key key(Bytes(20, 0x0b));
  const std::string_view msg = "Hi There";
  const std::span<const std::string_view> pieces(&msg, 1);
  EXPECT_TRUE(key.Verify(pieces, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  EXPECT_TRUE(key.Verify(pieces, "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7"));
  EXPECT_FALSE(key.Verify(pieces, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff8"));
  EXPECT_FALSE(key.Verify(pieces, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff"));
  EXPECT_FALSE(key.Verify(pieces, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff70"));
  EXPECT_FALSE(key.Verify(pieces, "g0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  EXPECT_FALSE(key.Verify(pieces, ""));
}

}  // namespace
}  // namespace xc::gateway
