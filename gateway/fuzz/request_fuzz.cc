// libFuzzer target: arbitrary bytes through the request path of a SIGNED
// endpoint: parameter parsing, the API-key check, the recvWindow check, the
// HMAC signature check, strict numeric parsing, and error rendering.
//
// Input: newline-separated fields
//   query \n body \n api-key \n now-in-ms
// Missing fields are empty (now defaults to 1499827319559). Verification uses
// Binance's documented example secret, so seeds in corpus/ carry real
// signatures and reach the success path. Beyond "no crash, no ASan report",
// the target checks invariants and traps when one breaks.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "xc/gateway/hmac.h"
#include "xc/gateway/params.h"
#include "xc/gateway/request_auth.h"
#include "xc/order_service/api_error.h"
#include "xc/order_service/decimal.h"

namespace {

using namespace xc::gateway;
using xc::order_service::ApiError;
using xc::order_service::ApiResult;
using xc::order_service::FormatDecimal;
using xc::order_service::kMaxDecimalScale;
using xc::order_service::ParseDecimal;
using xc::order_service::ParseInteger;
using xc::order_service::ParseUnsigned;

constexpr std::string_view kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

void Require(bool cond) {
  if (!cond) __builtin_trap();
}

std::string_view NextField(std::string_view* rest) {
  const size_t nl = rest->find('\n');
  const std::string_view field = rest->substr(0, nl);
  *rest = nl == std::string_view::npos ? std::string_view() : rest->substr(nl + 1);
  return field;
}

// A rendered error is one JSON object with no raw control bytes.
void CheckErrorJson(const ApiError& e) {
  const std::string json = e.ToJson();
  Require(json.size() >= 9 && json.front() == '{' && json.back() == '}');
  for (char c : json) Require(static_cast<unsigned char>(c) >= 0x20);
  Require(e.http_status() >= 400 && e.http_status() < 600);
}

void FuzzNumbers(std::string_view name, std::string_view value) {
  const int scale = static_cast<int>(value.size() % (kMaxDecimalScale + 1));
  const ApiResult<int64_t> d = ParseDecimal(name, value, scale);
  if (d.ok()) {
    // Exact: formatting and parsing again gives the same units.
    const ApiResult<int64_t> again = ParseDecimal(name, FormatDecimal(*d, scale), scale);
    Require(again.ok() && *again == *d && *d >= 0);
  } else {
    CheckErrorJson(d.error());
  }
  const ApiResult<int64_t> i = ParseInteger(name, value, /*allow_negative=*/value.size() % 2);
  if (!i.ok()) CheckErrorJson(i.error());
  const ApiResult<uint64_t> u = ParseUnsigned(name, value);
  if (u.ok() && i.ok()) Require(static_cast<uint64_t>(*i) == *u);
  if (!u.ok()) CheckErrorJson(u.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view query = NextField(&rest);
  const std::string_view body = NextField(&rest);
  const std::string_view api_key = NextField(&rest);
  const std::string_view now_text = NextField(&rest);
  int64_t now_ms = 1'499'827'319'559;
  if (const ApiResult<int64_t> t = ParseInteger("now", now_text, true); t.ok()) now_ms = *t;
  const int64_t now_ns =
      (now_ms > INT64_MAX / 1'000'000 || now_ms < INT64_MIN / 1'000'000) ? now_ms : now_ms * 1'000'000;

  if (std::optional<ApiError> e = CheckApiKeyFormat(api_key)) CheckErrorJson(*e);

  // One object reused across inputs, as a connection would.
  static RequestParams params;
  static const HmacSha256Key key(kSecret);
  if (std::optional<ApiError> e = params.Parse(query, body)) {
    CheckErrorJson(*e);
    Require(params.size() == 0);
    return 0;
  }

  size_t payload_size = 0;
  for (std::string_view piece : params.SignedPayload()) payload_size += piece.size();
  Require(payload_size <= query.size() + body.size());
  if (!params.signature()) Require(payload_size == query.size() + body.size());

  for (const Param& p : params.all()) {
    Require(p.value.size() <= p.raw.size() && p.name.size() <= p.raw.size());
    FuzzNumbers(p.name, p.value);
  }

  if (std::optional<ApiError> e = AuthenticateSigned(params, key, now_ns)) {
    CheckErrorJson(*e);
  } else {
    // Accepted: the signature really is the HMAC of the payload.
    Require(params.signature() &&
            key.Verify(params.SignedPayload(), ToHex(key.Sign(params.SignedPayload()))));
  }

  // The API key bytes as an HMAC secret: arbitrary key lengths.
  const HmacSha256Key other(api_key);
  (void)other.Verify(params.SignedPayload(), params.signature().value_or(""));
  return 0;
}
