#include "xc/gateway/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "xc/gateway/testing/http_test_client.h"

namespace xc::gateway {
namespace {

using namespace std::chrono_literals;
using testing::TestClient;
using testing::TestResponse;

// Echoes what the handler saw, one field per line.
void Echo(const HttpRequest& q, HttpResponse& r) {
  r.AddHeader("X-Test", "1");
  r.body().append(q.method).append("|").append(q.path).append("|").append(q.query);
  r.body().append("|").append(q.body).append("|").append(q.api_key).append("|");
  r.body().append(q.content_type);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions o = {}) {
    server_ = std::make_unique<HttpServer>(std::move(o));
    server_->Route("GET", "/echo", Echo);
    server_->Route("POST", "/echo", Echo);
    server_->Route("GET", "/ok", [](const HttpRequest&, HttpResponse& r) { r.body() = "{}"; });
    server_->Route("GET", "/throw",
                   [](const HttpRequest&, HttpResponse&) { throw std::runtime_error("bug"); });
    ASSERT_FALSE(server_->Start());
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HandlerSeesMethodPathQueryBodyAndHeaders) {
  StartServer();
  TestClient c(server_->port());
  ASSERT_TRUE(c.connected());
  TestResponse r = c.Request("POST", "/echo?symbol=BTCUSDT&timestamp=1", "side=BUY&type=LIMIT",
                             "X-MBX-APIKEY: key123\r\nContent-Type: "
                             "application/x-www-form-urlencoded\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "POST|/echo|symbol=BTCUSDT&timestamp=1|side=BUY&type=LIMIT|key123|"
            "application/x-www-form-urlencoded");
  EXPECT_EQ(r.header("x-test"), "1");
  EXPECT_EQ(r.header("content-type"), "application/json;charset=UTF-8");
  EXPECT_EQ(r.header("connection"), "");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  TestClient c(server_->port());
  for (int i = 0; i < 200; ++i) {
    TestResponse r = c.Request("GET", "/echo?i=" + std::to_string(i));
    ASSERT_TRUE(r.ok) << i;
    ASSERT_EQ(r.body, "GET|/echo|i=" + std::to_string(i) + "|||");
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  StartServer();
  TestClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /echo?a HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?b HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.Read().body, "GET|/echo|a|||");
  EXPECT_EQ(c.Read().body, "GET|/echo|b|||");
}

TEST_F(HttpServerTest, UnknownPathIs404WithCatalogueBodyAndKeepsConnection) {
  StartServer();
  TestClient c(server_->port());
  TestResponse r = c.Request("GET", "/api/v3/nope?x=1");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"msg":"Not Found"})");
  EXPECT_EQ(c.Request("GET", "/ok").body, "{}");
}

TEST_F(HttpServerTest, WrongMethodIsBinanceError) {
  StartServer();
  TestClient c(server_->port());
  TestResponse r = c.Request("DELETE", "/ok");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1020,"msg":"This operation is not supported."})");
}

TEST_F(HttpServerTest, ThrowingHandlerIsUnknownError) {
  StartServer();
  TestClient c(server_->port());
  TestResponse r = c.Request("GET", "/throw");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"code":-1000,"msg":"An unknown error occurred while processing the request."})");
  EXPECT_EQ(c.Request("GET", "/ok").status, 200);
}

TEST_F(HttpServerTest, OversizedBodyIsRejectedAndConnectionClosed) {
  StartServer();  // 64 KiB body limit
  TestClient c(server_->port());
  std::string body(64 * 1024 + 1, 'a');
  TestResponse r = c.Request("POST", "/echo", body);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1101,"msg":"Too many parameters sent for this endpoint."})");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, BodyAtTheLimitIsAccepted) {
  StartServer();
  TestClient c(server_->port());
  std::string body(64 * 1024, 'a');
  TestResponse r = c.Request("POST", "/echo", body);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), std::string("POST|/echo||").size() + body.size() + 2);
}

TEST_F(HttpServerTest, OversizedHeaderIsRejected) {
  StartServer();  // 8 KiB header limit
  TestClient c(server_->port());
  TestResponse r = c.Request("GET", "/ok?" + std::string(9000, 'x'));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"code":-1101,"msg":"Too many parameters sent for this endpoint."})");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, MalformedRequestLineIs400AndClosed) {
  StartServer();
  TestClient c(server_->port());
  ASSERT_TRUE(c.Send("THIS IS NOT HTTP\r\n\r\n"));
  TestResponse r = c.Read();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"msg":"Bad Request"})");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpServerTest, SlowClientIsDroppedAfterRequestTimeout) {
  HttpServerOptions o;
  o.request_timeout = 200ms;
  o.sweep_interval = 20ms;
  StartServer(o);
  TestClient c(server_->port());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.Send("GET /ok HTTP/1.1\r\nHo"));  // and never the rest
  EXPECT_TRUE(c.WaitClosed());
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  HttpServerOptions o;
  o.idle_timeout = 200ms;
  o.sweep_interval = 20ms;
  StartServer(o);
  TestClient c(server_->port());
  ASSERT_EQ(c.Request("GET", "/ok").status, 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.WaitClosed());
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(HttpServerTest, GracefulStopFinishesInFlightRequestAndClosesIdle) {
  std::promise<void> entered, release;
  std::shared_future<void> release_f = release.get_future().share();
  server_ = std::make_unique<HttpServer>(HttpServerOptions{});
  server_->Route("GET", "/ok", [](const HttpRequest&, HttpResponse& r) { r.body() = "{}"; });
  server_->Route("GET", "/slow", [&](const HttpRequest&, HttpResponse& r) {
    entered.set_value();
    release_f.wait();
    r.body() = R"({"done":true})";
  });
  ASSERT_FALSE(server_->Start());
  uint16_t port = server_->port();

  TestClient idle(port);
  ASSERT_EQ(idle.Request("GET", "/ok").status, 200);  // established, now idle
  TestClient busy(port);
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  entered.get_future().wait();

  std::thread stopper([&] { server_->Stop(); });
  while (!server_->stopping()) std::this_thread::yield();
  release.set_value();

  TestResponse r = busy.Read();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"done":true})");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(busy.WaitClosed());
  EXPECT_TRUE(idle.WaitClosed());
  stopper.join();
  EXPECT_EQ(server_->open_connections(), 0u);
  TestClient late(port);
  EXPECT_FALSE(late.connected());
}

TEST_F(HttpServerTest, SeveralIoThreadsServeConcurrentClients) {
  HttpServerOptions o;
  o.io_threads = 2;
  StartServer(o);
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      TestClient c(server_->port());
      for (int i = 0; i < 50; ++i) {
        std::string q = std::to_string(t) + "-" + std::to_string(i);
        if (c.Request("GET", "/echo?" + q).body == "GET|/echo|" + q + "|||") ++good;
      }
    });
  }
  for (auto& th : clients) th.join();
  EXPECT_EQ(good.load(), 200);
}

TEST_F(HttpServerTest, BindErrorIsReported) {
  StartServer();
  HttpServerOptions o;
  o.port = server_->port();
  HttpServer second(o);
  EXPECT_TRUE(second.Start());
  HttpServerOptions bad;
  bad.address = "not-an-address";
  HttpServer third(bad);
  EXPECT_TRUE(third.Start());
}

}  // namespace
}  // namespace xc::gateway
