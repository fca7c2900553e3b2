// The gateway's public REST endpoints over the real order service
// (LocalOrderService with the default symbol table), through real sockets:
// exchangeInfo must show exactly the configuration the order service
// enforces. Cross-component (gateway + order-service implementation), so it
// lives in tests/.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <string_view>

#include "xc/gateway/testing/http_test_client.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/rest_api.h"
#include "xc/order_service/decimal.h"
#include "xc/order_service/local_order_service.h"
#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"

namespace xc {
namespace {

namespace os = xc::order_service;

std::string Amount8(const std::string& config) {
  auto p = os::ParseDecimal(config.empty() ? std::string_view("0") : config, os::kAmountDecimals);
  EXPECT_TRUE(p.ok()) << config;
  return os::FormatDecimal(p.units, os::kAmountDecimals);
}

std::string_view Filter(simdjson::dom::element sym, std::string_view type, std::string_view key) {
  for (simdjson::dom::element f : sym["filters"].get_array()) {
    if (std::string_view(f["filterType"]) == type) return std::string_view(f[key]);
  }
  return "<missing>";
}

TEST(GatewayRestApiTest, ExchangeInfoShowsTheOrderServiceConfiguration) {
  auto table = os::SymbolTable::Build(os::SymbolTable::DefaultConfigs());
  ASSERT_TRUE(table.ok());
  os::Partition partition(0, 1, &*table, nullptr, nullptr);
  os::LocalOrderService service(&*table, {&partition});
  gateway::SystemWallClock clock;
  gateway::RestApi api(service, clock);
  gateway::HttpServer server(gateway::HttpServerOptions{});
  api.Register(server);
  ASSERT_FALSE(server.Start());

  gateway::testing::TestClient client(server.port());
  gateway::testing::TestResponse r = client.Request("GET", "/api/v3/exchangeInfo");
  ASSERT_EQ(r.status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.body);
  simdjson::dom::array symbols = doc["symbols"];
  ASSERT_EQ(symbols.size(), table->size());
  size_t i = 0;
  for (simdjson::dom::element s : symbols) {
    const os::SymbolConfig& c = table->at(static_cast<protocol::SymbolId>(i++)).config;
    SCOPED_TRACE(c.symbol);
    EXPECT_EQ(std::string_view(s["symbol"]), c.symbol);
    EXPECT_EQ(std::string_view(s["baseAsset"]), c.base_asset);
    EXPECT_EQ(std::string_view(s["quoteAsset"]), c.quote_asset);
    EXPECT_EQ(Filter(s, "PRICE_FILTER", "minPrice"), Amount8(c.min_price));
    EXPECT_EQ(Filter(s, "PRICE_FILTER", "maxPrice"), Amount8(c.max_price));
    EXPECT_EQ(Filter(s, "PRICE_FILTER", "tickSize"), Amount8(c.tick_size));
    EXPECT_EQ(Filter(s, "LOT_SIZE", "minQty"), Amount8(c.min_qty));
    EXPECT_EQ(Filter(s, "LOT_SIZE", "maxQty"), Amount8(c.max_qty));
    EXPECT_EQ(Filter(s, "LOT_SIZE", "stepSize"), Amount8(c.step_size));
    EXPECT_EQ(Filter(s, "MARKET_LOT_SIZE", "maxQty"), Amount8(c.market_max_qty));
    EXPECT_EQ(Filter(s, c.notional_filter, "minNotional"), Amount8(c.min_notional));
  }

  // The order service's own lookup agrees with ?symbol= filtering.
  r = client.Request("GET", "/api/v3/exchangeInfo?symbol=ETHBTC");
  ASSERT_EQ(r.status, 200);
  doc = parser.parse(r.body);
  EXPECT_EQ(doc["symbols"].get_array().size(), 1u);
  EXPECT_EQ(std::string_view(doc["symbols"].at(0)["symbol"]), "ETHBTC");
  r = client.Request("GET", "/api/v3/exchangeInfo?symbol=DOGEUSDT");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1121,"msg":"Invalid symbol."})");
  server.Stop();
}

}  // namespace
}  // namespace xc
