#!/usr/bin/env bash
# Installs what is missing, builds (Release) and starts the exchange on the
# embedded default config: client API on :8080, admin API on 127.0.0.1:8081,
# data in ./xc-data (restarts continue from it). Ctrl-C / SIGTERM stops it
# gracefully. Extra arguments go to the exchange (e.g. --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release
exec build/bin/exchange "$@"
