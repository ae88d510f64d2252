#!/bin/sh
# test_fsfull.sh - a store on a filesystem smaller than its map.  In a
# private mount namespace (unshare -m; skipped, status 77, where that is
# not allowed), a 16M tmpfs holds a store whose map is 64M:
#  - the daemon starts capped (its log says so, pcstat shows max_memory_fs);
#  - 64 KiB writes go on until PC_EFULL, and the daemon survives (without
#    the cap it died of SIGBUS after about 240), answers PC_EFULL again,
#    and serves reads of every acknowledged key;
#  - restarted, it serves; a growing write gets PC_EFULL, not a crash; after
#    deletes, writes succeed again;
#  - when another process fills the filesystem, the daemon's reservation
#    holds: writes get PC_EFULL, the daemon survives;
#  - a new store on a filesystem without 1M per shard is refused, and the
#    failed start leaves nothing behind.
# Run by `make check` with $top_builddir exported.
set -u

. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/pctest.sh"

if [ -z "${TEST_FSFULL_INSIDE:-}" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null ||
        ! unshare -m true 2>/dev/null; then
        echo "test_fsfull: SKIP: needs root and unshare -m (a private mount namespace)"
        exit 77
    fi
    TEST_FSFULL_INSIDE=1 exec unshare -m sh "$0" "$@"
fi

tmp=$(mktemp -d /tmp/test_fsfull.XXXXXX) || exit 1
M="$tmp/fs"
mkdir "$M"
daemons=
cleanup() {
    for p in $daemons; do
        kill -KILL "$p" 2>/dev/null
    done
    for p in $daemons; do # gone before the filesystem they use is unmounted
        n=0
        while kill -0 "$p" 2>/dev/null && [ $n -lt 100 ]; do
            sleep 0.1
            n=$((n + 1))
        done
    done
    umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
if ! mount -t tmpfs -o size=16m tmpfs "$M" 2>"$tmp/err"; then
    echo "test_fsfull: SKIP: cannot mount a tmpfs: $(cat "$tmp/err")"
    exit 77
fi
mount --make-private "$M" 2>/dev/null
S="$M/store"
LOG="$tmp/log" # outside the small filesystem: the log must not fill it

start() {
    if ! "$PYCACHED" -d "$S" --max-memory 64M --max-value 1M --sync none --log-file "$LOG" \
        "$@" 2>"$tmp/err"; then
        fail "pycached $* did not start" "$(cat "$tmp/err")" "$(tail -5 "$LOG")"
        echo "test_fsfull: $passes passed, $fails failed"
        exit 1
    fi
    pid=$(cat "$S/pycached.pid")
    daemons="$daemons $pid"
}
alive() { # (a zombie does not count: kill -0 would)
    state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)
    ok "$([ -n "$state" ] && [ "$state" != Z ] && echo 0)" "$1: the daemon died" \
        "$(tail -5 "$LOG")"
}
stop() {
    stop_pid "$pid"
}

v=$(head -c 65536 /dev/zero | tr '\0' x)
# fill FROM: set kFROM, kFROM+1, ... until a write fails; $n is the first
# that failed, $err its message.
fill() {
    n=$1
    while [ "$n" -lt 2000 ]; do
        "$PCCLI" -d "$S" set "k$n" "$v" >/dev/null 2>"$tmp/err" || break
        n=$((n + 1))
    done
    err=$(cat "$tmp/err")
}
efull() { # WHAT: the last write failed with PC_EFULL
    ok "$(echo "$err" | grep -q PC_EFULL && echo 0)" "$1: expected PC_EFULL" "got: $err"
}

start --evict-at 99
ok "$(grep -q 'the store is capped at 15 MiB' "$LOG" && echo 0)" "no log line says the cap" \
    "$(cat "$LOG")"
fs=$("$PCSTAT" -d "$S" | sed -n 's/^max_memory_fs://p')
ok "$([ -n "$fs" ] && [ "$fs" -gt $((14 << 20)) ] && [ "$fs" -le $((16 << 20)) ] && echo 0)" \
    "pcstat max_memory_fs: '$fs'"
fill 0
efull "writing until full"
alive "writing until full"
ok "$([ "$n" -gt 150 ] && echo 0)" "only $n writes before PC_EFULL"
full=$n
"$PCCLI" -d "$S" set again "$v" >/dev/null 2>"$tmp/err"
err=$(cat "$tmp/err")
efull "a write after PC_EFULL"
alive "a write after PC_EFULL"
bad=0
i=0
while [ $i -lt "$full" ]; do
    [ "$("$PCCLI" -d "$S" strlen "k$i" 2>&1)" = 65536 ] || bad=$((bad + 1))
    i=$((i + 7))
done
ok "$bad" "$bad acknowledged keys did not read back"
ok "$([ "$("$PCCLI" -d "$S" get k0 | wc -c)" = 65537 ] && echo 0)" "get k0"

stop
start --evict-at 99
fill "$full"
efull "after a restart"
alive "after a restart"
# Deletes make room in the shards of the keys deleted: 32 keys reach every
# shard of a store of the default count (one per core, at most 8), so that
# the next write finds room whatever its shard.
dels=
i=0
while [ $i -lt 32 ]; do
    dels="$dels k$i"
    i=$((i + 1))
done
# shellcheck disable=SC2086
"$PCCLI" -d "$S" del $dels >/dev/null
fill "$n"
ok "$([ "$n" -gt "$full" ] && echo 0)" "no write succeeded after deletes"
efull "after deletes"
alive "after deletes"
ok "$([ "$("$PCCLI" -d "$S" strlen k40)" = 65536 ] && echo 0)" "k40 after the restart"
stop

# Another process fills the filesystem behind the daemon's back.
rm -rf "$S"
start
i=0
while [ $i -lt 20 ]; do
    "$PCCLI" -d "$S" set "k$i" "$v" >/dev/null || fail "write $i to a fresh store"
    i=$((i + 1))
done
dd if=/dev/zero of="$M/hog" bs=64k count=1000 2>/dev/null
fill 20
efull "with the filesystem full"
alive "with the filesystem full"
ok "$(grep -q 'is full before the store' "$LOG" && echo 0)" "no log line about the full filesystem"
rm -f "$M/hog"
hogged=$n
fill "$n"
efull "after the filesystem has room again"
ok "$([ "$n" -gt $((hogged + 100)) ] && echo 0)" \
    "only $((n - hogged)) writes after the filesystem has room again"
alive "after the filesystem has room again"
stop

# Too small for a new store: refused, nothing left behind.
rm -rf "$S"
dd if=/dev/zero of="$M/hog" bs=64k count=240 2>/dev/null
"$PYCACHED" -d "$S" --shards 2 --log-file "$LOG" 2>"$tmp/err"
rc=$?
[ -s "$S/pycached.pid" ] && daemons="$daemons $(cat "$S/pycached.pid")"
ok "$([ $rc = 1 ] && grep -q 'too little for 2 shard(s) of at least 1M each' "$tmp/err" &&
    [ ! -e "$S" ] && echo 0)" "a start on a filesystem too small" "status $rc: $(cat "$tmp/err")" \
    "$(ls -la "$S" 2>&1)"

echo "test_fsfull: $passes passed, $fails failed"
[ "$fails" = 0 ]
