#pragma once
// Request security of SIGNED endpoints, exactly as Binance does it
// (BINANCE_COMPAT.md §2.1): the X-MBX-APIKEY header, the timestamp and
// recvWindow window, and the HMAC-SHA256 signature over the raw query string
// followed by the raw body.
//
// Time is an input (STYLE.md §8.11): every check takes the server's current
// time from the caller, who reads it from an injected clock; nothing here
// reads a clock. All functions are pure and thread-compatible: any thread, no
// shared state, no allocation except when formatting an error.
//
// Check order for a signed request (what the HTTP layer does):
//   1. CheckApiKeyFormat(header)          -2014
//   2. look the key up                    -2015 (kRejectedApiKey) if unknown
//   3. RequestParams::Parse(query, body)  -1100 / -1101
//   4. AuthenticateSigned(params, key, now): CheckRequestTime, then
//      CheckSignature                     -1102 / -1100 / -1131 / -1021 / -1022

#include <cstdint>
#include <optional>
#include <string_view>

#include "xc/order_service/api_error.h"
#include "xc/gateway/hmac.h"
#include "xc/gateway/params.h"
#include "xc/protocol/types.h"

namespace xc::gateway {

// The acceptance window. Defaults are Binance's.
struct RecvWindowPolicy {
  int64_t default_recv_window_us = 5'000'000;  // when the client sends no recvWindow
  int64_t max_recv_window_us = 60'000'000;     // larger values get -1131
  int64_t max_ahead_us = 1'000'000;            // timestamp must be < now + this
};

// A `timestamp` at or above this value is read as microseconds, below it as
// milliseconds (Binance accepts both). 10^14 ms is the year 5138, while
// microsecond timestamps have been above 10^15 since 2001.
inline constexpr int64_t kMicrosecondTimestampThreshold = 100'000'000'000'000;

// Validates the X-MBX-APIKEY header value (std::nullopt: header absent).
// Keys are 1..128 characters of [A-Za-z0-9_-] (Binance issues 64 alphanumerics).
// Outcomes: std::nullopt if well-formed; -2014 kBadApiKeyFormat if absent,
// empty, too long or with other characters (Binance answers a missing key
// on a signed endpoint with -2014, HTTP 401).
std::optional<order_service::ApiError> CheckApiKeyFormat(std::optional<std::string_view> header);

// The request's time fields, in microseconds since the Unix epoch.
struct RequestTime {
  int64_t timestamp_us;
  int64_t recv_window_us;
};

// Parses `timestamp` and `recvWindow` and applies Binance's rule: accept iff
// timestamp < now + 1000 ms and now - timestamp <= recvWindow.
// `now` is the server time in nanoseconds since the Unix epoch.
// Outcomes:
//   ok                               the parsed times;
//   -1102 kMandatoryParam 'timestamp'  absent or empty;
//   -1100 kIllegalCharsParam         timestamp not ^[0-9]{1,20}$, or
//                                    recvWindow not a decimal;
//   -1108 kParamOverflow             either value does not fit;
//   -1105 kParamEmpty 'recvWindow'   sent empty;
//   -1111 kBadPrecision              recvWindow with more than 3 decimals;
//   -1131 kBadRecvWindow             recvWindow > 60000 ms;
//   -1021 kTimestampAhead            timestamp >= now + 1000 ms;
//   -1021 kTimestampOutsideRecvWindow  now - timestamp > recvWindow.
order_service::ApiResult<RequestTime> CheckRequestTime(const RequestParams& params,
                                                       protocol::Timestamp now,
                                                       const RecvWindowPolicy& policy = {});

// Verifies `signature` against HMAC-SHA256(key, params.SignedPayload()).
// Outcomes: std::nullopt if it matches; -1102 kMandatoryParam 'signature' if
// absent or empty; -1022 kInvalidSignature otherwise (wrong value, wrong
// length, non-hex). Constant-time in the signature's content.
std::optional<order_service::ApiError> CheckSignature(const RequestParams& params,
                                                      const HmacSha256Key& key);

// CheckRequestTime, then CheckSignature; the first error wins.
// Cost: ~one HMAC over the payload (≈250 ns for a 200-byte order).
std::optional<order_service::ApiError> AuthenticateSigned(const RequestParams& params,
                                                          const HmacSha256Key& key,
                                                          protocol::Timestamp now,
                                                          const RecvWindowPolicy& policy = {});

}  // namespace xc::gateway
