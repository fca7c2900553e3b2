#include "xc/order_service/threaded_order_service.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "partition_test_util.h"

namespace xc::order_service {
namespace {

using protocol::Command;
using protocol::CommandType;
using protocol::Event;
using protocol::EventType;
using protocol::Side;

constexpr Amount U = kUnitsPerWhole;

// A stand-in for the engine shard that confirms every command: a NewOrder is
// accepted and rests, a Cancel cancels it; the events come back from its own
// thread, as the exchange's event pump delivers them. It records, for each
// command, how many log records of the sending partition were durable when
// the command left (the write-ahead rule under test). `silent` drops
// commands instead (an engine that never answers); `full` refuses TrySend
// (an engine whose input ring is full).
// The engine's event of `type` for the order of `c`, at `seq`.
Event EventOf(const Command& c, uint64_t seq, EventType type) {
  Event e;
  e.seq = seq;
  e.symbol = c.symbol;
  e.order_id = c.order_id;
  e.user = c.user;
  e.side = c.side;
  e.price = c.price;
  e.qty = c.qty;
  e.type = type;
  return e;
}

class EchoEngine : public EngineLink {
 public:
  EchoEngine() : pump_([this] { Pump(); }) {}
  ~EchoEngine() override {
    {
      std::lock_guard<std::mutex> l(mu);
      stop_ = true;
    }
    cv_.notify_all();
    pump_.join();
  }
  void Send(const Command& c) override {
    std::lock_guard<std::mutex> l(mu);
    const PartitionId p = PartitionOfOrder(c.order_id);
    sent.push_back(c);
    durable_at_send.push_back(logs[p]->records_synced());
    if (silent.load()) return;
    Event e = EventOf(c, ++seq,
                      c.type == CommandType::kNewOrder ? EventType::kAccepted : EventType::kCancelled);
    if (e.type == EventType::kCancelled) e.qty = resting[c.order_id];
    resting[c.order_id] = c.qty;
    out_.emplace_back(p, e);
    cv_.notify_one();
  }
  bool TrySend(const Command& c) override {
    if (full.load()) {
      refused.fetch_add(1);
      return false;
    }
    Send(c);
    return true;
  }
  std::mutex mu;
  std::vector<PartitionWorker*> workers;
  std::vector<PartitionLog*> logs;
  std::vector<Command> sent;
  std::vector<uint64_t> durable_at_send;
  std::map<protocol::OrderId, protocol::Qty> resting;
  protocol::Seq seq = 0;
  std::atomic<bool> silent{false};
  std::atomic<bool> full{false};
  std::atomic<int> refused{0};

 private:
  void Pump() {
    std::unique_lock<std::mutex> l(mu);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !out_.empty(); });
      if (out_.empty()) return;
      auto [p, e] = out_.front();
      out_.pop_front();
      PartitionWorker* w = workers[p];
      l.unlock();
      w->RunEvents(0, e.seq, &e, 1);
      l.lock();
    }
  }
  std::condition_variable cv_;
  std::deque<std::pair<PartitionId, Event>> out_;
  bool stop_ = false;
  std::thread pump_;
};

// Param: fdatasync per batch (the worker's thread commits) or not (the
// calling thread commits).
class ThreadedOrderServiceTest : public ::testing::TestWithParam<bool> {
 protected:
  static constexpr uint32_t kParts = 2;
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(partition_test::BuildDefaultTable(&table_));
    char tmpl[] = "/tmp/xc-threaded-os-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Start();
  }
  void TearDown() override {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  // Opens the logs (replaying what they hold) and starts the workers.
  void Start() {
    engine_ = std::make_unique<EchoEngine>();
    std::vector<PartitionWorker*> raw;
    for (PartitionId p = 0; p < kParts; ++p) {
      auto opened = PartitionLog::Open(dir_ + "/p" + std::to_string(p) + ".log",
                                      PartitionLogOptions{GetParam()});
      ASSERT_TRUE(opened.ok()) << opened.status();
      logs_.push_back(std::move(opened->log));
      workers_.push_back(std::make_unique<PartitionWorker>(p, kParts, &table_, nullptr,
                                                           engine_.get(), logs_.back().get()));
      for (const std::string& r : opened->records) {
        ASSERT_TRUE(workers_.back()->partition().Replay(r).ok());
      }
      workers_.back()->DiscardUnsent();
      raw.push_back(workers_.back().get());
      engine_->workers.push_back(raw.back());
      engine_->logs.push_back(logs_.back().get());
    }
    for (auto& w : workers_) w->Start();
    svc_ = std::make_unique<ThreadedOrderService>(&table_, raw, std::chrono::milliseconds(500));
  }
  // Stops the workers, then the engine (its last events find them stopped).
  void Stop() {
    for (auto& w : workers_) w->Stop();
    engine_.reset();
  }
  void Restart() {
    Stop();
    svc_.reset();
    workers_.clear();
    logs_.clear();
    Start();
  }
  void NewUser(protocol::UserId u, Amount usdt) {
    auto s = svc_->WorkerFor(u).Call([u, usdt](Partition& p) {
      absl::Status st = p.CreateUser(u);
      if (st.ok()) st = p.AddApiKey(u, "key" + std::to_string(u), "secret");
      if (st.ok()) st = p.Credit(u, "USDT", usdt, 1);
      return st;
    });
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE(s->ok()) << *s;
  }
  PlaceOrderRequest Buy(protocol::UserId u, std::string qty, std::string price) {
    PlaceOrderRequest r = partition_test::Limit(u, Side::kBuy, std::move(qty), std::move(price));
    r.now = 1000;
    return r;
  }
  uint64_t Hash(PartitionId p) {
    return *workers_[p]->Call([](Partition& x) { return x.StateHash(); });
  }

  SymbolTable table_;
  std::string dir_;
  std::unique_ptr<EchoEngine> engine_;
  std::vector<std::unique_ptr<PartitionLog>> logs_;
  std::vector<std::unique_ptr<PartitionWorker>> workers_;
  std::unique_ptr<ThreadedOrderService> svc_;
};

TEST_P(ThreadedOrderServiceTest, AnswersWaitForTheEngineAndCommandsLeaveAfterTheLog) {
  NewUser(1, 1000 * U);
  auto placed = svc_->PlaceOrder(Buy(1, "0.01", "40000"));
  ASSERT_TRUE(placed.ok()) << placed.error().msg();
  EXPECT_EQ(placed.value().status, OrderStatus::kNew);
  EXPECT_TRUE(placed.value().is_working);  // the engine accepted it before the answer
  ASSERT_EQ(engine_->sent.size(), 1u);
  // User, key, credit and the order were durable before the command left.
  EXPECT_GE(engine_->durable_at_send[0], 4u);
  auto acct = svc_->Account(1);
  ASSERT_TRUE(acct.ok());
  EXPECT_EQ(acct.value().balances[*table_.FindAsset("USDT")].locked, 400 * U);

  auto cancelled = svc_->CancelOrder(OrderRef{1, "BTCUSDT", placed.value().order_id, "", 2000});
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().msg();
  EXPECT_EQ(cancelled.value().status, OrderStatus::kCanceled);
  acct = svc_->Account(1);
  EXPECT_EQ(acct.value().balances[*table_.FindAsset("USDT")].locked, 0);
  // Errors come back at once and change nothing.
  auto bad = svc_->PlaceOrder(Buy(1, "0.01", "40000.001"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), -1013);
  EXPECT_EQ(svc_->CancelOrder(OrderRef{1, "BTCUSDT", placed.value().order_id, "", 3000})
                .error()
                .code(),
            -2011);
  EXPECT_EQ(svc_->TestOrder(Buy(1, "1", "40000")), errors::InsufficientBalance());
  EXPECT_EQ(svc_->TestOrder(Buy(1, "0.01", "40000")), std::nullopt);
}

TEST_P(ThreadedOrderServiceTest, CancelReplaceCancelsFirstAndReusesTheFunds) {
  NewUser(1, 1000 * U);
  auto placed = svc_->PlaceOrder(Buy(1, "0.025", "40000"));  // locks all 1000 USDT
  ASSERT_TRUE(placed.ok());
  CancelReplaceRequest r;
  r.cancel = OrderRef{1, "BTCUSDT", placed.value().order_id, "", 2000};
  r.order = Buy(1, "0.025", "39000");
  auto moved = svc_->CancelReplace(r);
  ASSERT_TRUE(moved.ok()) << moved.error().msg();
  EXPECT_FALSE(moved.value().placed_error.has_value());
  EXPECT_EQ(moved.value().cancelled.status, OrderStatus::kCanceled);
  EXPECT_EQ(moved.value().placed.status, OrderStatus::kNew);
  const AssetId usdt = *table_.FindAsset("USDT");
  EXPECT_EQ(svc_->Account(1).value().balances[usdt].locked, 975 * U);

  // The cancel goes through, the new order is refused: Binance's -2021 case.
  r.cancel.order_id = moved.value().placed.order_id;
  r.order = Buy(1, "0.025", "39000.001");
  auto half = svc_->CancelReplace(r);
  ASSERT_TRUE(half.ok());
  ASSERT_TRUE(half.value().placed_error.has_value());
  EXPECT_EQ(half.value().placed_error->code(), -1013);
  EXPECT_EQ(half.value().cancelled.status, OrderStatus::kCanceled);
  EXPECT_EQ(svc_->Account(1).value().balances[usdt].locked, 0);
  // Nothing open to cancel: nothing happens at all.
  auto none = svc_->CancelReplace(r);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), -2011);
  EXPECT_TRUE(svc_->OpenOrders(1, "").value().empty());
}

TEST_P(ThreadedOrderServiceTest, SilentEngineTimesOutAndRestartFindsTheUnconfirmedOrder) {
  NewUser(1, 1000 * U);
  NewUser(2, 1000 * U);
  ASSERT_TRUE(svc_->PlaceOrder(Buy(2, "0.01", "40000")).ok());
  engine_->silent = true;
  auto r = svc_->PlaceOrder(Buy(1, "0.01", "39000"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), -1007);
  // Queries still answer meanwhile.
  auto open = svc_->OpenOrders(1, "BTCUSDT");
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open.value().size(), 1u);
  EXPECT_FALSE(open.value()[0].is_working);
  const uint64_t h0 = Hash(0), h1 = Hash(1);

  // A restart replays the logs into the same state, and the order the engine
  // never confirmed is the one to send again.
  Restart();
  EXPECT_EQ(Hash(0), h0);
  EXPECT_EQ(Hash(1), h1);
  std::vector<Command> again;
  for (auto& w : workers_) {
    auto c = w->Call([](Partition& p) { return p.UnconfirmedCommands(); });
    again.insert(again.end(), c->begin(), c->end());
  }
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].user, 1u);
  EXPECT_EQ(again[0].price, 3900000);
  // The users, keys and balances are back.
  EXPECT_TRUE(svc_->LookupApiKey("key2").has_value());
  EXPECT_EQ(svc_->Account(2).value().balances[*table_.FindAsset("USDT")].locked, 400 * U);
}

TEST_P(ThreadedOrderServiceTest, AFullEngineGetsTheCommandsLaterInOrder) {
  NewUser(1, 1000 * U);
  engine_->full = true;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ApiResult<OrderInfo>> answers;
  const std::vector<std::string> prices = {"40000", "39000", "38000"};
  for (const std::string& px : prices) {
    svc_->PlaceOrderAsync(Buy(1, "0.001", px), [&](ApiResult<OrderInfo> r) {
      std::lock_guard<std::mutex> l(mu);
      answers.push_back(std::move(r));
      cv.notify_all();
    });
  }
  // Nothing reaches the engine, nobody is answered, nobody is blocked.
  while (engine_->refused.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    std::lock_guard<std::mutex> l(engine_->mu);
    EXPECT_TRUE(engine_->sent.empty());
  }
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_TRUE(answers.empty());
  }
  // The queue depth shows them: tasks not yet forwarded.
  EXPECT_GE(workers_[PartitionOfUser(1, kParts)]->queue_depth(), 1u);
  engine_->full = false;  // the worker's thread retries
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(5), [&] { return answers.size() == 3; }));
  }
  {
    std::lock_guard<std::mutex> l(engine_->mu);
    ASSERT_EQ(engine_->sent.size(), 3u);
    EXPECT_EQ(engine_->sent[0].price, 4000000);
    EXPECT_EQ(engine_->sent[1].price, 3900000);
    EXPECT_EQ(engine_->sent[2].price, 3800000);
  }
  for (const auto& a : answers) EXPECT_TRUE(a.ok());
  // The confirmations themselves may still wait for their commit.
  const PartitionWorker& w = *workers_[PartitionOfUser(1, kParts)];
  for (int i = 0; i < 5000 && w.queue_depth() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(w.queue_depth(), 0u);
}

TEST_P(ThreadedOrderServiceTest, ConcurrentCallersAreAllAnswered) {
  // Threads run requests of users of both partitions at once while the
  // engine's thread settles: every answer comes, the money adds up.
  constexpr int kThreads = 4, kOrders = 150;
  for (int t = 0; t < kThreads; ++t) NewUser(10 + t, 1000 * U);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const protocol::UserId u = 10 + t;
      for (int i = 0; i < kOrders; ++i) {
        auto placed = svc_->PlaceOrder(Buy(u, "0.0002", std::to_string(30000 + i)));
        if (!placed.ok() || placed.value().status != OrderStatus::kNew) {
          failures.fetch_add(1);
          continue;
        }
        if (i % 2 == 0) continue;  // leave every other one open
        auto c = svc_->CancelOrder(OrderRef{u, "BTCUSDT", placed.value().order_id, "", 2000});
        if (!c.ok() || c.value().status != OrderStatus::kCanceled) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const AssetId usdt = *table_.FindAsset("USDT");
  for (int t = 0; t < kThreads; ++t) {
    const protocol::UserId u = 10 + t;
    auto open = svc_->OpenOrders(u, "BTCUSDT");
    ASSERT_TRUE(open.ok());
    ASSERT_EQ(open.value().size(), static_cast<size_t>(kOrders / 2));
    Amount locked = 0;
    for (const OrderInfo& o : open.value()) {
      locked += static_cast<Amount>(static_cast<__int128>(o.price) * o.orig_qty / U);
    }
    const auto b = svc_->Account(u).value().balances[usdt];
    EXPECT_EQ(b.locked, locked);
    EXPECT_EQ(b.free + b.locked, 1000 * U);
  }
}

INSTANTIATE_TEST_SUITE_P(SyncOrNot, ThreadedOrderServiceTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? std::string("GroupCommit") : std::string("Inline");
                         });

// Guards EngineLink::AwaitDeliveries (90a2037): an answer whose check
// completes outside an event delivery (in Commit, once its batch is durable)
// must wait for the delivery under way before it runs, or it can tell of a
// fill that the other side's partition has not applied yet; answers made in
// a delivery go to its hold vector and need no wait.
//
// The engine link of one PartitionWorker, no log (sync off: the caller
// commits) and no worker thread, so every step runs on the test's thread.
// With `inline_delivery`, TrySend delivers the command's events right away,
// as Core::Dispatch does (RunEvents with a hold vector, then the held
// answers): it stands in for the event pump delivering while Commit has
// released the partition's mutex to forward, the window of the race. Else
// the events wait in `queued` for Deliver. `calls` records the order of
// sends, deliveries, AwaitDeliveries and answers.
class DeliveringLink : public EngineLink {
 public:
  void Send(const Command& c) override { TrySend(c); }
  // Commit forwards with it, its partition's mutex released.
  bool TrySend(const Command& c) override {
    calls.push_back("send");
    const Event e = EventOf(c, ++seq_, EventType::kAccepted);
    if (inline_delivery) {
      Deliver(e);
    } else {
      queued.push_back(e);
    }
    return true;
  }
  void AwaitDeliveries() override { calls.push_back("await"); }
  // RunEvents with a hold vector, then the answers it held.
  void Deliver(const Event& e) {
    std::vector<PartitionWorker::Deferred> held;
    worker->RunEvents(0, e.seq, &e, 1, &held);
    calls.push_back("delivered, held " + std::to_string(held.size()));
    for (auto& answer : held) std::move(answer)();
  }

  PartitionWorker* worker = nullptr;
  bool inline_delivery = false;
  std::vector<Event> queued;
  std::vector<std::string> calls;

 private:
  protocol::Seq seq_ = 0;
};

class PartitionWorkerDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(partition_test::BuildDefaultTable(&table_));
    worker_ = std::make_unique<PartitionWorker>(0, 1, &table_, nullptr, &link_, nullptr);
    link_.worker = worker_.get();
    svc_ = std::make_unique<ThreadedOrderService>(&table_, std::vector{worker_.get()});
    auto s = worker_->Call([](Partition& p) {
      absl::Status st = p.CreateUser(1);
      if (st.ok()) st = p.Credit(1, "USDT", 1000 * U, 1);
      return st;
    });
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE(s->ok()) << *s;
    link_.calls.clear();  // Call's own answer waited too
  }
  // Places a resting buy; its answer is recorded in link_.calls, and kept.
  void Place() {
    PlaceOrderRequest r = partition_test::Limit(1, Side::kBuy, "0.01", "40000");
    svc_->PlaceOrderAsync(r, [this](ApiResult<OrderInfo> a) {
      link_.calls.push_back("answer");
      answer_ = std::move(a);
    });
  }

  SymbolTable table_;
  DeliveringLink link_;
  std::unique_ptr<PartitionWorker> worker_;
  std::unique_ptr<ThreadedOrderService> svc_;
  std::optional<ApiResult<OrderInfo>> answer_;
};

TEST_F(PartitionWorkerDeliveryTest, AnswerCompletedInCommitAwaitsDeliveries) {
  // The engine's Accepted reaches the partition while Commit forwards: the
  // batch is not durable yet, so the check completes in Commit afterwards
  // and the caller's Run runs the answer.
  link_.inline_delivery = true;
  Place();
  const std::vector<std::string> want = {"send", "delivered, held 0", "await", "answer"};
  EXPECT_EQ(link_.calls, want);
  ASSERT_TRUE(answer_.has_value());
  ASSERT_TRUE(answer_->ok()) << answer_->error().msg();
  EXPECT_EQ(answer_->value().status, OrderStatus::kNew);
  EXPECT_TRUE(answer_->value().is_working);
}

TEST_F(PartitionWorkerDeliveryTest, AnswerCompletedInDeliveryIsHeldWithoutAwait) {
  Place();
  EXPECT_EQ(link_.calls, std::vector<std::string>{"send"});
  EXPECT_FALSE(answer_.has_value());
  ASSERT_EQ(link_.queued.size(), 1u);
  link_.Deliver(link_.queued[0]);
  const std::vector<std::string> want = {"send", "delivered, held 1", "answer"};
  EXPECT_EQ(link_.calls, want);
  ASSERT_TRUE(answer_.has_value());
  ASSERT_TRUE(answer_->ok()) << answer_->error().msg();
  EXPECT_TRUE(answer_->value().is_working);
}

}  // namespace
}  // namespace xc::order_service
