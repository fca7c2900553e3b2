#include "exchange_metrics.h"

#include <string>

namespace xc::exchange {

namespace {
const scaling::Labels kShard{{"shard", "0"}};  // the one shard (Core::kStream)
}  // namespace

std::function<void(const engine::JournalFlushInfo&)> FsyncLatencyObserver(
    scaling::MetricsRegistry* metrics) {
  prometheus::Histogram* h = &metrics->AddHistogram(
      "xc_journal_fsync_seconds", "Latency of the engine journal's synced flushes (write + fdatasync).",
      kShard, scaling::LatencyBuckets());
  return [h](const engine::JournalFlushInfo& f) {
    if (f.synced) h->Observe(static_cast<double>(f.latency_ns) * 1e-9);
  };
}

void RegisterExchangeMetrics(scaling::MetricsRegistry* m, const engine::node::ShardRunner* runner,
                             const engine::JournalWriter* journal, const Core* core,
                             const gateway::HttpServer* client, std::function<bool()> ready) {
  // ---- engine shard: ShardRunner::counters(), relaxed loads ----
  auto sc = [runner](uint64_t engine::node::ShardRunnerCounters::*field) {
    return [runner, field] { return static_cast<double>(runner->counters().*field); };
  };
  using C = engine::node::ShardRunnerCounters;
  m->AddCounterReader("xc_engine_commands_total", "Commands the shard applied.", kShard,
                      sc(&C::commands_applied));
  m->AddCounterReader("xc_engine_events_total", "Events the shard published.", kShard,
                      sc(&C::events_published));
  m->AddCounterReader("xc_engine_busy_cycles_total", "Shard duty cycles that did work.", kShard,
                      sc(&C::busy_cycles));
  m->AddCounterReader("xc_engine_idle_cycles_total", "Shard duty cycles that found no work.",
                      kShard, sc(&C::idle_cycles));
  m->AddCounterReader("xc_engine_backpressure_cycles_total",
                      "Shard duty cycles that found the output ring too full.", kShard,
                      sc(&C::backpressure_cycles));
  m->AddCounterReader("xc_engine_snapshots_total", "Snapshots the shard serialized.", kShard,
                      sc(&C::snapshots_taken));
  m->AddGaugeReader("xc_engine_input_depth", "Commands submitted to the shard, not yet applied.",
                    kShard, sc(&C::input_depth));
  m->AddGaugeReader("xc_engine_last_seq", "Sequence number of the last applied command.", kShard,
                    sc(&C::last_seq));
  // Busy fraction since the previous scrape, from the duty-cycle counters.
  // A kBlock shard that sleeps counts no idle cycles while asleep, so the
  // ratio is that of cycles run, an upper bound of the core's busy time.
  m->AddGaugeCollector(
      "xc_engine_busy_ratio",
      "Fraction of the shard's duty cycles since the previous scrape that did work.", kShard,
      [runner, busy0 = uint64_t{0}, idle0 = uint64_t{0}](prometheus::Gauge& g) mutable {
        const C c = runner->counters();
        const uint64_t busy = c.busy_cycles - busy0, idle = c.idle_cycles - idle0;
        busy0 = c.busy_cycles;
        idle0 = c.idle_cycles;
        g.Set(busy + idle == 0 ? 0.0 : static_cast<double>(busy) / static_cast<double>(busy + idle));
      });

  // ---- engine journal: JournalWriter::counters() ----
  auto jc = [journal](uint64_t engine::JournalWriterCounters::*field) {
    return [journal, field] { return static_cast<double>(journal->counters().*field); };
  };
  using J = engine::JournalWriterCounters;
  m->AddCounterReader("xc_journal_records_total", "Command records the journal framed.", kShard,
                      jc(&J::records));
  m->AddCounterReader("xc_journal_syncs_total", "fdatasyncs the journal completed.", kShard,
                      jc(&J::syncs));
  m->AddCounterReader("xc_journal_bytes_total", "Bytes the journal wrote.", kShard,
                      jc(&J::bytes));
  m->AddGaugeReader("xc_journal_durable_seq", "Last command seq durable in the journal.", kShard,
                    [journal] { return static_cast<double>(journal->counters().durable_seq); });

  // ---- order-service partitions ----
  for (size_t i = 0; i < core->partitions(); ++i) {
    const order_service::PartitionWorker* w = &core->worker(i);
    const scaling::Labels p{{"partition", std::to_string(i)}};
    m->AddGaugeReader("xc_partition_queue_depth",
                      "Work waiting on the partition: threads waiting for it, tasks not yet "
                      "committed, commands the engine has not taken yet.", p,
                      [w] { return static_cast<double>(w->queue_depth()); });
    m->AddCounterReader("xc_partition_cycles_total",
                        "Partition log commits (one write, and with fsync one sync, each).", p,
                        [w] { return static_cast<double>(w->cycles()); });
  }

  // ---- HTTP, readiness, process ----
  m->AddGaugeReader("xc_http_open_connections", "Open client connections.",
                    {{"server", "client"}},
                    [client] { return static_cast<double>(client->open_connections()); });
  m->AddGaugeReader("xc_ready", "1 while GET /ready answers 200.", {},
                    [ready = std::move(ready)] { return ready() ? 1.0 : 0.0; });
  scaling::AddProcessMetrics(m);
}

void RegisterGatewayMetrics(scaling::MetricsRegistry* m, const gateway::RateLimiter* limiter,
                            const gateway::StreamHub* streams,
                            const gateway::UserStreamHub* user_streams,
                            const gateway::WsApi* ws_api) {
  using Counters = gateway::RateLimiter::Counters;
  auto rejections = [limiter](uint64_t Counters::*field) {
    return [limiter, field] { return static_cast<double>(limiter->counters().*field); };
  };
  const char* help = "Requests refused by the rate limiter or the circuit breaker, by reason.";
  m->AddCounterReader("xc_rate_limit_rejections_total", help, {{"reason", "weight"}},
                      rejections(&Counters::too_much_weight));
  m->AddCounterReader("xc_rate_limit_rejections_total", help, {{"reason", "orders"}},
                      rejections(&Counters::too_many_orders));
  m->AddCounterReader("xc_rate_limit_rejections_total", help, {{"reason", "banned"}},
                      rejections(&Counters::banned));
  m->AddCounterReader("xc_rate_limit_rejections_total", help, {{"reason", "overloaded"}},
                      rejections(&Counters::overloaded));
  m->AddCounterReader("xc_rate_limit_bans_total", "IP bans started (418).", {},
                      rejections(&Counters::bans));
  const char* ws_help = "Open WebSocket connections, by kind.";
  m->AddGaugeReader("xc_ws_sessions", ws_help, {{"kind", "market"}},
                    [streams] { return static_cast<double>(streams->num_sessions()); });
  m->AddGaugeReader("xc_ws_sessions", ws_help, {{"kind", "api"}},
                    [ws_api] { return static_cast<double>(ws_api->sessions()); });
  m->AddGaugeReader("xc_user_stream_subscriptions",
                    "Live user data subscriptions (listen-key streams and WebSocket API).", {},
                    [user_streams] { return static_cast<double>(user_streams->subscriptions()); });
}

}  // namespace xc::exchange
