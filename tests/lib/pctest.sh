# tests/lib/pctest.sh - what the shell tests (tests/integration/test_*.sh)
# share, as tests/lib/pctest.h is what the C tests share.  Sourced:
#     . "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/pctest.sh"
#
#  - the programs under test in $top_builddir (made absolute): $PYCACHED
#    (with PCTEST_SHARDS=N set, as for the C tests: tests/lib/pycached-shards.sh,
#    which gives every daemon a test starts --shards N before its own
#    arguments, so that a test's own --shards wins; $PYCACHED_BIN is the
#    program itself, for checks of its own arguments, where a config file's
#    `shards = N` would lose to that --shards),
#    and $PCCLI, $PCSTAT, $PCBENCH, the real executables when libtool made
#    wrapper scripts (the wrappers in $PCCLI_WRAPPER, $PCSTAT_WRAPPER), with
#    LD_LIBRARY_PATH (absolute) pointing at the uninstalled library;
#    `built PROG...` exits 1 unless each was built;
#  - a clean environment: PYCACHE_DIR unset, LC_ALL=C; $nl a newline;
#  - `stop_pid PID`: SIGTERM, and wait (30 s at most, then SIGKILL);
#  - counting: `fail WHAT [DETAIL...]`, `pass`, `ok STATUS WHAT [DETAIL...]`,
#    `check STATUS STDOUT WHAT` over $passes, $checks and $fails.

top_builddir=${top_builddir:-.}
case $top_builddir in /*) ;; *) top_builddir="$(pwd)/$top_builddir" ;; esac
PYCACHED="$top_builddir/pycached"
PYCACHED_BIN=$PYCACHED
case ${PCTEST_SHARDS:-} in
'' | *[!0-9]*) ;;
*)
    PCTEST_PYCACHED=$PYCACHED
    export PCTEST_PYCACHED PCTEST_SHARDS
    PYCACHED="$(cd "${top_srcdir:-$(dirname "$0")/../..}/tests/lib" && pwd)/pycached-shards.sh"
    ;;
esac
PCCLI="$top_builddir/pccli"
PCSTAT="$top_builddir/pcstat"
PCBENCH="$top_builddir/pcbench"
PCCLI_WRAPPER=$PCCLI
PCSTAT_WRAPPER=$PCSTAT

# built PROG...: each program exists and runs, or the test ends (exit 1).
built() {
    for p in "$@"; do
        [ -x "$p" ] || { echo "$(basename "$0"): $p not built" >&2; exit 1; }
    done
}

if [ -e "$top_builddir/.libs/libpycache-client.so" ]; then
    for p in pccli pcstat pcbench; do
        [ -x "$top_builddir/.libs/$p" ] || continue
        case $p in
        pccli) PCCLI="$top_builddir/.libs/pccli" ;;
        pcstat) PCSTAT="$top_builddir/.libs/pcstat" ;;
        pcbench) PCBENCH="$top_builddir/.libs/pcbench" ;;
        esac
    done
    LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export LD_LIBRARY_PATH
fi

unset PYCACHE_DIR
LC_ALL=C
export LC_ALL
nl='
'

# stop_pid PID: SIGTERM, and wait for it to go (30 s at most, then SIGKILL).
stop_pid() {
    kill "$1" 2>/dev/null
    n=0
    while kill -0 "$1" 2>/dev/null && [ $n -lt 300 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    kill -KILL "$1" 2>/dev/null
}

passes=0
checks=0
fails=0

# fail WHAT [DETAIL...]: count a failure and say what failed.
fail() {
    fails=$((fails + 1))
    printf 'FAIL: %s\n' "$1"
    shift
    for line in "$@"; do
        printf '      %s\n' "$line"
    done
}

# pass: count a check that passed.
pass() {
    passes=$((passes + 1))
}

# ok STATUS WHAT [DETAIL...]: pass when STATUS is 0, else fail.
ok() {
    st=$1
    shift
    if [ "$st" = 0 ]; then pass; else fail "$@"; fi
}

# check STATUS STDOUT WHAT: the last run (its status in $rc, its output in
# $out and without the last newline in $got, its stderr in $tmp/err) exited
# STATUS and printed exactly STDOUT plus a newline (nothing when empty);
# stderr empty unless STATUS is 2, and then not empty.
check() {
    checks=$((checks + 1))
    want=${2:+$2$nl}
    if [ "$rc" != "$1" ] || [ "$out" != "$want" ]; then
        fail "$3" "expected status $1, stdout: $2" "got status $rc, stdout: $got" \
            "stderr: $(cat "$tmp/err")"
    elif [ "$1" != 2 ] && [ -s "$tmp/err" ]; then
        fail "$3: unexpected stderr" "$(cat "$tmp/err")"
    elif [ "$1" = 2 ] && [ ! -s "$tmp/err" ]; then
        fail "$3: exit 2 without a message on stderr"
    else
        pass
    fi
}
