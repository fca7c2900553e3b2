#pragma once
// Binance's error vocabulary (shared/api/BINANCE_COMPAT.md §7): the one
// catalogue of every error the order service and the gateway return.
//
// Every error is one row of a fixed catalogue: an ErrorId names the row, and
// the row carries Binance's numeric code, the HTTP status and Binance's exact
// message text (a template when the text names a parameter, e.g. "Mandatory
// parameter '%s' was not sent, ..."). Clients key their exception classes on
// the *text* as much as on the code (ccxt maps "Order would immediately match
// and take." to OrderImmediatelyFillable), so the strings are copied verbatim
// from Binance's errors.md and observed responses and must not be reworded.
//
// Error body: {"code":-1013,"msg":"Filter failure: LOT_SIZE"}; the same object
// goes inside a WebSocket-API "error" member. Never put code/msg in success
// bodies (§7.3).
//
// ApiResult<T>: either a value or an ApiError, the return type of every
// order-service request and of the gateway's request parsing. Rejects are
// values, never exceptions.
//
// Thread safety: plain values and immutable static data; any thread.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "xc/protocol/types.h"

namespace xc::order_service {

// X(id, binance_code, http_status, message). `%s` marks a substituted
// argument (at most two). A binance_code of 0 marks an HTTP-level error that
// Binance answers without a code (unknown endpoint): its body is {"msg":...}
// so that ccxt falls through to its HTTP-status rule (ExchangeNotAvailable).
// Where Binance has two texts for one condition (kEitherParam and
// kEitherParamEmpty, kBadPrecision and kAssetPrecision, kOrderWouldTrigger and
// kStopPriceWouldTrigger), both are rows: each is a text clients have seen.
#define XC_BINANCE_ERRORS(X)                                                                    \
  /* 10xx: general server or network issues */                                                  \
  X(kUnknown, -1000, 500, "An unknown error occurred while processing the request.")            \
  X(kDisconnected, -1001, 500, "Internal error; unable to process your request. Please try again.") \
  X(kUnauthorized, -1002, 401, "You are not authorized to execute this request.")               \
  X(kTooManyRequestsQueued, -1003, 429, "Too many requests queued.")                            \
  X(kTooMuchWeight, -1003, 429,                                                                 \
    "Too much request weight used; current limit is %s request weight per %s. Please use "      \
    "WebSocket Streams for live updates to avoid polling the API.")                             \
  X(kIpBanned, -1003, 418,                                                                      \
    "Way too much request weight used; IP banned until %s. Please use WebSocket Streams for "   \
    "live updates to avoid bans.")                                                              \
  X(kUnexpectedResponse, -1006, 500,                                                            \
    "An unexpected response was received from the message bus. Execution status unknown.")      \
  X(kTimeout, -1007, 408,                                                                       \
    "Timeout waiting for response from backend server. Send status unknown; execution status "  \
    "unknown.")                                                                                 \
  X(kServerBusy, -1008, 503,                                                                    \
    "Server is currently overloaded with other requests. Please try again in a few minutes.")   \
  X(kInvalidMessage, -1013, 400,                                                                \
    "The request is rejected by the API. (i.e. The request didn't reach the Matching Engine.)")  \
  X(kUnknownOrderComposition, -1014, 400, "Unsupported order combination.")                     \
  X(kTooManyOrders, -1015, 429, "Too many new orders.")                                         \
  X(kTooManyOrdersLimit, -1015, 429, "Too many new orders; current limit is %s orders per %s.") \
  X(kServiceShuttingDown, -1016, 400, "This service is no longer available.")                   \
  X(kUnsupportedOperation, -1020, 400, "This operation is not supported.")                      \
  X(kTimestampOutsideRecvWindow, -1021, 400,                                                    \
    "Timestamp for this request is outside of the recvWindow.")                                 \
  X(kTimestampAhead, -1021, 400, "Timestamp for this request was 1000ms ahead of the server's time.") \
  X(kInvalidSignature, -1022, 400, "Signature for this request is not valid.")                  \
  /* 11xx: request issues */                                                                    \
  X(kIllegalChars, -1100, 400, "Illegal characters found in a parameter.")                      \
  X(kIllegalCharsParam, -1100, 400, "Illegal characters found in parameter '%s'; legal range is '%s'.") \
  X(kTooManyParameters, -1101, 400, "Too many parameters sent for this endpoint.")              \
  X(kTooManyParametersExpected, -1101, 400,                                                     \
    "Too many parameters; expected '%s' and received '%s'.")                                    \
  X(kDuplicateParameter, -1101, 400, "Duplicate values for a parameter detected.")              \
  X(kMandatoryParamMissing, -1102, 400,                                                         \
    "A mandatory parameter was not sent, was empty/null, or malformed.")                        \
  X(kMandatoryParam, -1102, 400,                                                                \
    "Mandatory parameter '%s' was not sent, was empty/null, or malformed.")                     \
  X(kEitherParam, -1102, 400, "Param '%s' or '%s' must be sent, but both were empty/null!")     \
  X(kEitherParamEmpty, -1102, 400, "Param '%s' or '%s' must be sent, but both were empty!")     \
  X(kParamGreaterThan, -1102, 400, "'%s' contains unexpected value. Cannot be greater than '%s'.") \
  X(kUnknownParam, -1103, 400, "An unknown parameter was sent.")                                \
  X(kUnreadParameters, -1104, 400, "Not all sent parameters were read.")                        \
  X(kUnreadParametersCount, -1104, 400,                                                         \
    "Not all sent parameters were read; read '%s' parameter(s) but was sent '%s'.")             \
  X(kParamEmpty, -1105, 400, "Parameter '%s' was empty.")                                       \
  X(kParamNotRequired, -1106, 400, "Parameter '%s' sent when not required.")                    \
  X(kParamOverflow, -1108, 400, "Parameter '%s' overflowed.")                                   \
  X(kBadPrecision, -1111, 400, "Parameter '%s' has too much precision.")                        \
  X(kAssetPrecision, -1111, 400, "Precision is over the maximum defined for this asset.")       \
  X(kNoDepth, -1112, 400, "No orders on book for symbol.")                                      \
  X(kTifNotRequired, -1114, 400, "TimeInForce parameter sent when not required.")               \
  X(kInvalidTif, -1115, 400, "Invalid timeInForce.")                                            \
  X(kInvalidOrderType, -1116, 400, "Invalid orderType.")                                        \
  X(kInvalidSide, -1117, 400, "Invalid side.")                                                  \
  X(kEmptyNewClOrdId, -1118, 400, "New client order ID was empty.")                             \
  X(kEmptyOrigClOrdId, -1119, 400, "Original client order ID was empty.")                       \
  X(kBadInterval, -1120, 400, "Invalid interval.")                                              \
  X(kBadSymbol, -1121, 400, "Invalid symbol.")                                                  \
  X(kInvalidSymbolStatus, -1122, 400, "Invalid symbolStatus.")                                  \
  X(kInvalidListenKey, -1125, 400, "This listenKey does not exist.")                            \
  X(kLookupIntervalTooBig, -1127, 400, "More than %s hours between startTime and endTime.")      \
  X(kOptionalParamsBadCombo, -1128, 400, "Combination of optional parameters invalid.")         \
  X(kInvalidParameter, -1130, 400, "Data sent for parameter '%s' is not valid.")                \
  X(kBadRecvWindow, -1131, 400, "recvWindow must be less than 60000")                           \
  X(kInvalidTickerType, -1139, 400, "Invalid ticker type.")                                     \
  X(kDuplicateSymbols, -1151, 400, "Symbol is present multiple times in the list.")             \
  /* -1135: WebSocket API requests that are not the JSON they must be */                        \
  X(kInvalidJsonRequest, -1135, 400, "Invalid JSON Request")                                    \
  X(kInvalidJsonParams, -1135, 400, "Invalid 'params' in JSON request; expected an object.")   \
  /* -2010 NEW_ORDER_REJECTED: messages from the matching engine */                             \
  X(kDuplicateOrder, -2010, 400, "Duplicate order sent.")                                       \
  X(kInsufficientBalance, -2010, 400, "Account has insufficient balance for requested action.") \
  X(kMarketOrdersNotSupported, -2010, 400, "Market orders are not supported for this symbol.")  \
  X(kIcebergNotSupported, -2010, 400, "Iceberg orders are not supported for this symbol.")      \
  X(kStopLossNotSupported, -2010, 400, "Stop loss orders are not supported for this symbol.")   \
  X(kStopLossLimitNotSupported, -2010, 400,                                                     \
    "Stop loss limit orders are not supported for this symbol.")                                \
  X(kTakeProfitNotSupported, -2010, 400, "Take profit orders are not supported for this symbol.") \
  X(kTakeProfitLimitNotSupported, -2010, 400,                                                   \
    "Take profit limit orders are not supported for this symbol.")                              \
  X(kPriceQtyZeroOrLess, -2010, 400, "Price * QTY is zero or less.")                            \
  X(kIcebergQtyExceedsQty, -2010, 400, "IcebergQty exceeds QTY.")                               \
  X(kActionDisabled, -2010, 400, "This action is disabled on this account.")                    \
  X(kAccountMayNotTrade, -2010, 400, "This account may not place or cancel orders.")            \
  X(kUnsupportedOrderCombination, -2010, 400, "Unsupported order combination")                  \
  X(kOrderWouldTrigger, -2010, 400, "Order would trigger immediately.")                         \
  X(kStopPriceWouldTrigger, -2010, 400, "Stop price would trigger immediately.")                \
  X(kOrderWouldTake, -2010, 400, "Order would immediately match and take.")                     \
  X(kQuoteOrderQtyNotSupported, -2010, 400,                                                     \
    "Quote order qty market orders are not support for this symbol.")                           \
  X(kSymbolNotPermitted, -2010, 400, "This symbol is not permitted for this account.")          \
  X(kNoLiquidityForQuoteOrder, -2010, 400,                                                      \
    "Order book liquidity is less than symbol minimum quantity.")                               \
  /* -2011 CANCEL_REJECTED, -2013.. */                                                          \
  X(kUnknownOrderSent, -2011, 400, "Unknown order sent.")                                       \
  X(kCancelInvalid, -2011, 400, "Cancel order is invalid. Check origClOrdId and orderId.")      \
  X(kNoSuchOrder, -2013, 400, "Order does not exist.")                                          \
  X(kBadApiKeyFormat, -2014, 401, "API-key format invalid.")                                    \
  X(kRejectedApiKey, -2015, 401, "Invalid API-key, IP, or permissions for action.")             \
  X(kNoTradingWindow, -2016, 400,                                                               \
    "No trading window could be found for the symbol. Try ticker/24hrs instead.")               \
  X(kCancelReplacePartiallyFailed, -2021, 409, "Order cancel-replace partially failed.")        \
  X(kCancelReplaceFailed, -2022, 400, "Order cancel-replace failed.")                           \
  X(kOrderArchived, -2026, 400,                                                                 \
    "Order was canceled or expired with no executed qty over 90 days ago and has been "         \
    "archived.")                                                                                \
  /* -1013 with the symbol's trading state and filter failures */                               \
  X(kMarketClosed, -1013, 400, "Market is closed.")                                             \
  X(kFilterPrice, -1013, 400, "Filter failure: PRICE_FILTER")                                   \
  X(kFilterPercentPrice, -1013, 400, "Filter failure: PERCENT_PRICE")                           \
  X(kFilterPercentPriceBySide, -1013, 400, "Filter failure: PERCENT_PRICE_BY_SIDE")             \
  X(kFilterLotSize, -1013, 400, "Filter failure: LOT_SIZE")                                     \
  X(kFilterMarketLotSize, -1013, 400, "Filter failure: MARKET_LOT_SIZE")                        \
  X(kFilterMinNotional, -1013, 400, "Filter failure: MIN_NOTIONAL")                             \
  X(kFilterNotional, -1013, 400, "Filter failure: NOTIONAL")                                    \
  X(kFilterIcebergParts, -1013, 400, "Filter failure: ICEBERG_PARTS")                           \
  X(kFilterMaxNumOrders, -1013, 400, "Filter failure: MAX_NUM_ORDERS")                          \
  X(kFilterMaxNumAlgoOrders, -1013, 400, "Filter failure: MAX_NUM_ALGO_ORDERS")                 \
  X(kFilterMaxNumIcebergOrders, -1013, 400, "Filter failure: MAX_NUM_ICEBERG_ORDERS")           \
  X(kFilterExchangeMaxNumOrders, -1013, 400, "Filter failure: EXCHANGE_MAX_NUM_ORDERS")         \
  /* any other filter, by name */                                                               \
  X(kFilterFailure, -1013, 400, "Filter failure: %s")                                           \
  /* HTTP-level, no Binance code */                                                             \
  X(kNotFound, 0, 404, "Not Found")

// Names one catalogue row. Dense, starting at 0, in catalogue order.
enum class ErrorId : uint16_t {
#define XC_BINANCE_ERROR_ENUM_(id, code, http, msg) id,
  XC_BINANCE_ERRORS(XC_BINANCE_ERROR_ENUM_)
#undef XC_BINANCE_ERROR_ENUM_
};

// One catalogue row. `message` is Binance's text, with `%s` placeholders.
struct ErrorSpec {
  ErrorId id;
  int code;         // Binance code (negative), 0 for HTTP-level errors
  int http_status;  // 400, 401, 404, 408, 409, 418, 429, 500, 503
  std::string_view name;     // "kFilterLotSize", for logs and tests
  std::string_view message;  // template; `%s` marks an argument
};

// The whole catalogue, indexed by ErrorId. Immutable static data; any thread.
std::span<const ErrorSpec> ErrorCatalogue();
// The row for `id`. Any thread; O(1).
const ErrorSpec& Spec(ErrorId id);

// One error to send: a catalogue row plus the text of its arguments.
//
// Value type; any thread. Construction formats the message only when the
// template has `%s` arguments (one small allocation); argument-free errors
// (bad signature, stale timestamp, filter failures) allocate nothing. The
// arguments are copied, so the error outlives the request buffers it names.
class ApiError {
 public:
  // An argument-free error. REQUIRES: Spec(id).message has no `%s` (extra
  // placeholders render as empty strings).
  explicit ApiError(ErrorId id) : id_(id) {}
  // An error whose template names one or two values, e.g.
  // ApiError(ErrorId::kMandatoryParam, "symbol"). Placeholders without an
  // argument render as empty strings; surplus arguments are ignored.
  ApiError(ErrorId id, std::string_view arg1, std::string_view arg2 = {});

  ErrorId id() const { return id_; }
  int code() const { return Spec(id_).code; }
  int http_status() const { return Spec(id_).http_status; }
  // The final message text (raw, not JSON-escaped).
  std::string_view msg() const { return formatted_ ? std::string_view(msg_) : Spec(id_).message; }

  // Appends {"code":<code>,"msg":"<escaped msg>"} (or {"msg":...} for code 0)
  // to *out. Never fails; the output is valid JSON for any argument bytes.
  void AppendJson(std::string* out) const;
  std::string ToJson() const;

  // Equal when a client would see the same error: same code, same text.
  friend bool operator==(const ApiError& a, const ApiError& b) {
    return a.code() == b.code() && a.msg() == b.msg();
  }
  template <typename Sink>  // any ostream; keeps <ostream> out of this header
  friend Sink& operator<<(Sink& os, const ApiError& e) {
    return os << "{" << e.code() << ", \"" << e.msg() << "\"}";
  }

 private:
  ErrorId id_;
  bool formatted_ = false;
  std::string msg_;
};

// Appends `s` as the inside of a JSON string: `"` and `\` escaped, control
// bytes as \n, \t, ... or \u00XX, valid UTF-8 copied, and each byte of an
// invalid UTF-8 sequence replaced by \ufffd, so the result is always valid
// JSON text. No allocation beyond growing *out.
void AppendJsonEscaped(std::string_view s, std::string* out);

// The Binance error for an engine business reject (STYLE.md §5), used by the
// order service for orders the engine refused and by the gateway for engine
// events. std::nullopt for RejectCode::kNone. Codes without a Binance
// counterpart (internal faults such as kInvalidCommand) map to kUnknown
// (-1000, HTTP 500). Any thread; no allocation.
std::optional<ApiError> FromRejectCode(protocol::RejectCode reject);

// The errors the order service produces, by what went wrong. Each is one
// catalogue row; the ones without arguments allocate nothing.
namespace errors {
// -1000 "An unknown error occurred while processing the request."
inline ApiError Unknown() { return ApiError(ErrorId::kUnknown); }
// -1013 "Filter failure: <FILTER>", e.g. LOT_SIZE, PRICE_FILTER, NOTIONAL: the
// catalogue row of that filter (no allocation), or kFilterFailure for a name
// the catalogue does not list.
ApiError FilterFailure(std::string_view filter);
// -1013 "Market is closed." (the engine refuses commands for the symbol).
inline ApiError MarketClosed() { return ApiError(ErrorId::kMarketClosed); }
// -1100 "Illegal characters found in parameter '<p>'; legal range is '<range>'."
inline ApiError IllegalChars(std::string_view param, std::string_view legal_range) {
  return ApiError(ErrorId::kIllegalCharsParam, param, legal_range);
}
// -1102 "Mandatory parameter '<p>' was not sent, was empty/null, or malformed."
inline ApiError MandatoryParam(std::string_view param) {
  return ApiError(ErrorId::kMandatoryParam, param);
}
// -1102 "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty!"
// (Binance's text for a MARKET order with neither amount).
inline ApiError QuantityOrQuoteMissing() {
  return ApiError(ErrorId::kEitherParamEmpty, "quantity", "quoteOrderQty");
}
// -1111 "Precision is over the maximum defined for this asset."
inline ApiError BadPrecision() { return ApiError(ErrorId::kAssetPrecision); }
// -1106 "Parameter '<p>' sent when not required."
inline ApiError NotRequired(std::string_view param) {
  return ApiError(ErrorId::kParamNotRequired, param);
}
// -1115 "Invalid timeInForce."  -1116 "Invalid orderType."  -1117 "Invalid side."
inline ApiError InvalidTimeInForce() { return ApiError(ErrorId::kInvalidTif); }
inline ApiError InvalidOrderType() { return ApiError(ErrorId::kInvalidOrderType); }
inline ApiError InvalidSide() { return ApiError(ErrorId::kInvalidSide); }
// -1121 "Invalid symbol."
inline ApiError InvalidSymbol() { return ApiError(ErrorId::kBadSymbol); }
// -2010 "Account has insufficient balance for requested action."
inline ApiError InsufficientBalance() { return ApiError(ErrorId::kInsufficientBalance); }
// -2010 "Order would immediately match and take." (LIMIT_MAKER)
inline ApiError WouldMatchAndTake() { return ApiError(ErrorId::kOrderWouldTake); }
// -2010 "Duplicate order sent." (newClientOrderId of an open order)
inline ApiError DuplicateOrder() { return ApiError(ErrorId::kDuplicateOrder); }
// -2010 "Stop price would trigger immediately."
inline ApiError StopWouldTrigger() { return ApiError(ErrorId::kStopPriceWouldTrigger); }
// -2010 "Price * QTY is zero or less."
inline ApiError PriceQtyZero() { return ApiError(ErrorId::kPriceQtyZeroOrLess); }
// -2011 "Unknown order sent." (cancel of an order that is not open)
inline ApiError UnknownOrder() { return ApiError(ErrorId::kUnknownOrderSent); }
// -2013 "Order does not exist." (query)
inline ApiError OrderDoesNotExist() { return ApiError(ErrorId::kNoSuchOrder); }
// -2015 "Invalid API-key, IP, or permissions for action."
inline ApiError InvalidApiKey() { return ApiError(ErrorId::kRejectedApiKey); }
}  // namespace errors

// A value or the ApiError that prevented it. Used by every fallible function
// of the request path instead of exceptions or absl::Status, because the
// caller needs the Binance code and text, not a canonical status.
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}     // NOLINT: implicit
  ApiResult(ApiError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return v_.index() == 0; }
  // REQUIRES: ok(). On a temporary, value() returns by value, so that
  // `for (auto& b : svc.Account(u).value().balances)` does not dangle.
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  // REQUIRES: !ok().
  const ApiError& error() const& { return std::get<1>(v_); }
  ApiError error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace xc::order_service
