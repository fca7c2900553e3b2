#pragma once
// Order validation: a PlaceOrderRequest in decimal strings becomes a
// ValidatedOrder in ticks and lots, or the Binance error that refuses it.
//
// Checks, in this order (the first failure is the answer):
//  1. symbol known (-1121 "Invalid symbol.");
//  2. parameters required and forbidden by the order type (-1102, -1106):
//     LIMIT: timeInForce, quantity, price. LIMIT_MAKER: quantity, price, no
//     timeInForce. MARKET: quantity or quoteOrderQty (not both, no price, no
//     timeInForce; a SELL by quoteOrderQty is refused with -1106 because its
//     base amount cannot be bounded before matching). STOP_LOSS_LIMIT /
//     TAKE_PROFIT_LIMIT: as LIMIT plus stopPrice. icebergQty: GTC limit types.
//  3. decimals: outside the grammar -1100 (with the legal range), empty
//     -1102, too many decimals -> the field's filter (PRICE_FILTER or
//     LOT_SIZE), or -1111 for quoteOrderQty;
//  4. PRICE_FILTER (price and stopPrice: within [minPrice, maxPrice], a
//     multiple of tickSize);
//  5. LOT_SIZE (a multiple of stepSize; for limit types within [minQty,
//     maxQty]); MARKET_LOT_SIZE (MARKET quantity within its bounds);
//     ICEBERG_PARTS (icebergQty < quantity);
//  6. NOTIONAL / MIN_NOTIONAL (price * qty, or quoteOrderQty; a MARKET by
//     quantity is estimated at the reference price when there is one);
//  7. PERCENT_PRICE_BY_SIDE (limit price against the last trade price: BUY
//     within [last * bidMultiplierDown, last * bidMultiplierUp], SELL with the
//     ask multipliers; skipped before the first trade).
// Balances, duplicates and LIMIT_MAKER crossing are the partition's checks.
//
// Thread safety: pure functions. Cost: O(field lengths), no allocation on
// success.

#include <optional>

#include "xc/order_service/api_error.h"
#include "xc/order_service/engine_link.h"
#include "xc/order_service/messages.h"
#include "xc/order_service/symbol_table.h"
#include "xc/protocol/types.h"

namespace xc::order_service {

struct ValidatedOrder {
  const SymbolSpec* spec = nullptr;
  OrderType type = OrderType::kLimit;
  protocol::Side side = protocol::Side::kBuy;
  protocol::TimeInForce tif = protocol::TimeInForce::kGtc;
  protocol::Price price = 0;               // ticks; limit types only
  protocol::Qty qty = 0;                   // lots; 0 for MARKET by quote amount
  protocol::Notional quote_notional = 0;   // MARKET by quote: ticks*lots (truncated)
  protocol::Price stop_price = 0;          // ticks; stop types only
  protocol::Qty iceberg_qty = 0;           // lots; 0 = not an iceberg
};

ApiResult<ValidatedOrder> ValidateOrder(const SymbolTable& symbols, const PlaceOrderRequest& req,
                                        const MarketQuote& quote);

// The price bound of a MARKET BUY by quantity: best ask (else last trade) times
// market_buy_band, capped by bidMultiplierUp and maxPrice, in ticks; nullopt
// when there is no reference price. The order locks qty at this price and
// goes to the engine as an IOC limit at it.
std::optional<protocol::Price> MarketBuyBound(const SymbolSpec& spec, const MarketQuote& quote);

// Multiplies a price in ticks by a 1e8-scaled rate, rounding down.
protocol::Price ScalePrice(protocol::Price ticks, Rate rate);

}  // namespace xc::order_service
