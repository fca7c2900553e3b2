// exctl: the operator CLI of the exchange's admin API (tools/exchange).
//
//   exctl [--admin URL] user create
//   exctl [--admin URL] balance credit USERID ASSET AMOUNT
//   exctl [--admin URL] balance withdraw USERID ASSET AMOUNT
//
// URL defaults to $XC_ADMIN_URL, else http://127.0.0.1:8081. Prints the
// response body (JSON) on stdout. Exit codes: 0 HTTP 2xx; 1 an error answer
// (body printed on stdout too); 2 usage or connection failure.
// One HTTP/1.1 request per run over a plain socket (Connection: close).

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr char kUsage[] =
    "usage: exctl [--admin URL] user create\n"
    "       exctl [--admin URL] balance credit USERID ASSET AMOUNT\n"
    "       exctl [--admin URL] balance withdraw USERID ASSET AMOUNT\n"
    "URL: default $XC_ADMIN_URL or http://127.0.0.1:8081\n"
    "AMOUNT is an exact decimal string (\"1000.5\"); credit with a negative amount\n"
    "also withdraws (refused if the free balance is short).\n";

int Usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

bool AllOf(std::string_view s, std::string_view allowed, bool allow_empty = false) {
  if (s.empty()) return allow_empty;
  for (char c : s) {
    if (allowed.find(c) == std::string_view::npos) return false;
  }
  return true;
}

constexpr std::string_view kDigits = "0123456789";

// POSTs `body` to URL + path; prints the response body. Returns the exit code.
int Post(const std::string& url, const std::string& path, const std::string& body) {
  std::string_view u = url;
  if (u.substr(0, 7) != "http://") {
    std::fprintf(stderr, "exctl: only http:// URLs are supported: %s\n", url.c_str());
    return 2;
  }
  u.remove_prefix(7);
  while (!u.empty() && u.back() == '/') u.remove_suffix(1);
  std::string host(u), port = "80";
  if (const size_t colon = u.rfind(':'); colon != std::string_view::npos) {
    host = std::string(u.substr(0, colon));
    port = std::string(u.substr(colon + 1));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    std::fprintf(stderr, "exctl: %s: %s\n", url.c_str(), gai_strerror(rc));
    return 2;
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    std::fprintf(stderr, "exctl: cannot connect to %s: %s\n", url.c_str(), std::strerror(errno));
    return 2;
  }
  const std::string req =
      "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  for (size_t sent = 0; sent < req.size();) {
    const ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      std::fprintf(stderr, "exctl: send failed: %s\n", std::strerror(errno));
      close(fd);
      return 2;
    }
    sent += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  // Status line "HTTP/1.1 200 OK"; the server always sends Content-Length and
  // closes after a Connection: close request, so the body is what follows.
  const size_t sp = resp.find(' ');
  const size_t hdr_end = resp.find("\r\n\r\n");
  if (resp.compare(0, 5, "HTTP/") != 0 || sp == std::string::npos || hdr_end == std::string::npos) {
    std::fprintf(stderr, "exctl: malformed response from %s\n", url.c_str());
    return 2;
  }
  const int status = std::atoi(resp.c_str() + sp + 1);
  std::printf("%s\n", resp.c_str() + hdr_end + 4);
  return (status >= 200 && status < 300) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url = std::getenv("XC_ADMIN_URL") != nullptr ? std::getenv("XC_ADMIN_URL")
                                                           : "http://127.0.0.1:8081";
  int i = 1;
  if (i < argc && (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (i + 1 < argc && std::string_view(argv[i]) == "--admin") {
    url = argv[i + 1];
    i += 2;
  }
  const int n = argc - i;
  if (n == 2 && std::string_view(argv[i]) == "user" && std::string_view(argv[i + 1]) == "create") {
    return Post(url, "/admin/v1/users", "{}");
  }
  if (n == 5 && std::string_view(argv[i]) == "balance") {
    const std::string_view verb = argv[i + 1];
    const std::string user = argv[i + 2], asset = argv[i + 3];
    std::string amount = argv[i + 4];
    if (verb != "credit" && verb != "withdraw") return Usage();
    // Validated here so the JSON needs no escaping; the server checks again.
    if (!AllOf(user, kDigits) ||
        !AllOf(asset, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ||
        !AllOf(amount, "-.0123456789")) {
      std::fprintf(stderr, "exctl: USERID must be digits, ASSET alphanumeric, AMOUNT a decimal\n");
      return 2;
    }
    if (verb == "withdraw") {
      if (amount[0] == '-') return Usage();
      amount = "-" + amount;
    }
    return Post(
        url, "/admin/v1/balances",
        "{\"userId\":" + user + ",\"asset\":\"" + asset + "\",\"amount\":\"" + amount + "\"}");
  }
  return Usage();
}
