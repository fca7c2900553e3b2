#pragma once
// Rendering and parameter helpers shared by the gateway's REST handlers
// (RestApi, MarketDataApi): one formatter for Binance's JSON fields and one
// reading of the common parameters, so that every endpoint writes amounts,
// symbols and errors the same way. Private to gateway/src.
//
// Thread safety: pure functions; any thread. They allocate only by growing
// the output string (and an ApiError's message when one is returned).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xc/gateway/http_server.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/params.h"
#include "xc/order_service/api_error.h"
#include "xc/protocol/types.h"

namespace xc::gateway::internal {

// Binance's symbol patterns, as quoted in -1100 messages.
inline constexpr std::string_view kSymbolPattern = "^[A-Z0-9-_.]{1,20}$";
inline constexpr std::string_view kSymbolsPattern =
    "^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$";

// Matches kSymbolPattern.
bool IsSymbolName(std::string_view s);
// Splits `["A","B"]` into names (views into `s`). False when `s` does not
// match kSymbolsPattern.
bool SplitSymbols(std::string_view s, std::vector<std::string_view>* out);

// Replaces the response with the error's JSON body and HTTP status.
// Binance's name of a self-trade prevention mode ("NONE", "EXPIRE_TAKER", ...).
const char* StpName(protocol::StpMode m);

void SetError(const order_service::ApiError& e, HttpResponse& resp);

inline int64_t Ms(protocol::Timestamp ns) { return ns / 1'000'000; }

void AppendInt(int64_t v, std::string* out);
// ,"name":"<8-decimal amount>" (1e-8 units, the order service's Amount)
void Amt(std::string_view name, int64_t units, std::string* out);
// "<8-decimal amount>" with its quotes
void AmtValue(int64_t units, std::string* out);
// ["<price>","<qty>"]: one book level as Binance writes it (depth, streams)
void LevelValue(int64_t price, int64_t qty, std::string* out);
// [level, ...] of the first `max` levels
void AppendLevels(const std::vector<MarketData::Level>& levels, size_t max, std::string* out);
// ,"name":"<escaped text>"
void Str(std::string_view name, std::string_view v, std::string* out);
// ,"name":<integer>
void Int(std::string_view name, int64_t v, std::string* out);
// ,"name":true|false
void Bool(std::string_view name, bool v, std::string* out);

// A mandatory parameter: absent or empty is -1102.
std::optional<order_service::ApiError> Mandatory(const RequestParams& p, std::string_view name,
                                                 std::string_view* out);
// An optional non-negative integer parameter (times, ids, limit): nullopt
// when absent; -1102 empty, -1100 malformed, -1108 overflow.
std::optional<order_service::ApiError> OptionalInt(const RequestParams& p, std::string_view name,
                                                   std::optional<int64_t>* out);
// `limit` with a default and a maximum: absent is `def`, larger values are
// capped at `max` (Binance truncates), 0 is -1130.
std::optional<order_service::ApiError> Limit(const RequestParams& p, size_t def, size_t max,
                                             size_t* out);

}  // namespace xc::gateway::internal
