#!/usr/bin/env bash
# Builds examples/sample.rdb: a small RDB (< 50 KB) with every data type and encoding the local
# redis-server writes (strings int/embstr/raw/LZF, lists, sets intset/hashtable, sorted sets
# listpack/skiplist, hashes listpack/hashtable, a stream with groups, consumers and pending entries,
# TTLs, keys in databases 0, 1 and 3, a function library). Deterministic data, absolute TTLs.
# Usage: examples/make-sample.sh [redis-server binary]
set -euo pipefail
cd "$(dirname "$0")"
SERVER=${1:-redis-server}
DIR=$(mktemp -d)
PORT=$(( 20000 + RANDOM % 20000 ))
"$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly no --daemonize no \
  --logfile "$DIR/log" --maxmemory-policy allkeys-lru &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
cli() { redis-cli -p "$PORT" "$@" > /dev/null; }
for _ in $(seq 100); do redis-cli -p "$PORT" ping > /dev/null 2>&1 && break; sleep 0.05; done

# strings
cli SET greeting "hello, world"
cli SET counter 42
cli SET big:int 9223372036854775807
# redis-cli reads commands from stdin with its own quoting: "\x00" is a NUL byte there
printf '%s\n' 'SET "binary:\x00\xff" "bytes \x00\x01\x02\xfe"' 'SET "caf\xc3\xa9" "UTF-8 key"' \
  'SET "line\r\nbreak" "CRLF in the key"' | redis-cli -p "$PORT" > /dev/null
cli SET compressible "$(printf 'abcdefgh%.0s' $(seq 200))"
cli SET session:1 token-1 PXAT 2051222400000
cli SET float 3.14159
cli SETBIT bitmap 100 1
cli PFADD visitors alice bob carol

# lists
cli RPUSH list:small a b c 1 2 3
redis-cli -p "$PORT" RPUSH list:big $(seq 1 700) > /dev/null
cli RPUSH list:long-element "$(printf 'x%.0s' $(seq 100))" short

# sets
cli SADD set:ints 1 2 3 70000
cli SADD set:strings apple banana cherry
redis-cli -p "$PORT" SADD set:big $(seq 1000 1600 | sed 's/^/m/') > /dev/null

# sorted sets
cli ZADD zset:small 1 one 2 two 2.5 two-and-a-half -inf floor inf ceiling
redis-cli -p "$PORT" ZADD zset:big $(for i in $(seq 1 200); do echo "$i.5 member:$i"; done) > /dev/null

# hashes
cli HSET hash:small name ann age 42 empty ""
redis-cli -p "$PORT" HSET hash:big $(for i in $(seq 1 600); do echo "field:$i value-$i"; done) > /dev/null
cli PEXPIREAT hash:small 4102444800000

# a stream with a group, consumers and pending entries
cli XADD events 1700000000000-0 type login user ann
cli XADD events 1700000000001-0 type click user ann page /home
cli XADD events 1700000000002-0 type logout user ann
cli XADD events 1700000000003-0 type login user bob
cli XDEL events 1700000000001-0
cli XGROUP CREATE events audit 0
cli XGROUP CREATECONSUMER events audit idle-reader
cli XREADGROUP GROUP audit alice COUNT 2 STREAMS events ">"
cli XCLAIM events audit bob 0 1700000000000-0 TIME 1700000123456 RETRYCOUNT 3
cli XGROUP CREATE events late '$'

# other databases
cli -n 1 SET db1:key "in db 1"
cli -n 1 RPUSH db1:list x y
cli -n 3 HSET db3:hash f v
cli -n 3 PEXPIREAT db3:hash 4102444800000

# a function library
cli FUNCTION LOAD "#!lua name=samplelib
redis.register_function('sample_echo', function(keys, args) return args[1] end)"

cli SAVE
cp "$DIR/dump.rdb" sample.rdb
echo "examples/sample.rdb: $(wc -c < sample.rdb) bytes" >&2
