#!/bin/bash
# install-check.sh BUILDDIR - `make install DESTDIR=...` into a scratch
# root, then build a small program with `cc app.c $(pkg-config --cflags --libs
# pycache-client)` against the installed copy and run it; also check that the
# installed library exports only pc_* symbols and that man pages went in; and
# install the Python package with pip into a virtual environment, built
# against the installed copy through pkg-config, and run it.
#
# DESTDIR, not `make install prefix=...`: the .pc file carries the prefix
# chosen at configure time, so overriding prefix at install time would leave
# pkg-config pointing at a header that is not there.  PKG_CONFIG_SYSROOT_DIR
# makes pkg-config prepend the scratch root to -I and -L, as a packager's
# staged install would.
set -euo pipefail
build=$(cd "$1" && pwd)
stage=$(mktemp -d /tmp/pycache-install.XXXXXX)
trap 'rm -rf "$stage"' EXIT
make -C "$build" -s install DESTDIR="$stage" >/dev/null
configured=$(sed -n 's/^prefix = //p' "$build/Makefile")
prefix="$stage$configured"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
cat > "$prefix/app.c" <<'APP'
#include <pycache.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_EMBEDDED | PC_OPT_CREATE;
    pc_client *c;
    int rc = pc_connect(argv[1], &o, &c);
    if (rc) {
        fprintf(stderr, "connect: %s\n", pc_strerror(rc));
        return 1;
    }
    pc_val v = pc_str("installed");
    pc_read *r;
    pc_val out;
    if ((rc = pc_set(c, "k", 1, &v, 0, 0)) || (rc = pc_read_begin(c, &r)) ||
        (rc = pc_get(r, "k", 1, &out))) {
        fprintf(stderr, "%s\n", pc_strerror(rc));
        return 1;
    }
    printf("%.*s\n", (int)out.s.len, (const char *)out.s.ptr);
    pc_read_end(r);
    pc_close(c);
    (void)argc;
    return 0;
}
APP
cc -std=c11 -Wall -Wextra -Werror "$prefix/app.c" $(pkg-config --cflags --libs pycache-client) -o "$prefix/app"
out=$(LD_LIBRARY_PATH="$prefix/lib" "$prefix/app" "$prefix/store")
[ "$out" = installed ] || { echo "install-check: app printed '$out'"; exit 1; }
bad=$(nm -D --defined-only "$prefix/lib/libpycache-client.so" | awk '{print $3}' | grep -v '^pc_' || true)
[ -z "$bad" ] || { echo "install-check: unexpected exported symbols: $bad"; exit 1; }
for m in man1/pccli.1 man3/pycache.3; do
  [ -f "$prefix/share/man/$m" ] || { echo "install-check: man page $m not installed"; exit 1; }
done
[ -x "$prefix/bin/pccli" ] || { echo "install-check: pccli not installed"; exit 1; }

# The Python package as docs/python.md tells a user to install it: Debian's
# python3 is externally managed, so into a virtual environment made from it
# (--system-site-packages: Debian's setuptools and wheel build it, offline),
# with pip, against the installed library found by pkg-config.
top=$(cd "$(dirname "$0")/.." && pwd)
/usr/bin/python3 -m venv --system-site-packages "$stage/venv"
mkdir "$stage/python-src"
(cd "$top/python" && tar --exclude=build --exclude='*.egg-info' --exclude=__pycache__ -cf - .) |
  tar -C "$stage/python-src" -xf -
"$stage/venv/bin/pip" install --quiet --no-build-isolation --no-index --no-cache-dir \
  --disable-pip-version-check "$stage/python-src"
out=$(cd "$stage" && LD_LIBRARY_PATH="$prefix/lib" "$stage/venv/bin/python" -c '
import sys, pycache
c = pycache.Client(sys.argv[1], embedded=True, create=True)
c.set("k", [1, "two", None])
print(c.get("k"), pycache.__file__.startswith(sys.prefix))' "$prefix/pystore")
[ "$out" = "[1, 'two', None] True" ] || { echo "install-check: the pip-installed package printed '$out'"; exit 1; }
echo "install-check: ok (library, header, pycache-client.pc, pccli, man pages, pip install ./python)"
