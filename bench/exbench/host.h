#pragma once
// HostFacts: the settings of the machine that move exbench's figures on a
// VM as much as a change to the exchange does (README.md, "What sets the
// 10k/s tail"): the kernel, its preemption mode, and how an idle CPU waits
// (the cpuidle driver and the guest halt-polling window). exbench reads them
// once per run and writes them into the report and the JSON config, so that
// figures are only compared between runs taken on like machines.
//
// Read from procfs and sysfs under `root` ("" is this machine; tests pass a
// directory laid out the same way). Reading never fails: a fact that cannot
// be read (no such file, or no permission: /sys/kernel/debug needs root and
// a mounted debugfs) is left empty, which the report shows as "unknown".
// Thread safety: a plain function of the files; call it from any thread.

#include <cstdint>
#include <string>
#include <vector>

namespace xc::exbench {

struct HostFacts {
  std::string kernel;  // /proc/sys/kernel/osrelease, e.g. "6.18.44-fc"
  // The preemption mode in force: "none", "voluntary", "full" or "lazy",
  // as marked in /sys/kernel/debug/sched/preempt; else, from the build
  // string (/proc/sys/kernel/version): "rt"; for a PREEMPT_DYNAMIC kernel
  // the command line's preempt=, or "dynamic" when it has none; "lazy" or
  // "full" for kernels built so; "none or voluntary" when it names none.
  std::string preempt;
  // /sys/devices/system/cpu/cpuidle/current_driver and current_governor (or
  // current_governor_ro): "none" means an idle CPU halts at once.
  std::string cpuidle_driver, cpuidle_governor;
  // /sys/module/haltpoll/parameters/guest_halt_poll_ns: how long an idle
  // vCPU polls before it halts (0: it does not). Empty without haltpoll.
  std::string guest_halt_poll_ns;
  std::string cpu_model;  // the first "model name" of /proc/cpuinfo
};

HostFacts ReadHostFacts(const std::string& root = "");

// The machine's CPU time so far, per CPU, from /proc/stat (USER_HZ ticks,
// 10 ms): all of it, the idle part (idle + iowait), and the stolen part: time
// the hypervisor gave to something else while this guest's vCPU had work.
// On a shared VM steal comes in stalls of one vCPU of up to several ms,
// which is what sets a 10k/s latency tail (README.md, "What sets the 10k/s
// tail"); read before and after each step, it says how much a step suffered
// from them. Empty `cpus` when /proc/stat is unreadable. Any thread.
struct CpuTimes {
  struct Cpu {
    uint64_t total = 0, idle = 0, steal = 0;
  };
  std::vector<Cpu> cpus;  // cpu0, cpu1, ... in /proc/stat's order
};

CpuTimes ReadCpuTimes(const std::string& root = "");

// Shares of the CPUs' time between two readings, 0..1. `known` is false when
// either reading is empty, their CPU counts differ, or no tick passed.
struct CpuShare {
  bool known = false;
  int cpus = 0;
  double busy = 0;           // neither idle nor stolen, of all CPUs' time
  double steal = 0;          // stolen, of all CPUs' time
  double max_cpu_steal = 0;  // the most one CPU lost, of its own time
};

CpuShare CpuShareBetween(const CpuTimes& before, const CpuTimes& after);

}  // namespace xc::exbench
