#!/bin/sh
# tests/unit/format.sh: the C sources follow the committed .clang-format
# (STYLE.md: "a check of it in make check").  Skipped (77) without
# clang-format; clang-format 14 is what scripts/setup.sh installs.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v clang-format >/dev/null 2>&1 || { echo "format: no clang-format: skipped"; exit 77; }
cd "$top_srcdir" || exit 99
files=$(find shm libclient daemon persist tools tests python/ext -name '*.[ch]' | sort)
out=$(clang-format --dry-run $files 2>&1 | grep 'warning:')
if [ -n "$out" ]; then
    printf '%s\n' "$out" | head -40
    echo "format: $(printf '%s\n' "$out" | wc -l) place(s) differ from .clang-format (clang-format -i FILE fixes them)"
    exit 1
fi
echo "format: $(echo $files | wc -w) files follow .clang-format"
