#include "xc/gateway/http_server.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
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
  // `more` adds routes of the test's own before the server starts.
  void StartServer(HttpServerOptions o = {}, const std::function<void(HttpServer&)>& more = {}) {
    server_ = std::make_unique<HttpServer>(std::move(o));
    if (more) more(*server_);
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

TEST_F(HttpServerTest, InterceptorRunsBeforeRoutedHandlersAndSeesTheClientIp) {
  server_ = std::make_unique<HttpServer>(HttpServerOptions{});
  server_->Route("GET", "/ip", [](const HttpRequest& q, HttpResponse& r) {
    r.body().assign(q.remote_ip);
  });
  std::atomic<int> calls{0};
  server_->SetInterceptor([&calls](const HttpRequest& q, HttpResponse& r) {
    ++calls;
    r.AddHeader("X-Seen", q.remote_ip);
    if (q.query == "block") {
      r.SetJson(418, R"({"code":-1003})");
      return false;
    }
    return true;
  });
  ASSERT_FALSE(server_->Start());
  TestClient c(server_->port());
  TestResponse r = c.Request("GET", "/ip");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "127.0.0.1");
  EXPECT_EQ(r.header("x-seen"), "127.0.0.1");
  r = c.Request("GET", "/ip?block");
  EXPECT_EQ(r.status, 418);  // Beast has no reason phrase for it; the server does
  EXPECT_EQ(r.body, R"({"code":-1003})");
  EXPECT_EQ(r.header("x-seen"), "127.0.0.1");
  // Not for unknown paths or methods.
  EXPECT_EQ(c.Request("GET", "/nope").status, 404);
  EXPECT_EQ(c.Request("POST", "/ip").status, 400);
  EXPECT_EQ(calls.load(), 2);
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

// A handler that defers its answer leaves its (only) I/O thread free for
// other connections; the answer, completed from another thread, carries the
// headers added before Defer, and the connection then serves its next
// request. Only the first Complete counts; the answer to a client that hung
// up closes its connection.
TEST_F(HttpServerTest, DeferredResponseIsCompletedFromAnotherThread) {
  std::mutex mu;
  std::vector<HttpDeferred> waiting;
  StartServer({}, [&](HttpServer& s) {
    s.Route("GET", "/later", [&](const HttpRequest&, HttpResponse& r) {
      r.AddHeader("X-Before", "yes");
      r.body() = "dropped";
      std::lock_guard<std::mutex> l(mu);
      waiting.push_back(r.Defer());
    });
  });
  auto take = [&] {
    for (int i = 0; i < 5000; ++i) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (!waiting.empty()) {
          HttpDeferred d = waiting.front();
          waiting.erase(waiting.begin());
          return d;
        }
      }
      std::this_thread::sleep_for(1ms);
    }
    return HttpDeferred();
  };
  TestClient a(server_->port());
  ASSERT_TRUE(a.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpDeferred d = take();
  ASSERT_TRUE(d.valid());
  // The one I/O thread is not waiting for it.
  TestClient b(server_->port());
  EXPECT_EQ(b.Request("GET", "/ok").body, "{}");
  std::thread([d] { d.Complete(201, R"({"late":true})"); }).join();
  TestResponse r = a.Read();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"late":true})");
  EXPECT_EQ(r.header("x-before"), "yes");
  EXPECT_EQ(r.header("connection"), "");
  d.Complete(500, "{}");  // a second answer to the same request: dropped
  EXPECT_EQ(a.Request("GET", "/echo?next").body, "GET|/echo|next|||");

  {
    TestClient c(server_->port());
    ASSERT_TRUE(c.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
    d = take();
    ASSERT_TRUE(d.valid());
  }  // the client hangs up before the answer
  // A connection waiting for its answer reads nothing, so it learns of the
  // hang-up when the answer is written; then it closes.
  d.Complete(200, "{}");
  for (int i = 0; i < 2000 && server_->open_connections() > 2; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(server_->open_connections(), 2u);
  EXPECT_EQ(a.Request("GET", "/ok").body, "{}");
}

// Stop() lets a deferred request finish within the grace period; its answer
// closes the connection.
TEST_F(HttpServerTest, GracefulStopWaitsForADeferredAnswer) {
  std::promise<HttpDeferred> deferred;
  server_ = std::make_unique<HttpServer>(HttpServerOptions{});
  server_->Route("GET", "/later",
                 [&](const HttpRequest&, HttpResponse& r) { deferred.set_value(r.Defer()); });
  ASSERT_FALSE(server_->Start());
  TestClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpDeferred d = deferred.get_future().get();
  std::thread stopper([&] { server_->Stop(); });
  while (!server_->stopping()) std::this_thread::yield();
  d.Complete(200, R"({"done":true})");
  TestResponse r = c.Read();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, R"({"done":true})");
  EXPECT_EQ(r.header("connection"), "close");
  stopper.join();
  EXPECT_EQ(server_->open_connections(), 0u);
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

// Busy polling changes how an I/O thread waits, nothing it does: requests,
// answers posted from other threads, timeouts and Stop() behave as without.
// A window of 1 h keeps the thread polling the whole test; 1 ms lets it fall
// asleep between the steps (each waits longer) and be woken again.
TEST_F(HttpServerTest, BusyPollingThreadServesTimesOutAndStops) {
  for (auto window : {std::chrono::microseconds(3'600'000'000LL), std::chrono::microseconds(1'000)}) {
    SCOPED_TRACE(window.count());
    HttpServerOptions o;
    o.io_threads = 1;  // one spinning thread leaves a 2-core CI machine a core
    o.busy_poll = window;
    o.idle_timeout = 200ms;
    o.sweep_interval = 20ms;
    std::promise<HttpDeferred> deferred;
    StartServer(o, [&](HttpServer& s) {
      s.Route("GET", "/later",
              [&](const HttpRequest&, HttpResponse& r) { deferred.set_value(r.Defer()); });
    });
    TestClient a(server_->port());
    EXPECT_EQ(a.Request("GET", "/echo?x").body, "GET|/echo|x|||");
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(a.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
    HttpDeferred d = deferred.get_future().get();
    std::this_thread::sleep_for(20ms);
    std::thread([d] { d.Complete(201, "{}"); }).join();
    TestResponse r = a.Read();
    EXPECT_EQ(r.status, 201);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(a.WaitClosed());  // the idle timeout
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
    TestClient b(server_->port());
    EXPECT_EQ(b.Request("GET", "/ok").body, "{}");
    server_->Stop();  // returns: the polling thread sees its context stop
    EXPECT_TRUE(b.WaitClosed());
    EXPECT_EQ(server_->open_connections(), 0u);
    server_.reset();
  }
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

// ---- TLS ----

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// A self-signed P-256 certificate for CN=localhost and its key, written as
// PEM into a fresh temp directory (removed on destruction).
class SelfSignedCert {
 public:
  SelfSignedCert() {
    char tmpl[] = "/tmp/xc_tls_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    cert_file = dir_ + "/cert.pem";
    key_file = dir_ + "/key.pem";
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    std::FILE* f = std::fopen(cert_file.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(key_file.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
  }
  ~SelfSignedCert() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

  std::string cert_file, key_file;

 private:
  std::string dir_;
};

// A blocking HTTPS client (Beast over asio::ssl) that trusts only `ca_file`.
// No read timeout (asio's blocking reads ignore SO_RCVTIMEO): ctest's
// timeout catches a server that never answers.
class TlsClient {
 public:
  TlsClient(uint16_t port, const std::string& ca_file) : ctx_(asio::ssl::context::tls_client) {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(asio::ssl::verify_peer);
    stream_.emplace(ioc_, ctx_);
    stream_->next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    stream_->handshake(asio::ssl::stream_base::client, ec);
  }
  bhttp::response<bhttp::string_body> Get(const std::string& target, bool close = false) {
    bhttp::request<bhttp::string_body> req(bhttp::verb::get, target, 11);
    req.set(bhttp::field::host, "localhost");
    if (close) req.keep_alive(false);
    bhttp::write(*stream_, req, ec);
    bhttp::response<bhttp::string_body> res;
    if (!ec) bhttp::read(*stream_, buf_, res, ec);
    return res;
  }
  // Reads once more: after Connection: close this is the end of the stream.
  boost::system::error_code ReadEnd() {
    char c;
    boost::system::error_code e;
    stream_->read_some(asio::buffer(&c, 1), e);
    return e;
  }

  boost::system::error_code ec;  // of the last operation

 private:
  asio::io_context ioc_;
  asio::ssl::context ctx_;
  std::optional<beast::ssl_stream<asio::ip::tcp::socket>> stream_;
  beast::flat_buffer buf_;
};

class HttpServerTlsTest : public HttpServerTest {
 protected:
  HttpServerOptions TlsOptions() {
    HttpServerOptions o;
    o.tls_cert_file = cert_.cert_file;
    o.tls_key_file = cert_.key_file;
    return o;
  }
  SelfSignedCert cert_;
};

TEST_F(HttpServerTlsTest, GetOverTlsWithKeepAlive) {
  StartServer(TlsOptions());
  EXPECT_TRUE(server_->tls());
  TlsClient c(server_->port(), cert_.cert_file);
  ASSERT_FALSE(c.ec) << c.ec.message();
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/echo?i=" + std::to_string(i));
    ASSERT_FALSE(c.ec) << c.ec.message();
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), "GET|/echo|i=" + std::to_string(i) + "|||");
    EXPECT_EQ(r[bhttp::field::content_type], "application/json;charset=UTF-8");
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpServerTlsTest, ConnectionCloseEndsWithCloseNotify) {
  StartServer(TlsOptions());
  TlsClient c(server_->port(), cert_.cert_file);
  auto r = c.Get("/ok", /*close=*/true);
  ASSERT_FALSE(c.ec) << c.ec.message();
  EXPECT_EQ(r.body(), "{}");
  EXPECT_EQ(r[bhttp::field::connection], "close");
  // asio::ssl reports a close_notify as eof, a bare TCP close as
  // stream_truncated.
  EXPECT_EQ(c.ReadEnd(), asio::error::eof);
}

TEST_F(HttpServerTlsTest, PlainHttpOnTlsPortIsRefusedWith400) {
  StartServer(TlsOptions());
  TestClient plain(server_->port());
  TestResponse r = plain.Request("GET", "/ok");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"msg":"The plain HTTP request was sent to HTTPS port"})");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(plain.WaitClosed());
  // Garbage that is not even HTTP: closed without an answer.
  TestClient junk(server_->port());
  ASSERT_TRUE(junk.Send("\x01\x02junk\r\n\r\n"));
  EXPECT_TRUE(junk.WaitClosed());
  // The server is unharmed.
  TlsClient c(server_->port(), cert_.cert_file);
  EXPECT_EQ(c.Get("/ok").body(), "{}");
}

TEST_F(HttpServerTlsTest, StalledHandshakeIsDroppedAfterRequestTimeout) {
  HttpServerOptions o = TlsOptions();
  o.request_timeout = 200ms;
  o.sweep_interval = 20ms;
  StartServer(o);
  TestClient c(server_->port());  // connects, never sends a ClientHello
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.WaitClosed());
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 3s);
}

TEST_F(HttpServerTlsTest, StopClosesConnectionsStillInHandshake) {
  StartServer(TlsOptions());
  TestClient c(server_->port());
  while (server_->open_connections() == 0) std::this_thread::yield();
  server_->Stop();
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(HttpServerTlsTest, BadCertOrKeyIsReportedAndNothingStarts) {
  auto start = [](HttpServerOptions o, std::string* why) {
    HttpServer s(std::move(o));
    std::error_code e = s.Start();
    *why = s.start_error();
    return e;
  };
  std::string why;
  HttpServerOptions o = TlsOptions();
  o.tls_cert_file = cert_.dir() + "/missing.pem";
  EXPECT_EQ(start(o, &why), std::errc::no_such_file_or_directory);
  EXPECT_EQ(why, "tls_cert_file '" + o.tls_cert_file + "': No such file or directory");

  o = TlsOptions();
  o.tls_key_file.clear();
  EXPECT_EQ(start(o, &why), std::errc::invalid_argument);
  EXPECT_NE(why.find("must be set together"), std::string::npos) << why;

  o = TlsOptions();
  o.tls_cert_file = o.tls_key_file;  // a key is not a certificate
  EXPECT_TRUE(start(o, &why));
  EXPECT_NE(why.find("tls_cert_file '" + o.tls_cert_file + "': not a PEM certificate"),
            std::string::npos)
      << why;

  SelfSignedCert other;
  o = TlsOptions();
  o.tls_key_file = other.key_file;
  EXPECT_TRUE(start(o, &why));
  EXPECT_NE(why.find("does not match the certificate"), std::string::npos) << why;

  // The plain server's bind error names the address too.
  StartServer();
  HttpServerOptions busy;
  busy.port = server_->port();
  EXPECT_TRUE(start(busy, &why));
  EXPECT_NE(why.find("bind 127.0.0.1:" + std::to_string(busy.port)), std::string::npos) << why;
}

// ---- WebSocket: the server frames and batches outgoing messages itself ----

namespace websocket = boost::beast::websocket;

// Message i of a burst. The sizes take every length encoding of a frame
// header (7, 16 and 64 bits, at their edges) and an empty payload; the
// text starts with "i:", so that a message cut, merged or out of order is
// caught.
std::string BurstMessage(size_t i) {
  static constexpr size_t kSizes[] = {0, 1, 125, 126, 127, 4000, 65535, 65536, 70000, 300000};
  std::string m(kSizes[i % std::size(kSizes)], static_cast<char>('a' + i % 26));
  const std::string tag = std::to_string(i) + ":";
  const size_t k = std::min(tag.size(), m.size());
  m.replace(0, k, tag, 0, k);
  return m;
}

class WsBatchTest : public HttpServerTlsTest {
 protected:
  // Starts the server with a route /ws whose (one) session the test gets
  // from session(); the session ignores what it receives.
  void StartWs(HttpServerOptions o) {
    StartServer(std::move(o), [this](HttpServer& s) {
      s.RouteWebSocket("/ws", [this](const HttpRequest&, std::shared_ptr<WsSession> ws) {
        struct Quiet : WsHandler {
          void OnMessage(std::string_view) override {}
          void OnClose() override {}
        };
        session_.set_value(std::move(ws));
        return std::make_shared<Quiet>();
      });
    });
  }

  // Sends a burst of `n` messages from another thread while `ws` reads
  // them, each of which must arrive whole and in order. With `pings`, the
  // client pings the server after every third message (the server answers
  // from inside its read, during its batches), and one more message waits
  // until the client has seen a ping of the server's (ws_ping_interval) and
  // a pong: on a fast run they may come only after the burst.
  template <typename Ws>
  void ExpectBurst(Ws& ws, size_t n, bool pings) {
    std::shared_ptr<WsSession> session = session_.get_future().get();
    std::atomic<int> server_pings{0};
    std::atomic<int> pongs{0};
    ws.control_callback([&](websocket::frame_type t, boost::beast::string_view) {
      if (t == websocket::frame_type::ping) server_pings.fetch_add(1);
      if (t == websocket::frame_type::pong) pongs.fetch_add(1);
    });
    std::thread sender([&] {
      for (size_t i = 0; i < n; ++i) {
        session->Send(std::make_shared<const std::string>(BurstMessage(i)));
      }
      if (!pings) return;
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while ((server_pings.load() == 0 || pongs.load() == 0) &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      session->Send(std::make_shared<const std::string>("last"));
    });
    beast::flat_buffer b;
    boost::system::error_code ec;
    for (size_t i = 0; i < n + (pings ? 1 : 0); ++i) {
      b.clear();
      ws.read(b, ec);
      if (ec) {
        ADD_FAILURE() << "message " << i << ": " << ec.message();
        break;
      }
      const std::string got = beast::buffers_to_string(b.data());
      const std::string want = i < n ? BurstMessage(i) : "last";
      ASSERT_EQ(got.size(), want.size()) << "message " << i << " starts " << got.substr(0, 12);
      ASSERT_TRUE(got == want) << "message " << i << " starts " << got.substr(0, 12);
      if (pings && i % 3 == 0) ws.ping({}, ec);
      ASSERT_FALSE(ec) << ec.message();
    }
    sender.join();
    if (pings) {
      EXPECT_GT(server_pings.load(), 0);
      EXPECT_GT(pongs.load(), 0);
    }
  }

  HttpServerOptions PingEveryMillisecond(HttpServerOptions o) {
    o.sweep_interval = 1ms;
    o.ws_ping_interval = 1ms;
    return o;
  }

  std::promise<std::shared_ptr<WsSession>> session_;
};

struct PlainWs {
  explicit PlainWs(uint16_t port) : ws(ioc) {
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.handshake("127.0.0.1", "/ws");
  }
  asio::io_context ioc;
  websocket::stream<asio::ip::tcp::socket> ws;
};

struct TlsWs {
  TlsWs(uint16_t port, const std::string& ca_file) {
    ctx.load_verify_file(ca_file);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::get_lowest_layer(ws).connect({asio::ip::make_address("127.0.0.1"), port});
    ws.next_layer().handshake(asio::ssl::stream_base::client);
    ws.handshake("localhost", "/ws");
  }
  asio::io_context ioc;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  websocket::stream<beast::ssl_stream<asio::ip::tcp::socket>> ws{ioc, ctx};
};

TEST_F(WsBatchTest, BurstArrivesWholeAndInOrder) {
  StartWs({});
  PlainWs c(server_->port());
  ExpectBurst(c.ws, 200, /*pings=*/false);
}

TEST_F(WsBatchTest, BurstWithPingsBothWaysArrivesWholeAndInOrder) {
  StartWs(PingEveryMillisecond({}));
  PlainWs c(server_->port());
  ExpectBurst(c.ws, 200, /*pings=*/true);
}

TEST_F(WsBatchTest, BurstWithPingsBothWaysOverTls) {
  StartWs(PingEveryMillisecond(TlsOptions()));
  TlsWs c(server_->port(), cert_.cert_file);
  ExpectBurst(c.ws, 200, /*pings=*/true);
}

// A message made on the session's own thread (an answer completed in its
// handler) is written at once; one from another thread waits for that
// thread's turn. When the other thread's messages are queued first, they
// arrive first: the session's messages keep their order. The same-thread
// ones are large enough to fill the socket, so the immediate write is cut
// and the rest goes out asynchronously.
TEST_F(WsBatchTest, SameThreadMessagesQueueBehindOnesFromOtherThreads) {
  struct Echo : WsHandler {
    std::shared_ptr<WsSession> session;
    void OnMessage(std::string_view) override {
      // Inside the session's handler: its thread cannot drain the inbox now,
      // so these two wait there when the next ones are sent.
      std::thread other([this] {
        for (size_t i = 0; i < 2; ++i) {
          session->Send(std::make_shared<const std::string>(BurstMessage(i)));
        }
      });
      other.join();
      for (size_t i = 2; i < 40; ++i) {
        session->Send(std::make_shared<const std::string>(BurstMessage(i)));
      }
    }
    void OnClose() override { session.reset(); }
  };
  StartServer({}, [](HttpServer& s) {
    s.RouteWebSocket("/ws", [](const HttpRequest&, std::shared_ptr<WsSession> ws) {
      auto h = std::make_shared<Echo>();
      h->session = std::move(ws);
      return h;
    });
  });
  PlainWs c(server_->port());
  c.ws.write(asio::buffer(std::string("go")));
  beast::flat_buffer b;
  for (size_t i = 0; i < 40; ++i) {
    b.clear();
    c.ws.read(b);
    const std::string got = beast::buffers_to_string(b.data());
    ASSERT_EQ(got.size(), BurstMessage(i).size()) << "message " << i;
    ASSERT_TRUE(got == BurstMessage(i)) << "message " << i << " starts " << got.substr(0, 12);
  }
  // Same thread, nothing waiting in the inbox: straight out, in order.
  c.ws.write(asio::buffer(std::string("again")));
  for (size_t i = 0; i < 40; ++i) {
    b.clear();
    c.ws.read(b);
    ASSERT_TRUE(beast::buffers_to_string(b.data()) == BurstMessage(i)) << "round 2, message " << i;
  }
}

// A client frame (masked, RFC 6455 5.3) with `opcode` and `payload`.
std::string MaskedFrame(uint8_t opcode, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  }
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  for (uint8_t m : mask) f.push_back(static_cast<char>(m));
  for (size_t i = 0; i < payload.size(); ++i) {
    f.push_back(static_cast<char>(static_cast<uint8_t>(payload[i]) ^ mask[i % 4]));
  }
  return f;
}

// Answers each message at once, from inside its handler ("re:" + it).
class WsEchoTest : public WsBatchTest {
 protected:
  void StartEcho(HttpServerOptions o) {
    struct Echo : WsHandler {
      std::shared_ptr<WsSession> session;
      void OnMessage(std::string_view m) override {
        session->Send(std::make_shared<const std::string>("re:" + std::string(m)));
      }
      void OnClose() override { session.reset(); }
    };
    StartServer(std::move(o), [](HttpServer& s) {
      s.RouteWebSocket("/ws", [](const HttpRequest&, std::shared_ptr<WsSession> ws) {
        auto h = std::make_shared<Echo>();
        h->session = std::move(ws);
        return h;
      });
    });
  }

  // Writes `n` requests in one write, so that the server reads many in one
  // go (it then holds their answers and writes them together): each answer
  // must come, whole and in order.
  template <typename Ws>
  void ExpectAnswersInOrder(Ws& ws, size_t n) {
    std::string burst;
    for (size_t i = 0; i < n; ++i) burst += MaskedFrame(0x1, "m" + std::to_string(i));
    asio::write(ws.next_layer(), asio::buffer(burst));
    beast::flat_buffer b;
    for (size_t i = 0; i < n; ++i) {
      b.clear();
      boost::system::error_code ec;
      ws.read(b, ec);
      ASSERT_FALSE(ec) << "answer " << i << ": " << ec.message();
      ASSERT_EQ(beast::buffers_to_string(b.data()), "re:m" + std::to_string(i));
    }
  }
};

TEST_F(WsEchoTest, RequestsReadTogetherAreAllAnsweredInOrder) {
  StartEcho({});
  PlainWs c(server_->port());
  ExpectAnswersInOrder(c.ws, 300);
  ExpectAnswersInOrder(c.ws, 1);  // and a lone one after them
}

TEST_F(WsEchoTest, RequestsReadTogetherAreAllAnsweredInOrderOverTls) {
  StartEcho(TlsOptions());
  TlsWs c(server_->port(), cert_.cert_file);
  ExpectAnswersInOrder(c.ws, 300);
  ExpectAnswersInOrder(c.ws, 1);
}

// Requests followed, in the same write, by a frame Beast refuses (reserved
// opcode 3): the requests were executed, so their answers come before the
// close frame (1002) that Beast answers the bad frame with.
TEST_F(WsEchoTest, AnswersHeldForARequestPrecedeTheCloseForAProtocolError) {
  StartEcho({});
  PlainWs c(server_->port());
  const std::string bytes = MaskedFrame(0x1, "a") + MaskedFrame(0x1, "b") + MaskedFrame(0x3, "x");
  asio::write(c.ws.next_layer(), asio::buffer(bytes));
  beast::flat_buffer b;
  for (const char* want : {"re:a", "re:b"}) {
    b.clear();
    boost::system::error_code ec;
    c.ws.read(b, ec);
    ASSERT_FALSE(ec) << want << ": " << ec.message();
    EXPECT_EQ(beast::buffers_to_string(b.data()), want);
  }
  b.clear();
  boost::system::error_code ec;
  c.ws.read(b, ec);
  EXPECT_EQ(ec, websocket::error::closed) << ec.message();
  EXPECT_EQ(c.ws.reason().code, websocket::close_code::protocol_error);
}

}  // namespace
}  // namespace xc::gateway
