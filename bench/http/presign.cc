// http-presign: writes pre-signed Binance REST requests for the HTTP order
// benchmark (bench/http/run.sh + orders.lua), so that wrk replays them
// without signing anything while it measures.
//
//   http-presign --api-key KEY --secret SECRET --pairs N --slices C --out DIR
//                [--symbol BTCUSDT] [--side BUY] [--price 1000.00] [--qty 0.01]
//                [--first-index 0] [--timestamp-ms MS] [--recv-window 60000]
//     Pair i (i = first-index .. first-index+N-1) is
//       POST   /api/v3/order  body: symbol, side, type=LIMIT, timeInForce=GTC,
//              quantity, price, newClientOrderId=b<i>, timestamp, recvWindow,
//              signature
//       DELETE /api/v3/order?symbol=..&origClientOrderId=b<i>&timestamp=..
//              &recvWindow=..&signature=..
//     and goes to DIR/slice-<i % C>.txt, the new line right before its
//     cancel, pairs in increasing i. One line per request:
//       METHOD <TAB> TARGET <TAB> BODY        (BODY empty for DELETE)
//     Every request is signed with HMAC-SHA256(secret, query + body) exactly
//     as the gateway checks it (request_auth.h), timestamp = --timestamp-ms
//     (default: now), so the files must be replayed within recvWindow.
//
//   http-presign --secret SECRET --sign-body PARAMS [--timestamp-ms MS]
//                [--recv-window 60000]
//     Prints PARAMS&timestamp=..&recvWindow=..&signature=.. (one signed form
//     body, for the script's seeding with curl).
//
// Prints "pairs=N slices=C timestamp_ms=T" on stderr for the first form.
// Exit 2 on bad arguments or an unwritable output file.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli_args.h"
#include "xc/gateway/hmac.h"

namespace {

constexpr char kUsage[] =
    "usage: http-presign --api-key KEY --secret SECRET --pairs N --slices C --out DIR\n"
    "                    [--symbol BTCUSDT] [--side BUY|SELL] [--price 1000.00] [--qty 0.01]\n"
    "                    [--first-index 0] [--timestamp-ms MS] [--recv-window 60000]\n"
    "       http-presign --secret SECRET --sign-body PARAMS [--timestamp-ms MS]\n"
    "                    [--recv-window 60000]\n";

int Usage(const char* why) {
  std::fprintf(stderr, "http-presign: %s\n%s", why, kUsage);
  return 2;
}

// params + "&timestamp=T&recvWindow=W&signature=<hex>"; the signature covers
// everything before "&signature".
std::string Signed(const xc::gateway::HmacSha256Key& key, std::string params,
                   const std::string& time_fields) {
  params += time_fields;
  params += "&signature=";
  params += xc::gateway::ToHex(
      key.Sign(std::string_view(params.data(), params.size() - std::strlen("&signature="))));
  return params;
}

}  // namespace

int main(int argc, char** argv) {
  xc::bench::ArgReader args(argc, argv);
  std::string api_key, secret, out_dir, sign_body, symbol = "BTCUSDT", side = "BUY",
                                                   price = "1000.00", qty = "0.01";
  uint64_t pairs = 0, slices = 0, first = 0, recv_window = 60000;
  uint64_t ts = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  bool have_sign_body = false;
  while (args.Next()) {
    const std::string& f = args.flag();
    bool ok = true;
    if (!args.is_flag()) return Usage(("unexpected argument " + args.positional()).c_str());
    if (f == "--api-key") {
      ok = args.Value(&api_key);
    } else if (f == "--secret") {
      ok = args.Value(&secret);
    } else if (f == "--out") {
      ok = args.Value(&out_dir);
    } else if (f == "--sign-body") {
      ok = args.Value(&sign_body);
      have_sign_body = true;
    } else if (f == "--symbol") {
      ok = args.Value(&symbol);
    } else if (f == "--side") {
      ok = args.Value(&side);
    } else if (f == "--price") {
      ok = args.Value(&price);
    } else if (f == "--qty") {
      ok = args.Value(&qty);
    } else if (f == "--pairs") {
      ok = args.Uint(&pairs);
    } else if (f == "--slices") {
      ok = args.Uint(&slices);
    } else if (f == "--first-index") {
      ok = args.Uint(&first);
    } else if (f == "--timestamp-ms") {
      ok = args.Uint(&ts);
    } else if (f == "--recv-window") {
      ok = args.Uint(&recv_window);
    } else if (f == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return Usage(("unknown flag " + f).c_str());
    }
    if (!ok) return Usage(("bad or missing value for " + f).c_str());
  }
  if (secret.empty()) return Usage("--secret is required");
  const xc::gateway::HmacSha256Key key(secret);
  const std::string time_fields =
      "&timestamp=" + std::to_string(ts) + "&recvWindow=" + std::to_string(recv_window);

  if (have_sign_body) {
    std::printf("%s\n", Signed(key, sign_body, time_fields).c_str());
    return 0;
  }
  if (api_key.empty() || out_dir.empty() || pairs == 0 || slices == 0) {
    return Usage("--api-key, --out, --pairs > 0 and --slices > 0 are required");
  }
  std::vector<std::unique_ptr<std::ofstream>> files;
  for (uint64_t s = 0; s < slices; ++s) {
    const std::string path = out_dir + "/slice-" + std::to_string(s) + ".txt";
    files.push_back(std::make_unique<std::ofstream>(path, std::ios::trunc));
    if (!*files.back()) {
      std::fprintf(stderr, "http-presign: cannot write %s\n", path.c_str());
      return 2;
    }
  }
  const std::string order_fixed = "symbol=" + symbol + "&side=" + side +
                                  "&type=LIMIT&timeInForce=GTC&quantity=" + qty +
                                  "&price=" + price + "&newClientOrderId=b";
  const std::string cancel_fixed = "symbol=" + symbol + "&origClientOrderId=b";
  for (uint64_t i = first; i < first + pairs; ++i) {
    std::ofstream& out = *files[(i - first) % slices];
    const std::string id = std::to_string(i);
    out << "POST\t/api/v3/order\t" << Signed(key, order_fixed + id, time_fields) << '\n';
    out << "DELETE\t/api/v3/order?" << Signed(key, cancel_fixed + id, time_fields) << "\t\n";
  }
  for (auto& f : files) {
    f->flush();
    if (!*f) {
      std::fprintf(stderr, "http-presign: write failed in %s\n", out_dir.c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "pairs=%llu slices=%llu timestamp_ms=%llu\n",
               static_cast<unsigned long long>(pairs), static_cast<unsigned long long>(slices),
               static_cast<unsigned long long>(ts));
  return 0;
}
