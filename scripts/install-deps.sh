#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build, test and benchmark.
# Idempotent: packages already present are skipped, so a warm machine spends ~1 s here.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  g++ clang-14 libclang-rt-14-dev
  libabsl-dev libboost1.81-dev libsimdjson-dev liburing-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  curl openssl  # tests/exchange_smoke_test.sh (curl; openssl signs an order)
  # node + npm for tests/e2e: scripts/install-node.sh (node may come from elsewhere).

)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
