#include "spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace xc::exbench {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

// Replaces `key = ...` lines (or appends) in a config text.
std::string ApplyOverrides(const std::string& text,
                           const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (const auto& [k, v] : kv) {
    bool found = false;
    for (std::string& line : lines) {
      if (line.rfind(k, 0) == 0) {
        const size_t rest = line.find_first_not_of(' ', k.size());
        if (rest != std::string::npos && line[rest] == '=') {
          line = k + " = " + v;
          found = true;
        }
      }
    }
    if (!found) lines.push_back(k + " = " + v);
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

bool RunCapture(const std::string& cmd, std::string* out) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return false;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  return ::pclose(p) == 0;
}

int IntAfter(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::atoi(text.c_str() + at + key.size());
}

}  // namespace

bool ParseCpuList(const std::string& s, std::vector<int>* cpus) {
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) {
    const size_t dash = part.find('-');
    char* end = nullptr;
    const long a = std::strtol(part.c_str(), &end, 10);
    if (end == part.c_str()) return false;
    long b = a;
    if (dash != std::string::npos) b = std::strtol(part.c_str() + dash + 1, &end, 10);
    if (*end != '\0' || a < 0 || b < a || b > 1023) return false;
    for (long c = a; c <= b; ++c) cpus->push_back(static_cast<int>(c));
  }
  return !cpus->empty();
}

bool SpawnExchange(const SpawnOptions& o, SpawnedExchange* ex, std::string* error) {
  // $TMPDIR (e.g. a tmpfs, to take the disk out of a run) or /tmp.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") +
                     "/exbench-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    *error = "mkdtemp " + tmpl + ": " + std::strerror(errno);
    return false;
  }
  ex->dir = tmpl;
  std::string defaults;
  if (!RunCapture("'" + o.exchange_path + "' --print-default-config", &defaults)) {
    *error = o.exchange_path + " --print-default-config failed";
    return false;
  }
  std::vector<std::pair<std::string, std::string>> kv = {
      {"listen_addr", "127.0.0.1"},
      {"port", "0"},
      {"admin_port", "0"},
      {"rate_limit_request_weight_per_min", "0"},
      {"rate_limit_orders_per_10s", "0"},
      {"rate_limit_orders_per_day", "0"},
      {"rate_limit_orders_per_sec", "0"},
      {"rate_limit_reads_per_sec", "0"},
      {"rate_limit_ban_after_violations", "0"},
      {"journal_policy", o.journal_policy},
  };
  kv.insert(kv.end(), o.overrides.begin(), o.overrides.end());
  ex->config = ApplyOverrides(defaults, kv);
  const std::string conf = ex->dir + "/exchange.conf";
  const std::string log = ex->dir + "/exchange.log";
  std::ofstream(conf) << ex->config;
  std::vector<int> cpus;
  if (!o.server_cpus.empty() && !ParseCpuList(o.server_cpus, &cpus)) {
    *error = "bad --server-cpus " + o.server_cpus;
    return false;
  }
  const std::string data = ex->dir + "/data";
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    // Environment overrides win over the file: drop them.
    std::vector<std::string> drop;
    for (char** e = environ; *e; ++e) {
      std::string_view v(*e);
      const std::string_view name = v.substr(0, v.find('='));
      if (name.rfind("XC_", 0) == 0 || name.rfind("RATE_LIMIT_", 0) == 0 ||
          name == "CIRCUIT_BREAKER_ENABLED") {
        drop.emplace_back(name);
      }
    }
    for (const std::string& n : drop) ::unsetenv(n.c_str());
    if (!cpus.empty()) {
      cpu_set_t set;
      CPU_ZERO(&set);
      for (int c : cpus) CPU_SET(c, &set);
      ::sched_setaffinity(0, sizeof set, &set);
    }
    ::execl(o.exchange_path.c_str(), o.exchange_path.c_str(), "--config", conf.c_str(),
            "--data-dir", data.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "exec %s: %s\n", o.exchange_path.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  ex->pid = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string text;
  while (std::chrono::steady_clock::now() < deadline) {
    text.clear();
    ReadFile(log, &text);
    if (text.find("\nready") != std::string::npos || text.rfind("ready", 0) == 0) {
      ex->port = IntAfter(text, "client_port=");
      ex->admin_port = IntAfter(text, "admin_port=");
      if (ex->port > 0 && ex->admin_port > 0) return true;
      *error = "exchange printed ready without its ports:\n" + text;
      return false;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      ex->pid = -1;
      *error = "exchange exited during start:\n" + text;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "exchange not ready after 60 s:\n" + text;
  return false;
}

std::string StopExchange(SpawnedExchange* ex, bool keep_dir) {
  std::string result = "not running";
  if (ex->pid > 0) {
    ::kill(ex->pid, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    pid_t r = 0;
    while ((r = ::waitpid(ex->pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (r == 0) {
      ::kill(ex->pid, SIGKILL);
      ::waitpid(ex->pid, &status, 0);
      result = "killed after 30 s";
    } else if (WIFEXITED(status)) {
      result = "exit " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      result = "signal " + std::to_string(WTERMSIG(status));
    }
    ex->pid = -1;
  }
  if (!keep_dir && !ex->dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(ex->dir, ec);
  }
  return result;
}

double ProcessCpuSeconds(pid_t pid) {
  std::string text;
  if (!ReadFile("/proc/" + std::to_string(pid) + "/stat", &text)) return -1;
  // Fields after the ")" of the command name; utime and stime are 14 and 15.
  const size_t rp = text.rfind(')');
  if (rp == std::string::npos) return -1;
  std::stringstream in(text.substr(rp + 2));
  std::string f;
  unsigned long long ut = 0, stt = 0;
  for (int i = 3; i <= 15 && (in >> f); ++i) {
    if (i == 14) ut = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15) stt = std::strtoull(f.c_str(), nullptr, 10);
  }
  return static_cast<double>(ut + stt) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace xc::exbench
