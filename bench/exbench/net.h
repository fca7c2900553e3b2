#pragma once
// Socket and HTTP/1.1 helpers of exbench: a blocking client for the setup
// calls (admin API, exchangeInfo), the parse of one HTTP response head out
// of a byte buffer (shared with the load loop's REST connections), and the
// WebSocket client handshake and frame header codec (RFC 6455, client side).
//
// Thread safety: free functions, no shared state.

#include <cstdint>
#include <string>
#include <string_view>

namespace xc::exbench {

// A connected TCP socket to host:port (numeric IPv4 or a name), TCP_NODELAY
// set, blocking. Returns -1 and sets *error on failure.
int ConnectTcp(const std::string& host, int port, std::string* error);

// Asks the kernel to stamp what `fd` receives (SO_TIMESTAMPNS), for
// RecvStamped. Returns false if it refused.
bool EnableRxTimestamps(int fd);
// recv() of at most `len` bytes into `buf` (errno as recv sets it), and in
// *arrival when the kernel received the last of the bytes read, on the
// CLOCK_MONOTONIC scale of *read_at (when the call returned). That is the
// reply's arrival at this machine, not the moment a busy or sleeping client
// thread got round to reading it: on a VM, waking a sleeping thread takes an
// interrupt that can cost 50-70 µs, which is the client's delay, not the
// server's. Bytes read together with later ones arrived earlier, so the
// stamp can only overstate their latency. Without a usable stamp (none
// asked for, a clock step, or the first segments after EnableRxTimestamps:
// the kernel turns stamping on asynchronously), *arrival = *read_at.
long RecvStamped(int fd, char* buf, size_t len, int64_t* arrival, int64_t* read_at);

// One parsed HTTP response at the front of a buffer.
struct HttpHead {
  int status = 0;
  size_t head_bytes = 0;     // through the blank line
  size_t content_length = 0;
};
// Parses the head at the front of `buf`. Returns 1 when a whole response
// (head + Content-Length body) is present, 0 when more bytes are needed, -1
// when it is not an HTTP/1.x response or has no Content-Length (exbench
// does not speak chunked encoding; the exchange always sends a length).
int ParseHttpResponse(std::string_view buf, HttpHead* head);

// Blocking request on a fresh connection ("Connection: close" is not sent;
// the socket is closed after one answer). body is sent as
// application/json when not empty. Returns the status (0 on a transport
// error, with *error set) and the response body in *out.
int HttpRequest(const std::string& host, int port, std::string_view method,
                std::string_view target, std::string_view body, std::string* out,
                std::string* error, std::string_view extra_headers = {});

// Sends the WebSocket upgrade for `path` on a blocking socket and reads the
// server's 101. Returns false with *error on anything else.
bool WsHandshake(int fd, const std::string& host, int port, std::string_view path,
                 std::string* error);

// Appends a client frame header (FIN set, the given opcode, mask bit set with
// an all-zero masking key, so the payload goes unmodified) for `len` bytes of
// payload to `out`, which must have room for 14 bytes. Returns the bytes
// written. RFC 6455 asks for unpredictable masking keys to protect
// intermediaries; exbench talks to the exchange directly and saves the XOR.
size_t WsClientFrameHeader(char* out, uint8_t opcode, size_t len);

// A server frame at the front of buf: 1 and the fields when whole, 0 when
// more bytes are needed, -1 on a masked or oversized (>= 2^32) frame.
struct WsFrame {
  bool fin = false;
  uint8_t opcode = 0;
  size_t header_bytes = 0;
  size_t payload_bytes = 0;
};
int ParseWsServerFrame(std::string_view buf, WsFrame* frame);

}  // namespace xc::exbench
