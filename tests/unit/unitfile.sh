#!/bin/sh
# unitfile.sh - the systemd unit the build makes matches the daemon it
# builds: Type=notify with --foreground when pycached has sd_notify
# (HAVE_LIBSYSTEMD), else Type=forking with the pid file pycached writes in
# its --dir.  Both variants are made and checked; the build's own unit is
# made again at the end.
b=${top_builddir:?run from make check}
status=0
fail() {
    echo "FAIL: $*"
    status=1
}

# check UNIT_TYPE FILE
check() {
    t=$1
    f=$2
    grep -q '^#[a-z]*# ' "$f" && fail "$t: lines of the other variant left in $f"
    grep -q '@[a-z_]*@' "$f" && fail "$t: a placeholder left in $f"
    [ "$(grep -c '^Type=' "$f")" = 1 ] || fail "$t: not exactly one Type= line"
    [ "$(grep -c '^ExecStart=' "$f")" = 1 ] || fail "$t: not exactly one ExecStart= line"
    grep -q "^Type=$t\$" "$f" || fail "$t: no Type=$t"
    exec_line=$(grep '^ExecStart=' "$f")
    dir=$(printf '%s\n' "$exec_line" | sed -n 's/.* --dir \([^ ]*\).*/\1/p')
    [ -n "$dir" ] || fail "$t: ExecStart has no --dir"
    case $t in
    notify)
        case $exec_line in *' --foreground '*) ;; *) fail "notify: ExecStart without --foreground" ;; esac
        grep -q '^PIDFile=' "$f" && fail "notify: a PIDFile= line"
        ;;
    forking)
        case $exec_line in *--foreground*) fail "forking: ExecStart with --foreground" ;; esac
        grep -q "^PIDFile=$dir/pycached.pid\$" "$f" || fail "forking: no PIDFile=$dir/pycached.pid"
        ;;
    esac
}

for t in notify forking; do
    make -s -C "$b" -B UNIT_TYPE=$t daemon/pycached.service >/dev/null || fail "make $t"
    check $t "$b/daemon/pycached.service"
done
make -s -C "$b" -B daemon/pycached.service >/dev/null || fail "make the build's unit"
if grep -q '^#define HAVE_LIBSYSTEMD 1' "$b/config.h"; then
    want=notify
else
    want=forking
fi
check $want "$b/daemon/pycached.service"
[ $status = 0 ] && echo "unit file: $want for this build; both variants well formed"
exit $status
