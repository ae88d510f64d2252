#!/bin/sh
# test_pcbench.sh - the smoke test of pcbench: run every workload for a
# fraction of a second against a pycached this test starts on a temporary
# tmpfs store, and check that pcbench exits 0, that its --json output parses,
# and that every request succeeded.  A correctness check, not a timing.
# Run by `make check` with $top_builddir and $top_srcdir exported.
set -u

# pctest.sh: the real binaries rather than libtool's wrappers, and counting.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/pctest.sh"
built "$PCBENCH" "$PYCACHED"

base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
tmp=$(mktemp -d "$base/test_pcbench.XXXXXX") || exit 1
S="$tmp/store"
pid=

stop_daemon() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.05
            i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null
    fi
    pid=
}
trap 'stop_daemon; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# start_daemon ARGS...: a daemon on a fresh store, with ARGS.
start_daemon() {
    stop_daemon
    rm -rf "$S"
    "$PYCACHED" -d "$S" --sync none --max-memory 256M --log-file "$tmp/daemon.log" "$@" ||
        { fail "pycached $* did not start" "$(tail -5 "$tmp/daemon.log" 2>/dev/null)"; exit 1; }
    i=0
    while [ ! -S "$S/pycached.sock" ] && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    pid=$(cat "$S/pycached.pid" 2>/dev/null)
    [ -n "$pid" ] || { fail "pycached wrote no pid file"; exit 1; }
}

# A JSON checker: jq, else python3, else none (then only the exit status
# and a textual look at "errors" are checked).
JQ=$(command -v jq 2>/dev/null) || JQ=
PY=$(command -v python3 2>/dev/null) || PY=

# check_json FILE WHAT: the array parses, has rows, every row that ran has
# ops > 0 and errors == 0.
check_json() {
    checks=$((checks + 1))
    if [ -n "$JQ" ]; then
        if ! "$JQ" -e 'type == "array" and length > 0' "$1" >/dev/null 2>&1; then
            fail "$2: --json output does not parse as a non-empty array" "$(head -c 400 "$1")"
            return
        fi
        bad=$("$JQ" -r '.[] | select(.supported and ((.errors // 1) != 0 or (.ops // 0) <= 0))
                | "\(.workload) \(.target): ops \(.ops) errors \(.errors) \(.note // "")"' "$1")
    elif [ -n "$PY" ]; then
        bad=$("$PY" -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and rows
for r in rows:
    if r["supported"] and (r.get("errors", 1) != 0 or r.get("ops", 0) <= 0):
        print(r["workload"], r["target"], "ops", r.get("ops"), "errors", r.get("errors"), r.get("note", ""))
' "$1" 2>&1) || { fail "$2: --json output does not parse" "$bad"; return; }
    else
        bad=$(grep -E '"errors": [1-9]' "$1")
    fi
    [ -z "$bad" ] || fail "$2: requests failed" "$bad"
}

# bench WHAT ARGS...: run pcbench --json ARGS; exit status 0 and check_json.
bench() {
    what=$1
    shift
    checks=$((checks + 1))
    "$PCBENCH" -d "$S" --json --timeout 20 "$@" >"$tmp/out.json" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$what: pcbench exited $rc" "$(tail -5 "$tmp/err")"
    fi
    check_json "$tmp/out.json" "$what"
}

SMALL="-n 2000 --members 2000 --coll-keys 50 -D 0.2 -w 0.05"

start_daemon --snapshot-dir "$tmp/snap"
# Every workload of the suite, one client, one request in flight.
bench "suite" $SMALL get set incr lpush rpop hset hget sadd sismember mset mget \
    ycsb-a ycsb-b ycsb-c ycsb-a:zipf ycsb-b:zipf ycsb-c:zipf
# Batches, several processes and threads, ring-only reads.
bench "in flight" $SMALL -P 16 set incr lpush rpop hset sadd mset ycsb-a get
bench "processes" $SMALL -c 2 -T 2 get set ycsb-b:zipf
bench "ring-only" $SMALL --ring-only get hget sismember mget ycsb-b
# issue 16's workloads, zero-copy and ring-only, one at a time and in batches
bench "helpers" $SMALL throttle bf.add bf.exists setbit getbit
bench "helpers batched" $SMALL -P 16 throttle bf.add setbit
bench "helpers ring-only" $SMALL --ring-only bf.exists getbit
# issue 17's streams: a produce/consume loop after the adds; batched; ring-only ranges
bench "streams" $SMALL xadd xrange xreadgroup
bench "streams batched" $SMALL -P 16 xadd xreadgroup
bench "streams ring-only" $SMALL --ring-only xrange
# issue 17's sorted sets, the same ways
bench "zsets" $SMALL zadd zscore zrank zrange
bench "zsets batched" $SMALL -P 16 zadd
bench "zsets ring-only" $SMALL --ring-only zscore zrank zrange
bench "requests" -n 2000 --members 2000 --coll-keys 50 -N 500 -w 0 set get
# The bare-LMDB floor (shm/bare.c) reads what pycache wrote: every get a hit.
bench "lmdb floor" $SMALL -t "lmdb:$S" get
if [ -n "$JQ" ]; then
    checks=$((checks + 1))
    n=$("$JQ" '[.[] | select(.target == "lmdb" and .ops > 0 and .misses == 0)] | length' \
        "$tmp/out.json")
    [ "$n" = 1 ] || fail "lmdb floor: expected one row of hits only" "$(head -c 400 "$tmp/out.json")"
fi
checks=$((checks + 1))
"$PCBENCH" -d "$S" -t "lmdb:$tmp/nothing-here" -n 100 -D 0.1 -w 0 get >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -ne 2 ] || ! grep -q 'nothing-here/data-00.mdb: No such file' "$tmp/err"; then
    fail "lmdb floor on no store: expected exit 2 and LMDB's words, got $rc" "$(cat "$tmp/err")"
fi
# The special workloads, small.
bench "load" -n 3000 load
bench "expire-storm" -n 2000 --storm-keys 3000 --storm-idle 0.1 expire-storm
bench "snapshot" -n 3000 --snapshot-idle 0.1 snapshot
bench "snapshot-coll" --members 3000 --coll-keys 30 --snapshot-idle 0.1 snapshot-coll
stop_daemon

# Hit ratio against a daemon that evicts.
start_daemon --eviction allkeys-lru --expire-interval 100
bench "hitratio" --hr-keys 3000 --hr-requests 6000 hitratio hitratio-scan
stop_daemon

# Bad usage exits 2 with a message.
checks=$((checks + 1))
"$PCBENCH" --bogus >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -ne 2 ] || [ ! -s "$tmp/err" ]; then
    fail "an unknown option: expected exit 2 and a message, got $rc"
fi
checks=$((checks + 1))
"$PCBENCH" -d "$tmp/nothing-here" -D 0.1 -w 0 get >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -ne 2 ] || [ ! -s "$tmp/err" ]; then
    fail "no daemon: expected exit 2 and a message, got $rc"
fi

printf 'test_pcbench: %d checks, %d failed\n' "$checks" "$fails"
[ "$fails" -eq 0 ]
