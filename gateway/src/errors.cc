#include "xc/gateway/errors.h"

#include <array>
#include <cstdio>

namespace xc::gateway {
namespace {

constexpr ErrorSpec kCatalogue[] = {
#define XC_GATEWAY_ERROR_ROW_(id, code, http, msg) {ErrorId::id, code, http, #id, msg},
    XC_GATEWAY_ERRORS(XC_GATEWAY_ERROR_ROW_)
#undef XC_GATEWAY_ERROR_ROW_
};

// The rows are looked up by index, so the table must stay in enum order.
constexpr bool CatalogueIsDense() {
  for (size_t i = 0; i < std::size(kCatalogue); ++i) {
    if (static_cast<size_t>(kCatalogue[i].id) != i) return false;
  }
  return true;
}
static_assert(CatalogueIsDense());

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::span<const ErrorSpec> ErrorCatalogue() { return kCatalogue; }

const ErrorSpec& Spec(ErrorId id) { return kCatalogue[static_cast<size_t>(id)]; }

ApiError::ApiError(ErrorId id, std::string_view arg1, std::string_view arg2)
    : id_(id), formatted_(true) {
  const std::string_view tmpl = Spec(id).message;
  const std::string_view args[2] = {arg1, arg2};
  int next = 0;
  msg_.reserve(tmpl.size() + arg1.size() + arg2.size());
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '%' && i + 1 < tmpl.size() && tmpl[i + 1] == 's') {
      if (next < 2) msg_.append(args[next++]);
      ++i;
    } else {
      msg_.push_back(tmpl[i]);
    }
  }
}

void ApiError::AppendJson(std::string* out) const {
  const int code = this->code();
  if (code != 0) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "{\"code\":%d,\"msg\":\"", code);
    out->append(buf, static_cast<size_t>(n));
  } else {
    out->append("{\"msg\":\"");
  }
  AppendJsonEscaped(msg(), out);
  out->append("\"}");
}

std::string ApiError::ToJson() const {
  std::string out;
  AppendJson(&out);
  return out;
}

void AppendJsonEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out->append(esc, sizeof esc);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

std::optional<ApiError> FromRejectCode(protocol::RejectCode reject) {
  using protocol::RejectCode;
  // No default: -Wswitch flags a RejectCode added without a mapping here.
  switch (reject) {
    case RejectCode::kNone: return std::nullopt;
    case RejectCode::kUnknownSymbol: return ApiError(ErrorId::kBadSymbol);
    // The engine sees a reused id only if order-service let a duplicate
    // client id through; Binance's text for that is "Duplicate order sent.".
    case RejectCode::kDuplicateOrderId: return ApiError(ErrorId::kDuplicateOrder);
    // qty <= 0 (or a quote amount <= 0): Binance reports the quantity rules
    // through LOT_SIZE, which ccxt maps to InvalidOrder.
    case RejectCode::kInvalidQuantity: return ApiError(ErrorId::kFilterLotSize);
    case RejectCode::kInvalidPrice: return ApiError(ErrorId::kFilterPrice);
    case RejectCode::kInvalidTimeInForce: return ApiError(ErrorId::kInvalidTif);
    // errors.md: "Unsupported order combination" covers the orderType /
    // timeInForce / icebergQty combinations, which is what the engine checks.
    case RejectCode::kInvalidIceberg: return ApiError(ErrorId::kUnsupportedOrderCombination);
    // Binance applies PRICE_FILTER to stopPrice as well.
    case RejectCode::kInvalidStopPrice: return ApiError(ErrorId::kFilterPrice);
    case RejectCode::kUnknownOrder: return ApiError(ErrorId::kUnknownOrderSent);
    case RejectCode::kWouldTakeLiquidity: return ApiError(ErrorId::kOrderWouldTake);
    case RejectCode::kWouldTriggerImmediately: return ApiError(ErrorId::kOrderWouldTrigger);
    case RejectCode::kOrderNotAmendable: return ApiError(ErrorId::kUnsupportedOperation);
    // The book's fixed capacity is an exchange-wide limit on open orders.
    case RejectCode::kBookFull: return ApiError(ErrorId::kFilterExchangeMaxNumOrders);
    // A malformed command means the gateway or order-service built it wrong:
    // our fault, not the client's.
    case RejectCode::kInvalidCommand: return ApiError(ErrorId::kUnknown);
    // The order was definitely not accepted (unlike a 5xx, whose execution
    // status is unknown), so a 4xx code is the honest answer.
    case RejectCode::kShardStopped: return ApiError(ErrorId::kServiceShuttingDown);
  }
  return ApiError(ErrorId::kUnknown);
}

}  // namespace xc::gateway
