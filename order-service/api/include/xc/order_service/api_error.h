#pragma once
// ApiError: a rejected request in the client's terms, a Binance error code and
// its exact message text (shared/api/BINANCE_COMPAT.md §7). ccxt picks its
// exception class from the text as much as from the code, so every message
// here is Binance's wording, character for character.
//
// ApiResult<T>: either a value or an ApiError, the return type of every
// order-service request. Rejects are values, never exceptions.
//
// Thread safety: plain values; the factories are pure.

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace xc::order_service {

struct ApiError {
  int code = 0;     // Binance code, e.g. -2010
  std::string msg;  // Binance message, e.g. "Duplicate order sent."
  friend bool operator==(const ApiError&, const ApiError&) = default;
  template <typename Sink>  // any ostream; keeps <ostream> out of this header
  friend Sink& operator<<(Sink& os, const ApiError& e) {
    return os << "{" << e.code << ", \"" << e.msg << "\"}";
  }
};

// The errors the order service produces, with Binance's code and text.
namespace errors {
// -1000 "An unknown error occurred while processing the request."
ApiError Unknown();
// -1013 "Filter failure: <FILTER>", e.g. LOT_SIZE, PRICE_FILTER, NOTIONAL.
ApiError FilterFailure(std::string_view filter);
// -1013 "Market is closed." (the engine refuses commands for the symbol).
ApiError MarketClosed();
// -1100 "Illegal characters found in parameter '<p>'; legal range is '<range>'."
ApiError IllegalChars(std::string_view param, std::string_view legal_range);
// -1102 "Mandatory parameter '<p>' was not sent, was empty/null, or malformed."
ApiError MandatoryParam(std::string_view param);
// -1102 "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty!"
ApiError QuantityOrQuoteMissing();
// -1111 "Precision is over the maximum defined for this asset."
ApiError BadPrecision();
// -1106 "Parameter '<p>' sent when not required."
ApiError NotRequired(std::string_view param);
// -1115 "Invalid timeInForce."  -1116 "Invalid orderType."  -1117 "Invalid side."
ApiError InvalidTimeInForce();
ApiError InvalidOrderType();
ApiError InvalidSide();
// -1121 "Invalid symbol."
ApiError InvalidSymbol();
// -2010 "Account has insufficient balance for requested action."
ApiError InsufficientBalance();
// -2010 "Order would immediately match and take." (LIMIT_MAKER)
ApiError WouldMatchAndTake();
// -2010 "Duplicate order sent." (newClientOrderId of an open order)
ApiError DuplicateOrder();
// -2010 "Stop price would trigger immediately."
ApiError StopWouldTrigger();
// -2010 "Price * QTY is zero or less."
ApiError PriceQtyZero();
// -2011 "Unknown order sent." (cancel of an order that is not open)
ApiError UnknownOrder();
// -2013 "Order does not exist." (query)
ApiError OrderDoesNotExist();
// -2015 "Invalid API-key, IP, or permissions for action."
ApiError InvalidApiKey();
}  // namespace errors

template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 1; }
  // REQUIRES: ok(). On a temporary, value() returns by value, so that
  // `for (auto& b : svc.Account(u).value().balances)` does not dangle.
  const T& value() const& { return std::get<1>(v_); }
  T& value() & { return std::get<1>(v_); }
  T value() && { return std::get<1>(std::move(v_)); }
  // REQUIRES: !ok().
  const ApiError& error() const& { return std::get<0>(v_); }
  ApiError error() && { return std::get<0>(std::move(v_)); }

 private:
  std::variant<ApiError, T> v_;
};

}  // namespace xc::order_service
