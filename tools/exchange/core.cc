#include "core.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "xc/protocol/check.h"

namespace xc::exchange {
namespace {

using order_service::Amount;

absl::StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError("open /dev/urandom failed");
  size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::read(fd, raw.data() + got, bytes - got);
    if (n <= 0) {
      ::close(fd);
      return absl::InternalError("read /dev/urandom failed");
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace

Core::Core(const order_service::SymbolTable* symbols, CoreOptions options,
           const gateway::WallClock* clock)
    : symbols_(symbols),
      options_(std::move(options)),
      clock_(clock),
      posted_(options_.partitions, 0),
      scratch_(options_.partitions) {
  XC_CHECK(options_.market != nullptr);
}

Core::~Core() { Stop(); }

namespace {

std::string PartitionLogName(uint32_t p) { return absl::StrCat("partition-", p, ".log"); }

// How many partitions wrote the logs in `dir` (one past the highest
// partition-<p>.log; Recover creates them all), 0 if none.
uint32_t PartitionLogsIn(const std::string& dir) {
  uint32_t count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    constexpr std::string_view kPrefix = "partition-", kSuffix = ".log";
    if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) continue;
    const char* first = name.data() + kPrefix.size();
    const char* last = name.data() + name.size() - kSuffix.size();
    uint32_t p = 0;
    if (first < last && std::from_chars(first, last, p).ptr == last && PartitionLogName(p) == name) {
      count = std::max(count, p + 1);
    }
  }
  return count;
}

}  // namespace

absl::Status Core::Recover(std::string* report) {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", options_.dir, ": ", ec.message()));
  const uint32_t n = options_.partitions;
  // Users map to partitions by a hash of (user, count): logs written under
  // another count would replay users into partitions that do not own them,
  // which drop them (and their balances) as not theirs.
  if (const uint32_t found = PartitionLogsIn(options_.dir); found != 0 && found != n) {
    return absl::FailedPreconditionError(absl::StrCat(
        options_.dir, " holds the logs of ", found, " order-service partitions, not ", n,
        ": users are placed by the partition count, so it cannot change on existing data "
        "(set partitions = ",
        found, ")"));
  }
  std::vector<order_service::PartitionWorker*> raw;
  uint64_t records = 0;
  protocol::UserId max_user = 0;
  for (order_service::PartitionId p = 0; p < n; ++p) {
    const std::string path =
        (std::filesystem::path(options_.dir) / PartitionLogName(p)).string();
    auto opened = order_service::PartitionLog::Open(path, {options_.sync});
    if (!opened.ok()) return opened.status();
    logs_.push_back(std::move(opened->log));
    workers_.push_back(std::make_unique<order_service::PartitionWorker>(
        p, n, symbols_, this, this, logs_.back().get(),
        [this](const absl::Status& s) {
          std::fprintf(stderr, "exchange: partition log failed: %s\n", s.ToString().c_str());
          if (options_.on_fatal) options_.on_fatal();
        }));
    order_service::Partition& part = workers_.back()->partition();
    for (size_t i = 0; i < opened->records.size(); ++i) {
      if (absl::Status s = part.Replay(opened->records[i]); !s.ok()) {
        return absl::DataLossError(
            absl::StrCat(path, ": record ", i, " does not replay: ", s.message()));
      }
    }
    // Replay re-derives the commands the partition sent; the engine has its
    // own journal of them (FinishRecovery finds the ones it lacks).
    workers_.back()->DiscardUnsent();
    records += opened->records.size();
    if (opened->cut_bytes != 0) {
      absl::StrAppend(report, "partition ", p, ": cut a torn tail of ", opened->cut_bytes,
                      " bytes\n");
    }
    for (protocol::UserId u : part.Users()) max_user = std::max(max_user, u);
    raw.push_back(workers_.back().get());
  }
  next_user_.store(max_user + 1);
  api_ = std::make_unique<order_service::ThreadedOrderService>(symbols_, std::move(raw),
                                                               options_.timeout);
  absl::StrAppend(report, "order service: ", n, " partitions, ", records,
                  " log records replayed, engine seq applied ", PartitionsEngineSeq(), "\n");
  return absl::OkStatus();
}

protocol::Seq Core::PartitionsEngineSeq() const {
  protocol::Seq w = UINT64_MAX;
  for (const auto& wk : workers_) {
    w = std::min(w, wk->partition().stream_seq(kStream));
  }
  return workers_.empty() ? 0 : w;
}

namespace {

// Calls add(partition) for each partition that owns a side of `e`; market
// data (LevelChanged) concerns none.
template <typename F>
void ForOwners(const protocol::Event& e, uint32_t partitions, F add) {
  if (e.type == protocol::EventType::kLevelChanged) return;
  const order_service::PartitionId a = order_service::PartitionOfOrder(e.order_id);
  if (a < partitions) add(a);
  if (e.type == protocol::EventType::kTrade) {
    const order_service::PartitionId m = order_service::PartitionOfOrder(e.maker_id);
    if (m != a && m < partitions) add(m);
  }
}

}  // namespace

void Core::DeliverRecovered(protocol::Seq seq, const protocol::Event* events, size_t n) {
  for (auto& v : scratch_) v.clear();
  for (size_t i = 0; i < n; ++i) {
    ForOwners(events[i], options_.partitions,
              [&](order_service::PartitionId p) { scratch_[p].push_back(events[i]); });
  }
  for (order_service::PartitionId p = 0; p < options_.partitions; ++p) {
    if (!scratch_[p].empty()) {
      workers_[p]->partition().OnEngineEvents(kStream, seq, scratch_[p].data(), scratch_[p].size());
    }
  }
}

absl::StatusOr<size_t> Core::FinishRecovery(protocol::Seq engine_seq, const engine::Shard& shard) {
  for (order_service::PartitionId p = 0; p < options_.partitions; ++p) {
    order_service::Partition& part = workers_[p]->partition();
    if (part.stream_seq(kStream) > engine_seq) {
      return absl::DataLossError(absl::StrCat(
          "partition ", p, " has applied engine events up to seq ", part.stream_seq(kStream),
          " but the engine journal ends at seq ", engine_seq,
          ": the engine lost journaled commands (journal_policy none and a machine crash?)"));
    }
    part.OnEngineEvents(kStream, engine_seq, nullptr, 0);
    if (absl::Status s = logs_[p]->Sync(); !s.ok()) return s;
    posted_[p] = engine_seq;
    workers_[p]->MarkRecovered();
    for (const protocol::Command& c : part.UnconfirmedCommands()) resend_.push_back(c);
  }
  std::vector<engine::LevelView> levels;
  for (const auto& spec : symbols_->symbols()) {
    const engine::OrderBook* b = shard.book(spec.id);
    if (b == nullptr || !options_.on_book_reset) continue;
    levels.resize(b->resting_orders() + 1);
    std::vector<std::pair<protocol::Price, protocol::Qty>> sides[2];
    for (protocol::Side side : {protocol::Side::kBuy, protocol::Side::kSell}) {
      const size_t k = b->Depth(side, levels.data(), levels.size());
      auto& out = sides[side == protocol::Side::kBuy ? 0 : 1];
      for (size_t i = 0; i < k; ++i) out.emplace_back(levels[i].price, levels[i].total);
    }
    options_.on_book_reset(spec.id, std::move(sides[0]), std::move(sides[1]), engine_seq,
                           b->last_trade_price());
  }
  through_ = engine_seq;
  return resend_.size();
}

protocol::Seq Core::DurableEngineSeq() const {
  protocol::Seq w = UINT64_MAX;
  for (const auto& wk : workers_) w = std::min(w, wk->durable_engine_seq());
  return workers_.empty() ? 0 : w;
}

void Core::Start(engine::node::ShardRunner* runner) {
  runner_ = runner;
  // A poll may keep an incomplete group back for the next: room for two.
  // Reserved here, before any thread can pump: pump_buf_ belongs to whoever
  // holds the pump role, and a thread that submits an order may take it
  // (Flush) before the pump thread's first instruction.
  pump_buf_.reserve(2 * kMaxPoll);
  for (const protocol::Command& c : resend_) Send(c);
  for (auto& w : workers_) {
    w->SetUserEventSink(options_.user_events);
    w->Start();
  }
  pump_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "xc-pump");
    PumpLoop();
  });
  started_ = true;
}

void Core::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_pump_.store(true, std::memory_order_release);
  events_bell_.Wake();
  if (pump_.joinable()) pump_.join();
  // The pump has delivered everything; tell every partition how far that
  // is, so that the next start replays nothing (and the shutdown snapshot's
  // retention may cut the journal before it).
  for (order_service::PartitionId p = 0; p < options_.partitions && started_; ++p) {
    if (posted_[p] < through_) workers_[p]->RunEvents(kStream, through_, nullptr, 0);
  }
  for (auto& w : workers_) w->Stop();
}

namespace {
// Set on the thread inside Dispatch: answers made ready there are held, and
// it must not wait for itself.
thread_local bool tl_dispatching = false;
}  // namespace

void Core::AwaitDeliveries() {
  if (tl_dispatching) return;
  const uint64_t s = dispatch_seq_.load(std::memory_order_seq_cst);
  if ((s & 1) == 0) return;
  // The events our check found were applied by this Dispatch (or an earlier
  // one): once it ends, every partition owning a side of them has them.
  dispatch_waiters_.fetch_add(1, std::memory_order_seq_cst);
  while (dispatch_seq_.load(std::memory_order_seq_cst) == s) dispatch_seq_.wait(s);
  dispatch_waiters_.fetch_sub(1, std::memory_order_relaxed);
}

void Core::Dispatch(const protocol::Event* ev, size_t n, protocol::Seq through) {
  // Odd from here to the last partition (AwaitDeliveries). seq_cst pairs
  // with the waiter's count: either we see it and wake it, or it sees the
  // end and does not sleep.
  dispatch_seq_.fetch_add(1, std::memory_order_seq_cst);
  tl_dispatching = true;
  through_ = through;
  // A partition with no event in this round still hears of the seq now and
  // then, so that its journaled watermark never lags far behind the engine
  // (a restart replays the engine from a snapshot at or before it).
  constexpr protocol::Seq kMarkerLag = 1024;
  for (auto& v : scratch_) v.clear();
  for (size_t i = 0; i < n; ++i) {
    ForOwners(ev[i], options_.partitions,
              [&](order_service::PartitionId p) { scratch_[p].push_back(ev[i]); });
  }
  for (order_service::PartitionId p = 0; p < options_.partitions; ++p) {
    if (scratch_[p].empty() && through - posted_[p] < kMarkerLag) continue;
    // Settled here, on the pump's thread (PartitionWorker::Run): the answers
    // these events complete leave from here too, once every partition has
    // applied them: a taker told FILLED who then asks for the maker's order
    // (another user, maybe another partition) finds it filled.
    workers_[p]->RunEvents(kStream, through, scratch_[p].data(), scratch_[p].size(),
                           &held_answers_);
    posted_[p] = through;
  }
  tl_dispatching = false;
  dispatch_seq_.fetch_add(1, std::memory_order_seq_cst);
  if (dispatch_waiters_.load(std::memory_order_seq_cst) != 0) dispatch_seq_.notify_all();
  for (auto& answer : held_answers_) std::move(answer)();
  held_answers_.clear();
}

size_t Core::PumpOnce() {
  std::vector<protocol::Event>& buf = pump_buf_;
  const size_t got =
      runner_->PollEvents([&](const protocol::Event& e) { buf.push_back(e); }, kMaxPoll);
  if (buf.empty()) return got;
  // The runner publishes each command's events in one piece, so when the
  // poll drained the ring every group in buf is whole. A full poll may have
  // stopped inside a group: keep the last seq's events for the next round.
  size_t complete = buf.size();
  if (got == kMaxPoll) {
    const protocol::Seq last = buf.back().seq;
    while (complete > 0 && buf[complete - 1].seq == last) --complete;
  }
  if (complete > 0) {
    if (options_.on_market_events) {
      // One call per command, so market data takes each command's changes in
      // one step; no allocation, the groups are views of buf.
      const std::span<const protocol::Event> ready(buf.data(), complete);
      size_t i = 0;
      while (i < complete) {
        size_t j = i + 1;
        while (j < complete && buf[j].seq == buf[i].seq) ++j;
        options_.on_market_events(ready.subspan(i, j - i));
        i = j;
      }
    }
    Dispatch(buf.data(), complete, buf[complete - 1].seq);
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(complete));
  }
  return got;
}

void Core::PumpLoop() {
  int idle = 0;
  for (;;) {
    // Read before polling: once set, the runner has stopped and published
    // everything, so an empty poll afterwards means nothing is left.
    const bool stop = stop_pump_.load(std::memory_order_acquire);
    size_t got = 0;
    // The role may be with a thread that drove the engine itself (Flush).
    if (pump_role_.TryAcquire()) {
      got = PumpOnce();
      // Done: keep the role, so no Flush pumps after Stop (which then reads
      // the pump's state).
      if (got == 0 && stop && pump_buf_.empty()) return;
      pump_role_.Release();
    }
    if (got != 0) {
      idle = 0;
      continue;
    }
    // A short spin, then sleep: sched_yield is a costly context switch on a
    // VM with few cores (perf: most of the exchange's time at 5k orders/s
    // went to yields), and the doorbell makes waking cheap.
    if (++idle < 16) {
      engine::node::IdleStrategy::CpuRelax();
    } else if (runner_->options().events_bell == &events_bell_) {
      // The runner rings after it publishes, a thread that pumped rings if
      // it left events; Stop wakes us.
      events_bell_.Sleep([this] {
        return stop_pump_.load(std::memory_order_acquire) ||
               (runner_->HasEvents() && !pump_role_.held());
      });
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

void Core::Flush() {
  if (!options_.run_to_completion || runner_ == nullptr) return;
  // The command this thread just submitted (quietly) is applied here, its
  // events settled and answered here: no thread hand-off for the order when
  // nobody else is busy with the engine or the events.
  runner_->Drive();
  if (!pump_role_.TryAcquire()) return;  // the holder sees our events when it lets go
  // Bounded, as Drive: a steady stream is the pump thread's.
  for (int rounds = 0; rounds < 64 && PumpOnce() != 0;) ++rounds;
  pump_role_.Release();
  if (runner_->HasEvents()) events_bell_.Ring();
}

bool Core::SubmitOrDrop(const protocol::Command& cmd, bool quiet) {
  if (quiet ? runner_->SubmitQuiet(cmd) : runner_->Submit(cmd)) return true;
  // Stopped (shutdown, or its journal failed): the command is dropped. A new
  // order stays unconfirmed and is sent again by the next start; a cancel
  // was not answered, so its client knows nothing happened.
  return runner_->stopped() || !runner_->running();
}

bool Core::TrySend(const protocol::Command& cmd) {
  std::lock_guard<std::mutex> lock(send_mu_);
  // Run to completion: this thread applies it itself in Flush, which follows.
  return SubmitOrDrop(cmd, /*quiet=*/options_.run_to_completion);
}

void Core::Send(const protocol::Command& cmd) {
  std::lock_guard<std::mutex> lock(send_mu_);
  // A full input ring means the engine is behind: waiting here is the
  // backpressure (the partition's next batch waits with it).
  while (!SubmitOrDrop(cmd, /*quiet=*/false)) std::this_thread::yield();
}

order_service::MarketQuote Core::Quote(protocol::SymbolId symbol) const {
  order_service::MarketQuote q;
  if (symbol >= symbols_->size()) return q;
  const gateway::MarketData::TopTicks t = options_.market->GetTopTicks(symbol);
  q.best_bid = t.bid;
  q.best_ask = t.ask;
  q.last = t.last;
  return q;
}

absl::StatusOr<Core::NewUser> Core::CreateUser() {
  auto key = RandomHex(32);
  if (!key.ok()) return key.status();
  auto secret = RandomHex(32);
  if (!secret.ok()) return secret.status();
  const protocol::UserId id = next_user_.fetch_add(1);
  auto s = api_->WorkerFor(id).Call(
      [id, k = *key, sec = *secret](order_service::Partition& p) mutable -> absl::Status {
        if (absl::Status st = p.CreateUser(id); !st.ok()) return st;
        return p.AddApiKey(id, std::move(k), std::move(sec));
      },
      options_.timeout);
  if (!s) return absl::UnavailableError("order service timeout");
  if (!s->ok()) return *s;
  return NewUser{id, *std::move(key), *std::move(secret)};
}

absl::StatusOr<order_service::BalanceInfo> Core::ChangeBalance(protocol::UserId user,
                                                               std::string_view asset,
                                                               Amount delta) {
  const auto asset_id = symbols_->FindAsset(asset);
  if (!asset_id) return absl::NotFoundError("asset");
  if (delta == 0) return absl::InvalidArgumentError("amount");
  const protocol::Timestamp now = clock_->NowNanos();
  auto r = api_->WorkerFor(user).Call(
      [user, a = std::string(asset), delta, now, idx = *asset_id](
          order_service::Partition& p) -> absl::StatusOr<order_service::BalanceInfo> {
        if (!p.HasUser(user)) return absl::NotFoundError("userId");
        absl::Status s =
            delta > 0 ? p.Credit(user, a, delta, now) : p.Withdraw(user, a, -delta, now);
        if (!s.ok()) return s;
        auto account = p.Account(user);
        if (!account.ok()) return absl::InternalError("account lookup failed");
        return account.value().balances[idx];
      },
      options_.timeout);
  if (!r) return absl::UnavailableError("order service timeout");
  return *std::move(r);
}

}  // namespace xc::exchange
