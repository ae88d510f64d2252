#!/bin/sh
# tests/fuzz/check.sh: the short fuzzing run of `make check`: build the
# harnesses (skipped, exit 77, without clang or its fuzzer runtime) and run
# each for FUZZ_CHECK_SECONDS (default 3) from its seed corpus.  Any crash,
# sanitizer report, leak or hang fails.  tests/fuzz/run.sh is the long form.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
OUT=$top_builddir/tests/fuzz
sh "$here/build.sh" "$OUT"
rc=$?
[ $rc -eq 0 ] || exit $rc
secs=${FUZZ_CHECK_SECONDS:-3}
fails=0
for h in frame snapshot glob json; do
    work="$OUT/check-work/$h"
    rm -rf "$work"
    mkdir -p "$work" "$OUT/artifacts"
    log="$OUT/check-$h.log"
    if "$OUT/bin/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$h-" \
        "$work" "$top_srcdir/tests/fuzz/corpus/$h" >"$log" 2>&1; then
        echo "ok fuzz_$h: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") executions in ${secs} s"
    else
        fails=$((fails + 1))
        echo "FAIL fuzz_$h; see $log"
        grep -m5 -E 'ERROR|SUMMARY|timeout|leak' "$log"
    fi
done
[ $fails -eq 0 ]
