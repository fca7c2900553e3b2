#pragma once
// CPU affinity helpers for the node layer: which cores this process may run
// on, and pinning a thread to one of them (DESIGN.md "Hot path rules": one
// shard per allowed core).

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace xc::engine::node {

// The CPUs this process may run on, ascending, from sched_getaffinity(2) of
// the calling thread. This is the cpuset a container or `taskset` grants,
// which can be far smaller than std::thread::hardware_concurrency() (which
// counts every online CPU of the host). Call it from a thread that has not
// been pinned (e.g. main at startup): a pinned thread sees only its own core,
// and threads it creates inherit that. Never empty on success.
// Errors: Internal if sched_getaffinity fails. Any thread; allocates; not for
// the hot path.
[[nodiscard]] absl::StatusOr<std::vector<int>> AllowedCpus();

// Pins the calling thread to exactly `cpu` (sched_setaffinity(2) on the
// thread). On success the thread runs only on `cpu` from then on.
// Errors: InvalidArgument if cpu < 0, or if the kernel refuses it because it
// is outside the process's cpuset or offline (EINVAL); other errno values
// mapped to their canonical code. Off the hot path: call once when the
// thread starts.
[[nodiscard]] absl::Status PinCurrentThread(int cpu);

// The CPU the calling thread is running on right now (sched_getcpu(3)), or -1
// if unknown. For tests and diagnostics.
int CurrentCpu();

}  // namespace xc::engine::node
