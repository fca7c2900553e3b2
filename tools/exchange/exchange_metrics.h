#pragma once
// The exchange's metrics (scaling/README.md, "Metric names"): readers over
// the counters the agents already keep, registered once at start and read at
// scrape time (STYLE.md §17), plus the journal's fsync latency histogram.

#include <functional>

#include "core.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/gateway/http_server.h"
#include "xc/scaling/metrics_registry.h"

namespace xc::exchange {

// An on_flush for JournalWriterOptions that feeds
// xc_journal_fsync_seconds{shard="0"} with the latency of every synced flush.
// Runs on the journal thread (a lock-free histogram update).
std::function<void(const engine::JournalFlushInfo&)> FsyncLatencyObserver(
    scaling::MetricsRegistry* metrics);

// Registers the engine, journal, partition, HTTP and process metrics. All
// pointers must outlive the last scrape (Render). `ready` is read at scrape
// for xc_ready.
void RegisterExchangeMetrics(scaling::MetricsRegistry* metrics,
                             const engine::node::ShardRunner* runner,
                             const engine::JournalWriter* journal, const Core* core,
                             const gateway::HttpServer* client, std::function<bool()> ready);

}  // namespace xc::exchange
