// exbench's pieces: the histogram, the reply scan, the frame codec, and the
// load engine end to end against a small stand-in of the WS API (a Beast
// WebSocket server in this test that checks every signature the Binance way
// and answers like the exchange). The shipped tool talks to the real
// exchange; this only keeps the client honest without one.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "histogram.h"
#include "host.h"
#include "load.h"
#include "net.h"
#include "reply_scan.h"
#include "xc/gateway/hmac.h"

namespace xc::exbench {
namespace {

TEST(LatencyHistogramTest, PercentilesWithinBucketPrecision) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1000);
  EXPECT_EQ(h.max(), 100'000'000);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double want = p / 100 * 100000 * 1000;
    const double got = static_cast<double>(h.Percentile(p));
    EXPECT_GE(got, want * 0.999) << p;
    EXPECT_LE(got, want * 1.02) << p;
  }
  EXPECT_EQ(h.Percentile(100), h.max());
}

TEST(LatencyHistogramTest, BucketsTileTheRange) {
  for (size_t i = 1; i < LatencyHistogram::kBuckets; ++i) {
    ASSERT_EQ(LatencyHistogram::LowerBound(i), LatencyHistogram::UpperBound(i - 1) + 1) << i;
    ASSERT_EQ(LatencyHistogram::Index(LatencyHistogram::LowerBound(i)), i);
    ASSERT_EQ(LatencyHistogram::Index(LatencyHistogram::UpperBound(i)), i);
  }
  LatencyHistogram a, b;
  a.Record(5);
  b.Record(7'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.Percentile(50), 5);
  EXPECT_EQ(a.max(), 7'000'000);
}

TEST(ReplyScanTest, ReadsIdStatusCodeAndOrderId) {
  WsReply r = ScanWsReply(
      R"({"id":17,"status":200,"result":{"symbol":"BTCUSDT","orderId":42,"orderListId":-1,)"
      R"("clientOrderId":"x","transactTime":1}})");
  EXPECT_EQ(r.id, 17);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.order_id, 42);
  EXPECT_FALSE(r.filled);
  EXPECT_TRUE(ScanWsReply(R"({"id":1,"status":200,"result":{"orderId":3,"status":"FILLED"}})").filled);
  EXPECT_FALSE(ScanWsReply(R"({"id":1,"status":200,"result":{"orderId":3,"status":"EXPIRED"}})").filled);
  r = ScanWsReply(R"({"id": "9","status":400,"error":{"code":-2010,"msg":"no"}})");
  EXPECT_EQ(r.id, 9);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code, -2010);
  EXPECT_EQ(ScanWsReply(R"({"subscriptionId":0,"event":{"e":"x"}})").id, -1);
  // "clientOrderId" must not be read as "id".
  EXPECT_EQ(ScanWsReply(R"({"result":{"clientOrderId":5}})").id, -1);
}

TEST(NetTest, FramesAndHttpHeads) {
  char h[14];
  EXPECT_EQ(WsClientFrameHeader(h, 1, 300), 8u);
  EXPECT_EQ(static_cast<unsigned char>(h[0]), 0x81);
  EXPECT_EQ(static_cast<unsigned char>(h[1]), 0x80 | 126);
  EXPECT_EQ((static_cast<unsigned char>(h[2]) << 8) | static_cast<unsigned char>(h[3]), 300);
  std::string f = "\x81\x05hello";
  WsFrame fr;
  ASSERT_EQ(ParseWsServerFrame(f, &fr), 1);
  EXPECT_TRUE(fr.fin);
  EXPECT_EQ(fr.payload_bytes, 5u);
  EXPECT_EQ(ParseWsServerFrame(f.substr(0, 4), &fr), 0);
  HttpHead hh;
  std::string resp = "HTTP/1.1 429 Too Many\r\ncontent-length: 3\r\n\r\nab";
  EXPECT_EQ(ParseHttpResponse(resp, &hh), 0);
  resp += "c";
  ASSERT_EQ(ParseHttpResponse(resp, &hh), 1);
  EXPECT_EQ(hh.status, 429);
  EXPECT_EQ(hh.content_length, 3u);
}

// Binance's documented WS API signing example (HMAC, order.place).
TEST(SigningTest, BinanceDocumentedExample) {
  const gateway::HmacSha256Key key("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j");
  const std::string payload =
      "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&newOrderRespType="
      "ACK&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&"
      "timeInForce=GTC&timestamp=1645423376532&type=LIMIT";
  EXPECT_EQ(gateway::ToHex(key.Sign(payload)),
            "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a");
}

// ---- a stand-in of /ws-api/v3 ---------------------------------------------

// The host facts come from the kernel's files; a tree laid out like them
// stands in for the machine. Unreadable facts stay empty.
class HostFactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exbench-host-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Put(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(root_ + path).parent_path());
    std::ofstream(root_ + path) << text;
  }
  std::string root_;
};

TEST_F(HostFactsTest, ReadsTheModeTheKernelMarks) {
  Put("/proc/sys/kernel/osrelease", "6.18.44-fc\n");
  Put("/proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC @0\n");
  Put("/sys/kernel/debug/sched/preempt", "none voluntary (full) lazy\n");
  Put("/proc/cmdline", "quiet preempt=none\n");
  Put("/sys/devices/system/cpu/cpuidle/current_driver", "haltpoll\n");
  Put("/sys/devices/system/cpu/cpuidle/current_governor_ro", "haltpoll\n");
  Put("/sys/module/haltpoll/parameters/guest_halt_poll_ns", "200000\n");
  Put("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Some CPU @ 2.1GHz\n\nprocessor\t: 1\n"
                       "model name\t: Other\n");
  const HostFacts h = ReadHostFacts(root_);
  EXPECT_EQ(h.kernel, "6.18.44-fc");
  EXPECT_EQ(h.preempt, "full");  // the debugfs mark wins over the command line
  EXPECT_EQ(h.cpuidle_driver, "haltpoll");
  EXPECT_EQ(h.cpuidle_governor, "haltpoll");
  EXPECT_EQ(h.guest_halt_poll_ns, "200000");
  EXPECT_EQ(h.cpu_model, "Some CPU @ 2.1GHz");
}

TEST_F(HostFactsTest, FallsBackToTheCommandLineThenTheBuildString) {
  Put("/proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC @0\n");
  Put("/proc/cmdline", "quiet preempt=lazy -- --init-arg preempt=full\n");
  EXPECT_EQ(ReadHostFacts(root_).preempt, "lazy");
  Put("/proc/cmdline", "quiet -- preempt=full\n");  // after "--": init's, not the kernel's
  EXPECT_EQ(ReadHostFacts(root_).preempt, "dynamic");
  Put("/proc/sys/kernel/version", "#1 SMP PREEMPT_RT Mon\n");
  EXPECT_EQ(ReadHostFacts(root_).preempt, "rt");
  Put("/proc/sys/kernel/version", "#1 SMP PREEMPT\n");  // the word may end the line
  EXPECT_EQ(ReadHostFacts(root_).preempt, "full");
  Put("/proc/sys/kernel/version", "#1 SMP Mon\n");
  EXPECT_EQ(ReadHostFacts(root_).preempt, "none or voluntary");
}

// /proc/stat as the kernel writes it: the "cpu" sum line first, then one line
// per CPU (user nice system idle iowait irq softirq steal guest guest_nice).
TEST_F(HostFactsTest, CpuTimesGiveBusyAndStolenShares) {
  Put("/proc/stat",
      "cpu  300 0 100 1500 0 0 0 100 0 0\n"
      "cpu0 200 0 50 700 0 0 0 50 0 0\n"
      "cpu1 100 0 50 800 0 0 0 50 0 0\n"
      "intr 12345 0 0\nctxt 999\n");
  const CpuTimes before = ReadCpuTimes(root_);
  ASSERT_EQ(before.cpus.size(), 2u);
  EXPECT_EQ(before.cpus[0].total, 1000u);
  EXPECT_EQ(before.cpus[0].idle, 700u);
  EXPECT_EQ(before.cpus[0].steal, 50u);
  // 1000 ticks later on each CPU: cpu0 was busy 390 and lost 10 (1 %), cpu1
  // busy 100, idle 870 (iowait counts as idle), lost 30 (3 %).
  Put("/proc/stat",
      "cpu  740 0 100 2370 0 0 0 140 0 0\n"
      "cpu0 500 0 140 1300 0 0 0 60 0 0\n"
      "cpu1 150 0 100 1650 20 0 0 80 0 0\n");
  const CpuShare share = CpuShareBetween(before, ReadCpuTimes(root_));
  ASSERT_TRUE(share.known);
  EXPECT_EQ(share.cpus, 2);
  EXPECT_DOUBLE_EQ(share.busy, (390.0 + 100.0) / 2000);
  EXPECT_DOUBLE_EQ(share.steal, 40.0 / 2000);
  EXPECT_DOUBLE_EQ(share.max_cpu_steal, 0.03);
}

TEST_F(HostFactsTest, CpuShareIsUnknownWithoutTwoLikeReadings) {
  EXPECT_TRUE(ReadCpuTimes(root_).cpus.empty());  // no /proc/stat
  EXPECT_FALSE(CpuShareBetween(CpuTimes{}, CpuTimes{}).known);
  Put("/proc/stat", "cpu  1 0 0 1 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\n");
  const CpuTimes one = ReadCpuTimes(root_);
  EXPECT_FALSE(CpuShareBetween(one, one).known);  // no tick passed
  Put("/proc/stat", "cpu0 2 0 0 2 0 0 0 0 0 0\ncpu1 2 0 0 2 0 0 0 0 0 0\n");
  EXPECT_FALSE(CpuShareBetween(one, ReadCpuTimes(root_)).known);  // a CPU came
}

TEST_F(HostFactsTest, LeavesWhatItCannotReadEmpty) {
  Put("/sys/devices/system/cpu/cpuidle/current_driver", "none\n");
  const HostFacts h = ReadHostFacts(root_);
  EXPECT_EQ(h.cpuidle_driver, "none");
  EXPECT_EQ(h.kernel, "");
  EXPECT_EQ(h.preempt, "");
  EXPECT_EQ(h.cpuidle_governor, "");
  EXPECT_EQ(h.guest_halt_poll_ns, "");  // no haltpoll module
  EXPECT_EQ(h.cpu_model, "");
}

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

// The flat "params" object of a request: name -> raw JSON text of the value
// (strings without their quotes).
std::map<std::string, std::string> Params(const std::string& msg) {
  std::map<std::string, std::string> out;
  size_t i = msg.find(R"("params":{)");
  if (i == std::string::npos) return out;
  i += 10;
  while (i < msg.size() && msg[i] != '}') {
    if (msg[i] == ',') ++i;
    const size_t ke = msg.find('"', i + 1);
    const std::string k = msg.substr(i + 1, ke - i - 1);
    i = ke + 2;  // past '":'
    std::string v;
    if (msg[i] == '"') {
      const size_t ve = msg.find('"', i + 1);
      v = msg.substr(i + 1, ve - i - 1);
      i = ve + 1;
    } else {
      const size_t ve = msg.find_first_of(",}", i);
      v = msg.substr(i, ve - i);
      i = ve;
    }
    out[k] = v;
  }
  return out;
}

class StandIn {
 public:
  explicit StandIn(std::map<std::string, std::string> secrets) : secrets_(std::move(secrets)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Accept(); });
  }
  ~StandIn() {
    stop_ = true;
    // A blocked accept() is not woken by close(): connect once to wake it.
    std::string error;
    const int fd = ConnectTcp("127.0.0.1", port_, &error);
    thread_.join();
    if (fd >= 0) ::close(fd);
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& t : sessions_) t.join();
  }
  int port() const { return port_; }
  std::atomic<int> bad_signatures{0}, places{0}, cancels{0};

 private:
  void Accept() {
    while (!stop_) {
      boost::system::error_code ec;
      tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      sessions_.emplace_back([this, s = std::move(s)]() mutable { Session(std::move(s)); });
    }
  }
  void Session(tcp::socket s) {
    websocket::stream<tcp::socket> ws(std::move(s));
    boost::system::error_code ec;
    ws.accept(ec);
    if (ec) return;
    ws.text(true);
    int64_t next_order = 1;
    for (;;) {
      beast::flat_buffer buf;
      ws.read(buf, ec);
      if (ec) return;
      const std::string msg = beast::buffers_to_string(buf.data());
      auto p = Params(msg);
      std::string payload;
      for (const auto& [k, v] : p) {
        if (k == "signature") continue;
        payload += (payload.empty() ? "" : "&") + k + "=" + v;
      }
      int64_t id = 0;
      FindInt(msg, R"("id":)", &id);
      std::string reply;
      auto it = secrets_.find(p["apiKey"]);
      if (it == secrets_.end() ||
          !gateway::HmacSha256Key(it->second).Verify(
              std::span<const std::string_view>(std::array<std::string_view, 1>{payload}),
              p["signature"])) {
        ++bad_signatures;
        reply = R"({"id":)" + std::to_string(id) +
                R"(,"status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."}})";
      } else if (msg.find("order.cancel") != std::string::npos) {
        ++cancels;
        reply = R"({"id":)" + std::to_string(id) + R"(,"status":200,"result":{"symbol":"BTCUSDT","orderId":)" +
                p["orderId"] + R"(,"status":"CANCELED"}})";
      } else {
        ++places;
        reply = R"({"id":)" + std::to_string(id) +
                R"(,"status":200,"result":{"symbol":"BTCUSDT","orderId":)" +
                std::to_string(next_order++) + R"(,"orderListId":-1,"clientOrderId":"c","transactTime":1}})";
      }
      ws.write(boost::asio::buffer(reply), ec);
      if (ec) return;
    }
  }

  std::map<std::string, std::string> secrets_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> sessions_;
};

// A reply that waits in the socket is charged from when it arrived, not
// from when it was read: the kernel's receive stamp, moved to the
// monotonic clock.
TEST(NetTest, RecvStampedGivesTheArrivalTime) {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string error;
  const int fd = ConnectTcp("127.0.0.1", acceptor.local_endpoint().port(), &error);
  ASSERT_GE(fd, 0) << error;
  ASSERT_TRUE(EnableRxTimestamps(fd));
  tcp::socket peer = acceptor.accept();
  // The kernel turns receive stamping on asynchronously (a deferred static
  // key), so the first segments after EnableRxTimestamps may come unstamped:
  // wait until one is stamped (read well after its arrival) before the test.
  char buf[16];
  int64_t arrival = 0, read_at = 0;
  bool stamping = false;
  for (int i = 0; i < 100 && !stamping; ++i) {
    boost::asio::write(peer, boost::asio::buffer(std::string_view("x")));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(RecvStamped(fd, buf, sizeof buf, &arrival, &read_at), 1);
    stamping = read_at - arrival >= 5'000'000;
  }
  ASSERT_TRUE(stamping) << "no receive stamps";
  const int64_t before = MonoNowNs();
  boost::asio::write(peer, boost::asio::buffer(std::string_view("reply")));
  const int64_t sent = MonoNowNs();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(RecvStamped(fd, buf, sizeof buf, &arrival, &read_at), 5);
  EXPECT_EQ(std::string_view(buf, 5), "reply");
  EXPECT_GE(read_at - sent, 50'000'000);
  // Within the write call (the clocks are read apart: 1 ms of slack).
  EXPECT_GE(arrival, before - 1'000'000);
  EXPECT_LE(arrival, sent + 1'000'000);
  ::close(fd);
}

// Two users on four connections against the stand-in; each test runs a
// phase, cancels what it left open, and checks the stand-in saw a cancel
// for every place.
class WorkerTest : public ::testing::Test {
 protected:
  WorkerTest() : users_(2), server_({{"k0", "s0"}, {"k1", "s1"}}) {
    users_[0].api_key = "k0";
    users_[0].secret = "s0";
    users_[1].api_key = "k1";
    users_[1].secret = "s1";
    for (User& u : users_) u.key = std::make_shared<const gateway::HmacSha256Key>(u.secret);
    target_.port = server_.port();
    spec_.low_price = "500.00";
    spec_.high_price = "1500.00";
    spec_.mid_price = "1000.00";
    spec_.qty = "0.02000";
  }

  // One phase at `rate` starting in 10 ms on a fresh worker.
  PhaseStats RunPhase(double rate, int64_t warmup_ns, int64_t duration_ns,
                      int64_t drain_timeout_ns) {
    Worker w(0, target_, spec_, &users_, {0, 1, 0, 1}, {0, 1, 2, 3}, 0);
    std::string error;
    if (!w.Connect(&error)) {
      ADD_FAILURE() << "connect: " << error;
      return {};
    }
    PhaseSpec ph;
    ph.start_ns = MonoNowNs() + 10'000'000;
    ph.rate = rate;
    ph.warmup_ns = warmup_ns;
    ph.duration_ns = duration_ns;
    ph.drain_timeout_ns = drain_timeout_ns;
    PhaseStats st = w.RunPhase(ph);
    w.CancelOpenOrders(2'000'000'000);
    return st;
  }

  void TearDown() override {
    EXPECT_EQ(server_.bad_signatures.load(), 0);
    EXPECT_EQ(server_.places.load(), server_.cancels.load());
  }

  std::vector<User> users_;
  StandIn server_;
  LoadTarget target_;
  OrderSpec spec_;
};

TEST_F(WorkerTest, OpenLoopPlaceCancelAgainstStandIn) {
  const PhaseStats st = RunPhase(2000, 100'000'000, 400'000'000, 2'000'000'000);
  EXPECT_EQ(st.error_count(), 0u);
  // 800 operations in the window, give or take the boundary.
  EXPECT_NEAR(static_cast<double>(st.orders.count()), 800, 4);
  EXPECT_GT(st.cancel.count(), 300u);
  EXPECT_EQ(st.ok_place + st.ok_cancel, st.orders.count());
  EXPECT_NEAR(static_cast<double>(st.replies_in_window), 800, 20);
  EXPECT_GT(st.orders.Percentile(50), 0);
  // Each reply arrived before it was read.
  EXPECT_EQ(st.orders_read.count(), st.orders.count());
  EXPECT_LE(st.orders.Percentile(50), st.orders_read.Percentile(50));
  EXPECT_LE(st.orders.max(), st.orders_read.max());
  // One send every 500 µs: far enough apart to wake for each.
  EXPECT_GT(st.timer_overshoot_ns, 0);
  EXPECT_FALSE(st.bursts);
}

// Operations due far more often than a timed wake-up can resolve (one per
// µs): the client sends them in bursts, reading replies when it wakes; every
// one is still sent, answered and charged from its scheduled time.
TEST_F(WorkerTest, BurstsWhenDueMoreOftenThanTheTimer) {
  const PhaseStats st = RunPhase(1'000'000, 0, 3'000'000, 20'000'000'000);
  EXPECT_TRUE(st.bursts);
  EXPECT_GT(st.timer_overshoot_ns, 1'000);
  EXPECT_EQ(st.error_count(), 0u);
  EXPECT_NEAR(static_cast<double>(st.orders.count()), 3000, 1);
  EXPECT_EQ(st.ok_place + st.ok_cancel, st.orders.count());
  EXPECT_EQ(st.send_lag.count(), st.orders.count());
  // Charged from the schedule: at least each operation's lateness.
  EXPECT_GE(st.orders.max(), st.send_lag.max());
}

}  // namespace
}  // namespace xc::exbench
