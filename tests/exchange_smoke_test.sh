#!/usr/bin/env bash
# Smoke test of the one-process exchange: usage exchange_smoke_test.sh EXCHANGE EXCTL.
# Starts EXCHANGE on ports chosen by the kernel (XC_PORT=0, XC_ADMIN_PORT=0;
# it prints the bound ports), checks ping and exchangeInfo with curl, creates
# a user and credits/withdraws through EXCTL, checks /health, /ready and
# /metrics after one signed order, then SIGTERMs it and expects
# exit 0, the journal directory, and a clean restart on the same data dir.
set -u
exchange=$1
exctl=$2
if ! command -v openssl >/dev/null; then
  echo "openssl (CLI) not installed: needed to sign an order"; exit 1
fi
. "$(dirname "$0")/exchange_test_lib.sh"

start() {
  : >"$tmp/out"
  XC_PORT=0 XC_ADMIN_PORT=0 XC_LISTEN_ADDR=127.0.0.1 "$exchange" --data-dir "$tmp/data" \
    >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 200); do
    grep -q '^ready$' "$tmp/out" && break
    kill -0 "$pid" 2>/dev/null || fail "exchange exited during start"
    sleep 0.05
  done
  grep -q '^ready$' "$tmp/out" || fail "exchange not ready after 10 s"
  port=$(sed -n 's/^client_port=//p' "$tmp/out")
  admin_port=$(sed -n 's/^admin_port=//p' "$tmp/out")
  [ -n "$port" ] && [ -n "$admin_port" ] || fail "ports not printed"
}

stop() {
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  pid=""
  [ "$rc" -eq 0 ] || fail "exit code $rc after SIGTERM (expected 0)"
}

"$exchange" --help | grep -q 'DATA/orders' || fail "--help does not describe persistence"

start
base="http://127.0.0.1:$port"
admin="http://127.0.0.1:$admin_port"

[ "$(curl -sS "$base/api/v3/ping")" = "{}" ] || fail "ping"
info=$(curl -sS "$base/api/v3/exchangeInfo")
for s in BTCUSDT ETHUSDT ETHBTC; do
  echo "$info" | grep -q "\"symbol\":\"$s\"" || fail "exchangeInfo lacks $s: $info"
done

user=$("$exctl" --admin "$admin" user create) || fail "exctl user create: $user"
echo "$user" | grep -Eq '"userId":[0-9]+,"apiKey":"[0-9a-f]{64}","secretKey":"[0-9a-f]{64}"' \
  || fail "user create output: $user"
uid=$(echo "$user" | sed -E 's/.*"userId":([0-9]+).*/\1/')

out=$("$exctl" --admin "$admin" balance credit "$uid" USDT 1000.5) || fail "credit: $out"
echo "$out" | grep -q '"free":"1000.50000000"' || fail "credit output: $out"
out=$(XC_ADMIN_URL="$admin" "$exctl" balance withdraw "$uid" USDT 0.5) || fail "withdraw: $out"
echo "$out" | grep -q '"free":"1000.00000000"' || fail "withdraw output: $out"
# A withdrawal above the free balance is refused with Binance's -2010.
out=$("$exctl" --admin "$admin" balance credit "$uid" USDT -5000) && fail "overdraw accepted: $out"
echo "$out" | grep -q '"code":-2010' || fail "overdraw error: $out"
# Unknown asset / user, bad amount.
out=$("$exctl" --admin "$admin" balance credit "$uid" XYZ 1) && fail "unknown asset accepted"
echo "$out" | grep -q '"code":-1130' || fail "unknown asset error: $out"
out=$(curl -sS -X POST -d '{"userId":1,"asset":"USDT","amount":1.5}' "$admin/admin/v1/balances")
echo "$out" | grep -q '"code":-1100' || fail "numeric amount error: $out"
out=$(curl -sS -X POST -d 'nope' "$admin/admin/v1/balances")
echo "$out" | grep -q '"code":-1013' || fail "bad JSON error: $out"

# Operations endpoints on the client port (issue 5): health, readiness and
# the Prometheus scrape. One signed limit order (HMAC with openssl) moves the
# engine's command counter.
[ "$(curl -sS "$base/health")" = '{"status":"ok"}' ] || fail "health"
out=$(curl -sS -w ' %{http_code}' "$base/ready")
[ "$out" = '{"status":"ready"} 200' ] || fail "ready: $out"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' "$base/metrics")
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "metrics content type: $ctype"
key=$(echo "$user" | sed -E 's/.*"apiKey":"([0-9a-f]+)".*/\1/')
secret=$(echo "$user" | sed -E 's/.*"secretKey":"([0-9a-f]+)".*/\1/')
q="symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=100&timestamp=$(date +%s%3N)"
sig=$(printf %s "$q" | openssl dgst -sha256 -hmac "$secret" | sed 's/.* //')
out=$(curl -sS -X POST -H "X-MBX-APIKEY: $key" "$base/api/v3/order?$q&signature=$sig")
echo "$out" | grep -q '"status":"NEW"' || fail "order: $out"
curl -sS "$base/api/v3/nope" >/dev/null
metrics=$(curl -sS "$base/metrics")
for m in '# TYPE xc_engine_commands_total counter' 'xc_engine_busy_ratio{shard="0"}' \
         'xc_engine_input_depth{shard="0"}' '# TYPE xc_journal_fsync_seconds histogram' \
         'xc_journal_syncs_total{shard="0"}' 'xc_partition_queue_depth{partition="1"}' \
         'xc_partition_cycles_total{partition="0"}' 'xc_http_open_connections{server="client"}' \
         'xc_http_requests_total{code="200",endpoint="/api/v3/ping",method="GET",server="client"}' \
         'xc_http_requests_total{code="200",endpoint="/api/v3/order",method="POST",server="client"} 1' \
         'xc_http_requests_total{code="404",endpoint="other",method="",server="client"} 1' \
         'xc_http_request_duration_seconds_bucket{endpoint="/api/v3/order"' \
         'xc_ready 1' '# TYPE process_cpu_seconds_total counter' 'process_resident_memory_bytes ' \
         'xc_rate_limit_rejections_total{reason="orders"}' 'xc_rate_limit_bans_total ' \
         'xc_ws_sessions{kind="market"} 0' 'xc_ws_sessions{kind="api"} 0' \
         'xc_user_stream_subscriptions 0' \
         '# TYPE xc_http_request_duration_seconds histogram'; do
  echo "$metrics" | grep -qF "$m" || fail "metrics lack '$m': $metrics"
done
echo "$metrics" | grep -Eq '^xc_engine_commands_total\{shard="0"\} [1-9]' \
  || fail "engine command counter did not move: $metrics"
echo "$metrics" | grep -Eq '^xc_journal_fsync_seconds_count\{shard="0"\} [1-9]' \
  || fail "no fsync observed: $metrics"

stop
[ -d "$tmp/data/engine" ] || fail "no journal directory $tmp/data/engine"
grep -q 'shutting down' "$tmp/out" || fail "no shutdown message"

# A clean restart on the same data directory recovers the engine and the
# order service: the user and its balance are still there.
start
[ "$(curl -sS "http://127.0.0.1:$port/api/v3/ping")" = "{}" ] || fail "ping after restart"
grep -q '^engine: recovered' "$tmp/out" || fail "no recovery line after restart"
grep -q '^order service: 2 partitions' "$tmp/out" || fail "no order-service recovery line"
out=$("$exctl" --admin "http://127.0.0.1:$admin_port" balance credit "$uid" USDT 1) \
  || fail "credit after restart: $out"
# 1000 + 1, less the 10 USDT the open order (0.1 @ 100) still holds.
echo "$out" | grep -q '"free":"991.00000000","locked":"10.00000000"' \
  || fail "balance lost in restart: $out"
user2=$("$exctl" --admin "http://127.0.0.1:$admin_port" user create) || fail "user create 2"
echo "$user2" | grep -q "\"userId\":$((uid + 1))," || fail "user id reused after restart: $user2"
kill -INT "$pid"; wait "$pid"; rc=$?; pid=""
[ "$rc" -eq 0 ] || fail "exit code $rc after SIGINT"
echo "PASS"
