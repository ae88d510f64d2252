#!/bin/sh
# test_sizes.sh - pycached checks the store's shape before it creates
# anything: each bad --max-memory, --max-value or --shards (command line and
# config file) is refused with exit 2 and a message that states what is
# accepted, and leaves no file behind; --max-value follows a small
# --max-memory, so 32M and the 1M minimum start and take writes; a start
# that fails after creating a store removes it, and never a store that was
# there before.  Run by `make check` with $top_builddir exported; prints
# each failure and a closing "N passed, N failed" line, exits 1 if any failed.
set -u

. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/pctest.sh"
built "$PYCACHED" "$PCCLI"
TIMEOUT=$(command -v timeout 2>/dev/null) || TIMEOUT=

tmp=$(mktemp -d /dev/shm/test_sizes.XXXXXX) || exit 1
daemons=
cleanup() {
    for p in $daemons; do
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# refused WANT-MESSAGE ARGS...: pycached -d DIR ARGS exits 2, says exactly
# WANT-MESSAGE on stderr, and DIR does not exist afterwards.  The program
# itself, not PCTEST_SHARDS's wrapper: these are checks of exactly the
# arguments given (a config file's `shards = 64` loses to a --shards).
refused() {
    want=$1
    shift
    D="$tmp/refused"
    ${TIMEOUT:+$TIMEOUT 20} "$PYCACHED_BIN" -d "$D" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    got=$(cat "$tmp/err")
    ok "$([ "$rc" = 2 ] && [ "$got" = "$want" ] && echo 0)" "pycached $*" \
        "expected: status 2, '$want'" "got: status $rc, '$got'"
    ok "$([ ! -e "$D" ] && echo 0)" "pycached $*: left $D behind"
    if [ -s "$D/pycached.pid" ]; then # it started after all: stop it
        daemons="$daemons $(cat "$D/pycached.pid")"
        kill "$(cat "$D/pycached.pid")"
    fi
    rm -rf "$D"
}

refused "pycached: --max-memory must be 1M to 8T (per shard): got ' -1'" --max-memory ' -1'
refused "pycached: --max-memory must be 1M to 8T (per shard): got '-1'" --max-memory -1
refused "pycached: --max-memory must be 1M to 8T (per shard): got '+1G'" --max-memory +1G
refused "pycached: --max-memory must be 1M to 8T (per shard): got '99999T'" --max-memory 99999T
refused "pycached: --max-memory must be 1M to 8T (per shard): got '16777216T'" \
    --max-memory 16777216T
refused "pycached: --max-memory must be 1M to 8T (per shard): got '18446744073709551616'" \
    --max-memory 18446744073709551616
refused "pycached: --max-memory must be 1M to 8T (per shard): got '1023K'" --max-memory 1023K
refused "pycached: --max-memory must be 1M to 8T (per shard): got '9T'" --max-memory 9T
refused "pycached: --shards must be 1 to 64: got '65'" --shards 65
refused "pycached: --shards 64 with --max-memory 4T maps 256T: all shards together must fit in 64T of address space (at most --max-memory 1T with 64 shards)" \
    --shards 64 --max-memory 4T
refused "pycached: --shards 9 with --max-memory 8T maps 72T: all shards together must fit in 64T of address space (at most --max-memory 7818749353073 with 9 shards)" \
    --shards 9 --max-memory 8T
refused "pycached: --max-value must be 1 to 2147483647 bytes (2G less one byte): got '2G'" \
    --max-value 2G
refused "pycached: --max-value must be 1 to 2147483647 bytes (2G less one byte): got ' 1M'" \
    --max-value ' 1M'
refused "pycached: --max-value 64M does not fit --max-memory 32M: the largest accepted is 8M (a quarter of --max-memory)" \
    --max-memory 32M --max-value 64M
refused "pycached: --max-value 257K does not fit --max-memory 1M: the largest accepted is 256K (a quarter of --max-memory)" \
    --max-memory 1M --max-value 257K

# The config file: the same checks, naming the file and line.
printf 'max-memory =  -1\n' >"$tmp/neg.conf"
refused "pycached: $tmp/neg.conf:1: max-memory must be 1M to 8T (per shard): got '-1'" \
    -c "$tmp/neg.conf"
printf 'shards = 64\nmax-memory = 4T\n' >"$tmp/big.conf"
refused "pycached: --shards 64 with --max-memory 4T maps 256T: all shards together must fit in 64T of address space (at most --max-memory 1T with 64 shards)" \
    -c "$tmp/big.conf"
printf 'max-memory = 32M\nmax-value = 16M\n' >"$tmp/value.conf"
refused "pycached: --max-value 16M does not fit --max-memory 32M: the largest accepted is 8M (a quarter of --max-memory)" \
    -c "$tmp/value.conf"

# serves DIR ARGS...: pycached starts on DIR, takes a write of VALUE bytes
# (the default --max-value for that size), reads it back, stops.
serves() {
    D=$1
    vbytes=$2
    shift 2
    if ! ${TIMEOUT:+$TIMEOUT 30} "$PYCACHED" -d "$D" --sync none "$@" 2>"$tmp/err"; then
        fail "pycached $* did not start" "$(cat "$tmp/err")"
        return
    fi
    pid=$(cat "$D/pycached.pid")
    daemons="$daemons $pid"
    # pccli takes values as arguments (at most 128K each): build the value
    # of vbytes from 32K pieces with append.
    piece=$(head -c 32768 /dev/zero | tr '\0' v)
    "$PCCLI" -d "$D" set big "" >/dev/null 2>"$tmp/err"
    n=0
    while [ $n -lt $((vbytes / 32768)) ]; do
        "$PCCLI" -d "$D" append big "$piece" >/dev/null 2>"$tmp/err" || break
        n=$((n + 1))
    done
    ok "$([ $n = $((vbytes / 32768)) ] && echo 0)" "pycached $*: a value of $vbytes bytes" \
        "$(cat "$tmp/err")"
    "$PCCLI" -d "$D" append big v >/dev/null 2>"$tmp/err"
    ok "$([ $? = 2 ] && grep -q PC_ETOOBIG "$tmp/err" && echo 0)" \
        "pycached $*: a value of $vbytes+1 bytes is too big" "$(cat "$tmp/err")"
    got=$("$PCCLI" -d "$D" get big | wc -c)
    ok "$([ "$got" = $((vbytes + 1)) ] && echo 0)" "pycached $*: read back $got bytes"
    for i in 1 2 3 4 5 6 7 8; do
        "$PCCLI" -d "$D" set "k$i" "value $i" >/dev/null || break
    done
    ok "$([ "$("$PCCLI" -d "$D" get k8)" = "value 8" ] && echo 0)" "pycached $*: small writes"
    stop_pid "$pid"
}

# Small caches start: --max-value follows --max-memory (an eighth of it).
serves "$tmp/m32" $((4 << 20)) --max-memory 32M
serves "$tmp/m1" $((128 << 10)) --max-memory 1M
serves "$tmp/m1s4" $((128 << 10)) --max-memory 1M --shards 4
serves "$tmp/m1g" $((64 << 10)) --max-memory 1G --max-value 64K

# A start that fails after creating a store removes it, directory and all;
# a store that was there before stays as it was.
"$PYCACHED" -d "$tmp/new" --restore "$tmp/no-such.db" 2>"$tmp/err"
ok "$([ $? = 1 ] && [ ! -e "$tmp/new" ] && echo 0)" "a failed start left $tmp/new" \
    "$(ls -la "$tmp/new" 2>&1)"
mkdir "$tmp/empty"
"$PYCACHED" -d "$tmp/empty" --restore "$tmp/no-such.db" 2>"$tmp/err"
ok "$([ $? = 1 ] && [ -d "$tmp/empty" ] && [ -z "$(ls -A "$tmp/empty")" ] && echo 0)" \
    "a failed start in an empty directory left files" "$(ls -la "$tmp/empty" 2>&1)"
before=$(cd "$tmp/m32" && ls)
sum=$(cat "$tmp/m32/data-00.mdb" | md5sum)
"$PYCACHED" -d "$tmp/m32" --restore "$tmp/no-such.db" 2>"$tmp/err"
ok "$([ $? = 1 ] && [ "$(cd "$tmp/m32" && ls)" = "$before" ] &&
    [ "$(cat "$tmp/m32/data-00.mdb" | md5sum)" = "$sum" ] && echo 0)" \
    "a failed start touched the store that was there" "$(ls -la "$tmp/m32")"
serves "$tmp/m32" $((4 << 20)) --max-memory 32M

echo "test_sizes: $passes passed, $fails failed"
[ "$fails" = 0 ]
