#pragma once
// HMAC-SHA256 with the key schedule done once per API key.
//
// MEASURED_LIMITS.md: a one-shot HMAC() costs ~1,231 ns per request, against
// ~265 ns when the keyed context is prepared once per API key and reused. The
// prepared form here stores the SHA-256 states after absorbing key^ipad and
// key^opad; signing copies them (plain memory, no allocation) and hashes only
// the message.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace xc::gateway {

using HmacSha256Digest = std::array<uint8_t, 32>;

// A prepared HMAC-SHA256 key (one per API secret).
//
// Thread safety: immutable after construction; Sign()/Verify() are const and
// may run concurrently on any threads (each works on stack copies of the
// prepared states).
// Lifetime: build once when the API key is loaded, keep it next to the key
// record. The secret itself is not kept; the prepared states are wiped on
// destruction.
// Cost: construction ~2 SHA-256 blocks; Sign() hashes the message plus two
// blocks; no allocation anywhere.
class HmacSha256Key {
 public:
  // Prepares `secret` (any length; secrets longer than 64 bytes are hashed
  // first, as RFC 2104 requires).
  explicit HmacSha256Key(std::string_view secret);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&);
  HmacSha256Key& operator=(const HmacSha256Key&);

  // HMAC-SHA256(secret, concatenation of `pieces` in order).
  HmacSha256Digest Sign(std::span<const std::string_view> pieces) const;
  HmacSha256Digest Sign(std::string_view message) const {
    return Sign(std::span<const std::string_view>(&message, 1));
  }

  // True iff `hex_signature` is the 64-hex-digit HMAC of the concatenated
  // pieces. Hex digits are accepted in either case (Binance sends lowercase;
  // compare case-insensitively, BINANCE_COMPAT.md §2.1). Anything other than
  // 64 hex digits is false. The digest comparison is constant-time.
  bool Verify(std::span<const std::string_view> pieces, std::string_view hex_signature) const;

 private:
  // Opaque SHA256_CTX images (112 bytes in OpenSSL 3), kept out of this
  // header so that users do not include OpenSSL.
  alignas(8) unsigned char inner_[128];
  alignas(8) unsigned char outer_[128];
};

// Lowercase hex of a digest ("b0344c61...").
std::string ToHex(const HmacSha256Digest& digest);

}  // namespace xc::gateway
