#include "xc/order_service/filters.h"

#include <algorithm>
#include <string>

namespace xc::order_service {

namespace {

using protocol::Notional;
using protocol::Price;
using protocol::Qty;
using protocol::Side;

bool IsStop(OrderType t) {
  return t == OrderType::kStopLossLimit || t == OrderType::kTakeProfitLimit;
}
bool HasLimitPrice(OrderType t) { return t != OrderType::kMarket; }

// Parses an optional decimal field that the type requires (or allows) and
// maps decimal errors to the Binance answer. `too_precise` is the answer to
// digits past 1e-8 and to values beyond the int64 range of 1e-8 units.
std::optional<ApiError> ParseField(const std::optional<std::string>& text, const char* param,
                                   const ApiError& too_precise, Amount* out) {
  if (!text.has_value()) return errors::MandatoryParam(param);
  const ParsedDecimal d = ParseDecimal(*text);
  switch (d.error) {
    case DecimalError::kOk: *out = d.units; return std::nullopt;
    case DecimalError::kEmpty: return errors::MandatoryParam(param);
    case DecimalError::kIllegal: return errors::IllegalChars(param, kDecimalPattern);
    // Digits past the asset precision (8): Binance's -1111, whatever the field.
    case DecimalError::kTooPrecise: return errors::BadPrecision();
    case DecimalError::kOverflow: return too_precise;
  }
  return errors::Unknown();
}

std::optional<ApiError> CheckPrice(const SymbolSpec& s, Amount p) {
  if (p <= 0 || p < s.min_price || (s.max_price != 0 && p > s.max_price) || p % s.tick != 0) {
    return errors::FilterFailure("PRICE_FILTER");
  }
  return std::nullopt;
}

// Quote units of price (ticks) * qty (lots); saturates beyond int64 so that
// the caller's max checks refuse it.
Amount NotionalUnits(const SymbolSpec& s, Price price, Qty qty) {
  const __int128 v = static_cast<__int128>(price) * qty * s.notional_unit;
  return v > INT64_MAX ? INT64_MAX : static_cast<Amount>(v);
}

std::optional<ApiError> CheckNotional(const SymbolSpec& s, Amount notional, bool market) {
  const bool check_min = !market || s.apply_min_to_market || s.notional_filter == "MIN_NOTIONAL";
  const bool check_max = !market || s.apply_max_to_market;
  if ((check_min && notional < s.min_notional) ||
      (check_max && s.max_notional != 0 && notional > s.max_notional)) {
    return errors::FilterFailure(s.notional_filter);
  }
  return std::nullopt;
}

}  // namespace

Price ScalePrice(Price ticks, Rate rate) {
  const __int128 v = static_cast<__int128>(ticks) * rate / kUnitsPerWhole;
  return v > INT64_MAX ? INT64_MAX : static_cast<Price>(v);
}

std::optional<Price> MarketBuyBound(const SymbolSpec& s, const MarketQuote& q) {
  const Price ref = q.best_ask != 0 ? q.best_ask : q.last;
  if (ref <= 0) return std::nullopt;
  Price bound = std::max(ref, ScalePrice(ref, s.market_buy_band));
  // PERCENT_PRICE_BY_SIDE would refuse a BUY limit above last * bidMultiplierUp;
  // the bound never goes above it (but never below the best ask either).
  if (s.bid_up != 0 && q.last != 0) bound = std::min(bound, std::max(ref, ScalePrice(q.last, s.bid_up)));
  if (s.max_price != 0) bound = std::min(bound, s.max_price / s.tick);
  return bound;
}

ApiResult<ValidatedOrder> ValidateOrder(const SymbolTable& symbols, const PlaceOrderRequest& req,
                                        const MarketQuote& quote) {
  ValidatedOrder v;
  v.spec = symbols.Find(req.symbol);
  if (v.spec == nullptr) return errors::InvalidSymbol();
  const SymbolSpec& s = *v.spec;
  v.type = req.type;
  v.side = req.side;
  const bool market = req.type == OrderType::kMarket;

  // 2. Parameters required and forbidden by the type.
  if (req.type == OrderType::kLimit || IsStop(req.type)) {
    if (!req.time_in_force.has_value()) return errors::MandatoryParam("timeInForce");
    v.tif = *req.time_in_force;
  } else if (req.time_in_force.has_value()) {
    return errors::NotRequired("timeInForce");
  } else {
    v.tif = market ? protocol::TimeInForce::kIoc : protocol::TimeInForce::kGtc;
  }
  if (market) {
    if (req.price.has_value()) return errors::NotRequired("price");
    if (!req.quantity.has_value() && !req.quote_order_qty.has_value()) {
      return errors::QuantityOrQuoteMissing();
    }
    if (req.quantity.has_value() && req.quote_order_qty.has_value()) {
      return errors::NotRequired("quoteOrderQty");
    }
    if (req.quote_order_qty.has_value() && req.side == Side::kSell) {
      return errors::NotRequired("quoteOrderQty");
    }
  } else {
    if (!req.quantity.has_value()) return errors::MandatoryParam("quantity");
    if (!req.price.has_value()) return errors::MandatoryParam("price");
    if (req.quote_order_qty.has_value()) return errors::NotRequired("quoteOrderQty");
  }
  if (IsStop(req.type)) {
    if (!req.stop_price.has_value()) return errors::MandatoryParam("stopPrice");
  } else if (req.stop_price.has_value()) {
    return errors::NotRequired("stopPrice");
  }
  if (req.iceberg_qty.has_value() && (market || v.tif != protocol::TimeInForce::kGtc)) {
    return errors::NotRequired("icebergQty");
  }

  // 3-5. Decimals and the price / quantity filters.
  // Looked up in the error catalogue once, not for every order.
  static const ApiError price_filter = errors::FilterFailure("PRICE_FILTER");
  static const ApiError lot_size = errors::FilterFailure("LOT_SIZE");
  Amount price = 0, qty = 0, quote_amount = 0, stop = 0, iceberg = 0;
  if (HasLimitPrice(req.type)) {
    if (auto e = ParseField(req.price, "price", price_filter, &price)) return *e;
  }
  if (IsStop(req.type)) {
    if (auto e = ParseField(req.stop_price, "stopPrice", price_filter, &stop)) return *e;
  }
  if (req.quantity.has_value()) {
    if (auto e = ParseField(req.quantity, "quantity", lot_size, &qty)) return *e;
  } else {
    if (auto e = ParseField(req.quote_order_qty, "quoteOrderQty", errors::BadPrecision(),
                            &quote_amount)) {
      return *e;
    }
  }
  if (req.iceberg_qty.has_value()) {
    if (auto e = ParseField(req.iceberg_qty, "icebergQty", lot_size, &iceberg)) return *e;
  }
  if (HasLimitPrice(req.type)) {
    if (auto e = CheckPrice(s, price)) return *e;
    v.price = price / s.tick;
  }
  if (IsStop(req.type)) {
    if (auto e = CheckPrice(s, stop)) return *e;
    v.stop_price = stop / s.tick;
  }
  if (req.quantity.has_value()) {
    if (qty % s.step != 0) return lot_size;
    if (market) {
      if (qty <= 0 || qty < s.market_min_qty || (s.market_max_qty != 0 && qty > s.market_max_qty)) {
        return errors::FilterFailure("MARKET_LOT_SIZE");
      }
    } else if (qty <= 0 || qty < s.min_qty || (s.max_qty != 0 && qty > s.max_qty)) {
      return lot_size;
    }
    v.qty = qty / s.step;
  }
  if (req.iceberg_qty.has_value()) {
    if (iceberg <= 0 || iceberg % s.step != 0) return lot_size;
    if (iceberg >= qty) return errors::FilterFailure("ICEBERG_PARTS");
    v.iceberg_qty = iceberg / s.step;
  }

  // 6. Notional.
  if (!market) {
    if (auto e = CheckNotional(s, NotionalUnits(s, v.price, v.qty), false)) return *e;
  } else if (v.qty == 0) {
    if (quote_amount <= 0) return errors::PriceQtyZero();
    if (auto e = CheckNotional(s, quote_amount, true)) return *e;
    // The engine spends whole ticks*lots; the fraction below one is never
    // locked nor spent.
    v.quote_notional = quote_amount / s.notional_unit;
    if (v.quote_notional == 0) return errors::PriceQtyZero();
  } else {
    const Price ref = quote.last != 0 ? quote.last
                      : v.side == Side::kBuy ? quote.best_ask
                                             : quote.best_bid;
    if (ref != 0) {
      if (auto e = CheckNotional(s, NotionalUnits(s, ref, v.qty), true)) return *e;
    }
  }

  // 7. PERCENT_PRICE_BY_SIDE against the last trade price.
  if (!market && quote.last != 0) {
    const Rate up = v.side == Side::kBuy ? s.bid_up : s.ask_up;
    const Rate down = v.side == Side::kBuy ? s.bid_down : s.ask_down;
    const __int128 p = static_cast<__int128>(v.price) * kUnitsPerWhole;
    const __int128 last = quote.last;
    if ((up != 0 && p > last * up) || (down != 0 && p < last * down)) {
      return errors::FilterFailure("PERCENT_PRICE_BY_SIDE");
    }
  }
  return v;
}

}  // namespace xc::order_service
