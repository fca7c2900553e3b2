#include "load.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <deque>
#include <string_view>

#include "net.h"
#include "reply_scan.h"

namespace xc::exbench {

int64_t MonoNowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}


uint64_t PhaseStats::error_count() const {
  uint64_t n = 0;
  for (const auto& [k, v] : errors) n += v;
  return n;
}

void PhaseStats::Merge(const PhaseStats& o) {
  place.Merge(o.place);
  cancel.Merge(o.cancel);
  orders.Merge(o.orders);
  orders_read.Merge(o.orders_read);
  rest.Merge(o.rest);
  send_lag.Merge(o.send_lag);
  sent_place += o.sent_place;
  sent_cancel += o.sent_cancel;
  sent_rest += o.sent_rest;
  ok_place += o.ok_place;
  filled += o.filled;
  ok_cancel += o.ok_cancel;
  ok_rest += o.ok_rest;
  replies_in_window += o.replies_in_window;
  rest_in_window += o.rest_in_window;
  timeouts += o.timeouts;
  unmatched += o.unmatched;
  stalls += o.stalls;
  for (const auto& [k, v] : o.errors) errors[k] += v;
  client_cpu_s += o.client_cpu_s;
  timer_overshoot_ns = std::max(timer_overshoot_ns, o.timer_overshoot_ns);
  bursts = bursts || o.bursts;
  wall_s = std::max(wall_s, o.wall_s);
}

namespace {

constexpr uint64_t kRestTag = uint64_t{1} << 63;

enum OpKind : uint8_t { kPlace = 0, kCancel = 1 };

// Order variants a connection may place; signing and JSON text prepared once.
enum Variant : int { kBuyLowGtc, kSellHighGtc, kBuyLowIoc, kSellHighIoc, kSellMidGtc, kBuyMidIoc,
                     kVariants };

struct PreparedPlace {
  std::string sig_prefix;   // "apiKey=..&...&timestamp="
  std::string sig_suffix;   // "&type=LIMIT"
  std::string json_prefix;  // {"method":"order.place","params":{...,"timestamp":
  std::string query;        // REST: "symbol=..&...&newOrderRespType=ACK&timestamp="
  bool rests = false;       // GTC: its orderId is kept for a later cancel
};

struct Pending {
  uint64_t seq = 0;
  int64_t sched_ns = 0;
  uint8_t kind = 0;
  bool busy = false;
  bool measured = false;
  bool rests = false;
};

char* Hex(const gateway::HmacSha256Digest& d, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : d) {
    *out++ = kDigits[b >> 4];
    *out++ = kDigits[b & 15];
  }
  return out;
}

char* Put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
char* PutInt(char* p, int64_t v) { return std::to_chars(p, p + 24, v).ptr; }

enum class RecvEnd { kStopped, kDrained, kEof, kFailed };

// The receive loop of both kinds of connection: recv() from `fd` into `in`
// after its first `*len` bytes (grown to keep 16 KiB free; EINTR retried),
// adding what came to `*len` and calling on_data(bytes read, arrival,
// read_at) (RecvStamped), which returns false to stop reading. Ends when
// on_data stopped (kStopped), recv() would block or read less than it could
// (kDrained: the sockets are polled level-triggered), the peer closed
// (kEof) or recv() failed (kFailed).
template <typename OnData>
RecvEnd RecvLoop(int fd, std::vector<char>* in, size_t* len, OnData&& on_data) {
  for (;;) {
    if (in->size() - *len < 16384) in->resize(in->size() * 2);
    int64_t arrival = 0, read_at = 0;
    const long n = RecvStamped(fd, in->data() + *len, in->size() - *len, &arrival, &read_at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return RecvEnd::kDrained;
    if (n == 0) return RecvEnd::kEof;
    if (n < 0) return RecvEnd::kFailed;
    const bool short_read = static_cast<size_t>(n) < in->size() - *len;
    *len += static_cast<size_t>(n);
    if (!on_data(static_cast<size_t>(n), arrival, read_at)) return RecvEnd::kStopped;
    // The sockets are polled level-triggered: after a short read the queue
    // was empty, and bytes that come later make the next poll report the
    // socket again. Reading on to EAGAIN would cost a system call per reply.
    if (short_read) return RecvEnd::kDrained;
  }
}

// A fixed ring of order ids (no allocation after construction), oldest first.
class OrderIdRing {
 public:
  static constexpr size_t kCapacity = 1024;
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  bool full() const { return size_ == kCapacity; }
  int64_t front() const { return ids_[head_]; }
  void pop_front() {
    head_ = (head_ + 1) % kCapacity;
    --size_;
  }
  void push_back(int64_t id) { ids_[(head_ + size_++) % kCapacity] = id; }

 private:
  std::array<int64_t, kCapacity> ids_{};
  size_t head_ = 0, size_ = 0;
};

struct WsConn {
  int fd = -1;
  int user = 0;
  int global_index = 0;
  bool dead = false;
  bool want_write = false;
  bool dirty = false;
  std::vector<char> out;
  size_t out_head = 0, out_len = 0;
  std::vector<char> in;
  size_t in_head = 0, in_len = 0;
  std::string frag;  // a fragmented message being reassembled (rare)
  std::vector<Pending> ring;
  uint64_t mask = 0;
  uint64_t next_seq = 1;
  uint64_t inflight = 0;
  std::array<PreparedPlace, kVariants> places;
  std::string cancel_sig_a, cancel_sig_b, cancel_json_a;
  std::string http_headers;  // REST: " HTTP/1.1\r\nHost..X-MBX-APIKEY..\r\n\r\n"
  // REST order entry: one request in flight; operations due meanwhile wait
  // here with their scheduled time (and are charged from it).
  std::deque<std::pair<int64_t, bool>> backlog;
  // Open orders (acknowledged GTC places), oldest first.
  OrderIdRing open;
  bool next_cancel = false;
  bool next_sell = false;
  int64_t last_order_id = -1;
};

struct RestConn {
  int fd = -1;
  bool dead = false;
  bool busy = false;
  int64_t sched_ns = 0;
  bool measured = false;
  std::deque<std::pair<int64_t, bool>> queue;
  std::string out;
  size_t out_head = 0;
  std::vector<char> in;
  size_t in_len = 0;
};

}  // namespace

struct Worker::Impl {
  int index;
  LoadTarget target;
  OrderSpec spec;
  const std::vector<User>* users;
  std::vector<WsConn> conns;
  std::vector<RestConn> rest;
  int epfd = -1;
  bool rest_orders = false;  // order entry over REST instead of the WS API
  PhaseStats* stats = nullptr;
  int64_t window_begin = 0, window_end = 0;
  int64_t read_now = 0;  // when the bytes being handled were read (RecvLoop)
  // A timed wake-up comes late: on a VM by 40-60 µs (the hypervisor's
  // timer), which would make every operation go out that late and be
  // charged for it. So the wait for a send is cut short by this estimate of
  // the overshoot, learnt from the wake-ups, and the rest is spun in
  // non-blocking polls. Spinning is rationed to 1/kSpinShare of the time
  // (a token bucket of at most kSpinBurstNs), so that at a high rate, where
  // every gap is shorter than the overshoot, the client does not take a
  // core from the server it shares the machine with; it then sleeps and
  // sends late, as before.
  static constexpr int64_t kMaxWakeEarlyNs = 200'000;
  static constexpr int64_t kSpinShare = 5;
  static constexpr int64_t kSpinBurstNs = 200'000;
  // Nor when operations are due more often than the overshoot: then no
  // wait between two of them could be a sleep anyway, and the client sends
  // them in bursts (the phase's shortest interval between sends, ns). In
  // that regime it sleeps on the timer alone, not woken by each reply (a
  // reply's latency is the kernel's receive stamp, whenever it is read),
  // and reads what came when it wakes to send: one wake-up per burst
  // instead of one per reply and timer, each of which costs CPU of the
  // machine the server shares (figures in README.md, "Bursts").
  int64_t wake_early_ns = 0;
  int64_t spin_tokens_ns = 0;
  int64_t spin_clock = 0;
  int64_t send_interval_ns = 0;
  // The median lateness of a timed sleep on this machine (measured once per
  // worker, MeasureTimerOvershoot); -1 before.
  int64_t timer_overshoot_ns = -1;
  // This phase's operations are due more often than that (set by RunPhase).
  bool bursts = false;

  // Sleeps 15 times for 100 µs and returns the median lateness (ns).
  static int64_t MeasureTimerOvershoot() {
    std::array<int64_t, 15> late{};
    for (int64_t& l : late) {
      const int64_t until = MonoNowNs() + 100'000;
      SleepUntil(until);
      l = MonoNowNs() - until;
    }
    std::nth_element(late.begin(), late.begin() + late.size() / 2, late.end());
    return late[late.size() / 2];
  }

  static void SleepUntil(int64_t mono_ns) {
    const timespec until{static_cast<time_t>(mono_ns / 1'000'000'000),
                         static_cast<long>(mono_ns % 1'000'000'000)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    }
  }
  char scratch[2048];

  void Prepare(WsConn& c) {
    const User& u = (*users)[c.user];
    const std::string& s = spec.symbol;
    struct V {
      const char* side;
      const std::string* price;
      const char* tif;
    };
    const V vs[kVariants] = {{"BUY", &spec.low_price, "GTC"},   {"SELL", &spec.high_price, "GTC"},
                             {"BUY", &spec.low_price, "IOC"},   {"SELL", &spec.high_price, "IOC"},
                             {"SELL", &spec.mid_price, "GTC"},  {"BUY", &spec.mid_price, "IOC"}};
    for (int i = 0; i < kVariants; ++i) {
      PreparedPlace& p = c.places[i];
      // Sorted by name: apiKey, newOrderRespType, price, quantity, side,
      // symbol, timeInForce, timestamp, type (BINANCE_COMPAT.md §6).
      p.sig_prefix = "apiKey=" + u.api_key + "&newOrderRespType=" + spec.resp_type +
                     "&price=" + *vs[i].price + "&quantity=" + spec.qty + "&side=" + vs[i].side +
                     "&symbol=" + s + "&timeInForce=" + vs[i].tif + "&timestamp=";
      p.sig_suffix = "&type=LIMIT";
      p.json_prefix = R"({"method":"order.place","params":{"symbol":")" + s + R"(","side":")" +
                      vs[i].side + R"(","type":"LIMIT","timeInForce":")" + vs[i].tif +
                      R"(","price":")" + *vs[i].price + R"(","quantity":")" + spec.qty +
                      R"(","newOrderRespType":")" + spec.resp_type + R"(","apiKey":")" +
                      u.api_key + R"(","timestamp":)";
      p.rests = std::string_view(vs[i].tif) == "GTC";
      p.query = "symbol=" + s + "&side=" + vs[i].side + "&type=LIMIT&timeInForce=" + vs[i].tif +
                "&price=" + *vs[i].price + "&quantity=" + spec.qty +
                "&newOrderRespType=" + spec.resp_type + "&timestamp=";
    }
    c.http_headers = " HTTP/1.1\r\nHost: " + target.host + "\r\nX-MBX-APIKEY: " + u.api_key +
                     "\r\nContent-Length: 0\r\n\r\n";
    // apiKey, orderId, symbol, timestamp.
    c.cancel_sig_a = "apiKey=" + u.api_key + "&orderId=";
    c.cancel_sig_b = "&symbol=" + s + "&timestamp=";
    c.cancel_json_a = R"({"method":"order.cancel","params":{"symbol":")" + s +
                      R"(","apiKey":")" + u.api_key + R"(","orderId":)";
  }

  // Room for `n` more bytes at the end of c.out.
  static char* Reserve(WsConn& c, size_t n) {
    if (c.out_len + n > c.out.size()) c.out.resize(std::max(c.out.size() * 2, c.out_len + n));
    return c.out.data() + c.out_len;
  }

  // Frames and queues one request. The payload is written 8 bytes in, where
  // the header for a 126..65535-byte payload ends.
  void Send(WsConn& c, int64_t sched, int64_t now, int64_t wall_ms, bool measured) {
    const uint64_t seq = c.next_seq;
    Pending& slot = c.ring[seq & c.mask];
    char* base = Reserve(c, 1024);
    char* p = base + 8;
    const char* payload = p;
    const gateway::HmacSha256Key& key = *(*users)[c.user].key;
    char ts[24];
    const size_t ts_len = static_cast<size_t>(PutInt(ts, wall_ms) - ts);
    const std::string_view tsv(ts, ts_len);
    char hex[64];
    uint8_t kind;
    bool rests = false;
    const bool cancel = spec.mix == Mix::kPlaceCancel && !c.open.empty() &&
                        (c.next_cancel || static_cast<int>(c.open.size()) >= spec.max_open_per_conn);
    if (cancel) {
      const int64_t oid = c.open.front();
      c.open.pop_front();
      char oid_buf[24];
      const std::string_view oidv(oid_buf, static_cast<size_t>(PutInt(oid_buf, oid) - oid_buf));
      if (rest_orders) {
        p = Put(base, "DELETE /api/v3/order?");
        const char* q = p;
        p = Put(p, "symbol=");
        p = Put(p, spec.symbol);
        p = Put(p, "&orderId=");
        p = Put(p, oidv);
        p = Put(p, "&timestamp=");
        p = Put(p, tsv);
        Hex(key.Sign(std::string_view(q, static_cast<size_t>(p - q))), hex);
      } else {
        const std::string_view pieces[] = {c.cancel_sig_a, oidv, c.cancel_sig_b, tsv};
        Hex(key.Sign(pieces), hex);
        p = Put(p, c.cancel_json_a);
        p = Put(p, oidv);
        p = Put(p, R"(,"timestamp":)");
        p = Put(p, tsv);
      }
      kind = kCancel;
      c.next_cancel = false;
    } else {
      int v;
      switch (spec.mix) {
        case Mix::kPlaceCancel: v = c.next_sell ? kSellHighGtc : kBuyLowGtc; break;
        case Mix::kIoc: v = c.next_sell ? kSellHighIoc : kBuyLowIoc; break;
        default: v = (c.global_index % 2 == 0) ? kSellMidGtc : kBuyMidIoc; break;
      }
      c.next_sell = !c.next_sell;
      const PreparedPlace& pp = c.places[v];
      if (rest_orders) {
        p = Put(base, "POST /api/v3/order?");
        const char* q = p;
        p = Put(p, pp.query);
        p = Put(p, tsv);
        Hex(key.Sign(std::string_view(q, static_cast<size_t>(p - q))), hex);
      } else {
        const std::string_view pieces[] = {pp.sig_prefix, tsv, pp.sig_suffix};
        Hex(key.Sign(pieces), hex);
        p = Put(p, pp.json_prefix);
        p = Put(p, tsv);
      }
      kind = kPlace;
      rests = pp.rests && spec.mix == Mix::kPlaceCancel;
      c.next_cancel = true;
    }
    if (rest_orders) {
      p = Put(p, "&signature=");
      p = Put(p, std::string_view(hex, 64));
      p = Put(p, c.http_headers);
      c.out_len += static_cast<size_t>(p - base);
    } else {
      p = Put(p, R"(,"signature":")");
      p = Put(p, std::string_view(hex, 64));
      p = Put(p, R"("},"id":)");
      p = PutInt(p, static_cast<int64_t>(seq));
      *p++ = '}';
      const size_t len = static_cast<size_t>(p - payload);
      // Every request is > 125 bytes, so the header is 8 bytes.
      WsClientFrameHeader(base, 1, len);
      c.out_len += 8 + len;
    }
    c.dirty = true;
    slot = Pending{seq, sched, kind, true, measured, rests};
    ++c.next_seq;
    ++c.inflight;
    if (measured) {
      if (kind == kPlace) ++stats->sent_place;
      else ++stats->sent_cancel;
    }
    stats->send_lag.Record(now - sched);
  }

  void SetWrite(int fd, uint64_t tag, bool on) {
    epoll_event ev{};
    ev.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.u64 = tag;
    ::epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
  }

  void Flush(WsConn& c, size_t i) {
    c.dirty = false;
    while (c.out_head < c.out_len) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_head, c.out_len - c.out_head, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_head += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_write) {
          c.want_write = true;
          SetWrite(c.fd, i, true);
        }
        return;
      }
      Kill(c, "ws send failed");
      return;
    }
    c.out_head = c.out_len = 0;
    if (c.want_write) {
      c.want_write = false;
      SetWrite(c.fd, i, false);
    }
  }

  void Kill(WsConn& c, const char* why) {
    if (c.dead) return;
    c.dead = true;
    ++stats->errors[std::string("closed: ") + why];
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
  }

  void OnMessage(WsConn& c, std::string_view msg, int64_t now) {
    const WsReply r = ScanWsReply(msg);
    if (r.id < 0) return;  // an event, not a reply
    OnReply(c, r, "ws ", now);
  }

  void OnReply(WsConn& c, const WsReply& r, const char* api, int64_t now) {
    Pending& slot = c.ring[static_cast<uint64_t>(r.id) & c.mask];
    if (!slot.busy || slot.seq != static_cast<uint64_t>(r.id)) {
      ++stats->unmatched;
      return;
    }
    slot.busy = false;
    --c.inflight;
    if (now >= window_begin && now < window_end) ++stats->replies_in_window;
    const bool ok = r.status == 200;
    if (ok) {
      if (r.order_id >= 0) c.last_order_id = r.order_id;
      if (slot.rests && r.order_id >= 0) {
        if (!c.open.full()) c.open.push_back(r.order_id);  // else it stays open
      }
    } else {
      char key[64];
      char* p = Put(key, api);
      p = PutInt(p, r.status);
      *p++ = ' ';
      p = PutInt(p, r.code);
      ++stats->errors[std::string(key, static_cast<size_t>(p - key))];
    }
    if (slot.measured) {
      const int64_t lat = now - slot.sched_ns;
      stats->orders.Record(lat);
      stats->orders_read.Record(std::max(now, read_now) - slot.sched_ns);
      if (slot.kind == kPlace) {
        stats->place.Record(lat);
        if (ok) ++stats->ok_place;
        if (r.filled) ++stats->filled;
      } else {
        stats->cancel.Record(lat);
        if (ok) ++stats->ok_cancel;
      }
    }
  }

  // REST order entry: whole responses at the front of c.in, oldest request
  // first (one in flight). False if the connection died.
  bool OnHttpReplies(WsConn& c, size_t i, int64_t now) {
    for (;;) {
      HttpHead h;
      const std::string_view buf(c.in.data() + c.in_head, c.in_len - c.in_head);
      const int rc = ParseHttpResponse(buf, &h);
      if (rc < 0) {
        Kill(c, "bad http response");
        return false;
      }
      if (rc == 0) break;
      const std::string_view body = buf.substr(h.head_bytes, h.content_length);
      c.in_head += h.head_bytes + h.content_length;
      WsReply r;
      r.id = static_cast<int64_t>(c.next_seq - c.inflight);
      r.status = h.status;
      if (h.status == 200) {
        FindInt(body, R"("orderId":)", &r.order_id);
      } else {
        FindInt(body, R"("code":)", &r.code);
      }
      if (c.inflight == 0) {
        ++stats->unmatched;
      } else {
        OnReply(c, r, "http ", now);
      }
      if (!c.backlog.empty() && c.inflight == 0) {
        auto [sched, measured] = c.backlog.front();
        c.backlog.pop_front();
        Send(c, sched, now, WallMs(), measured);
        Flush(c, i);
        if (c.dead) return false;
      }
    }
    if (c.in_head == c.in_len) {
      c.in_head = c.in_len = 0;
    } else if (c.in_head > c.in.size() / 2) {
      std::memmove(c.in.data(), c.in.data() + c.in_head, c.in_len - c.in_head);
      c.in_len -= c.in_head;
      c.in_head = 0;
    }
    return true;
  }

  void OnReadable(WsConn& c, size_t i) {
    const RecvEnd end = RecvLoop(c.fd, &c.in, &c.in_len, [&](size_t n, int64_t now, int64_t read) {
      read_now = read;
      if (rest_orders) return OnHttpReplies(c, i, now);
      for (;;) {
        WsFrame f;
        const std::string_view buf(c.in.data() + c.in_head, c.in_len - c.in_head);
        const int rc = ParseWsServerFrame(buf, &f);
        if (rc < 0) {
          Kill(c, "bad ws frame");
          return false;
        }
        if (rc == 0) break;
        const std::string_view payload = buf.substr(f.header_bytes, f.payload_bytes);
        c.in_head += f.header_bytes + f.payload_bytes;
        if (f.opcode == 1 || f.opcode == 2 || f.opcode == 0) {
          if (f.fin && c.frag.empty()) {
            OnMessage(c, payload, now);
          } else {
            c.frag.append(payload);
            if (f.fin) {
              std::string whole;
              whole.swap(c.frag);
              OnMessage(c, whole, now);
            }
          }
        } else if (f.opcode == 9) {  // ping -> pong with the same payload
          char* base = Reserve(c, 14 + payload.size());
          const size_t h = WsClientFrameHeader(base, 10, payload.size());
          std::memcpy(base + h, payload.data(), payload.size());
          c.out_len += h + payload.size();
          Flush(c, i);
        } else if (f.opcode == 8) {
          Kill(c, "ws close from server");
          return false;
        }
      }
      if (c.in_head == c.in_len) {
        c.in_head = c.in_len = 0;
      } else if (c.in_head > c.in.size() / 2) {
        std::memmove(c.in.data(), c.in.data() + c.in_head, c.in_len - c.in_head);
        c.in_len -= c.in_head;
        c.in_head = 0;
      }
      return n >= 16384;  // else likely drained; epoll will say if not
    });
    if (end == RecvEnd::kEof) Kill(c, "ws eof");
    if (end == RecvEnd::kFailed) Kill(c, "ws recv failed");
  }

  // ---- REST reads -------------------------------------------------------

  void RestSend(RestConn& r, size_t i, int64_t sched, bool measured, int64_t wall_ms) {
    r.busy = true;
    r.sched_ns = sched;
    r.measured = measured;
    if (measured) ++stats->sent_rest;
    r.out.clear();
    r.out_head = 0;
    // "order" needs an order this worker knows; until then it reads depth.
    const WsConn* with_order = nullptr;
    if (target.rest_kind == "order") {
      for (const WsConn& c : conns)
        if (c.last_order_id >= 0) {
          with_order = &c;
          break;
        }
    }
    if (with_order) {
      const User& u = (*users)[with_order->user];
      char* p = scratch;
      p = Put(p, "symbol=");
      p = Put(p, spec.symbol);
      p = Put(p, "&orderId=");
      p = PutInt(p, with_order->last_order_id);
      p = Put(p, "&timestamp=");
      p = PutInt(p, wall_ms);
      const std::string_view q(scratch, static_cast<size_t>(p - scratch));
      char hex[64];
      Hex(u.key->Sign(q), hex);
      r.out.append("GET /api/v3/order?").append(q).append("&signature=");
      r.out.append(hex, 64);
      r.out.append(" HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: ").append(u.api_key).append("\r\n\r\n");
    } else {
      r.out.append("GET /api/v3/depth?symbol=").append(spec.symbol);
      r.out.append("&limit=5 HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    RestFlush(r, i);
  }

  void RestFlush(RestConn& r, size_t i) {
    while (r.out_head < r.out.size()) {
      const ssize_t n =
          ::send(r.fd, r.out.data() + r.out_head, r.out.size() - r.out_head, MSG_NOSIGNAL);
      if (n > 0) {
        r.out_head += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        SetWrite(r.fd, kRestTag | i, true);
        return;
      }
      RestKill(r, "rest send failed");
      return;
    }
    SetWrite(r.fd, kRestTag | i, false);
  }

  void RestKill(RestConn& r, const char* why) {
    if (r.dead) return;
    r.dead = true;
    ++stats->errors[std::string("closed: ") + why];
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, r.fd, nullptr);
  }

  void RestReadable(RestConn& r, size_t i, int64_t wall_ms) {
    const RecvEnd end = RecvLoop(r.fd, &r.in, &r.in_len, [&](size_t, int64_t now, int64_t) {
      for (;;) {
        HttpHead h;
        const int rc = ParseHttpResponse(std::string_view(r.in.data(), r.in_len), &h);
        if (rc < 0) {
          RestKill(r, "bad http response");
          return false;
        }
        if (rc == 0) break;
        const std::string_view body(r.in.data() + h.head_bytes, h.content_length);
        if (r.busy) {
          r.busy = false;
          if (now >= window_begin && now < window_end) ++stats->rest_in_window;
          if (h.status == 200) {
            if (r.measured) ++stats->ok_rest;
          } else {
            int64_t code = 0;
            FindInt(body, R"("code":)", &code);
            ++stats->errors["http " + std::to_string(h.status) + " " + std::to_string(code)];
          }
          if (r.measured) stats->rest.Record(now - r.sched_ns);
        } else {
          ++stats->unmatched;
        }
        const size_t used = h.head_bytes + h.content_length;
        std::memmove(r.in.data(), r.in.data() + used, r.in_len - used);
        r.in_len -= used;
        if (!r.queue.empty() && !r.dead) {
          auto [sched, measured] = r.queue.front();
          r.queue.pop_front();
          RestSend(r, i, sched, measured, wall_ms);
        }
      }
      return true;
    });
    if (end == RecvEnd::kEof) RestKill(r, "rest eof");
    if (end == RecvEnd::kFailed) RestKill(r, "rest recv failed");
  }

  static int64_t WallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // Waits for socket events until `deadline` (CLOCK_MONOTONIC ns) at most.
  // `send_due`: an operation is scheduled at `deadline`, so the wake-up
  // should not be late (see wake_early_ns).
  void Poll(int64_t deadline, bool send_due) {
    epoll_event evs[256];
    const int64_t t0 = MonoNowNs();
    int64_t wait = deadline - t0;
    if (wait < 0) wait = 0;
    if (wait > 100'000'000) wait = 100'000'000;
    bool timed = false;  // a timer wake-up whose overshoot is measured
    const bool burst = bursts && send_due && wait > 0;
    if (burst) {
      SleepUntil(deadline);  // see timer_overshoot_ns
      wait = 0;
    } else if (send_due && wait > 0) {
      spin_tokens_ns = std::min(kSpinBurstNs, spin_tokens_ns + (t0 - spin_clock) / kSpinShare);
      spin_clock = t0;
      if (wait > wake_early_ns) {
        wait -= wake_early_ns;
        timed = true;
      } else if (spin_tokens_ns > 0 && send_interval_ns > wake_early_ns) {
        wait = 0;  // spin (polling the sockets) for the last few µs
      }
    }
    timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    const int n = ::epoll_pwait2(epfd, evs, 256, &ts, nullptr);
    if (send_due && wait == 0 && !burst) {
      spin_tokens_ns -= MonoNowNs() - t0;
    } else if (timed && n == 0) {
      // A running 75th percentile of the overshoot (frugal streaming: the
      // estimate steps up 3 units when a wake-up is later than it, down 1
      // when earlier), so most wake-ups come before the deadline.
      const int64_t overshoot = MonoNowNs() - (t0 + wait);
      wake_early_ns += overshoot > wake_early_ns ? 750 : -250;
      wake_early_ns = std::clamp<int64_t>(wake_early_ns, 0, kMaxWakeEarlyNs);
    }
    const int64_t wall_ms = n > 0 ? WallMs() : 0;
    for (int k = 0; k < n; ++k) {
      const uint64_t tag = evs[k].data.u64;
      if (tag & kRestTag) {
        RestConn& r = rest[tag & ~kRestTag];
        if (r.dead) continue;
        if (evs[k].events & EPOLLOUT) RestFlush(r, tag & ~kRestTag);
        if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) RestReadable(r, tag & ~kRestTag, wall_ms);
      } else {
        WsConn& c = conns[tag];
        if (c.dead) continue;
        if (evs[k].events & EPOLLOUT) Flush(c, tag);
        if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) OnReadable(c, tag);
      }
    }
  }

  uint64_t Inflight() const {
    uint64_t n = 0;
    for (const WsConn& c : conns)
      if (!c.dead) n += c.inflight + c.backlog.size();
    for (const RestConn& r : rest)
      if (!r.dead) n += (r.busy ? 1 : 0) + r.queue.size();
    return n;
  }

  static double ThreadCpuS() {
    rusage ru{};
    ::getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
};

Worker::Worker(int index, LoadTarget target, OrderSpec spec, const std::vector<User>* users,
               std::vector<int> conn_users, std::vector<int> global_conn_index,
               int rest_connections)
    : impl_(std::make_unique<Impl>()) {
  impl_->index = index;
  impl_->target = std::move(target);
  impl_->spec = std::move(spec);
  impl_->users = users;
  impl_->rest_orders = impl_->target.order_api == "rest";
  impl_->conns.resize(conn_users.size());
  size_t ring = 1;
  while (ring < impl_->target.max_inflight_per_conn) ring <<= 1;
  for (size_t i = 0; i < conn_users.size(); ++i) {
    WsConn& c = impl_->conns[i];
    c.user = conn_users[i];
    c.global_index = global_conn_index[i];
    c.ring.resize(ring);
    c.mask = ring - 1;
    c.out.resize(1 << 16);
    c.in.resize(1 << 17);
    impl_->Prepare(c);
  }
  impl_->rest.resize(static_cast<size_t>(rest_connections));
  for (RestConn& r : impl_->rest) r.in.resize(1 << 16);
}

Worker::~Worker() {
  for (auto& c : impl_->conns)
    if (c.fd >= 0) ::close(c.fd);
  for (auto& r : impl_->rest)
    if (r.fd >= 0) ::close(r.fd);
  if (impl_->epfd >= 0) ::close(impl_->epfd);
}

bool Worker::Connect(std::string* error) {
  Impl& m = *impl_;
  m.epfd = ::epoll_create1(EPOLL_CLOEXEC);
  const LoadTarget& t = m.target;
  auto add = [&](int fd, uint64_t tag) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    ::epoll_ctl(m.epfd, EPOLL_CTL_ADD, fd, &ev);
  };
  for (size_t i = 0; i < m.conns.size(); ++i) {
    WsConn& c = m.conns[i];
    c.fd = ConnectTcp(t.host, t.port, error);
    if (c.fd < 0) return false;
    EnableRxTimestamps(c.fd);
    if (!m.rest_orders && !WsHandshake(c.fd, t.host, t.port, t.ws_path, error)) {
      *error = "ws " + t.ws_path + ": " + *error;
      return false;
    }
    add(c.fd, i);
  }
  for (size_t i = 0; i < m.rest.size(); ++i) {
    m.rest[i].fd = ConnectTcp(t.host, t.port, error);
    if (m.rest[i].fd < 0) return false;
    EnableRxTimestamps(m.rest[i].fd);
    add(m.rest[i].fd, kRestTag | i);
  }
  return true;
}

PhaseStats Worker::RunPhase(const PhaseSpec& ph) {
  Impl& m = *impl_;
  PhaseStats st;
  m.stats = &st;
  // Default timer slack (50 us) would make every timed wake-up late.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  if (m.timer_overshoot_ns < 0) {
    m.timer_overshoot_ns = Impl::MeasureTimerOvershoot();
    m.wake_early_ns = std::min(m.timer_overshoot_ns, Impl::kMaxWakeEarlyNs);
  }
  m.window_begin = ph.start_ns + ph.warmup_ns;
  m.window_end = m.window_begin + ph.duration_ns;
  const int64_t end = m.window_end;
  const double interval = ph.rate > 0 ? 1e9 / ph.rate : 0;
  const double rest_interval = ph.rest_rate > 0 ? 1e9 / ph.rest_rate : 0;
  m.send_interval_ns = static_cast<int64_t>(
      std::min(interval > 0 ? interval : 1e18, rest_interval > 0 ? rest_interval : 1e18));
  m.bursts = m.send_interval_ns <= m.timer_overshoot_ns;
  uint64_t next_i = 0, next_rest = 0;
  auto sched_of = [&](uint64_t i) {
    return ph.start_ns + static_cast<int64_t>(static_cast<double>(i) * interval);
  };
  auto rest_sched_of = [&](uint64_t i) {
    return ph.start_ns + static_cast<int64_t>(static_cast<double>(i) * rest_interval);
  };
  bool orders_done = ph.rate <= 0 || m.conns.empty();
  bool rest_done = ph.rest_rate <= 0 || m.rest.empty();
  const double cpu0 = Impl::ThreadCpuS();
  double cpu_end = -1;
  int64_t drain_deadline = end + ph.drain_timeout_ns;
  size_t rr = 0;  // round-robin over connections
  for (;;) {
    int64_t now = MonoNowNs();
    const bool sending = !orders_done || !rest_done;
    if (sending) {
      int64_t wall_ms = Impl::WallMs();
      while (!orders_done) {
        const int64_t s = sched_of(next_i);
        if (s >= end) {
          orders_done = true;
          break;
        }
        if (s > now) break;
        // The next live connection in turn; a full window holds the
        // schedule back (its operations are still charged from `s`).
        WsConn* c = nullptr;
        for (size_t k = 0; k < m.conns.size(); ++k) {
          WsConn& cand = m.conns[(rr + k) % m.conns.size()];
          if (!cand.dead) {
            c = &cand;
            rr = (rr + k) % m.conns.size();
            break;
          }
        }
        if (c == nullptr) {
          orders_done = true;
          break;
        }
        if (m.rest_orders && (c->inflight > 0 || !c->backlog.empty())) {
          if (c->backlog.size() >= m.target.max_inflight_per_conn) {
            ++st.stalls;
            break;
          }
          c->backlog.emplace_back(s, s >= m.window_begin);
        } else {
          if (c->ring[c->next_seq & c->mask].busy) {
            ++st.stalls;
            break;
          }
          m.Send(*c, s, now, wall_ms, s >= m.window_begin);
        }
        rr = (rr + 1) % m.conns.size();
        ++next_i;
      }
      while (!rest_done) {
        const int64_t s = rest_sched_of(next_rest);
        if (s >= end) {
          rest_done = true;
          break;
        }
        if (s > now) break;
        const size_t i = next_rest % m.rest.size();
        RestConn& r = m.rest[i];
        const bool measured = s >= m.window_begin;
        if (!r.dead) {
          if (r.busy) {
            r.queue.emplace_back(s, measured);
          } else {
            m.RestSend(r, i, s, measured, wall_ms);
          }
        }
        ++next_rest;
      }
      for (size_t i = 0; i < m.conns.size(); ++i)
        if (m.conns[i].dirty && !m.conns[i].dead) m.Flush(m.conns[i], i);
      if (orders_done && rest_done) {
        cpu_end = Impl::ThreadCpuS();
        drain_deadline = std::max(now, end) + ph.drain_timeout_ns;
      }
    }
    int64_t deadline;
    const bool draining = orders_done && rest_done;
    if (draining) {
      if (m.Inflight() == 0) break;
      if (now >= drain_deadline) break;
      deadline = drain_deadline;
    } else {
      deadline = end;
      if (!orders_done) deadline = std::min(deadline, sched_of(next_i));
      if (!rest_done) deadline = std::min(deadline, rest_sched_of(next_rest));
    }
    m.Poll(deadline, /*send_due=*/!draining);
  }
  if (cpu_end < 0) cpu_end = Impl::ThreadCpuS();
  st.client_cpu_s = cpu_end - cpu0;
  st.timer_overshoot_ns = m.timer_overshoot_ns;
  st.bursts = m.bursts;
  st.wall_s = static_cast<double>(end - ph.start_ns) / 1e9;
  // Whatever is still unanswered timed out; free the slots so that a late
  // reply counts as unmatched.
  for (WsConn& c : m.conns) {
    for (Pending& p : c.ring) {
      if (p.busy) {
        p.busy = false;
        ++st.timeouts;
      }
    }
    st.timeouts += c.backlog.size();
    c.backlog.clear();
    // A REST answer still to come would be taken for the next request's.
    if (m.rest_orders && c.inflight > 0) m.Kill(c, "http timeout");
    c.inflight = 0;
  }
  for (RestConn& r : m.rest) {
    st.timeouts += (r.busy ? 1 : 0) + r.queue.size();
    r.queue.clear();
    // A REST answer still in flight would be read as the next request's:
    // such a connection is not reused.
    if (r.busy && !r.dead) m.RestKill(r, "rest timeout");
  }
  if (st.timeouts) st.errors["timeout"] += st.timeouts;
  m.stats = nullptr;
  return st;
}

uint64_t Worker::CancelOpenOrders(int64_t timeout_ns) {
  Impl& m = *impl_;
  PhaseStats st;
  m.stats = &st;
  const int64_t deadline = MonoNowNs() + timeout_ns;
  const Mix saved = m.spec.mix;
  m.spec.mix = Mix::kPlaceCancel;
  uint64_t sent = 0;
  for (;;) {
    const int64_t now = MonoNowNs();
    const int64_t wall_ms = Impl::WallMs();
    for (size_t i = 0; i < m.conns.size(); ++i) {
      WsConn& c = m.conns[i];
      while (!c.dead && !c.open.empty() && !c.ring[c.next_seq & c.mask].busy &&
             (!m.rest_orders || c.inflight == 0)) {
        c.next_cancel = true;
        m.Send(c, now, now, wall_ms, false);
        ++sent;
      }
      if (c.dirty && !c.dead) m.Flush(c, i);
    }
    if (m.Inflight() == 0 || now >= deadline) break;
    m.Poll(deadline, /*send_due=*/false);
  }
  m.spec.mix = saved;
  m.stats = nullptr;
  return sent;
}

}  // namespace xc::exbench
