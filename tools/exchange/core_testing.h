#pragma once
// Wiring shared by the in-process tests and benchmarks of Core
// (core_test.cc, ws_api_bench.cc): Core and its ShardRunner as
// exchange_main.cc wires them under journal_policy none (no engine journal;
// partition logs in the page cache, so the thread that runs a partition task
// commits it), with market data fed from the engine's events.
// Thread: call from the thread that owns the Core (set-up and tear-down).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/gateway/market_data.h"
#include "xc/order_service/messages.h"
#include "xc/order_service/symbol_table.h"

namespace xc::exchange::testing {

// The default configs (SymbolTable::DefaultConfigs) of `symbol` only.
std::vector<order_service::SymbolConfig> ConfigsOf(std::string_view symbol);

// CoreOptions for partition logs under `dir`/orders, sync off, that feed
// `market` every engine command and every recovered book. The caller sets
// the rest (timeout, on_fatal, ...). `market` must outlive the Core.
CoreOptions JournalNoneOptions(const std::string& dir, uint32_t partitions,
                               gateway::MarketData* market, bool run_to_completion);

// After core->Recover on empty logs: a ShardRunner (kBlock, unpinned, ringing
// the core's pump) holding every symbol of `table` with room for
// `max_orders` each, the core's recovery finished on it (nothing to resend),
// the runner started and the core started on it. The error names the step
// that failed. Stop the runner before the core, as exchange_main.cc does.
absl::StatusOr<std::unique_ptr<engine::node::ShardRunner>> StartEngine(
    Core* core, const order_service::SymbolTable& table, uint32_t max_orders);

}  // namespace xc::exchange::testing
