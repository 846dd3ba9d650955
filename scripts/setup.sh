#!/usr/bin/env bash
# One-time set-up shared by `npm test`, `npm run demo` and the benchmarks:
# npm dependencies (npm ci when node_modules is missing or older than the lock file), the build,
# and Debian's redis-server (and nutcracker, the tests' proxy) when they are not installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: installing redis-server (apt-get)" >&2
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y redis-server >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y redis-server >&2; }
  # The Debian package starts a system instance on 6379; the tests start their own on free ports.
fi

# twemproxy (nutcracker): the proxy target of the tests (test/harness/twemproxy.ts).
if ! command -v nutcracker >/dev/null 2>&1 && [ ! -x /usr/sbin/nutcracker ]; then
  echo "setup: installing nutcracker (apt-get)" >&2
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y nutcracker >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y nutcracker >&2; }
fi

echo "setup: build (tsc -b, then one bundle per subcommand)" >&2
npx tsc -b >&2
node scripts/bundle.mjs >&2
