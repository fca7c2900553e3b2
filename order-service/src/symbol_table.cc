#include "xc/order_service/symbol_table.h"

#include "xc/order_service/internal/str_cat.h"

namespace xc::order_service {

namespace {

absl::Status Bad(const SymbolConfig& c, std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(internal::Cat("symbol ", c.symbol, ": ", field, " ", why));
}

// Parses a decimal config field; an empty string is 0 ("no bound") when
// allow_empty, an error otherwise.
absl::Status ParseField(const SymbolConfig& c, std::string_view field, const std::string& text,
                        bool allow_empty, int64_t* out) {
  if (text.empty() && allow_empty) {
    *out = 0;
    return absl::OkStatus();
  }
  const ParsedDecimal d = ParseDecimal(text);
  if (!d.ok()) return Bad(c, field, internal::Cat("is not a decimal: '", text, "'"));
  *out = d.units;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SymbolTable> SymbolTable::Build(const std::vector<SymbolConfig>& configs) {
  SymbolTable t;
  auto asset = [&t](const std::string& name) -> AssetId {
    for (AssetId i = 0; i < t.assets_.size(); ++i) {
      if (t.assets_[i] == name) return i;
    }
    t.assets_.push_back(name);
    return static_cast<AssetId>(t.assets_.size() - 1);
  };
  for (const SymbolConfig& c : configs) {
    if (c.symbol.empty() || c.base_asset.empty() || c.quote_asset.empty() ||
        c.base_asset == c.quote_asset) {
      return Bad(c, "symbol/base/quote", "must be non-empty and base != quote");
    }
    if (t.Find(c.symbol) != nullptr) return Bad(c, "symbol", "is configured twice");
    SymbolSpec s;
    s.id = static_cast<protocol::SymbolId>(t.symbols_.size());
    s.name = c.symbol;
    s.base = asset(c.base_asset);
    s.quote = asset(c.quote_asset);
    struct F {
      std::string_view name;
      const std::string* text;
      bool allow_empty;
      int64_t* out;
    };
    const F fields[] = {
        {"tickSize", &c.tick_size, false, &s.tick},
        {"minPrice", &c.min_price, true, &s.min_price},
        {"maxPrice", &c.max_price, true, &s.max_price},
        {"stepSize", &c.step_size, false, &s.step},
        {"minQty", &c.min_qty, true, &s.min_qty},
        {"maxQty", &c.max_qty, true, &s.max_qty},
        {"market minQty", &c.market_min_qty, true, &s.market_min_qty},
        {"market maxQty", &c.market_max_qty, true, &s.market_max_qty},
        {"minNotional", &c.min_notional, true, &s.min_notional},
        {"maxNotional", &c.max_notional, true, &s.max_notional},
        {"bidMultiplierUp", &c.bid_multiplier_up, true, &s.bid_up},
        {"bidMultiplierDown", &c.bid_multiplier_down, true, &s.bid_down},
        {"askMultiplierUp", &c.ask_multiplier_up, true, &s.ask_up},
        {"askMultiplierDown", &c.ask_multiplier_down, true, &s.ask_down},
        {"market_buy_band", &c.market_buy_band, false, &s.market_buy_band},
        {"maker fee", &c.maker_fee, false, &s.maker_fee},
        {"taker fee", &c.taker_fee, false, &s.taker_fee},
    };
    for (const F& f : fields) {
      if (absl::Status st = ParseField(c, f.name, *f.text, f.allow_empty, f.out); !st.ok()) {
        return st;
      }
    }
    if (s.tick <= 0) return Bad(c, "tickSize", "must be > 0");
    if (s.step <= 0) return Bad(c, "stepSize", "must be > 0");
    // tick * step in 1e-16 units of quote; it must be a whole number of 1e-8.
    const __int128 prod = static_cast<__int128>(s.tick) * s.step;
    if (prod % kUnitsPerWhole != 0) {
      return Bad(c, "tickSize*stepSize", "must be a multiple of 0.00000001");
    }
    s.notional_unit = static_cast<Amount>(prod / kUnitsPerWhole);
    if (s.min_price % s.tick != 0 || s.max_price % s.tick != 0) {
      return Bad(c, "minPrice/maxPrice", "must be multiples of tickSize");
    }
    if (s.min_qty % s.step != 0 || s.max_qty % s.step != 0) {
      return Bad(c, "minQty/maxQty", "must be multiples of stepSize");
    }
    if ((s.max_price != 0 && s.min_price > s.max_price) ||
        (s.max_qty != 0 && s.min_qty > s.max_qty) ||
        (s.market_max_qty != 0 && s.market_min_qty > s.market_max_qty) ||
        (s.max_notional != 0 && s.min_notional > s.max_notional)) {
      return Bad(c, "min/max", "minimum above maximum");
    }
    if (c.notional_filter != "NOTIONAL" && c.notional_filter != "MIN_NOTIONAL") {
      return Bad(c, "notional_filter", "must be NOTIONAL or MIN_NOTIONAL");
    }
    s.notional_filter = c.notional_filter;
    if (s.notional_filter == "MIN_NOTIONAL") s.max_notional = 0;
    s.apply_min_to_market = c.apply_min_to_market;
    s.apply_max_to_market = c.apply_max_to_market;
    if (s.maker_fee >= kUnitsPerWhole || s.taker_fee >= kUnitsPerWhole) {
      return Bad(c, "fee", "must be < 1");
    }
    if (s.market_buy_band < kUnitsPerWhole) return Bad(c, "market_buy_band", "must be >= 1");
    s.config = c;
    t.symbols_.push_back(std::move(s));
  }
  return t;
}

std::vector<SymbolConfig> SymbolTable::DefaultConfigs() {
  // Binance's values, except ETHBTC's step (0.001 rather than 0.0001) so that
  // tick * step is a whole 1e-8 BTC. Built by construction, not assignment:
  // g++ 12 warns falsely (-Wrestrict) on std::string assignments here.
  auto make = [](const char* sym, const char* base, const char* quote, const char* tick,
                 const char* max_price, const char* step, const char* max_qty,
                 const char* market_max_qty, const char* min_notional,
                 const char* max_notional) {
    return SymbolConfig{
        .symbol = sym,
        .base_asset = base,
        .quote_asset = quote,
        .min_price = tick,
        .max_price = max_price,
        .tick_size = tick,
        .min_qty = step,
        .max_qty = max_qty,
        .step_size = step,
        .market_min_qty = "0",
        .market_max_qty = market_max_qty,
        .notional_filter = "NOTIONAL",
        .min_notional = min_notional,
        .max_notional = max_notional,
        .apply_min_to_market = true,
        .apply_max_to_market = false,
        .bid_multiplier_up = "5",
        .bid_multiplier_down = "0.2",
        .ask_multiplier_up = "5",
        .ask_multiplier_down = "0.2",
        .market_buy_band = "1.05",
        .maker_fee = "0.0009",
        .taker_fee = "0.001",
    };
  };
  return {
      make("BTCUSDT", "BTC", "USDT", "0.01", "1000000", "0.00001", "9000", "100", "5", "9000000"),
      make("ETHUSDT", "ETH", "USDT", "0.01", "1000000", "0.0001", "9000", "1000", "5", "9000000"),
      make("ETHBTC", "ETH", "BTC", "0.00001", "922327", "0.001", "100000", "1000", "0.0001",
           "9000000"),
  };
}

const SymbolSpec* SymbolTable::Find(std::string_view name) const {
  for (const SymbolSpec& s : symbols_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<AssetId> SymbolTable::FindAsset(std::string_view name) const {
  for (AssetId i = 0; i < assets_.size(); ++i) {
    if (assets_[i] == name) return i;
  }
  return std::nullopt;
}

}  // namespace xc::order_service
