#!/usr/bin/env bash
# Rate limits of the one-process exchange over real HTTP: usage
# exchange_rate_limit_test.sh EXCHANGE. Starts EXCHANGE with a config file,
# checks the X-MBX-USED-WEIGHT-1M header, 429 + Retry-After and the 418 ban,
# the admin API (GET/POST /admin/v1/limits, the circuit breaker refusing new
# orders but not cancels or reads), and a SIGHUP reload of the config file
# shown in exchangeInfo.rateLimits, all on one running process.
set -u
exchange=$1
if ! command -v curl >/dev/null; then
  echo "curl not installed (scripts/install-deps.sh installs it)"; exit 1
fi
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- exchange stdout"; cat "$tmp/out" 2>/dev/null
         echo "--- exchange stderr"; cat "$tmp/err" 2>/dev/null; exit 1; }

conf() {  # the default config with the weight limit $1
  "$exchange" --print-default-config |
    sed -e "s/^rate_limit_request_weight_per_min = .*/rate_limit_request_weight_per_min = $1/" \
        -e "s/^rate_limit_ban_after_violations = .*/rate_limit_ban_after_violations = 3/" \
        >"$tmp/exchange.conf"
}
conf 45
XC_PORT=0 XC_ADMIN_PORT=0 XC_LISTEN_ADDR=127.0.0.1 "$exchange" --config "$tmp/exchange.conf" \
  --data-dir "$tmp/data" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 200); do
  grep -q '^ready$' "$tmp/out" && break
  kill -0 "$pid" 2>/dev/null || fail "exchange exited during start"
  sleep 0.05
done
grep -q '^ready$' "$tmp/out" || fail "exchange not ready after 10 s"
port=$(sed -n 's/^client_port=//p' "$tmp/out")
admin_port=$(sed -n 's/^admin_port=//p' "$tmp/out")
base="http://127.0.0.1:$port"
admin="http://127.0.0.1:$admin_port"

# Weight header, then 429 on the third exchangeInfo (20 each, limit 45).
curl -sS -D "$tmp/h" -o /dev/null "$base/api/v3/exchangeInfo"
grep -qi '^x-mbx-used-weight-1m: 20' "$tmp/h" || fail "no weight header: $(cat "$tmp/h")"
info=$(curl -sS "$base/api/v3/exchangeInfo")
echo "$info" | grep -q '"rateLimits":\[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":45}' \
  || fail "exchangeInfo.rateLimits: $info"
code=$(curl -sS -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$base/api/v3/exchangeInfo")
[ "$code" = 429 ] || fail "expected 429, got $code $(cat "$tmp/b")"
grep -qi '^retry-after: [0-9]' "$tmp/h" || fail "no Retry-After: $(cat "$tmp/h")"
grep -q '"code":-1003,"msg":"Too much request weight used; current limit is 45 request weight per 1 MINUTE.' \
  "$tmp/b" || fail "429 body: $(cat "$tmp/b")"
# Two more 429s in a row: banned (418).
curl -sS -o /dev/null "$base/api/v3/exchangeInfo"
curl -sS -o /dev/null "$base/api/v3/exchangeInfo"
code=$(curl -sS -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "$base/api/v3/ping")
[ "$code" = 418 ] || fail "expected 418, got $code $(cat "$tmp/b")"
grep -q '"code":-1003,"msg":"Way too much request weight used; IP banned until' "$tmp/b" \
  || fail "418 body: $(cat "$tmp/b")"
grep -qi '^retry-after: 1[0-2][0-9]' "$tmp/h" || fail "418 Retry-After: $(cat "$tmp/h")"

# The ban is per IP: 127.0.0.2 (also loopback, as the source address) is
# another client.
[ "$(curl -sS --interface 127.0.0.2 "$base/api/v3/ping")" = "{}" ] || fail "other IP banned too"
out=$(curl -sS "$admin/admin/v1/limits")
echo "$out" | grep -q '"requestWeightPerMin":45,' || fail "GET limits: $out"
out=$(curl -sS -X POST -d '{"circuitBreakerEnabled":true,"circuitBreakerOrdersPerSec":0,"ordersPerSec":50}' \
  "$admin/admin/v1/limits")
echo "$out" | grep -q '"ordersPerSec":50,' || fail "POST limits: $out"
echo "$out" | grep -q '"circuitBreakerEnabled":true,' || fail "POST limits: $out"
# Circuit breaker on: new orders 503 -1008; cancels and reads reach their
# handlers (here: -2014 for the missing API key).
c3=(curl -sS --interface 127.0.0.3)
out=$("${c3[@]}" -w ' %{http_code}' -X POST -d 'symbol=BTCUSDT' "$base/api/v3/order")
[ "$out" = '{"code":-1008,"msg":"Server is currently overloaded with other requests. Please try again in a few minutes."} 503' ] \
  || fail "breaker: $out"
out=$("${c3[@]}" -w ' %{http_code}' -X DELETE "$base/api/v3/order?symbol=BTCUSDT&orderId=1")
echo "$out" | grep -q -- '-2014.* 401$' || fail "cancel under the breaker: $out"
[ "$("${c3[@]}" "$base/api/v3/ping")" = "{}" ] || fail "read under the breaker"
out=$(curl -sS -X POST -d '{"nope":1}' "$admin/admin/v1/limits")
echo "$out" | grep -q '"code":-1104' || fail "unknown key: $out"
out=$(curl -sS -X POST -d '{"ordersPerSec":-1}' "$admin/admin/v1/limits")
echo "$out" | grep -q '"code":-1100' || fail "bad value: $out"

# SIGHUP: the file is read again (weight 1000, breaker off as in the file);
# a reload keeps the counters, so the ban of 127.0.0.1 stays.
conf 1000
kill -HUP "$pid"
for _ in $(seq 1 100); do
  grep -q 'SIGHUP: limits reloaded' "$tmp/out" && break
  sleep 0.05
done
grep -q 'SIGHUP: limits reloaded' "$tmp/out" || fail "no reload line"
kill -0 "$pid" || fail "exchange died on SIGHUP"
out=$(curl -sS "$admin/admin/v1/limits")
echo "$out" | grep -q '"requestWeightPerMin":1000,' || fail "limits after SIGHUP: $out"
echo "$out" | grep -q '"circuitBreakerEnabled":false,' || fail "breaker after SIGHUP: $out"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$base/api/v3/ping")
[ "$code" = 418 ] || fail "a reload must not lift a ban, got $code"
out=$("${c3[@]}" -w ' %{http_code}' -X POST -d 'symbol=BTCUSDT' "$base/api/v3/order")
echo "$out" | grep -q -- '-2014.* 401$' || fail "order after the breaker is off: $out"
info=$("${c3[@]}" "$base/api/v3/exchangeInfo")
echo "$info" | grep -q '"rateLimits":\[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":1000}' \
  || fail "exchangeInfo.rateLimits after SIGHUP: $info"

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
[ "$rc" -eq 0 ] || fail "exit code $rc after SIGTERM"
echo "PASS"
