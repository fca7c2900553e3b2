#!/usr/bin/env bash
# Builds gateway/fuzz/request_fuzz with clang-14 + libFuzzer + ASan in its own
# tree and runs it for a bounded time on the seeds in gateway/fuzz/corpus/.
#   gateway/fuzz/run_fuzz.sh [SECONDS]      (default 30)
# Environment: XC_FUZZ_BUILD_DIR (default build-fuzz). New inputs go to a
# temporary directory, never into the checked-in corpus. Exits non-zero when
# the fuzzer finds a crash, leak, timeout or broken invariant; the input is
# left in $XC_FUZZ_BUILD_DIR/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
build=${XC_FUZZ_BUILD_DIR:-build-fuzz}
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

echo "== fuzz: request_fuzz (${secs}s, clang-14, build dir ${build}) =="
# Only the fuzz target is built: gateway_core, xc::protocol, Abseil, libcrypto.
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DXC_BUILD_FUZZERS=ON -DXC_BUILD_BENCH=OFF -DXC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target request_fuzz -j "$(nproc)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz-artifacts"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
"$build/bin/request_fuzz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -max_len=4096 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/" \
  "$work" gateway/fuzz/corpus
echo "fuzz: request_fuzz ran ${secs}s without findings"
