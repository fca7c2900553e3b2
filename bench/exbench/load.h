#pragma once
// The load engine of exbench: one Worker per client thread owns a set of
// WebSocket API connections (order.place / order.cancel) and, optionally, a
// few HTTP keep-alive connections for REST reads, all on one epoll instance.
//
// Open loop, no coordinated omission: a phase fixes the send times of its
// operations in advance (start + i / rate). Each operation goes out as soon
// as the loop sees it due -- late if the client or a socket is behind -- and
// its latency is charged from the scheduled time to the arrival of its
// reply, never from the actual send. Operations scheduled inside
// [start + warmup, start + warmup + duration) are "measured".
//
// Thread safety: a Worker is used by one thread at a time (RunPhase runs on
// the thread that calls it). Users (their prepared HMAC keys) are shared
// read-only between workers.
// Allocation: none per message on the order path after warm-up (frames are
// built in place in a per-connection output buffer that only grows; replies
// are scanned in the input buffer); error counts allocate a map entry per new
// error kind.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "histogram.h"
#include "xc/gateway/hmac.h"

namespace xc::exbench {

// One exchange user exbench trades as.
struct User {
  int64_t user_id = 0;  // 0 when keys came from a file
  std::string api_key;
  std::string secret;
  std::shared_ptr<const gateway::HmacSha256Key> key;  // prepared once
};

// Which orders a connection sends (README.md "Order mixes").
enum class Mix {
  kPlaceCancel,  // LIMIT GTC far from the market, then order.cancel of it
  kIoc,          // LIMIT IOC far from the market: expires at once
  kCross,        // even connections rest SELL GTC at mid, odd ones BUY IOC at mid
};

struct OrderSpec {
  Mix mix = Mix::kPlaceCancel;
  std::string symbol = "BTCUSDT";
  std::string low_price;   // BUY price far below the market
  std::string high_price;  // SELL price far above
  std::string mid_price;   // cross price
  std::string qty;
  std::string resp_type = "ACK";  // newOrderRespType
  int max_open_per_conn = 8;      // place-cancel: cancel first beyond this many open
};

struct LoadTarget {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string ws_path = "/ws-api/v3";
  // Order entry: "ws" (WebSocket API, pipelined) or "rest" (POST/DELETE
  // /api/v3/order on HTTP keep-alive connections, one request in flight per
  // connection, signed over the query string).
  std::string order_api = "ws";
  // REST reads: "depth" (GET /api/v3/depth?symbol=S&limit=5) or "order"
  // (signed GET /api/v3/order of an order this worker placed).
  std::string rest_kind = "depth";
  size_t max_inflight_per_conn = 4096;  // power of two
};

struct PhaseSpec {
  int64_t start_ns = 0;   // CLOCK_MONOTONIC time of operation 0
  double rate = 0;        // order operations per second for this worker
  double rest_rate = 0;   // REST reads per second for this worker
  int64_t warmup_ns = 0;
  int64_t duration_ns = 0;
  int64_t drain_timeout_ns = 10'000'000'000;
};

// What one phase measured; Merge() adds another worker's.
struct PhaseStats {
  // Measured operations, ns: from the scheduled send to the reply's arrival
  // at the client's socket (its kernel receive stamp; RecvLoop in load.cc).
  LatencyHistogram place, cancel, orders, rest;
  // The same orders to the time exbench read the reply (adds the client
  // thread's own wake-up delay).
  LatencyHistogram orders_read;
  LatencyHistogram send_lag;  // actual send - scheduled send, all operations
  uint64_t sent_place = 0, sent_cancel = 0, sent_rest = 0;  // measured
  uint64_t ok_place = 0, ok_cancel = 0, ok_rest = 0;        // measured, status 200
  uint64_t filled = 0;  // measured places answered FILLED/PARTIALLY_FILLED (RESULT/FULL only)
  uint64_t replies_in_window = 0;  // order replies (any) arriving in the window
  uint64_t rest_in_window = 0;
  uint64_t timeouts = 0;           // no reply within the drain timeout
  uint64_t unmatched = 0;          // replies with an id exbench did not send
  uint64_t stalls = 0;             // schedule held back by a full in-flight window
  std::map<std::string, uint64_t> errors;  // "ws 400 -2010", "http 429 -1003", "timeout"
  double client_cpu_s = 0;         // worker thread CPU over [start, end of sending]
  // The client's timed wake-ups: median lateness measured at its start (ns,
  // the largest over workers), and whether operations were due more often
  // than that, so that it sent them in bursts on the timer (load.cc).
  int64_t timer_overshoot_ns = 0;
  bool bursts = false;
  double wall_s = 0;               // that interval's length

  uint64_t error_count() const;
  void Merge(const PhaseStats& o);
};

class Worker {
 public:
  // conn_users[i] indexes `users` for connection i; global_conn_index[i] is
  // its number across all workers (cross mix: parity picks the role).
  Worker(int index, LoadTarget target, OrderSpec spec, const std::vector<User>* users,
         std::vector<int> conn_users, std::vector<int> global_conn_index, int rest_connections);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens every connection (blocking connect + upgrade), then makes them
  // non-blocking. False with *error on the first failure.
  bool Connect(std::string* error);

  // Runs one open-loop phase; returns after the last reply or the drain
  // timeout (unanswered operations count as "timeout" errors).
  PhaseStats RunPhase(const PhaseSpec& phase);

  // place-cancel / cross: cancels the orders this worker still has open
  // (closed loop, not measured). Returns how many were cancelled.
  uint64_t CancelOpenOrders(int64_t timeout_ns);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

int64_t MonoNowNs();

}  // namespace xc::exbench
