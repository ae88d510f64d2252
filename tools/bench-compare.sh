#!/bin/sh
# bench-compare.sh - pycache beside Redis and memcached, measured by one
# program (pcbench) in one run on this machine, written up as Markdown.
#
# bench-compare.sh [--quick] [--build DIR] [--out FILE] [--work DIR] [--keep]
#                  [--no-install] [--shards N]
#
# It installs what it lacks (redis-server, redis-tools, memcached, jq; as
# root, with apt-get), starts its own redis-server (Unix socket, no
# persistence), memcached (Unix socket) and pycached (on a tmpfs store,
# --sync none), runs pcbench's suite, issue 16's and 17's workloads (rate
# limiter, bits, Bloom filters, streams, sorted sets) and the figures of
# DESIGN.md's "Targets" against all of them, stops everything it started,
# and writes a Markdown report: each figure, the ratios pycache/Redis and
# pycache/memcached, the machine and the versions.  --shards N: the store
# the suite and the targets run on has N shards (1).  --quick takes about a
# minute; the full run under fifteen.  Exit status: 0 done, 1 some request
# failed (the report says where), 2 setup error.
set -u

QUICK=0
BUILD=
OUT=
WORK=
KEEP=0
INSTALL=1
SHARDS=1
usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1 ;;
    --build) BUILD=$2; shift ;;
    --out) OUT=$2; shift ;;
    --work) WORK=$2; shift ;;
    --keep) KEEP=1 ;;
    --no-install) INSTALL=0 ;;
    --shards) SHARDS=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench-compare: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '%s bench-compare: %s\n' "$(date +%T)" "$*" >&2; }
die() { say "$*"; exit 2; }

# ---- what it needs ---------------------------------------------------------
if [ -z "$BUILD" ]; then
    if [ -x ./pcbench ] && [ -x ./pycached ]; then BUILD=.; fi
fi
if [ -n "$BUILD" ]; then
    BUILD=$(cd "$BUILD" && pwd) || die "no such build directory"
    PCBENCH=$BUILD/pcbench
    PYCACHED=$BUILD/pycached
    # The real binaries, not libtool's wrappers (for profiles, and no
    # 80 ms of shell per run).
    if [ -x "$BUILD/.libs/pcbench" ] && [ -e "$BUILD/.libs/libpycache-client.so" ]; then
        PCBENCH=$BUILD/.libs/pcbench
        LD_LIBRARY_PATH="$BUILD/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        export LD_LIBRARY_PATH
    fi
    [ -x "$BUILD/.libs/pycached" ] && PYCACHED=$BUILD/.libs/pycached
else
    PCBENCH=$(command -v pcbench) || die "no pcbench: run me from the build directory or give --build DIR"
    PYCACHED=$(command -v pycached || echo /usr/sbin/pycached)
fi
[ -x "$PCBENCH" ] || die "$PCBENCH is not built (make pcbench)"
[ -x "$PYCACHED" ] || die "$PYCACHED is not built (make pycached)"

missing=
for c in redis-server redis-cli redis-benchmark memcached jq; do
    command -v $c >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
    if [ $INSTALL = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing redis-server redis-tools memcached jq (missing:$missing)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            redis-server redis-tools memcached jq >&2 || die "apt-get install failed"
    else
        die "missing:$missing (apt-get install redis-server redis-tools memcached jq)"
    fi
fi
# A redis-server started by the package may be running: ours use sockets of
# our own and no TCP port, so they do not collide.

# ---- sizes -----------------------------------------------------------------
if [ $QUICK = 1 ]; then
    N=100000 MEMBERS=10000 ZMEMBERS=10000 DUR=0.25 WARM=0.1 STORM=50000 HRN=20000 HRREQ=20000
    PROCS="1 2" KEYSETS="10000" SUITE="all"
    SCALE_DUR=0.25 IDLE=1 PHASE=0.3
else
    N=1000000 MEMBERS=100000 ZMEMBERS=1000000 DUR=2 WARM=0.5 STORM=1000000 HRN=200000 HRREQ=200000
    PROCS="1 2 4 8 32" KEYSETS="10000 1000000 10000000" SUITE="all ycsb-a:zipf ycsb-b:zipf ycsb-c:zipf"
    SCALE_DUR=1 IDLE=5 PHASE=2
fi

# ---- scratch space and the servers we start --------------------------------
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d /tmp/bench-compare.XXXXXX) || die "mktemp failed"
else
    mkdir -p "$WORK" || die "cannot make $WORK"
fi
SHM=/dev/shm
[ -d $SHM ] && [ -w $SHM ] || SHM=$WORK
STORES=$(mktemp -d "$SHM/bench-compare.XXXXXX") || die "mktemp failed"
J=$WORK/json
mkdir -p "$J"
[ -n "$OUT" ] || OUT=$WORK/report.md
PIDFILES=

cleanup() {
    for f in $PIDFILES; do
        [ -f "$f" ] || continue
        p=$(cat "$f" 2>/dev/null)
        [ -n "$p" ] && kill "$p" 2>/dev/null
    done
    sleep 0.3
    for f in $PIDFILES; do
        [ -f "$f" ] || continue
        p=$(cat "$f" 2>/dev/null)
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    [ $KEEP = 1 ] || rm -rf "$STORES"
}
trap cleanup EXIT
trap 'exit 2' HUP INT TERM

wait_sock() { # FILE: until the socket exists (10 s at most)
    i=0
    while [ ! -S "$1" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
    [ -S "$1" ]
}

stop_pidfile() {
    [ -f "$1" ] || return 0
    p=$(cat "$1" 2>/dev/null)
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    kill -9 "$p" 2>/dev/null
    rm -f "$1"
}

# redis NAME [ARGS...]: start redis-server on $WORK/NAME.sock.
DEBUGCMD=
redis-server --help 2>&1 | grep -q enable-debug-command && DEBUGCMD="--enable-debug-command local"
redis-server --version | grep -q 'v=[7-9]' && DEBUGCMD="--enable-debug-command local"
start_redis() {
    name=$1
    shift
    rm -f "$WORK/$name.sock"
    PIDFILES="$PIDFILES $WORK/$name.pid"
    # shellcheck disable=SC2086
    redis-server --port 0 --unixsocket "$WORK/$name.sock" --unixsocketperm 700 \
        --save "" --appendonly no --daemonize yes --pidfile "$WORK/$name.pid" \
        --logfile "$WORK/$name.log" $DEBUGCMD "$@" || die "redis-server did not start"
    wait_sock "$WORK/$name.sock" || die "redis-server made no socket (see $WORK/$name.log)"
    i=0
    until redis-cli -s "$WORK/$name.sock" ping >/dev/null 2>&1 || [ $i -ge 200 ]; do
        sleep 0.02
        i=$((i + 1))
    done
}

# memcached NAME MEGABYTES
start_memcached() {
    rm -f "$WORK/$1.sock"
    PIDFILES="$PIDFILES $WORK/$1.pid"
    u=
    [ "$(id -u)" = 0 ] && u="-u root"
    # shellcheck disable=SC2086
    memcached -d -s "$WORK/$1.sock" -a 0700 -m "$2" -P "$WORK/$1.pid" $u ||
        die "memcached did not start"
    wait_sock "$WORK/$1.sock" || die "memcached made no socket"
    i=0
    while [ ! -s "$WORK/$1.pid" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
}

# pycached NAME [ARGS...]: a daemon on a fresh tmpfs store $STORES/NAME.
start_pycached() {
    name=$1
    shift
    rm -rf "${STORES:?}/$name"
    PIDFILES="$PIDFILES $STORES/$name/pycached.pid"
    "$PYCACHED" -d "$STORES/$name" --sync none --log-file "$WORK/$name.log" "$@" ||
        die "pycached did not start (see $WORK/$name.log)"
    wait_sock "$STORES/$name/pycached.sock" || die "pycached made no socket"
}

FAILED=0
# bench FILE ARGS...: pcbench --json-out $J/FILE.json ARGS; the table to the log.
bench() {
    f=$1
    shift
    say "pcbench $*"
    "$PCBENCH" --json-out "$J/$f.json" --timeout 30 "$@" >>"$WORK/pcbench.log" 2>&1
    rc=$?
    if [ $rc = 1 ]; then
        FAILED=1
        say "some requests failed (exit 1): see $WORK/pcbench.log"
    elif [ $rc != 0 ]; then
        FAILED=1
        say "pcbench exited $rc: see $WORK/pcbench.log"
        echo '[]' >"$J/$f.json"
    fi
    [ -s "$J/$f.json" ] || echo '[]' >"$J/$f.json"
}

start_s=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "work in $WORK, stores in $STORES; keys $N; runs of $DUR s"

P=$STORES/main
R=$WORK/redis.sock
M=$WORK/memcached.sock
start_pycached main --max-memory 4G --shards "$SHARDS"
start_redis redis
start_memcached memcached 4096
PC="-t pycache:$P"
ALL="-t pycache:$P -t redis:$R -t memcached:$M"
COMMON="-n $N --members $MEMBERS -D $DUR -w $WARM"

# ---- the idle daemon: CPU and wake-ups while nobody writes ------------------
dpid=$(cat "$P/pycached.pid")
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ctx_of() { awk '/ctxt_switches/ {s += $2} END {print s}' "/proc/$1/status"; }
sleep 1.2
c0=$(cpu_of "$dpid") x0=$(ctx_of "$dpid")
sleep $IDLE
c1=$(cpu_of "$dpid") x1=$(ctx_of "$dpid")
HZ=$(getconf CLK_TCK)
IDLE_CPU=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v t="$IDLE" 'BEGIN {printf "%.2f", (b - a) * 100 / hz / t}')
IDLE_WAKE=$(awk -v a="$x0" -v b="$x1" -v t="$IDLE" 'BEGIN {printf "%.1f", (b - a) / t}')
say "idle daemon: $IDLE_CPU % of a core, $IDLE_WAKE context switches a second"

# ---- memory: bytes per key, on empty servers ---------------------------------
bench memory $ALL -n $N load

# ---- the suite: one client, one request in flight ----------------------------
# shellcheck disable=SC2086
bench suite $ALL -t lmdb:$P $COMMON $SUITE
bench ring -t pycache-ring:$P $COMMON get hget ycsb-b
# issue 16: the rate limiter (Redis: GCRA in Lua), bit arrays, Bloom filters
bench helpers $ALL $COMMON throttle setbit getbit bf.add bf.exists
# issue 17: streams (XADD, XRANGE of 10, XREADGROUP of one new entry + XACK)
bench streams $ALL $COMMON xadd xrange xreadgroup
# issue 17: one sorted set of $ZMEMBERS members (ZADD moving a member,
# ZSCORE, ZRANK, ZRANGE of 10 by rank)
bench zsets $ALL -n $N --members $ZMEMBERS --coll-keys 1 -D $DUR -w $WARM zadd zscore zrank zrange

# ---- the targets -------------------------------------------------------------
# GET with 2 processes; Redis and memcached at their best: 50 clients
# (2 processes x 25 threads) with pipelines of 16.
bench get2 $PC -t lmdb:$P $COMMON -c 2 get
bench get2best -t redis:$R -t memcached:$M $COMMON -c 2 -T 25 -P 16 get
# SET with 64 in flight: one client (batches of 64) and two clients of 32;
# Redis and memcached, 50 clients with pipelines of 16.
bench set64 $PC $COMMON -P 64 set
bench set64x2 $PC $COMMON -c 2 -P 32 set
bench setbest -t redis:$R -t memcached:$M $COMMON -c 2 -T 25 -P 16 set
# YCSB B with 2 processes; Redis with 50 clients unpipelined and pipelined.
bench ycsbb2 $PC $COMMON -c 2 ycsb-b
bench ycsbb50 -t redis:$R -t memcached:$M $COMMON -c 2 -T 25 ycsb-b
bench ycsbb50p -t redis:$R -t memcached:$M $COMMON -c 2 -T 25 -P 16 ycsb-b

# redis-benchmark itself, as a check that hiredis in pcbench is not the
# bottleneck (16-byte keys "key:NNNNNNNNNNNN", 64-byte values).
rb() {
    redis-benchmark -s "$R" -t "$1" -n "$2" -r "$N" -d 64 -c "$3" -P "$4" -q 2>/dev/null |
        tr '\r' '\n' | awk -v t="$1" 'toupper($1) == toupper(t) ":" && /requests per second/ {print $2; exit}'
}
RBN=200000
[ $QUICK = 1 ] && RBN=8000
say "redis-benchmark"
RB_GET1=$(rb get $((RBN / 4)) 1 1)
RB_SET1=$(rb set $((RBN / 4)) 1 1)
RB_GET50=$(rb get $RBN 50 1)
RB_GET50P=$(rb get $RBN 50 16)
RB_SET50P=$(rb set $RBN 50 16)

# ---- scaling: client processes -----------------------------------------------
for c in $PROCS; do
    bench "procs$c" $PC -t lmdb:$P -t redis:$R -n $N -D $SCALE_DUR -w $WARM -c "$c" get
    bench "procsb$c" $PC -t redis:$R -n $N -D $SCALE_DUR -w $WARM -c "$c" ycsb-b
done

# ---- expire storm (pycache, and Redis with its active expiry paused) ---------
bench storm -t pycache:$P -t redis:$R -n $N --storm-keys $STORM --storm-idle $PHASE expire-storm

# ---- snapshot and restore ----------------------------------------------------
restore_ms() { # NAME SNAPDIR: ms from start until the socket appears
    t0=$(date +%s%N)
    start_pycached "$1" --max-memory 4G --snapshot-dir "$2"
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}
start_pycached snap --max-memory 4G --snapshot-dir "$WORK/snap1"
bench snapshot -t pycache:$STORES/snap -n $N --snapshot-idle $PHASE snapshot
stop_pidfile "$STORES/snap/pycached.pid"
RESTORE1=$(restore_ms snap-r "$WORK/snap1")
RESTORE1_LOG=$(grep -o 'restored .*' "$WORK/snap-r.log" | tail -1)
stop_pidfile "$STORES/snap-r/pycached.pid"
start_pycached snapc --max-memory 1G --snapshot-dir "$WORK/snap2"
bench snapcoll -t pycache:$STORES/snapc --members $MEMBERS --coll-keys 1000 --snapshot-idle $PHASE snapshot-coll
stop_pidfile "$STORES/snapc/pycached.pid"
RESTORE2=$(restore_ms snapc-r "$WORK/snap2")
RESTORE2_LOG=$(grep -o 'restored .*' "$WORK/snapc-r.log" | tail -1)
stop_pidfile "$STORES/snapc-r/pycached.pid"
rm -rf "$WORK/snap1" "$WORK/snap2"

# ---- hit ratio under eviction --------------------------------------------------
# Size the cap to hold about a fifth of the key space, from the bytes per key
# measured above (eviction starts at 90 % of --max-memory).
BPK=$(jq -r '[.[] | select(.target == "pycache") | .bytes_per_key][0] // 150' "$J/memory.json")
HRMEM=$(awk -v n="$HRN" -v b="$BPK" 'BEGIN {m = n * 0.2 * b / 0.9 / 1024; if (m < 2048) m = 2048; printf "%dK", m}')
for pol in allkeys-lru allkeys-lfu; do
    start_pycached "hr-$pol" --max-memory "$HRMEM" --max-value 64K --eviction "$pol"
    bench "hr-$pol" -t "pycache:$STORES/hr-$pol" --hr-keys $HRN --hr-requests $HRREQ hitratio hitratio-scan
    stop_pidfile "$STORES/hr-$pol/pycached.pid"
done
# Redis's approximated LRU at the capacity pycache's LRU kept: maxmemory =
# an empty server's used_memory + that many keys at Redis's bytes per key.
HRCAP=$(jq -r '[.[] | select(.workload == "hitratio")][0].capacity_keys // empty' "$J/hr-allkeys-lru.json")
RBPK=$(jq -r '[.[] | select(.target == "redis")][0].bytes_per_key // empty' "$J/memory.json")
if [ -n "$HRCAP" ] && [ -n "$RBPK" ]; then
    start_redis redis-hr --maxmemory-policy allkeys-lru --maxmemory-samples 5
    base=$(redis-cli -s "$WORK/redis-hr.sock" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}')
    rmax=$(awk -v b="$base" -v c="$HRCAP" -v k="$RBPK" 'BEGIN {printf "%d", b + c * k}')
    redis-cli -s "$WORK/redis-hr.sock" config set maxmemory "$rmax" >/dev/null
    bench hr-redis -t "redis:$WORK/redis-hr.sock" --hr-keys $HRN --hr-requests $HRREQ hitratio hitratio-scan
    stop_pidfile "$WORK/redis-hr.pid"
fi

# ---- scaling: keys (fresh servers for each size) -----------------------------
stop_pidfile "$P/pycached.pid"
stop_pidfile "$WORK/redis.pid"
stop_pidfile "$WORK/memcached.pid"
for n in $KEYSETS; do
    if [ "$n" -ge 10000000 ]; then
        avail=$(awk '/MemAvailable/ {print int($2 / 1048576)}' /proc/meminfo)
        if [ "$avail" -lt 10 ]; then
            say "skipping $n keys: only $avail GiB available (10 needed)"
            echo "$n" >"$WORK/skipped-keys"
            continue
        fi
    fi
    start_pycached "k$n" --max-memory 4G
    start_redis "redis-k$n"
    start_memcached "memcached-k$n" 4096
    bench "keys$n" -t "pycache:$STORES/k$n" -t "redis:$WORK/redis-k$n.sock" \
        -t "memcached:$WORK/memcached-k$n.sock" -t "lmdb:$STORES/k$n" -n "$n" -D $SCALE_DUR \
        -w $WARM load get
    stop_pidfile "$STORES/k$n/pycached.pid"
    stop_pidfile "$WORK/redis-k$n.pid"
    stop_pidfile "$WORK/memcached-k$n.pid"
    rm -rf "${STORES:?}/k$n"
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
took=$(($(date +%s) - start_s))
say "measured in $took s; writing $OUT"

# ---- the report ----------------------------------------------------------------
# jq helpers over the JSON rows of one file.
JQLIB='
def r2: (. * 100 | round) / 100;
def r1: (. * 10 | round) / 10;
def commas: tostring | if length <= 3 then . else (.[0:length-3] | commas) + "," + .[length-3:] end;
def ops: if . == null then "—" elif (.supported | not) then "n/a" else (.ops_per_sec | round | commas) end;
def lat: if . == null or (.supported | not) or .p50_us == null then "—"
         else "\(.p50_us | r2) / \(.p99_us | r2) / \(.p999_us | r2)" end;
def ratio($a; $b): if $a == null or $b == null or ($a.supported | not) or ($b.supported | not)
         or ($b.ops_per_sec // 0) == 0 then "—" else "\($a.ops_per_sec / $b.ops_per_sec | r2)×" end;
def row($w; $d; $t): [.[] | select(.workload == $w and .dist == $d and .target == $t)][0];
def keys_in_order: reduce .[] as $r ([]; if any(.[]; .w == $r.workload and .d == $r.dist) then .
         else . + [{w: $r.workload, d: $r.dist}] end);
'
# q FILE EXPR: one value from a file's rows ("" when absent).
q() { jq -r "$JQLIB $2 // empty" "$J/$1.json" 2>/dev/null | head -1; }
# per_workload FILE: a row per workload of a run against pycache, Redis and
# memcached, in the order it ran them.
per_workload() {
    if [ "$(jq length "$J/$1.json" 2>/dev/null)" = 0 ]; then
        echo "Not measured: the run failed (see pcbench's log)."
        return
    fi
    echo "| workload | pycache | latency | Redis | latency | memcached | latency | pycache/Redis |"
    echo "| --- | ---: | --- | ---: | --- | ---: | --- | ---: |"
    jq -r "$JQLIB"'. as $all | keys_in_order[] | . as $k | ($all | row($k.w; $k.d; "pycache")) as $p
        | ($all | row($k.w; $k.d; "redis")) as $r | ($all | row($k.w; $k.d; "memcached")) as $m
        | "| \($k.w) | \($p | ops) | \($p | lat) | \($r | ops) | \($r | lat) | \($m | ops) | \($m | lat) | \(ratio($p; $r)) |"' \
        "$J/$1.json"
}
# f EXPR...: a number with 2 decimals ("—" when empty).
f2() { if [ -z "$1" ]; then echo "—"; else awk -v x="$1" 'BEGIN {printf "%.2f", x}'; fi; }
f0() { if [ -z "$1" ]; then echo "—"; else awk -v x="$1" 'BEGIN {printf "%.0f", x}'; fi; }
div() { if [ -z "$1" ] || [ -z "$2" ]; then echo ""; else awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print ""; else printf "%.4f", a / b}'; fi; }
# verdict VALUE OP LIMIT: met / missed
verdict() {
    if [ -z "$1" ]; then echo "not measured"; return; fi
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
        ok = (op == "le") ? (v <= l) : (v >= l); print ok ? "**met**" : "**missed**" }'
}

pc_get=$(q suite 'row("get"; "uniform"; "pycache") | .p50_us')
lm_get=$(q suite 'row("get"; "uniform"; "lmdb") | .p50_us')
pc_get_mean=$(q suite 'row("get"; "uniform"; "pycache") | .mean_us')
lm_get_mean=$(q suite 'row("get"; "uniform"; "lmdb") | .mean_us')
rd_get_ops=$(q suite 'row("get"; "uniform"; "redis") | .ops_per_sec')
pc_get_ops=$(q suite 'row("get"; "uniform"; "pycache") | .ops_per_sec')
mc_get_ops=$(q suite 'row("get"; "uniform"; "memcached") | .ops_per_sec')
rd_get_p50=$(q suite 'row("get"; "uniform"; "redis") | .p50_us')
mc_get_p50=$(q suite 'row("get"; "uniform"; "memcached") | .p50_us')
g_lm=$(div "$pc_get" "$lm_get")
g_rd=$(div "$rd_get_p50" "$pc_get")
g_rd_ops=$(div "$pc_get_ops" "$rd_get_ops")
pc_get2=$(q get2 'row("get"; "uniform"; "pycache") | .ops_per_sec')
lm_get2=$(q get2 'row("get"; "uniform"; "lmdb") | .ops_per_sec')
rd_best=$(q get2best 'row("get"; "uniform"; "redis") | .ops_per_sec')
rb_best=$RB_GET50P
best=$rd_best
if [ -n "$rb_best" ] && [ -n "$best" ] && awk -v a="$rb_best" -v b="$best" 'BEGIN {exit !(a > b)}'; then
    best=$rb_best
fi
g2_rd=$(div "$pc_get2" "$best")
pc_set_p50=$(q suite 'row("set"; "uniform"; "pycache") | .p50_us')
pc_set_ops=$(q suite 'row("set"; "uniform"; "pycache") | .ops_per_sec')
rd_set_ops=$(q suite 'row("set"; "uniform"; "redis") | .ops_per_sec')
rd_set_p50=$(q suite 'row("set"; "uniform"; "redis") | .p50_us')
mc_set_p50=$(q suite 'row("set"; "uniform"; "memcached") | .p50_us')
s_rd=$(div "$rd_set_p50" "$pc_set_p50")
s_rd_ops=$(div "$pc_set_ops" "$rd_set_ops")
pc_set64=$(q set64 'row("set"; "uniform"; "pycache") | .ops_per_sec')
pc_set64x2=$(q set64x2 'row("set"; "uniform"; "pycache") | .ops_per_sec')
rd_setbest=$(q setbest 'row("set"; "uniform"; "redis") | .ops_per_sec')
s64_rd=$(div "$pc_set64" "$rd_setbest")
s64x2_rd=$(div "$pc_set64x2" "$rd_setbest")
pc_b2=$(q ycsbb2 'row("ycsb-b"; "uniform"; "pycache") | .ops_per_sec')
rd_b50=$(q ycsbb50 'row("ycsb-b"; "uniform"; "redis") | .ops_per_sec')
rd_b50p=$(q ycsbb50p 'row("ycsb-b"; "uniform"; "redis") | .ops_per_sec')
b_rd=$(div "$pc_b2" "$rd_b50")
bp_rd=$(div "$pc_b2" "$rd_b50p")
pc_bpk=$(q memory '[.[] | select(.target == "pycache")][0] | .bytes_per_key')
rd_bpk=$(q memory '[.[] | select(.target == "redis")][0] | .bytes_per_key')
rd_rss=$(q memory '[.[] | select(.target == "redis")][0] | .rss_per_key')
mc_bpk=$(q memory '[.[] | select(.target == "memcached")][0] | .bytes_per_key')
mc_rss=$(q memory '[.[] | select(.target == "memcached")][0] | .rss_per_key')
pc_fs=$(q memory '[.[] | select(.target == "pycache")][0] | .rss_per_key')
m_rd=$(div "$pc_bpk" "$rd_bpk")
st_ms=$(q storm '[.[] | select(.workload == "expire-storm" and .target == "pycache")][0] | .removed_ms')
st_r=$(div "$(q storm '[.[] | select(.workload == "expire-storm" and .target == "pycache")][0] | .read_p99_storm_us')" \
    "$(q storm '[.[] | select(.workload == "expire-storm" and .target == "pycache")][0] | .read_p99_idle_us')")
st_w=$(div "$(q storm '[.[] | select(.workload == "expire-storm" and .target == "pycache")][0] | .write_p99_storm_us')" \
    "$(q storm '[.[] | select(.workload == "expire-storm" and .target == "pycache")][0] | .write_p99_idle_us')")
sn_ms=$(q snapshot '[.[] | select(.workload == "snapshot")][0] | .snapshot_ms')
sn_w=$(div "$(q snapshot '[.[] | select(.workload == "snapshot")][0] | .write_p99_during_us')" \
    "$(q snapshot '[.[] | select(.workload == "snapshot")][0] | .write_p99_idle_us')")
re_ms=$(echo "$RESTORE1_LOG" | sed -n 's/.* in \([0-9]*\) ms.*/\1/p')

{
    echo "# pycache beside Redis and memcached"
    echo
    echo "Measured by \`tools/bench-compare.sh$([ $QUICK = 1 ] && echo ' --quick')\` with pcbench, in one run of $took s on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "## Machine and versions"
    echo
    echo "| | |"
    echo "| --- | --- |"
    echo "| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores online |"
    echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) |"
    echo "| kernel | $(uname -sr) |"
    echo "| load average (1/5/15 min) | $LOAD_START at the start, $LOAD_END at the end |"
    echo "| pycached | $("$PYCACHED" --version 2>&1 | head -1), store on tmpfs, --sync none, $SHARDS shard(s) (the suite and the targets) |"
    echo "| redis-server | $(redis-server --version | head -1) — Unix socket, --save \"\" --appendonly no |"
    echo "| memcached | $(memcached -V 2>&1 | head -1) — Unix socket, default threads |"
    echo "| pcbench | $("$PCBENCH" --version) |"
    echo "| sizes | $N keys of 16 B with 64 B values; $MEMBERS map fields / set members / stream entries over 1000 keys; one sorted set of $ZMEMBERS members; runs of $DUR s after $WARM s of warm-up |"
    echo
    echo "Latencies are p50 / p99 / p99.9 in µs.  Zero-copy reads (pycache, bare LMDB) are timed in groups of 64 and recorded as the group's average;"
    echo "everything else per request.  The machine is shared: compare figures of one run, and read ratios rather than absolutes."
    echo
    echo "## The targets of DESIGN.md"
    echo
    echo "| what | measured | ratio | target | verdict |"
    echo "| --- | --- | --- | --- | --- |"
    echo "| GET hit, zero-copy, 1 client | pycache p50 $(f2 "$pc_get") µs a get (mean $(f2 "$pc_get_mean")); bare LMDB p50 $(f2 "$lm_get") µs (mean $(f2 "$lm_get_mean")); Redis p50 $(f2 "$rd_get_p50") µs, memcached p50 $(f2 "$mc_get_p50") µs | $(f2 "$g_lm")× LMDB; Redis p50 / pycache p50 $(f2 "$g_rd")× (ops/s $(f2 "$g_rd_ops")×) | ≤ 1.1× LMDB; ≥ 40× Redis | $(verdict "$g_lm" le 1.1); $(verdict "$g_rd" ge 40) |"
    echo "| GET, 2 processes | pycache $(f0 "$pc_get2")/s; bare LMDB $(f0 "$lm_get2")/s; Redis best $(f0 "$best")/s (pcbench 50 clients pipeline 16: $(f0 "$rd_best"); redis-benchmark -c 50 -P 16: $(f0 "$RB_GET50P")) | $(f2 "$g2_rd")× Redis's best | ≥ 3× | $(verdict "$g2_rd" ge 3) |"
    echo "| SET acknowledged, 1 client | pycache p50 $(f2 "$pc_set_p50") µs, $(f0 "$pc_set_ops")/s; Redis p50 $(f2 "$rd_set_p50") µs; memcached p50 $(f2 "$mc_set_p50") µs | Redis p50 / pycache p50 $(f2 "$s_rd")× (ops/s $(f2 "$s_rd_ops")×) | ≤ 5 µs median; ≥ 9× Redis | $(verdict "$pc_set_p50" le 5); $(verdict "$s_rd" ge 9) |"
    echo "| SET, 64 in flight | pycache 1 client × 64: $(f0 "$pc_set64")/s; 2 clients × 32: $(f0 "$pc_set64x2")/s; Redis 50 clients pipeline 16: $(f0 "$rd_setbest")/s (redis-benchmark: $(f0 "$RB_SET50P")) | $(f2 "$s64_rd")× (2×32: $(f2 "$s64x2_rd")×) | ≥ 1.5× Redis | $(verdict "$s64_rd" ge 1.5) |"
    echo "| YCSB B (95/5), 2 processes | pycache $(f0 "$pc_b2")/s; Redis 50 clients $(f0 "$rd_b50")/s, pipelined 16: $(f0 "$rd_b50p")/s | $(f2 "$b_rd")× unpipelined; $(f2 "$bp_rd")× pipelined | ≥ 20×; ≥ 2× | $(verdict "$b_rd" ge 20); $(verdict "$bp_rd" ge 2) |"
    echo "| bytes per key, $N keys | pycache $(f2 "$pc_bpk") B (tmpfs $(f2 "$pc_fs")); Redis used_memory $(f2 "$rd_bpk") B (RSS $(f2 "$rd_rss")); memcached $(f2 "$mc_bpk") B (RSS $(f2 "$mc_rss")) | $(f2 "$m_rd")× Redis | ≤ 0.85× | $(verdict "$m_rd" le 0.85) |"
    echo "| idle daemon | $IDLE_CPU % of a core, $IDLE_WAKE context switches a second ($IDLE s, no clients) | | < 1 %, a handful of wake-ups | $(verdict "$IDLE_CPU" le 1) |"
    echo "| $STORM keys expiring at once | removed in $(f0 "$st_ms") ms; read p99 $(f2 "$st_r")× idle, write p99 $(f2 "$st_w")× idle | | ≤ 2 s; read p99 ≤ 2× idle | $(verdict "$st_ms" le 2000); $(verdict "$st_r" le 2) |"
    echo "| snapshot / restore of $N keys | snapshot $(f0 "$sn_ms") ms, write p99 $(f2 "$sn_w")× idle; restore $(f0 "$re_ms") ms (log), serving after $RESTORE1 ms | | ≤ 3 s each; write p99 ≤ 2× idle | $(verdict "$sn_ms" le 3000); $(verdict "$re_ms" le 3000); $(verdict "$sn_w" le 2) |"
    echo
    echo "redis-benchmark on the same server: GET 1 client $(f0 "$RB_GET1")/s, SET 1 client $(f0 "$RB_SET1")/s, GET 50 clients $(f0 "$RB_GET50")/s, GET 50 clients pipeline 16 $(f0 "$RB_GET50P")/s, SET 50 clients pipeline 16 $(f0 "$RB_SET50P")/s."
    echo
    echo "## Every workload, one client, one request in flight"
    echo
    echo "ops/s and latency (p50 / p99 / p99.9 µs).  *n/a*: the server has no such thing."
    echo
    echo "| workload | dist | pycache | latency | Redis | latency | memcached | latency | bare LMDB | pycache/Redis | pycache/memcached |"
    echo "| --- | --- | ---: | --- | ---: | --- | ---: | --- | ---: | ---: | ---: |"
    jq -r "$JQLIB"'. as $all | keys_in_order[] | . as $k | ($all | row($k.w; $k.d; "pycache")) as $p
        | ($all | row($k.w; $k.d; "redis")) as $r | ($all | row($k.w; $k.d; "memcached")) as $m
        | ($all | row($k.w; $k.d; "lmdb")) as $l
        | "| \($k.w) | \($k.d) | \($p | ops) | \($p | lat) | \($r | ops) | \($r | lat) | \($m | ops) | \($m | lat) | \(if $l.supported then ($l | ops) else "" end) | \(ratio($p; $r)) | \(ratio($p; $m)) |"' "$J/suite.json"
    echo
    echo "Reads through the channel (pycache-ring, PC_OPT_RING_ONLY) instead of the map:"
    echo
    echo "| workload | pycache-ring | latency |"
    echo "| --- | ---: | --- |"
    jq -r "$JQLIB"'.[] | "| \(.workload) | \(ops) | \(lat) |"' "$J/ring.json"
    echo
    echo "memcached: no lists, maps or sets.  Misses: rpop of an empty list (it runs after lpush, as in redis-benchmark)."
    echo
    echo "## Rate limiter, bit arrays, Bloom filters (issue 16)"
    echo
    echo "One client, one request in flight, ops/s and latency (p50 / p99 / p99.9 µs).  throttle: pc_throttle's GCRA; on Redis the same GCRA as a Lua script (SCRIPT LOAD once, then EVALSHA).  getbit and bf.exists are zero-copy on pycache.  Redis: no Bloom module (RedisBloom is not packaged); memcached has none of these."
    echo
    per_workload helpers
    echo
    echo "## Streams (issue 17)"
    echo
    echo "$MEMBERS entries over 1000 streams, loaded under explicit IDs; xadd: one field and value, ID \\*; xrange: 10 entries from a random one (zero-copy on pycache); xreadgroup: XREADGROUP of one new entry and its XACK, after xadd (a produce/consume loop).  memcached has no streams."
    echo
    per_workload streams
    echo
    echo "## Sorted sets (issue 17)"
    echo
    echo "One sorted set of $ZMEMBERS members (score i for member i); zadd: a member moved to a new score (acknowledged); zscore (zero-copy on pycache), zrank of a member; zrange: 10 members by rank from a random rank.  memcached has no sorted sets."
    echo
    per_workload zsets
    echo
    echo "## Concurrency"
    echo
    echo "| run | pycache | bare LMDB | Redis | memcached | pycache/Redis | pycache/memcached |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for pair in "get2:get2best:GET, 2 processes (Redis/memcached: 2×25 clients, pipeline 16)" \
        "set64:setbest:SET, pycache 1 client × 64 in flight (Redis/memcached: 2×25 clients, pipeline 16)" \
        "set64x2:setbest:SET, pycache 2 clients × 32 in flight (Redis/memcached: 2×25, pipeline 16)" \
        "ycsbb2:ycsbb50:YCSB B, 2 processes (Redis/memcached: 2×25 clients)" \
        "ycsbb2:ycsbb50p:YCSB B, 2 processes (Redis/memcached: 2×25 clients, pipeline 16)"; do
        a=${pair%%:*}
        rest=${pair#*:}
        b=${rest%%:*}
        what=${rest#*:}
        jq -r -s --arg what "$what" "$JQLIB"'(.[0]) as $A | (.[1]) as $B
            | ([$A[] | select(.target == "pycache")][0]) as $p | ([$A[] | select(.target == "lmdb")][0]) as $l
            | ([$B[] | select(.target == "redis")][0]) as $r | ([$B[] | select(.target == "memcached")][0]) as $m
            | "| \($what) | \($p | ops) | \($l | ops) | \($r | ops) | \($m | ops) | \(ratio($p; $r)) | \(ratio($p; $m)) |"' \
            "$J/$a.json" "$J/$b.json"
    done
    echo
    echo "### As client processes grow (one thread each, one request in flight)"
    echo
    echo "| processes | GET pycache | GET bare LMDB | GET Redis | pycache/Redis | YCSB B pycache | YCSB B Redis | pycache/Redis |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for c in $PROCS; do
        jq -r -s --arg c "$c" "$JQLIB"'(.[0]) as $A | (.[1]) as $B
            | ([$A[] | select(.target == "pycache")][0]) as $p | ([$A[] | select(.target == "lmdb")][0]) as $l
            | ([$A[] | select(.target == "redis")][0]) as $r
            | ([$B[] | select(.target == "pycache")][0]) as $pb | ([$B[] | select(.target == "redis")][0]) as $rb
            | "| \($c) | \($p | ops) | \($l | ops) | \($r | ops) | \(ratio($p; $r)) | \($pb | ops) | \($rb | ops) | \(ratio($pb; $rb)) |"' \
            "$J/procs$c.json" "$J/procsb$c.json" 2>/dev/null
    done
    echo
    echo "### As keys grow (GET, one client; fresh servers for each size)"
    echo
    echo "| keys | pycache | latency | bare LMDB | Redis | memcached | pycache/Redis | pycache/memcached | bytes/key pycache | Redis | memcached |"
    echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for n in $KEYSETS; do
        if [ ! -s "$J/keys$n.json" ]; then
            echo "| $n | skipped: not enough free memory | | | | | | | | | |"
            continue
        fi
        jq -r --arg n "$n" "$JQLIB"'. as $all | ($all | row("get"; "uniform"; "pycache")) as $p
            | ($all | row("get"; "uniform"; "lmdb")) as $l | ($all | row("get"; "uniform"; "redis")) as $r
            | ($all | row("get"; "uniform"; "memcached")) as $m
            | ([$all[] | select(.workload == "load")]) as $ld
            | def bpk($t): ([$ld[] | select(.target == $t)][0].bytes_per_key // null) | if . == null then "—" else r1 end;
            "| \($n | tonumber | commas) | \($p | ops) | \($p | lat) | \($l | ops) | \($r | ops) | \($m | ops) | \(ratio($p; $r)) | \(ratio($p; $m)) | \(bpk("pycache")) | \(bpk("redis")) | \(bpk("memcached")) |"' \
            "$J/keys$n.json"
    done
    echo
    echo "## Memory: bytes per key, $N keys of 16 B with 64 B values"
    echo
    echo "| server | bytes/key (as the server counts) | resident | counted as |"
    echo "| --- | ---: | ---: | --- |"
    jq -r "$JQLIB"'.[] | select(.supported) | "| \(.target) | \(.bytes_per_key | r1) | \(.rss_per_key | r1) | \(.memory_counted_as) |"' "$J/memory.json"
    echo
    echo "## Expiry storm: $STORM keys expiring at one moment"
    echo
    echo "Removal of expired keys is paused while they load (pycache: pc_set_expire_interval 0; Redis: DEBUG SET-ACTIVE-EXPIRE 0), then resumed after the moment; one thread reads and one writes (one request at a time, 20 µs apart) throughout."
    echo
    echo "| server | removed after | read p50 / p99 idle | during | write p50 / p99 idle | during |"
    echo "| --- | ---: | --- | --- | --- | --- |"
    jq -r "$JQLIB"'. as $all | [.[] | select(.workload == "expire-storm")][] | .target as $t
        | def pr($w): ([$all[] | select(.workload == $w and .target == $t)][0]) | "\(.p50_us | r2) / \(.p99_us | r2)";
        "| \($t) | \(.removed_ms | round) ms | \(pr("storm-read-idle")) | \(pr("storm-read")) | \(pr("storm-write-idle")) | \(pr("storm-write")) |"' "$J/storm.json"
    echo
    echo "## Snapshot and restore"
    echo
    echo "| data | snapshot (daemon) | size | write p50 / p99 idle | during | restore (log) | serving after |"
    echo "| --- | ---: | ---: | --- | --- | --- | ---: |"
    for pair in "snapshot:$N strings:$RESTORE1:$RESTORE1_LOG" "snapcoll:$MEMBERS list elements, map fields and set members each:$RESTORE2:$RESTORE2_LOG"; do
        file=${pair%%:*}
        rest=${pair#*:}
        what=${rest%%:*}
        rest=${rest#*:}
        serve=${rest%%:*}
        log=${rest#*:}
        jq -r --arg what "$what" --arg serve "$serve" --arg log "$log" "$JQLIB"'. as $all
            | [.[] | select(.workload == "snapshot" or .workload == "snapshot-coll")][0] as $s
            | ([$all[] | select(.workload | test("write-idle$"))][0]) as $i
            | ([$all[] | select(.workload | test("write$"))][0]) as $d
            | "| \($what) | \($s.snapshot_ms) ms | \($s.snapshot_bytes / 1048576 | r1) MiB | \($i.p50_us | r2) / \($i.p99_us | r2) | \($d.p50_us | r2) / \($d.p99_us | r2) | \($log) | \($serve) ms |"' \
            "$J/$file.json"
    done
    echo
    echo "## Hit ratio under eviction"
    echo
    echo "A cache-aside loop (get; on a miss, set) on Zipf(0.99) keys over $HRN keys, $HRREQ requests after as many of warm-up, against a daemon with --max-memory $HRMEM (Redis: maxmemory sized to hold as many keys as pycache's LRU run kept); the exact LRU runs the same request sequence at the capacity each server kept (the average number of keys it held)."
    echo
    echo "| server, policy | workload | hit ratio | exact LRU | ratio | capacity (keys) | evicted | ops/s | latency |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    for pol in allkeys-lru allkeys-lfu redis; do
        [ -s "$J/hr-$pol.json" ] || continue
        label=$pol
        [ $pol = redis ] && label="Redis allkeys-lru (maxmemory-samples 5)"
        jq -r --arg pol "$label" "$JQLIB"'.[] | select(.hit_ratio != null)
            | "| \($pol) | \(.workload) | \(.hit_ratio * 10000 | round / 10000) | \(.lru_hit_ratio * 10000 | round / 10000) | \(if .lru_hit_ratio > 0 then (.hit_ratio / .lru_hit_ratio | r2) else "—" end) | \(.capacity_keys | commas) | \(.evicted | commas) | \(ops) | \(lat) |"' \
            "$J/hr-$pol.json"
    done
    echo
    echo "## How pcbench sends requests in flight"
    echo
    echo "- pycache: writes in a batch (pc_batch_begin … pc_batch_exec); zero-copy reads are local lookups, one pc_read each."
    echo "- Redis (hiredis): pipelining, redisAppendCommandArgv × n then n redisGetReply."
    echo "- memcached (libmemcached, ASCII): gets as one memcached_mget; sets buffered (MEMCACHED_BEHAVIOR_BUFFER_REQUESTS) and collected by one memcached_mget, which sends them and reads their answers (the answers of buffered sets are not reported to the caller); incr one at a time."
    echo "- With n in flight every request of a round counts the round's time as its latency."
    echo
    echo "Raw results: \`$J/*.json\`; pcbench's tables: \`$WORK/pcbench.log\`."
    [ $FAILED = 1 ] && echo && echo "**Some requests failed or a run did not complete: see $WORK/pcbench.log.**"
} >"$OUT"

say "report: $OUT"
[ $FAILED = 0 ] || exit 1
exit 0
