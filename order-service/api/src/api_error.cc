#include "xc/order_service/api_error.h"

#include <array>
#include <cstdio>

namespace xc::order_service {
namespace {

constexpr ErrorSpec kCatalogue[] = {
#define XC_BINANCE_ERROR_ROW_(id, code, http, msg) {ErrorId::id, code, http, #id, msg},
    XC_BINANCE_ERRORS(XC_BINANCE_ERROR_ROW_)
#undef XC_BINANCE_ERROR_ROW_
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
    // A run of bytes that stay as they are (nearly every string: symbols,
    // client order ids, assets) goes in one append.
    size_t run = i;
    while (run < s.size()) {
      const unsigned char r = static_cast<unsigned char>(s[run]);
      if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
      ++run;
    }
    if (run != i) {
      out->append(s.data() + i, run - i);
      i = run;
      continue;
    }
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
    case RejectCode::kUnknownSymbol: return errors::InvalidSymbol();
    // The engine sees a reused id only if order-service let a duplicate
    // client id through; Binance's text for that is "Duplicate order sent.".
    case RejectCode::kDuplicateOrderId: return errors::DuplicateOrder();
    // qty <= 0 (or a quote amount <= 0): Binance reports the quantity rules
    // through LOT_SIZE, which ccxt maps to InvalidOrder.
    case RejectCode::kInvalidQuantity: return ApiError(ErrorId::kFilterLotSize);
    case RejectCode::kInvalidPrice: return ApiError(ErrorId::kFilterPrice);
    case RejectCode::kInvalidTimeInForce: return errors::InvalidTimeInForce();
    // errors.md: "Unsupported order combination" covers the orderType /
    // timeInForce / icebergQty combinations, which is what the engine checks.
    case RejectCode::kInvalidIceberg: return ApiError(ErrorId::kUnsupportedOrderCombination);
    // Binance applies PRICE_FILTER to stopPrice as well.
    case RejectCode::kInvalidStopPrice: return ApiError(ErrorId::kFilterPrice);
    case RejectCode::kUnknownOrder: return errors::UnknownOrder();
    case RejectCode::kWouldTakeLiquidity: return errors::WouldMatchAndTake();
    // A stop order whose condition already holds: today's spot text (ccxt
    // maps it to OrderImmediatelyFillable); the older "Order would trigger
    // immediately." stays in the catalogue as kOrderWouldTrigger.
    case RejectCode::kWouldTriggerImmediately: return errors::StopWouldTrigger();
    case RejectCode::kOrderNotAmendable: return ApiError(ErrorId::kUnsupportedOperation);
    // The book's fixed capacity is a per-symbol limit on open orders.
    case RejectCode::kBookFull: return ApiError(ErrorId::kFilterMaxNumOrders);
    // A malformed command means the gateway or order-service built it wrong:
    // our fault, not the client's.
    case RejectCode::kInvalidCommand: return errors::Unknown();
    // The symbol's shard refuses commands. The order was definitely not
    // accepted (unlike a 5xx, whose execution status is unknown), and ccxt
    // maps this text to MarketClosed.
    case RejectCode::kShardStopped: return errors::MarketClosed();
  }
  return errors::Unknown();
}

namespace errors {

ApiError FilterFailure(std::string_view filter) {
  static constexpr std::string_view kPrefix = "Filter failure: ";
  // A dozen -1013 rows: a scan is cheaper than building an index.
  for (const ErrorSpec& s : kCatalogue) {
    if (s.code != -1013 || s.id == ErrorId::kFilterFailure) continue;
    if (s.message.starts_with(kPrefix) && s.message.substr(kPrefix.size()) == filter) {
      return ApiError(s.id);
    }
  }
  return ApiError(ErrorId::kFilterFailure, filter);
}

}  // namespace errors

}  // namespace xc::order_service
