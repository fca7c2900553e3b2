#include "xc/gateway/http_server.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <exception>
#include <optional>
#include <unordered_map>

#include "xc/order_service/api_error.h"

namespace xc::gateway {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;
using order_service::ApiError;
using order_service::ErrorId;

void HttpResponse::AddHeader(std::string_view name, std::string_view value) {
  if (num_headers_ == headers_.size()) headers_.emplace_back();
  Header& h = headers_[num_headers_++];
  h.name.assign(name);
  h.value.assign(value);
}

void HttpResponse::Clear() {
  status_ = 200;
  body_.clear();
  num_headers_ = 0;
}

namespace {

// Heterogeneous lookup so that a string_view path finds a std::string key
// without building a string per request.
struct PathHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct MethodHandler {
  std::string method;
  HttpHandler handler;
};

using RouteTable =
    std::unordered_map<std::string, std::vector<MethodHandler>, PathHash, std::equal_to<>>;

constexpr size_t kReadChunk = 8 * 1024;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out->append(buf, end);
}

}  // namespace

class Connection;

// One I/O thread: its io_context, its connections and its sweep timer. All
// members are touched only on that thread (after Start), except `count`.
struct Worker {
  explicit Worker(const HttpServerOptions& o) : options(o), sweep(ioc) {}

  // The deadline `timeout` from now. coarse_now may be up to one sweep
  // interval old, so one interval is added: a timeout never fires early.
  SteadyTime Deadline(std::chrono::milliseconds timeout) const {
    return coarse_now + timeout + options.sweep_interval;
  }
  void ArmSweep();
  void Sweep();
  void Add(Connection* c);
  void Remove(Connection* c);
  void BeginStop(SteadyTime deadline);

  const HttpServerOptions& options;
  asio::io_context ioc{1};
  asio::steady_timer sweep;
  SteadyTime coarse_now = std::chrono::steady_clock::now();
  std::vector<Connection*> conns;  // each knows its index
  std::atomic<size_t> count{0};
  bool stopping = false;
  SteadyTime stop_deadline{};
  HttpServer::Impl* impl = nullptr;
};

struct HttpServer::Impl {
  explicit Impl(const HttpServerOptions& o) {
    int n = o.io_threads < 1 ? 1 : o.io_threads;
    for (int i = 0; i < n; ++i) {
      workers.push_back(std::make_unique<Worker>(o));
      workers.back()->impl = this;
    }
    acceptor.emplace(workers[0]->ioc);
  }

  void Accept();

  RouteTable routes;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  size_t next_worker = 0;
  const std::atomic<bool>* stopping = nullptr;
};

// One client connection. Owned by shared_ptrs held by its one pending
// operation (there is always exactly one while it is open: a read, a write
// or a drain), so it dies when that operation completes after Close().
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class State : uint8_t { kIdle, kReading, kHandling, kWriting, kDraining };

  Connection(Worker* w, tcp::socket socket) : w_(w), socket_(std::move(socket)) {}

  void Start() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    w_->Add(this);
    BeginRequest();
  }

  // Closes the socket (cancelling the pending operation) and leaves the
  // worker's list. Idempotent.
  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    w_->Remove(this);
  }

  bool closed() const { return closed_; }
  State state() const { return state_; }
  SteadyTime deadline() const { return deadline_; }
  size_t index = 0;  // position in Worker::conns

 private:
  const HttpServerOptions& opt() const { return w_->options; }
  bool ServerStopping() const {
    return w_->stopping || w_->impl->stopping->load(std::memory_order_acquire);
  }

  // Waits for (or parses already buffered bytes of) the next request.
  void BeginRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(opt().max_header_bytes));
    parser_->body_limit(opt().max_body_bytes);
    parser_->eager(true);
    if (buffer_.size() > 0) {
      StartReading();
      Parse();
      return;
    }
    state_ = State::kIdle;
    deadline_ = w_->Deadline(opt().idle_timeout);
    ReadMore();
  }

  void StartReading() {
    state_ = State::kReading;
    deadline_ = w_->Deadline(opt().request_timeout);
  }

  void ReadMore() {
    auto mb = buffer_.prepare(kReadChunk);
    socket_.async_read_some(mb, [self = shared_from_this()](boost::system::error_code ec,
                                                            size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(boost::system::error_code ec, size_t n) {
    if (closed_) return;
    if (ec) {  // EOF, reset, or cancelled by the sweep: nothing to answer
      Close();
      return;
    }
    buffer_.commit(n);
    if (state_ == State::kIdle) StartReading();
    Parse();
  }

  void Parse() {
    for (;;) {
      if (buffer_.size() == 0) {
        ReadMore();
        return;
      }
      boost::system::error_code ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) {
        ReadMore();
        return;
      }
      if (ec) {
        OnBadRequest(ec);
        return;
      }
      if (parser_->is_done()) {
        Handle();
        return;
      }
      if (used == 0) {  // no progress without an error: wait for bytes
        ReadMore();
        return;
      }
    }
  }

  void OnBadRequest(boost::system::error_code ec) {
    response_.Clear();
    if (ec == http::error::header_limit || ec == http::error::body_limit ||
        ec == http::error::buffer_overflow) {
      ApiError e(ErrorId::kTooManyParameters);
      response_.set_status(e.http_status());
      e.AppendJson(&response_.body());
    } else {
      response_.SetJson(400, R"({"msg":"Bad Request"})");
    }
    Respond(/*keep_alive=*/false, /*http10=*/false);
  }

  void Handle() {
    state_ = State::kHandling;
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string_view(msg.method_string().data(), msg.method_string().size());
    std::string_view target(msg.target().data(), msg.target().size());
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    req.body = msg.body();
    if (auto it = msg.find("X-MBX-APIKEY"); it != msg.end()) {
      req.api_key = std::string_view(it->value().data(), it->value().size());
    }
    if (auto it = msg.find(http::field::content_type); it != msg.end()) {
      req.content_type = std::string_view(it->value().data(), it->value().size());
    }
    bool keep_alive = msg.keep_alive();
    bool http10 = msg.version() == 10;

    response_.Clear();
    auto route = w_->impl->routes.find(req.path);
    if (route == w_->impl->routes.end()) {
      ApiError(ErrorId::kNotFound).AppendJson(&response_.body());
      response_.set_status(ApiError(ErrorId::kNotFound).http_status());
    } else {
      const HttpHandler* handler = nullptr;
      for (const auto& mh : route->second) {
        if (mh.method == req.method) handler = &mh.handler;
      }
      if (handler == nullptr) {
        ApiError e(ErrorId::kUnsupportedOperation);
        response_.set_status(e.http_status());
        e.AppendJson(&response_.body());
      } else {
        try {
          (*handler)(req, response_);
        } catch (const std::exception&) {
          // A handler bug must not take the server down; the client sees
          // Binance's "unknown error" (execution status unknown).
          response_.Clear();
          ApiError e(ErrorId::kUnknown);
          response_.set_status(e.http_status());
          e.AppendJson(&response_.body());
        }
      }
    }
    Respond(keep_alive && !ServerStopping(), http10);
  }

  // Serializes response_ into out_ and writes it.
  void Respond(bool keep_alive, bool http10) {
    keep_alive_ = keep_alive;
    int status = response_.status();
    out_.clear();
    out_.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    AppendUint(static_cast<uint64_t>(status), &out_);
    out_.push_back(' ');
    auto reason = http::obsolete_reason(static_cast<http::status>(status));
    out_.append(reason.data(), reason.size());
    out_.append("\r\n");
    bool has_type = false;
    for (size_t i = 0; i < response_.num_headers(); ++i) {
      const auto& h = response_.headers()[i];
      if (IEquals(h.name, "Content-Type")) has_type = true;
      out_.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    if (!has_type) out_.append("Content-Type: application/json;charset=UTF-8\r\n");
    out_.append("Content-Length: ");
    AppendUint(response_.body().size(), &out_);
    out_.append("\r\n");
    if (!keep_alive) {
      out_.append("Connection: close\r\n");
    } else if (http10) {
      out_.append("Connection: keep-alive\r\n");
    }
    out_.append("\r\n");
    out_.append(response_.body());

    state_ = State::kWriting;
    deadline_ = w_->Deadline(opt().write_timeout);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->OnWritten(ec);
                      });
  }

  void OnWritten(boost::system::error_code ec) {
    if (closed_) return;
    if (ec) {
      Close();
      return;
    }
    if (keep_alive_ && !ServerStopping()) {
      BeginRequest();
      return;
    }
    // Half-close and drain what the client still sends until it closes, so
    // that unread request bytes do not turn our close into a reset that
    // could destroy the response before the client reads it.
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    if (ServerStopping() && buffer_.size() == 0) {
      // Stopping: the request was read completely, so nothing unread can
      // provoke a reset; do not hold Stop() for the client's close.
      Close();
      return;
    }
    state_ = State::kDraining;
    deadline_ = w_->Deadline(opt().linger_timeout);
    Drain();
  }

  void Drain() {
    buffer_.clear();
    auto mb = buffer_.prepare(kReadChunk);
    socket_.async_read_some(mb, [self = shared_from_this()](boost::system::error_code ec,
                                                            size_t) {
      if (self->closed_) return;
      if (ec) {
        self->Close();
        return;
      }
      self->Drain();
    });
  }

  Worker* w_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpResponse response_;
  std::string out_;  // serialized response; capacity reused
  State state_ = State::kIdle;
  SteadyTime deadline_{};
  bool keep_alive_ = true;
  bool closed_ = false;
};

void Worker::Add(Connection* c) {
  c->index = conns.size();
  conns.push_back(c);
  count.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Remove(Connection* c) {
  size_t i = c->index;
  if (i >= conns.size() || conns[i] != c) return;
  conns[i] = conns.back();
  conns[i]->index = i;
  conns.pop_back();
  count.fetch_sub(1, std::memory_order_relaxed);
  if (stopping && conns.empty()) sweep.cancel();  // lets run() return
}

void Worker::ArmSweep() {
  sweep.expires_after(options.sweep_interval);
  sweep.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled: stopping with nothing left
    Sweep();
  });
}

void Worker::Sweep() {
  coarse_now = std::chrono::steady_clock::now();
  bool past_grace = stopping && coarse_now >= stop_deadline;
  // Backwards, so that Close()'s swap-with-last only moves visited entries.
  for (size_t i = conns.size(); i-- > 0;) {
    if (i >= conns.size()) continue;
    Connection* c = conns[i];
    if (past_grace || coarse_now >= c->deadline()) c->Close();
  }
  if (stopping && conns.empty()) return;
  ArmSweep();
}

void Worker::BeginStop(SteadyTime deadline) {
  stopping = true;
  stop_deadline = deadline;
  coarse_now = std::chrono::steady_clock::now();
  for (size_t i = conns.size(); i-- > 0;) {
    if (i >= conns.size()) continue;
    // Idle keep-alive connections have nothing in flight, and draining ones
    // have delivered their response: close them now.
    auto st = conns[i]->state();
    if (st == Connection::State::kIdle || st == Connection::State::kDraining) conns[i]->Close();
  }
  if (conns.empty()) sweep.cancel();
}

void HttpServer::Impl::Accept() {
  Worker* w = workers[next_worker].get();
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(w->ioc, [this, w](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      asio::post(w->ioc, [w, s = std::move(socket)]() mutable {
        if (w->stopping) return;  // accepted just before Stop: drop it
        std::make_shared<Connection>(w, std::move(s))->Start();
      });
    }
    // Transient accept errors (EMFILE, aborted handshakes) do not stop the
    // listener.
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {
  // A zero interval would make the sweep a busy loop.
  if (options_.sweep_interval < std::chrono::milliseconds(1)) {
    options_.sweep_interval = std::chrono::milliseconds(1);
  }
  if (options_.io_threads < 1) options_.io_threads = 1;
  impl_ = std::make_unique<Impl>(options_);
  impl_->stopping = &stopping_;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string_view method, std::string_view path, HttpHandler handler) {
  auto& list = impl_->routes[std::string(path)];
  for (auto& mh : list) {
    if (mh.method == method) {
      mh.handler = std::move(handler);
      return;
    }
  }
  list.push_back(MethodHandler{std::string(method), std::move(handler)});
}

std::error_code HttpServer::Start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options_.address, ec);
  if (ec) return ec;
  tcp::endpoint ep(addr, options_.port);
  auto& acc = *impl_->acceptor;
  if (acc.open(ep.protocol(), ec); ec) return ec;
  if (acc.set_option(asio::socket_base::reuse_address(true), ec); ec) return ec;
  if (acc.bind(ep, ec); ec) {
    acc.close();
    return ec;
  }
  if (acc.listen(asio::socket_base::max_listen_connections, ec); ec) {
    acc.close();
    return ec;
  }
  bound_port_ = acc.local_endpoint().port();
  started_ = true;
  impl_->Accept();
  for (auto& w : impl_->workers) {
    w->ArmSweep();
    Worker* wp = w.get();
    threads_.emplace_back([wp] { wp->ioc.run(); });
  }
  return {};
}

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);
  if (!started_) return;
  SteadyTime deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  asio::post(impl_->workers[0]->ioc, [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor->close(ec);
  });
  for (auto& w : impl_->workers) {
    Worker* wp = w.get();
    asio::post(wp->ioc, [wp, deadline] { wp->BeginStop(deadline); });
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

size_t HttpServer::open_connections() const {
  size_t n = 0;
  for (const auto& w : impl_->workers) n += w->count.load(std::memory_order_relaxed);
  return n;
}

}  // namespace xc::gateway
