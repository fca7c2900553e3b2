#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs the main job on the
# embedded default. Until the exchange binary exists this is the replay
# benchmark: a generated mixed flow (1k resting orders, depth mean 8) through
# one engine shard, printing latency percentiles and the summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release
mkdir -p build/flows
flow=build/flows/mixed-1k.csv
[ -f "$flow" ] || build/bin/flowgen --seed 1 --resting 1000 --depth-mean 8 --ops 5000000 > "$flow"
exec build/bin/engine-replay --warmup 1 --repeat 3 "$flow"
