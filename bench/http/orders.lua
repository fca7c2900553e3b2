-- wrk script for bench/http/run.sh: replays the pre-signed order/cancel
-- pairs written by http-presign. Run with -t N -c N (one connection per
-- thread): thread k replays $XC_PRESIGN_DIR/slice-k.txt in order on its one
-- keep-alive connection, so each cancel is sent only after its new order
-- was answered. A thread that runs out of requests stops (counted as
-- "exhausted" in the report line: make more pairs).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local dir = assert(os.getenv("XC_PRESIGN_DIR"), "XC_PRESIGN_DIR not set")
  local key = assert(os.getenv("XC_BENCH_API_KEY"), "XC_BENCH_API_KEY not set")
  reqs = {}
  idle = wrk.format("GET", "/api/v3/ping")
  -- wrk calls thread 0's request() once before the run, to check what it
  -- returns (script_verify_request); that request is never sent, so give
  -- it one to throw away rather than a new order whose cancel would fail.
  if id == 0 then reqs[1] = idle end
  local f = assert(io.open(dir .. "/slice-" .. id .. ".txt"))
  for line in f:lines() do
    local method, target, body = line:match("^(%u+)\t([^\t]*)\t(.*)$")
    local headers = { ["X-MBX-APIKEY"] = key }
    if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    else
      body = nil
    end
    reqs[#reqs + 1] = wrk.format(method, target, headers, body)
  end
  f:close()
  n = 0
  exhausted = 0
end

function request()
  n = n + 1
  if n > #reqs then
    exhausted = 1
    wrk.thread:stop()
    return idle
  end
  return reqs[n]
end

-- XC_BENCH_DEBUG=1: print the first few non-200 answers (costs a Lua call
-- per response, so off for the figures).
if os.getenv("XC_BENCH_DEBUG") then
  local shown = 0
  function response(status, headers, body)
    if status ~= 200 and shown < 5 then
      shown = shown + 1
      io.stderr:write(string.format("thread %d request %d: HTTP %d %s\n", id, n, status, body))
    end
  end
end

function done(summary, latency, requests)
  local ex = 0
  for _, t in ipairs(threads) do ex = ex + (t:get("exhausted") or 0) end
  xc_report(summary, latency, string.format(" exhausted_threads=%d", ex))
end
