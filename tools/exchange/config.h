#pragma once
// The configuration of the one-process exchange (tools/exchange): a file of
// `key = value` lines (format and keys documented in default.conf, which is
// compiled in and used when no --config is given), then environment
// overrides.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "xc/order_service/messages.h"

namespace xc::exchange {

struct ExchangeConfig {
  std::string listen_addr = "0.0.0.0";
  uint16_t port = 8080;
  int http_io_threads = 0;  // 0: auto (IoThreadsFor)
  // HttpServerOptions::busy_poll of the client API, µs (0: off).
  int http_busy_poll_us = 0;
  // After SIGTERM: how long /ready answers 503 while everything still
  // serves, before the listener closes (lets a load balancer or Kubernetes
  // take the pod out of its endpoints first).
  int drain_grace_ms = 0;
  // HTTPS on the client port: PEM certificate chain and private key. Both
  // empty (the default): plain HTTP. Checked when the server starts.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string admin_addr = "127.0.0.1";
  uint16_t admin_port = 8081;
  std::string data_dir = "./xc-data";
  int engine_cpu = -2;  // -2: auto, -1: not pinned, else the core
  std::string journal_policy = "fsync";
  std::string journal_backend = "auto";
  bool engine_run_to_completion = true;  // CoreOptions::run_to_completion
  uint64_t snapshot_every = 100000;
  uint32_t max_orders_per_symbol = 1u << 20;
  uint32_t partitions = 2;
  // Rate limits (gateway::RateLimits, gateway/include/xc/gateway/rate_limiter.h);
  // 0 disables a limit. Re-read on SIGHUP.
  uint32_t rate_limit_request_weight_per_min = 6000;  // per IP and per key
  uint32_t rate_limit_orders_per_10s = 100;           // per key
  uint32_t rate_limit_orders_per_day = 200000;        // per key
  uint32_t rate_limit_orders_per_sec = 100;           // per key (RATE_LIMIT_ORDERS_PER_SEC)
  uint32_t rate_limit_reads_per_sec = 1000;           // per IP (RATE_LIMIT_READS_PER_SEC)
  uint32_t rate_limit_ban_after_violations = 20;      // 429s in a row, then 418
  // Circuit breaker (CIRCUIT_BREAKER_ENABLED): while on, new orders beyond
  // this many per second (all clients together) get 503 -1008.
  bool circuit_breaker_enabled = false;
  uint32_t circuit_breaker_orders_per_sec = 5000;
  std::vector<order_service::SymbolConfig> symbols;
};

// The text of default.conf (compiled in).
std::string_view DefaultConfigText();

// Parses config text. InvalidArgument naming the line for a malformed line,
// an unknown or repeated key, or a bad number. Symbol decimals are checked
// later by SymbolTable::Build.
[[nodiscard]] absl::StatusOr<ExchangeConfig> ParseConfig(std::string_view text);

// Applies the environment variables that override config keys:
//   XC_LISTEN_ADDR, XC_PORT, XC_ADMIN_ADDR, XC_ADMIN_PORT, XC_DATA_DIR,
//   XC_TLS_CERT_FILE, XC_TLS_KEY_FILE,
//   XC_RATE_LIMIT_ORDERS_PER_10S, XC_RATE_LIMIT_REQUEST_WEIGHT_PER_MIN,
//   XC_RATE_LIMIT_ORDERS_PER_DAY, XC_RATE_LIMIT_BAN_AFTER_VIOLATIONS,
//   XC_CIRCUIT_BREAKER_ORDERS_PER_SEC, and the operators' playbook names
//   RATE_LIMIT_ORDERS_PER_SEC, RATE_LIMIT_READS_PER_SEC,
//   CIRCUIT_BREAKER_ENABLED (also accepted with the XC_ prefix, which wins
//   when both are set).
// An empty XC_TLS_* value clears the key (turns TLS off).
// `env` maps name -> value (main passes getenv's view). InvalidArgument for a
// bad number.
[[nodiscard]] absl::Status ApplyEnvOverrides(const std::map<std::string, std::string>& env,
                                             ExchangeConfig* config);

// Reads the config file at `path` (the built-in default when empty), parses
// it and applies `env` (ApplyEnvOverrides). NotFound when the file cannot be
// read; ParseConfig's and ApplyEnvOverrides' errors otherwise. Used by the
// SIGHUP reload.
[[nodiscard]] absl::StatusOr<ExchangeConfig> LoadConfig(
    const std::string& path, const std::map<std::string, std::string>& env);

// The I/O threads the client API runs with: `configured` when set, else
// (auto, 0) one per allowed core, at least 1: thread per core. No request
// holds an I/O thread while it waits, so more threads than cores only add
// wake-ups, lock hand-offs and scheduling delay (2 cores, 10k-25k orders/s
// over the WebSocket API: 2 threads use 0.75-0.8x the CPU of 8).
int IoThreadsFor(int configured, int allowed_cpus);

// The names ApplyEnvOverrides reads.
const std::vector<std::string>& EnvOverrideNames();

}  // namespace xc::exchange
