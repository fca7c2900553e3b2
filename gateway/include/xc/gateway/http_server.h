#pragma once
// HttpServer: the gateway's HTTP/1.1 server (Boost.Beast over Asio), with
// keep-alive, request limits, cheap idle/slow-client timeouts, a routing
// table of method + exact path, and a graceful Stop().
//
// Threads and ownership. The server owns `io_threads` threads, each running
// its own io_context (one owner thread per piece of state, STYLE.md §9): a
// connection lives on exactly one thread for its whole life, so connection
// state, its buffers and the per-thread connection list need no locks. The
// acceptor lives on thread 0 and hands each accepted socket to the threads
// round-robin. Handlers run on the connection's I/O thread, so they must be
// safe to call concurrently from `io_threads` threads (with the default of 1
// they never overlap) and must not block for long: a blocked handler stalls
// every connection of its thread. A handler whose answer comes from another
// thread defers it (HttpResponse::Defer) instead of waiting.
//
// Timeouts without per-operation timers. MEASURED_LIMITS.md measured
// beast::tcp_stream's per-operation expiry at -28% HTTP throughput, so this
// server arms no timer per read or write. Each connection stores one
// deadline (a coarse time read from its thread's last sweep, no clock call
// on the I/O path), and one periodic timer per thread sweeps the thread's
// connections every `sweep_interval`, closing the socket of any connection
// past its deadline (which cancels its pending operation). The deadline is:
//   waiting for the first byte of a request   now + idle_timeout
//   reading a started request (slow client)   first byte + request_timeout
//   writing the response (slow reader)        start of write + write_timeout
//   draining after Connection: close          end of write + linger_timeout
// The deadline adds one sweep_interval to make up for the coarse time, so a
// timeout never fires early and fires at most about two sweep_intervals late
// (more only if the thread is too busy to run its sweep on time); that is
// the price of the cheap scheme.
//
// Limits and the answers to broken requests (each is followed by closing
// the connection, because the rest of the stream cannot be trusted):
//   header block > max_header_bytes, or body > max_body_bytes (64 KiB):
//     HTTP 400 {"code":-1101,"msg":"Too many parameters sent for this endpoint."}
//     - the same answer RequestParams (params.h) gives for an over-long query
//     or form body, so a client sees one error for "request too big" whether
//     the HTTP layer or the parameter parser notices first. (Binance-style
//     400 JSON was chosen over a bare 413 because ccxt maps a JSON code to
//     an exception class, while a 413 with no code becomes ExchangeError.)
//   unparseable HTTP (bad request line, bad header, bad chunking):
//     HTTP 400 {"msg":"Bad Request"} (HTTP-level, no Binance code, like the
//     catalogue's code-0 rows).
// Routing answers (connection kept alive):
//   unknown path:              HTTP 404 {"msg":"Not Found"} (ErrorId::kNotFound)
//   known path, other method:  HTTP 400 {"code":-1020,"msg":"This operation is not supported."}
//
// Responses. Each connection keeps one Response and one output buffer and
// reuses them across its requests, so a keep-alive connection writes its
// responses without heap allocation once the buffers have grown to the
// largest response. What is still allocated per request is Beast's parser:
// its header fields and, for requests with a body, the body string. Every
// response carries Content-Type: application/json;charset=UTF-8 unless the
// handler overrides it, and Content-Length.
//
// TLS (optional). With options.tls_cert_file and tls_key_file set, every
// connection is HTTPS (TLS 1.2 or 1.3, OpenSSL through Beast's ssl_stream);
// with both empty it is plain HTTP. The connection code is a template over
// the stream type, so the plain path pays nothing for TLS: no extra
// indirection per read or write, the choice is made once per accepted
// socket. Over TLS:
//   the handshake is part of the request: it must finish within
//   request_timeout of the accept (the same sweep, no timer of its own);
//   a failed handshake closes the connection, except that a plain-HTTP
//   request sent to the TLS port gets a plain-text
//     HTTP 400 {"msg":"The plain HTTP request was sent to HTTPS port"}
//   and is closed (as nginx answers it), so a client using the wrong scheme
//   sees why instead of a reset;
//   Connection: close sends TLS close_notify, then drains as above.
//
// WebSocket (RFC 6455, Beast's websocket::stream over the same Stream, so
// ws:// and wss:// alike). A request for a path registered with
// RouteWebSocket (the path itself or below it, "/ws" and "/ws/x/y") that
// asks for an upgrade becomes a WebSocket session on the same connection
// and thread; a non-upgrade request for such a path is routed as HTTP (404
// unless Route'd too). A session:
//   - receives text messages into its WsHandler, on its I/O thread;
//   - sends what WsSession::Send queues (any thread; posted to its thread,
//     or, on that thread, queued and written at once with one non-blocking
//     write unless messages from other threads wait for it in the post;
//     while the session handles messages that arrived together, what it
//     queues waits until they are handled, or until Beast writes a pong or
//     a close, and goes out in one write), in order, at most ws_max_queue messages queued: one more closes the
//     session with 1008 (policy violation) "slow consumer". What is queued
//     when a write can start goes out as one batch: the server frames the
//     messages itself (text, unmasked, never compressed: permessage-deflate
//     is not offered) and writes them together, so a burst costs one socket
//     write, not one per message;
//   - is pinged every ws_ping_interval (Binance: 20 s) and closed when
//     nothing (a frame, a ping or a pong) arrived for ws_pong_timeout
//     (Binance: 1 minute); a client's pings are answered (Beast does it);
//   - is closed by Stop() at once (closing the socket, no close frame).
// The session's deadlines use the same sweep as HTTP (no timer per session).
//
// Lifecycle: construct, Route(...) every endpoint, Start(), ..., Stop().
// Route after Start is not allowed. The destructor calls Stop().

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "xc/scaling/request_observer.h"

namespace xc::gateway {

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 0;                   // 0: an ephemeral port, see HttpServer::port()
  int io_threads = 1;
  size_t max_header_bytes = 8 * 1024;  // request line + headers
  size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
  std::chrono::milliseconds request_timeout{10'000};  // first byte -> complete request
  std::chrono::milliseconds write_timeout{10'000};    // one response write
  // After a response with Connection: close, how long to read and discard
  // what the client still sends before closing (so that unread bytes do not
  // turn the close into a reset that destroys the response in flight).
  std::chrono::milliseconds linger_timeout{2'000};
  std::chrono::milliseconds sweep_interval{250};      // timeout granularity
  // WebSocket sessions (see the file comment).
  std::chrono::milliseconds ws_ping_interval{20'000};
  std::chrono::milliseconds ws_pong_timeout{60'000};
  size_t ws_max_queue = 4096;               // queued outgoing messages per session
  size_t ws_max_message_bytes = 64 * 1024;  // one incoming message
  // How long Stop() lets in-flight requests finish before closing them.
  std::chrono::milliseconds stop_grace{5'000};
  // HTTPS: PEM files with the certificate (chain: leaf first) and its
  // private key (unencrypted). Both empty: plain HTTP. Read once by Start().
  std::string tls_cert_file;
  std::string tls_key_file;
  // Busy polling (an idle strategy, as Aeron's or Seastar's): after it last
  // ran a handler, an I/O thread keeps polling its sockets and timers without
  // blocking (epoll_wait with a zero timeout) for this long before it sleeps
  // in epoll_wait. 0 (the default): it always sleeps when it has nothing to
  // do. A request that arrives within the window is picked up without a
  // wake-up, which on a virtual machine whose idle vCPUs halt costs tens of
  // microseconds and more at the tail; the price is a core kept busy while
  // the window lasts (and counted as the process's CPU). For I/O threads
  // with cores of their own; at saturation there is no idle time to spin.
  // Behaviour is otherwise the same: timers, Stop() and every outcome.
  std::chrono::microseconds busy_poll{0};
};

// One request as a handler sees it. Views into the connection's buffers,
// valid only during the handler call.
struct HttpRequest {
  std::string_view method;        // "GET", "POST", ... as sent
  std::string_view path;          // target up to '?', e.g. "/api/v3/ping"
  std::string_view query;         // raw, after '?', without it; "" if none
  std::string_view body;          // raw body bytes
  std::string_view api_key;       // X-MBX-APIKEY header, "" if absent
  std::string_view content_type;  // Content-Type header, "" if absent
  // The peer's IP address as text ("127.0.0.1", "::1"; an IPv4-mapped IPv6
  // peer is shown as IPv4), formatted once per connection into the
  // connection's own buffer (no allocation per request); "" if unknown.
  std::string_view remote_ip;
};

namespace internal {
// The connection side of a deferred response (HttpResponse::Defer); the
// server implements it. Finish: any thread.
class DeferTarget {
 public:
  virtual ~DeferTarget() = default;
  virtual void Finish(uint64_t request, int status, std::string body) = 0;
  virtual std::shared_ptr<DeferTarget> Keep() = 0;  // the connection, kept alive
};
}  // namespace internal

// A response that a handler left to finish later (HttpResponse::Defer).
// Holds the connection alive until completed or destroyed. Movable, cheap to
// copy (a shared pointer and a number).
class HttpDeferred {
 public:
  HttpDeferred() = default;
  // Sends the response with `status` and `body` (plus the headers added to
  // the HttpResponse before Defer, e.g. the rate limiter's). Any thread: the
  // write is posted to the connection's I/O thread. Only the first call
  // counts; a call after the connection closed, timed out or the server
  // stopped does nothing.
  void Complete(int status, std::string_view body) const;
  bool valid() const { return target_ != nullptr; }

 private:
  friend class HttpResponse;
  HttpDeferred(std::shared_ptr<internal::DeferTarget> t, uint64_t request)
      : target_(std::move(t)), request_(request) {}
  std::shared_ptr<internal::DeferTarget> target_;
  uint64_t request_ = 0;
};

// The response a handler fills. Reused per connection: the server clears it
// before each handler call, keeping its capacity.
class HttpResponse {
 public:
  void set_status(int status) { status_ = status; }
  int status() const { return status_; }
  // The body; handlers append to it (it starts empty).
  std::string& body() { return body_; }
  const std::string& body() const { return body_; }
  // Sets the status and replaces the body with `json` (already rendered).
  void SetJson(int status, std::string_view json) {
    status_ = status;
    body_.assign(json);
  }
  // Adds a header line. REQUIRES: no CR/LF in name or value. Setting
  // "Content-Type" replaces the default; Content-Length and Connection are
  // the server's.
  void AddHeader(std::string_view name, std::string_view value);

  // Answers later: the handler returns without a response and the
  // connection waits (reading no further request) until the returned
  // handle's Complete, for at most HttpServer's deferred timeout (15 s; then
  // the connection is closed). So a handler that waits for another thread
  // (an order waiting for its journal sync) never blocks its I/O thread.
  // Status and body set before Defer are ignored; headers are kept.
  // REQUIRES: inside a handler that HttpServer runs, at most once.
  HttpDeferred Defer();
  bool deferred() const { return deferred_; }

  // For the server: back to 200, empty body and no headers, keeping capacity.
  void Clear();
  // For the server: where Defer sends the answer (request: its number).
  void BindDeferral(internal::DeferTarget* target, uint64_t request) {
    defer_target_ = target;
    request_ = request;
  }
  struct Header {
    std::string name, value;
  };
  const std::vector<Header>& headers() const { return headers_; }
  size_t num_headers() const { return num_headers_; }

 private:
  int status_ = 200;
  std::string body_;
  // Slots are reused: only the first num_headers_ are live.
  std::vector<Header> headers_;
  size_t num_headers_ = 0;
  internal::DeferTarget* defer_target_ = nullptr;
  uint64_t request_ = 0;
  bool deferred_ = false;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

// Runs before the handler of every routed request (known method and path;
// not for 404s, 400 -1020 or broken HTTP) and before every WebSocket upgrade
// of a RouteWebSocket path (a refusal is then sent as the HTTP answer and
// the connection closes, no upgrade). It may add headers to the
// response; returning false means it has written the whole answer (an error)
// and the handler is not called. Same thread rules as handlers. Used by the
// gateway's RateLimiter (rate_limiter.h).
using HttpInterceptor = std::function<bool(const HttpRequest&, HttpResponse&)>;
// The server's side of one WebSocket session, as its handler sees it.
// Thread safety: every method may be called from any thread; the work is
// posted to the session's I/O thread (done at once when called there). After
// the session closed, calls do nothing.
class WsSession {
 public:
  virtual ~WsSession() = default;
  // Queues one text message (shared, immutable: one buffer may be queued
  // on many sessions). Over ws_max_queue queued messages the session is
  // closed with 1008 "slow consumer" and its queue dropped.
  virtual void Send(std::shared_ptr<const std::string> text) = 0;
};

// The application's side of one WebSocket session. Called on the session's
// I/O thread only.
class WsHandler {
 public:
  virtual ~WsHandler() = default;
  // One complete text (or binary) message; the view is valid during the call.
  virtual void OnMessage(std::string_view text) = 0;
  // The session is gone (closed by either side, timed out, slow consumer or
  // server stop). Called exactly once, last; the server then drops the handler.
  virtual void OnClose() = 0;
};

// Called on the I/O thread with the upgrade request (path, query) before
// the handshake is answered. Returns the session's handler, or nullptr to
// refuse the upgrade (HTTP 404). `session` stays valid as long as held,
// but every holder must drop it before the HttpServer is destroyed (the
// session's socket belongs to the server's io_context): dropping it in
// WsHandler::OnClose, which Stop() causes, is enough.
using WsAcceptor =
    std::function<std::shared_ptr<WsHandler>(const HttpRequest&, std::shared_ptr<WsSession>)>;

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers `handler` for `method` (e.g. "GET") on the exact `path`
  // ("/api/v3/ping"; the query string is not part of it). A later Route for
  // the same method and path replaces the handler.
  // REQUIRES: not started.
  void Route(std::string_view method, std::string_view path, HttpHandler handler);

  // Metrics hook: `observer` (may be null: none) is told about every request
  // the router answered -- its route index in endpoints() (or
  // RequestObserver::kUnmatched for an unknown path or method), the status
  // and the handler time (two steady_clock reads) -- on the I/O thread,
  // before the response is written. Requests refused before routing
  // (malformed HTTP, over-size) are not reported. It must outlive the
  // server's I/O threads. REQUIRES: not started.
  void SetObserver(scaling::RequestObserver* observer);
  // {method, path} of every route, in the order of their first Route call:
  // index i is the `endpoint` the observer receives.
  const std::vector<std::pair<std::string, std::string>>& endpoints() const;
  // Installs the interceptor run before every routed handler (see
  // HttpInterceptor); a later call replaces it. REQUIRES: not started.
  void SetInterceptor(HttpInterceptor interceptor);
  // Registers WebSocket upgrades for `path` and every path below it
  // ("/ws" also takes "/ws/btcusdt@trade"). REQUIRES: not started.
  void RouteWebSocket(std::string_view path, WsAcceptor acceptor);

  // Loads the TLS certificate and key (when configured), binds, listens and
  // starts the I/O threads. On failure returns the error and starts
  // nothing; start_error() then says what failed in words:
  //   only one of tls_cert_file / tls_key_file set    std::errc::invalid_argument
  //   a TLS file missing or unreadable                its errno, e.g. ENOENT
  //   not PEM, or the key does not match the cert     OpenSSL's error
  //   bad address, address in use, listen failure     the socket error
  // REQUIRES: called at most once.
  [[nodiscard]] std::error_code Start();

  // After a failed Start(): what failed, naming the file or address, e.g.
  // "tls_key_file '/etc/x.pem': No such file or directory". Empty otherwise.
  const std::string& start_error() const { return start_error_; }

  // True when the server serves HTTPS (both TLS files configured).
  bool tls() const { return !options_.tls_cert_file.empty(); }

  // The bound port (the ephemeral one when options.port == 0).
  // REQUIRES: Start() succeeded.
  uint16_t port() const { return bound_port_; }

  // Graceful stop: stops accepting at once, closes idle keep-alive
  // connections, lets requests that are being read, handled or written
  // finish (their responses carry Connection: close), closes whatever is
  // still open after options.stop_grace, and joins the I/O threads.
  // Idempotent; any thread except an I/O thread (a handler must not call it).
  void Stop();

  // True once Stop() has begun. Any thread.
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // Number of open connections summed over the threads (relaxed counters,
  // for tests and metrics). Any thread.
  size_t open_connections() const;

  struct Impl;  // defined in http_server.cc

 private:
  HttpServerOptions options_;
  std::unique_ptr<Impl> impl_;
  uint16_t bound_port_ = 0;
  std::string start_error_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace xc::gateway
