#pragma once
// Request parameters of the REST API: the raw query string and an
// application/x-www-form-urlencoded body split into (name, value) pairs.
//
// The clients differ in where they put parameters (BINANCE_COMPAT.md §2.1):
// ccxt sends POST/PUT parameters in a form body with an empty query, while
// @binance/connector sends everything in the query with an empty body. Both
// are parsed the same way; a name present in both places takes the query's
// value (Binance's rule). The raw strings are kept untouched, because the
// signature is computed over the bytes as sent, not over decoded values.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "xc/order_service/api_error.h"

namespace xc::gateway {

// Bounds on one request's parameters. Binance's largest spot endpoints take
// about 25 parameters and under 2 KB of text; these leave ample room.
struct ParamLimits {
  size_t max_query_bytes = 8 * 1024;
  size_t max_body_bytes = 64 * 1024;
  size_t max_params = 64;  // query and body together; at most kMaxParams
};

enum class ParamSource : uint8_t { kQuery = 0, kBody = 1 };

// One parsed parameter. `name` and `value` are percent-decoded ('+' is a
// space); `raw` is the exact "name=value" bytes as sent.
struct Param {
  std::string_view name;
  std::string_view value;
  std::string_view raw;
  ParamSource source;
};

// The parameters of one request, parsed in place.
//
// Owner and thread: one object per connection (or per request) on the I/O
// thread that parses it; not thread-safe. Reuse it across requests: Parse()
// resets it.
// Lifetime: the views returned point into the `query`/`body` passed to the
// last Parse() or into this object's decode buffer, so they are valid until
// the next Parse() or until those strings are freed, whichever comes first.
// Invariants after a successful Parse(): no name occurs twice in one source;
// size() <= limits.max_params; every escape was a valid %XX.
// Allocation: values without escapes are views into the request; a value
// with '%' or '+' is decoded into a buffer that grows to the largest request
// seen and is then reused, so a reused object allocates nothing after
// warm-up. Parameter slots are a fixed inline array.
// Cost: ~350 ns for ccxt's 13-parameter order body (260 bytes).
class RequestParams {
 public:
  static constexpr size_t kMaxParams = 64;

  RequestParams() = default;
  RequestParams(const RequestParams&) = delete;
  RequestParams& operator=(const RequestParams&) = delete;

  // Splits `query` (without the leading '?') and the form `body` into
  // parameters. Pass an empty body for requests without a form body (the
  // connector's POSTs carry Content-Type: application/json and no body).
  // Empty segments ("a=1&&b=2", a trailing '&') are skipped; a segment
  // without '=' is a parameter with an empty value.
  // Outcomes (on error the object is empty):
  //   std::nullopt              parsed;
  //   -1101 kTooManyParameters  more than limits.max_params parameters, or the
  //                             query/body is longer than its byte limit;
  //   -1101 kDuplicateParameter a name occurs twice in the query or twice in
  //                             the body (after decoding: "a=1&%61=2" too);
  //   -1100 kIllegalChars       a '%' not followed by two hex digits, or an
  //                             empty name ("=5").
  // Cost: O(bytes + params^2) with params <= 64; see the class comment for
  // allocation.
  [[nodiscard]] std::optional<order_service::ApiError> Parse(std::string_view query,
                                                             std::string_view body,
                                                             const ParamLimits& limits = {});

  // The parameter called `name`: the query's if both sources have it.
  const Param* Find(std::string_view name) const;
  // Its decoded value, or std::nullopt when absent (an empty value is present).
  std::optional<std::string_view> Get(std::string_view name) const;

  // All parameters in wire order: the query's, then the body's.
  std::span<const Param> all() const { return {params_.data(), count_}; }
  size_t size() const { return count_; }

  std::string_view raw_query() const { return query_; }
  std::string_view raw_body() const { return body_; }

  // The bytes that were signed (BINANCE_COMPAT.md §2.1): the raw query
  // followed without separator by the raw body, each with its
  // "signature=..." pair and one adjoining '&' removed, everything else
  // byte for byte. Returned as up to four pieces to hash in order (some may
  // be empty), so that nothing is copied.
  std::array<std::string_view, 4> SignedPayload() const;

  // The decoded value of the "signature" parameter (query's first), if any.
  std::optional<std::string_view> signature() const { return Get("signature"); }

 private:
  // Parses one source into params_; appends decoded bytes at decoded_used_.
  std::optional<order_service::ApiError> ParseSource(std::string_view raw, ParamSource source,
                                                     const ParamLimits& limits);
  // Splits `raw` around `sig` (a view into raw), dropping one adjoining '&'.
  static void RemovePair(std::string_view raw, std::string_view sig, std::string_view* before,
                         std::string_view* after);
  void Clear();

  std::string_view query_;
  std::string_view body_;
  std::array<Param, kMaxParams> params_{};
  size_t count_ = 0;
  std::string decoded_;  // decode buffer: sized before parsing, never reallocated during it
  size_t decoded_used_ = 0;
};

}  // namespace xc::gateway
