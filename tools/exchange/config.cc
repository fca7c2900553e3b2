#include "config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <set>
#include <string>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace xc::exchange {
namespace {

// Debian's Abseil is built without std::string_view interop, so the few
// string helpers needed here are local.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  auto add = [&out](const auto& a) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(a)>>) {
      out += std::to_string(a);
    } else if constexpr (std::is_same_v<std::decay_t<decltype(a)>, absl::string_view>) {
      out.append(a.data(), a.size());
    } else {
      out += a;
    }
  };
  (add(args), ...);
  return out;
}

std::string_view Strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const size_t i = s.find(sep);
    out.push_back(s.substr(0, i));
    if (i == std::string_view::npos) return out;
    s.remove_prefix(i + 1);
  }
}

constexpr char kDefaultConf[] =
#include "default_conf.inc"
    ;

template <typename T>
absl::Status ParseNumber(std::string_view key, std::string_view v, T min, T max, T* out) {
  T x{};
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || x < min || x > max) {
    return absl::InvalidArgumentError(
        Cat(key, ": '", v, "' is not a number in [", min, ", ", max, "]"));
  }
  *out = x;
  return absl::OkStatus();
}

absl::Status ParseBool(std::string_view key, std::string_view v, bool* out) {
  if (v == "true") {
    *out = true;
  } else if (v == "false") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(Cat(key, ": '", v, "' is not true or false"));
  }
  return absl::OkStatus();
}

// Built by construction, not assignment: g++ 12 warns falsely (-Wrestrict)
// on std::string assignments of literals here (as in symbol_table.cc).
order_service::SymbolConfig NewSymbol(std::string_view name) {
  return order_service::SymbolConfig{
      .symbol = std::string(name),
      .base_asset = {},
      .quote_asset = {},
      .min_price = {},
      .max_price = {},
      .tick_size = {},
      .min_qty = {},
      .max_qty = {},
      .step_size = {},
      .market_min_qty = {},
      .market_max_qty = {},
      .notional_filter = "NOTIONAL",
      .min_notional = {},
      .max_notional = {},
      .apply_min_to_market = true,
      .apply_max_to_market = false,
      .bid_multiplier_up = "5",
      .bid_multiplier_down = "0.2",
      .ask_multiplier_up = "5",
      .ask_multiplier_down = "0.2",
      .market_buy_band = "1.05",
      .maker_fee = {},
      .taker_fee = {},
  };
}

absl::Status SetSymbolField(order_service::SymbolConfig* c, std::string_view key,
                            std::string_view field, std::string_view v) {
  const std::string s(v);
  if (field == "base")
    c->base_asset = s;
  else if (field == "quote")
    c->quote_asset = s;
  else if (field == "tick_size")
    c->tick_size = s;
  else if (field == "min_price")
    c->min_price = s;
  else if (field == "max_price")
    c->max_price = s;
  else if (field == "step_size")
    c->step_size = s;
  else if (field == "min_qty")
    c->min_qty = s;
  else if (field == "max_qty")
    c->max_qty = s;
  else if (field == "market_min_qty")
    c->market_min_qty = s;
  else if (field == "market_max_qty")
    c->market_max_qty = s;
  else if (field == "notional_filter")
    c->notional_filter = s;
  else if (field == "min_notional")
    c->min_notional = s;
  else if (field == "max_notional")
    c->max_notional = s;
  else if (field == "apply_min_to_market")
    return ParseBool(key, v, &c->apply_min_to_market);
  else if (field == "apply_max_to_market")
    return ParseBool(key, v, &c->apply_max_to_market);
  else if (field == "bid_multiplier_up")
    c->bid_multiplier_up = s;
  else if (field == "bid_multiplier_down")
    c->bid_multiplier_down = s;
  else if (field == "ask_multiplier_up")
    c->ask_multiplier_up = s;
  else if (field == "ask_multiplier_down")
    c->ask_multiplier_down = s;
  else if (field == "market_buy_band")
    c->market_buy_band = s;
  else if (field == "maker_fee")
    c->maker_fee = s;
  else if (field == "taker_fee")
    c->taker_fee = s;
  else
    return absl::InvalidArgumentError(Cat("unknown key '", key, "'"));
  return absl::OkStatus();
}

absl::Status SetKey(ExchangeConfig* c, std::string_view key, std::string_view v) {
  if (key == "listen_addr") {
    c->listen_addr = std::string(v);
  } else if (key == "port") {
    return ParseNumber<uint16_t>(key, v, 0, 65535, &c->port);
  } else if (key == "http_io_threads") {
    if (v == "auto") {
      c->http_io_threads = 0;
      return absl::OkStatus();
    }
    return ParseNumber<int>(key, v, 1, 64, &c->http_io_threads);
  } else if (key == "http_busy_poll_us") {
    return ParseNumber<int>(key, v, 0, 1'000'000, &c->http_busy_poll_us);
  } else if (key == "drain_grace_ms") {
    return ParseNumber<int>(key, v, 0, 600'000, &c->drain_grace_ms);
  } else if (key == "tls_cert_file") {
    c->tls_cert_file = std::string(v);
  } else if (key == "tls_key_file") {
    c->tls_key_file = std::string(v);
  } else if (key == "admin_addr") {
    c->admin_addr = std::string(v);
  } else if (key == "admin_port") {
    return ParseNumber<uint16_t>(key, v, 0, 65535, &c->admin_port);
  } else if (key == "data_dir") {
    if (v.empty()) return absl::InvalidArgumentError("data_dir: empty");
    c->data_dir = std::string(v);
  } else if (key == "engine_cpu") {
    if (v == "auto") {
      c->engine_cpu = -2;
      return absl::OkStatus();
    }
    return ParseNumber<int>(key, v, -1, 4095, &c->engine_cpu);
  } else if (key == "journal_policy") {
    c->journal_policy = std::string(v);
  } else if (key == "journal_backend") {
    c->journal_backend = std::string(v);
  } else if (key == "engine_run_to_completion") {
    return ParseBool(key, v, &c->engine_run_to_completion);
  } else if (key == "snapshot_every") {
    return ParseNumber<uint64_t>(key, v, 0, UINT64_MAX, &c->snapshot_every);
  } else if (key == "max_orders_per_symbol") {
    return ParseNumber<uint32_t>(key, v, 16, 1u << 26, &c->max_orders_per_symbol);
  } else if (key == "partitions") {
    return ParseNumber<uint32_t>(key, v, 1, 256, &c->partitions);
  } else if (key == "rate_limit_orders_per_10s") {
    return ParseNumber<uint32_t>(key, v, 0, UINT32_MAX, &c->rate_limit_orders_per_10s);
  } else if (key == "rate_limit_request_weight_per_min") {
    return ParseNumber<uint32_t>(key, v, 0, UINT32_MAX, &c->rate_limit_request_weight_per_min);
  } else if (key == "rate_limit_orders_per_day") {
    return ParseNumber<uint32_t>(key, v, 0, UINT32_MAX, &c->rate_limit_orders_per_day);
  } else if (key == "rate_limit_orders_per_sec") {
    return ParseNumber<uint32_t>(key, v, 0, UINT32_MAX, &c->rate_limit_orders_per_sec);
  } else if (key == "rate_limit_reads_per_sec") {
    return ParseNumber<uint32_t>(key, v, 0, UINT32_MAX, &c->rate_limit_reads_per_sec);
  } else if (key == "rate_limit_ban_after_violations") {
    return ParseNumber<uint32_t>(key, v, 0, UINT32_MAX, &c->rate_limit_ban_after_violations);
  } else if (key == "circuit_breaker_enabled") {
    return ParseBool(key, v, &c->circuit_breaker_enabled);
  } else if (key == "circuit_breaker_orders_per_sec") {
    return ParseNumber<uint32_t>(key, v, 0, UINT32_MAX, &c->circuit_breaker_orders_per_sec);
  } else if (key.substr(0, 7) == "symbol.") {
    std::vector<std::string_view> parts = Split(key, '.');
    if (parts.size() != 3 || parts[1].empty()) {
      return absl::InvalidArgumentError(Cat("'", key, "': expected symbol.<NAME>.<field>"));
    }
    order_service::SymbolConfig* sym = nullptr;
    for (auto& s : c->symbols) {
      if (s.symbol == parts[1]) sym = &s;
    }
    if (sym == nullptr) {
      c->symbols.push_back(NewSymbol(parts[1]));
      sym = &c->symbols.back();
    }
    return SetSymbolField(sym, key, parts[2], v);
  } else {
    return absl::InvalidArgumentError(Cat("unknown key '", key, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view DefaultConfigText() { return kDefaultConf; }

absl::StatusOr<ExchangeConfig> ParseConfig(std::string_view text) {
  ExchangeConfig c;
  std::set<std::string, std::less<>> seen;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Strip(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          Cat("line ", line_no, ": expected key = value, got '", line, "'"));
    }
    const std::string_view key = Strip(line.substr(0, eq));
    const std::string_view value = Strip(line.substr(eq + 1));
    if (!seen.emplace(key).second) {
      return absl::InvalidArgumentError(Cat("line ", line_no, ": key '", key, "' repeated"));
    }
    if (absl::Status s = SetKey(&c, key, value); !s.ok()) {
      return absl::InvalidArgumentError(Cat("line ", line_no, ": ", s.message()));
    }
  }
  if (c.symbols.empty()) return absl::InvalidArgumentError("no symbol.* keys: no symbols");
  return c;
}

namespace {

// Environment variable -> config key.
const std::map<std::string, std::string>& EnvKeys() {
  static const std::map<std::string, std::string> kKeyOf = {
      {"XC_LISTEN_ADDR", "listen_addr"},
      {"XC_PORT", "port"},
      {"XC_ADMIN_ADDR", "admin_addr"},
      {"XC_ADMIN_PORT", "admin_port"},
      {"XC_DATA_DIR", "data_dir"},
      {"XC_TLS_CERT_FILE", "tls_cert_file"},
      {"XC_TLS_KEY_FILE", "tls_key_file"},
      {"XC_DRAIN_GRACE_MS", "drain_grace_ms"},
      {"XC_ENGINE_RUN_TO_COMPLETION", "engine_run_to_completion"},
      {"XC_HTTP_IO_THREADS", "http_io_threads"},
      {"XC_HTTP_BUSY_POLL_US", "http_busy_poll_us"},
      {"XC_RATE_LIMIT_ORDERS_PER_10S", "rate_limit_orders_per_10s"},
      {"XC_RATE_LIMIT_REQUEST_WEIGHT_PER_MIN", "rate_limit_request_weight_per_min"},
      {"XC_RATE_LIMIT_ORDERS_PER_DAY", "rate_limit_orders_per_day"},
      {"XC_RATE_LIMIT_BAN_AFTER_VIOLATIONS", "rate_limit_ban_after_violations"},
      {"XC_CIRCUIT_BREAKER_ORDERS_PER_SEC", "circuit_breaker_orders_per_sec"},
      // The operators' playbook names (ops/PLAYBOOKS.md), bare and prefixed;
      // std::map order applies the XC_ form last, so it wins.
      {"RATE_LIMIT_ORDERS_PER_SEC", "rate_limit_orders_per_sec"},
      {"RATE_LIMIT_READS_PER_SEC", "rate_limit_reads_per_sec"},
      {"CIRCUIT_BREAKER_ENABLED", "circuit_breaker_enabled"},
      {"XC_RATE_LIMIT_ORDERS_PER_SEC", "rate_limit_orders_per_sec"},
      {"XC_RATE_LIMIT_READS_PER_SEC", "rate_limit_reads_per_sec"},
      {"XC_CIRCUIT_BREAKER_ENABLED", "circuit_breaker_enabled"},
  };
  return kKeyOf;
}

}  // namespace

int IoThreadsFor(int configured, int allowed_cpus) {
  return configured > 0 ? configured : std::max(1, allowed_cpus);
}

const std::vector<std::string>& EnvOverrideNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& [name, key] : EnvKeys()) names.push_back(name);
    return names;
  }();
  return kNames;
}

absl::Status ApplyEnvOverrides(const std::map<std::string, std::string>& env,
                               ExchangeConfig* config) {
  const auto& kKeyOf = EnvKeys();
  for (const auto& [name, value] : env) {
    auto it = kKeyOf.find(name);
    if (it == kKeyOf.end()) continue;
    if (absl::Status s = SetKey(config, it->second, Strip(value)); !s.ok()) {
      return absl::InvalidArgumentError(Cat(name, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ExchangeConfig> LoadConfig(const std::string& path,
                                          const std::map<std::string, std::string>& env) {
  std::string text(DefaultConfigText());
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(Cat("cannot read config ", path));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto c = ParseConfig(text);
  if (!c.ok()) {
    return absl::InvalidArgumentError(
        Cat(path.empty() ? std::string("default config") : path, ": ", c.status().message()));
  }
  if (absl::Status s = ApplyEnvOverrides(env, &*c); !s.ok()) return s;
  return c;
}

}  // namespace xc::exchange
