// exchange: gateway, order service and one engine shard in one process (the
// embedded default). See tools/exchange/README.md and `exchange --help`.
//
// Threads: the engine shard (ShardRunner, pinned, kBlock), its journal writer,
// its snapshot writer, one event pump (engine events -> order service), the
// client HTTP server's I/O thread(s) and the admin server's I/O thread; main
// waits for SIGTERM/SIGINT.
//
// The order service runs as PartitionWorkers (one mutex, one log file and a
// group-commit thread per user partition, tools/exchange/core.h): a request
// runs on the gateway I/O thread that received it; the event pump settles the
// engine's events and completes the answers. REST callers wait on their I/O
// thread until the engine has confirmed; the WebSocket API does not wait.
//
// Persistence: the engine journals its commands and snapshots its books
// (DATA/engine); each order-service partition journals its inputs
// (DATA/orders). A restart from the same data directory, after a clean stop
// or a crash, restores users, keys, balances, open orders and books
// (core.h, "Restart").

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "admin_api.h"
#include "config.h"
#include "core.h"
#include "exchange_metrics.h"
#include "xc/engine/io/file_journal.h"
#include "xc/engine/io/file_snapshot_store.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/cpu_affinity.h"
#include "xc/engine/node/journal_thread.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/engine/node/snapshot_writer.h"
#include "xc/engine/snapshot_recovery.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/market_data_api.h"
#include "xc/gateway/rate_limiter.h"
#include "xc/gateway/stream_hub.h"
#include "xc/gateway/user_stream.h"
#include "xc/gateway/ws_api.h"
#include "xc/gateway/rest_api.h"
#include "xc/order_service/symbol_table.h"
#include "xc/scaling/metrics_registry.h"

extern char** environ;

namespace xc::exchange {
namespace {

constexpr char kUsage[] =
    R"(usage: exchange [--config FILE] [--data-dir DIR] [--print-default-config]

Runs the whole exchange in one process: the Binance-compatible client API,
the order service and one engine shard (all symbols).

  --config FILE           key = value config (default: the built-in one,
                          tools/exchange/default.conf; print it with
                          --print-default-config)
  --data-dir DIR          overrides data_dir (default ./xc-data); the engine
                          journal and snapshots go to DIR/engine
Environment overrides: XC_LISTEN_ADDR, XC_PORT, XC_ADMIN_ADDR, XC_ADMIN_PORT,
XC_DATA_DIR (below --data-dir), XC_TLS_CERT_FILE, XC_TLS_KEY_FILE (HTTPS on
the client port: PEM certificate and key), XC_DRAIN_GRACE_MS (after SIGTERM,
/ready answers 503 this long before the listener closes), and the rate limits:
RATE_LIMIT_ORDERS_PER_SEC, RATE_LIMIT_READS_PER_SEC, CIRCUIT_BREAKER_ENABLED,
XC_RATE_LIMIT_ORDERS_PER_10S, XC_RATE_LIMIT_ORDERS_PER_DAY,
XC_RATE_LIMIT_REQUEST_WEIGHT_PER_MIN, XC_RATE_LIMIT_BAN_AFTER_VIOLATIONS,
XC_CIRCUIT_BREAKER_ORDERS_PER_SEC (see default.conf).
Port 0 picks a free port; the bound ports are printed on stdout as
"client_port=N" and "admin_port=N", then "ready".

Operations endpoints on the client port: GET /metrics (Prometheus text
format), GET /health (200 while the process runs), GET /ready (200 while it
takes traffic, 503 {"status":"draining"} once shutdown began).

Admin API (default 127.0.0.1:8081; wrapped by exctl):
  POST /admin/v1/users     -> {"userId":..,"apiKey":..,"secretKey":..}
  POST /admin/v1/balances  {"userId":1,"asset":"USDT","amount":"1000.5"}
                           (a negative amount withdraws from the free balance)
  GET|POST /admin/v1/limits {"ordersPerSec":50,"circuitBreakerEnabled":true,..}
                           rate limits in force / change them at once

Rate limits and the circuit breaker (rate_limit_*, circuit_breaker_* in the
config) apply at once, without dropping connections, on SIGHUP (the config
file is read again, then the environment) or POST /admin/v1/limits.

Persistence: the engine's journal and snapshots (DATA/engine) and one log
per order-service partition (DATA/orders) hold everything: a restart from
the same data directory, after SIGTERM or a crash, restores users, API keys,
balances, open orders and order books. journal_policy applies to both
(fsync: an answer is sent only once what it reports is on disk).
On SIGTERM / SIGINT the exchange stops accepting, finishes in-flight
requests, snapshots and flushes the journals, and exits 0.
)";

std::atomic<bool> g_fatal{false};

int Fail(const std::string& what) {
  std::fprintf(stderr, "exchange: %s\n", what.c_str());
  return 2;
}

int Run(int argc, char** argv) {
  std::string config_path, data_dir_flag;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--print-default-config") {
      std::fwrite(DefaultConfigText().data(), 1, DefaultConfigText().size(), stdout);
      return 0;
    } else if ((a == "--config" || a == "--data-dir") && i + 1 < argc) {
      (a == "--config" ? config_path : data_dir_flag) = argv[++i];
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }

  // ---- configuration ----
  std::string text(DefaultConfigText());
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    if (!in) return Fail("cannot read config " + config_path);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto config = ParseConfig(text);
  if (!config.ok())
    return Fail(absl::StrCat(config_path.empty() ? "default config" : config_path, ": ",
                             config.status().message()));
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (absl::Status s = ApplyEnvOverrides(env, &*config); !s.ok()) return Fail(s.ToString());
  if (!data_dir_flag.empty()) config->data_dir = data_dir_flag;
  auto table = order_service::SymbolTable::Build(config->symbols);
  if (!table.ok()) return Fail(absl::StrCat("symbols: ", table.status().message()));
  auto policy = engine::DurabilityPolicy::Parse(config->journal_policy);
  if (!policy.ok()) return Fail(absl::StrCat("journal_policy: ", policy.status().message()));
  auto backend = engine::io::ParseJournalIoBackend(config->journal_backend);
  if (!backend.ok()) return Fail(absl::StrCat("journal_backend: ", backend.status().message()));
  auto cpus = engine::node::AllowedCpus();
  const int allowed_cpus = cpus.ok() ? static_cast<int>(cpus->size()) : 1;
  int cpu = config->engine_cpu;
  if (cpu == -2) cpu = (cpus.ok() && cpus->size() >= 2) ? cpus->back() : -1;
  const int io_threads = IoThreadsFor(config->http_io_threads, allowed_cpus);

  // Signals go to main's sigwait only: block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);  // rate-limit reload, see "rate limits" below
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  // ---- order service: replay the partition logs ----
  gateway::SystemWallClock clock;
  CoreOptions core_opts;
  core_opts.partitions = config->partitions;
  core_opts.dir = (std::filesystem::path(config->data_dir) / "orders").string();
  core_opts.sync = policy->mode != engine::DurabilityPolicy::Mode::kNone;
  core_opts.run_to_completion = config->engine_run_to_completion;
  core_opts.on_fatal = [] { g_fatal.store(true); };
  std::vector<order_service::SymbolConfig> configs;
  for (const auto& spec : table->symbols()) configs.push_back(spec.config);
  gateway::MarketData market(configs);
  // ---- WebSocket market streams (issue 5): fed right after MarketData ----
  gateway::StreamHub streams(market, clock);
  core_opts.on_market_events = [&market, &streams](std::span<const protocol::Event> group) {
    market.OnEvents(group);
    streams.OnEvents(group);
  };
  // ---- end WebSocket market streams ----
  // ---- user data streams: the partitions' events to WebSocket sessions ----
  gateway::UserStreamHub user_streams;
  core_opts.user_events = &user_streams;
  core_opts.on_book_reset = [&market](protocol::SymbolId id, auto bids, auto asks,
                                      protocol::Seq seq, protocol::Price last) {
    market.ResetBook(id, std::move(bids), std::move(asks), seq, last);
  };
  core_opts.market = &market;
  Core core(&*table, core_opts, &clock);
  {
    std::string report;
    if (absl::Status s = core.Recover(&report); !s.ok()) {
      return Fail(absl::StrCat("order service recovery: ", s.ToString()));
    }
    std::fputs(report.c_str(), stdout);
  }

  // ---- engine: recover, then journal + snapshots + runner ----
  const std::string engine_dir = (std::filesystem::path(config->data_dir) / "engine").string();
  std::error_code ec;
  std::filesystem::create_directories(config->data_dir, ec);
  if (ec) return Fail("cannot create " + config->data_dir + ": " + ec.message());
  auto sink = engine::io::OpenFileJournal(
      engine_dir, *backend, policy->mode != engine::DurabilityPolicy::Mode::kNone);
  if (!sink.ok()) return Fail(sink.status().ToString());
  auto store = engine::io::OpenFileSnapshotStore(engine_dir);
  if (!store.ok()) return Fail(store.status().ToString());

  engine::node::ShardRunnerOptions ro;
  ro.wait = engine::node::WaitStrategy::kBlock;
  ro.cpu = cpu;
  ro.snapshot_every_n_commands = config->snapshot_every;
  // Metrics (scaling/README.md): read at scrape time; the only thing fed
  // from an agent thread is the fsync latency histogram, on the journal
  // thread. Declared before the agents, so it outlives them.
  scaling::MetricsRegistry metrics;
  // The runner owns its shard, so symbols are added and recovery runs on it
  // before the thread starts.
  std::unique_ptr<engine::node::ShardRunner> runner;
  std::unique_ptr<engine::JournalWriter> journal;
  std::unique_ptr<engine::node::SnapshotWriterThread> snaps;
  engine::JournalWriterOptions jo;
  jo.policy = *policy;
  jo.on_flush = FsyncLatencyObserver(&metrics);
  // The runner's options name the journal writer, whose next seq comes from
  // recovery, so recovery runs on a standalone shard whose state is then
  // moved into the runner's shard through a snapshot image (Shard::SaveTo /
  // LoadFrom, O(state); the journal is read once).
  std::string image;
  protocol::Seq last_seq = 0;
  uint64_t probe_hash = 0;
  {
    engine::Shard probe;
    for (const auto& s : table->symbols()) {
      if (absl::Status st = probe.AddSymbol(
              s.id, engine::OrderBook::Options{config->max_orders_per_symbol, 1u << 16});
          !st.ok()) {
        return Fail(st.ToString());
      }
    }
    // From a snapshot no newer than what every partition has applied, so
    // that the replay hands each partition the events it missed (core.h).
    engine::RecoveryOptions rec;
    rec.snapshot_at_most = core.PartitionsEngineSeq();
    rec.on_events = [&core](protocol::Seq seq, const engine::EventBuffer& ev) {
      core.DeliverRecovered(seq, ev.begin(), ev.size());
    };
    auto r = engine::RecoverShard(store->get(), **sink, &probe, rec);
    if (!r.ok()) return Fail(absl::StrCat("engine recovery: ", r.status().ToString()));
    last_seq = r->last_seq;
    auto resend = core.FinishRecovery(last_seq, probe);
    if (!resend.ok()) return Fail(absl::StrCat("recovery: ", resend.status().ToString()));
    size_t live = 0;
    for (const auto& s : table->symbols()) live += probe.book(s.id)->resting_orders();
    std::printf("engine: %zu resting orders; %zu unconfirmed orders will be sent again\n", live,
                *resend);
    probe.SaveTo(&image);
    probe_hash = probe.StateHash();
    std::printf("engine: recovered seq %llu (snapshot %llu, %llu replayed)\n",
                static_cast<unsigned long long>(r->last_seq),
                static_cast<unsigned long long>(r->snapshot_seq),
                static_cast<unsigned long long>(r->commands_replayed));
  }
  journal = std::make_unique<engine::JournalWriter>(sink->get(), last_seq + 1, jo);
  engine::node::SnapshotWriterOptions so;
  so.store = store->get();
  so.journal = journal.get();
  engine::SnapshotStore* store_ptr = store->get();
  so.after_save = [engine_dir, store_ptr, &core](protocol::Seq) -> absl::Status {
    // Retention cuts the journal at the oldest snapshot it keeps; a restart
    // replays from a snapshot at or before what every partition has applied
    // (core.h), so cut only when that snapshot is not after it. Otherwise
    // keep everything this time; a later snapshot's turn cleans up.
    const engine::io::RetentionPolicy policy;
    auto list = store_ptr->List();
    if (!list.ok()) return list.status();
    if (list->empty()) return absl::OkStatus();
    const size_t keep = std::min<size_t>(std::max<uint32_t>(policy.keep_snapshots, 1), list->size());
    const protocol::Seq oldest_kept = (*list)[list->size() - keep].seq;
    if (core.DurableEngineSeq() < oldest_kept) return absl::OkStatus();
    return engine::io::ApplyRetention(engine_dir, *store_ptr, policy).status();
  };
  snaps = std::make_unique<engine::node::SnapshotWriterThread>(so);
  ro.journal = journal.get();
  ro.snapshot_writer = snaps.get();
  // Doorbells instead of polling between the agents (none spins when idle):
  // the runner rings the journal thread after appending and the pump after
  // publishing; the journal thread rings the runner when commands became
  // durable (their events are held until then).
  engine::node::JournalWriterThread journal_thread(journal.get());
  ro.journal_bell = journal_thread.EnableDoorbell();
  ro.events_bell = core.events_doorbell();
  ro.durable_rings_doorbell = true;
  runner = std::make_unique<engine::node::ShardRunner>(ro);
  journal_thread.NotifyOnDurable(runner->doorbell());
  for (const auto& s : table->symbols()) {
    if (absl::Status st = runner->shard().AddSymbol(
            s.id, engine::OrderBook::Options{config->max_orders_per_symbol, 1u << 16});
        !st.ok()) {
      return Fail(st.ToString());
    }
  }
  if (absl::Status st = runner->shard().LoadFrom(image); !st.ok()) {
    return Fail(absl::StrCat("engine state transfer: ", st.ToString()));
  }
  if (runner->shard().StateHash() != probe_hash || runner->shard().last_seq() != last_seq) {
    return Fail("engine state transfer: state hash differs after LoadFrom");
  }
  if (absl::Status s = journal_thread.Start(); !s.ok()) return Fail(s.ToString());
  if (absl::Status s = snaps->Start(); !s.ok()) return Fail(s.ToString());
  if (absl::Status s = runner->Start(); !s.ok()) return Fail(s.ToString());

  // ---- order service workers + event pump ----
  core.Start(runner.get());
  gateway::RestApi rest(core.api(), clock);
  gateway::MarketDataApi market_api(market, clock);
  gateway::HttpServerOptions client_opts;
  client_opts.address = config->listen_addr;
  client_opts.port = config->port;
  client_opts.io_threads = io_threads;
  client_opts.busy_poll = std::chrono::microseconds(config->http_busy_poll_us);
  client_opts.tls_cert_file = config->tls_cert_file;
  client_opts.tls_key_file = config->tls_key_file;
  gateway::HttpServer client(client_opts);
  rest.Register(client);
  market_api.Register(client);
  // Legacy user data stream /ws/<listenKey>: an active key's user gets a raw
  // subscription; an unknown or expired key is refused (HTTP 404).
  // DELETE userDataStream, or expiry (ExpireListenKeys in the signal loop):
  // the key's open /ws/<listenKey> streams get listenKeyExpired and end.
  rest.SetListenKeyClosedHook([&user_streams](std::string_view key, protocol::Timestamp now) {
    user_streams.ListenKeyClosed(key, now);
  });
  streams.SetListenKeyAcceptor([&rest, &clock, &user_streams](
                                   std::string_view key, std::shared_ptr<gateway::WsSession> ws)
                                   -> std::shared_ptr<gateway::WsHandler> {
    const std::optional<protocol::UserId> user = rest.UserOfListenKey(key, clock.NowNanos());
    if (!user.has_value()) return nullptr;
    return user_streams.AcceptListenKey(*user, std::string(key), std::move(ws));
  });
  streams.Register(client);  // WebSocket market streams (issue 5): /ws, /stream

  // ---- operations endpoints on the client port (Kubernetes probes and the
  // Prometheus scrape hit the port clients use, as on Binance) ----
  // Ready: recovery is done (these routes serve only after it), the shard
  // runs, and shutdown has not begun (`draining` is set on SIGTERM/SIGINT
  // before the server stops accepting).
  std::atomic<bool> draining{false};
  auto ready = [&] { return !draining.load() && !g_fatal.load() && !runner->stopped(); };
  client.Route("GET", "/health", [](const gateway::HttpRequest&, gateway::HttpResponse& r) {
    r.SetJson(200, R"({"status":"ok"})");
  });
  client.Route("GET", "/ready", [&ready](const gateway::HttpRequest&, gateway::HttpResponse& r) {
    if (ready()) {
      r.SetJson(200, R"({"status":"ready"})");
    } else {
      r.SetJson(503, R"({"status":"draining"})");
    }
  });
  client.Route("GET", "/metrics", [&metrics](const gateway::HttpRequest&,
                                             gateway::HttpResponse& r) {
    r.body() = metrics.Render();  // runs the readers on this I/O thread
    r.AddHeader("Content-Type", scaling::MetricsRegistry::kContentType);
  });
  RegisterExchangeMetrics(&metrics, runner.get(), journal.get(), &core, &client, ready);
  // Per-endpoint request counts and latencies; every route is registered.
  scaling::HttpMetrics http_metrics(&metrics, "client", client.endpoints());
  client.SetObserver(&http_metrics);

  AdminApi admin(&core);
  gateway::HttpServerOptions admin_opts;
  admin_opts.address = config->admin_addr;
  admin_opts.port = config->admin_port;
  gateway::HttpServer admin_server(admin_opts);
  admin.Register(admin_server);

  // ---- rate limits (gateway/include/xc/gateway/rate_limiter.h) ----
  // One limiter for the client server: an interceptor before every routed
  // handler, the limits shown in exchangeInfo, changed by the admin API and
  // by SIGHUP (reload_limits, called from the signal loop below). Only the
  // rate_limit_* and circuit_breaker_* keys are applied on reload; other
  // changed keys need a restart.
  gateway::RateLimiter limiter(RateLimitsOf(*config), clock);
  limiter.Install(client);
  rest.SetRateLimiter(&limiter);

  // ---- WebSocket API (/ws-api/v3): the REST endpoints over one connection,
  // limited by the same limiter, answered asynchronously ----
  gateway::WsApi ws_api(rest, &market_api, &limiter, &user_streams);
  scaling::HttpMetrics ws_metrics(&metrics, "ws-api", gateway::WsApi::methods());
  ws_api.SetObserver(&ws_metrics);
  ws_api.Register(client);
  RegisterGatewayMetrics(&metrics, &limiter, &streams, &user_streams, &ws_api);
  admin.SetRateLimiter(&limiter);
  auto reload_limits = [&limiter, &config_path, &env] {
    auto fresh = LoadConfig(config_path, env);
    if (!fresh.ok()) {
      std::fprintf(stderr, "exchange: SIGHUP: limits unchanged: %s\n",
                   fresh.status().ToString().c_str());
      return;
    }
    limiter.SetLimits(RateLimitsOf(*fresh));
    std::string json;
    gateway::RateLimiter::AppendLimitsJson(limiter.limits(), &json);
    std::printf("exchange: SIGHUP: limits reloaded from %s: %s\n",
                config_path.empty() ? "the default config" : config_path.c_str(), json.c_str());
    std::fflush(stdout);
  };
  // ---- end of rate limits ----

  auto shutdown_engine = [&] {
    runner->RequestSnapshot();
    runner->Stop();  // drains; the pump keeps polling meanwhile
    core.Stop();     // delivers the last events; the partitions sync them
    snaps->Stop();
    journal_thread.Stop();
    return journal->Close();
  };

  if (std::error_code e = client.Start(); e) {
    (void)shutdown_engine();
    return Fail(absl::StrCat("client API: ", client.start_error()));
  }
  if (std::error_code e = admin_server.Start(); e) {
    client.Stop();
    (void)shutdown_engine();
    return Fail(
        absl::StrCat("admin API ", config->admin_addr, ":", config->admin_port, ": ", e.message()));
  }
  std::printf("client_port=%u\nadmin_port=%u\n", client.port(), admin_server.port());
  std::printf("data_dir=%s engine_cpu=%d journal_policy=%s symbols=%zu partitions=%u\n",
              config->data_dir.c_str(), runner->cpu(), policy->ToString().c_str(), table->size(),
              config->partitions);
  std::printf("ready\n");
  std::fflush(stdout);

  // ---- wait for a signal (or a fatal engine error) ----
  int exit_code = 0;
  for (int tick = 0;; ++tick) {
    timespec t{0, 200'000'000};
    const int sig = sigtimedwait(&sigs, nullptr, &t);
    if (tick % 5 == 0) rest.ExpireListenKeys();  // their streams get listenKeyExpired
    if (sig == SIGHUP) {  // rate limits, see above
      reload_limits();
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      std::printf("exchange: signal %d, shutting down\n", sig);
      break;
    }
    if (g_fatal.load()) {
      std::fprintf(stderr, "exchange: engine stopped: %s\n",
                   runner->journal_status().ToString().c_str());
      exit_code = 1;
      break;
    }
  }
  std::fflush(stdout);
  draining.store(true);  // /ready answers 503 from here on
  if (exit_code == 0 && config->drain_grace_ms > 0) {
    // Still serving: probes see 503 and traffic moves away first.
    std::this_thread::sleep_for(std::chrono::milliseconds(config->drain_grace_ms));
  }
  client.Stop();  // stop accepting, finish in-flight requests
  admin_server.Stop();
  absl::Status closed = shutdown_engine();
  if (!closed.ok()) {
    std::fprintf(stderr, "exchange: journal close: %s\n", closed.ToString().c_str());
    exit_code = 1;
  }
  std::printf("exchange: stopped at seq %llu\n",
              static_cast<unsigned long long>(runner->last_seq()));
  return exit_code;
}

}  // namespace
}  // namespace xc::exchange

int main(int argc, char** argv) {
  // The heap mostly grows while the exchange runs (order and trade history):
  // grow it in large steps and keep what is freed, instead of a brk/mprotect
  // and fresh page faults every few hundred orders (sysmalloc was 1.3% of the
  // CPU at 40k orders/s).
  mallopt(M_TOP_PAD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  return xc::exchange::Run(argc, argv);
}
