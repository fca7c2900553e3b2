#include "xc/engine/node/cpu_affinity.h"

#include <sched.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace xc::engine::node {
namespace {

// Calls sched_getaffinity with a dynamically sized mask, because hosts with
// more than CPU_SETSIZE (1024) CPUs make the fixed cpu_set_t fail with EINVAL.
absl::StatusOr<std::vector<int>> AffinityOfCallingThread() {
  for (int ncpus = CPU_SETSIZE; ncpus <= (1 << 16); ncpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (set == nullptr) return absl::ResourceExhaustedError("CPU_ALLOC failed");
    const size_t bytes = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(bytes, set);
    if (sched_getaffinity(0, bytes, set) != 0) {
      const int err = errno;
      CPU_FREE(set);
      if (err == EINVAL) continue;  // mask too small for this kernel: grow
      return absl::ErrnoToStatus(err, "sched_getaffinity");
    }
    std::vector<int> cpus;
    for (int c = 0; c < ncpus; ++c) {
      if (CPU_ISSET_S(c, bytes, set)) cpus.push_back(c);
    }
    CPU_FREE(set);
    if (cpus.empty()) return absl::InternalError("sched_getaffinity returned an empty set");
    return cpus;
  }
  return absl::InternalError("sched_getaffinity: no mask size accepted");
}

}  // namespace

absl::StatusOr<std::vector<int>> AllowedCpus() { return AffinityOfCallingThread(); }

absl::Status PinCurrentThread(int cpu) {
  if (cpu < 0) return absl::InvalidArgumentError(absl::StrCat("cpu ", cpu, " is negative"));
  const int ncpus = cpu + 1;
  cpu_set_t* set = CPU_ALLOC(ncpus);
  if (set == nullptr) return absl::ResourceExhaustedError("CPU_ALLOC failed");
  const size_t bytes = CPU_ALLOC_SIZE(ncpus);
  CPU_ZERO_S(bytes, set);
  CPU_SET_S(cpu, bytes, set);
  // pid 0 = the calling thread (Linux affinity is per thread).
  const int rc = sched_setaffinity(0, bytes, set);
  const int err = errno;
  CPU_FREE(set);
  if (rc != 0) {
    // The kernel intersects the mask with the cgroup cpuset; EINVAL means the
    // cpu is outside it (or offline).
    if (err == EINVAL) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cpu ", cpu, " is not allowed for this process (sched_setaffinity: EINVAL)"));
    }
    return absl::ErrnoToStatus(err, absl::StrCat("sched_setaffinity(cpu ", cpu, ")"));
  }
  return absl::OkStatus();
}

int CurrentCpu() { return sched_getcpu(); }

}  // namespace xc::engine::node
