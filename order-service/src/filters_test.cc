#include "xc/order_service/filters.h"

#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "xc/order_service/symbol_table.h"

namespace xc::order_service {
namespace {

// What a client sees of an error: its code and text.
using Wire = std::pair<int, std::string>;
Wire W(const ApiError& e) { return {e.code(), std::string(e.msg())}; }

using protocol::Side;
using protocol::TimeInForce;

class FiltersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = SymbolTable::Build(SymbolTable::DefaultConfigs());
    ASSERT_TRUE(t.ok()) << t.status();
    table_ = *std::move(t);
  }
  static PlaceOrderRequest Limit(std::string qty, std::string price, Side side = Side::kBuy) {
    PlaceOrderRequest r;
    r.user = 1;
    r.symbol = "BTCUSDT";
    r.side = side;
    r.type = OrderType::kLimit;
    r.time_in_force = TimeInForce::kGtc;
    r.quantity = std::move(qty);
    r.price = std::move(price);
    return r;
  }
  ApiError Err(const PlaceOrderRequest& r, MarketQuote q = {}) {
    auto v = ValidateOrder(table_, r, q);
    EXPECT_FALSE(v.ok());
    return v.ok() ? errors::Unknown() : v.error();
  }
  SymbolTable table_;
};

TEST_F(FiltersTest, DefaultTableScales) {
  const SymbolSpec* b = table_.Find("BTCUSDT");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->tick, 1000000);  // 0.01 USDT
  EXPECT_EQ(b->step, 1000);     // 0.00001 BTC
  EXPECT_EQ(b->notional_unit, 10);
  EXPECT_EQ(table_.Find("ETHUSDT")->notional_unit, 100);
  EXPECT_EQ(table_.Find("ETHBTC")->notional_unit, 1);
  EXPECT_EQ(b->maker_fee, 90000);
  EXPECT_EQ(b->taker_fee, 100000);
  EXPECT_EQ(table_.num_assets(), 3u);
  EXPECT_EQ(table_.asset_name(*table_.FindAsset("ETH")), "ETH");
}

TEST_F(FiltersTest, BuildRejectsBadConfigs) {
  auto c = SymbolTable::DefaultConfigs();
  c[2].step_size = "0.0001";  // 0.00001 * 0.0001 BTC is not a whole satoshi
  EXPECT_FALSE(SymbolTable::Build(c).ok());
  c = SymbolTable::DefaultConfigs();
  c[0].tick_size = "1e-2";
  EXPECT_FALSE(SymbolTable::Build(c).ok());
  c = SymbolTable::DefaultConfigs();
  c.push_back(c[0]);
  EXPECT_FALSE(SymbolTable::Build(c).ok());
  c = SymbolTable::DefaultConfigs();
  c[0].taker_fee = "1";
  EXPECT_FALSE(SymbolTable::Build(c).ok());
}

TEST_F(FiltersTest, AcceptsAValidLimit) {
  auto v = ValidateOrder(table_, Limit("0.001", "40000.01"), {});
  ASSERT_TRUE(v.ok()) << v.error().msg();
  EXPECT_EQ(v.value().price, 4000001);
  EXPECT_EQ(v.value().qty, 100);
  EXPECT_EQ(v.value().tif, TimeInForce::kGtc);
}

TEST_F(FiltersTest, SymbolAndParameters) {
  auto r = Limit("0.001", "40000");
  r.symbol = "DOGEUSDT";
  EXPECT_EQ(W(Err(r)), (Wire{-1121, "Invalid symbol."}));
  r = Limit("0.001", "40000");
  r.time_in_force.reset();
  EXPECT_EQ(Err(r), errors::MandatoryParam("timeInForce"));
  r = Limit("0.001", "40000");
  r.price.reset();
  EXPECT_EQ(Err(r), errors::MandatoryParam("price"));
  r = Limit("0.001", "40000");
  r.quantity.reset();
  EXPECT_EQ(Err(r), errors::MandatoryParam("quantity"));
  r = Limit("0.001", "40000");
  r.type = OrderType::kLimitMaker;
  EXPECT_EQ(W(Err(r)), (Wire{-1106, "Parameter 'timeInForce' sent when not required."}));
  r = Limit("0.001", "40000");
  r.type = OrderType::kMarket;
  r.time_in_force.reset();
  EXPECT_EQ(Err(r), errors::NotRequired("price"));
  r.price.reset();
  r.quantity.reset();
  EXPECT_EQ(W(Err(r)), (Wire{-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but "
                                    "both were empty!"}));
  r.quantity = "0.001";
  r.quote_order_qty = "10";
  EXPECT_EQ(Err(r), errors::NotRequired("quoteOrderQty"));
  r = Limit("0.001", "40000");
  r.type = OrderType::kStopLossLimit;
  EXPECT_EQ(Err(r), errors::MandatoryParam("stopPrice"));
  r = Limit("0.001", "40000");
  r.stop_price = "39000";
  EXPECT_EQ(Err(r), errors::NotRequired("stopPrice"));
  r = Limit("0.001", "40000");
  r.time_in_force = TimeInForce::kIoc;
  r.iceberg_qty = "0.0001";
  EXPECT_EQ(Err(r), errors::NotRequired("icebergQty"));
}

TEST_F(FiltersTest, DecimalErrors) {
  EXPECT_EQ(W(Err(Limit("1e-3", "40000"))),
            (Wire{-1100, "Illegal characters found in parameter 'quantity'; legal range is "
                         "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'."}));
  EXPECT_EQ(Err(Limit("0.001", "-40000")).code(), -1100);
  EXPECT_EQ(Err(Limit("", "40000")), errors::MandatoryParam("quantity"));
  // Digits past 8 decimals: Binance's -1111, not a filter failure.
  EXPECT_EQ(W(Err(Limit("0.001", "40000.000000001"))),
            (Wire{-1111, "Precision is over the maximum defined for this asset."}));
  EXPECT_EQ(Err(Limit("0.000000001", "40000")), errors::BadPrecision());
  EXPECT_EQ(Err(Limit("0.123456789", "40000")), errors::BadPrecision());
  // Within 8 decimals but off the step: the filter.
  EXPECT_EQ(Err(Limit("0.0000001", "40000")), errors::FilterFailure("LOT_SIZE"));
  PlaceOrderRequest r = Limit("0.001", "1");
  r.type = OrderType::kMarket;
  r.time_in_force.reset();
  r.price.reset();
  r.quantity.reset();
  r.quote_order_qty = "10.000000001";
  EXPECT_EQ(W(Err(r)), (Wire{-1111, "Precision is over the maximum defined for this asset."}));
}

TEST_F(FiltersTest, PriceFilter) {
  EXPECT_EQ(W(Err(Limit("0.001", "40000.001"))), (Wire{-1013, "Filter failure: PRICE_FILTER"}));
  EXPECT_EQ(Err(Limit("0.001", "0")), errors::FilterFailure("PRICE_FILTER"));
  EXPECT_EQ(Err(Limit("0.00001", "1000000.01")), errors::FilterFailure("PRICE_FILTER"));
  auto r = Limit("0.001", "40000");
  r.type = OrderType::kStopLossLimit;
  r.stop_price = "39000.005";
  EXPECT_EQ(Err(r), errors::FilterFailure("PRICE_FILTER"));
}

TEST_F(FiltersTest, LotSizeAndMarketLotSize) {
  EXPECT_EQ(W(Err(Limit("0.000015", "40000"))), (Wire{-1013, "Filter failure: LOT_SIZE"}));
  EXPECT_EQ(Err(Limit("0", "40000")), errors::FilterFailure("LOT_SIZE"));
  EXPECT_EQ(Err(Limit("9000.00001", "1")), errors::FilterFailure("LOT_SIZE"));
  PlaceOrderRequest m;
  m.symbol = "BTCUSDT";
  m.side = Side::kSell;
  m.type = OrderType::kMarket;
  m.quantity = "100.00001";
  EXPECT_EQ(W(Err(m)), (Wire{-1013, "Filter failure: MARKET_LOT_SIZE"}));
  m.quantity = "0.000001";
  EXPECT_EQ(Err(m), errors::FilterFailure("LOT_SIZE"));
  m.quantity = "100";
  EXPECT_TRUE(ValidateOrder(table_, m, {}).ok());
  auto r = Limit("0.001", "40000");
  r.iceberg_qty = "0.001";
  EXPECT_EQ(Err(r), errors::FilterFailure("ICEBERG_PARTS"));
}

TEST_F(FiltersTest, Notional) {
  // 0.0001 BTC * 40000 = 4 USDT < 5.
  EXPECT_EQ(W(Err(Limit("0.0001", "40000"))), (Wire{-1013, "Filter failure: NOTIONAL"}));
  EXPECT_TRUE(ValidateOrder(table_, Limit("0.0002", "25000"), {}).ok());  // exactly 5
  EXPECT_TRUE(ValidateOrder(table_, Limit("9000", "1000"), {}).ok());  // exactly the max
  EXPECT_EQ(Err(Limit("9000", "1000.01")), errors::FilterFailure("NOTIONAL"));
  // MIN_NOTIONAL names itself.
  auto c = SymbolTable::DefaultConfigs();
  c[0].notional_filter = "MIN_NOTIONAL";
  auto t = SymbolTable::Build(c);
  ASSERT_TRUE(t.ok());
  auto v = ValidateOrder(*t, Limit("0.0001", "40000"), {});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(W(v.error()), (Wire{-1013, "Filter failure: MIN_NOTIONAL"}));
  // MARKET by quote amount: the amount is the notional.
  PlaceOrderRequest m;
  m.symbol = "BTCUSDT";
  m.type = OrderType::kMarket;
  m.quote_order_qty = "4.99";
  EXPECT_EQ(Err(m), errors::FilterFailure("NOTIONAL"));
  m.quote_order_qty = "5.000000015";  // too precise
  EXPECT_EQ(Err(m).code(), -1111);
  m.quote_order_qty = "5.00000015";  // truncated to whole ticks*lots (10 units)
  auto q = ValidateOrder(table_, m, {});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value().quote_notional, 50000001);
  // MARKET by quantity: estimated at the last price when there is one.
  m.quote_order_qty.reset();
  m.quantity = "0.0001";
  EXPECT_TRUE(ValidateOrder(table_, m, {}).ok());
  EXPECT_EQ(Err(m, MarketQuote{0, 0, 4000000}), errors::FilterFailure("NOTIONAL"));
  // SELL by quote amount cannot be bounded.
  m.quantity.reset();
  m.quote_order_qty = "10";
  m.side = Side::kSell;
  EXPECT_EQ(Err(m), errors::NotRequired("quoteOrderQty"));
}

TEST_F(FiltersTest, PercentPriceBySide) {
  const MarketQuote q{0, 0, 4000000};  // last 40000.00
  EXPECT_TRUE(ValidateOrder(table_, Limit("0.001", "200000"), q).ok());  // 5x
  EXPECT_EQ(W(Err(Limit("0.001", "200000.01"), q)),
            (Wire{-1013, "Filter failure: PERCENT_PRICE_BY_SIDE"}));
  EXPECT_TRUE(ValidateOrder(table_, Limit("0.001", "8000"), q).ok());  // 0.2x
  EXPECT_EQ(Err(Limit("0.001", "7999.99"), q), errors::FilterFailure("PERCENT_PRICE_BY_SIDE"));
  EXPECT_EQ(Err(Limit("0.001", "7999.99", Side::kSell), q),
            errors::FilterFailure("PERCENT_PRICE_BY_SIDE"));
  // No trade yet: no reference, no check.
  EXPECT_TRUE(ValidateOrder(table_, Limit("0.001", "7999.99"), {}).ok());
}

TEST_F(FiltersTest, MarketBuyBound) {
  const SymbolSpec& s = *table_.Find("BTCUSDT");
  EXPECT_FALSE(MarketBuyBound(s, {}).has_value());
  EXPECT_EQ(MarketBuyBound(s, MarketQuote{0, 4000000, 0}), 4200000);  // ask * 1.05
  EXPECT_EQ(MarketBuyBound(s, MarketQuote{0, 0, 4000000}), 4200000);  // last * 1.05
  // Capped by bidMultiplierUp * last, never below the ask.
  EXPECT_EQ(MarketBuyBound(s, MarketQuote{0, 4000000, 810000}), 4050000);
  EXPECT_EQ(MarketBuyBound(s, MarketQuote{0, 4000000, 100}), 4000000);
}

}  // namespace
}  // namespace xc::order_service
