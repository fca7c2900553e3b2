#!/usr/bin/env bash
# Configures and builds one flavour of the tree.
#   scripts/build.sh [release|asan]   (default release)
# release -> build/       (executables in build/bin/)
# asan    -> build-asan/  (AddressSanitizer + UndefinedBehaviorSanitizer, no benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on absolute paths (and, with -g, on the working directory), so
# each fresh clone in its own directory would miss the whole cache: CI
# recompiled every object on every run. Paths below the tree are hashed
# relative to it instead, so that clones of one commit share their objects.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
flavour=${1:-release}
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
case "$flavour" in
  release)
    cmake -S . -B build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build -j "$(nproc)"
    ;;
  asan)
    cmake -S . -B build-asan "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DXC_SANITIZE="address;undefined" -DXC_BUILD_BENCH=OFF >/dev/null
    cmake --build build-asan -j "$(nproc)"
    ;;
  *) echo "unknown flavour $flavour" >&2; exit 2 ;;
esac
