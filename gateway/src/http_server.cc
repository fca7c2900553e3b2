#include "xc/gateway/http_server.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <deque>
#include <exception>
#include <optional>
#include <span>
#include <type_traits>
#include <unordered_map>

#include "absl/strings/match.h"
#include "xc/order_service/api_error.h"

namespace xc::gateway {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using TlsStream = boost::beast::ssl_stream<tcp::socket>;
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
  deferred_ = false;
}

HttpDeferred HttpResponse::Defer() {
  assert(defer_target_ != nullptr && !deferred_);
  deferred_ = true;
  return HttpDeferred(defer_target_->Keep(), request_);
}

void HttpDeferred::Complete(int status, std::string_view body) const {
  if (target_ != nullptr) target_->Finish(request_, status, std::string(body));
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
  uint32_t endpoint = 0;  // index into Impl::endpoints (RequestObserver)
};

using RouteTable =
    std::unordered_map<std::string, std::vector<MethodHandler>, PathHash, std::equal_to<>>;

struct WsRoute {
  std::string path;
  WsAcceptor acceptor;
};

constexpr size_t kReadChunk = 8 * 1024;
// How long a deferred response may take (HttpResponse::Defer) before the
// connection is closed: longer than the order service's own timeout, whose
// -1007 answer should reach the client first.
constexpr std::chrono::seconds kDeferredTimeout{15};

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out->append(buf, end);
}

}  // namespace

class ConnectionBase;

// A WebSocket session as the worker's inbox sees it (any stream type).
class WsTarget {
 public:
  virtual ~WsTarget() = default;
  // On the session's thread.
  virtual void Enqueue(std::shared_ptr<const std::string> text) = 0;

  // Messages for this session waiting in its worker's inbox (any thread):
  // while there are any, a message made on the session's own thread queues
  // behind them, so that the session's messages keep their order.
  std::atomic<uint32_t> in_inbox{0};
};

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
  void Add(ConnectionBase* c);
  void Remove(ConnectionBase* c);
  void BeginStop(SteadyTime deadline);
  // A message for a WebSocket session of this thread from another thread:
  // queued in `inbox`; the first message of a batch posts one drain, so a
  // burst of answers (one partition cycle's) costs one wake-up of this
  // thread, not one per message. Any thread.
  void PostToSession(std::shared_ptr<WsTarget> target, std::shared_ptr<const std::string> text);
  void DrainInbox();
  void Run();

  const HttpServerOptions& options;
  asio::io_context ioc{1};
  asio::steady_timer sweep;
  SteadyTime coarse_now = std::chrono::steady_clock::now();
  std::vector<ConnectionBase*> conns;  // each knows its index
  std::atomic<size_t> count{0};
  bool stopping = false;
  SteadyTime stop_deadline{};
  HttpServer::Impl* impl = nullptr;

  using Letter = std::pair<std::shared_ptr<WsTarget>, std::shared_ptr<const std::string>>;
  std::mutex inbox_mu;
  std::vector<Letter> inbox;     // guarded by inbox_mu
  bool drain_posted = false;     // guarded by inbox_mu
  std::vector<Letter> draining;  // this thread only
};

// The thread's loop. With busy polling, poll() runs ready handlers and asks
// the reactor for events without blocking; only when the window since the
// last handler has passed does run_one() block in epoll_wait. poll() and
// run_one() return 0 once the context has stopped or has no work left (after
// BeginStop), which ends the loop as it would end run().
void Worker::Run() {
  if (options.busy_poll.count() <= 0) {
    ioc.run();
    return;
  }
  const auto window = options.busy_poll;
  auto last_work = std::chrono::steady_clock::now();
  for (;;) {
    if (ioc.poll() > 0) {
      last_work = std::chrono::steady_clock::now();
      continue;
    }
    if (ioc.stopped()) return;
    if (std::chrono::steady_clock::now() - last_work < window) continue;
    if (ioc.run_one() == 0) return;
    last_work = std::chrono::steady_clock::now();
  }
}

// The worker whose thread this is (null on other threads).
thread_local Worker* tl_worker = nullptr;

void Worker::PostToSession(std::shared_ptr<WsTarget> target, std::shared_ptr<const std::string> text) {
  target->in_inbox.fetch_add(1, std::memory_order_relaxed);
  bool post;
  {
    std::lock_guard<std::mutex> l(inbox_mu);
    inbox.emplace_back(std::move(target), std::move(text));
    post = !drain_posted;
    drain_posted = true;
  }
  if (post) asio::post(ioc, [this] { DrainInbox(); });
}

void Worker::DrainInbox() {
  {
    std::lock_guard<std::mutex> l(inbox_mu);
    draining.swap(inbox);
    drain_posted = false;
  }
  // In arrival order: one session's messages keep their order.
  for (Letter& l : draining) {
    l.first->in_inbox.fetch_sub(1, std::memory_order_relaxed);
    l.first->Enqueue(std::move(l.second));
  }
  draining.clear();
}

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

  // The acceptor for `path` (the route itself or below it), or nullptr.
  const WsAcceptor* FindWs(std::string_view path) const {
    for (const auto& r : ws_routes) {
      if (path.size() >= r.path.size() && path.substr(0, r.path.size()) == r.path &&
          (path.size() == r.path.size() || path[r.path.size()] == '/')) {
        return &r.acceptor;
      }
    }
    return nullptr;
  }

  RouteTable routes;
  // {method, path} of each route, in registration order (endpoint indexes).
  std::vector<std::pair<std::string, std::string>> endpoints;
  scaling::RequestObserver* observer = nullptr;  // set before Start; may be null
  HttpInterceptor interceptor;  // set before Start, then read-only
  std::vector<WsRoute> ws_routes;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  // Set by Start() when TLS is configured; shared by every connection on
  // every thread (OpenSSL allows concurrent SSL_new on one SSL_CTX).
  std::optional<ssl::context> tls;
  size_t next_worker = 0;
  const std::atomic<bool>* stopping = nullptr;
};

// What the worker's sweep and stop need of a connection, whatever its
// stream type: state, deadline, and Close() on the TCP socket underneath.
// Close() is not virtual: it only closes the raw socket, which cancels
// whatever operation (TLS or not) is pending on it. The one virtual call is
// the sweep's OnSweep, made only for WebSocket sessions (their pings).
class ConnectionBase {
 public:
  enum class State : uint8_t {
    kHandshake,
    kIdle,
    kReading,
    kHandling,
    kWriting,
    kDraining,
    kWebSocket
  };

  explicit ConnectionBase(Worker* w) : w_(w) {}
  virtual ~ConnectionBase() = default;
  virtual void OnSweep(SteadyTime /*now*/) {}

  // Closes the socket (cancelling the pending operation) and leaves the
  // worker's list. Idempotent.
  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    raw_->close(ec);
    w_->Remove(this);
  }

  bool closed() const { return closed_; }
  State state() const { return state_; }
  // The peer's IP address as text ("127.0.0.1", "::1"), formatted once when
  // the connection starts; "" when the socket could not tell.
  std::string_view remote_ip() const { return std::string_view(remote_ip_, remote_ip_len_); }
  SteadyTime deadline() const { return deadline_; }
  size_t index = 0;  // position in Worker::conns

 protected:
  Worker* w_;
  tcp::socket* raw_ = nullptr;  // the TCP socket of the derived stream
  State state_ = State::kIdle;
  SteadyTime deadline_{};
  bool closed_ = false;
  // Fixed buffer so that HttpRequest::remote_ip costs no allocation.
  char remote_ip_[64] = {};
  size_t remote_ip_len_ = 0;

  void CaptureRemoteIp() {
    boost::system::error_code ec;
    const tcp::endpoint ep = raw_->remote_endpoint(ec);
    if (ec) return;
    const auto addr = ep.address();
    // IPv4-mapped IPv6 peers (dual-stack listeners) are shown as IPv4, so
    // that one client has one rate-limit key whichever way it connected.
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
      const auto s = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
      remote_ip_len_ = s.copy(remote_ip_, sizeof remote_ip_);
      return;
    }
    const auto s = addr.to_string();  // once per connection
    remote_ip_len_ = s.copy(remote_ip_, sizeof remote_ip_);
  }
};

// True when a failed TLS handshake read a plain HTTP request line.
bool IsPlainHttpOnTlsPort(const boost::system::error_code& ec) {
  return ec.category() == asio::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST;
}

// Told by WsLayer when a frame of Beast's own has been written.
class WsLayerOwner {
 public:
  virtual ~WsLayerOwner() = default;
  virtual void OnBeastWriteDone() = 0;
  // Beast is about to read the socket (the frames it had read are handled)
  // or to write a frame of its own (`beast_frame`: a pong, or a close that
  // may end the stream): the owner writes what it held back first.
  virtual void FlushHeld(bool beast_frame) = 0;
};

// The next layer of a session's websocket::stream: `Stream` plus a gate
// between the two writers of that socket. WsConnection writes its data
// frames itself, many per socket write (WriteBatch); Beast still writes the
// handshake answer, pings, the pongs it answers a client's pings with (from
// inside its read) and close frames. A frame must not be cut by the other
// writer's bytes, and over TLS two writes may not even overlap. Beast writes
// a frame with one composed write that calls async_write_some again from
// the completion of the last one, so: a Beast write that arrives during a
// raw batch is held (at most one: Beast serializes its own writes) and
// started when the batch ends; a batch waits while a Beast write is in
// flight, and the owner hears OnBeastWriteDone when it may start. Touched
// on the session's thread only.
template <typename Stream>
class WsLayer {
 public:
  using executor_type = typename Stream::executor_type;
  using next_layer_type = Stream;

  explicit WsLayer(Stream&& s) : s_(std::move(s)) {}

  // The owner outlives every handler run here while it can be locked.
  void set_owner(std::weak_ptr<WsLayerOwner> owner) { owner_ = std::move(owner); }
  bool beast_writing() const { return beast_writing_; }

  // Brackets a raw write on next_layer(). REQUIRES (Begin): !beast_writing().
  void BeginRawWrite() { raw_writing_ = true; }
  void EndRawWrite() {
    raw_writing_ = false;
    if (auto held = std::move(held_)) held->Start();
  }

  // The AsyncStream that Beast uses.
  executor_type get_executor() noexcept { return s_.get_executor(); }
  Stream& next_layer() { return s_; }
  const Stream& next_layer() const { return s_; }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& b, Token&& token) {
    if (auto owner = owner_.lock()) owner->FlushHeld(/*beast_frame=*/false);
    return s_.async_read_some(b, std::forward<Token>(token));
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const Buffers& buffers) { BeastWrite(buffers, std::move(handler)); },
        token, b);
  }

 private:
  struct Held {
    virtual ~Held() = default;
    virtual void Start() = 0;
  };
  template <typename Buffers, typename Handler>
  struct HeldWrite : Held {
    HeldWrite(WsLayer* l, const Buffers& b, Handler h)
        : layer(l), buffers(b), handler(std::move(h)) {}
    void Start() override { layer->BeastWrite(buffers, std::move(handler)); }
    WsLayer* layer;
    Buffers buffers;  // Beast keeps what they point to until its handler runs
    Handler handler;
  };

  template <typename Buffers, typename Handler>
  void BeastWrite(const Buffers& b, Handler handler) {
    if (!raw_writing_) {
      // Answers held back go out before this frame (then the frame waits
      // for their write, below, if it did not end at once).
      if (auto owner = owner_.lock()) owner->FlushHeld(/*beast_frame=*/true);
    }
    if (raw_writing_) {
      held_ = std::make_unique<HeldWrite<Buffers, Handler>>(this, b, std::move(handler));
      return;
    }
    beast_writing_ = true;
    auto ex = asio::get_associated_executor(handler, s_.get_executor());
    auto done = [this, h = std::move(handler)](boost::system::error_code ec, size_t n) mutable {
      // The handler may drop the last reference to the session (and so to
      // this layer); the lock keeps both alive until we are done.
      std::shared_ptr<WsLayerOwner> owner = owner_.lock();
      beast_writing_ = false;
      std::move(h)(ec, n);
      // Still false: Beast did not go on with the same frame.
      if (owner && !beast_writing_) owner->OnBeastWriteDone();
    };
    s_.async_write_some(b, asio::bind_executor(ex, std::move(done)));
  }

  Stream s_;
  std::weak_ptr<WsLayerOwner> owner_;
  std::unique_ptr<Held> held_;  // a Beast write waiting for the raw batch
  bool beast_writing_ = false;
  bool raw_writing_ = false;
};

// Beast closes a session's socket through these (found by ADL on WsLayer).
template <typename Stream, typename Handler>
void async_teardown(boost::beast::role_type role, WsLayer<Stream>& layer, Handler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, layer.next_layer(), std::forward<Handler>(handler));
}

template <typename Stream>
void teardown(boost::beast::role_type role, WsLayer<Stream>& layer, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, layer.next_layer(), ec);
}

// Writes a text frame's header (FIN, opcode 1, no mask: server to client,
// RFC 6455 5.2) for a payload of `size` bytes into `out`; returns its length.
size_t EncodeTextFrameHeader(uint64_t size, uint8_t* out) {
  out[0] = 0x81;
  if (size < 126) {
    out[1] = static_cast<uint8_t>(size);
    return 2;
  }
  const int bytes = size <= 0xffff ? 2 : 8;
  out[1] = bytes == 2 ? 126 : 127;
  for (int i = 0; i < bytes; ++i) {
    out[2 + i] = static_cast<uint8_t>(size >> (8 * (bytes - 1 - i)));
  }
  return 2 + static_cast<size_t>(bytes);
}

// One WebSocket session over `Stream` (tcp::socket or TlsStream), made from
// an upgraded Connection. Like Connection it is owned by the shared_ptrs of
// its pending operations (it always has a read pending while open), and
// also by whoever holds it as a WsSession. Every member is touched on its
// worker's thread only; Send() posts there.
//
// Outgoing messages do not go through Beast's write: everything queued is
// framed here and written as one buffer sequence, so a burst costs one
// write (per 64 buffers, asio's iovec limit) and one completion instead of
// one per message. Beast is built without permessage-deflate (the `false`
// below), so it can never negotiate compression that such frames would lack.
template <typename Stream>
class WsConnection : public ConnectionBase,
                     public WsSession,
                     public WsTarget,
                     public WsLayerOwner,
                     public std::enable_shared_from_this<WsConnection<Stream>> {
 public:
  explicit WsConnection(Worker* w) : ConnectionBase(w) {}

  void Start(Stream&& stream, http::request<http::string_body> req,
             std::shared_ptr<WsHandler> handler) {
    ws_.emplace(std::move(stream));
    layer().set_owner(this->weak_from_this());
    raw_ = &boost::beast::get_lowest_layer(*ws_);
    handler_ = std::move(handler);
    req_ = std::move(req);
    state_ = State::kWebSocket;
    w_->Add(this);
    // The handshake answer is part of the request: request_timeout bounds it.
    deadline_ = w_->Deadline(w_->options.request_timeout);
    next_ping_ = w_->coarse_now + w_->options.ws_ping_interval;
    ws_->read_message_max(w_->options.ws_max_message_bytes);
    ws_->auto_fragment(false);
    // Pings and pongs are liveness too (Binance: a pong within a minute).
    ws_->control_callback([this](websocket::frame_type, boost::beast::string_view) { Touch(); });
    ws_->async_accept(*req_, [self = this->shared_from_this()](boost::system::error_code ec) {
      if (self->finished_) return;
      if (ec) {
        self->Finish();
        return;
      }
      self->req_.reset();
      self->Touch();
      self->Read();
      self->WriteBatch();
    });
  }

  void Send(std::shared_ptr<const std::string> text) override {
    // On the session's own thread (an answer its request completed at once,
    // run to completion) the message is queued, and usually written, now:
    // no post, no extra scheduler round. Unless messages from other threads
    // wait in the inbox for it: they go first.
    if (tl_worker == w_ && in_inbox.load(std::memory_order_relaxed) == 0) {
      Enqueue(std::move(text));
      return;
    }
    w_->PostToSession(this->shared_from_this(), std::move(text));
  }

  void OnSweep(SteadyTime now) override {
    // Not before the handshake is answered: Beast would write the ping
    // frame into its handshake answer (a ping interval shorter than the
    // handshake did that).
    if (finished_ || closing_ || ping_busy_ || !ws_->is_open() || now < next_ping_) return;
    next_ping_ = now + w_->options.ws_ping_interval;
    ping_busy_ = true;
    // During a batch, WsLayer holds the ping frame until the batch is written.
    ws_->async_ping({}, [self = this->shared_from_this()](boost::system::error_code) {
      self->ping_busy_ = false;
    });
  }

  void OnBeastWriteDone() override { WriteBatch(); }

  void FlushHeld(bool beast_frame) override {
    if (!hold_writes_) return;
    hold_writes_ = false;
    // In front of Beast's own frame the stream may already be closing (Beast
    // marks it before writing its close frame, after a protocol error in the
    // client's next frame): the held answers still precede that frame, so
    // the client learns what became of the requests that were executed.
    WriteBatch(/*before_beast_frame=*/beast_frame);
  }

 private:
  WsLayer<Stream>& layer() { return ws_->next_layer(); }

  void Touch() {
    if (!closing_) deadline_ = w_->Deadline(w_->options.ws_pong_timeout);
  }

  void Read() {
    ws_->async_read(in_, [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(boost::system::error_code ec) {
    if (finished_) return;
    if (ec) {  // closed by the peer, by us (sweep, stop, slow consumer) or broken
      FlushHeld(/*beast_frame=*/false);  // answers to messages read before the end
      Finish();
      return;
    }
    Touch();
    // What this message's handling queues is written when Beast next reads
    // the socket: at once when no other message came with this one (Read
    // below gets there), else after the messages already read, all in one
    // write (under load a read brings several, and a write each cost a
    // sendmsg and a loopback delivery each).
    hold_writes_ = true;
    auto data = in_.cdata();
    handler_->OnMessage(std::string_view(static_cast<const char*>(data.data()), data.size()));
    in_.consume(in_.size());
    if (!finished_) Read();
  }

  void Enqueue(std::shared_ptr<const std::string> t) override {
    if (finished_ || closing_ || !handler_) return;
    if (queue_.size() >= w_->options.ws_max_queue) {
      SlowConsumer();
      return;
    }
    queue_.push_back(std::move(t));
    if (!hold_writes_) WriteBatch();
  }

  // Starts writing everything queued as one batch of frames, unless a batch
  // is in flight (its completion comes back here), Beast is writing a frame
  // (OnBeastWriteDone comes back here), or the stream is not open: the
  // handshake is not answered yet (the accept handler comes back here), or
  // a close frame is on its way (Beast sets that before writing it, and no
  // data frame may follow it), except `before_beast_frame` (FlushHeld: that
  // close frame is not written yet and waits for this batch).
  void WriteBatch(bool before_beast_frame = false) {
    if (writing_ || queue_.empty() || layer().beast_writing()) return;
    if (!ws_->is_open() && !before_beast_frame) return;
    const size_t n = queue_.size();
    headers_.resize(n);  // before taking pointers into it
    bufs_.clear();
    for (size_t i = 0; i < n; ++i) {
      const std::string& m = *queue_.front();
      bufs_.emplace_back(headers_[i].data(), EncodeTextFrameHeader(m.size(), headers_[i].data()));
      if (!m.empty()) bufs_.emplace_back(m.data(), m.size());
      batch_.push_back(std::move(queue_.front()));  // keeps the payload alive
      queue_.pop_front();
    }
    next_buf_ = 0;
    writing_ = true;
    layer().BeginRawWrite();
    if (!WriteNow()) WriteSome();
  }

  // Plain TCP: writes what the socket takes now, with one non-blocking
  // sendmsg on this thread. A client that reads its answers leaves room, so
  // the batch usually ends here, without a trip through the reactor (a
  // completion handler and one more scheduler round, with its epoll_wait,
  // per answer). Returns false, having written nothing, when the socket
  // takes nothing or fails: the asynchronous write then does it (and
  // reports the error, never from inside this call, which may be running
  // inside a handler's OnMessage).
  bool WriteNow() {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      return false;
    } else {
      constexpr size_t kMaxIov = 64;  // asio's own limit per call
      iovec iov[kMaxIov];
      size_t k = 0;
      for (size_t i = next_buf_; i < bufs_.size() && k < kMaxIov; ++i, ++k) {
        iov[k].iov_base = const_cast<void*>(bufs_[i].data());
        iov[k].iov_len = bufs_[i].size();
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = k;
      const ssize_t n = ::sendmsg(raw_->native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) return false;
      OnWritten({}, static_cast<size_t>(n));  // the rest, if any, asynchronously
      return true;
    }
  }

  // Our own loop rather than asio::async_write, which hands the socket at
  // most 16 buffers and 64 KiB per call.
  void WriteSome() {
    std::span<const asio::const_buffer> rest(bufs_.data() + next_buf_, bufs_.size() - next_buf_);
    layer().next_layer().async_write_some(
        rest, [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
          self->OnWritten(ec, n);
        });
  }

  void OnWritten(boost::system::error_code ec, size_t n) {
    if (!ec && !finished_) {
      while (n > 0) {  // drop what was written
        asio::const_buffer& b = bufs_[next_buf_];
        const size_t k = std::min(n, b.size());
        b += k;
        n -= k;
        if (b.size() == 0) ++next_buf_;
      }
      if (next_buf_ < bufs_.size()) {
        WriteSome();
        return;
      }
    }
    writing_ = false;
    batch_.clear();
    if (bufs_.capacity() > kKeptBatchBuffers) {
      // A backlog's batch (up to ws_max_queue messages): do not keep its
      // arrays for the life of the session.
      std::vector<std::shared_ptr<const std::string>>().swap(batch_);
      std::vector<std::array<uint8_t, 10>>().swap(headers_);
      std::vector<asio::const_buffer>().swap(bufs_);
    }
    layer().EndRawWrite();  // may start a held Beast frame
    if (finished_) return;
    if (ec) {
      Finish();
      return;
    }
    if (closing_) {
      SendClose();
    } else {
      WriteBatch();
    }
  }

  // The client fell ws_max_queue messages behind: drop what is queued and
  // close with 1008, after the batch in flight (a frame cannot be cut). The
  // client that is not reading may never take the close frame either; the
  // write_timeout deadline then closes the socket.
  void SlowConsumer() {
    closing_ = true;
    queue_.clear();
    deadline_ = w_->Deadline(w_->options.write_timeout);
    if (!writing_) SendClose();
  }

  void SendClose() {
    if (ping_busy_) {
      // Beast allows one control operation at a time; the ping is short.
      asio::post(w_->ioc, [self = this->shared_from_this()] {
        if (!self->finished_) self->SendClose();
      });
      return;
    }
    ping_busy_ = true;  // no more pings
    ws_->async_close(websocket::close_reason(websocket::close_code::policy_error, "slow consumer"),
                     [self = this->shared_from_this()](boost::system::error_code) {
                       self->Finish();
                     });
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    Close();
    queue_.clear();
    if (auto h = std::move(handler_)) h->OnClose();
  }

  static constexpr size_t kKeptBatchBuffers = 512;

  std::optional<websocket::stream<WsLayer<Stream>, /*deflateSupported=*/false>> ws_;
  std::optional<http::request<http::string_body>> req_;  // until the handshake is answered
  std::shared_ptr<WsHandler> handler_;
  boost::beast::flat_buffer in_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  // The batch in flight: its payloads, frame headers and the buffers over
  // both, written from bufs_[next_buf_] on (capacity reused).
  std::vector<std::shared_ptr<const std::string>> batch_;
  std::vector<std::array<uint8_t, 10>> headers_;
  std::vector<asio::const_buffer> bufs_;
  size_t next_buf_ = 0;
  SteadyTime next_ping_{};
  bool writing_ = false;
  // Set while Beast hands over messages it already read (OnRead): Enqueue
  // queues without writing until FlushHeld.
  bool hold_writes_ = false;
  bool closing_ = false;
  bool ping_busy_ = false;
  bool finished_ = false;
};

// One client connection over `Stream`: tcp::socket (plain HTTP) or
// TlsStream. Owned by shared_ptrs held by its one pending operation (there
// is always exactly one while it is open: a handshake, a read, a write, a
// TLS shutdown or a drain), so it dies when that operation completes after
// Close(). The TLS-only steps are `if constexpr`, so the plain instantiation
// is the plain code with nothing added.
template <typename Stream>
class Connection : public ConnectionBase,
                   public internal::DeferTarget,
                   public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  // `args` construct the stream: (socket) or (socket, ssl::context&).
  template <typename... Args>
  explicit Connection(Worker* w, Args&&... args)
      : ConnectionBase(w), stream_(std::forward<Args>(args)...) {
    raw_ = &Socket();
  }

  void Start() {
    boost::system::error_code ec;
    Socket().set_option(tcp::no_delay(true), ec);
    CaptureRemoteIp();
    w_->Add(this);
    if constexpr (kTls) {
      // The handshake counts as reading the first request.
      state_ = State::kHandshake;
      deadline_ = w_->Deadline(opt().request_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code ec) {
                                self->OnHandshake(ec);
                              });
    } else {
      BeginRequest();
    }
  }

 private:
  tcp::socket& Socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }
  const HttpServerOptions& opt() const { return w_->options; }
  bool ServerStopping() const {
    return w_->stopping || w_->impl->stopping->load(std::memory_order_acquire);
  }

  void OnHandshake(boost::system::error_code ec) {
    if (closed_) return;
    if (!ec) {
      BeginRequest();
    } else if (IsPlainHttpOnTlsPort(ec)) {
      RefusePlainHttp();
    } else {
      Close();  // not TLS, or a TLS error: nothing we could say is readable
    }
  }

  // Answers a plain HTTP request on the TLS port in plain text (OpenSSL sent
  // no alert for it), then closes like any Connection: close response.
  void RefusePlainHttp() {
    static constexpr std::string_view kBody =
        R"({"msg":"The plain HTTP request was sent to HTTPS port"})";
    out_.clear();
    out_.append("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json;charset=UTF-8\r\n");
    out_.append("Content-Length: ");
    AppendUint(kBody.size(), &out_);
    out_.append("\r\nConnection: close\r\n\r\n").append(kBody);
    state_ = State::kWriting;
    deadline_ = w_->Deadline(opt().write_timeout);
    asio::async_write(Socket(), asio::buffer(out_),
                      [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                        if (self->closed_) return;
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->Linger();
                      });
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
    stream_.async_read_some(mb, [self = this->shared_from_this()](boost::system::error_code ec,
                                                                  size_t n) {
      self->OnRead(ec, n);
    });
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
    // Metrics: two steady_clock reads (vDSO, no syscall) per request, only
    // when an observer is set.
    scaling::RequestObserver* const observer = w_->impl->observer;
    const auto t0 = observer != nullptr ? std::chrono::steady_clock::now()
                                        : std::chrono::steady_clock::time_point();
    uint32_t endpoint = scaling::RequestObserver::kUnmatched;
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string_view(msg.method_string().data(), msg.method_string().size());
    std::string_view target(msg.target().data(), msg.target().size());
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    req.body = msg.body();
    req.remote_ip = remote_ip();
    if (auto it = msg.find("X-MBX-APIKEY"); it != msg.end()) {
      req.api_key = std::string_view(it->value().data(), it->value().size());
    }
    if (auto it = msg.find(http::field::content_type); it != msg.end()) {
      req.content_type = std::string_view(it->value().data(), it->value().size());
    }
    bool keep_alive = msg.keep_alive();
    bool http10 = msg.version() == 10;

    response_.Clear();
    if (websocket::is_upgrade(msg)) {
      if (const WsAcceptor* acceptor = w_->impl->FindWs(req.path)) {
        // A connection attempt passes the interceptor first (the rate
        // limiter counts it); a refusal is answered as HTTP, no upgrade.
        const auto& icpt = w_->impl->interceptor;
        if (icpt && !icpt(req, response_)) return Respond(false, http10);
        response_.Clear();
        if (Upgrade(*acceptor, req)) return;
      }
    }
    auto route = w_->impl->routes.find(req.path);
    if (route == w_->impl->routes.end()) {
      ApiError(ErrorId::kNotFound).AppendJson(&response_.body());
      response_.set_status(ApiError(ErrorId::kNotFound).http_status());
    } else {
      const HttpHandler* handler = nullptr;
      for (const auto& mh : route->second) {
        if (mh.method == req.method) {
          handler = &mh.handler;
          endpoint = mh.endpoint;
        }
      }
      if (handler == nullptr) {
        ApiError e(ErrorId::kUnsupportedOperation);
        response_.set_status(e.http_status());
        e.AppendJson(&response_.body());
      } else {
        try {
          const auto& icpt = w_->impl->interceptor;
          response_.BindDeferral(this, ++requests_);
          if (!icpt || icpt(req, response_)) (*handler)(req, response_);
          if (response_.deferred()) {
            // The answer comes through Finish; until then this connection
            // reads nothing more (one request at a time, as HTTP/1.1 wants).
            deferred_ = Deferred{requests_, endpoint, keep_alive, http10, t0};
            deadline_ = w_->Deadline(kDeferredTimeout);
            return;
          }
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
    Answer(endpoint, t0, keep_alive, http10);
  }

  // Reports the request to the observer and writes response_.
  void Answer(uint32_t endpoint, std::chrono::steady_clock::time_point t0, bool keep_alive,
              bool http10) {
    if (scaling::RequestObserver* const observer = w_->impl->observer; observer != nullptr) {
      observer->OnRequest(endpoint, response_.status(),
                          std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - t0)
                              .count());
    }
    Respond(keep_alive && !ServerStopping(), http10);
  }

  // internal::DeferTarget. Any thread.
  void Finish(uint64_t request, int status, std::string body) override {
    asio::post(w_->ioc, [self = this->shared_from_this(), request, status,
                         body = std::move(body)]() mutable {
      self->OnDeferredAnswer(request, status, std::move(body));
    });
  }
  std::shared_ptr<internal::DeferTarget> Keep() override { return this->shared_from_this(); }

  // On the I/O thread: the deferred answer to request `request`, unless the
  // connection closed (timeout, stop) or it was answered already.
  void OnDeferredAnswer(uint64_t request, int status, std::string body) {
    if (closed_ || state_ != State::kHandling || request != deferred_.request) return;
    deferred_.request = 0;
    response_.set_status(status);
    response_.body() = std::move(body);
    Answer(deferred_.endpoint, deferred_.t0, deferred_.keep_alive, deferred_.http10);
  }

  // Hands the stream to a new WebSocket session if the acceptor takes it;
  // this connection then leaves the worker without closing the socket (the
  // session owns it now) and dies with the handler that called Handle().
  // False (nothing changed) when the acceptor refused.
  bool Upgrade(const WsAcceptor& acceptor, const HttpRequest& req) {
    auto ws = std::make_shared<WsConnection<Stream>>(w_);
    std::shared_ptr<WsHandler> handler;
    try {
      handler = acceptor(req, ws);
    } catch (const std::exception&) {
      handler = nullptr;
    }
    if (handler == nullptr) return false;
    closed_ = true;
    w_->Remove(this);
    ws->Start(std::move(stream_), parser_->release(), std::move(handler));
    return true;
  }

  // Serializes response_ into out_ and writes it.
  void Respond(bool keep_alive, bool http10) {
    keep_alive_ = keep_alive;
    int status = response_.status();
    out_.clear();
    out_.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    AppendUint(static_cast<uint64_t>(status), &out_);
    out_.push_back(' ');
    // Beast has no name for 418, which the rate limiter answers (Binance's
    // IP ban); every other status is Beast's.
    auto reason = status == 418 ? boost::beast::string_view("I'm a teapot")
                                : http::obsolete_reason(static_cast<http::status>(status));
    out_.append(reason.data(), reason.size());
    out_.append("\r\n");
    bool has_type = false;
    for (size_t i = 0; i < response_.num_headers(); ++i) {
      const auto& h = response_.headers()[i];
      if (absl::EqualsIgnoreCase(h.name, "Content-Type")) has_type = true;
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
    asio::async_write(stream_, asio::buffer(out_),
                      [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
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
    if constexpr (kTls) {
      // close_notify first, so the client can tell the end from a
      // truncation. async_shutdown also waits for the client's close_notify
      // or EOF; the linger deadline bounds that wait.
      state_ = State::kDraining;
      deadline_ = w_->Deadline(opt().linger_timeout);
      stream_.async_shutdown([self = this->shared_from_this()](boost::system::error_code) {
        if (self->closed_) return;
        self->Linger();
      });
      return;
    }
    Linger();
  }

  // Half-close and drain what the client still sends until it closes, so
  // that unread request bytes do not turn our close into a reset that could
  // destroy the response before the client reads it. On the raw socket:
  // after a TLS shutdown (or a refused plain request) only bytes to discard
  // can follow.
  void Linger() {
    boost::system::error_code ignored;
    Socket().shutdown(tcp::socket::shutdown_send, ignored);
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
    Socket().async_read_some(mb, [self = this->shared_from_this()](boost::system::error_code ec,
                                                                   size_t) {
      if (self->closed_) return;
      if (ec) {
        self->Close();
        return;
      }
      self->Drain();
    });
  }

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpResponse response_;
  std::string out_;  // serialized response; capacity reused
  bool keep_alive_ = true;
  uint64_t requests_ = 0;  // handler calls so far: numbers deferred answers
  // The request waiting for its deferred answer (request 0: none).
  struct Deferred {
    uint64_t request = 0;
    uint32_t endpoint = 0;
    bool keep_alive = false;
    bool http10 = false;
    std::chrono::steady_clock::time_point t0;
  } deferred_;
};

void Worker::Add(ConnectionBase* c) {
  c->index = conns.size();
  conns.push_back(c);
  count.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Remove(ConnectionBase* c) {
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
    ConnectionBase* c = conns[i];
    if (past_grace || coarse_now >= c->deadline()) {
      c->Close();
    } else if (c->state() == ConnectionBase::State::kWebSocket) {
      c->OnSweep(coarse_now);
    }
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
    // A TLS handshake has no request yet either.
    auto st = conns[i]->state();
    // WebSocket sessions have no end of their own: they close now too.
    if (st == ConnectionBase::State::kIdle || st == ConnectionBase::State::kDraining ||
        st == ConnectionBase::State::kHandshake || st == ConnectionBase::State::kWebSocket) {
      conns[i]->Close();
    }
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
        if (w->impl->tls) {
          std::make_shared<Connection<TlsStream>>(w, std::move(s), *w->impl->tls)->Start();
        } else {
          std::make_shared<Connection<tcp::socket>>(w, std::move(s))->Start();
        }
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
  const auto index = static_cast<uint32_t>(impl_->endpoints.size());
  impl_->endpoints.emplace_back(std::string(method), std::string(path));
  list.push_back(MethodHandler{std::string(method), std::move(handler), index});
}

void HttpServer::SetObserver(scaling::RequestObserver* observer) { impl_->observer = observer; }

const std::vector<std::pair<std::string, std::string>>& HttpServer::endpoints() const {
  return impl_->endpoints;
}

void HttpServer::SetInterceptor(HttpInterceptor interceptor) {
  impl_->interceptor = std::move(interceptor);
}

void HttpServer::RouteWebSocket(std::string_view path, WsAcceptor acceptor) {
  impl_->ws_routes.push_back(WsRoute{std::string(path), std::move(acceptor)});
}

namespace {

// Builds the server's TLS context from the PEM files in `o`. On failure
// returns the error and sets *why to a sentence naming the file.
std::error_code LoadTls(const HttpServerOptions& o, std::optional<ssl::context>* out,
                        std::string* why) {
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    *why = "tls_cert_file and tls_key_file must be set together (both empty: plain HTTP)";
    return std::make_error_code(std::errc::invalid_argument);
  }
  auto name = [](const char* key, const std::string& path) {
    return std::string(key) + " '" + path + "'";
  };
  // OpenSSL reports a missing file as a generic "system lib" error; check
  // first so that the message says which file and why.
  for (const auto& [key, path] : {std::pair{"tls_cert_file", &o.tls_cert_file},
                                  std::pair{"tls_key_file", &o.tls_key_file}}) {
    std::FILE* f = std::fopen(path->c_str(), "rb");
    if (f == nullptr) {
      std::error_code ec(errno, std::generic_category());
      *why = name(key, *path) + ": " + ec.message();
      return ec;
    }
    std::fclose(f);
  }
  ssl::context ctx(ssl::context::tls_server);
  boost::system::error_code ec;
  // TLS 1.2 and 1.3 only; no renegotiation (a client-driven CPU sink).
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                      ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                  ec);
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION);
  if (ctx.use_certificate_chain_file(o.tls_cert_file, ec); ec) {
    *why = name("tls_cert_file", o.tls_cert_file) + ": not a PEM certificate chain (" +
           ec.message() + ")";
    return ec;
  }
  auto mismatch = [&] {
    *why = name("tls_key_file", o.tls_key_file) + " does not match the certificate in " +
           name("tls_cert_file", o.tls_cert_file) + " (" + ec.message() + ")";
    return ec;
  };
  // OpenSSL compares the key with the loaded certificate here already.
  if (ctx.use_private_key_file(o.tls_key_file, ssl::context::pem, ec); ec) {
    if (ec.category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
      return mismatch();
    }
    *why = name("tls_key_file", o.tls_key_file) + ": not a PEM private key (" + ec.message() +
           ")";
    return ec;
  }
  ERR_clear_error();
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ec.assign(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
    return mismatch();
  }
  out->emplace(std::move(ctx));
  return {};
}

}  // namespace

std::error_code HttpServer::Start() {
  start_error_.clear();
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (std::error_code e = LoadTls(options_, &impl_->tls, &start_error_); e) return e;
  }
  boost::system::error_code ec;
  auto fail = [&](const char* what) -> std::error_code {
    start_error_ = std::string(what) + " " + options_.address + ":" +
                   std::to_string(options_.port) + ": " + ec.message();
    return ec;
  };
  auto addr = asio::ip::make_address(options_.address, ec);
  if (ec) return fail("address");
  tcp::endpoint ep(addr, options_.port);
  auto& acc = *impl_->acceptor;
  if (acc.open(ep.protocol(), ec); ec) return fail("open");
  if (acc.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    acc.close();
    return fail("reuse_address");
  }
  if (acc.bind(ep, ec); ec) {
    acc.close();
    return fail("bind");
  }
  if (acc.listen(asio::socket_base::max_listen_connections, ec); ec) {
    acc.close();
    return fail("listen");
  }
  bound_port_ = acc.local_endpoint().port();
  started_ = true;
  impl_->Accept();
  for (auto& w : impl_->workers) {
    w->ArmSweep();
    Worker* wp = w.get();
    threads_.emplace_back([wp] {
      tl_worker = wp;
      wp->Run();
    });
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
