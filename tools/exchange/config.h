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
  int http_io_threads = 8;
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
  uint64_t snapshot_every = 100000;
  uint32_t max_orders_per_symbol = 1u << 20;
  uint32_t partitions = 2;
  // Reserved: parsed and reported, not enforced (no rate limiter yet).
  uint64_t rate_limit_orders_per_10s = 0;
  uint64_t rate_limit_request_weight_per_min = 0;
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
//   XC_RATE_LIMIT_ORDERS_PER_10S, XC_RATE_LIMIT_REQUEST_WEIGHT_PER_MIN.
// An empty XC_TLS_* value clears the key (turns TLS off).
// `env` maps name -> value (main passes getenv's view). InvalidArgument for a
// bad number.
[[nodiscard]] absl::Status ApplyEnvOverrides(const std::map<std::string, std::string>& env,
                                             ExchangeConfig* config);

// The names ApplyEnvOverrides reads.
const std::vector<std::string>& EnvOverrideNames();

}  // namespace xc::exchange
