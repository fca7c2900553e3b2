// io-model-bench: does serving a connection from whichever I/O thread is
// awake cut the latency tail that a stalled vCPU causes, against each thread
// owning its connections (the exchange's model today)?
//
// One process: an echo server with --threads I/O threads and a one-thread
// open-loop client, like exbench, over --conns loopback TCP connections. Each
// 16-byte request (sequence, scheduled send time) is answered after
// --work-us of spinning, standing in for the exchange's handling. Latency
// runs from the scheduled send time to the kernel's receive stamp of the
// answer (exbench's RecvStamped), so it is free of coordinated omission and
// of the client's own read delays.
//
// Models (--model):
//   owned   each thread has its own epoll set and a fixed share of the
//           connections (round robin), as Asio's one io_context per thread;
//   shared  every thread waits on one epoll set holding every connection; a
//           connection's readiness goes to one waiting thread, and a thread
//           that finds the connection being served leaves it a note that
//           the server rereads it, so a connection is never served twice at
//           once and never left with unread requests.
//   uring   (built with liburing) each thread owns its connections, as in
//           `owned`, but through its own io_uring: one multishot receive per
//           connection into a ring of provided buffers, and the answers of
//           one round sent in one submission, so a round costs one or two
//           system calls instead of epoll_wait plus a recv, a recv that finds
//           nothing and a send per connection.
// --pin 1 pins I/O thread i to CPU i (mod CPUs); the client is never pinned.
//
// Prints one line: model, pin, answers received of requests sent,
// p50/p90/p99/p99.9/max in µs, and the server threads' CPU seconds. Exits 0
// when every request was answered, 1 when not (or on a system error), 2 on
// bad options, 3 when the kernel refuses io_uring (--model uring).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli_args.h"
#include "histogram.h"
#include "net.h"

#ifndef XC_HAVE_LIBURING
#define XC_HAVE_LIBURING 0
#endif
#if XC_HAVE_LIBURING
#include <liburing.h>
#endif

namespace {

struct Options {
  std::string model = "owned";
  bool pin = false;
  int threads = 2;
  int conns = 64;
  double rate = 10000;
  double duration_s = 8;
  double warmup_s = 2;
  int work_us = 10;
};

int64_t Now(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

struct Record {
  uint64_t seq;
  int64_t sched_ns;  // CLOCK_MONOTONIC, the scale of RecvStamped's arrival
};

// One server-side connection. `state` is used by the shared model only:
// 0 idle, 1 being served, 2 being served and readable again since.
struct ServerConn {
  int fd = -1;
  std::atomic<int> state{0};
  std::string in, out;  // bytes of a request cut by the read; answers to send
};

class Server {
 public:
  Server(const Options& o, std::vector<int> fds) : o_(o) {
    for (int fd : fds) {
      auto c = std::make_unique<ServerConn>();
      c->fd = fd;
      conns_.push_back(std::move(c));
    }
    const int sets = o_.model == "shared" ? 1 : o_.model == "uring" ? 0 : o_.threads;
    for (int i = 0; i < sets; ++i) {
      const int ep = epoll_create1(0);
      if (ep < 0) Die("epoll_create1");
      epfds_.push_back(ep);
    }
    for (size_t i = 0; i < conns_.size() && !epfds_.empty(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLET;
      ev.data.ptr = conns_[i].get();
      if (epoll_ctl(epfds_[i % epfds_.size()], EPOLL_CTL_ADD, conns_[i]->fd, &ev) != 0) {
        Die("epoll_ctl");
      }
    }
  }

  void Start() {
    for (int t = 0; t < o_.threads; ++t) {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }

  // Stops and joins the threads; returns their CPU seconds.
  double Stop() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    return cpu_ns_.load() / 1e9;
  }

 private:
  void Run(int t) {
    if (o_.pin) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(t % static_cast<int>(std::thread::hardware_concurrency()), &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
#if XC_HAVE_LIBURING
    if (o_.model == "uring") {
      RunUring(t);
      cpu_ns_.fetch_add(Now(CLOCK_THREAD_CPUTIME_ID));
      return;
    }
#endif
    const int ep = epfds_[static_cast<size_t>(t) % epfds_.size()];
    const bool shared = o_.model == "shared";
    epoll_event evs[16];
    while (!stop_.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(ep, evs, 16, 20);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<ServerConn*>(evs[i].data.ptr);
        if (!shared) {
          Serve(*c);
          continue;
        }
        // 0 -> 1: ours to serve. 1 -> 2: another thread serves it and
        // will read it again. 2: that is noted already.
        int s = c->state.load();
        while (s != 2 && !c->state.compare_exchange_weak(s, s + 1)) {
        }
        if (s != 0) continue;
        for (;;) {
          Serve(*c);
          int busy = 1;
          if (c->state.compare_exchange_strong(busy, 0)) break;
          c->state.store(1);  // it was 2: readable again while served
        }
      }
    }
    cpu_ns_.fetch_add(Now(CLOCK_THREAD_CPUTIME_ID));
  }

  // Reads everything there is (edge-triggered), answers each whole request.
  void Serve(ServerConn& c) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return;  // EAGAIN: drained; 0 or an error: the client is gone
      }
      c.in.append(buf, static_cast<size_t>(n));
      Answer(&c.in, &c.out);
      size_t sent = 0;
      while (sent < c.out.size()) {
        const ssize_t w = ::send(c.fd, c.out.data() + sent, c.out.size() - sent, MSG_NOSIGNAL);
        if (w > 0) {
          sent += static_cast<size_t>(w);
        } else if (w < 0 && errno != EINTR) {
          break;  // the client reads everything; a full buffer is a bug here
        }
      }
      c.out.clear();
    }
  }

#if XC_HAVE_LIBURING
  // A connection of a uring thread: what it has read and not yet answered,
  // the answers waiting for the next submission, and the ones being sent
  // (one send in flight per connection, so its bytes stay in order).
  struct UringConn {
    int fd = -1;
    std::string in, pending, inflight;
    size_t sent = 0;
    bool sending = false;
  };

  static void DieErr(int negative_errno, const char* what) {
    errno = -negative_errno;
    Die(what);
  }

  void RunUring(int t) {
    constexpr unsigned kBufs = 256;  // a power of two
    constexpr unsigned kBufSize = 4096;
    io_uring ring;
    int r = io_uring_queue_init(2048, &ring,
                                IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    if (r == -EPERM || r == -ENOSYS) {
      std::fprintf(stderr, "io-model-bench: io_uring is not permitted here\n");
      std::exit(3);
    }
    if (r < 0) DieErr(r, "io_uring_queue_init");
    // Receive buffers the kernel picks from (group 0), handed back after use.
    void* mem = nullptr;
    if (posix_memalign(&mem, 4096, kBufs * sizeof(io_uring_buf)) != 0) Die("posix_memalign");
    auto* br = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(br);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uintptr_t>(br);
    reg.ring_entries = kBufs;
    reg.bgid = 0;
    if ((r = io_uring_register_buf_ring(&ring, &reg, 0)) != 0) DieErr(r, "io_uring_register_buf_ring");
    std::vector<char> bufs(size_t{kBufs} * kBufSize);
    const int mask = io_uring_buf_ring_mask(kBufs);
    for (unsigned i = 0; i < kBufs; ++i) {
      io_uring_buf_ring_add(br, bufs.data() + size_t{i} * kBufSize, kBufSize,
                            static_cast<unsigned short>(i), mask, static_cast<int>(i));
    }
    io_uring_buf_ring_advance(br, kBufs);

    std::vector<UringConn> mine;
    for (size_t i = static_cast<size_t>(t); i < conns_.size(); i += static_cast<size_t>(o_.threads)) {
      mine.emplace_back().fd = conns_[i]->fd;
    }
    auto sqe_for = [&] {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      if (sqe == nullptr) {
        io_uring_submit(&ring);
        sqe = io_uring_get_sqe(&ring);
      }
      return sqe;
    };
    // user_data: connection index << 1, low bit 1 for a send.
    auto arm = [&](size_t k) {
      io_uring_sqe* sqe = sqe_for();
      io_uring_prep_recv_multishot(sqe, mine[k].fd, nullptr, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = 0;
      io_uring_sqe_set_data64(sqe, k << 1);
    };
    auto send_rest = [&](size_t k) {
      UringConn& u = mine[k];
      io_uring_sqe* sqe = sqe_for();
      io_uring_prep_send(sqe, u.fd, u.inflight.data() + u.sent, u.inflight.size() - u.sent,
                         MSG_NOSIGNAL);
      io_uring_sqe_set_data64(sqe, (k << 1) | 1);
    };
    for (size_t k = 0; k < mine.size(); ++k) arm(k);

    std::vector<size_t> ready;  // connections with answers to send
    while (!stop_.load(std::memory_order_relaxed)) {
      __kernel_timespec wait{0, 20'000'000};
      io_uring_cqe* first = nullptr;
      r = io_uring_submit_and_wait_timeout(&ring, &first, 1, &wait, nullptr);
      if (r < 0 && r != -ETIME && r != -EINTR) DieErr(r, "io_uring_submit_and_wait_timeout");
      unsigned head, seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring, head, cqe) {
        ++seen;
        const uint64_t data = io_uring_cqe_get_data64(cqe);
        const size_t k = data >> 1;
        UringConn& u = mine[k];
        if (data & 1) {  // a send
          if (cqe->res < 0) continue;  // the client is gone
          u.sent += static_cast<size_t>(cqe->res);
          if (u.sent < u.inflight.size()) {
            send_rest(k);
            continue;
          }
          u.sending = false;
          if (!u.pending.empty()) ready.push_back(k);
          continue;
        }
        if (cqe->res > 0) {
          const unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
          char* buf = bufs.data() + size_t{bid} * kBufSize;
          u.in.append(buf, static_cast<size_t>(cqe->res));
          io_uring_buf_ring_add(br, buf, kBufSize, static_cast<unsigned short>(bid), mask, 0);
          io_uring_buf_ring_advance(br, 1);
          Answer(&u.in, &u.pending);
          if (!u.sending && !u.pending.empty()) ready.push_back(k);
        }
        // Out of buffers (-ENOBUFS) or otherwise ended: receive again,
        // unless the client is gone (0: end of stream, or an error).
        if (!(cqe->flags & IORING_CQE_F_MORE) && (cqe->res > 0 || cqe->res == -ENOBUFS)) arm(k);
      }
      io_uring_cq_advance(&ring, seen);
      for (size_t k : ready) {
        UringConn& u = mine[k];
        if (u.sending || u.pending.empty()) continue;
        u.inflight.swap(u.pending);
        u.pending.clear();
        u.sent = 0;
        u.sending = true;
        send_rest(k);
      }
      ready.clear();
    }
    io_uring_queue_exit(&ring);
    std::free(mem);
  }
#endif

  // Answers each whole request at the front of *in (spinning --work-us
  // for each, the handling), appending the answers to *out; leaves a request
  // cut by the read in *in.
  void Answer(std::string* in, std::string* out) const {
    size_t off = 0;
    for (; in->size() - off >= sizeof(Record); off += sizeof(Record)) {
      const int64_t until = Now(CLOCK_MONOTONIC) + int64_t{o_.work_us} * 1000;
      while (Now(CLOCK_MONOTONIC) < until) {
      }
      out->append(*in, off, sizeof(Record));
    }
    in->erase(0, off);
  }

  const Options& o_;
  std::vector<std::unique_ptr<ServerConn>> conns_;
  std::vector<int> epfds_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> cpu_ns_{0};
};

// Connects `n` client sockets to `listener` (exbench's ConnectTcp: blocking,
// TCP_NODELAY) with receive stamps on; returns {client fds, server fds}.
std::pair<std::vector<int>, std::vector<int>> Connect(int listener, int n) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) Die("getsockname");
  std::vector<int> cl, sv;
  const int one = 1;
  for (int i = 0; i < n; ++i) {
    std::string error;
    const int fd = xc::exbench::ConnectTcp("127.0.0.1", ntohs(addr.sin_port), &error);
    if (fd < 0) {
      std::fprintf(stderr, "io-model-bench: %s\n", error.c_str());
      std::exit(1);
    }
    const int s = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
    if (s < 0) Die("accept4");
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!xc::exbench::EnableRxTimestamps(fd)) Die("SO_TIMESTAMPNS");
    cl.push_back(fd);
    sv.push_back(s);
  }
  return {cl, sv};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  xc::bench::ArgReader args(argc, argv);
  bool ok = true;
  while (ok && args.Next()) {
    const std::string& f = args.flag();
    uint64_t u = 0;
    if (f == "--model") {
      ok = args.Value(&o.model) && (o.model == "owned" || o.model == "shared" ||
                                    (XC_HAVE_LIBURING && o.model == "uring"));
    } else if (f == "--pin") {
      ok = args.Uint(&u) && u <= 1;
      o.pin = u == 1;
    } else if (f == "--threads" || f == "--conns" || f == "--work-us") {
      ok = args.Uint(&u) && u <= 100000 && (u > 0 || f == "--work-us");
      (f == "--threads" ? o.threads : f == "--conns" ? o.conns : o.work_us) = static_cast<int>(u);
    } else if (f == "--rate") {
      ok = args.Double(&o.rate) && o.rate > 0;
    } else if (f == "--duration") {
      ok = args.Double(&o.duration_s) && o.duration_s > 0;
    } else if (f == "--warmup") {
      ok = args.Double(&o.warmup_s) && o.warmup_s >= 0;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    std::fprintf(stderr,
                 "usage: io-model-bench [--model owned|shared|uring] [--pin 0|1] [--threads N]\n"
                 "       [--conns N] [--rate R] [--duration S] [--warmup S] [--work-us U]\n");
    return 2;
  }

  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener, 1024) != 0) {
    Die("listen");
  }
  auto [cfds, sfds] = Connect(listener, o.conns);
  Server server(o, sfds);
  server.Start();

  // Wake at the scheduled send time, not up to 50 µs after it (the default
  // timer slack), as exbench does.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const int ep = epoll_create1(0);
  for (size_t i = 0; i < cfds.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, cfds[i], &ev);
  }
  const double interval_ns = 1e9 / o.rate;
  const uint64_t total = static_cast<uint64_t>(o.rate * (o.warmup_s + o.duration_s));
  const uint64_t warm = static_cast<uint64_t>(o.rate * o.warmup_s);
  const int64_t t0 = Now(CLOCK_MONOTONIC) + 1'000'000;
  auto due = [&](uint64_t i) { return t0 + static_cast<int64_t>(static_cast<double>(i) * interval_ns); };
  const int64_t give_up = t0 + static_cast<int64_t>((o.warmup_s + o.duration_s + 5) * 1e9);
  xc::exbench::LatencyHistogram lat;
  std::vector<std::string> partial(cfds.size());
  uint64_t next = 0, answered = 0;
  epoll_event evs[64];
  while (answered < total && Now(CLOCK_MONOTONIC) < give_up) {
    for (const int64_t now = Now(CLOCK_MONOTONIC); next < total && due(next) <= now; ++next) {
      const Record r{next, due(next)};
      const int fd = cfds[next % cfds.size()];
      if (::send(fd, &r, sizeof r, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof r)) Die("send");
    }
    const int64_t wait_ns =
        next < total ? std::max<int64_t>(0, due(next) - Now(CLOCK_MONOTONIC)) : 1'000'000;
    const timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000),
                      static_cast<long>(wait_ns % 1'000'000'000)};
    const int n = epoll_pwait2(ep, evs, 64, &ts, nullptr);
    for (int i = 0; i < n; ++i) {
      const size_t ci = evs[i].data.u64;
      char buf[4096];
      int64_t arrival, read_at;
      const long got = xc::exbench::RecvStamped(cfds[ci], buf, sizeof buf, &arrival, &read_at);
      if (got <= 0) continue;
      std::string& p = partial[ci];
      p.append(buf, static_cast<size_t>(got));
      size_t off = 0;
      for (; p.size() - off >= sizeof(Record); off += sizeof(Record)) {
        Record r;
        std::memcpy(&r, p.data() + off, sizeof r);
        ++answered;
        if (r.seq >= warm) lat.Record(arrival - r.sched_ns);
      }
      p.erase(0, off);
    }
  }
  const double cpu = server.Stop();
  std::printf(
      "model %-6s pin %d threads %d work %d us rate %.0f answered %llu/%llu | p50 %.1f p90 %.1f "
      "p99 %.1f p99.9 %.1f max %.1f us | server CPU %.2f s\n",
      o.model.c_str(), o.pin ? 1 : 0, o.threads, o.work_us, o.rate,
      static_cast<unsigned long long>(answered), static_cast<unsigned long long>(total),
      lat.Percentile(50) / 1e3, lat.Percentile(90) / 1e3, lat.Percentile(99) / 1e3,
      lat.Percentile(99.9) / 1e3, lat.max() / 1e3, cpu);
  return answered == total ? 0 : 1;
}
