#include "core_testing.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace xc::exchange::testing {

std::vector<order_service::SymbolConfig> ConfigsOf(std::string_view symbol) {
  std::vector<order_service::SymbolConfig> configs;
  for (auto& c : order_service::SymbolTable::DefaultConfigs()) {
    if (c.symbol == symbol) configs.push_back(c);
  }
  return configs;
}

CoreOptions JournalNoneOptions(const std::string& dir, uint32_t partitions,
                               gateway::MarketData* market, bool run_to_completion) {
  CoreOptions o;
  o.partitions = partitions;
  o.dir = dir + "/orders";
  o.sync = false;
  o.run_to_completion = run_to_completion;
  o.on_market_events = [market](std::span<const protocol::Event> g) { market->OnEvents(g); };
  o.on_book_reset = [market](protocol::SymbolId id, auto bids, auto asks, protocol::Seq seq,
                             protocol::Price last) {
    market->ResetBook(id, std::move(bids), std::move(asks), seq, last);
  };
  o.market = market;
  return o;
}

absl::StatusOr<std::unique_ptr<engine::node::ShardRunner>> StartEngine(
    Core* core, const order_service::SymbolTable& table, uint32_t max_orders) {
  engine::node::ShardRunnerOptions ro;
  ro.wait = engine::node::WaitStrategy::kBlock;
  ro.cpu = -1;
  ro.events_bell = core->events_doorbell();
  auto runner = std::make_unique<engine::node::ShardRunner>(ro);
  for (const auto& s : table.symbols()) {
    if (absl::Status st =
            runner->shard().AddSymbol(s.id, engine::OrderBook::Options{max_orders, 1u << 10});
        !st.ok()) {
      return st;
    }
  }
  auto resend = core->FinishRecovery(/*engine_seq=*/0, runner->shard());
  if (!resend.ok()) return resend.status();
  if (*resend != 0) {
    return absl::FailedPreconditionError(absl::StrCat(*resend, " orders to resend on new logs"));
  }
  if (absl::Status st = runner->Start(); !st.ok()) return st;
  core->Start(runner.get());
  return runner;
}

}  // namespace xc::exchange::testing
