// The exchange's config parser: the compiled-in default.conf is the order
// service's default symbol set, env overrides, and errors name the line.

#include "config.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "xc/order_service/symbol_table.h"

namespace xc::exchange {
namespace {

TEST(ExchangeConfigTest, DefaultConfMatchesTheOrderServiceDefaults) {
  auto c = ParseConfig(DefaultConfigText());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->admin_port, 8081);
  EXPECT_EQ(c->admin_addr, "127.0.0.1");
  EXPECT_EQ(c->data_dir, "./xc-data");
  EXPECT_TRUE(c->engine_run_to_completion);
  auto off = ParseConfig("symbol.A.base = X\nengine_run_to_completion = false\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->engine_run_to_completion);
  EXPECT_FALSE(ParseConfig("symbol.A.base = X\nengine_run_to_completion = 1\n").ok());
  const auto want = order_service::SymbolTable::DefaultConfigs();
  ASSERT_EQ(c->symbols.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& a = c->symbols[i];
    const auto& b = want[i];
    SCOPED_TRACE(b.symbol);
    EXPECT_EQ(a.symbol, b.symbol);
    EXPECT_EQ(a.base_asset, b.base_asset);
    EXPECT_EQ(a.quote_asset, b.quote_asset);
    EXPECT_EQ(a.min_price, b.min_price);
    EXPECT_EQ(a.max_price, b.max_price);
    EXPECT_EQ(a.tick_size, b.tick_size);
    EXPECT_EQ(a.min_qty, b.min_qty);
    EXPECT_EQ(a.max_qty, b.max_qty);
    EXPECT_EQ(a.step_size, b.step_size);
    EXPECT_EQ(a.market_min_qty, b.market_min_qty);
    EXPECT_EQ(a.market_max_qty, b.market_max_qty);
    EXPECT_EQ(a.notional_filter, b.notional_filter);
    EXPECT_EQ(a.min_notional, b.min_notional);
    EXPECT_EQ(a.max_notional, b.max_notional);
    EXPECT_EQ(a.apply_min_to_market, b.apply_min_to_market);
    EXPECT_EQ(a.apply_max_to_market, b.apply_max_to_market);
    EXPECT_EQ(a.bid_multiplier_up, b.bid_multiplier_up);
    EXPECT_EQ(a.bid_multiplier_down, b.bid_multiplier_down);
    EXPECT_EQ(a.ask_multiplier_up, b.ask_multiplier_up);
    EXPECT_EQ(a.ask_multiplier_down, b.ask_multiplier_down);
    EXPECT_EQ(a.market_buy_band, b.market_buy_band);
    EXPECT_EQ(a.maker_fee, b.maker_fee);
    EXPECT_EQ(a.taker_fee, b.taker_fee);
  }
  EXPECT_TRUE(order_service::SymbolTable::Build(c->symbols).ok());
}

TEST(ExchangeConfigTest, EnvOverridesWin) {
  auto c = ParseConfig(DefaultConfigText());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(ApplyEnvOverrides({{"XC_PORT", "0"},
                                 {"XC_ADMIN_PORT", "9091"},
                                 {"XC_LISTEN_ADDR", "127.0.0.1"},
                                 {"XC_RATE_LIMIT_ORDERS_PER_10S", "100"},
                                 {"HOME", "/root"}},
                                &*c)
                  .ok());
  EXPECT_EQ(c->port, 0);
  EXPECT_EQ(c->admin_port, 9091);
  EXPECT_EQ(c->listen_addr, "127.0.0.1");
  EXPECT_EQ(c->rate_limit_orders_per_10s, 100u);
  EXPECT_FALSE(ApplyEnvOverrides({{"XC_PORT", "70000"}}, &*c).ok());
  EXPECT_FALSE(ApplyEnvOverrides({{"XC_ADMIN_PORT", "x"}}, &*c).ok());
}

TEST(ExchangeConfigTest, IoThreadsAutoIsOnePerCore) {
  auto c = ParseConfig(DefaultConfigText());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->http_io_threads, 0);  // auto
  EXPECT_EQ(IoThreadsFor(c->http_io_threads, 2), 2);
  EXPECT_EQ(IoThreadsFor(c->http_io_threads, 8), 8);
  EXPECT_EQ(IoThreadsFor(c->http_io_threads, 0), 1);
  ASSERT_TRUE(ApplyEnvOverrides({{"XC_HTTP_IO_THREADS", "3"}}, &*c).ok());
  EXPECT_EQ(IoThreadsFor(c->http_io_threads, 2), 3);
  ASSERT_TRUE(ApplyEnvOverrides({{"XC_HTTP_IO_THREADS", "auto"}}, &*c).ok());
  EXPECT_EQ(c->http_io_threads, 0);
  EXPECT_FALSE(ApplyEnvOverrides({{"XC_HTTP_IO_THREADS", "0"}}, &*c).ok());
  EXPECT_FALSE(ApplyEnvOverrides({{"XC_HTTP_IO_THREADS", "many"}}, &*c).ok());
  // Every variable ApplyEnvOverrides reads is listed.
  const auto& names = EnvOverrideNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "XC_HTTP_IO_THREADS"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "XC_ENGINE_RUN_TO_COMPLETION"), names.end());
}

TEST(ExchangeConfigTest, BusyPollIsOffByDefaultAndBounded) {
  auto c = ParseConfig(DefaultConfigText());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->http_busy_poll_us, 0);
  auto f = ParseConfig("symbol.A.base = X\nhttp_busy_poll_us = 200\n");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->http_busy_poll_us, 200);
  EXPECT_FALSE(ParseConfig("symbol.A.base = X\nhttp_busy_poll_us = -1\n").ok());
  EXPECT_FALSE(ParseConfig("symbol.A.base = X\nhttp_busy_poll_us = 1000001\n").ok());
  ASSERT_TRUE(ApplyEnvOverrides({{"XC_HTTP_BUSY_POLL_US", "50"}}, &*c).ok());
  EXPECT_EQ(c->http_busy_poll_us, 50);
  EXPECT_FALSE(ApplyEnvOverrides({{"XC_HTTP_BUSY_POLL_US", "fast"}}, &*c).ok());
  EXPECT_EQ(c->http_busy_poll_us, 50);  // a bad value changes nothing
  const auto& names = EnvOverrideNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "XC_HTTP_BUSY_POLL_US"), names.end());
}

TEST(ExchangeConfigTest, RateLimitsFromFileAndEnv) {
  auto c = ParseConfig(DefaultConfigText());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rate_limit_request_weight_per_min, 6000u);
  EXPECT_EQ(c->rate_limit_orders_per_10s, 100u);
  EXPECT_EQ(c->rate_limit_orders_per_day, 200000u);
  EXPECT_EQ(c->rate_limit_orders_per_sec, 100u);
  EXPECT_EQ(c->rate_limit_reads_per_sec, 1000u);
  EXPECT_EQ(c->rate_limit_ban_after_violations, 20u);
  EXPECT_FALSE(c->circuit_breaker_enabled);
  EXPECT_EQ(c->circuit_breaker_orders_per_sec, 5000u);
  auto f = ParseConfig(
      "symbol.A.base = X\nrate_limit_orders_per_sec = 7\nrate_limit_reads_per_sec = 0\n"
      "circuit_breaker_enabled = true\ncircuit_breaker_orders_per_sec = 9\n");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->rate_limit_orders_per_sec, 7u);
  EXPECT_EQ(f->rate_limit_reads_per_sec, 0u);
  EXPECT_TRUE(f->circuit_breaker_enabled);
  EXPECT_EQ(f->circuit_breaker_orders_per_sec, 9u);
  EXPECT_FALSE(ParseConfig("symbol.A.base = X\ncircuit_breaker_enabled = yes\n").ok());
  EXPECT_FALSE(ParseConfig("symbol.A.base = X\nrate_limit_reads_per_sec = -1\n").ok());
  // The playbook's names, bare; the XC_ form wins when both are set.
  ASSERT_TRUE(ApplyEnvOverrides({{"RATE_LIMIT_ORDERS_PER_SEC", "50"},
                                 {"RATE_LIMIT_READS_PER_SEC", "500"},
                                 {"XC_RATE_LIMIT_READS_PER_SEC", "600"},
                                 {"CIRCUIT_BREAKER_ENABLED", "true"},
                                 {"XC_RATE_LIMIT_ORDERS_PER_DAY", "10"}},
                                &*c)
                  .ok());
  EXPECT_EQ(c->rate_limit_orders_per_sec, 50u);
  EXPECT_EQ(c->rate_limit_reads_per_sec, 600u);
  EXPECT_TRUE(c->circuit_breaker_enabled);
  EXPECT_EQ(c->rate_limit_orders_per_day, 10u);
  EXPECT_FALSE(ApplyEnvOverrides({{"CIRCUIT_BREAKER_ENABLED", "1"}}, &*c).ok());
}

TEST(ExchangeConfigTest, LoadConfigReadsTheFileThenTheEnvironment) {
  const std::string path = ::testing::TempDir() + "/xc_load_config_test.conf";
  {
    std::ofstream out(path);
    out << "symbol.A.base = X\nrate_limit_orders_per_10s = 5\n";
  }
  auto c = LoadConfig(path, {{"XC_RATE_LIMIT_REQUEST_WEIGHT_PER_MIN", "77"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rate_limit_orders_per_10s, 5u);
  EXPECT_EQ(c->rate_limit_request_weight_per_min, 77u);
  EXPECT_TRUE(absl::IsNotFound(LoadConfig(path + ".missing", {}).status()));
  auto d = LoadConfig("", {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->rate_limit_orders_per_10s, 100u);
  std::remove(path.c_str());
}

TEST(ExchangeConfigTest, TlsFilesFromFileAndEnv) {
  auto c = ParseConfig(DefaultConfigText());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->tls_cert_file, "");  // plain HTTP by default
  EXPECT_EQ(c->tls_key_file, "");
  auto f = ParseConfig("symbol.A.base = X\ntls_cert_file = /a/c.pem\ntls_key_file = /a/k.pem\n");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->tls_cert_file, "/a/c.pem");
  EXPECT_EQ(f->tls_key_file, "/a/k.pem");
  ASSERT_TRUE(
      ApplyEnvOverrides({{"XC_TLS_CERT_FILE", "/b/c.pem"}, {"XC_TLS_KEY_FILE", ""}}, &*f).ok());
  EXPECT_EQ(f->tls_cert_file, "/b/c.pem");
  EXPECT_EQ(f->tls_key_file, "");  // empty clears
}

TEST(ExchangeConfigTest, ErrorsNameTheLine) {
  const std::string sym = "symbol.A.base = X\n";
  auto bad = ParseConfig(sym + "# c\nport = 80\nnope = 1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 4"), std::string::npos) << bad.status();
  EXPECT_FALSE(ParseConfig(sym + "port = 1\nport = 2\n").ok());     // repeated
  EXPECT_FALSE(ParseConfig(sym + "port\n").ok());                   // no '='
  EXPECT_FALSE(ParseConfig(sym + "symbol.A.colour = red\n").ok());  // unknown field
  EXPECT_FALSE(ParseConfig(sym + "engine_cpu = soon\n").ok());
  EXPECT_FALSE(ParseConfig("port = 1\n").ok());  // no symbols
  auto ok = ParseConfig(sym + "engine_cpu = -1\njournal_policy = interval:5\n");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->engine_cpu, -1);
  EXPECT_EQ(ok->journal_policy, "interval:5");
}

}  // namespace
}  // namespace xc::exchange
