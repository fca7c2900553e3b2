#!/usr/bin/env bash
# Installs what the end-to-end tests (tests/e2e) need: node + npm, and the
# exact npm packages of tests/e2e/package-lock.json.
#
# node: taken as it is when `node` is on PATH (any node >= 18; a machine may
# have one from elsewhere, which Debian's nodejs package conflicts with);
# otherwise Debian's nodejs + npm (node 18 on Debian 12).
# Packages: `npm ci` in tests/e2e, skipped when node_modules was installed
# from the same lockfile (a stamp holds its hash), so a warm run costs ~0 s.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "install-node: installing Debian nodejs + npm"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-node: node is installed but npm is not; install npm for this node" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "install-node: node $(node --version) is too old (tests/e2e needs >= 18)" >&2
  exit 1
fi

e2e=tests/e2e
stamp=$e2e/node_modules/.xc-lock-sha256
want=$(sha256sum "$e2e/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install-node: node $(node --version), tests/e2e packages present"
else
  echo "install-node: npm ci in $e2e (node $(node --version), npm $(npm --version))"
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi
