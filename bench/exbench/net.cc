#include "net.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "absl/strings/match.h"

namespace xc::exbench {
namespace {

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int64_t ClockNs(clockid_t clock) {
  timespec ts;
  ::clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

bool EnableRxTimestamps(int fd) {
  const int on = 1;
  return ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
}

long RecvStamped(int fd, char* buf, size_t len, int64_t* arrival, int64_t* read_at) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  iovec iov{buf, len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const long n = ::recvmsg(fd, &msg, 0);
  *read_at = ClockNs(CLOCK_MONOTONIC);
  *arrival = *read_at;
  if (n <= 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec ts;
    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
    // The stamp is on CLOCK_REALTIME: its age moves it to the monotonic
    // scale (a clock step in between shows as an age out of range).
    const int64_t age =
        ClockNs(CLOCK_REALTIME) - (int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
    if (age >= 0 && age < 10'000'000'000) *arrival = *read_at - age;
  }
  return n;
}

int ConnectTcp(const std::string& host, int port, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_s = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res); rc != 0) {
    *error = "resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    *error = "connect " + host + ":" + port_s + ": " + std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int ParseHttpResponse(std::string_view buf, HttpHead* head) {
  const size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return buf.size() > 65536 ? -1 : 0;
  if (buf.size() < 12 || buf.substr(0, 7) != "HTTP/1.") return -1;
  int status = 0;
  if (std::from_chars(buf.data() + 9, buf.data() + 12, status).ec != std::errc()) return -1;
  head->status = status;
  head->head_bytes = end + 4;
  bool have_length = false;
  size_t pos = buf.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = buf.find("\r\n", pos);
    std::string_view line = buf.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    // Debian's Abseil has its own absl::string_view, not std::string_view.
    if (colon != std::string_view::npos &&
        absl::EqualsIgnoreCase(absl::string_view(line.data(), colon), "content-length")) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      size_t n = 0;
      if (std::from_chars(v.data(), v.data() + v.size(), n).ec != std::errc()) return -1;
      head->content_length = n;
      have_length = true;
    }
    pos = eol + 2;
  }
  // 1xx/204/304 carry no body; anything else must say how long it is.
  if (!have_length) {
    if (status == 204 || status == 304 || status / 100 == 1) {
      head->content_length = 0;
    } else {
      return -1;
    }
  }
  return buf.size() >= head->head_bytes + head->content_length ? 1 : 0;
}

int HttpRequest(const std::string& host, int port, std::string_view method,
                std::string_view target, std::string_view body, std::string* out,
                std::string* error, std::string_view extra_headers) {
  const int fd = ConnectTcp(host, port, error);
  if (fd < 0) return 0;
  std::string req;
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  req.append(host).append(":").append(std::to_string(port)).append("\r\n");
  req.append(extra_headers);
  if (!body.empty()) req.append("Content-Type: application/json\r\n");
  req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  req.append(body);
  int status = 0;
  if (!SendAll(fd, req)) {
    *error = "send failed";
  } else {
    std::string buf;
    char tmp[16384];
    HttpHead head;
    for (;;) {
      const int rc = ParseHttpResponse(buf, &head);
      if (rc == 1) {
        *out = buf.substr(head.head_bytes, head.content_length);
        status = head.status;
        break;
      }
      if (rc < 0) {
        *error = "bad HTTP response";
        break;
      }
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *error = "connection closed before the response";
        break;
      }
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return status;
}

bool WsHandshake(int fd, const std::string& host, int port, std::string_view path,
                 std::string* error) {
  std::string req;
  req.append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host);
  req.append(":").append(std::to_string(port));
  // A fixed key: the exchange checks only that it is there (RFC 6455 §4.1
  // wants a random nonce; exbench does not check Sec-WebSocket-Accept).
  req.append(
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  if (!SendAll(fd, req)) {
    *error = "send of the upgrade failed";
    return false;
  }
  // Read byte by byte up to the blank line so that no frame byte is consumed.
  std::string head;
  char c;
  while (head.size() < 8192) {
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "connection closed during the upgrade";
      return false;
    }
    head.push_back(c);
    if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) break;
  }
  if (head.size() < 12 || head.compare(0, 12, "HTTP/1.1 101") != 0) {
    *error = "upgrade refused: " + head.substr(0, head.find("\r\n"));
    return false;
  }
  return true;
}

size_t WsClientFrameHeader(char* out, uint8_t opcode, size_t len) {
  auto* o = reinterpret_cast<unsigned char*>(out);
  o[0] = static_cast<unsigned char>(0x80 | opcode);
  size_t n;
  if (len < 126) {
    o[1] = static_cast<unsigned char>(0x80 | len);
    n = 2;
  } else if (len < 65536) {
    o[1] = 0x80 | 126;
    o[2] = static_cast<unsigned char>(len >> 8);
    o[3] = static_cast<unsigned char>(len);
    n = 4;
  } else {
    o[1] = 0x80 | 127;
    for (int i = 0; i < 8; ++i) o[2 + i] = static_cast<unsigned char>(len >> (56 - 8 * i));
    n = 10;
  }
  std::memset(o + n, 0, 4);  // masking key 0
  return n + 4;
}

int ParseWsServerFrame(std::string_view buf, WsFrame* f) {
  if (buf.size() < 2) return 0;
  const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
  f->fin = (b[0] & 0x80) != 0;
  f->opcode = b[0] & 0x0f;
  if (b[1] & 0x80) return -1;  // servers never mask
  uint64_t len = b[1] & 0x7f;
  size_t h = 2;
  if (len == 126) {
    if (buf.size() < 4) return 0;
    len = (uint64_t{b[2]} << 8) | b[3];
    h = 4;
  } else if (len == 127) {
    if (buf.size() < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
    h = 10;
    if (len >= (uint64_t{1} << 32)) return -1;
  }
  f->header_bytes = h;
  f->payload_bytes = static_cast<size_t>(len);
  return buf.size() >= h + len ? 1 : 0;
}

}  // namespace xc::exbench
