#!/usr/bin/env bash
# The exbench suite (ops/PLAYBOOKS.md: load test before and after a scale
# event): each run spawns its own exchange, writes NAME.json and NAME.md into
# OUT, and SUMMARY.md collects one line per run.
#
#   bench/exbench/suite.sh [OUT]          (default: exbench-suite-<UTC time>)
#
# Knobs (environment): BUILD_DIR (build), DURATION (10), WARMUP (2),
# STEP_DURATION (5), RATE (10000), CONNECTIONS (64), SERVER_CPUS / CLIENT_CPUS
# (unset: no pinning), EXTRA (more exbench flags for every run).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
OUT=${1:-exbench-suite-$(date -u +%Y%m%dT%H%M%SZ)}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
STEP_DURATION=${STEP_DURATION:-5}
RATE=${RATE:-10000}
CONNECTIONS=${CONNECTIONS:-64}
mkdir -p "$OUT"
common=(--spawn "$BUILD_DIR/bin/exchange" --connections "$CONNECTIONS" --quiet)
[[ -n "${SERVER_CPUS:-}" ]] && common+=(--server-cpus "$SERVER_CPUS")
[[ -n "${CLIENT_CPUS:-}" ]] && common+=(--client-cpus "$CLIENT_CPUS")
# shellcheck disable=SC2206
extra=(${EXTRA:-})

run() {  # NAME ARGS...
  local name=$1
  shift
  echo "== $name: exbench $*" >&2
  local rc=0
  "$BUILD_DIR/bin/exbench" "${common[@]}" "${extra[@]}" "$@" \
    --json "$OUT/$name.json" --report "$OUT/$name.md" || rc=$?
  python3 - "$OUT/$name.json" "$name" "$rc" >> "$OUT/SUMMARY.md" <<'EOF'
import json, sys
path, name, rc = sys.argv[1:]
try:
    d = json.load(open(path))
except Exception as e:
    print(f"| {name} | exit {rc}, no result ({e}) | | | | | | |")
    sys.exit(0)
r = d.get("result") or {}
o = r.get("orders", {})
rate = d.get("max_sustained_rate", r.get("offered_rate", 0))
print(f"| {name} | {d['config']['journal_policy']} | {rate} | {r.get('achieved_rate', 0)} | "
      f"{o.get('p50_us', '-')} / {o.get('p99_us', '-')} / {o.get('p999_us', '-')} | "
      f"{r.get('error_count', '-')} | {r.get('client_cpu', {}).get('cores', '-')} | "
      f"{round(100 * r['host_cpu']['steal'], 2) if 'host_cpu' in r else '-'} |")
EOF
}

{
  echo "# exbench suite $(date -u +%FT%TZ) ($(nproc) CPUs, $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "| run | journal | offered (find-max: max sustained) ops/s | achieved | p50 / p99 / p99.9 µs | errors | client cores | steal % |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$OUT/SUMMARY.md"

run open-loop-none --journal-policy none --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP"
run open-loop-fsync --journal-policy fsync --rate 100 --duration "$DURATION" --warmup "$WARMUP"
run find-max-none --journal-policy none --find-max --step-duration "$STEP_DURATION"
run find-max-none-p99-500us --journal-policy none --find-max --start-rate 500 \
  --max-p99-us 500 --step-duration "$STEP_DURATION"
run find-max-fsync --journal-policy fsync --find-max --start-rate 50 --step-duration "$STEP_DURATION"
run rest-orders-none --journal-policy none --order-api rest --rate 2000 --duration "$DURATION" \
  --warmup "$WARMUP"
# The machine the runs were taken on: the host row of a run's report (exbench
# formats it from its host facts, host.h). Compare suites only when these agree.
host=$(grep -h -m1 '^| host | ' "$OUT"/*.md 2>/dev/null | head -n1 | sed 's/^| host | //; s/ |$//' || true)
[[ -n "$host" ]] && printf '\nHost: %s\n' "$host" >> "$OUT/SUMMARY.md"
cat "$OUT/SUMMARY.md"
