#!/bin/sh
# tests/fault/lint.sh: the project's static checks.
#   cppcheck --enable=warning,performance,portability --inline-suppr --error-exitcode=1
#            with -D_GNU_SOURCE and the include paths
#   clang-tidy with the checks of the top-level .clang-tidy, over a
#            compile_commands.json made by gen-compile-db.sh
# on shm/ libclient/ daemon/ persist/ tools/, this battery's own sources
# (tests/fault, tests/fuzz) and the test library they use (tests/lib).  Each finding is printed as FILE:LINE: message;
# exit 1 if there is any, 77 when neither tool is installed.
#   tests/fault/lint.sh [cppcheck|clang-tidy]   (default: both)
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
what=${1:-both}
out=$top_builddir/tests/fault/lint
mkdir -p "$out"
dirs="shm libclient daemon persist tools tests/lib tests/fault tests/fuzz"
found=0 ran=0
cd "$top_srcdir" || exit 2
if [ "$what" != clang-tidy ] && command -v cppcheck >/dev/null 2>&1; then
    ran=1
    cppcheck --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
        --std=c11 -D_GNU_SOURCE -D__GNUC__=12 -Ilibclient -Ishm -Itests/lib --quiet \
        --suppress=missingIncludeSystem --template='{file}:{line}: cppcheck {severity} [{id}]: {message}' \
        $dirs >"$out/cppcheck.txt" 2>&1
    rc=$?
    n=$(grep -c ': cppcheck ' "$out/cppcheck.txt")
    cat "$out/cppcheck.txt"
    echo "lint: cppcheck: $n finding(s) (exit $rc)"
    [ $rc -eq 0 ] && [ "$n" -eq 0 ] || found=$((found + n + (rc != 0)))
fi
if [ "$what" != cppcheck ] && command -v clang-tidy >/dev/null 2>&1; then
    ran=1
    [ -f "$top_builddir/config.h" ] || { echo "lint: configure first (no config.h)"; exit 2; }
    sh "$top_srcdir/tests/fault/gen-compile-db.sh" "$out/compile_commands.json"
    files=$(for d in $dirs; do ls $d/*.c 2>/dev/null; done)
    : >"$out/clang-tidy.txt"
    for f in $files; do
        clang-tidy -p "$out" --quiet "$f" 2>/dev/null | grep -E '^/.*:[0-9]+:[0-9]+: (warning|error):' >>"$out/clang-tidy.txt"
    done
    sort -u "$out/clang-tidy.txt" | sed "s|$top_srcdir/||" >"$out/clang-tidy.sorted"
    n=$(wc -l <"$out/clang-tidy.sorted")
    cat "$out/clang-tidy.sorted"
    echo "lint: clang-tidy: $n finding(s)"
    found=$((found + n))
fi
[ $ran = 1 ] || { echo "lint: neither cppcheck nor clang-tidy: skipped"; exit 77; }
echo "lint: $found finding(s) in all"
[ $found -eq 0 ]
