#include "xc/order_service/api_error.h"

#include <string>

namespace xc::order_service::errors {

namespace {
ApiError E(int code, std::string msg) { return ApiError{code, std::move(msg)}; }
}  // namespace

ApiError Unknown() { return E(-1000, "An unknown error occurred while processing the request."); }
ApiError FilterFailure(std::string_view filter) {
  return E(-1013, "Filter failure: " + std::string(filter));
}
ApiError MarketClosed() { return E(-1013, "Market is closed."); }
ApiError IllegalChars(std::string_view param, std::string_view legal_range) {
  return E(-1100, "Illegal characters found in parameter '" + std::string(param) +
                      "'; legal range is '" + std::string(legal_range) + "'.");
}
ApiError MandatoryParam(std::string_view param) {
  return E(-1102, "Mandatory parameter '" + std::string(param) +
                      "' was not sent, was empty/null, or malformed.");
}
ApiError QuantityOrQuoteMissing() {
  return E(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty!");
}
ApiError BadPrecision() { return E(-1111, "Precision is over the maximum defined for this asset."); }
ApiError NotRequired(std::string_view param) {
  return E(-1106, "Parameter '" + std::string(param) + "' sent when not required.");
}
ApiError InvalidTimeInForce() { return E(-1115, "Invalid timeInForce."); }
ApiError InvalidOrderType() { return E(-1116, "Invalid orderType."); }
ApiError InvalidSide() { return E(-1117, "Invalid side."); }
ApiError InvalidSymbol() { return E(-1121, "Invalid symbol."); }
ApiError InsufficientBalance() {
  return E(-2010, "Account has insufficient balance for requested action.");
}
ApiError WouldMatchAndTake() { return E(-2010, "Order would immediately match and take."); }
ApiError DuplicateOrder() { return E(-2010, "Duplicate order sent."); }
ApiError StopWouldTrigger() { return E(-2010, "Stop price would trigger immediately."); }
ApiError PriceQtyZero() { return E(-2010, "Price * QTY is zero or less."); }
ApiError UnknownOrder() { return E(-2011, "Unknown order sent."); }
ApiError OrderDoesNotExist() { return E(-2013, "Order does not exist."); }
ApiError InvalidApiKey() { return E(-2015, "Invalid API-key, IP, or permissions for action."); }

}  // namespace xc::order_service::errors
