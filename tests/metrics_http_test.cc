// GET /metrics served by the gateway's HttpServer from a scaling
// MetricsRegistry, with HttpMetrics observing every request: the exposition
// names the metrics, and the counters move with the requests (issue 5).
// Real sockets on 127.0.0.1, port 0.

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "xc/gateway/http_server.h"
#include "xc/gateway/testing/http_test_client.h"
#include "xc/scaling/metrics_registry.h"

namespace xc {
namespace {

using gateway::testing::TestClient;

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Route("GET", "/api/v3/ping", [](const gateway::HttpRequest&, gateway::HttpResponse& r) {
      r.SetJson(200, "{}");
    });
    server_.Route("POST", "/api/v3/order", [](const gateway::HttpRequest&,
                                              gateway::HttpResponse& r) {
      r.SetJson(429, R"({"code":-1015,"msg":"Too many new orders."})");
    });
    server_.Route("GET", "/metrics", [this](const gateway::HttpRequest&, gateway::HttpResponse& r) {
      r.body() = registry_.Render();
      r.AddHeader("Content-Type", scaling::MetricsRegistry::kContentType);
    });
    http_ = std::make_unique<scaling::HttpMetrics>(&registry_, "client", server_.endpoints());
    server_.SetObserver(http_.get());
    registry_.AddGaugeReader("xc_http_open_connections", "Open connections.",
                             {{"server", "client"}},
                             [this] { return static_cast<double>(server_.open_connections()); });
    scaling::AddProcessMetrics(&registry_);
    ASSERT_FALSE(server_.Start());
  }

  scaling::MetricsRegistry registry_;
  gateway::HttpServer server_{gateway::HttpServerOptions{}};
  std::unique_ptr<scaling::HttpMetrics> http_;
};

TEST_F(MetricsHttpTest, ScrapeNamesMetricsAndCountersMove) {
  TestClient c(server_.port());
  auto first = c.Request("GET", "/metrics");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(Has(first.body, "# TYPE process_cpu_seconds_total counter")) << first.body;
  EXPECT_TRUE(Has(first.body, "xc_http_open_connections{server=\"client\"} 1")) << first.body;
  EXPECT_TRUE(Has(first.body, "# TYPE xc_http_request_duration_seconds histogram"))
      << first.body;
  EXPECT_FALSE(Has(first.body, "endpoint=\"/api/v3/ping\",method=\"GET\",server=\"client\"} 3"));

  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.Request("GET", "/api/v3/ping").status, 200);
  EXPECT_EQ(c.Request("POST", "/api/v3/order", "symbol=BTCUSDT").status, 429);
  EXPECT_EQ(c.Request("GET", "/nope").status, 404);
  EXPECT_EQ(c.Request("POST", "/api/v3/ping").status, 400);  // known path, other method

  const std::string t = c.Request("GET", "/metrics").body;
  EXPECT_TRUE(Has(t, "xc_http_requests_total{code=\"200\",endpoint=\"/api/v3/ping\","
                     "method=\"GET\",server=\"client\"} 3"))
      << t;
  EXPECT_TRUE(Has(t, "xc_http_requests_total{code=\"429\",endpoint=\"/api/v3/order\","
                     "method=\"POST\",server=\"client\"} 1"))
      << t;
  EXPECT_TRUE(Has(t, "xc_http_requests_total{code=\"404\",endpoint=\"other\",method=\"\","
                     "server=\"client\"} 1"))
      << t;
  EXPECT_TRUE(Has(t, "xc_http_requests_total{code=\"400\",endpoint=\"other\",method=\"\","
                     "server=\"client\"} 1"))
      << t;
  // The first scrape itself was counted after it was rendered.
  EXPECT_TRUE(Has(t, "xc_http_requests_total{code=\"200\",endpoint=\"/metrics\","
                     "method=\"GET\",server=\"client\"} 1"))
      << t;
  EXPECT_TRUE(Has(t, "xc_http_request_duration_seconds_count{endpoint=\"/api/v3/ping\","
                     "method=\"GET\",server=\"client\"} 3"))
      << t;

  // A second connection shows up in the gauge.
  TestClient c2(server_.port());
  const std::string t2 = c2.Request("GET", "/metrics").body;
  EXPECT_TRUE(Has(t2, "xc_http_open_connections{server=\"client\"} 2")) << t2;
}

}  // namespace
}  // namespace xc
