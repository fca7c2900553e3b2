// The low-level SHA256_* functions are deprecated in OpenSSL 3 in favour of
// EVP, but they are the only zero-allocation way to snapshot a keyed state:
// copying a SHA256_CTX is a memcpy, while EVP_MAC_CTX_dup / HMAC_CTX_copy /
// EVP_MD_CTX_copy_ex allocate provider contexts. Measured on the dev box for a
// 190-byte ccxt order payload: SHA256_CTX copy 237 ns, EVP_MD_CTX copy
// 359 ns, HMAC_CTX_copy 488 ns, EVP_MAC_CTX_dup 867 ns. The functions still
// use the same SHA-NI/AVX2 block code as EVP.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "xc/gateway/hmac.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace xc::gateway {
namespace {

static_assert(sizeof(SHA256_CTX) <= 128, "HmacSha256Key's state buffers are too small");
static_assert(alignof(SHA256_CTX) <= 8);

constexpr size_t kBlock = 64;

SHA256_CTX* Ctx(unsigned char* p) { return reinterpret_cast<SHA256_CTX*>(p); }
const SHA256_CTX* Ctx(const unsigned char* p) { return reinterpret_cast<const SHA256_CTX*>(p); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

HmacSha256Key::HmacSha256Key(std::string_view secret) {
  unsigned char key[kBlock] = {};
  if (secret.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), key);
  } else {
    std::memcpy(key, secret.data(), secret.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = key[i] ^ 0x36;
  SHA256_Init(Ctx(inner_));
  SHA256_Update(Ctx(inner_), pad, kBlock);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = key[i] ^ 0x5c;
  SHA256_Init(Ctx(outer_));
  SHA256_Update(Ctx(outer_), pad, kBlock);
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(pad, sizeof pad);
}

HmacSha256Key::~HmacSha256Key() {
  OPENSSL_cleanse(inner_, sizeof inner_);
  OPENSSL_cleanse(outer_, sizeof outer_);
}

HmacSha256Key::HmacSha256Key(const HmacSha256Key& other) {
  std::memcpy(inner_, other.inner_, sizeof inner_);
  std::memcpy(outer_, other.outer_, sizeof outer_);
}

HmacSha256Key& HmacSha256Key::operator=(const HmacSha256Key& other) {
  std::memcpy(inner_, other.inner_, sizeof inner_);
  std::memcpy(outer_, other.outer_, sizeof outer_);
  return *this;
}

HmacSha256Digest HmacSha256Key::Sign(std::span<const std::string_view> pieces) const {
  SHA256_CTX ctx = *Ctx(inner_);
  for (std::string_view p : pieces) SHA256_Update(&ctx, p.data(), p.size());
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner_digest, &ctx);
  ctx = *Ctx(outer_);
  SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
  HmacSha256Digest out;
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return out;
}

bool HmacSha256Key::Verify(std::span<const std::string_view> pieces,
                           std::string_view hex_signature) const {
  if (hex_signature.size() != 2 * sizeof(HmacSha256Digest)) return false;
  HmacSha256Digest given;
  for (size_t i = 0; i < given.size(); ++i) {
    const int hi = HexValue(hex_signature[2 * i]);
    const int lo = HexValue(hex_signature[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  const HmacSha256Digest expected = Sign(pieces);
  // Constant-time: the time taken does not reveal how many bytes matched.
  return CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

std::string ToHex(const HmacSha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * digest.size(), '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace xc::gateway
