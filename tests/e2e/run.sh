#!/usr/bin/env bash
# Runs end-to-end test files of tests/e2e against one exchange binary:
#   run.sh EXCHANGE [FILE.test.mjs ...]     (default: every *.test.mjs)
# ctest calls it once per file with $<TARGET_FILE:exchange>. Fails (never
# skips) when node or the npm packages are missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then echo "usage: $0 EXCHANGE [FILE.test.mjs ...]" >&2; exit 2; fi
# Absolute, because the tests run from tests/e2e.
case $1 in /*) XC_EXCHANGE=$1 ;; *) XC_EXCHANGE=$PWD/$1 ;; esac
export XC_EXCHANGE
if [ ! -x "$XC_EXCHANGE" ]; then echo "FAIL: no exchange binary at $XC_EXCHANGE" >&2; exit 1; fi
shift
if ! command -v node >/dev/null 2>&1; then
  echo "FAIL: node is not installed; run scripts/install-node.sh" >&2; exit 1
fi
if [ ! -d "$here/node_modules/@binance/connector" ] || [ ! -d "$here/node_modules/ccxt" ]; then
  echo "FAIL: $here/node_modules is missing or incomplete; run scripts/install-node.sh" >&2; exit 1
fi
cd "$here"
if [ $# -eq 0 ]; then set -- *.test.mjs; fi
exec node --test "$@"
