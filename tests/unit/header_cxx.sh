#!/bin/sh
# header_cxx.sh - pycache.h compiles as C++ (C++11 and C++17) on its
# own, with -Wall -Wextra -pedantic -Werror, and so does code using its
# inline helpers and PC_CURSOR_INIT.  Skipped (77) without a C++ compiler.
srcdir=${top_srcdir:-$(dirname "$0")/../..}
cxx=${CXX:-}
if [ -z "$cxx" ]; then
    for c in c++ g++ clang++; do
        if command -v "$c" >/dev/null 2>&1; then
            cxx=$c
            break
        fi
    done
fi
if [ -z "$cxx" ]; then
    echo "no C++ compiler found: skipped"
    exit 77
fi

status=0
# check WHAT STD PROGRAM: compile PROGRAM as C++ STD, warnings as errors.
check() {
    if printf '%s\n' "$3" | $cxx -std="$2" -fsyntax-only -Wall -Wextra -pedantic -Werror \
        -I"$srcdir/libclient" -x c++ -; then
        echo "ok: $1 ($2, $cxx)"
    else
        echo "FAIL: $1 ($2, $cxx)"
        status=1
    fi
}

alone='#include "pycache.h"
int main() { return PC_OK; }'
helpers='#include "pycache.h"
int main() {
    pc_val v = pc_int(1), s = pc_str("x"), d = pc_dbl(0.5), t = pc_bool(true);
    pc_val n = pc_nil(), m = pc_mem("ab", 2);
    pc_bytes b = pc_b("y", 1);
    pc_options o;
    o.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE;
    return v.kind == PC_INT && s.s.len == 1 && d.d == 0.5 && t.b && n.kind == PC_NIL &&
           m.s.len == 2 && b.len == 1 && o.flags && PC_EKEY < 0 ? 0 : 1;
}'
cursor='#include "pycache.h"
int main() { pc_cursor cur = PC_CURSOR_INIT; return cur.done ? 1 : 0; }'

for std in c++11 c++17; do
    check "the header alone" $std "$alone"
    check "the inline helpers" $std "$helpers"
    check "PC_CURSOR_INIT" $std "$cursor"
done
exit $status
