#pragma once
// RequestObserver: the seam through which a server reports each answered
// request to whoever counts them (the Prometheus exporter in xc::scaling),
// so that a service needs only this header (xc::scaling_api), never
// prometheus-cpp (STYLE.md §9, §17).

#include <cstdint>

namespace xc::scaling {

class RequestObserver {
 public:
  // The endpoint index of a request that matched no route (unknown path or
  // method).
  static constexpr uint32_t kUnmatched = UINT32_MAX;

  virtual ~RequestObserver() = default;

  // Called once per answered request, after the handler ran, on the thread
  // that handled it (several threads may call at once: implementations must
  // be thread-safe). `endpoint` is the server's route index (in the order
  // the routes were registered) or kUnmatched; `status` the HTTP status;
  // `duration_ns` the time the server spent on it. Must be cheap and must
  // not allocate after warm-up: it runs on the request path.
  virtual void OnRequest(uint32_t endpoint, int status, int64_t duration_ns) = 0;
};

}  // namespace xc::scaling
