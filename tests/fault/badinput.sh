#!/bin/sh
# tests/fault/badinput.sh: bad input over every entry point -- the API
# (badapi), pccli, pcstat, the config file and pycached's command line --
# against a running pycached whose store must not change.
#
#   badinput.sh            run every case; compare the table it makes with the
#                          one in docs/reliability.md (between the badinput
#                          markers); fail on any difference
#   badinput.sh --update   run every case and rewrite that table
#
# Pass rule for each case: it is refused (non-zero exit status, or a PC_E*
# code from the API), with a message that is not empty, and the store is
# byte for byte what it was (mdb_dump of every database) and still served.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
B=$top_builddir
DOC=$top_srcdir/docs/reliability.md
update=0
[ "${1:-}" = --update ] && update=1

for t in mdb_dump md5sum sqlite3; do
    command -v $t >/dev/null 2>&1 || { echo "badinput: no $t: skipped"; exit 77; }
done
[ -x "$B/pycached" ] && [ -x "$B/pccli" ] || { echo "badinput: pycached or pccli not built"; exit 77; }
[ -x "$B/tests/fault/badapi" ] || { echo "badinput: tests/fault/badapi not built"; exit 99; }

W=$(mktemp -d /dev/shm/pcfault-bad-XXXXXX)
D=$W/store
OUT=$B/tests/fault/badinput.md
mkdir -p "$B/tests/fault"
fails=0
stop() {
    [ -f "$D/pycached.pid" ] && kill "$(cat "$D/pycached.pid")" 2>/dev/null
    [ -f "$W/four/pycached.pid" ] && kill "$(cat "$W/four/pycached.pid")" 2>/dev/null
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -e "$D/pycached.sock" ] || break; sleep 0.2; done
    rm -rf "$W"
}
trap stop EXIT INT TERM

# The default shard count (one per core, up to 8; PCTEST_SHARDS=N gives
# --shards N, as for the other tests): the cases of two keys (rename, lmove,
# smove, bitop, the sorted sets' stores) take keys of one {tag}, {b}s and {b}l
# standing for s and l, so that they meet the check they are there for
# whatever the count; one case (on a store of its own, below) shows the
# refusal of keys of two shards.
"$B/pycached" -d "$D" --sync none --max-value 1M ${PCTEST_SHARDS:+--shards "$PCTEST_SHARDS"} \
    --log-file "$W/log" || { echo "badinput: pycached did not start"; exit 99; }
"$B/pccli" -d "$D" set s hello >/dev/null &&
    "$B/pccli" -d "$D" rpush l a b >/dev/null &&
    "$B/pccli" -d "$D" incrby n 5 >/dev/null &&
    "$B/pccli" -d "$D" set {b}s hello >/dev/null &&
    "$B/pccli" -d "$D" rpush {b}l a b >/dev/null || { echo "badinput: cannot seed the store"; exit 99; }
# Every shard's database.
digest() { for f in "$D"/data-*.mdb; do mdb_dump -n -a "$f" 2>&1; done | md5sum; }
before=$(digest)
dpid=$(cat "$D/pycached.pid")

# Config files, one bad line each.
printf 'sync = sometimes\n' >"$W/bad-value.conf"
printf '# a comment\nbogus-name = 1\n' >"$W/bad-name.conf"
printf 'sync always\n' >"$W/no-equals.conf"
printf '[section]\nsync = none\n' >"$W/section.conf"
printf 'max-memory = 1G\nmax-memory = lots\n' >"$W/bad-size.conf"
printf 'snapshot-every = 10:x\n' >"$W/bad-rule.conf"
printf 'sync = none\n[section]\n' >"$W/section-last.conf"
printf 'sync = none\nspin-us = 1\000\n' >"$W/nul.conf"
printf 'log-file =\n' >"$W/empty-path.conf"
mkfifo "$W/fifo"
# Store directories a neighbour could plant links in (issue 12, finding 1).
mkdir -m 0777 "$W/open" && chmod 0777 "$W/open"
mkdir -m 0700 "$W/linked" && ln -s "$W/log" "$W/linked/data-00.mdb-lock"
long=$(printf 'k%.0s' $(seq 1 251))
# A snapshot that holds one key twice, as TEXT and as BLOB (a daemon's final
# snapshot, edited; pycache never writes that).
"$B/pycached" -d "$W/src" --sync none --snapshot-dir "$W/src-snaps" --log-file "$W/src.log" &&
    "$B/pccli" -d "$W/src" set a 1 >/dev/null &&
    kill "$(cat "$W/src/pycached.pid")" || { echo "badinput: cannot make a snapshot"; exit 99; }
for i in $(seq 1 100); do [ -e "$W/src/pycached.sock" ] || break; sleep 0.1; done
cp "$(ls "$W/src-snaps"/pycache-*.db | head -1)" "$W/twice.db" &&
    sqlite3 "$W/twice.db" "INSERT INTO keys VALUES(CAST('a' AS BLOB), 'string', NULL, 'x');
        UPDATE meta SET value = value + 1 WHERE name = 'key_count';" ||
    { echo "badinput: cannot edit the snapshot"; exit 99; }

: >"$OUT"
# case ENTRY "DISPLAYED INPUT" COMMAND...
case_() {
    entry=$1 shown=$2
    shift 2
    "$@" >"$W/out" 2>"$W/err" </dev/null
    rc=$?
    msg=$(cat "$W/err" "$W/out" | grep -v '^usage:\|^       \|^Try ' | head -1)
    [ -n "$msg" ] || msg=$(head -1 "$W/err")
    msg=$(printf '%s' "$msg" | sed "s|$W|W|g; s|(pid [0-9]*)|(pid N)|g; s/|/\\\\|/g" | cut -c1-150)
    ok=1
    [ $rc -ne 0 ] || ok=0
    [ -z "${want_rc:-}" ] || [ "$rc" = "$want_rc" ] || ok=0
    [ -n "$msg" ] || ok=0
    now=$(digest)
    [ "$now" = "$before" ] || { ok=0; msg="$msg (THE STORE CHANGED)"; before=$now; }
    kill -0 "$dpid" 2>/dev/null || { ok=0; msg="$msg (THE DAEMON DIED)"; }
    if [ $ok = 0 ]; then
        fails=$((fails + 1))
        echo "FAIL: $entry $shown: exit $rc, message '$msg'"
    fi
    printf '| %s | `%s` | exit %s | %s |\n' "$entry" "$shown" "$rc" "$msg" >>"$OUT"
}

P=$B/pycached
case_ pycached "--bogus" "$P" -d "$D" --bogus
case_ pycached "extra-argument" "$P" -d "$D" extra-argument
case_ pycached "--sync sometimes" "$P" -d "$D" --sync sometimes
case_ pycached "--sync-interval 0" "$P" -d "$D" --sync batch --sync-interval 0
case_ pycached "--max-memory 12Q" "$P" -d "$D" --max-memory 12Q
case_ pycached "--max-memory 1K" "$P" -d "$D" --max-memory 1K
case_ pycached "--max-value 2G --max-memory 1G" "$P" -d "$D" --max-value 2G --max-memory 1G
case_ pycached "--max-memory ' -1'" "$P" -d "$D" --max-memory ' -1'
case_ pycached "--max-memory 99999T" "$P" -d "$D" --max-memory 99999T
case_ pycached "--shards 64 --max-memory 4T" "$P" -d "$D" --shards 64 --max-memory 4T
case_ pycached "--max-memory 32M --max-value 64M" "$P" -d "$D" --max-memory 32M --max-value 64M
case_ pycached "--shards 0" "$P" -d "$D" --shards 0
case_ pycached "--shards 65" "$P" -d "$D" --shards 65
case_ pycached "--max-readers 0" "$P" -d "$D" --max-readers 0
case_ pycached "--ring-size 100K" "$P" -d "$D" --ring-size 100K
case_ pycached "--ring-size 32K" "$P" -d "$D" --ring-size 32K
case_ pycached "--ring-size 128M" "$P" -d "$D" --ring-size 128M
case_ pycached "--max-clients 0" "$P" -d "$D" --max-clients 0
case_ pycached "--spin-us abc" "$P" -d "$D" --spin-us abc
case_ pycached "--expire-interval -1" "$P" -d "$D" --expire-interval -1
case_ pycached "--eviction random" "$P" -d "$D" --eviction random
case_ pycached "--evict-at 150" "$P" -d "$D" --evict-at 150
case_ pycached "--max-read-age -1" "$P" -d "$D" --max-read-age -1
case_ pycached "--log-level loud" "$P" -d "$D" --log-level loud
case_ pycached "--allow-group no-such-group" "$P" -d "$D" --allow-group no-such-group
case_ pycached "--allow-ring-only user:no-such-user" "$P" -d "$D" --allow-ring-only user:no-such-user
case_ pycached "--allow-read no-such-user" "$P" -d "$D" --allow-read no-such-user
case_ pycached "--allow-admin group:no-such-group" "$P" -d "$D" --allow-admin group:no-such-group
case_ pycached "--max-clients-per-uid -1" "$P" -d "$D" --max-clients-per-uid -1
case_ pycached "--max-buffers 512K" "$P" -d "$D" --max-buffers 512K
case_ pycached "--client-backlog 1K" "$P" -d "$D" --client-backlog 1K
case_ pycached "--request-timeout soon" "$P" -d "$D" --request-timeout soon
case_ pycached "--snapshot-every 0:5" "$P" -d "$D" --snapshot-every 0:5
case_ pycached "--snapshot-every abc" "$P" -d "$D" --snapshot-every abc
case_ pycached "--snapshot-keep -3" "$P" -d "$D" --snapshot-keep -3
case_ pycached "--snapshot-dir /proc/pycache-snaps" "$P" -d "$W/other" --snapshot-dir /proc/pycache-snaps
# Snapshot directories others can write (issue 12, finding 9): refused before
# anything is read from them or written there.
mkdir -p "$W/open-snaps" "$W/group-snaps" && chmod 0777 "$W/open-snaps" && chmod 0770 "$W/group-snaps"
case_ pycached "--snapshot-dir W/open-snaps (mode 0777)" "$P" -d "$W/other3" --snapshot-dir "$W/open-snaps"
case_ pycached "--snapshot-dir W/group-snaps (mode 0770)" "$P" -d "$W/other4" --snapshot-dir "$W/group-snaps"
case_ pycached "--snapshot-dir /dev/shm (sticky, everyone's)" "$P" -d "$W/other5" --snapshot-dir /dev/shm
case_ pycached "--restore W/none.db" "$P" -d "$W/other2" --restore "$W/none.db"
case_ pycached "--restore W/twice.db (a key twice)" "$P" -d "$W/other6" --restore "$W/twice.db"
# The MariaDB/MySQL target (issue 19): refused before the store is opened,
# on a fresh directory (-f under timeout would show a start).  A password in
# the URL is never repeated, even one that holds '@'.
printf 'pw\n' >"$W/pw-open" && chmod 0644 "$W/pw-open"
printf 'pw\n' >"$W/pw-ok" && chmod 0600 "$W/pw-ok"
printf 'snapshot-to = mysql://pc:s3cret@localhost/cache\n' >"$W/db-password.conf"
printf 'snapshot-to = mysql://pc@localhost/cache\nsnapshot-tls = sometimes\n' >"$W/db-tls.conf"
# The whole output of the case before holds no part of the password $1.
no_password() {
    if grep -q -e "$1" "$W/err" "$W/out"; then
        fails=$((fails + 1))
        echo "FAIL: the password was repeated ($1): $(cat "$W/err" "$W/out")"
    fi
}
want_rc=2
S="timeout 10 $P -f -d $W/fresh"
case_ pycached "--snapshot-to postgres://pc@localhost/cache" $S --snapshot-to postgres://pc@localhost/cache
case_ pycached "--snapshot-to mysql://localhost/cache (no user)" $S --snapshot-to mysql://localhost/cache
case_ pycached "--snapshot-to mysql://pc@localhost (no database)" $S --snapshot-to mysql://pc@localhost
case_ pycached "--snapshot-to mysql://pc@localhost/ (no database)" $S --snapshot-to mysql://pc@localhost/
case_ pycached "--snapshot-to mysql://pc:s3cret@localhost/cache" $S --snapshot-to mysql://pc:s3cret@localhost/cache
no_password s3cret
case_ pycached "--snapshot-to mysql://pc:s3@cr/t@localhost/cache" $S --snapshot-to mysql://pc:s3@cr/t@localhost/cache
no_password cr/t
case_ pycached "--restore mysql://pc:s3cret@localhost/cache" $S --restore mysql://pc:s3cret@localhost/cache
no_password s3cret
case_ pycached "--snapshot-to mysql://pc@db:99999/cache" $S --snapshot-to mysql://pc@db:99999/cache
case_ pycached "--snapshot-to mysql://pc@db:0/cache" $S --snapshot-to mysql://pc@db:0/cache
case_ pycached "--snapshot-to mysql://pc@db:x/cache" $S --snapshot-to mysql://pc@db:x/cache
case_ pycached "--snapshot-to mysql://pc@db/my-cache" $S --snapshot-to mysql://pc@db/my-cache
case_ pycached "--snapshot-to 'mysql://pc@db/cache?socket=/run/s'" $S --snapshot-to 'mysql://pc@db/cache?socket=/run/s'
case_ pycached "--snapshot-to 'mysql://pc@localhost/cache?socket=run/s'" $S --snapshot-to 'mysql://pc@localhost/cache?socket=run/s'
case_ pycached "--snapshot-to 'mysql://pc@db/cache?ssl=1'" $S --snapshot-to 'mysql://pc@db/cache?ssl=1'
case_ pycached "--snapshot-to '' (empty)" $S --snapshot-to ''
case_ pycached "--snapshot-password-file W/none" $S --snapshot-to mysql://pc@db/cache --snapshot-password-file "$W/none"
case_ pycached "--snapshot-password-file W/pw-open (mode 0644)" $S --snapshot-to mysql://pc@db/cache --snapshot-password-file "$W/pw-open"
case_ pycached "--snapshot-password-file W (a directory)" $S --snapshot-to mysql://pc@db/cache --snapshot-password-file "$W"
case_ pycached "--snapshot-password-file W/pw-ok (no --snapshot-to)" $S --snapshot-password-file "$W/pw-ok"
case_ pycached "--snapshot-tls sometimes" $S --snapshot-to mysql://pc@db/cache --snapshot-tls sometimes
case_ pycached "--snapshot-tls-ca W/none.pem" $S --snapshot-to mysql://pc@db/cache --snapshot-tls verify --snapshot-tls-ca "$W/none.pem"
case_ pycached "--snapshot-tls-cert W (a directory)" $S --snapshot-to mysql://pc@db/cache --snapshot-tls-cert "$W"
case_ pycached "--snapshot-tls-key W/none.key" $S --snapshot-to mysql://pc@db/cache --snapshot-tls-key "$W/none.key"
case_ pycached "--snapshot-tls verify (no --snapshot-to)" $S --snapshot-tls verify
case_ "config file" "snapshot-to = mysql://pc:s3cret@localhost/cache" $S -c "$W/db-password.conf"
no_password s3cret
case_ "config file" "snapshot-tls = sometimes (line 2)" $S -c "$W/db-tls.conf"
want_rc=
case_ pycached "-d /etc/passwd (a file)" "$P" -d /etc/passwd
case_ pycached "-d DIR (already served)" "$P" -d "$D"
case_ pycached "-c W/missing.conf" "$P" -d "$D" -c "$W/missing.conf"
# Each of these once started a daemon (or hung): -f on a fresh directory,
# under timeout, shows that.
want_rc=1
case_ pycached "-d W/open (mode 0777)" timeout 10 "$P" -f -d "$W/open"
case_ pycached "-d W/linked (data-00.mdb-lock a link)" timeout 10 "$P" -f -d "$W/linked"
want_rc=2
case_ pycached "-c W (a directory)" timeout 10 "$P" -f -d "$W/fresh" -c "$W"
case_ pycached "-c /dev/zero" timeout 10 "$P" -f -d "$W/fresh" -c /dev/zero
case_ pycached "-c W/fifo (a FIFO)" timeout 10 "$P" -f -d "$W/fresh" -c "$W/fifo"
case_ "config file" "a NUL byte (line 2)" timeout 10 "$P" -f -d "$W/fresh" -c "$W/nul.conf"
case_ "config file" "log-file = (empty)" timeout 10 "$P" -f -d "$W/fresh" -c "$W/empty-path.conf"
want_rc=
case_ "config file" "sync = sometimes" "$P" -d "$D" -c "$W/bad-value.conf"
case_ "config file" "bogus-name = 1" "$P" -d "$D" -c "$W/bad-name.conf"
case_ "config file" "sync always (no =)" "$P" -d "$D" -c "$W/no-equals.conf"
case_ "config file" "[section]" "$P" -d "$D" -c "$W/section.conf"
# A section on the file's last line (once accepted silently: bug 8 of
# docs/reliability.md).  -d names a fresh directory, so that an accepted file
# would show as a start; timeout ends it then.
want_rc=2
case_ "config file" "[section] as the last line" timeout 5 "$P" -f -d "$W/fresh" -c "$W/section-last.conf"
want_rc=
case_ "config file" "max-memory = lots (line 2)" "$P" -d "$D" -c "$W/bad-size.conf"
case_ "config file" "snapshot-every = 10:x" "$P" -d "$D" -c "$W/bad-rule.conf"

C=$B/pccli
case_ pccli "(a bad line on standard input)" sh -c 'printf "get \"s\n" | "$1" -d "$2"' sh "$C" "$D"
case_ pccli "--bogus get s" "$C" --bogus get s
case_ pccli "frobnicate s" "$C" -d "$D" frobnicate s
case_ pccli "get (no key)" "$C" -d "$D" get
case_ pccli "get s extra" "$C" -d "$D" get s extra
case_ pccli "flushall everything" "$C" -d "$D" flushall everything
case_ pccli "set '' v" "$C" -d "$D" set '' v
case_ pccli "set <251 bytes> v" "$C" -d "$D" set "$long" v
case_ pccli "set k v --ttl -5" "$C" -d "$D" set k v --ttl -5
case_ pccli "set k v --ttl abc" "$C" -d "$D" set k v --ttl abc
case_ pccli "set k v --bogus" "$C" -d "$D" set k v --bogus
case_ pccli "lpush s x (a String)" "$C" -d "$D" lpush s x
case_ pccli "incr s (not a number)" "$C" -d "$D" incr s
case_ pccli "incrby n abc" "$C" -d "$D" incrby n abc
case_ pccli "incrby n 99999999999999999999" "$C" -d "$D" incrby n 99999999999999999999
case_ pccli "incrby n 9223372036854775807" "$C" -d "$D" incrby n 9223372036854775807
case_ pccli "incrbyfloat n nan" "$C" -d "$D" incrbyfloat n nan
case_ pccli "incrbyfloat n 1e309" "$C" -d "$D" incrbyfloat n 1e309
case_ pccli "lrange l a b" "$C" -d "$D" lrange l a b
case_ pccli "lindex l abc" "$C" -d "$D" lindex l abc
case_ pccli "lset l 99 x" "$C" -d "$D" lset l 99 x
case_ pccli "expire s 0" "$C" -d "$D" expire s 0
case_ pccli "hset h f (no value)" "$C" -d "$D" hset h f
case_ pccli "-T rpush l '{\"a\":1}'" "$C" -d "$D" -T rpush l '{"a":1}'
case_ pccli "-T rpush l '[1'" "$C" -d "$D" -T rpush l '[1'
case_ pccli "-T rpush l nan" "$C" -d "$D" -T rpush l nan
case_ pccli "-T rpush l 1e999" "$C" -d "$D" -T rpush l 1e999
case_ pccli "-T rpush l '\"\\ud800\"'" "$C" -d "$D" -T rpush l '"\ud800"'
case_ pccli "set k --double 1e-400" "$C" -d "$D" set k --double 1e-400
case_ pccli "set k --double 0x1p3" "$C" -d "$D" set k --double 0x1p3
case_ pccli "set k --int +5" "$C" -d "$D" set k --int +5
case_ pccli "-T rpush l 1e-400" "$C" -d "$D" -T rpush l 1e-400
case_ pccli "set k v EX 0" "$C" -d "$D" set k v EX 0
case_ pccli "set k v EX 5 PX 5" "$C" -d "$D" set k v EX 5 PX 5
case_ pccli "set k v NX XX" "$C" -d "$D" set k v NX XX
case_ pccli "set k v KEEPTTL EX 5" "$C" -d "$D" set k v KEEPTTL EX 5
case_ pccli "set k v EXAT -1" "$C" -d "$D" set k v EXAT -1
case_ pccli "set k --list [1] GET" "$C" -d "$D" set k --list '[1]' GET
case_ pccli "-T set k true" "$C" -d "$D" -T set k true
case_ pccli "getex s EX 0" "$C" -d "$D" getex s EX 0
case_ pccli "getex s FOREVER" "$C" -d "$D" getex s FOREVER
case_ pccli "getdel l (a List)" "$C" -d "$D" getdel l
case_ pccli "rename {b}missing {b}k" "$C" -d "$D" rename {b}missing {b}k
case_ pccli "lmove {b}l {b}s LEFT RIGHT ({b}s a String)" "$C" -d "$D" lmove {b}l {b}s LEFT RIGHT
case_ pccli "lmove {b}l {b}k UP DOWN" "$C" -d "$D" lmove {b}l {b}k UP DOWN
case_ pccli "linsert l NEXT a b" "$C" -d "$D" linsert l NEXT a b
case_ pccli "lpos l a RANK 0" "$C" -d "$D" lpos l a RANK 0
case_ pccli "smove {b}s {b}k a ({b}s a String)" "$C" -d "$D" smove {b}s {b}k a
case_ pccli "hsetnx s f v (s a String)" "$C" -d "$D" hsetnx s f v
case_ pccli "scan nonsense" "$C" -d "$D" scan nonsense
case_ pccli "scan 0 COUNT 0" "$C" -d "$D" scan 0 COUNT 0
case_ pccli "expireat s -5" "$C" -d "$D" expireat s -5
case_ pccli "object freq s" "$C" -d "$D" object freq s
case_ pccli "blpop l -1" "$C" -d "$D" blpop l -1
case_ pccli "-r 0 get s" "$C" -d "$D" -r 0 get s
case_ pccli "-i x -r 2 get s" "$C" -d "$D" -i x -r 2 get s
case_ pccli "--pipe get s" "$C" -d "$D" --pipe get s
case_ pccli "-x (no command)" "$C" -d "$D" -x
case_ pccli "--json get s extra" "$C" -d "$D" --json get s extra
case_ pccli "-d W/nowhere get s" "$C" -d "$W/nowhere" get s
# issue 16
case_ pccli "throttle k 1 0 60" "$C" -d "$D" throttle k 1 0 60
case_ pccli "throttle s 1 1 60 (a String)" "$C" -d "$D" throttle s 1 1 60
case_ pccli "setbit k 4294967296 1" "$C" -d "$D" setbit k 4294967296 1
case_ pccli "setbit k 1 2" "$C" -d "$D" setbit k 1 2
case_ pccli "setbit s 1 1 (a String)" "$C" -d "$D" setbit s 1 1
case_ pccli "bitcount k 0" "$C" -d "$D" bitcount k 0
case_ pccli "bitpos k 2" "$C" -d "$D" bitpos k 2
case_ pccli "bitop nand {b}k {b}s" "$C" -d "$D" bitop nand {b}k {b}s
case_ pccli "bitop not {b}k {b}s {b}l" "$C" -d "$D" bitop not {b}k {b}s {b}l
case_ pccli "bitop or {b}k {b}s (a String)" "$C" -d "$D" bitop or {b}k {b}s
case_ pccli "bf.reserve k 0 100" "$C" -d "$D" bf.reserve k 0 100
case_ pccli "xadd k 0-0 f v" "$C" -d "$D" xadd k 0-0 f v
case_ pccli "xadd k 1-x f v" "$C" -d "$D" xadd k 1-x f v
case_ pccli "xadd k * f (no value)" "$C" -d "$D" xadd k '*' f v g
case_ pccli "xadd k MAXLEN -1 * f v" "$C" -d "$D" xadd k MAXLEN -1 '*' f v
case_ pccli "xadd s * f v (a String)" "$C" -d "$D" xadd s '*' f v
case_ pccli "xtrim k MAXLEN 0 LIMIT 5" "$C" -d "$D" xtrim k MAXLEN 0 LIMIT 5
case_ pccli "xrange k x +" "$C" -d "$D" xrange k x +
case_ pccli "xread STREAMS k 0 1" "$C" -d "$D" xread STREAMS k 0 1
case_ pccli "xgroup create k g \$ (no key)" "$C" -d "$D" xgroup create k g '$'
case_ pccli "xgroup sideways k g" "$C" -d "$D" xgroup sideways k g
case_ pccli "xreadgroup GROUP g c STREAMS k >" "$C" -d "$D" xreadgroup GROUP g c STREAMS k '>'
case_ pccli "xclaim k g c x 1-1" "$C" -d "$D" xclaim k g c x 1-1
case_ pccli "xinfo bogus k" "$C" -d "$D" xinfo bogus k
case_ pccli "bf.reserve k 0.01 -5" "$C" -d "$D" bf.reserve k 0.01 -5
case_ pccli "bf.reserve s 0.01 100 (exists)" "$C" -d "$D" bf.reserve s 0.01 100
case_ pccli "bf.add l x (a List)" "$C" -d "$D" bf.add l x
case_ pccli "bf.exists n x (a Numeric)" "$C" -d "$D" bf.exists n x
# issue 17
case_ pccli "zadd k nan m" "$C" -d "$D" zadd k nan m
case_ pccli "zadd k 1" "$C" -d "$D" zadd k 1
case_ pccli "zadd k nx gt 1 m" "$C" -d "$D" zadd k nx gt 1 m
case_ pccli "zadd k incr 1 a 2 b" "$C" -d "$D" zadd k incr 1 a 2 b
case_ pccli "zadd s 1 m (a String)" "$C" -d "$D" zadd s 1 m
case_ pccli "zincrby k 0x10 m" "$C" -d "$D" zincrby k 0x10 m
case_ pccli "zrange k 0 -1 limit 0 1" "$C" -d "$D" zrange k 0 -1 limit 0 1
case_ pccli "zrange k a b byscore" "$C" -d "$D" zrange k a b byscore
case_ pccli "zrangebylex k a b" "$C" -d "$D" zrangebylex k a b
case_ pccli "zrangebylex k - + withscores" "$C" -d "$D" zrangebylex k - + withscores
case_ pccli "zrank l m (a List)" "$C" -d "$D" zrank l m
case_ pccli "zunionstore {b}k 3 {b}s {b}l" "$C" -d "$D" zunionstore {b}k 3 {b}s {b}l
case_ pccli "zunionstore {b}k 1 {b}l aggregate avg" "$C" -d "$D" zunionstore {b}k 1 {b}l aggregate avg
case_ pccli "zinterstore {b}k 2 {b}s {b}l (not sorted sets)" "$C" -d "$D" zinterstore {b}k 2 {b}s {b}l
case_ pccli "bzpopmin k -1" "$C" -d "$D" bzpopmin k -1
# Keys of two shards: refused, naming both keys and the {tag} way.  On a
# store of 4 shards of its own, whatever the machine's cores, where 'a' and
# 'd' lie apart (3 and 2): the row is the same everywhere.
main_D=$D main_pid=$dpid main_before=$before
D=$W/four
"$B/pycached" -d "$D" --sync none --shards 4 --max-memory 64M --log-file "$W/four.log" ||
    { echo "badinput: pycached --shards 4 did not start"; exit 99; }
dpid=$(cat "$D/pycached.pid")
before=$(digest)
case_ pccli "lmove a d LEFT LEFT (4 shards, a and d in two)" "$C" -d "$D" lmove a d LEFT LEFT
kill "$dpid"
for i in $(seq 1 100); do [ -e "$D/pycached.sock" ] || break; sleep 0.1; done
D=$main_D dpid=$main_pid before=$main_before

S=$B/pcstat
if [ -x "$S" ]; then
    case_ pcstat "--bogus" "$S" -d "$D" --bogus
    case_ pcstat "bogus-subcommand" "$S" -d "$D" bogus-subcommand
    case_ pcstat "-i 0" "$S" -d "$D" -i 0
    case_ pcstat "-i abc" "$S" -d "$D" -i abc
    case_ pcstat "-n 3 (without -i)" "$S" -d "$D" -n 3
    case_ pcstat "expire-interval 99999999" "$S" -d "$D" expire-interval 99999999
    case_ pcstat "expire-interval abc" "$S" -d "$D" expire-interval abc
    case_ pcstat "show (no key)" "$S" -d "$D" show
    case_ pcstat "-d W/nowhere" "$S" -d "$W/nowhere"
fi

# The API: badapi prints its own rows and checks the keys it touched.
if ! "$B/tests/fault/badapi" "$D" >>"$OUT" 2>"$W/err"; then
    fails=$((fails + 1))
    echo "FAIL: the API cases:"
    cat "$W/err"
fi
now=$(digest)
[ "$now" = "$before" ] || { fails=$((fails + 1)); echo "FAIL: the API cases changed the store"; }
kill -0 "$dpid" 2>/dev/null || { fails=$((fails + 1)); echo "FAIL: the daemon died"; }
rows=$(wc -l <"$OUT")

# The table in docs/reliability.md, between the markers.
begin='<!-- badinput:begin (generated by tests/fault/badinput.sh --update) -->'
end='<!-- badinput:end -->'
if [ $update = 1 ]; then
    awk -v b="$begin" -v e="$end" -v f="$OUT" '
        $0 == b { print; print "| entry point | bad input | result | message |";
                  print "| --- | --- | --- | --- |";
                  while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$DOC" >"$W/doc" && cat "$W/doc" >"$DOC"
    echo "badinput: $rows cases; table in $DOC updated"
else
    awk -v b="$begin" -v e="$end" '$0 == e { on = 0 } on && NR > start + 2 { print } $0 == b { on = 1; start = NR }' \
        "$DOC" >"$W/doc-table"
    if ! diff -u "$W/doc-table" "$OUT" >"$W/diff"; then
        fails=$((fails + 1))
        echo "FAIL: docs/reliability.md's bad-input table differs from what the cases give"
        echo "(rerun tests/fault/badinput.sh --update if the change is intended):"
        head -40 "$W/diff"
    fi
fi
echo "badinput: $rows cases, $fails failures"
[ $fails -eq 0 ]
