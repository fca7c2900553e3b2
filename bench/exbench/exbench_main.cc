// exbench: load generator for build/bin/exchange over the Binance WebSocket
// API (order.place / order.cancel on /ws-api/v3), with optional REST reads
// alongside. Open loop at a fixed rate, or --find-max. README.md in this
// directory documents the modes, the coordinated-omission handling and the
// report format.

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_args.h"
#include "host.h"
#include "load.h"
#include "net.h"
#include "reply_scan.h"
#include "spawn.h"

namespace xc::exbench {
namespace {

constexpr char kUsage[] = R"(usage: exbench [target] [load] [mode] [output]
target (one of):
  --spawn PATH            start PATH (build/bin/exchange) on free loopback ports, temp
                          data dir, rate limits off; stop it at the end
    --journal-policy P    fsync (default) | none | interval:<ms>
    --server-conf K=V     extra config key for the spawned exchange (repeatable)
    --server-cpus LIST    CPU affinity of the spawned exchange ("0")
    --keep-data           keep its temp dir (config, log, journals)
  --host H --port N       a running exchange (default host 127.0.0.1)
    --admin-port N        its admin API (127.0.0.1) to create and fund users
    --admin-host H
    --keys FILE           use these users instead: "apiKey secretKey" per line
load:
  --connections N         WebSocket API connections (64)
  --users N               users, one API key each, round-robin over connections
                          (default: as many as connections)
  --threads T             client threads (1)
  --client-cpus LIST      CPU affinity of exbench
  --mix M                 place-cancel (default) | ioc | cross
  --resp-type T           ACK (default) | RESULT | FULL
  --symbol S              BTCUSDT
  --price-low P --price-high P --price-mid P --qty Q   (default: from the market)
  --max-open N            place-cancel: open orders per connection before cancelling (8)
  --rest-rate R           REST reads per second (0)
  --rest-kind K           depth (default) | order (signed GET /api/v3/order)
  --rest-connections N    (2)
  --max-inflight N        per connection (4096)
  --ws-path P             /ws-api/v3
  --order-api A           ws (default: WebSocket API) | rest (POST/DELETE /api/v3/order,
                          one request in flight per connection)
mode:
  --rate R                open loop: order operations per second (1000)
  --duration S            measured seconds (10)
  --warmup S              unmeasured seconds before (2)
  --drain-timeout S       wait for replies after the end (10)
  --find-max              step the rate up until it is not sustained, then bisect
    --start-rate R (2000) --step-factor F (1.5) --step-duration S (5)
    --step-warmup S (1) --max-rate R (1e6) --refine N (3) --max-p99-us U (80000;
                          0: no latency bound)
output:
  --json FILE             JSON result
  --report FILE           Markdown report
  --quiet
)";

struct Options {
  std::string spawn_path, journal_policy = "fsync", server_cpus, client_cpus, keys_file;
  std::vector<std::pair<std::string, std::string>> server_conf;
  bool keep_data = false;
  std::string host = "127.0.0.1", admin_host = "127.0.0.1";
  int port = 0, admin_port = 0;
  int connections = 64, users = 0, threads = 1, max_open = 8, rest_connections = 2;
  std::string mix = "place-cancel", resp_type = "ACK", symbol = "BTCUSDT";
  std::string price_low, price_high, price_mid, qty;
  double rest_rate = 0;
  std::string rest_kind = "depth";
  uint64_t max_inflight = 4096;
  std::string ws_path = "/ws-api/v3";
  std::string order_api = "ws";
  double rate = 1000, duration = 10, warmup = 2, drain_timeout = 10;
  bool find_max = false;
  double start_rate = 2000, step_factor = 1.5, step_duration = 5, step_warmup = 1,
         max_rate = 1e6, max_p99_us = 80000;
  int refine = 3;
  std::string json_path, report_path;
  bool quiet = false;
};

// ---- small text helpers (setup only) -----------------------------------

std::string FindStr(std::string_view text, std::string_view key, size_t from = 0) {
  const size_t at = text.find(key, from);
  if (at == std::string_view::npos) return "";
  const size_t b = at + key.size();
  const size_t e = text.find('"', b);
  return std::string(text.substr(b, e - b));
}

int Decimals(const std::string& step) {
  const size_t dot = step.find('.');
  if (dot == std::string::npos) return 0;
  size_t last = step.find_last_not_of('0');
  return last <= dot ? 0 : static_cast<int>(last - dot);
}

std::string Fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// The host row of the report: "kernel 6.18.44, preempt dynamic, cpuidle
// haltpoll (haltpoll), guest_halt_poll_ns 0, <model>"; unknown facts say so.
std::string HostLine(const HostFacts& h) {
  auto known = [](const std::string& v) { return v.empty() ? std::string("unknown") : v; };
  std::string line = "kernel " + known(h.kernel) + ", preempt " + known(h.preempt) +
                     ", cpuidle " + known(h.cpuidle_driver);
  if (!h.cpuidle_governor.empty()) line += " (" + h.cpuidle_governor + ")";
  if (!h.guest_halt_poll_ns.empty()) line += ", guest_halt_poll_ns " + h.guest_halt_poll_ns;
  return line + ", " + known(h.cpu_model);
}

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += ' ';
    } else {
      o += c;
    }
  }
  return o;
}

std::string Us(int64_t ns) { return Fmt(static_cast<double>(ns) / 1000.0, 1); }

// ---- setup -----------------------------------------------------------------

struct Market {
  std::string base, quote, tick = "0.01", step = "0.00001";
  double min_notional = 5, min_qty = 0, ref = 0;
  std::string ref_source;
};

bool LoadMarket(const Options& o, Market* m, std::string* error) {
  std::string body;
  int st = HttpRequest(o.host, o.port, "GET", "/api/v3/exchangeInfo?symbol=" + o.symbol, "",
                       &body, error);
  if (st != 200) {
    *error = "exchangeInfo: " + (st ? std::to_string(st) + " " + body : *error);
    return false;
  }
  const size_t at = body.find("\"symbol\":\"" + o.symbol + "\"");
  if (at == std::string::npos) {
    *error = "symbol " + o.symbol + " not in exchangeInfo";
    return false;
  }
  m->base = FindStr(body, "\"baseAsset\":\"", at);
  m->quote = FindStr(body, "\"quoteAsset\":\"", at);
  m->tick = FindStr(body, "\"tickSize\":\"", at);
  m->step = FindStr(body, "\"stepSize\":\"", at);
  m->min_qty = std::atof(FindStr(body, "\"minQty\":\"", at).c_str());
  const std::string mn = FindStr(body, "\"minNotional\":\"", at);
  if (!mn.empty()) m->min_notional = std::atof(mn.c_str());
  // Reference price: the last trade, else the touch, else 1000.
  if (HttpRequest(o.host, o.port, "GET", "/api/v3/trades?symbol=" + o.symbol + "&limit=1", "",
                  &body, error) == 200) {
    const std::string p = FindStr(body, "\"price\":\"");
    if (!p.empty()) {
      m->ref = std::atof(p.c_str());
      m->ref_source = "last trade";
    }
  }
  if (m->ref <= 0 && HttpRequest(o.host, o.port, "GET",
                                 "/api/v3/depth?symbol=" + o.symbol + "&limit=1", "", &body,
                                 error) == 200) {
    const std::string bid = FindStr(body, "\"bids\":[[\"");
    const std::string ask = FindStr(body, "\"asks\":[[\"");
    if (!bid.empty() && !ask.empty()) {
      m->ref = (std::atof(bid.c_str()) + std::atof(ask.c_str())) / 2;
    } else if (!bid.empty() || !ask.empty()) {
      m->ref = std::atof((bid.empty() ? ask : bid).c_str());
    }
    if (m->ref > 0) m->ref_source = "book";
  }
  if (m->ref <= 0) {
    m->ref = 1000;
    m->ref_source = "default (no trades, empty book)";
  }
  return true;
}

void DerivePrices(Options& o, const Market& m) {
  const int pd = Decimals(m.tick);
  const double tick = std::atof(m.tick.c_str());
  auto on_tick = [&](double v) { return Fmt(std::floor(v / tick + 1e-9) * tick, pd); };
  // Inside PERCENT_PRICE_BY_SIDE (0.2x .. 5x the last trade) and far from it.
  if (o.price_low.empty()) o.price_low = on_tick(m.ref * 0.5);
  if (o.price_high.empty()) o.price_high = on_tick(m.ref * 1.5);
  if (o.price_mid.empty()) o.price_mid = on_tick(m.ref);
  if (o.qty.empty()) {
    const double step = std::atof(m.step.c_str());
    const double low = std::atof(o.price_low.c_str());
    double q = std::ceil(2 * m.min_notional / low / step - 1e-9) * step;
    q = std::max(q, m.min_qty);
    o.qty = Fmt(q, Decimals(m.step));
  }
}

bool CreateUsers(const Options& o, const Market& m, int n, std::vector<User>* users,
                 std::string* error) {
  for (int i = 0; i < n; ++i) {
    std::string body;
    const int st = HttpRequest(o.admin_host, o.admin_port, "POST", "/admin/v1/users", "{}",
                               &body, error);
    if (st != 200) {
      *error = "admin create user: " + (st ? std::to_string(st) + " " + body : *error);
      return false;
    }
    User u;
    FindInt(body, R"("userId":)", &u.user_id);
    u.api_key = FindStr(body, "\"apiKey\":\"");
    u.secret = FindStr(body, "\"secretKey\":\"");
    for (const auto& [asset, amount] :
         {std::pair{m.quote, std::string("100000000")}, std::pair{m.base, std::string("100000")}}) {
      const std::string req = "{\"userId\":" + std::to_string(u.user_id) + ",\"asset\":\"" +
                              asset + "\",\"amount\":\"" + amount + "\"}";
      if (HttpRequest(o.admin_host, o.admin_port, "POST", "/admin/v1/balances", req, &body,
                      error) != 200) {
        *error = "admin credit " + asset + ": " + body + *error;
        return false;
      }
    }
    users->push_back(std::move(u));
  }
  return true;
}

bool LoadKeys(const std::string& path, std::vector<User>* users, std::string* error) {
  std::ifstream f(path);
  if (!f) {
    *error = "cannot read " + path;
    return false;
  }
  for (std::string line; std::getline(f, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    User u;
    if (!(ss >> u.api_key >> u.secret)) {
      *error = "bad line in " + path + ": " + line;
      return false;
    }
    users->push_back(std::move(u));
  }
  if (users->empty()) *error = path + " has no keys";
  return !users->empty();
}

// ---- phases ---------------------------------------------------------------

struct StepResult {
  double offered = 0, rest_offered = 0, duration = 0;
  PhaseStats stats;
  double server_cpu_s = -1;
  CpuShare host_cpu;  // the machine's CPUs over the step (incl. warm-up and drain)
  double achieved() const {
    return duration > 0 ? static_cast<double>(stats.replies_in_window) / duration : 0;
  }
  bool sustained(double max_p99_us) const {
    if (stats.error_count() != 0) return false;
    if (achieved() < 0.95 * offered) return false;
    if (max_p99_us > 0 && static_cast<double>(stats.orders.Percentile(99)) / 1000 > max_p99_us)
      return false;
    return true;
  }
};

class Runner {
 public:
  Runner(std::vector<std::unique_ptr<Worker>>* workers, std::vector<double> shares,
         pid_t server_pid)
      : workers_(workers), shares_(std::move(shares)), server_pid_(server_pid) {}

  StepResult Run(double rate, double rest_rate, double warmup, double duration,
                 double drain_timeout) {
    StepResult r;
    r.offered = rate;
    r.rest_offered = rest_rate;
    r.duration = duration;
    const int64_t start = MonoNowNs() + 100'000'000;
    std::vector<PhaseStats> out(workers_->size());
    const double cpu0 = server_pid_ > 0 ? ProcessCpuSeconds(server_pid_) : -1;
    const CpuTimes host0 = ReadCpuTimes();
    std::vector<std::thread> ts;
    for (size_t w = 0; w < workers_->size(); ++w) {
      PhaseSpec ph;
      ph.start_ns = start;
      ph.rate = rate * shares_[w];
      ph.rest_rate = w == 0 ? rest_rate : 0;
      ph.warmup_ns = static_cast<int64_t>(warmup * 1e9);
      ph.duration_ns = static_cast<int64_t>(duration * 1e9);
      ph.drain_timeout_ns = static_cast<int64_t>(drain_timeout * 1e9);
      ts.emplace_back([this, w, ph, &out] { out[w] = (*workers_)[w]->RunPhase(ph); });
    }
    for (auto& t : ts) t.join();
    if (cpu0 >= 0) r.server_cpu_s = ProcessCpuSeconds(server_pid_) - cpu0;
    r.host_cpu = CpuShareBetween(host0, ReadCpuTimes());
    for (const PhaseStats& s : out) r.stats.Merge(s);
    return r;
  }

 private:
  std::vector<std::unique_ptr<Worker>>* workers_;
  std::vector<double> shares_;
  pid_t server_pid_;
};

// ---- output ---------------------------------------------------------------

std::string HistJson(const LatencyHistogram& h) {
  std::ostringstream o;
  o << "{\"count\":" << h.count() << ",\"p50_us\":" << Us(h.Percentile(50))
    << ",\"p90_us\":" << Us(h.Percentile(90)) << ",\"p99_us\":" << Us(h.Percentile(99))
    << ",\"p999_us\":" << Us(h.Percentile(99.9)) << ",\"max_us\":" << Us(h.max())
    << ",\"mean_us\":" << Fmt(h.mean() / 1000, 1) << "}";
  return o.str();
}

std::string StepJson(const StepResult& r, double max_p99_us) {
  const PhaseStats& s = r.stats;
  std::ostringstream o;
  o << "{\"offered_rate\":" << Fmt(r.offered, 1) << ",\"achieved_rate\":" << Fmt(r.achieved(), 1)
    << ",\"duration_s\":" << Fmt(r.duration, 3) << ",\"sustained\":"
    << (r.sustained(max_p99_us) ? "true" : "false") << ",\"orders\":" << HistJson(s.orders)
    << ",\"orders_read\":" << HistJson(s.orders_read)
    << ",\"place\":" << HistJson(s.place) << ",\"cancel\":" << HistJson(s.cancel)
    << ",\"sent\":{\"place\":" << s.sent_place << ",\"cancel\":" << s.sent_cancel
    << ",\"rest\":" << s.sent_rest << "},\"ok\":{\"place\":" << s.ok_place
    << ",\"cancel\":" << s.ok_cancel << ",\"rest\":" << s.ok_rest
    << "},\"filled\":" << s.filled
    << ",\"rest\":{\"offered_rate\":" << Fmt(r.rest_offered, 1) << ",\"achieved_rate\":"
    << Fmt(r.duration > 0 ? static_cast<double>(s.rest_in_window) / r.duration : 0, 1)
    << ",\"latency\":" << HistJson(s.rest) << "},\"error_count\":" << s.error_count()
    << ",\"errors\":{";
  bool first = true;
  for (const auto& [k, v] : s.errors) {
    o << (first ? "" : ",") << "\"" << JsonEscape(k) << "\":" << v;
    first = false;
  }
  o << "},\"timeouts\":" << s.timeouts << ",\"unmatched\":" << s.unmatched
    << ",\"stalls\":" << s.stalls << ",\"send_lag\":" << HistJson(s.send_lag)
    << ",\"client_cpu\":{\"seconds\":" << Fmt(s.client_cpu_s, 3) << ",\"cores\":"
    << Fmt(s.wall_s > 0 ? s.client_cpu_s / s.wall_s : 0, 3)
    << ",\"timer_overshoot_us\":" << Fmt(static_cast<double>(s.timer_overshoot_ns) / 1e3, 1)
    << ",\"bursts\":" << (s.bursts ? "true" : "false") << "}";
  if (r.server_cpu_s >= 0) {
    // The server's CPU covers the whole step including drain; an estimate.
    o << ",\"server_cpu\":{\"seconds\":" << Fmt(r.server_cpu_s, 3) << "}";
  }
  if (r.host_cpu.known) {
    o << ",\"host_cpu\":{\"cpus\":" << r.host_cpu.cpus << ",\"busy\":" << Fmt(r.host_cpu.busy, 4)
      << ",\"steal\":" << Fmt(r.host_cpu.steal, 4)
      << ",\"max_cpu_steal\":" << Fmt(r.host_cpu.max_cpu_steal, 4) << "}";
  }
  o << "}";
  return o.str();
}

std::string Row(const char* what, const LatencyHistogram& h) {
  std::ostringstream o;
  o << "| " << what << " | " << h.count() << " | " << Us(h.Percentile(50)) << " | "
    << Us(h.Percentile(90)) << " | " << Us(h.Percentile(99)) << " | "
    << Us(h.Percentile(99.9)) << " | " << Us(h.max()) << " |\n";
  return o.str();
}

std::string StepMarkdown(const StepResult& r) {
  const PhaseStats& s = r.stats;
  std::ostringstream o;
  o << "| offered | achieved | errors | client CPU (cores) |\n| --- | --- | --- | --- |\n"
    << "| " << Fmt(r.offered, 0) << " ops/s | " << Fmt(r.achieved(), 0) << " ops/s | "
    << s.error_count() << " | "
    << Fmt(s.wall_s > 0 ? s.client_cpu_s / s.wall_s : 0, 2) << " |\n\n";
  o << "Latency from the scheduled send to the reply's arrival at the client's socket "
       "(kernel receive stamp), µs:\n\n"
    << "| operation | count | p50 | p90 | p99 | p99.9 | max |\n"
    << "| --- | --- | --- | --- | --- | --- | --- |\n"
    << Row("all orders", s.orders) << Row("order.place", s.place)
    << Row("order.cancel", s.cancel) << Row("all orders, as read by exbench", s.orders_read);
  if (s.rest.count()) o << Row("REST read", s.rest);
  o << Row("send lag (client)", s.send_lag) << "\n";
  o << "Client timer: a timed wake-up is late by " << Us(s.timer_overshoot_ns)
    << " µs (median); "
    << (s.bursts ? "operations were due more often, so the client sent them in bursts on "
                   "the timer, reading replies when it woke.\n\n"
                 : "the client woke early by a learnt estimate and spun the rest.\n\n");
  if (s.filled) o << "Places answered FILLED or PARTIALLY_FILLED: " << s.filled << ".\n\n";
  if (!s.errors.empty()) {
    o << "Errors:\n\n| kind | count |\n| --- | --- |\n";
    for (const auto& [k, v] : s.errors) o << "| " << k << " | " << v << " |\n";
    o << "\n";
  }
  if (r.server_cpu_s >= 0) {
    o << "Server CPU over the step (incl. warm-up and drain): " << Fmt(r.server_cpu_s, 2)
      << " s.\n\n";
  }
  if (r.host_cpu.known) {
    o << "Host CPUs over the step (" << r.host_cpu.cpus << ", incl. warm-up and drain): busy "
      << Fmt(100 * r.host_cpu.busy, 1) << " %, stolen by the hypervisor "
      << Fmt(100 * r.host_cpu.steal, 2) << " % (one CPU at most "
      << Fmt(100 * r.host_cpu.max_cpu_steal, 2) << " %).\n\n";
  }
  return o.str();
}

std::string UtcNow() {
  char buf[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

int Run(Options o) {
  std::string error;
  SpawnedExchange ex;
  SpawnOptions so;
  auto fail = [&](const std::string& msg) {
    std::fprintf(stderr, "exbench: %s\n", msg.c_str());
    if (ex.pid > 0) StopExchange(&ex, so.keep_dir);
    return 1;
  };
  if (!o.client_cpus.empty()) {
    std::vector<int> cpus;
    if (!ParseCpuList(o.client_cpus, &cpus)) return fail("bad --client-cpus");
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus) CPU_SET(c, &set);
    ::sched_setaffinity(0, sizeof set, &set);
  }
  if (!o.spawn_path.empty()) {
    so.exchange_path = o.spawn_path;
    so.journal_policy = o.journal_policy;
    so.overrides = o.server_conf;
    so.server_cpus = o.server_cpus;
    so.keep_dir = o.keep_data;
    if (!SpawnExchange(so, &ex, &error)) return fail(error);
    o.host = "127.0.0.1";
    o.port = ex.port;
    o.admin_host = "127.0.0.1";
    o.admin_port = ex.admin_port;
    if (!o.quiet)
      std::fprintf(stderr, "exbench: spawned exchange pid %d port %d admin %d dir %s\n", ex.pid,
                   ex.port, ex.admin_port, ex.dir.c_str());
  }
  if (o.port <= 0) return fail("no target: --spawn PATH or --port N");

  Market market;
  if (!LoadMarket(o, &market, &error)) return fail(error);
  DerivePrices(o, market);

  std::vector<User> users;
  if (!o.keys_file.empty()) {
    if (!LoadKeys(o.keys_file, &users, &error)) return fail(error);
  } else {
    if (o.admin_port <= 0) return fail("need --admin-port (or --keys FILE) to have users");
    const int n = o.users > 0 ? o.users : o.connections;
    if (!CreateUsers(o, market, n, &users, &error)) return fail(error);
  }
  for (User& u : users) u.key = std::make_shared<const gateway::HmacSha256Key>(u.secret);

  Mix mix = Mix::kPlaceCancel;
  if (o.mix == "ioc") mix = Mix::kIoc;
  else if (o.mix == "cross") mix = Mix::kCross;
  else if (o.mix != "place-cancel") return fail("unknown --mix " + o.mix);
  if (mix == Mix::kCross && users.size() < 2) return fail("--mix cross needs 2+ users");

  OrderSpec spec;
  spec.mix = mix;
  spec.symbol = o.symbol;
  spec.low_price = o.price_low;
  spec.high_price = o.price_high;
  spec.mid_price = o.price_mid;
  spec.qty = o.qty;
  spec.resp_type = o.resp_type;
  spec.max_open_per_conn = o.max_open;
  LoadTarget target;
  target.host = o.host;
  target.port = o.port;
  target.ws_path = o.ws_path;
  target.order_api = o.order_api;
  target.rest_kind = o.rest_kind;
  target.max_inflight_per_conn = o.max_inflight;

  // Connection c -> worker c % T, user c % U.
  const int threads = std::max(1, o.threads);
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<double> shares;
  // REST reads alone (--rate 0) open no WebSocket connection.
  const int ws_conns = (o.rate <= 0 && !o.find_max) ? 0 : o.connections;
  for (int w = 0; w < threads; ++w) {
    std::vector<int> cu, gi;
    for (int c = w; c < ws_conns; c += threads) {
      cu.push_back(c % static_cast<int>(users.size()));
      gi.push_back(c);
    }
    shares.push_back(ws_conns ? static_cast<double>(cu.size()) / ws_conns : 0);
    workers.push_back(std::make_unique<Worker>(w, target, spec, &users, cu, gi,
                                               w == 0 && o.rest_rate > 0 ? o.rest_connections : 0));
    if (!workers.back()->Connect(&error)) return fail(error);
  }
  if (!o.quiet) {
    std::fprintf(stderr,
                 "exbench: %d connections, %zu users, %d threads, mix %s, %s low %s high %s mid "
                 "%s qty %s (reference %g from %s)\n",
                 o.connections, users.size(), threads, o.mix.c_str(), o.symbol.c_str(),
                 o.price_low.c_str(), o.price_high.c_str(), o.price_mid.c_str(), o.qty.c_str(),
                 market.ref, market.ref_source.c_str());
  }
  Runner runner(&workers, shares, ex.pid);

  std::vector<StepResult> steps;
  StepResult final_result;
  bool have_final = false;
  if (!o.find_max) {
    final_result = runner.Run(o.rate, o.rest_rate, o.warmup, o.duration, o.drain_timeout);
    have_final = true;
  } else {
    auto step = [&](double rate) {
      StepResult r = runner.Run(rate, o.rest_rate, o.step_warmup, o.step_duration, o.drain_timeout);
      if (!o.quiet)
        std::fprintf(stderr, "exbench: step %.0f/s -> %.0f/s, p99 %s us, errors %llu: %s\n", rate,
                     r.achieved(), Us(r.stats.orders.Percentile(99)).c_str(),
                     static_cast<unsigned long long>(r.stats.error_count()),
                     r.sustained(o.max_p99_us) ? "sustained" : "NOT sustained");
      steps.push_back(r);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return r;
    };
    double rate = o.start_rate, fail_rate = 0;
    while (rate <= o.max_rate) {
      StepResult r = step(rate);
      if (!r.sustained(o.max_p99_us)) {
        fail_rate = rate;
        break;
      }
      final_result = r;
      have_final = true;
      rate *= o.step_factor;
    }
    double lo = have_final ? final_result.offered : 0;
    for (int i = 0; i < o.refine && fail_rate > 0 && fail_rate - lo > 0.02 * fail_rate; ++i) {
      const double mid = std::round((lo + fail_rate) / 2);
      StepResult r = step(mid);
      if (r.sustained(o.max_p99_us)) {
        lo = mid;
        final_result = r;
        have_final = true;
      } else {
        fail_rate = mid;
      }
    }
  }
  uint64_t leftover = 0;
  if (mix != Mix::kIoc) {
    for (auto& w : workers) leftover += w->CancelOpenOrders(10'000'000'000);
  }
  workers.clear();
  std::string stopped;
  if (ex.pid > 0) stopped = StopExchange(&ex, so.keep_dir);

  // ---- reports ----
  const HostFacts host = ReadHostFacts();
  // The spawned exchange's --server-conf keys, as given: runs that differ in
  // them (http_io_threads, http_busy_poll_us, ...) must not look alike.
  std::string server_conf_json = "{", server_conf_line;
  for (const auto& [k, v] : o.server_conf) {
    if (server_conf_json.size() > 1) server_conf_json += ",";
    server_conf_json += "\"" + JsonEscape(k) + "\":\"" + JsonEscape(v) + "\"";
    server_conf_line += (server_conf_line.empty() ? "" : ", ") + k + "=" + v;
  }
  server_conf_json += "}";
  if (server_conf_line.empty()) server_conf_line = o.spawn_path.empty() ? "unknown" : "default";
  std::ostringstream cfg;
  cfg << "{\"target\":\"" << (o.spawn_path.empty() ? o.host + ":" + std::to_string(o.port)
                                                    : "spawn " + JsonEscape(o.spawn_path))
      << "\",\"journal_policy\":\""
      << (o.spawn_path.empty() ? "unknown (external exchange)" : o.journal_policy)
      << "\",\"connections\":" << o.connections << ",\"users\":" << users.size()
      << ",\"threads\":" << threads << ",\"order_api\":\"" << o.order_api << "\",\"mix\":\""
      << o.mix << "\",\"resp_type\":\""
      << o.resp_type << "\",\"symbol\":\"" << o.symbol << "\",\"price_low\":\"" << o.price_low
      << "\",\"price_high\":\"" << o.price_high << "\",\"price_mid\":\"" << o.price_mid
      << "\",\"qty\":\"" << o.qty << "\",\"rest_rate\":" << o.rest_rate << ",\"rest_kind\":\""
      << o.rest_kind << "\",\"mode\":\"" << (o.find_max ? "find-max" : "open-loop")
      << "\",\"rate\":" << o.rate << ",\"duration_s\":" << o.duration
      << ",\"warmup_s\":" << o.warmup << ",\"server_cpus\":\"" << o.server_cpus
      << "\",\"client_cpus\":\"" << o.client_cpus << "\",\"server_conf\":" << server_conf_json
      << ",\"hardware_threads\":"
      << std::thread::hardware_concurrency() << ",\"host\":{\"kernel\":\"" << JsonEscape(host.kernel)
      << "\",\"preempt\":\"" << JsonEscape(host.preempt) << "\",\"cpuidle_driver\":\""
      << JsonEscape(host.cpuidle_driver) << "\",\"cpuidle_governor\":\""
      << JsonEscape(host.cpuidle_governor) << "\",\"guest_halt_poll_ns\":\""
      << JsonEscape(host.guest_halt_poll_ns) << "\",\"cpu_model\":\"" << JsonEscape(host.cpu_model)
      << "\"}}";
  std::ostringstream js;
  js << "{\"tool\":\"exbench\",\"format\":1,\"time\":\"" << UtcNow() << "\",\"config\":"
     << cfg.str() << ",\"mode\":\"" << (o.find_max ? "find-max" : "open-loop") << "\"";
  if (have_final) js << ",\"result\":" << StepJson(final_result, o.max_p99_us);
  else js << ",\"result\":null";
  if (o.find_max) {
    js << ",\"max_sustained_rate\":" << (have_final ? Fmt(final_result.offered, 1) : "0")
       << ",\"steps\":[";
    for (size_t i = 0; i < steps.size(); ++i)
      js << (i ? "," : "") << StepJson(steps[i], o.max_p99_us);
    js << "]";
  }
  js << ",\"left_open_cancelled\":" << leftover << ",\"exchange_stop\":\"" << stopped << "\"}\n";

  std::ostringstream md;
  md << "# exbench " << (o.find_max ? "find-max" : "open-loop") << " report\n\n"
     << UtcNow() << "\n\n## Configuration\n\n| key | value |\n| --- | --- |\n"
     << "| target | "
     << (o.spawn_path.empty() ? o.host + ":" + std::to_string(o.port) : "spawned " + o.spawn_path)
     << " |\n| journal_policy | "
     << (o.spawn_path.empty() ? "unknown (external exchange)" : o.journal_policy) << " |\n"
     << "| server config | " << server_conf_line << " |\n"
     << "| connections / users / client threads | " << o.connections << " / " << users.size()
     << " / " << threads << " |\n| order entry | "
     << (o.order_api == "ws" ? "WebSocket API " + o.ws_path : std::string("REST /api/v3/order"))
     << " |\n| mix | " << o.mix << " (" << o.symbol << ", low "
     << o.price_low << ", high " << o.price_high << ", mid " << o.price_mid << ", qty " << o.qty
     << ", newOrderRespType " << o.resp_type << ") |\n| REST reads | " << o.rest_rate << "/s "
     << o.rest_kind << " |\n| CPUs | server " << (o.server_cpus.empty() ? "any" : o.server_cpus)
     << ", client " << (o.client_cpus.empty() ? "any" : o.client_cpus) << " (of "
     << std::thread::hardware_concurrency() << ") |\n| host | " << HostLine(host) << " |\n";
  if (!o.find_max) {
    md << "| rate / warm-up / duration | " << o.rate << " ops/s / " << o.warmup << " s / "
       << o.duration << " s |\n\n## Result\n\n"
       << StepMarkdown(final_result);
  } else {
    md << "| steps | start " << o.start_rate << ", x" << o.step_factor << ", " << o.step_warmup
       << " s warm-up + " << o.step_duration << " s each, " << o.refine
       << " bisections; sustained = achieved >= 95% of offered and no errors"
       << (o.max_p99_us > 0 ? " and p99 <= " + Fmt(o.max_p99_us, 0) + " µs" : "") << " |\n\n";
    md << "## Steps\n\n| offered | achieved | p50 µs | p99 µs | p99.9 µs | max µs | errors | "
          "client CPU | steal % | sustained |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const StepResult& r : steps) {
      md << "| " << Fmt(r.offered, 0) << " | " << Fmt(r.achieved(), 0) << " | "
         << Us(r.stats.orders.Percentile(50)) << " | " << Us(r.stats.orders.Percentile(99))
         << " | " << Us(r.stats.orders.Percentile(99.9)) << " | " << Us(r.stats.orders.max())
         << " | " << r.stats.error_count() << " | "
         << Fmt(r.stats.wall_s > 0 ? r.stats.client_cpu_s / r.stats.wall_s : 0, 2) << " | "
         << (r.host_cpu.known ? Fmt(100 * r.host_cpu.steal, 2) : "unknown") << " | "
         << (r.sustained(o.max_p99_us) ? "yes" : "no") << " |\n";
    }
    md << "\n## Highest sustained rate: "
       << (have_final ? Fmt(final_result.offered, 0) + " ops/s" : "none") << "\n\n";
    if (have_final) md << StepMarkdown(final_result);
  }
  if (!stopped.empty()) md << "Spawned exchange stopped: " << stopped << ".\n";

  if (!o.json_path.empty()) std::ofstream(o.json_path) << js.str();
  if (!o.report_path.empty()) std::ofstream(o.report_path) << md.str();
  if (!o.quiet) std::cout << md.str();
  const bool clean = have_final && final_result.stats.error_count() == 0;
  return clean ? 0 : 3;
}

}  // namespace
}  // namespace xc::exbench

int main(int argc, char** argv) {
  using xc::exbench::Options;
  Options o;
  xc::bench::ArgReader a(argc, argv);
  auto bad = [](const std::string& why) {
    std::fprintf(stderr, "exbench: %s\n%s", why.c_str(), xc::exbench::kUsage);
    return 2;
  };
  while (a.Next()) {
    if (!a.is_flag()) return bad("unexpected argument " + a.positional());
    const std::string f = a.flag();
    bool ok = true;
    uint64_t u = 0;
    std::string s;
    auto str = [&](std::string* out) { ok = a.Value(out); };
    auto num = [&](double* out) { ok = a.Double(out); };
    auto integer = [&](int* out) {
      ok = a.Uint(&u) && u <= 1'000'000;
      *out = static_cast<int>(u);
    };
    if (f == "--help" || f == "-h") {
      std::fputs(xc::exbench::kUsage, stdout);
      return 0;
    } else if (f == "--spawn") str(&o.spawn_path);
    else if (f == "--journal-policy") str(&o.journal_policy);
    else if (f == "--server-conf") {
      str(&s);
      const size_t eq = s.find('=');
      ok = ok && eq != std::string::npos;
      if (ok) o.server_conf.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    } else if (f == "--server-cpus") str(&o.server_cpus);
    else if (f == "--client-cpus") str(&o.client_cpus);
    else if (f == "--keep-data") o.keep_data = true;
    else if (f == "--host") str(&o.host);
    else if (f == "--port") integer(&o.port);
    else if (f == "--admin-port") integer(&o.admin_port);
    else if (f == "--admin-host") str(&o.admin_host);
    else if (f == "--keys") str(&o.keys_file);
    else if (f == "--connections") integer(&o.connections);
    else if (f == "--users") integer(&o.users);
    else if (f == "--threads") integer(&o.threads);
    else if (f == "--mix") str(&o.mix);
    else if (f == "--resp-type") str(&o.resp_type);
    else if (f == "--symbol") str(&o.symbol);
    else if (f == "--price-low") str(&o.price_low);
    else if (f == "--price-high") str(&o.price_high);
    else if (f == "--price-mid") str(&o.price_mid);
    else if (f == "--qty") str(&o.qty);
    else if (f == "--max-open") integer(&o.max_open);
    else if (f == "--rest-rate") num(&o.rest_rate);
    else if (f == "--rest-kind") str(&o.rest_kind);
    else if (f == "--rest-connections") integer(&o.rest_connections);
    else if (f == "--max-inflight") ok = a.Uint(&o.max_inflight) && o.max_inflight > 0;
    else if (f == "--ws-path") str(&o.ws_path);
    else if (f == "--order-api") str(&o.order_api);
    else if (f == "--rate") num(&o.rate);
    else if (f == "--duration") num(&o.duration);
    else if (f == "--warmup") num(&o.warmup);
    else if (f == "--drain-timeout") num(&o.drain_timeout);
    else if (f == "--find-max") o.find_max = true;
    else if (f == "--start-rate") num(&o.start_rate);
    else if (f == "--step-factor") num(&o.step_factor);
    else if (f == "--step-duration") num(&o.step_duration);
    else if (f == "--step-warmup") num(&o.step_warmup);
    else if (f == "--max-rate") num(&o.max_rate);
    else if (f == "--refine") integer(&o.refine);
    else if (f == "--max-p99-us") num(&o.max_p99_us);
    else if (f == "--json") str(&o.json_path);
    else if (f == "--report") str(&o.report_path);
    else if (f == "--quiet") o.quiet = true;
    else return bad("unknown flag " + f);
    if (!ok) return bad("bad value for " + f);
  }
  if (o.connections < 1) return bad("--connections must be >= 1");
  if (o.order_api != "ws" && o.order_api != "rest") return bad("--order-api ws|rest");
  if (o.rest_kind != "depth" && o.rest_kind != "order") return bad("--rest-kind depth|order");
  if (o.resp_type != "ACK" && o.resp_type != "RESULT" && o.resp_type != "FULL")
    return bad("--resp-type ACK|RESULT|FULL");
  if (o.find_max && o.step_factor <= 1) return bad("--step-factor must be > 1");
  return xc::exbench::Run(std::move(o));
}
