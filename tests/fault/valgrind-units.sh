#!/bin/sh
# tests/fault/valgrind-units.sh: run every unit test (tests/unit/test_*, the
# built executables) under valgrind memcheck:
#     valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
# Not part of `make check` (it takes minutes; docs/reliability.md says how
# long).  Run it from a normal (not ASan/TSan) build directory after
# `make check` has built the tests:   sh ../tests/fault/valgrind-units.sh
# Exit 0 when every test passes with no memcheck error and no definite or
# indirect leak; 77 without valgrind or in a sanitizer build.
set -u
top_builddir=${top_builddir:-$(pwd)}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind-units: no valgrind: skipped"; exit 77; }
if grep -q '^SAN_FLAGS = -fsanitize' "$top_builddir/Makefile" 2>/dev/null; then
    echo "valgrind-units: a sanitizer build; use a normal build: skipped"
    exit 77
fi
logdir=$top_builddir/tests/fault/valgrind
mkdir -p "$logdir"
fails=0 n=0
start=$(date +%s)
for t in "$top_builddir"/tests/unit/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    case $t in *.o | *.log | *.trs | *.sh) continue ;; esac
    head -c 4 "$t" | grep -q 'ELF' || continue
    name=$(basename "$t")
    n=$((n + 1))
    t0=$(date +%s)
    if valgrind -q --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --track-fds=no \
        "$t" >"$logdir/$name.log" 2>&1; then
        echo "ok   $name ($(( $(date +%s) - t0 )) s)"
    else
        fails=$((fails + 1))
        echo "FAIL $name ($(( $(date +%s) - t0 )) s): see $logdir/$name.log"
        grep -m10 -E '^==[0-9]+== .*(Invalid|uninitialised|definitely|indirectly|ERROR SUMMARY)' "$logdir/$name.log"
    fi
done
echo "valgrind-units: $n tests, $fails failed, $(( $(date +%s) - start )) s"
[ $fails -eq 0 ] && [ $n -gt 0 ]
