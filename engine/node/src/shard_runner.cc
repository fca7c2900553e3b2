#include "xc/engine/node/shard_runner.h"

#include <algorithm>
#include <pthread.h>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "xc/engine/node/cpu_affinity.h"
#include "xc/protocol/check.h"

namespace xc::engine::node {

ShardRunner::ShardRunner(const Options& options)
    : options_(options),
      input_(options.input_capacity),
      output_(options.output_capacity),
      events_(options.event_buffer_capacity) {
  XC_CHECK(options.batch >= 1);
  if (options.journal != nullptr) {
    XC_CHECK(options.held_capacity >= 1);
    held_.reserve(options.held_capacity);
  }
}

ShardRunner::~ShardRunner() { Stop(); }

absl::Status ShardRunner::Start() {
  if (running()) return absl::FailedPreconditionError("shard runner already running");
  if (options_.cpu != -1) {
    absl::StatusOr<std::vector<int>> allowed = AllowedCpus();
    if (!allowed.ok()) return allowed.status();
    if (!std::binary_search(allowed->begin(), allowed->end(), options_.cpu)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cpu ", options_.cpu, " is not one of this process's allowed cpus"));
    }
  }
  stop_requested_.store(false, std::memory_order_relaxed);
  agent_.Reset();
  std::promise<absl::Status> started;
  std::future<absl::Status> result = started.get_future();
  thread_ = std::thread([this, &started] {
    pthread_setname_np(pthread_self(), "xc-engine");
    Run(&started);
  });
  absl::Status status = result.get();
  if (!status.ok()) {
    thread_.join();
    return status;
  }
  running_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

void ShardRunner::Stop() {
  if (!thread_.joinable()) return;
  stop_requested_.store(true, std::memory_order_release);
  bell_.Wake();  // it may be asleep on the doorbell
  thread_.join();
  running_.store(false, std::memory_order_release);
}

void ShardRunner::Run(std::promise<absl::Status>* started) {
  if (options_.cpu != -1) {
    absl::Status pinned = PinCurrentThread(options_.cpu);
    if (!pinned.ok()) {
      started->set_value(std::move(pinned));
      return;
    }
  }
  cpu_.store(CurrentCpu(), std::memory_order_release);
  // After this, `started` (on Start's stack) must not be touched.
  started->set_value(absl::OkStatus());

  IdleStrategy idle(options_.wait, &bell_);
  for (;;) {
    // The agent role may be with a producer (Drive); then this cycle is idle.
    if (!agent_.TryAcquire()) {
      idle.Idle(0, [this] { return SharedHasWork(); });
      continue;
    }
    const int work = DoWork();
    bool done = false;
    if (work == 0 && stop_requested_.load(std::memory_order_acquire)) {
      // Stop drains: leave only once every command submitted before Stop()
      // is applied and its events are out. The acquire above pairs with
      // Stop's release store, which follows the producer's last Submit.
      done = input_.empty_approx() && !HasPending() && JournalDrained();
    }
    // Done: keep the role, so no producer's Drive runs after Stop returns.
    if (done) break;
    agent_.Release();
    idle.Idle(work, [this] { return SharedHasWork(); });
  }
}

bool ShardRunner::SharedHasWork() {
  if (stop_requested_.load(std::memory_order_acquire)) return true;
  // HasWork reads the agent's state: only with the role. A producer holding
  // it rings this thread if it leaves work (Drive).
  if (!agent_.TryAcquire()) return false;
  const bool work = HasWork();
  agent_.Release();
  return work;
}

int ShardRunner::Drive() {
  // The caller's command is in the ring before its attempt, and a holder
  // looks at the ring after it lets the role go (Role), so one of the two
  // sees it.
  if (stop_requested_.load(std::memory_order_acquire) || !agent_.TryAcquire()) {
    if (stop_requested_.load(std::memory_order_acquire)) bell_.Ring();
    return 0;
  }
  int total = 0;
  // Bounded: a steady stream of other producers' commands is the runner
  // thread's to apply, not this caller's (it has a client to answer).
  for (int rounds = 0; rounds < 64; ++rounds) {
    const int w = DoWorkRinging(/*ring_events=*/false);
    if (w == 0) break;
    total += w;
  }
  const bool left = HasWork();
  agent_.Release();
  if (left || !input_.empty_approx()) bell_.Ring();
  return total;
}

bool ShardRunner::HasWork() {
  if (stop_requested_.load(std::memory_order_acquire)) return true;
  if (options_.snapshot_writer != nullptr &&
      snapshot_requested_.load(std::memory_order_relaxed)) {
    return true;
  }
  // Held events are work once releasable. The journal thread rings this
  // runner's doorbell when durable_seq advances (NotifyOnDurable); without
  // that, do not sleep while holding any.
  if (options_.journal != nullptr && held_events() != 0) {
    if (!options_.durable_rings_doorbell) return true;
    if (options_.journal->failed() ||
        held_[held_begin_].seq <= options_.journal->durable_seq()) {
      return true;
    }
  }
  if (HasPending()) {
    const size_t need = std::min(events_.size() - published_, output_.capacity());
    return output_.free_approx() >= need;
  }
  return !input_.empty_approx();
}

bool ShardRunner::PublishPending() {
  size_t left = events_.size() - published_;
  if (left == 0) return true;
  const protocol::Event* first = events_.begin() + published_;
  if (__builtin_expect(left <= output_.capacity(), 1)) {
    if (!output_.TryPushN(first, left)) {
      // Before the runner's sleep check (Doorbell::Sleep), so the consumer's
      // AfterPoll rings once it makes room.
      output_blocked_.store(1, std::memory_order_seq_cst);
      return false;
    }
    if (__builtin_expect(output_blocked_.load(std::memory_order_relaxed) != 0, 0)) {
      output_blocked_.store(0, std::memory_order_relaxed);
    }
  } else {
    // Cannot be atomic: the group is bigger than the ring. Publish the part
    // that fits now, in order; the consumer sees the group in pieces.
    if (!group_oversized_) {
      group_oversized_ = true;
      Add(oversized_groups_, 1);
    }
    const size_t room = output_.free_approx();
    if (room == 0) {
      output_blocked_.store(1, std::memory_order_seq_cst);
      return false;
    }
    left = std::min(left, room);
    XC_CHECK(output_.TryPushN(first, left));
    published_ += left;
    Add(events_published_, left);
    return !HasPending();
  }
  published_ += left;
  Add(events_published_, left);
  return true;
}

int ShardRunner::DoWork() { return DoWorkRinging(/*ring_events=*/true); }

int ShardRunner::DoWorkRinging(bool ring_events) {
  if (options_.journal_bell == nullptr && options_.events_bell == nullptr) return DoCycle();
  const uint64_t published = Load(events_published_);
  const uint64_t seq = shard_.last_seq();
  const int work = DoCycle();
  if (ring_events && options_.events_bell != nullptr && Load(events_published_) != published) {
    options_.events_bell->Ring();
  }
  if (options_.journal_bell != nullptr && options_.journal != nullptr &&
      shard_.last_seq() != seq) {
    options_.journal_bell->Ring();
  }
  return work;
}

int ShardRunner::DoCycle() {
  if (options_.snapshot_writer != nullptr) MaybeSnapshot();
  if (options_.journal != nullptr) return DoWorkJournaled();
  int work = 0;
  if (HasPending()) {
    if (!PublishPending()) {
      Add(backpressure_cycles_, 1);
      Add(idle_cycles_, 1);
      return 0;
    }
    work = 1;
  }

  size_t applied = 0;
  bool blocked = false;
  while (applied < options_.batch && !blocked) {
    // Zero-copy: Apply reads the command in its ring slot; the slot is freed
    // only after the command is applied (Consume below).
    const std::span<const protocol::Command> cmds = input_.Peek(options_.batch - applied);
    if (cmds.empty()) break;
    size_t used = 0;
    for (const protocol::Command& cmd : cmds) {
      // Overlap the next command's id-index load with this one (a cache miss
      // on a large book).
      if (used + 1 < cmds.size()) shard_.Prefetch(cmds[used + 1]);
      events_.clear();
      published_ = 0;
      group_oversized_ = false;
      shard_.Apply(cmd, events_);
      ++used;
      if (!PublishPending()) {
        blocked = true;
        break;
      }
    }
    input_.Consume(used);
    applied += used;
  }

  if (applied != 0) {
    Add(commands_applied_, applied);
    last_seq_.store(shard_.last_seq(), std::memory_order_relaxed);
  }
  if (blocked) Add(backpressure_cycles_, 1);
  work += static_cast<int>(applied);
  Add(work != 0 ? busy_cycles_ : idle_cycles_, 1);
  return work;
}

ShardRunnerCounters ShardRunner::counters() const {
  ShardRunnerCounters c;
  c.commands_applied = Load(commands_applied_);
  c.events_published = Load(events_published_);
  c.busy_cycles = Load(busy_cycles_);
  c.idle_cycles = Load(idle_cycles_);
  c.backpressure_cycles = Load(backpressure_cycles_);
  c.oversized_groups = Load(oversized_groups_);
  c.sleeps = bell_.sleeps();
  c.sleeping = bell_.sleeping();
  c.last_seq = Load(last_seq_);
  c.input_depth = input_.size_approx();
  c.snapshots_taken = Load(snapshots_taken_);
  c.snapshots_deferred = Load(snapshots_deferred_);
  c.snapshot_last_seq = Load(snapshot_last_seq_);
  c.snapshot_last_pause_ns = Load(snapshot_last_pause_ns_);
  c.snapshot_max_pause_ns = Load(snapshot_max_pause_ns_);
  return c;
}

}  // namespace xc::engine::node
