#!/bin/bash
# test.sh - set up (scripts/setup.sh) and run every test: the normal build's
# `make check`, the Python package's tests (`make check-python`: pytest
# against real daemons), the ASan/UBSan build's `make check`, the TSan
# build's `make check`, an install into a scratch root with a program built
# through pkg-config and the Python package installed with pip against it,
# and `make distcheck`.  Exits non-zero on the first failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
jobs=$(nproc)

step() { printf '\n==== %s\n' "$*"; }

step "make check (normal build)"
make -C "$top/build" -j"$jobs" check VERBOSE=yes

step "make check-python (the Python package: pytest, real pycacheds)"
make -C "$top/build" -s check-python

step "make check (ASan + UBSan build)"
mkdir -p "$top/build-asan"
(cd "$top/build-asan" && { [ -f Makefile ] || ../configure -q --enable-asan; } && make -j"$jobs" -s &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 make -j"$jobs" check VERBOSE=yes)

step "make check (TSan build: the daemon, the library and every test under ThreadSanitizer)"
# tests/tsan.supp: LMDB's reader table is invisible to TSan (see the file).
mkdir -p "$top/build-tsan"
(cd "$top/build-tsan" && { [ -f Makefile ] || ../configure -q --enable-tsan; } && make -j"$jobs" -s &&
  TSAN_OPTIONS="halt_on_error=1 suppressions=$top/tests/tsan.supp" make -j"$jobs" check VERBOSE=yes)

step "install, then build a program with pkg-config and pip install ./python against the installed copy"
"$top/scripts/install-check.sh" "$top/build"

step "make distcheck"
make -C "$top/build" -j"$jobs" distcheck

echo
echo "test.sh: all tests passed"
