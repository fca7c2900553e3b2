#pragma once
// The exchange's metrics (scaling/README.md, "Metric names"): readers over
// the counters the agents already keep, registered once at start and read at
// scrape time (STYLE.md §17), plus the journal's fsync latency histogram.

#include <functional>

#include "core.h"
#include "xc/engine/journal_writer.h"
#include "xc/engine/node/shard_runner.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/rate_limiter.h"
#include "xc/gateway/stream_hub.h"
#include "xc/gateway/user_stream.h"
#include "xc/gateway/ws_api.h"
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

// Registers the gateway's protection and WebSocket metrics:
//   xc_rate_limit_rejections_total{reason}  429 weight / 429 orders / 418
//     banned / 503 overloaded answers (REST and WebSocket API alike)
//   xc_rate_limit_bans_total                IP bans started
//   xc_ws_sessions{kind}                    open WebSocket connections:
//     market (/ws and /stream, listen-key streams included), api (/ws-api/v3)
//   xc_user_stream_subscriptions            live user data subscriptions
// All pointers must outlive the last scrape.
void RegisterGatewayMetrics(scaling::MetricsRegistry* metrics, const gateway::RateLimiter* limiter,
                            const gateway::StreamHub* streams,
                            const gateway::UserStreamHub* user_streams,
                            const gateway::WsApi* ws_api);

}  // namespace xc::exchange
