// Micro benchmarks of xc::order_service::Partition, the order service's
// accounts and order state (STYLE.md §16: BM_<Component>_<Operation>).
//
//   build/bin/partition-bench [--benchmark_filter=...] [--benchmark_repetitions=N]
//
// BM_Partition_PlaceCancel/<history>/<client_ids>: one iteration is the
// order service's side of one place-cancel pair of exbench's default mix: a
// LIMIT BUY is admitted and committed, the engine accepts it, it is cancelled
// and the engine confirms the cancel. 64 users take turns (as exbench's 64
// connections do); each has <history> earlier orders, since a user's history
// (and its client-order-id index) grows for as long as the exchange runs.
// client_ids 0: the server names the orders (exbench, most bots); 1: the
// client does, and cancels by origClientOrderId.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xc/order_service/partition.h"
#include "xc/order_service/symbol_table.h"
#include "xc/protocol/event.h"

namespace {

using xc::order_service::EngineLink;
using xc::order_service::OrderRef;
using xc::order_service::OrderType;
using xc::order_service::Partition;
using xc::order_service::PlaceOrderRequest;
using xc::order_service::SymbolTable;
using xc::protocol::Command;
using xc::protocol::Event;
using xc::protocol::EventType;
using xc::protocol::OrderId;
using xc::protocol::Side;
using xc::protocol::UserId;

constexpr int kUsers = 64;

// The engine's side: keeps only the last command (the benchmark answers it).
class LastCommand : public EngineLink {
 public:
  void Send(const Command& c) override { last = c; }
  Command last;
};

struct Fixture {
  explicit Fixture(int64_t history, bool client_ids) : client_ids(client_ids) {
    auto t = SymbolTable::Build(SymbolTable::DefaultConfigs());
    if (!t.ok()) std::abort();
    table = *std::move(t);
    p = std::make_unique<Partition>(0, 1, &table, &link, nullptr);
    for (UserId u = 1; u <= kUsers; ++u) {
      if (!p->CreateUser(u).ok() ||
          !p->Credit(u, "USDT", 1'000'000'000 * xc::order_service::kUnitsPerWhole, 1).ok()) {
        std::abort();
      }
    }
    for (int64_t i = 0; i < history * kUsers; ++i) PlaceCancel();
  }

  Event Ev(EventType type, OrderId id, UserId user) const {
    Event e;
    e.type = type;
    e.order_id = id;
    e.user = user;
    e.side = Side::kBuy;
    e.ts = 1000;
    return e;
  }

  void PlaceCancel() {
    const UserId user = static_cast<UserId>(1 + n % kUsers);
    req.user = user;
    std::string cid;
    if (client_ids) {
      cid = "bench-" + std::to_string(n);
      req.new_client_order_id = cid;
    }
    ++n;
    auto placed = p->PlaceOrder(req);
    if (!placed.ok()) std::abort();
    const OrderId id = placed.value().order.order_id;
    p->OnEngineEvent(Ev(EventType::kAccepted, id, user));
    auto cancelled = p->CancelOrder(OrderRef{user, "BTCUSDT", client_ids ? 0 : id, cid, 0});
    if (!cancelled.ok()) std::abort();
    Event c = Ev(EventType::kCancelled, id, user);
    c.price = link.last.price;
    c.qty = link.last.qty;
    c.code = 1;
    p->OnEngineEvent(c);
  }

  SymbolTable table;
  LastCommand link;
  std::unique_ptr<Partition> p;
  bool client_ids;
  PlaceOrderRequest req = [] {
    PlaceOrderRequest r;
    r.symbol = "BTCUSDT";
    r.side = Side::kBuy;
    r.type = OrderType::kLimit;
    r.time_in_force = xc::protocol::TimeInForce::kGtc;
    r.quantity = "0.02";
    r.price = "1000.00";
    r.now = 500;
    return r;
  }();
  uint64_t n = 0;
};

void BM_Partition_PlaceCancel(benchmark::State& state) {
  Fixture f(state.range(0), state.range(1) != 0);
  for (auto _ : state) f.PlaceCancel();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Partition_PlaceCancel)
    ->ArgNames({"history", "client_ids"})
    ->ArgsProduct({{0, 10'000, 100'000}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
