#!/bin/sh
# test_pcstat.sh - drive pcstat as a user would, against a real pycached
# started in a fresh directory under /dev/shm: the summary (text and JSON),
# -i/-n and Ctrl-C, every subcommand and exit status, bad command lines, no
# daemon, a daemon that goes away, that pcstat never maps the store, and a
# peer the daemon admits only as ring-only.  Run by `make check` with
# $top_builddir and $top_srcdir exported; prints each failure and a closing
# "N passed, N failed" line, exits 1 if any failed.
set -u

# pctest.sh: the real binaries (the libtool wrappers cost a fork or ten per
# run; the wrapper itself is checked below), a clean environment, counting.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/pctest.sh"
built "$PCSTAT" "$PCCLI" "$PYCACHED"

tmp=$(mktemp -d /dev/shm/test_pcstat.XXXXXX) || exit 1
chmod 711 "$tmp" # a ring-only peer of another uid must reach the socket
daemons=
STAGED=
cleanup() {
    for p in $daemons; do
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$tmp" ${STAGED:+"$STAGED"}
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
S="$tmp/store"
JQ=$(command -v jq 2>/dev/null) || JQ=
TIMEOUT=$(command -v timeout 2>/dev/null) || TIMEOUT=

skips=
tab='	'

# run ARGS...: pcstat ARGS (bounded: 20 s).  $out gets stdout exactly,
# $got the same without its last newline, $rc the status, $tmp/err stderr.
run() {
    out=$(${TIMEOUT:+$TIMEOUT 20} "$PCSTAT" "$@" 2>"$tmp/err"
        echo ".$?")
    rc=${out##*.}
    out=${out%.*}
    got=${out%"$nl"}
}

# t STATUS STDOUT ARGS...: pcstat -d $S ARGS prints exactly STDOUT.
t() {
    want_rc=$1
    want_out=$2
    shift 2
    run -d "$S" "$@"
    check "$want_rc" "$want_out" "pcstat $*"
}

# ts STATUS STDOUT ARGS...: as t, the lines of the output sorted: a store
# of several shards lists its keys shard by shard (in byte order in each).
ts() {
    want_rc=$1
    want_out=$2
    shift 2
    run -d "$S" "$@"
    got=$(printf '%s\n' "$got" | LC_ALL=C sort)
    out=$got$nl
    check "$want_rc" "$want_out" "pcstat $* (sorted)"
}

# tjs STATUS STDOUT ARGS...: as ts with --json: a JSON array of strings
# without commas in them, its items sorted.
tjs() {
    want_rc=$1
    want_out=$2
    shift 2
    run -d "$S" --json "$@"
    is_json "pcstat --json $*"
    got="[$(printf '%s' "$got" | tr -d '[]' | tr ',' '\n' | LC_ALL=C sort | paste -s -d, -)]"
    out=$got$nl
    check "$want_rc" "$want_out" "pcstat --json $* (sorted)"
}

# tj STATUS STDOUT ARGS...: as t with --json; the output must parse (jq).
tj() {
    want_rc=$1
    want_out=$2
    shift 2
    run -d "$S" --json "$@"
    check "$want_rc" "$want_out" "pcstat --json $*"
    is_json "pcstat --json $*"
}

is_json() {
    if [ -n "$JQ" ] && [ -n "$got" ]; then
        printf '%s' "$out" | "$JQ" -e 'true' >/dev/null 2>&1
        ok $? "$1: not JSON" "$got"
    fi
}

# terr WORDS ARGS...: pcstat ARGS exits 2, prints nothing, says WORDS on stderr.
terr() {
    want_msg=$1
    shift
    run "$@"
    check 2 "" "pcstat $* (bad)"
    case $(cat "$tmp/err") in
    *"$want_msg"*) pass ;;
    *) fail "pcstat $*: stderr lacks '$want_msg'" "$(cat "$tmp/err")" ;;
    esac
}

# has TEXT WHAT: the last stdout holds TEXT.
has() {
    case $out in
    *"$1"*) pass ;;
    *) fail "$2: no '$1' in the output" "$got" ;;
    esac
}

# squeeze TEXT: TEXT with runs of blanks made one space, none leading.
squeeze() {
    printf '%s' "$1" | tr -s ' ' | sed 's/^ //'
}

# field NAME: the value of NAME:VALUE in the last (summary) output.
field() {
    printf '%s' "$out" | sed -n "s/^$1://p"
}

# pc ARGS...: pccli against the daemon, quietly; fails the test if it fails.
pc() {
    if ! ${TIMEOUT:+$TIMEOUT 20} "$PCCLI" -d "$S" "$@" >/dev/null 2>"$tmp/pcerr"; then
        fail "pccli $*" "$(cat "$tmp/pcerr")"
    fi
}

# fresh: wait until the daemon's stats page is newer than now (it is
# republished every 100 ms while requests come, each poll being one), so
# that it holds everything done before.  5 s at most.
fresh() {
    since=$(date +%s%3N)
    i=0
    while [ $i -lt 100 ]; do
        taken=$("$PCSTAT" -d "$S" --json 2>/dev/null | sed -n 's/^{"pid":[0-9]*,"started_ms":[0-9]*,"taken_ms":\([0-9]*\),.*/\1/p')
        if [ -n "$taken" ] && [ "$taken" -gt "$since" ]; then
            return 0
        fi
        sleep 0.05
        i=$((i + 1))
    done
    fail "the stats page of $S was not republished within 5 s"
}

# start_daemon DIR ARGS...: pycached in DIR; waits until pcstat can talk to
# it (10 s at most).  $dpid gets its pid.
start_daemon() {
    sdir=$1
    shift
    "$PYCACHED" --foreground -d "$sdir" --log-file "$sdir.log" --sync none \
        --max-memory 32M --max-value 1M "$@" </dev/null >/dev/null 2>"$sdir.err" &
    dpid=$!
    daemons="$daemons $dpid"
    i=0
    while [ $i -lt 200 ]; do
        if "$PCSTAT" -d "$sdir" expired >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$dpid" 2>/dev/null; then
            break
        fi
        sleep 0.05
        i=$((i + 1))
    done
    fail "pycached did not start in $sdir" "$(cat "$sdir.err" "$sdir.log" 2>/dev/null)"
    return 1
}

# stop_daemon PID: SIGTERM, wait (10 s at most); it must exit 0.
stop_daemon() {
    kill -TERM "$1" 2>/dev/null
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1"
        fail "pycached $1 did not stop within 10 s"
    fi
    wait "$1"
    ok $? "pycached $1 did not exit 0 after SIGTERM"
}

# wait_pid PID SECONDS: wait for a child at most SECONDS; $wrc its status.
wait_pid() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 20)) ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1"
        wait "$1" 2>/dev/null
        wrc=timeout
    else
        wait "$1"
        wrc=$?
    fi
}

# ------------------------------------------------------------------------
# Without a daemon

run --help
check 0 "$got" "pcstat --help"
has "usage: pcstat [-d DIR] [--json] [-i SECONDS [-n COUNT]] [SUBCOMMAND ARGS]" "--help"
for sub in keys show expired expiry purge-expired clients expire-interval; do
    has "  $sub" "--help lists $sub"
done
run -h
check 0 "$got" "pcstat -h"
run --version
check 0 "pcstat (pycache) 0.1.0" "pcstat --version"
# The libtool wrapper runs too.
out=$("$PCSTAT_WRAPPER" --version 2>&1)
ok $? "the pcstat wrapper failed" "$out"

terr "unknown option" --bogus
terr "unknown option" -x
terr "option needs a value" -d
terr "unknown subcommand: frobnicate" -d "$tmp/none" frobnicate
terr "usage: pcstat show KEY" -d "$tmp/none" show
terr "usage: pcstat show KEY" -d "$tmp/none" show a b
terr "usage: pcstat expired" -d "$tmp/none" expired now
terr "usage: pcstat keys [GLOB]" -d "$tmp/none" keys a b
terr "-i needs a number of seconds" -i 0
terr "-i needs a number of seconds" -i abc
terr "-i needs a number of seconds" -i -1
terr "-n needs a whole number" -i 1 -n 0
terr "-n needs a whole number" -i 1 -n x
terr "-n needs -i" -n 3
terr "it takes no subcommand" -i 1 keys

# No daemon: exit 2 with the one message, whatever was asked.
for args in "" "--json" "keys" "show k" "expired" "expiry" "purge-expired" "clients" \
    "expire-interval 5" "-i 0.2 -n 2"; do
    # shellcheck disable=SC2086
    run -d "$tmp/none" $args
    check 2 "" "pcstat $args without a daemon"
    ok "$([ "$(cat "$tmp/err")" = "pcstat: no daemon is serving $tmp/none" ] && echo 0 || echo 1)" \
        "pcstat $args without a daemon: wrong message" "$(cat "$tmp/err")"
done
PYCACHE_DIR="$tmp/env" run
check 2 "" "pcstat with \$PYCACHE_DIR and no daemon"
ok "$([ "$(cat "$tmp/err")" = "pcstat: no daemon is serving $tmp/env" ] && echo 0 || echo 1)" \
    "pcstat uses \$PYCACHE_DIR" "$(cat "$tmp/err")"

# ------------------------------------------------------------------------
# A daemon with some of everything

mkdir -p "$S"
start_daemon "$S" || exit 1
D1=$dpid
pc set str hello --ttl 100
pc set num --int 42
pc set dbl --double 2.5
pc set lst --list '[1,"two",3.5,true,null]'
pc set mp --map '{"a":1,"b":"x"}'
pc set st --set '[3,1,2]'
pc set q --queue '["a","b"]'
pc set 'sp ace' 'two words'
pc set empty ''
fresh

# The summary: sections in order, name:value lines, figures that add up.
run -d "$S"
check 0 "$got" "pcstat (summary)"
sections=$(printf '%s\n' "$out" | grep '^#')
ok "$([ "$sections" = "# Server$nl# Clients$nl# Memory$nl# Keys$nl# Stats$nl# Commits$nl# Shards$nl# Snapshot" ] && echo 0 || echo 1)" \
    "summary sections" "$sections"
bad=$(printf '%s\n' "$out" | grep -v -e '^#' -e '^$' -e '^[a-z][a-z0-9_-]*:' | head -3)
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "summary lines that are not name:value" "$bad"
ok "$([ "$(field keys)" = 9 ] && echo 0 || echo 1)" "summary keys: $(field keys), want 9"
ok "$([ "$(field keys_string)" = 3 ] && echo 0 || echo 1)" "keys_string: $(field keys_string)"
ok "$([ "$(field keys_numeric)" = 2 ] && echo 0 || echo 1)" "keys_numeric: $(field keys_numeric)"
for ty in list map set queue; do
    ok "$([ "$(field keys_$ty)" = 1 ] && echo 0 || echo 1)" "keys_$ty: $(field keys_$ty)"
done
ok "$([ "$(field keys_with_ttl)" = 1 ] && echo 0 || echo 1)" "keys_with_ttl: $(field keys_with_ttl)"
ok "$([ "$(field eviction_policy)" = noeviction ] && echo 0 || echo 1)" "eviction_policy"
ok "$([ "$(field expire_interval_ms)" = 100 ] && echo 0 || echo 1)" "expire_interval_ms"
ok "$([ "$(field pid)" = "$D1" ] && echo 0 || echo 1)" "pid: $(field pid), want $D1"
# The cap is --max-memory (32M) times the shards (the online cores, at most 8).
nsh=$(field shards)
ok "$([ "$nsh" -ge 1 ] && [ "$nsh" -le 8 ] && echo 0 || echo 1)" "shards: $nsh"
ok "$([ "$(field max_memory)" = $((33554432 * nsh)) ] && echo 0 || echo 1)" \
    "max_memory: $(field max_memory), $nsh shard(s)"
ok "$([ "$(field max_memory_human)" = "$((32 * nsh)).00M" ] && echo 0 || echo 1)" "max_memory_human"
ok "$([ "$(field max_value)" = 1048576 ] && echo 0 || echo 1)" "max_value: $(field max_value)"
ok "$([ "$(field snapshot_state)" = none ] && echo 0 || echo 1)" "snapshot_state"
ok "$([ "$(field op_set)" = 5 ] && echo 0 || echo 1)" "op_set: $(field op_set), want 5"
ok "$([ "$(field op_setcoll)" = 4 ] && echo 0 || echo 1)" "op_setcoll: $(field op_setcoll), want 4"
ok "$([ "$(field errors)" = 0 ] && echo 0 || echo 1)" "errors: $(field errors)"
ok "$(printf '%s\n' "$out" | grep -q '^op_lpush:' && echo 1 || echo 0)" "a zero counter is shown"
case $(field pass_requests_p50) in
[0-9]*..[0-9]*) pass ;;
*) fail "pass_requests_p50 is not a bucket range: $(field pass_requests_p50)" ;;
esac
case $(field started) in
[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z) pass ;;
*) fail "started is not ISO-8601 UTC: $(field started)" ;;
esac
requests=$(field requests)

# The JSON summary: one line, one object.
run -d "$S" --json
ok "$([ "$rc" = 0 ] && [ ! -s "$tmp/err" ] && echo 0 || echo 1)" "pcstat --json: status $rc" \
    "$(cat "$tmp/err")"
ok "$([ "$(printf '%s' "$got" | wc -l)" = 0 ] && echo 0 || echo 1)" "pcstat --json spans lines"
case $got in
'{"pid":'*'}') pass ;;
*) fail "pcstat --json is not one object" "$got" ;;
esac
has '"keys":{"total":9,"string":3,"numeric":2,"list":1,"map":1,"set":1,"queue":1,"flight":0,"bits":0,"bloom":0,"stream":0,"zset":0}' "--json keys"
has '"policy":"noeviction"' "--json policy"
has '"expired_pending":0' "--json expired_pending"
jreq=$(printf '%s' "$out" | sed -n 's/.*"requests":\([0-9]*\),.*/\1/p')
ok "$([ "${jreq:-0}" -gt "$requests" ] && echo 0 || echo 1)" \
    "--json requests $jreq, not above the summary's $requests (pcstat's own count)"
is_json "pcstat --json"
if [ -n "$JQ" ]; then
    v=$(printf '%s' "$out" | "$JQ" -r '.ops.set + .ops.setcoll')
    ok "$([ "$v" = 9 ] && echo 0 || echo 1)" "jq .ops.set + .ops.setcoll: $v"
fi

# ------------------------------------------------------------------------
# keys

ts 0 "dbl${nl}empty${nl}lst${nl}mp${nl}num${nl}q${nl}sp ace${nl}st${nl}str" keys
ts 0 "dbl${nl}empty${nl}lst${nl}mp${nl}num${nl}q${nl}sp ace${nl}st${nl}str" keys '*'
ts 0 "sp ace${nl}st${nl}str" keys 's*'
t 0 "num" keys '?um'
t 1 "" keys 'zz*'
tjs 0 '["dbl","empty","lst","mp","num","q","sp ace","st","str"]' keys
tjs 0 '["sp ace","st","str"]' keys 's*'
tj 1 '[]' keys 'zz*'
run -d "$S" keys '?um' --json # options may follow the subcommand
check 0 '["num"]' "pcstat keys GLOB --json"
# Many keys: every page.
i=0
args=
while [ $i -lt 600 ]; do
    args="$args many:$i $i"
    i=$((i + 1))
done
# shellcheck disable=SC2086
pc mset $args
run -d "$S" keys 'many:*'
n=$(printf '%s' "$out" | grep -c '^many:')
ok "$([ "$rc" = 0 ] && [ "$n" = 600 ] && echo 0 || echo 1)" "keys over pages: $n of 600 (status $rc)"
run -d "$S" --json keys 'many:*'
n=$(printf '%s' "$out" | tr ',' '\n' | grep -c '"many:')
ok "$([ "$rc" = 0 ] && [ "$n" = 600 ] && echo 0 || echo 1)" "--json keys over pages: $n of 600"

# ------------------------------------------------------------------------
# show: type, ttl, size, value as `pccli get` prints it

t 0 "key:num${nl}type:numeric${nl}ttl:-1${nl}size:8${nl}value:42" show num
t 0 "key:dbl${nl}type:numeric${nl}ttl:-1${nl}size:8${nl}value:2.5" show dbl
t 0 "key:lst${nl}type:list${nl}ttl:-1${nl}size:5${nl}value:[1,\"two\",3.5,true,null]" show lst
t 0 "key:mp${nl}type:map${nl}ttl:-1${nl}size:2${nl}value:{\"a\":1,\"b\":\"x\"}" show mp
t 0 "key:st${nl}type:set${nl}ttl:-1${nl}size:3${nl}value:[1,2,3]" show st
t 0 "key:q${nl}type:queue${nl}ttl:-1${nl}size:2${nl}value:[\"a\",\"b\"]" show q
t 0 "key:sp ace${nl}type:string${nl}ttl:-1${nl}size:9${nl}value:two words" show 'sp ace'
t 0 "key:empty${nl}type:string${nl}ttl:-1${nl}size:0${nl}value:" show empty
run -d "$S" show str
ttl=$(field ttl)
ok "$([ "$rc" = 0 ] && [ "$ttl" -gt 0 ] && [ "$ttl" -le 100000 ] && echo 0 || echo 1)" \
    "show str: ttl $ttl (status $rc)"
ok "$([ "$(printf '%s' "$out" | sed '/^ttl:/d')" = "key:str${nl}type:string${nl}size:5${nl}value:hello" ] && echo 0 || echo 1)" \
    "show str" "$got"
# The value is what pccli get prints, for every type.
for k in num dbl lst mp st q 'sp ace' str empty; do
    run -d "$S" show "$k"
    mine=$(printf '%s' "$out" | sed -n 's/^value://p')
    theirs=$("$PCCLI" -d "$S" get "$k")
    ok "$([ "$mine" = "$theirs" ] && echo 0 || echo 1)" "show $k: value '$mine', pccli get: '$theirs'"
done
t 1 "" show nope
tj 1 "null" show nope
tj 0 '{"key":"num","type":"numeric","ttl":-1,"size":8,"value":42}' show num
tj 0 '{"key":"lst","type":"list","ttl":-1,"size":5,"value":[1,"two",3.5,true,null]}' show lst
tj 0 '{"key":"mp","type":"map","ttl":-1,"size":2,"value":{"a":1,"b":"x"}}' show mp
tj 0 '{"key":"sp ace","type":"string","ttl":-1,"size":9,"value":"two words"}' show 'sp ace'
run -d "$S" --json show str
case $got in
'{"key":"str","type":"string","ttl":'[0-9]*',"size":5,"value":"hello"}') pass ;;
*) fail "pcstat --json show str" "$got" ;;
esac
# A key that starts with a dash, after --.
pc set -dash x
t 0 "key:-dash${nl}type:string${nl}ttl:-1${nl}size:1${nl}value:x" show -- -dash

# ------------------------------------------------------------------------
# The TTL worker: expired, expiry, purge-expired, expire-interval

t 0 "expire_interval_ms:100" expire-interval
tj 0 '{"expire_interval_ms":100}' expire-interval
t 0 "0" expired
tj 0 "0" expired
t 0 "expire_interval_ms:0" expire-interval 0
fresh
t 0 "expire_interval_ms:0" expire-interval
pc set e1 a --ttl-ms 1
pc set e2 b --ttl-ms 1
pc set e3 c --ttl-ms 1
sleep 0.3
t 0 "3" expired
t 1 "" show e1 # expired: missing, though still there
fresh
run -d "$S"
ok "$([ "$(field expired_pending)" = 3 ] && [ "$(field expire_interval_ms)" = 0 ] && echo 0 || echo 1)" \
    "summary: expired_pending $(field expired_pending), expire_interval_ms $(field expire_interval_ms)"

# expiry: soonest first; key TAB ISO time TAB ms left (negative: expired).
run -d "$S" expiry
check 0 "$got" "pcstat expiry"
lines=$(printf '%s' "$out" | grep -c .)
ok "$([ "$lines" = 4 ] && echo 0 || echo 1)" "expiry lists $lines keys, want 4" "$got"
# Soonest first in each shard, shard by shard (pcstat(1)): str (100 s
# left) is last in its shard, the one line with time left.
last=$(printf '%s\n' "$got" | grep -v "${tab}-[0-9]*\$")
ok "$([ "${last%%"$tab"*}" = str ] && echo 0 || echo 1)" "expiry: str is not the one key with time left" "$got"
bad=$(printf '%s\n' "$out" | grep -v -E "^[^${tab}]+${tab}[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z${tab}-?[0-9]+\$" | head -2)
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "expiry lines not KEY<TAB>ISO<TAB>MS" "$bad"
neg=$(printf '%s\n' "$out" | grep -c -E "^e[123]$tab.*$tab-[0-9]+\$")
ok "$([ "$neg" = 3 ] && echo 0 || echo 1)" "expiry: $neg expired keys with negative ms left, want 3" "$got"
run -d "$S" expiry 'e*'
ok "$([ "$rc" = 0 ] && [ "$(printf '%s' "$out" | grep -c .)" = 3 ] && echo 0 || echo 1)" \
    "expiry 'e*' (status $rc)" "$got" "$(cat "$tmp/err")"
t 1 "" expiry 'zz*'
tj 1 "[]" expiry 'zz*'
run -d "$S" --json expiry 'e1'
case $got in
'[{"key":"e1","expire_at":"'*'Z","expire_at_ms":'[0-9]*',"ms_left":-'[0-9]*'}]') pass ;;
*) fail "pcstat --json expiry e1" "$got" "$(cat "$tmp/err")" ;;
esac
is_json "pcstat --json expiry"

t 0 "3" purge-expired
t 0 "0" expired
t 0 "0" purge-expired
tj 0 "0" purge-expired
# Stopped worker, then restarted: expired keys go by themselves.
pc set e4 d --ttl-ms 1
sleep 0.3
t 0 "1" expired
t 0 "expire_interval_ms:50" expire-interval 50
i=0
while [ $i -lt 60 ]; do
    [ "$("$PCSTAT" -d "$S" expired 2>/dev/null)" = 0 ] && break
    sleep 0.05
    i=$((i + 1))
done
t 0 "0" expired
fresh
terr "MS must be a whole number" -d "$S" expire-interval abc
terr "MS must be a whole number" -d "$S" expire-interval 3600001
terr "MS must be a whole number" -d "$S" expire-interval -- -5
t 0 "expire_interval_ms:50" expire-interval

# ------------------------------------------------------------------------
# clients: pcstat itself is there, ring-only

run_self() {
    out=$(sh -c 'echo "$$"; exec "$0" "$@"' "$PCSTAT" -d "$S" "$@" 2>"$tmp/err")
    rc=$?
    self=${out%%"$nl"*}
    out=${out#*"$nl"}
    got=$out
}
run_self clients
ok "$rc" "pcstat clients: status $rc" "$(cat "$tmp/err")"
header=$(printf '%s\n' "$out" | head -n 1)
ok "$([ "$(squeeze "$header")" = "ID PID UID MODE ROLE CONNECTED REQUESTS HITS MISSES BLOCKED" ] && echo 0 || echo 1)" \
    "clients header" "$header"
row=$(printf '%s\n' "$out" | awk -v p="$self" '$2 == p')
# shellcheck disable=SC2086 # split the row into its columns
set -- $row
ok "$([ "${3:-}" = "$(id -u)" ] && [ "${4:-}" = ring-only ] && [ "${5:-}" = admin ] && [ "${10:-}" = no ] && echo 0 || echo 1)" \
    "clients: pcstat's own row (pid $self)" "$got"
run_self --json clients
case $out in
'[{"id":'*"\"pid\":$self,\"uid\":$(id -u),\"mode\":\"ring-only\","*'"blocked":false,"ring_size":'*'}]') pass ;;
*) fail "pcstat --json clients" "$out" ;;
esac
is_json "pcstat --json clients"

# ------------------------------------------------------------------------
# -i: one line per interval, a header every 20 lines

t0=$(date +%s%N)
run -d "$S" -i 0.2 -n 3
t1=$(date +%s%N)
check 0 "$got" "pcstat -i 0.2 -n 3"
ok "$([ "$(printf '%s' "$out" | grep -c .)" = 4 ] && echo 0 || echo 1)" "-i 0.2 -n 3: not 4 lines" "$got"
header=$(printf '%s\n' "$out" | head -n 1)
ok "$([ "$(squeeze "$header")" = "keys used_MiB clients req/s hit% expired/s evicted/s passes/s req/pass" ] && echo 0 || echo 1)" \
    "-i header" "$header"
bad=$(printf '%s\n' "$out" | sed 1d | awk 'NF != 9 || $1 !~ /^[0-9]+$/')
ok "$([ -z "$bad" ] && echo 0 || echo 1)" "-i lines without 9 fields" "$bad"
ms=$(((t1 - t0) / 1000000))
ok "$([ $ms -ge 380 ] && echo 0 || echo 1)" "-i 0.2 -n 3 took $ms ms (two intervals at least)"
run -d "$S" -i 0.01 -n 25
ok "$([ "$rc" = 0 ] && [ "$(printf '%s' "$out" | grep -c '^ *keys')" = 2 ] && [ "$(printf '%s' "$out" | grep -c .)" = 27 ] && echo 0 || echo 1)" \
    "-i 0.01 -n 25: 25 lines and 2 headers (status $rc)" "$got"
run -d "$S" --json -i 0.2 -n 3
check 0 "$got" "pcstat --json -i 0.2 -n 3"
ok "$([ "$(printf '%s' "$out" | grep -c '^{"taken_ms":[0-9]*,"keys":[0-9]*,"used_mib":.*"req_per_pass":.*}$')" = 3 ] && echo 0 || echo 1)" \
    "--json -i: 3 objects, one per line" "$got"
if [ -n "$JQ" ]; then
    printf '%s' "$out" | "$JQ" -e '.keys > 0' >/dev/null 2>&1
    ok $? "--json -i lines do not parse" "$got"
fi
# Ctrl-C ends it, with status 0.
"$PCSTAT" -d "$S" -i 0.2 >"$tmp/int.out" 2>"$tmp/int.err" &
ipid=$!
sleep 0.5
kill -INT "$ipid"
wait_pid "$ipid" 5
ok "$([ "$wrc" = 0 ] && echo 0 || echo 1)" "pcstat -i after Ctrl-C: status $wrc" "$(cat "$tmp/int.err")"
ok "$([ "$(grep -c . "$tmp/int.out")" -ge 2 ] && echo 0 || echo 1)" "pcstat -i printed nothing before Ctrl-C"

# pcstat never maps the store: look at its mappings while it runs.
"$PCSTAT" -d "$S" -i 0.1 -n 12 >/dev/null 2>&1 &
mpid=$!
sleep 0.5
if [ -r "/proc/$mpid/maps" ]; then
    maps=$(cat "/proc/$mpid/maps" 2>/dev/null)
    case $maps in
    *"$S/data-"*) fail "pcstat maps the store" "$(printf '%s\n' "$maps" | grep data-)" ;;
    *pycache-daemon* | *memfd*) pass ;;
    *) fail "pcstat's mappings show no channel" ;;
    esac
fi
wait_pid "$mpid" 10
ok "$([ "$wrc" = 0 ] && echo 0 || echo 1)" "pcstat -i 0.1 -n 12: status $wrc"

# A daemon that goes away: -i notices and exits 2; then no daemon.
"$PCSTAT" -d "$S" -i 0.2 >"$tmp/gone.out" 2>"$tmp/gone.err" &
gpid=$!
# Stop the daemon once pcstat has printed a sample (it is connected then):
# a fixed sleep was too short under TSan on a loaded machine.
until_s=$((SECONDS + 30))
until [ -s "$tmp/gone.out" ] || [ $SECONDS -ge $until_s ]; do sleep 0.05; done
stop_daemon "$D1"
wait_pid "$gpid" 10
ok "$([ "$wrc" = 2 ] && grep -q "is it still running" "$tmp/gone.err" && echo 0 || echo 1)" \
    "pcstat -i after the daemon stopped: status $wrc" "$(cat "$tmp/gone.err")"
run -d "$S"
check 2 "" "pcstat after the daemon stopped"

# ------------------------------------------------------------------------
# A peer the daemon admits only as ring-only (another uid)

# stage_pcstat: copy pcstat (the ELF file, not the libtool wrapper) and the
# uninstalled libpycache-client it needs into a directory another user can
# reach ($STAGED, mode 0755; run it with LD_LIBRARY_PATH=$STAGED): the build
# tree may be out of its reach (a checkout under /root).  On tmpfs, else in
# /tmp, whichever lets it run.  1 if neither does.
stage_pcstat() {
    real=$PCSTAT
    if [ "$(od -An -tx1 -N4 "$real" | tr -d ' ')" != 7f454c46 ]; then
        why="$real is not an ELF executable"
        return 1
    fi
    for base in "$tmp" /tmp; do
        STAGED=$(mktemp -d "$base/pcstat-stage.XXXXXX") || continue
        chmod 755 "$STAGED" && cp "$real" "$STAGED/pcstat" && chmod 755 "$STAGED/pcstat" &&
            { [ ! -e "$top_builddir/.libs/libpycache-client.so.0" ] ||
                cp -L "$top_builddir/.libs/libpycache-client.so.0" "$STAGED/"; } &&
            LD_LIBRARY_PATH="$STAGED" "$STAGED/pcstat" --version >/dev/null 2>&1 && return 0
        rm -rf "$STAGED"
        STAGED=
    done
    why="a copy of pcstat runs neither in $tmp nor in /tmp"
    return 1
}

# as_uid UID PCSTAT-ARGS...: the staged pcstat as UID (from "/": the cwd may
# be out of its reach); stdout to stdout, stderr to $tmp/err.
as_uid() {
    u=$1
    shift
    (cd / && setpriv --reuid="$u" --regid="$u" --clear-groups \
        env LD_LIBRARY_PATH="$STAGED" "$STAGED/pcstat" "$@" 2>"$tmp/err")
}

why=
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
    why="needs root and setpriv"
elif ! stage_pcstat; then
    :
# Where uid 65534 can reach nothing (a chroot whose "/" is 0700), the peer
# cannot be played: say so, do not fail.
elif ! (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$tmp") 2>/dev/null; then
    why="uid 65534 cannot reach $tmp"
elif ! as_uid 65534 --version >/dev/null; then
    why="uid 65534 cannot run pcstat staged in $STAGED: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
fi
if [ -n "$why" ]; then
    echo "SKIP: ring-only peer of another uid ($why)"
    skips="ring-only peer of another uid"
else
    R="$tmp/ro"
    S="$R"
    start_daemon "$R" --allow-ring-only 65534 --allow-admin 65532 || exit 1
    D2=$dpid
    pc set hello world
    pc rpush l 1 2
    fresh
    # as_nobody ARGS...: pcstat ARGS as uid 65534.
    as_nobody() {
        out=$(as_uid "${peer_uid:-65534}" "$@"
            echo ".$?")
        rc=${out##*.}
        out=${out%.*}
        got=${out%"$nl"}
    }
    as_nobody -d "$R"
    check 0 "$got" "pcstat as a ring-only peer (summary)"
    has "keys:2" "summary as a ring-only peer"
    has "ring_only_clients:" "summary as a ring-only peer"
    as_nobody -d "$R" show hello
    check 0 "key:hello${nl}type:string${nl}ttl:-1${nl}size:5${nl}value:world" \
        "pcstat show as a ring-only peer"
    as_nobody -d "$R" --json show l
    check 0 '{"key":"l","type":"list","ttl":-1,"size":2,"value":["1","2"]}' \
        "pcstat --json show as a ring-only peer"
    as_nobody -d "$R" keys
    got=$(printf '%s\n' "$got" | LC_ALL=C sort)
    out=$got$nl
    check 0 "hello${nl}l" "pcstat keys as a ring-only peer"
    as_nobody -d "$R" expired
    check 0 "0" "pcstat expired as a ring-only peer"
    # The client list is for admins: a ring-only peer (role write) is refused.
    as_nobody -d "$R" clients
    ok "$([ "$rc" != 0 ] && grep -q "PC_EACCES.*role does not allow" "$tmp/err" && echo 0 || echo 1)" \
        "pcstat clients as a ring-only peer: refused, status $rc" "$got" "$(cat "$tmp/err")"
    peer_uid=65532
    as_nobody -d "$R" clients
    peer_uid=65534
    ok "$([ "$rc" = 0 ] && printf '%s\n' "$out" | awk '$3 == 65532 && $4 == "ring-only" && $5 == "admin"' | grep -q . && echo 0 || echo 1)" \
        "pcstat clients as an --allow-admin peer" "$got" "$(cat "$tmp/err")"
    as_nobody -d "$R" -i 0.1 -n 2
    check 0 "$got" "pcstat -i as a ring-only peer"
    # A uid the daemon does not admit at all.
    out=$(as_uid 65533 -d "$R")
    rc=$?
    ok "$([ "$rc" = 2 ] && [ -z "$out" ] && grep -q "does not admit this user" "$tmp/err" && echo 0 || echo 1)" \
        "pcstat as a uid not admitted: status $rc" "$(cat "$tmp/err")"
    stop_daemon "$D2"
fi

echo "test_pcstat: $passes passed, $fails failed${skips:+, skipped: $skips (see SKIP above)}"
[ "$fails" = 0 ]
