#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Release build, then
# the same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/install-node.sh  # node + tests/e2e/node_modules (npm ci)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.ccache}

./scripts/build.sh release
echo "== tests (Release) =="
ctest --test-dir build --output-on-failure -j "$(nproc)"

# Request parsing and signature checking under libFuzzer (clang-14), briefly.
echo "== fuzz (gateway request parsing + signatures, 20 s) =="
bash gateway/fuzz/run_fuzz.sh 20

./scripts/build.sh asan
echo "== tests (ASan+UBSan) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
XC_TEST_SCALE=sanitizer ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
