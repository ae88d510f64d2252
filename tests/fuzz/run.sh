#!/bin/sh
# tests/fuzz/run.sh: the long fuzzing runs.  Builds the harnesses (build.sh)
# and runs each for a set number of executions, starting from its seed corpus
# (tests/fuzz/corpus/<harness>/, never written to) and a work corpus in the
# build tree.
#
#   tests/fuzz/run.sh [RUNS]         RUNS per harness (default 10000000)
#   HARNESSES="frame json" tests/fuzz/run.sh 1000000
#   FUZZ_SECONDS=600 tests/fuzz/run.sh   stop each harness after 600 s instead
#
# Prints one RESULT line per harness (executions, seconds, crashes) and exits
# non-zero if any harness crashed, leaked, hung (-timeout=10) or ran out of
# memory; its reproducer is kept under $OUT/artifacts/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build-fault}
export top_srcdir top_builddir
OUT=${FUZZ_OUT:-$top_builddir/tests/fuzz}
RUNS=${1:-10000000}
HARNESSES=${HARNESSES:-"json frame glob snapshot"}
sh "$here/build.sh" "$OUT" || exit $?
mkdir -p "$OUT/artifacts"
fails=0
for h in $HARNESSES; do
    work="$OUT/work/$h"
    mkdir -p "$work"
    limit="-runs=$RUNS"
    [ -n "${FUZZ_SECONDS:-}" ] && limit="-max_total_time=$FUZZ_SECONDS"
    log="$OUT/run-$h.log"
    start=$(date +%s)
    "$OUT/bin/fuzz_$h" $limit -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$h-" "$work" "$top_srcdir/tests/fuzz/corpus/$h" \
        >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        fails=$((fails + 1))
        echo "FAIL fuzz_$h (exit $rc after ${execs:-?} executions); see $log:"
        grep -m5 -E 'ERROR|SUMMARY|timeout|leak|out-of-memory' "$log"
    fi
    echo "RESULT fuzz harness=$h execs=${execs:-0} seconds=$secs crashes=$([ $rc -eq 0 ] && echo 0 || echo 1) corpus=$(ls "$work" | wc -l)"
done
exit $([ $fails -eq 0 ] && echo 0 || echo 1)
