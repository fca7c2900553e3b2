#pragma once
// --spawn: exbench starts build/bin/exchange itself on free loopback ports
// with a temporary data directory and the rate limits off, and stops it
// (SIGTERM, then SIGKILL after 30 s) when the run ends.
//
// The config is the binary's own --print-default-config with these keys
// replaced: listen_addr=127.0.0.1, port=0, admin_port=0, every
// rate_limit_* = 0 (ban_after_violations too), journal_policy (fsync unless
// told otherwise), then the caller's `key=value` overrides. Environment
// variables that would override the file (XC_*, RATE_LIMIT_*,
// CIRCUIT_BREAKER_ENABLED) are removed from the child's environment.
//
// Thread safety: call from the main thread only.

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace xc::exbench {

struct SpawnOptions {
  std::string exchange_path;
  std::string journal_policy = "fsync";
  std::vector<std::pair<std::string, std::string>> overrides;  // applied last
  std::string server_cpus;  // "0" or "0,1": sched_setaffinity of the child
  bool keep_dir = false;
};

struct SpawnedExchange {
  pid_t pid = -1;
  std::string dir;      // temp dir: exchange.conf, exchange.log, data/
  int port = 0;
  int admin_port = 0;
  std::string config;   // the config text it runs with
};

// Starts the exchange and waits (up to 60 s) for its "ready" line.
bool SpawnExchange(const SpawnOptions& opts, SpawnedExchange* out, std::string* error);

// SIGTERM and wait; returns the exit status text ("exit 0", "signal 9", ...).
// Removes the temp dir unless opts.keep_dir.
std::string StopExchange(SpawnedExchange* ex, bool keep_dir);

// utime + stime of a process in seconds (from /proc/PID/stat); -1 if unknown.
double ProcessCpuSeconds(pid_t pid);

// Parses "0,2-3" into CPU numbers; false on a syntax error.
bool ParseCpuList(const std::string& s, std::vector<int>* cpus);

}  // namespace xc::exbench
