#!/bin/bash
# setup.sh - make a fresh Debian 12 machine ready to build and test pycache,
# then build it, and its Python package, in ./build.  Installs only the
# Debian packages that are missing (as root, or through sudo).  Safe to run
# again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compiler, autotools, libraries (libedit: pccli's interactive mode).
# The MariaDB/MySQL snapshot target: libmariadb-dev; its tests start their
# own mariadbd (mariadb-server), query it with the mariadb client, and make
# the certificates of their TLS case with openssl.
# Tests: cmocka, sanitizer runtimes, valgrind, clang-format, script(1) from
# bsdutils (drives pccli's interactive mode through a pseudo-terminal).  Comparison benchmarks: redis-server, memcached.
# The Python package (python/, docs/python.md): Debian's python3 with its
# headers and setuptools to build it, venv/pip/wheel for `pip install
# ./python` into a virtual environment, pytest and pytest-asyncio for its
# tests, redis-py for its benchmark.
PKGS=(
  build-essential autoconf automake libtool pkg-config
  liblmdb-dev lmdb-utils libxxhash-dev libjansson-dev libedit-dev libcmocka-dev libsystemd-dev libsqlite3-dev sqlite3 libmariadb-dev libhiredis-dev libmemcached-dev libsasl2-dev libssl-dev
  clang libclang-rt-14-dev clang-format valgrind
  redis-server redis-tools memcached
  mariadb-server mariadb-client openssl
  procps util-linux bsdutils
  python3 python3-dev python3-setuptools python3-venv python3-pip python3-wheel
  python3-pytest python3-pytest-asyncio python3-redis
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" -s
make -s python   # the Python package, into ./build/python/lib (docs/python.md)
echo "setup: built in $(pwd)"
