#include "host.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace xc::exbench {
namespace {

// The file's first line without trailing white space; "" when unreadable.
std::string FirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return "";
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
    line.pop_back();
  return line;
}

// "none voluntary (full) lazy" -> "full": the kernel marks the mode in force.
std::string MarkedWord(const std::string& line) {
  const size_t open = line.find('(');
  const size_t close = line.find(')', open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return line.substr(open + 1, close - open - 1);
}

// The value of `key=` on a command line ("preempt=full" -> "full").
std::string CmdlineValue(const std::string& cmdline, const std::string& key) {
  std::istringstream in(cmdline);
  for (std::string word; in >> word;) {
    if (word == "--") break;  // what follows goes to init, not the kernel
    if (word.compare(0, key.size() + 1, key + "=") == 0) return word.substr(key.size() + 1);
  }
  return "";
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

std::string PreemptMode(const std::string& root) {
  std::string mode = MarkedWord(FirstLine(root + "/sys/kernel/debug/sched/preempt"));
  if (!mode.empty()) return mode;
  // The build string ("#1 SMP PREEMPT_DYNAMIC ...") names the model the
  // kernel was built with; a dynamic one's mode may be set on the command line.
  const std::string version = FirstLine(root + "/proc/sys/kernel/version");
  if (version.empty()) return "";
  if (HasWord(version, "PREEMPT_RT")) return "rt";
  if (HasWord(version, "PREEMPT_DYNAMIC")) {
    mode = CmdlineValue(FirstLine(root + "/proc/cmdline"), "preempt");
    return mode.empty() ? "dynamic" : mode;
  }
  if (HasWord(version, "PREEMPT_LAZY")) return "lazy";
  if (HasWord(version, "PREEMPT")) return "full";
  return "none or voluntary";
}

std::string CpuModel(const std::string& root) {
  std::ifstream f(root + "/proc/cpuinfo");
  for (std::string line; std::getline(f, line);) {
    if (line.compare(0, 10, "model name") != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return "";
    const size_t start = line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

}  // namespace

HostFacts ReadHostFacts(const std::string& root) {
  HostFacts h;
  h.kernel = FirstLine(root + "/proc/sys/kernel/osrelease");
  h.preempt = PreemptMode(root);
  const std::string idle = root + "/sys/devices/system/cpu/cpuidle/";
  h.cpuidle_driver = FirstLine(idle + "current_driver");
  h.cpuidle_governor = FirstLine(idle + "current_governor");
  if (h.cpuidle_governor.empty()) h.cpuidle_governor = FirstLine(idle + "current_governor_ro");
  h.guest_halt_poll_ns = FirstLine(root + "/sys/module/haltpoll/parameters/guest_halt_poll_ns");
  h.cpu_model = CpuModel(root);
  return h;
}

CpuTimes ReadCpuTimes(const std::string& root) {
  CpuTimes t;
  std::ifstream f(root + "/proc/stat");
  for (std::string line; std::getline(f, line);) {
    // "cpuN user nice system idle iowait irq softirq steal guest guest_nice";
    // the "cpu " line is the sum, and guest time is already in user and nice.
    if (line.compare(0, 3, "cpu") != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9')
      continue;
    std::istringstream in(line.substr(line.find(' ')));
    uint64_t v[8] = {};
    int n = 0;
    while (n < 8 && in >> v[n]) ++n;
    if (n < 4) continue;  // not a line the kernel writes
    CpuTimes::Cpu c;
    for (int i = 0; i < n; ++i) c.total += v[i];
    c.idle = v[3] + v[4];
    c.steal = v[7];
    t.cpus.push_back(c);
  }
  return t;
}

CpuShare CpuShareBetween(const CpuTimes& before, const CpuTimes& after) {
  CpuShare s;
  if (before.cpus.empty() || before.cpus.size() != after.cpus.size()) return s;
  uint64_t total = 0, idle = 0, steal = 0;
  for (size_t i = 0; i < after.cpus.size(); ++i) {
    const CpuTimes::Cpu& a = before.cpus[i];
    const CpuTimes::Cpu& b = after.cpus[i];
    // A CPU taken offline and back restarts its counts: leave it out.
    if (b.total < a.total || b.idle < a.idle || b.steal < a.steal) continue;
    const uint64_t t = b.total - a.total;
    total += t;
    idle += b.idle - a.idle;
    steal += b.steal - a.steal;
    if (t != 0) {
      s.max_cpu_steal = std::max(s.max_cpu_steal,
                                 static_cast<double>(b.steal - a.steal) / static_cast<double>(t));
    }
  }
  if (total == 0) return s;
  s.known = true;
  s.cpus = static_cast<int>(after.cpus.size());
  s.busy = static_cast<double>(total - idle - steal) / static_cast<double>(total);
  s.steal = static_cast<double>(steal) / static_cast<double>(total);
  return s;
}

}  // namespace xc::exbench
