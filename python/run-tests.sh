#!/bin/sh
# python/run-tests.sh BUILDDIR [PYTEST ARGS] - run the Python package's tests
# (pytest, with Debian's python3-pytest and python3-pytest-asyncio) against
# the package `make python` built into BUILDDIR/python/lib and the pycached
# of BUILDDIR, which the tests start in temporary directories.  Runs from
# the build tree: nothing is installed, nothing is written to the source tree.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BUILDDIR [PYTEST ARGS]" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
PYTHON3=${PYTHON3:-/usr/bin/python3}
[ -d "$build/python/lib/pycache" ] || { echo "$0: no package in $build/python/lib: run make python" >&2; exit 2; }
"$PYTHON3" -c 'import pytest, pytest_asyncio' 2>/dev/null ||
  { echo "$0: $PYTHON3 lacks pytest or pytest-asyncio: apt-get install python3-pytest python3-pytest-asyncio (scripts/setup.sh does)" >&2; exit 2; }
PYTHONPATH="$build/python/lib" PYCACHE_PYCACHED="$build/pycached" PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYCACHE_PYCACHED PYTHONDONTWRITEBYTECODE
cd "$here"
[ $# -gt 0 ] || set -- tests
exec "$PYTHON3" -m pytest -p no:cacheprovider "$@"
