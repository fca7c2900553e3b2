#pragma once
// Cheap scans of the exchange's JSON answers: exbench needs only a few
// integers per reply, so it looks for `"key":<int>` instead of parsing.
//
// WS API replies (BINANCE_COMPAT.md §6) are
//   {"id":7,"status":200,"result":{"symbol":"BTCUSDT","orderId":12,...}}
//   {"id":7,"status":400,"error":{"code":-2010,"msg":"..."}}
// Keys are matched with their quotes and colon, so "orderId" does not match
// "origClientOrderId" or "orderListId", and "id" does not match
// "clientOrderId". Whitespace after the colon is skipped. A value given as a
// JSON string ("id":"7") is read too.
//
// Thread safety: pure functions. Cost: a few memchr/memcmp passes over one
// message, no allocation.

#include <charconv>
#include <cstdint>
#include <string_view>

namespace xc::exbench {

// The integer after `"<key>":` (key includes the quotes and colon, e.g.
// R"("id":)"); false if the key is absent or not followed by an integer.
inline bool FindInt(std::string_view msg, std::string_view key, int64_t* out) {
  const size_t at = msg.find(key);
  if (at == std::string_view::npos) return false;
  size_t i = at + key.size();
  while (i < msg.size() && (msg[i] == ' ' || msg[i] == '"')) ++i;
  const char* b = msg.data() + i;
  const char* e = msg.data() + msg.size();
  auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr != b;
}

// What exbench reads from one WS API reply.
struct WsReply {
  int64_t id = -1;        // -1: no id (an event, not a reply)
  int64_t status = 0;     // HTTP-style status; 0 if absent
  int64_t code = 0;       // error.code when status != 200
  int64_t order_id = -1;  // result.orderId when present
  bool filled = false;    // result.status is FILLED or PARTIALLY_FILLED (RESULT/FULL)
};

inline WsReply ScanWsReply(std::string_view msg) {
  WsReply r;
  FindInt(msg, R"("id":)", &r.id);
  FindInt(msg, R"("status":)", &r.status);
  if (r.status == 200) {
    FindInt(msg, R"("orderId":)", &r.order_id);
    // ACK answers carry no order status; RESULT/FULL ones do ("status":"NEW").
    const size_t st = msg.find(R"("status":")");
    if (st != std::string_view::npos) {
      const std::string_view v = msg.substr(st + 10, 16);
      r.filled = v.starts_with("FILLED") || v.starts_with("PARTIALLY_FILLED");
    }
  } else {
    FindInt(msg, R"("code":)", &r.code);
  }
  return r;
}

}  // namespace xc::exbench
