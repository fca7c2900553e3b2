#!/usr/bin/env bash
# Smoke test of the one-process exchange: usage exchange_smoke_test.sh EXCHANGE EXCTL.
# Starts EXCHANGE on ports chosen by the kernel (XC_PORT=0, XC_ADMIN_PORT=0;
# it prints the bound ports), checks ping and exchangeInfo with curl, creates
# a user and credits/withdraws through EXCTL, then SIGTERMs it and expects
# exit 0, the journal directory, and a clean restart on the same data dir.
set -u
exchange=$1
exctl=$2
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
echo "$out" | grep -q '"free":"1001.00000000"' || fail "balance lost in restart: $out"
user2=$("$exctl" --admin "http://127.0.0.1:$admin_port" user create) || fail "user create 2"
echo "$user2" | grep -q "\"userId\":$((uid + 1))," || fail "user id reused after restart: $user2"
kill -INT "$pid"; wait "$pid"; rc=$?; pid=""
[ "$rc" -eq 0 ] || fail "exit code $rc after SIGINT"
echo "PASS"
