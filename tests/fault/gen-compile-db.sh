#!/bin/sh
# tests/fault/gen-compile-db.sh OUT.json: a compile_commands.json for the
# sources lint.sh checks, with the flags the build uses (-std=c11,
# -D_GNU_SOURCE, config.h, the include paths, pkg-config's cflags), so that
# clang-tidy needs neither bear nor a build.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
out=$1
pkg=$(pkg-config --cflags lmdb libxxhash sqlite3 jansson libcmocka 2>/dev/null || true)
flags="-std=c11 -Wall -Wextra -D_GNU_SOURCE -include $top_builddir/config.h -I$top_srcdir/libclient -I$top_srcdir/tests/lib $pkg"
first=1
{
    echo "["
    for f in "$top_srcdir"/shm/*.c "$top_srcdir"/libclient/*.c "$top_srcdir"/daemon/*.c \
        "$top_srcdir"/persist/*.c "$top_srcdir"/tools/*.c "$top_srcdir"/tests/lib/*.c \
        "$top_srcdir"/tests/fault/*.c \
        "$top_srcdir"/tests/fuzz/*.c; do
        [ -f "$f" ] || continue
        [ $first = 1 ] || echo ","
        first=0
        printf '  {"directory": "%s", "file": "%s", "command": "cc %s -c %s"}' \
            "$top_builddir" "$f" "$flags" "$f"
    done
    echo
    echo "]"
} >"$out"
