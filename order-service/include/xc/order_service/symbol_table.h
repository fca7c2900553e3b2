#pragma once
// SymbolTable: the configured assets and symbols of the exchange, with every
// decimal of the config (SymbolConfig) parsed exactly into integer scales.
//
// Scales. Amounts are 1e-8 units of an asset. A symbol maps the engine's
// integers to them:
//   price  (quote units per whole base unit) = price_ticks * tick
//   qty    (base units)                      = lots * step
//   quote  (quote units)                     = price_ticks * lots * notional_unit
// where notional_unit = tick * step / 1e8 must be a whole number >= 1 (so a
// trade's quote amount is always exact); Build refuses a config where it is
// not. The engine's Notional (MARKET by quote amount) is in price_ticks * lots,
// i.e. quote units / notional_unit.
//
// Thread safety: immutable after Build; share it freely (const) between
// partitions and threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "xc/order_service/decimal.h"
#include "xc/order_service/messages.h"
#include "xc/protocol/types.h"

namespace xc::order_service {

using AssetId = uint32_t;

// Rates and multipliers are scaled by 1e8 ("0.001" -> 100000).
using Rate = int64_t;

struct SymbolSpec {
  protocol::SymbolId id = 0;
  std::string name;
  AssetId base = 0;
  AssetId quote = 0;
  Amount tick = 0;           // quote units per whole base unit, per price tick
  Amount step = 0;           // base units per lot
  Amount notional_unit = 0;  // quote units per (tick * lot)
  // PRICE_FILTER (quote units per whole base unit; 0 = no bound)
  Amount min_price = 0, max_price = 0;
  // LOT_SIZE / MARKET_LOT_SIZE (base units; 0 max = no bound)
  Amount min_qty = 0, max_qty = 0;
  Amount market_min_qty = 0, market_max_qty = 0;
  // NOTIONAL or MIN_NOTIONAL (quote units; 0 = no bound)
  std::string notional_filter = "NOTIONAL";
  Amount min_notional = 0, max_notional = 0;
  bool apply_min_to_market = true, apply_max_to_market = false;
  // PERCENT_PRICE_BY_SIDE (0 = no bound)
  Rate bid_up = 0, bid_down = 0, ask_up = 0, ask_down = 0;
  Rate market_buy_band = 0;  // >= 1e8
  Rate maker_fee = 0, taker_fee = 0;
  SymbolConfig config;       // as configured, for exchangeInfo
};

class SymbolTable {
 public:
  // Parses and checks every symbol; symbol ids are the position in `configs`,
  // asset ids the order of first appearance (base before quote). Errors:
  // InvalidArgument naming the symbol and field (bad decimal, zero tick/step,
  // tick*step not a multiple of 1e-8, duplicate symbol, min > max, a fee rate
  // >= 1, market_buy_band < 1).
  [[nodiscard]] static absl::StatusOr<SymbolTable> Build(const std::vector<SymbolConfig>& configs);

  // The default config: BTCUSDT, ETHUSDT, ETHBTC with Binance-like filters
  // and fees (maker 0.09%, taker 0.1%).
  static std::vector<SymbolConfig> DefaultConfigs();

  const SymbolSpec* Find(std::string_view name) const;
  const SymbolSpec& at(protocol::SymbolId id) const { return symbols_[id]; }
  size_t size() const { return symbols_.size(); }
  const std::vector<SymbolSpec>& symbols() const { return symbols_; }

  size_t num_assets() const { return assets_.size(); }
  const std::string& asset_name(AssetId a) const { return assets_[a]; }
  std::optional<AssetId> FindAsset(std::string_view name) const;

 private:
  std::vector<SymbolSpec> symbols_;
  std::vector<std::string> assets_;
};

}  // namespace xc::order_service
