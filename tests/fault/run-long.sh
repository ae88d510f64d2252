#!/bin/sh
# tests/fault/run-long.sh: the long forms of the reliability battery.
#
#   tests/fault/run-long.sh [TEST...]     (default: all, in this order)
#     kill9       500 kill -9 rounds, --sync always and --sync none
#     clientkill  10,000 client kills
#     stall       a reader stopped for 3 minutes (--max-read-age 60)
#     hostile     10 minutes of hostile clients
#     regress     the regression tests of bugs 1-3: allocation failures
#                 N = 1..400, a 60 s connect storm, an empty record
#     access      access checks, 100,000 descriptor-carrying messages
#     files       the store directory, planted links, config files, SIGHUP,
#                 a relative -d (the same as the short form)
#     fuzz        tests/fuzz/run.sh: 10,000,000 executions per harness
#
# Run from the build directory (or set top_builddir); builds what it needs.
# Knobs can be overridden from the environment (FAULT_KILL_ROUNDS, ...).
# Every result line (RESULT ...) goes to stdout and to
# $top_builddir/tests/fault/long-results.txt; docs/reliability.md quotes them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
tests=${*:-"kill9 clientkill stall hostile regress access files fuzz"}
res=$top_builddir/tests/fault/long-results.txt
mkdir -p "$top_builddir/tests/fault"
echo "# run-long.sh $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) cores: $tests" >>"$res"
fails=0
run() {
    name=$1
    shift
    prog=tests/fault/test_fault_$name
    make -C "$top_builddir" "$prog" >/dev/null || { echo "run-long: cannot build $prog"; fails=$((fails + 1)); return; }
    start=$(date +%s)
    env "$@" FAULT_TIMEOUT=${FAULT_TIMEOUT:-7200} "$top_builddir/$prog" >"$top_builddir/$prog.long.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    grep '^RESULT' "$top_builddir/$prog.long.log" | tee -a "$res"
    echo "$name: exit $rc after ${secs} s (log: $prog.long.log)" | tee -a "$res"
    [ $rc -eq 0 ] || fails=$((fails + 1))
}
for t in $tests; do
    case $t in
    kill9) run kill9 FAULT_KILL_ROUNDS=${FAULT_KILL_ROUNDS:-500} ;;
    clientkill) run clientkill FAULT_CLIENT_KILLS=${FAULT_CLIENT_KILLS:-10000} ;;
    stall) run stall FAULT_STALL_AGE=${FAULT_STALL_AGE:-60} FAULT_STALL_SECONDS=${FAULT_STALL_SECONDS:-180} ;;
    hostile) run hostile FAULT_HOSTILE_SECONDS=${FAULT_HOSTILE_SECONDS:-600} ;;
    regress) run regress FAULT_ALLOC_MAX=${FAULT_ALLOC_MAX:-400} FAULT_STORM_SECONDS=${FAULT_STORM_SECONDS:-60} ;;
    access) run access FAULT_FD_MESSAGES=${FAULT_FD_MESSAGES:-100000} ;;
    files) run files ;;
    fuzz)
        sh "$top_srcdir/tests/fuzz/run.sh" "${FUZZ_RUNS:-10000000}" | tee -a "$res"
        [ $? -eq 0 ] || fails=$((fails + 1)) ;;
    *) echo "run-long: unknown test $t"; fails=$((fails + 1)) ;;
    esac
done
echo "run-long: $fails failed"
[ $fails -eq 0 ]
