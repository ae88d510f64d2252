#!/bin/bash
# snapbench-mysql.sh - snapshot and restore times of N keys (1,000,000) to
# MariaDB beside SQLite, from one run: one pc_snapshot writes both targets
# from one read of the store; then two empty stores restore, one from the
# SQLite file and one from the database.  Starts its own mariadbd in a
# temporary directory (as tests/lib/mariadb.c does) and removes it.
#
#   tools/snapbench-mysql.sh [BUILD_DIR [KEYS]]     (default: build 1000000)
#
# Prints a Markdown table (docs/benchmarks.md).
set -euo pipefail
B=$(cd "${1:-build}" && pwd)
N=${2:-1000000}
T=$(mktemp -d /tmp/snapbench.XXXXXX)
chmod 700 "$T"
MPID=""
cleanup() {
  for d in a b c; do
    [ -f "$T/$d/pycached.pid" ] && kill "$(cat "$T/$d/pycached.pid")" 2>/dev/null || true
  done
  [ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
ROOT=()
[ "$(id -u)" = 0 ] && ROOT=(--user=root)

mariadb-install-db --no-defaults --datadir="$T/data" --auth-root-authentication-method=socket \
  --skip-test-db "${ROOT[@]}" >"$T/install.log" 2>&1
mariadbd --no-defaults --skip-networking --socket="$T/sock" --datadir="$T/data" \
  --log-error="$T/err.log" --innodb-buffer-pool-size=1G --max-allowed-packet=64M \
  "${ROOT[@]}" </dev/null >/dev/null 2>&1 &
MPID=$!
for _ in $(seq 600); do
  mariadb --no-defaults -S "$T/sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.1
done
mariadb --no-defaults -S "$T/sock" -u root -e \
  "CREATE USER pc@localhost IDENTIFIED BY 'bench'; CREATE DATABASE snap;
   GRANT ALL ON snap.* TO pc@localhost;"
printf 'bench\n' >"$T/pw"
chmod 600 "$T/pw"
URL="mysql://pc@localhost/snap?socket=$T/sock"
DB=(--snapshot-to "$URL" --snapshot-password-file "$T/pw")

start() { # DIR LOG ARGS...: start pycached and wait until it serves
  local dir=$1 log=$2
  shift 2
  "$B/pycached" -d "$dir" --log-file "$log" --sync none --max-memory 2G "$@"
  for _ in $(seq 600); do
    grep -q 'serving' "$log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "pycached did not start: $(cat "$log")" >&2
  return 1
}
stop() { # DIR: SIGTERM, and wait until the process is gone
  local pid
  pid=$(cat "$1/pycached.pid")
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# The store: pcbench's load of N string keys of 16 bytes with 64-byte values
# (with its counters and a few collections).
start "$T/a" "$T/a.log" --snapshot-dir "$T/snaps" "${DB[@]}"
"$B/pcbench" -d "$T/a" -n "$N" --members 1000 --coll-keys 10 load >/dev/null
"$B/pcstat" -d "$T/a" snapshot >/dev/null
sq=$(grep -o 'snapshot /[^:]*: [0-9]* keys.* in [0-9]* ms' "$T/a.log" | tail -1)
my=$(grep -o 'snapshot to mysql[^ ]*: [0-9]* keys.* in [0-9]* ms' "$T/a.log" | tail -1)
kill -9 "$(cat "$T/a/pycached.pid")"

start "$T/b" "$T/b.log" --snapshot-dir "$T/snaps"
rsq=$(grep -o 'restored [0-9]* keys from [^ ]* in [0-9]* ms' "$T/b.log")
start "$T/c" "$T/c.log" --restore "$URL" --snapshot-password-file "$T/pw"
rmy=$(grep -o 'restored [0-9]* keys from [^ ]* in [0-9]* ms' "$T/c.log")
stop "$T/b"
stop "$T/c"
size=$(mariadb --no-defaults -S "$T/sock" -u root -N -B -e "SELECT ROUND(SUM(data_length +
  index_length) / 1048576, 1) FROM information_schema.tables WHERE table_schema='snap'
  AND table_name LIKE 'pycache\\_%' AND table_name NOT LIKE 'pycache\\_old\\_%'")
sqsize=$(du -m "$T"/snaps/pycache-*.db | tail -1 | cut -f1)
ms() { sed -E 's/.* in ([0-9]+) ms.*/\1/'; }
keys() { sed -E 's/.*: ([0-9]+) keys.*/\1/'; }
echo "| target | keys | snapshot | size | restore |"
echo "| --- | ---: | ---: | ---: | ---: |"
echo "| SQLite file | $(echo "$sq" | keys) | $(echo "$sq" | ms) ms | ${sqsize} MiB | $(echo "$rsq" | ms) ms |"
echo "| MariaDB $(mariadbd --version | grep -o '[0-9.]*-MariaDB' | head -1) | $(echo "$my" | keys) | $(echo "$my" | ms) ms | ${size} MiB | $(echo "$rmy" | ms) ms |"
