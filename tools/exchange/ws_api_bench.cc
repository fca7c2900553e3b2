// ws-api-bench: the exchange's CPU per WebSocket API order, without sockets.
//
// exbench measures orders end to end, but on a shared 2-vCPU VM most of
// what it sees is the loopback TCP stack, wake-ups and the host's steal, and
// its run-to-run noise (10 % and more) hides a change to the exchange's own
// work. This benchmark drives the production path below the socket, wired as
// exchange_main.cc wires it with journal_policy none: WsApi::Acceptor's
// session (JSON parse, signature, parameters, rate limiter with its limits
// off, as exbench spawns the exchange) -> RestApi -> ThreadedOrderService
// (partition mutex, partition log in the page cache, placement answer) ->
// Core -> ShardRunner (run to completion on the calling thread) -> events,
// market data and the answer queued on a WsSession that only counts it.
// Left out: WebSocket framing, Asio and the system calls (see exbench).
//
// One iteration is an order.place (LIMIT GTC, ACK, away from the market so
// it rests) and the order.cancel of it by origClientOrderId, both signed
// beforehand in batches (HMAC is the client's cost), each request waited
// for before the next. Counters: orders (requests) per second; CPU time is
// the process's, so work the pump thread takes over is counted too.
//
//   build/bin/ws-api-bench --benchmark_min_time=2 [--benchmark_repetitions=N ...]

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "core.h"
#include "core_testing.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/gateway/hmac.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/market_data.h"
#include "xc/gateway/rate_limiter.h"
#include "xc/gateway/rest_api.h"
#include "xc/gateway/ws_api.h"
#include "xc/order_service/decimal.h"
#include "xc/order_service/symbol_table.h"

namespace xc::exchange {
namespace {

constexpr char kSymbol[] = "BTCUSDT";
constexpr uint32_t kPartitions = 2;  // exchange_main's default

// Counts the answers; keeps the last one for the sanity checks.
class CountingSession final : public gateway::WsSession {
 public:
  void Send(std::shared_ptr<const std::string> text) override {
    last_ = std::move(text);
    answers_.fetch_add(1, std::memory_order_release);
  }
  uint64_t answers() const { return answers_.load(std::memory_order_acquire); }
  const std::string& last() const { return *last_; }

 private:
  std::atomic<uint64_t> answers_{0};
  std::shared_ptr<const std::string> last_ = std::make_shared<const std::string>();
};

class Exchange {
 public:
  Exchange() {
    const std::vector<order_service::SymbolConfig> configs = testing::ConfigsOf(kSymbol);
    table_ = *order_service::SymbolTable::Build(configs);
    market_ = std::make_unique<gateway::MarketData>(configs);
    char tmpl[] = "/tmp/ws-api-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir_ = tmpl;

    CoreOptions o = testing::JournalNoneOptions(dir_, kPartitions, market_.get(),
                                                /*run_to_completion=*/true);
    o.on_fatal = [] { std::abort(); };
    core_ = std::make_unique<Core>(&table_, std::move(o), &clock_);
    std::string report;
    if (!core_->Recover(&report).ok()) std::abort();
    auto runner = testing::StartEngine(core_.get(), table_, 1u << 16);
    if (!runner.ok()) std::abort();
    runner_ = *std::move(runner);

    rest_ = std::make_unique<gateway::RestApi>(core_->api(), clock_);
    gateway::RateLimits off{};
    off.request_weight_per_min = off.orders_per_10s = off.orders_per_day = 0;
    off.orders_per_sec = off.reads_per_sec = 0;
    limiter_ = std::make_unique<gateway::RateLimiter>(off, clock_);
    rest_->SetRateLimiter(limiter_.get());
    ws_api_ = std::make_unique<gateway::WsApi>(*rest_, nullptr, limiter_.get(), nullptr);

    auto user = core_->CreateUser();
    if (!user.ok()) std::abort();
    key_ = user->api_key;
    secret_ = std::make_unique<gateway::HmacSha256Key>(user->secret_key);
    for (const char* asset : {"BTC", "USDT"}) {
      if (!core_->ChangeBalance(user->user, asset, 1'000'000'000 * order_service::kUnitsPerWhole)
               .ok())
        std::abort();
    }
    session_ = std::make_shared<CountingSession>();
    gateway::HttpRequest upgrade;
    upgrade.method = "GET";
    upgrade.path = gateway::WsApi::kPath;
    upgrade.remote_ip = "127.0.0.1";
    handler_ = ws_api_->Acceptor()(upgrade, session_);
    if (handler_ == nullptr) std::abort();
  }

  ~Exchange() {
    handler_->OnClose();
    handler_.reset();
    runner_->Stop();
    core_->Stop();
    core_.reset();
    runner_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Signed order.place / order.cancel messages for orders `first`..+n.
  void Sign(uint64_t first, size_t n, std::vector<std::string>* out) const {
    out->clear();
    const std::string ts = std::to_string(clock_.NowNanos() / 1'000'000);
    for (uint64_t i = first; i < first + n; ++i) {
      const std::string cid = "b" + std::to_string(i);
      // Sorted by name, as the server rebuilds the signed text.
      const std::string place = "apiKey=" + key_ + "&newClientOrderId=" + cid +
                                "&newOrderRespType=ACK&price=1000.00&quantity=0.01000&recvWindow="
                                "60000&side=BUY&symbol=BTCUSDT&timeInForce=GTC&timestamp=" +
                                ts + "&type=LIMIT";
      out->push_back(R"({"id":)" + std::to_string(2 * i) +
                     R"(,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY",)"
                     R"("type":"LIMIT","timeInForce":"GTC","price":"1000.00",)"
                     R"("quantity":"0.01000","newClientOrderId":")" +
                     cid + R"(","newOrderRespType":"ACK","recvWindow":60000,"apiKey":")" + key_ +
                     R"(","timestamp":)" + ts + R"(,"signature":")" +
                     gateway::ToHex(secret_->Sign(place)) + R"("}})");
      const std::string cancel = "apiKey=" + key_ + "&origClientOrderId=" + cid +
                                 "&recvWindow=60000&symbol=BTCUSDT&timestamp=" + ts;
      out->push_back(R"({"id":)" + std::to_string(2 * i + 1) +
                     R"(,"method":"order.cancel","params":{"symbol":"BTCUSDT",)"
                     R"("origClientOrderId":")" +
                     cid + R"(","recvWindow":60000,"apiKey":")" + key_ + R"(","timestamp":)" +
                     ts + R"(,"signature":")" + gateway::ToHex(secret_->Sign(cancel)) +
                     R"("}})");
    }
  }

  // Hands one message to the session and waits for its answer.
  void Request(const std::string& message) {
    const uint64_t want = session_->answers() + 1;
    handler_->OnMessage(message);
    while (session_->answers() < want) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    }
  }

  const CountingSession& session() const { return *session_; }

 private:
  order_service::SymbolTable table_;
  gateway::SystemWallClock clock_;
  std::unique_ptr<gateway::MarketData> market_;
  std::string dir_;
  std::unique_ptr<engine::node::ShardRunner> runner_;
  std::unique_ptr<Core> core_;
  std::unique_ptr<gateway::RestApi> rest_;
  std::unique_ptr<gateway::RateLimiter> limiter_;
  std::unique_ptr<gateway::WsApi> ws_api_;
  std::string key_;
  std::unique_ptr<gateway::HmacSha256Key> secret_;
  std::shared_ptr<CountingSession> session_;
  std::shared_ptr<gateway::WsHandler> handler_;
};

void BM_PlaceCancel(benchmark::State& state) {
  Exchange x;
  constexpr size_t kBatch = 4096;
  std::vector<std::string> batch;
  uint64_t next = 0;
  size_t at = kBatch;  // signs the first batch at once
  int64_t orders = 0;
  for (auto _ : state) {
    if (at == kBatch) {
      state.PauseTiming();
      x.Sign(next, kBatch / 2, &batch);
      next += kBatch / 2;
      at = 0;
      state.ResumeTiming();
    }
    x.Request(batch[at]);
    x.Request(batch[at + 1]);
    at += 2;
    orders += 2;
  }
  // The last answer must be the cancel's success, not an error.
  const std::string& last = x.session().last();
  if (last.find(R"("status":200)") == std::string::npos) {
    state.SkipWithError(("unexpected answer: " + last).c_str());
  }
  state.counters["orders/s"] = benchmark::Counter(static_cast<double>(orders),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PlaceCancel)->MeasureProcessCPUTime()->UseRealTime();
// A fixed count, for counting instructions under callgrind, which a noisy
// VM does not disturb (bench/README.md, "ws-api-bench"):
//   valgrind --tool=callgrind --separate-threads=yes
//     build/bin/ws-api-bench --benchmark_filter=Fixed
void BM_PlaceCancelFixed(benchmark::State& state) { BM_PlaceCancel(state); }
BENCHMARK(BM_PlaceCancelFixed)->Iterations(4000)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace
}  // namespace xc::exchange

BENCHMARK_MAIN();
