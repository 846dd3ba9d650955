#!/usr/bin/env bash
# Convert an RDB for an older server: examples/sample.rdb (written by Redis 7.0, RDB 10) becomes an RDB 9 file
# that Redis 5.0-6.2 load (listpacks rewritten as ziplists, the function library not written and counted), then a
# throwaway redis-server loads it at start-up and reports its keys.
# Usage: bash examples/convert-for-6.2.sh [INPUT.rdb] [REDIS-SERVER-BINARY]   (after npm run demo or scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
in="${1:-examples/sample.rdb}"
server="${2:-redis-server}"
dir="$(mktemp -d)"
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
./bin/run.js decode "$in" --format rdb --target-version 6.2 -o "$dir/dump.rdb"
port=$((20000 + RANDOM % 20000))
"$server" --port "$port" --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb --save '' --daemonize yes \
  --logfile "$dir/server.log" >/dev/null
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "loaded by $("$server" --version | cut -d' ' -f3): $(redis-cli -p "$port" info keyspace | grep '^db' | tr '\r\n' '  ')"
