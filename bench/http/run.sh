#!/usr/bin/env bash
# HTTP benchmark: the exchange's REST gateway against nginx serving a static
# file of the same size, then signed order throughput. See bench/http/README.md.
#
#   bench/http/run.sh            (as root if wrk/nginx must be installed)
#
# Knobs (environment): ROUNDS=5 DURATION=10 THREADS=1 CONNS=64 IO_THREADS=1
#   NGINX_WORKERS=1 SERVER_CPUS=0 WRK_CPUS=1 TARGET='/api/v3/depth?symbol=BTCUSDT&limit=20'
#   ORDER_ROUNDS=3 ORDER_SECONDS=10 ORDER_CONNS=8 ORDER_PAIRS=400000
#   JOURNAL_POLICY=fsync BUILD_DIR=build
# Writes a markdown summary to stdout; progress goes to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BUILD_DIR:-$ROOT/build}/bin
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
THREADS=${THREADS:-1}
CONNS=${CONNS:-64}
IO_THREADS=${IO_THREADS:-1}
NGINX_WORKERS=${NGINX_WORKERS:-1}
SERVER_CPUS=${SERVER_CPUS:-0}
WRK_CPUS=${WRK_CPUS:-1}
TARGET=${TARGET:-/api/v3/depth?symbol=BTCUSDT&limit=20}
FALLBACK_TARGET=/api/v3/exchangeInfo?symbol=BTCUSDT
ORDER_ROUNDS=${ORDER_ROUNDS:-3}
ORDER_SECONDS=${ORDER_SECONDS:-10}
ORDER_CONNS=${ORDER_CONNS:-8}
ORDER_PAIRS=${ORDER_PAIRS:-400000}
JOURNAL_POLICY=${JOURNAL_POLICY:-fsync}
ORDER_PRICE=20000.00 # far below the seeded bids (29990 and down), inside the price band
ORDER_QTY=0.001

log() { echo "run.sh: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

for b in exchange http-presign; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found: build it first (ninja -C build exchange http-presign)"
done
((ORDER_SECONDS <= 45)) || die "ORDER_SECONDS must be <= 45 (signed requests expire after recvWindow = 60 s)"

# ---- tools ----
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  [ "$(id -u)" -eq 0 ] || die "needs ${missing[*]}: run as root or: sudo apt-get install ${missing[*]}"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PIN_SERVER=()
PIN_WRK=()
PIN_DESC="not pinned (taskset missing or one CPU)"
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
  PIN_SERVER=(taskset -c "$SERVER_CPUS")
  PIN_WRK=(taskset -c "$WRK_CPUS")
  PIN_DESC="servers (whole process) on CPU $SERVER_CPUS, wrk on CPU $WRK_CPUS"
fi

# ---- temp dir, cleanup of what we started ----
TMP=$(mktemp -d /tmp/xc-http-bench.XXXXXX)
EX_PID=""
NG_PID=""
cleanup() {
  [ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null && wait "$NG_PID" 2>/dev/null
  [ -n "$EX_PID" ] && kill "$EX_PID" 2>/dev/null && wait "$EX_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port"
}

# ---- exchange ----
# Rate limits off: the benchmark measures the gateway, not the limiter's 429s.
"$BIN/exchange" --print-default-config |
  sed -e "s/^http_io_threads = .*/http_io_threads = $IO_THREADS/" \
    -e "s/^journal_policy = .*/journal_policy = $JOURNAL_POLICY/" \
    -e "s/^\(rate_limit_[a-z0-9_]*\) = .*/\1 = 0/" >"$TMP/exchange.conf"
XC_PORT=0 XC_ADMIN_PORT=0 XC_LISTEN_ADDR=127.0.0.1 XC_TLS_CERT_FILE= XC_TLS_KEY_FILE= \
  "${PIN_SERVER[@]}" "$BIN/exchange" --config "$TMP/exchange.conf" --data-dir "$TMP/data" \
  >"$TMP/exchange.log" 2>&1 &
EX_PID=$!
for _ in $(seq 100); do
  grep -q '^ready$' "$TMP/exchange.log" && break
  kill -0 "$EX_PID" 2>/dev/null || die "exchange exited: $(cat "$TMP/exchange.log")"
  sleep 0.1
done
grep -q '^ready$' "$TMP/exchange.log" || die "exchange not ready after 10 s"
EX_PORT=$(sed -n 's/^client_port=//p' "$TMP/exchange.log")
ADMIN_PORT=$(sed -n 's/^admin_port=//p' "$TMP/exchange.log")
EX=http://127.0.0.1:$EX_PORT
ADMIN=http://127.0.0.1:$ADMIN_PORT
log "exchange pid $EX_PID client_port=$EX_PORT admin_port=$ADMIN_PORT"

json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
new_user() { # -> "userId apiKey secretKey"
  local r
  r=$(curl -sS -X POST "$ADMIN/admin/v1/users")
  echo "$(json_field userId <<<"$r") $(json_field apiKey <<<"$r") $(json_field secretKey <<<"$r")"
}
credit() { # userId asset amount
  local r
  r=$(curl -sS -X POST "$ADMIN/admin/v1/balances" -H 'Content-Type: application/json' \
    -d "{\"userId\":$1,\"asset\":\"$2\",\"amount\":\"$3\"}")
  grep -q '"free"' <<<"$r" || die "credit $*: $r"
}
place() { # apiKey secret side price qty
  local body r
  body=$("$BIN/http-presign" --secret "$2" --sign-body \
    "symbol=BTCUSDT&side=$3&type=LIMIT&timeInForce=GTC&quantity=$5&price=$4")
  r=$(curl -sS -X POST "$EX/api/v3/order" -H "X-MBX-APIKEY: $1" \
    -H 'Content-Type: application/x-www-form-urlencoded' -d "$body")
  grep -q '"orderId"' <<<"$r" || die "order $3 $5@$4: $r"
}

# ---- seed: 20 bids and 20 asks around 30000 ----
read -r MAKER_ID MAKER_KEY MAKER_SECRET <<<"$(new_user)"
[ -n "$MAKER_SECRET" ] || die "could not create a user through $ADMIN"
credit "$MAKER_ID" USDT 100000000
credit "$MAKER_ID" BTC 10000
for k in $(seq 0 19); do
  qty=$(printf '0.%03d%02d' $((k + 1)) $((k * 7 % 100)))
  place "$MAKER_KEY" "$MAKER_SECRET" BUY "$((29990 - 7 * k)).$((k % 10))0" "$qty"
  place "$MAKER_KEY" "$MAKER_SECRET" SELL "$((30010 + 7 * k)).$((k % 10))5" "$qty"
done
log "seeded 40 resting orders on BTCUSDT"

# ---- the GET target and its static twin ----
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' "$EX$TARGET")
if [ "$code" != 200 ]; then
  log "WARNING: $TARGET answered HTTP $code; benchmarking $FALLBACK_TARGET instead"
  TARGET_NOTE="($TARGET answered HTTP $code: fell back)"
  TARGET=$FALLBACK_TARGET
  code=$(curl -sS -o "$TMP/body" -w '%{http_code}' "$EX$TARGET")
  [ "$code" = 200 ] || die "$TARGET answered HTTP $code"
else
  TARGET_NOTE=""
fi
BODY_BYTES=$(wc -c <"$TMP/body")
TARGET_PATH=${TARGET%%\?*}
mkdir -p "$TMP/www$(dirname "$TARGET_PATH")" "$TMP/nginx"
head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$TMP/www$TARGET_PATH"
log "body of $TARGET: $BODY_BYTES bytes"

# ---- nginx: 1 worker, static file, keep-alive, as the current user ----
NG_PORT=$(free_port)
{
  [ "$(id -u)" -eq 0 ] && echo "user root;"
  cat <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  etag off;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  open_file_cache max=16 inactive=60s;
  open_file_cache_valid 60s;
  default_type application/json;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $TMP/www;
  }
}
EOF
} >"$TMP/nginx/nginx.conf"
"${PIN_SERVER[@]}" "$NGINX" -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
  2>>"$TMP/nginx/error.log" &
NG_PID=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$NG_PORT") 2>/dev/null && break
  kill -0 "$NG_PID" 2>/dev/null || die "nginx exited: $(cat "$TMP/nginx/error.log")"
  sleep 0.1
done
NG=http://127.0.0.1:$NG_PORT
ng_bytes=$(curl -sS "$NG$TARGET" | wc -c)
[ "$ng_bytes" = "$BODY_BYTES" ] || die "nginx serves $ng_bytes bytes, expected $BODY_BYTES"
log "nginx pid $NG_PID port $NG_PORT"

# ---- helpers for results ----
run_wrk() { # name url extra-args... -> appends the XCREPORT line to $TMP/<name>.txt
  local name=$1 url=$2
  shift 2
  local out
  out=$("${PIN_WRK[@]}" wrk "$@" --latency "$url" 2>&1) || die "wrk failed: $out"
  grep '^XCREPORT' <<<"$out" >>"$TMP/$name.txt" || die "wrk printed no report: $out"
  grep '^thread ' <<<"$out" >&2 || true # XC_BENCH_DEBUG output of orders.lua
  log "$name: $(grep '^XCREPORT' <<<"$out")"
}
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$TMP/$1.txt"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
sum() { awk '{s+=$1} END {print s+0}'; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- A/B: interleaved, alternating which server goes first ----
GET_ARGS=(-t "$THREADS" -c "$CONNS" -d "${DURATION}s" -s "$HERE/report.lua")
for r in $(seq "$ROUNDS"); do
  if ((r % 2)); then
    run_wrk exchange "$EX$TARGET" "${GET_ARGS[@]}"
    run_wrk nginx "$NG$TARGET" "${GET_ARGS[@]}"
  else
    run_wrk nginx "$NG$TARGET" "${GET_ARGS[@]}"
    run_wrk exchange "$EX$TARGET" "${GET_ARGS[@]}"
  fi
done
kill "$NG_PID" && wait "$NG_PID" 2>/dev/null || true
NG_PID=""

# ---- signed orders: new + cancel pairs ----
read -r BENCH_ID BENCH_KEY BENCH_SECRET <<<"$(new_user)"
credit "$BENCH_ID" USDT 1000000000
first=0
for r in $(seq "$ORDER_ROUNDS"); do
  rm -rf "$TMP/presign" && mkdir "$TMP/presign"
  "$BIN/http-presign" --api-key "$BENCH_KEY" --secret "$BENCH_SECRET" --pairs "$ORDER_PAIRS" \
    --slices "$ORDER_CONNS" --first-index "$first" --price "$ORDER_PRICE" --qty "$ORDER_QTY" \
    --out "$TMP/presign" 2>/dev/null
  first=$((first + ORDER_PAIRS))
  XC_PRESIGN_DIR=$TMP/presign XC_BENCH_API_KEY=$BENCH_KEY run_wrk orders "$EX/" \
    -t "$ORDER_CONNS" -c "$ORDER_CONNS" -d "${ORDER_SECONDS}s" -s "$HERE/orders.lua"
done
open_left=$(curl -sS -H "X-MBX-APIKEY: $BENCH_KEY" "$EX/api/v3/openOrders?$("$BIN/http-presign" \
  --secret "$BENCH_SECRET" --sign-body "symbol=BTCUSDT")" | { grep -o '"orderId"' || true; } | wc -l)

# ---- summary ----
ex_rps=$(field exchange rps | median)
ng_rps=$(field nginx rps | median)
ratio=$(awk -v a="$ex_rps" -v b="$ng_rps" 'BEGIN {printf "%.2f", a / b}')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cat <<EOF
## HTTP benchmark: exchange vs nginx ($(date -u +%Y-%m-%dT%H:%MZ))

GET \`$TARGET\` $TARGET_NOTE, body $BODY_BYTES bytes; nginx serves a static file of the same size.
wrk -t$THREADS -c$CONNS -d${DURATION}s --latency, keep-alive, $ROUNDS interleaved rounds per server
(medians). Exchange http_io_threads=$IO_THREADS, nginx worker_processes=$NGINX_WORKERS;
$PIN_DESC. CPU: $cpu ($(nproc) online), kernel $(uname -r),
load average before the runs: $LOAD_BEFORE.

| server | requests/s | p50 µs | p99 µs | non-2xx | socket errors |
| --- | ---: | ---: | ---: | ---: | ---: |
| exchange | $ex_rps | $(field exchange p50_us | median) | $(field exchange p99_us | median) | $(field exchange non2xx | sum) | $(field exchange socket_errors | sum) |
| nginx | $ng_rps | $(field nginx p50_us | median) | $(field nginx p99_us | median) | $(field nginx non2xx | sum) | $(field nginx socket_errors | sum) |
| exchange / nginx | $ratio | | | | |

Per round requests/s: exchange $(field exchange rps | tr '\n' ' '); nginx $(field nginx rps | tr '\n' ' ')

## Signed orders: POST /api/v3/order LIMIT GTC + DELETE /api/v3/order

wrk -t$ORDER_CONNS -c$ORDER_CONNS -d${ORDER_SECONDS}s (one keep-alive connection per thread, each replaying
its own slice of pre-signed pairs in order), $ORDER_ROUNDS rounds (medians); BUY $ORDER_QTY @ $ORDER_PRICE,
far from the touch; journal_policy=$JOURNAL_POLICY; $PIN_DESC (the engine, journal and pump threads
share the server CPU).

| orders/s (new + cancel) | pairs/s | p50 µs | p99 µs | non-2xx | exhausted threads | open orders left |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| $(field orders rps | median) | $(awk -v a="$(field orders rps | median)" 'BEGIN {printf "%.1f", a / 2}') | $(field orders p50_us | median) | $(field orders p99_us | median) | $(field orders non2xx | sum) | $(field orders exhausted_threads | sum) | $open_left |

Per round orders/s: $(field orders rps | tr '\n' ' ')
EOF
