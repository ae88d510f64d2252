#!/bin/sh
# tests/fuzz/build.sh: build the libFuzzer harnesses with clang
# (-fsanitize=fuzzer,address,undefined), outside automake (which builds with
# gcc).  The project's sources they need are compiled once into
# $OUT/obj/libpcfuzz.a and rebuilt when a source or header is newer.
#
#   tests/fuzz/build.sh [OUT]     OUT defaults to $top_builddir/tests/fuzz
#
# Needs $top_srcdir (default: this script's ../..) and $top_builddir (for
# config.h; default: $top_srcdir/build-fault).  Exits 77 when clang or its
# fuzzer runtime is missing, so that automake counts the caller as skipped.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build-fault}
OUT=${1:-$top_builddir/tests/fuzz}
CLANG=${CLANG:-clang}
HARNESSES="frame snapshot glob json"

command -v "$CLANG" >/dev/null 2>&1 || { echo "fuzz: no $CLANG: skipped"; exit 77; }
mkdir -p "$OUT/obj" "$OUT/bin"
probe="$OUT/obj/probe.c"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe" -o "$OUT/obj/probe" >/dev/null 2>&1; then
    echo "fuzz: $CLANG cannot link -fsanitize=fuzzer (libclang-rt missing?): skipped"
    exit 77
fi
[ -f "$top_builddir/config.h" ] || { echo "fuzz: no $top_builddir/config.h (configure first)"; exit 1; }
# One build at a time in OUT (check.sh and run.sh may run together).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/obj/.lock"
    flock 9
fi

SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
PKG_CFLAGS=$(pkg-config --cflags lmdb libxxhash sqlite3 jansson)
PKG_LIBS=$(pkg-config --libs lmdb libxxhash sqlite3 jansson)
CFLAGS="-std=c11 -g -O1 -D_GNU_SOURCE -include $top_builddir/config.h -I$top_srcdir/libclient $PKG_CFLAGS $SAN"
# Every file of shm/ and libclient/ (a new type's handlers join by
# themselves), the snapshotter with the walk it shares with the other
# targets (persist/target.c), and the JSON helpers.
SRCS="$(cd "$top_srcdir" && echo shm/*.c libclient/*.c) persist/target.c persist/snapshot.c tools/pcjson.c"

lib="$OUT/obj/libpcfuzz.a"
newest_h=$(ls -t "$top_srcdir"/shm/*.h "$top_srcdir"/libclient/*.h "$top_srcdir"/persist/*.h \
    "$top_srcdir"/tools/*.h "$top_builddir/config.h" | head -1)
objs=""
changed=0
for s in $SRCS; do
    o="$OUT/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
    objs="$objs $o"
    if [ ! -f "$o" ] || [ "$top_srcdir/$s" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
        # -fvisibility=hidden as in the real build; the harnesses link statically.
        $CLANG $CFLAGS -c "$top_srcdir/$s" -o "$o"
        changed=1
    fi
done
if [ $changed = 1 ] || [ ! -f "$lib" ]; then
    rm -f "$lib"
    ar rcs "$lib" $objs
fi
for h in $HARNESSES; do
    src="$top_srcdir/tests/fuzz/fuzz_$h.c"
    bin="$OUT/bin/fuzz_$h"
    if [ ! -f "$bin" ] || [ "$src" -nt "$bin" ] || [ "$lib" -nt "$bin" ]; then
        $CLANG $CFLAGS -fsanitize=fuzzer "$src" "$lib" $PKG_LIBS -lpthread -lm -o "$bin"
    fi
done
echo "fuzz: harnesses in $OUT/bin"
