#include "xc/gateway/request_auth.h"

#include <array>

#include "xc/order_service/decimal.h"

namespace xc::gateway {

using order_service::ApiError;
using order_service::ApiResult;
using order_service::ErrorId;
using order_service::ParseDecimal;
using order_service::ParseInteger;

namespace {

constexpr size_t kMaxApiKeyLength = 128;

// A-Z a-z 0-9 - _, as a table: every request's key goes through it.
constexpr auto kApiKeyChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  }
  return t;
}();

}  // namespace

std::optional<ApiError> CheckApiKeyFormat(std::optional<std::string_view> header) {
  if (!header || header->empty() || header->size() > kMaxApiKeyLength) {
    return ApiError(ErrorId::kBadApiKeyFormat);
  }
  for (char c : *header) {
    if (!kApiKeyChar[static_cast<unsigned char>(c)]) return ApiError(ErrorId::kBadApiKeyFormat);
  }
  return std::nullopt;
}

ApiResult<RequestTime> CheckRequestTime(const RequestParams& params, protocol::Timestamp now,
                                        const RecvWindowPolicy& policy) {
  const std::optional<std::string_view> ts_text = params.Get("timestamp");
  if (!ts_text || ts_text->empty()) return ApiError(ErrorId::kMandatoryParam, "timestamp");
  const ApiResult<int64_t> ts = ParseInteger("timestamp", *ts_text);
  if (!ts.ok()) return ts.error();
  int64_t timestamp_us = *ts;
  if (timestamp_us < kMicrosecondTimestampThreshold) timestamp_us *= 1000;  // was ms: < 1e17

  int64_t recv_window_us = policy.default_recv_window_us;
  if (const std::optional<std::string_view> rw = params.Get("recvWindow")) {
    if (rw->empty()) return ApiError(ErrorId::kParamEmpty, "recvWindow");
    // Milliseconds with up to three decimals: units of 10^-3 ms are µs.
    const ApiResult<int64_t> parsed = ParseDecimal("recvWindow", *rw, 3);
    if (!parsed.ok()) return parsed.error();
    recv_window_us = *parsed;
  }
  if (recv_window_us > policy.max_recv_window_us) return ApiError(ErrorId::kBadRecvWindow);

  const int64_t now_us = now / 1000;
  // The "ahead" test first: once timestamp < now + 1 s, now - timestamp
  // cannot overflow (timestamp >= 0 and |now| is bounded by int64 ns / 1000).
  if (timestamp_us >= now_us + policy.max_ahead_us) return ApiError(ErrorId::kTimestampAhead);
  if (now_us - timestamp_us > recv_window_us) {
    return ApiError(ErrorId::kTimestampOutsideRecvWindow);
  }
  return RequestTime{timestamp_us, recv_window_us};
}

std::optional<ApiError> CheckSignature(const RequestParams& params, const HmacSha256Key& key) {
  const std::optional<std::string_view> sig = params.signature();
  if (!sig || sig->empty()) return ApiError(ErrorId::kMandatoryParam, "signature");
  const std::array<std::string_view, 4> payload = params.SignedPayload();
  if (!key.Verify(payload, *sig)) return ApiError(ErrorId::kInvalidSignature);
  return std::nullopt;
}

std::optional<ApiError> AuthenticateSigned(const RequestParams& params, const HmacSha256Key& key,
                                           protocol::Timestamp now,
                                           const RecvWindowPolicy& policy) {
  const ApiResult<RequestTime> time = CheckRequestTime(params, now, policy);
  if (!time.ok()) return time.error();
  return CheckSignature(params, key);
}

}  // namespace xc::gateway
