// ShardRunner's journaled duty cycle (ShardRunnerOptions::journal): apply,
// hand the command to the journal, hold its events until durable.

#include <algorithm>

#include "xc/engine/node/shard_runner.h"
#include "xc/protocol/check.h"

namespace xc::engine::node {

using protocol::Event;

bool ShardRunner::JournalDrained() const {
  if (options_.journal == nullptr) return true;
  // After a failure the held events can never be released: nothing to wait for.
  return held_events() == 0 || options_.journal->failed();
}

bool ShardRunner::HoldPending() {
  size_t left = events_.size() - published_;
  if (left == 0) return true;
  const size_t cap = held_.capacity();
  if (held_.size() + left > cap && held_begin_ != 0) {
    // Compact: the released prefix is dead. A memmove, no allocation.
    held_.erase(held_.begin(), held_.begin() + static_cast<ptrdiff_t>(held_begin_));
    held_begin_ = 0;
  }
  const size_t room = cap - held_.size();
  if (room == 0) return false;
  // A group larger than the whole queue goes in pieces (as an oversized group
  // does in the output ring); normally it fits at once.
  left = std::min(left, room);
  held_.insert(held_.end(), events_.begin() + published_, events_.begin() + published_ + left);
  published_ += left;
  return !HasPending();
}

size_t ShardRunner::ReleaseDurable(protocol::Seq durable) {
  const size_t avail = held_.size() - held_begin_;
  if (avail == 0) return 0;
  const Event* first = held_.data() + held_begin_;
  size_t n = 0;
  while (n < avail && first[n].seq <= durable) ++n;
  if (n == 0) return 0;
  const size_t free = output_.free_approx();
  if (n > free) {
    // Publish whole commands only (one command's events appear together),
    // unless a single group is bigger than the ring: then in pieces.
    size_t m = free;
    while (m > 0 && first[m].seq == first[m - 1].seq) --m;
    if (m == 0) {
      size_t group = 1;
      while (group < n && first[group].seq == first[0].seq) ++group;
      if (group <= output_.capacity() || free == 0) return 0;  // wait for room
      m = free;
      Add(oversized_groups_, 1);
    }
    n = m;
  }
  XC_CHECK(output_.TryPushN(first, n));
  held_begin_ += n;
  if (held_begin_ == held_.size()) {
    held_.clear();
    held_begin_ = 0;
  }
  Add(events_published_, n);
  return n;
}

size_t ShardRunner::RejectInput() {
  size_t n = 0;
  for (;;) {
    const std::span<const protocol::Command> cmds = input_.Peek(options_.batch);
    if (cmds.empty()) break;
    size_t used = 0;
    for (const protocol::Command& cmd : cmds) {
      Event e;
      e.type = protocol::EventType::kRejected;
      e.code = static_cast<int16_t>(protocol::RejectCode::kShardStopped);
      e.symbol = cmd.symbol;
      e.seq = 0;  // not applied, not journaled
      e.ts = cmd.ts;
      e.order_id = cmd.order_id;
      e.user = cmd.user;
      e.side = cmd.side;
      if (!output_.TryPush(e)) break;
      ++used;
    }
    input_.Consume(used);
    n += used;
    Add(events_published_, used);
    if (used < cmds.size()) break;
  }
  return n;
}

int ShardRunner::DoWorkJournaled() {
  JournalWriter& journal = *options_.journal;
  int work = 0;
  // "none" promises no durability: events go out once their command is in
  // the journal's queue (nothing is ever held).
  const bool hold = journal.options().policy.mode != DurabilityPolicy::Mode::kNone;
  if (ReleaseDurable(journal.durable_seq()) != 0) work = 1;
  if (HasPending() && !(hold ? HoldPending() : PublishPending())) {
    Add(backpressure_cycles_, 1);
    Add(work != 0 ? busy_cycles_ : idle_cycles_, 1);
    return work;
  }
  if (__builtin_expect(journal.failed(), 0)) {
    if (!stopped_.load(std::memory_order_relaxed)) {
      stopped_.store(true, std::memory_order_release);
      work = 1;
    }
    // Held events of durable commands went out above; answer the rest.
    work += static_cast<int>(RejectInput());
    Add(work != 0 ? busy_cycles_ : idle_cycles_, 1);
    return work;
  }

  size_t applied = 0;
  bool blocked = false;
  while (applied < options_.batch && !blocked) {
    // Apply only what the journal ring can take: a command is applied and
    // journaled together or not at all.
    const size_t room = journal.free_slots();
    if (room == 0) {
      blocked = true;
      break;
    }
    const std::span<const protocol::Command> cmds =
        input_.Peek(std::min(options_.batch - applied, room));
    if (cmds.empty()) break;
    size_t used = 0;
    for (const protocol::Command& cmd : cmds) {
      events_.clear();
      published_ = 0;
      group_oversized_ = false;
      shard_.Apply(cmd, events_);
      ++used;
      // Fails only if the journal failed meanwhile: the command is applied
      // but will never be durable, so its events stay held forever.
      if (!journal.TryAppend(shard_.last_seq(), cmd)) {
        blocked = true;
        break;
      }
      if (!(hold ? HoldPending() : PublishPending())) {
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
    // Under "none" or a fast sink the journal may already be there.
    ReleaseDurable(journal.durable_seq());
  }
  if (blocked) Add(backpressure_cycles_, 1);
  work += static_cast<int>(applied);
  Add(work != 0 ? busy_cycles_ : idle_cycles_, 1);
  return work;
}

}  // namespace xc::engine::node
