-- wrk script for bench/http/run.sh: only done(), so wrk keeps its fast path
-- (no per-request Lua). Prints one machine-readable line:
--   XCREPORT requests=N duration_us=N rps=R p50_us=N p99_us=N non2xx=N socket_errors=N
function xc_report(summary, latency, extra)
  local e = summary.errors
  io.write(string.format(
    "XCREPORT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d socket_errors=%d%s\n",
    summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
    latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout, extra or ""))
end

function done(summary, latency, requests)
  xc_report(summary, latency)
end
