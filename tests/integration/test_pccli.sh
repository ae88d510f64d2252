#!/bin/sh
# test_pccli.sh - drive pccli as a user would, on a fresh embedded store:
# every command, every exit status, --json output, and bad input (which must
# exit 2 with a message and change nothing).  Run by `make check` with
# $top_builddir and $top_srcdir exported; prints each failure, exits 1 if any.
set -u

# pctest.sh: the real pccli (the libtool wrapper costs ~80 ms a run; it is
# checked below), a clean environment, and counting.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib/pctest.sh"
built "$PCCLI_WRAPPER" "$PYCACHED"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_pccli.XXXXXX") || exit 1
dpid=
trap '[ -z "$dpid" ] || stop_pid "$dpid"; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
S="$tmp/store"
JQ=$(command -v jq 2>/dev/null) || JQ=

# run ARGS...: pccli -d $S --embedded ARGS.  $out gets stdout exactly
# (trailing newlines kept), $got the same without them, $rc the status,
# $tmp/err stderr.  (Few forks per run: the machine may be slow to fork.)
run() {
    out=$("$PCCLI" -d "$S" --embedded "$@" 2>"$tmp/err"
        echo ".$?")
    rc=${out##*.}
    out=${out%.*}
    got=${out%"$nl"}
}
# The first line of stderr, without a fork.
err1() {
    errline=
    IFS= read -r errline <"$tmp/err" || :
    printf '%s' "$errline"
}

# t STATUS STDOUT ARGS...: run pccli ARGS, check status and exact stdout.
t() {
    want_rc=$1
    want_out=$2
    shift 2
    run "$@"
    check "$want_rc" "$want_out" "pccli $*"
}

# t_ttl MAX KEY: `pccli ttl KEY` is MAX or a few seconds less (a loaded
# machine may take seconds between the set and the look).
t_ttl() {
    run ttl "$2"
    checks=$((checks + 1))
    if [ "$rc" != 0 ] || [ "$got" -gt "$1" ] 2>/dev/null || [ "$got" -lt $(($1 - 5)) ] 2>/dev/null ||
        ! [ "$got" -eq "$got" ] 2>/dev/null; then
        fail "pccli ttl $2: expected $(($1 - 5))..$1" "got status $rc, stdout: $got"
    fi
}

# tj STATUS STDOUT ARGS...: as t with --json; the output must also parse.
tj() {
    want_rc=$1
    want_out=$2
    shift 2
    run --json "$@"
    check "$want_rc" "$want_out" "pccli --json $*"
    if [ -n "$want_out" ] && [ -n "$JQ" ]; then
        checks=$((checks + 1))
        printf '%s' "$out" | "$JQ" -e 'true' >/dev/null 2>&1 || fail "pccli --json $*: not JSON: $got"
    fi
}

# terr WORDS ARGS...: pccli ARGS must exit 2, print nothing on stdout and a
# message containing WORDS on stderr.
terr() {
    want_msg=$1
    shift
    run "$@"
    check 2 "" "pccli $* (bad input)"
    case $(err1) in
    *"$want_msg"*) ;;
    *) fail "pccli $*: stderr lacks '$want_msg'" "$(cat "$tmp/err")" ;;
    esac
}

# sorted: a JSON array of simple scalars (no commas inside), its items sorted.
sorted() {
    printf '%s' "$got" | tr -d '[]' | tr ',' '\n' | sort | paste -sd, -
}

# tsort STATUS ITEMS ARGS...: the array printed holds ITEMS (sorted, comma-separated).
tsort() {
    want_rc=$1
    want=$2
    shift 2
    run "$@"
    checks=$((checks + 1))
    if [ "$rc" != "$want_rc" ] || [ "$(sorted)" != "$want" ] || [ -s "$tmp/err" ]; then
        fail "pccli $*" "expected status $want_rc, items $want" "got status $rc, stdout: $got" \
            "stderr: $(cat "$tmp/err")"
    fi
}

# ---- help, version, the wrapper, no daemon --------------------------------
"$PCCLI_WRAPPER" --help >"$tmp/out" 2>"$tmp/err"
rc=$?
got=$(head -n 1 "$tmp/out")
checks=$((checks + 1))
case $rc:$got in
0:usage:\ pccli*) ;;
*) fail "pccli --help (via the libtool wrapper)" "status $rc, first line: $got" ;;
esac
"$PCCLI" -h >"$tmp/out" 2>&1
rc=$?
checks=$((checks + 1))
if [ "$rc" != 0 ] || ! grep -q 'hgetall KEY' "$tmp/out"; then fail "pccli -h" "status $rc"; fi
"$PCCLI" --version >"$tmp/out" 2>&1
rc=$?
checks=$((checks + 1))
if [ "$rc" != 0 ] || ! grep -q '^pccli (pycache) [0-9]' "$tmp/out"; then
    fail "pccli --version" "status $rc"
fi
for args in "--bogus get k" "-d"; do
    # shellcheck disable=SC2086 # split on purpose
    "$PCCLI" $args >"$tmp/out" 2>"$tmp/err"
    rc=$?
    checks=$((checks + 1))
    if [ "$rc" != 2 ] || [ -s "$tmp/out" ] || ! grep -q '^usage: pccli' "$tmp/err"; then
        fail "pccli $args: expected usage on stderr and status 2" "status $rc"
    fi
done

"$PCCLI" -d "$S" get k >"$tmp/out" 2>"$tmp/err"
rc=$?
checks=$((checks + 1))
if [ "$rc" != 2 ] || [ -s "$tmp/out" ] ||
    ! grep -qF "pccli: no daemon is serving $S (start pycached, or use --embedded)" "$tmp/err"; then
    fail "pccli without --embedded: expected the no-daemon message and status 2" \
        "status $rc, stderr: $(cat "$tmp/err")"
fi

# ---- strings and numerics -------------------------------------------------
t 0 "" set s hello
t 0 "hello" get s
t 0 "hello" GET s
t 0 "hello" GeT s
t 1 "" get nosuch
tj 1 "null" get nosuch
tj 0 '"hello"' get s
t 0 "string" type s
tj 0 '"string"' type s
t 0 "" set n --int 42
t 0 "42" get n
t 0 "numeric" type n
t 0 "" set n --int -9223372036854775808
t 0 "-9223372036854775808" get n
t 0 "" set d --double 2
t 0 "2.0" get d
tj 0 "2.0" get d
t 0 "" set d --double 0.1
t 0 "0.1" get d
t 0 "2.6" incrbyfloat d 2.5
t 0 "" set -- -- --nx
t 0 "--nx" get --
t 0 "" set dash -5
t 0 "-5" get dash

# non-UTF-8 bytes: raw with get, the lossy \u00XX rule with --json
t 0 "" set bin "$(printf 'a\377b')"
run get bin
checks=$((checks + 1))
[ "$out" = "$(printf 'a\377b')$nl" ] || fail "get of a non-UTF-8 string prints its bytes"
tj 0 '"a\u00ffb"' get bin
t 0 "" set utf "héllo \"q\" \\ x"
tj 0 '"héllo \"q\" \\ x"' get utf

# set flags: --nx, --xx, --keepttl, --ttl, --ttl-ms
t 1 "" set s other --nx
t 0 "hello" get s
tj 1 "false" set s other --nx
t 1 "" set newkey v --xx
t 1 "" get newkey
t 0 "" set newkey v --nx
t 0 "" set newkey w --xx
t 0 "w" get newkey
tj 0 "true" set tk v --ttl 100
t_ttl 100 tk
run pttl tk
checks=$((checks + 1))
case $rc:$got in
0:9[89][0-9][0-9][0-9] | 0:100000) ;;
*) fail "pttl tk: expected 98000..100000" "got status $rc, stdout: $got" ;;
esac
t 0 "" set tk v2 --keepttl
t_ttl 100 tk
t 0 "" set tk v3
t 0 "-1" ttl tk
t 0 "" set tm v --ttl-ms 60000
t_ttl 60 tm
t 1 "-2" ttl nosuch
t 1 "-2" pttl nosuch
tj 1 "-2" ttl nosuch
t 0 "1" expire tk 50
t 0 "50" ttl tk
t 0 "1" pexpire tk 20000
t 0 "20" ttl tk
t 0 "1" persist tk
t 1 "0" persist tk
t 0 "-1" ttl tk
t 1 "0" expire nosuch 10
t 1 "0" pexpire nosuch 10
t 1 "0" persist nosuch

# counters
t 0 "1" incr c
t 0 "11" incrby c 10
t 0 "10" decr c
t 0 "3" decrby c 7
t 0 "-2" incrby c -5
tj 0 "-2" get c
t 0 "0.5" incrbyfloat c 2.5
t 0 "0.5" get c

# string editing
t 0 "" set str "hello"
t 0 "11" append str " world"
t 0 "11" strlen str
t 0 "0" strlen nosuch
t 0 "hello" getrange str 0 4
t 0 "world" getrange str -5 -1
t 1 "" getrange nosuch 0 1
t 0 "11" setrange str 6 WORLD
t 0 "hello WORLD" get str
t 0 "4" setrange pad 3 x
tj 0 '"\u0000\u0000\u0000x"' get pad
t 0 "hello WORLD" getset str bye
t 0 "bye" get str
t 0 "" getset fresh v
t 0 "v" get fresh

# mset / mget
t 0 "" mset m1 a m2 b
tj 0 "true" mset m3 c
t 0 '{"m1":"a","m2":"b"}' mget m1 nosuch m2 m1
t 1 '{}' mget nosuch
t 0 "" -T mset mi 1 mf 2.5 ms '"x"'
tj 0 '{"mi":1,"mf":2.5,"ms":"x"}' mget mi mf ms

# keys: exists, del, keys
t 0 "2" exists m1 m2 nosuch
t 1 "0" exists nosuch
tj 0 "3" exists m1 m1 m2
t 0 "2" del m1 m2 nosuch
tj 0 "0" del m1
t 1 "0" exists m1 m2
t 0 "" mset ka 1 kb 2 kc 3 xa 4
t 0 "$(printf 'ka\nkb\nkc')" keys 'k?'
tj 0 '["ka","kb","kc"]' keys 'k*'
t 0 "" keys 'nomatch*'
run keys
checks=$((checks + 1))
case $rc$nl$out in
0*"${nl}s$nl"*"${nl}xa$nl"*) ;; # keys come in byte order
*) fail "keys without a glob" "status $rc, stdout: $got" ;;
esac

# ---- lists ------------------------------------------------------------------
t 0 "" set l --list '[1, 2.5, "a", true, null]'
t 0 '[1,2.5,"a",true,null]' get l
tj 0 '[1,2.5,"a",true,null]' get l
t 0 "list" type l
t 0 "5" llen l
t 0 "0" llen nosuch
t 0 '[2.5,"a"]' lrange l 1 2
t 0 '[true,null]' lrange l -2 -1
t 0 '[1,2.5,"a",true,null]' lrange l -100 100
t 0 '[]' lrange nosuch 0 -1
t 0 '[]' lrange l 3 1
t 0 "a" lindex l 2
t 0 "null" lindex l -1
t 1 "" lindex l 5
t 1 "" lindex nosuch 0
tj 0 '"a"' lindex l 2
t 0 "1" lpop l
t 0 "null" rpop l
tj 0 "true" rpop l
t 0 '[2.5,"a"]' lpop l 10
t 1 "" lpop l
t 1 "" rpop l 3
tj 1 "null" lpop l
t 0 "3" rpush l2 a b c
t 0 "5" lpush l2 y z
t 0 '["z","y","a","b","c"]' get l2
t 0 "7" -T rpush l2 1 '"1"'
t 0 '["z","y","a","b","c",1,"1"]' get l2
t 0 '["1",1]' rpop l2 2
t 0 "" lset l2 0 Z
tj 0 "true" lset l2 -1 C
t 0 "" -T lset l2 1 false
t 0 '["Z",false,"a","b","C"]' get l2
t 0 "" ltrim l2 1 3
t 0 '[false,"a","b"]' get l2
tj 0 "true" ltrim l2 0 -1
t 0 "6" -T rpush l3 1 '"1"' 1 2 1 1
t 0 "2" -T lrem l3 2 1
t 0 '["1",2,1,1]' get l3
t 0 "1" -T lrem l3 -1 1
t 0 "0" lrem l3 0 nosuch
t 0 "1" lrem l3 0 1
t 0 '[2,1]' get l3
# more elements than one page (256), negative indices across pages
t 0 "600" -T rpush big $(seq 1 600)
t 0 "[$(seq 301 600 | paste -sd, -)]" lrange big -300 -1
t 0 "[$(seq 1 600 | paste -sd, -)]" get big
t 0 "[600,599,598]" rpop big 3
t 0 "[$(seq 1 597 | paste -sd, -)]" lpop big 1000000000
t 0 "0" llen big
t 1 "none" type big

# ---- maps -------------------------------------------------------------------
t 0 "" set m --map '{"b": 2, "a": "x", "b": 3.5, "t": true, "z": null}'
t 0 '{"a":"x","b":3.5,"t":true,"z":null}' get m
t 0 "map" type m
t 0 "2" hset h f1 v1 f2 v2
t 0 "0" hset h f1 x
t 0 "1" -T hset h n 7
t 0 "x" hget h f1
tj 0 '"x"' hget h f1
t 0 "7" hget h n
t 1 "" hget h nosuch
t 1 "" hget nosuch f
tj 1 "null" hget h nosuch
t 0 "1" hexists h f1
t 1 "0" hexists h nosuch
t 1 "0" hexists nosuch f
t 0 "3" hlen h
t 0 "0" hlen nosuch
t 0 "12" hincrby h n 5
t 0 "5" hincrby h cnt 5
t 0 "12.5" hincrbyfloat h n 0.5
t 0 "1" hdel h f2 nosuch
t 0 '{"cnt":5,"f1":"x","n":12.5}' hgetall h
tj 0 '{"cnt":5,"f1":"x","n":12.5}' hgetall h
t 0 '{}' hgetall nosuch
# more fields than one page
mj='{'
mx='{'
i=1
while [ $i -le 300 ]; do
    f=$(printf 'f%03d' $i)
    mj="$mj\"$f\": $i,"
    mx="$mx\"$f\":$i,"
    i=$((i + 1))
done
t 0 "" set bigm --map "${mj%,}}"
t 0 "300" hlen bigm
t 0 "${mx%,}}" hgetall bigm

# ---- sets -------------------------------------------------------------------
t 0 "" set st --set '["a", "b", "a", 1, true]'
t 0 "set" type st
t 0 "4" scard st
t 0 "1" sadd st c
t 0 "0" sadd st c a
t 0 "1" -T sadd st '"1"'
t 0 "1" sismember st a
t 0 "1" -T sismember st 1
t 0 "1" sismember st 1
t 1 "0" sismember st nosuch
t 1 "0" sismember nosuch a
tsort 0 '"1","a","b","c",1,true' smembers st
t 0 "2" -T srem st 1 true '"nosuch"'
tsort 0 '"1","a","b","c"' smembers st
t 0 "3" sadd st2 b c d
tsort 0 '"1","a","b","c","d"' sunion st st2 nosuch
tsort 0 '"b","c"' sinter st st2
t 0 '[]' sinter st st2 nosuch
tsort 0 '"1","a"' sdiff st st2
tj 0 '["d"]' sdiff st2 st
t 0 '[]' smembers nosuch
t 0 "1" sadd one only
t 0 "only" spop one
t 1 "" spop one
t 1 "" spop nosuch 2
tsort 0 '"b","c","d"' spop st2 5
t 0 "0" scard st2
t 0 "300" -T sadd bigs $(seq 1 300)
run smembers bigs
checks=$((checks + 1))
[ "$(sorted | tr ',' '\n' | sort -n | paste -sd, -)" = "$(seq 1 300 | paste -sd, -)" ] ||
    fail "smembers of 300 members" "got: $got"

# ---- queues -----------------------------------------------------------------
t 0 "" set q --queue '[1, "two"]'
t 0 "queue" type q
t 0 '[1,"two"]' get q
t 0 "4" qpush q 3 4
t 0 "4" qlen q
t 0 "1" qpeek q
tj 0 "1" qpeek q
t 0 "1" qpop q
t 0 '["two","3"]' qpop q 2
t 0 "2" -T qpush q null
t 0 '["4",null]' get q
t 0 '["4",null]' qpop q 5
t 1 "" qpop q
t 1 "" qpeek q
t 0 "0" qlen nosuch

# ---- bad input: exit 2, a message, and nothing changed ------------------------
t 0 "" set k orig
t 0 "1" -T rpush kl 1
terr "nested arrays and objects are not allowed" set k --list '[1, [2]]'
terr "nested arrays and objects are not allowed" set k --map '{"a": {"b": 1}}'
terr "invalid JSON" set k --list '[1,'
terr "invalid JSON" set k --set 'nope'
terr "expected a JSON array" set k --queue '{"a": 1}'
terr "expected a JSON object" set k --map '[1]'
terr "out of range" set k --list '[9223372036854775808]'
terr "out of range" set k --int 9223372036854775808
terr "not an integer: '12abc'" set k --int 12abc
terr "not an integer" set k --int ' 12'
terr "not a number" set k --double 1.5x
terr "not a finite number" set k --double inf
# Numbers out of range or in spellings pccli(1) does not allow (issue 12):
# refused, never stored as something else (1e-400 once became 0.0).
terr "underflow" set uk --double 1e-400
terr "underflow" set uk --double -1e-310
terr "hexadecimal" set uk --double 0x1p3
terr "not a finite number" set uk --double -nan
terr "not a number" set uk --double +1.5
terr "not an integer: '+5'" set uk --int +5
terr "not an integer" set uk --int 0x10
terr "underflow" incrbyfloat ukd 1e-400
terr "underflow" set uk --list '[1, 2.5e-400]'
terr "underflow" -T rpush ukl -1E-999
terr "underflow" set uk --map '{"a": 1e-400}'
t 1 "" get uk
t 0 "" set uk --list '["1e-400", 0e-500, -2.5e-3, 2.2250738585072014e-308]'
tj 0 '["1e-400",0.0,-0.0025,2.2250738585072014e-308]' get uk
t 0 "" set uk --double .5
t 0 "0.5" get uk
t 1 "" get ukd
t 1 "" get ukl
t 0 "1" del uk
terr "bad value" -T rpush kl 99999999999999999999
terr "bad value" -T rpush kl '[1]'
terr "bad value" -T sadd kl '{'
terr "not an integer: '12abc'" incrby c 12abc
terr "not an integer" lrange kl 0 12abc
terr "not an integer" lindex kl x
terr "COUNT must be at least 1" lpop kl 0
terr "must be at least 1" set k v --ttl 0
terr "must be at least 1" set k v --ttl-ms 0
terr "must be at least 1" expire k 0
terr "must be at least 1" pexpire k -5
terr "longer than 100 years" expire k 99999999999
terr "cannot be combined" set k v --nx --xx
terr "cannot be combined" set k v --keepttl --ttl 5
terr "more than one value" set k v w
terr "unknown option" set k --bogus
terr "needs a value" set k v --ttl
terr "wrong arguments" get
terr "wrong arguments" get a b
terr "wrong arguments" set k
terr "wrong arguments" hset h f
terr "wrong arguments" mset a
terr "wrong arguments" lset kl 0
terr "unknown command: frobnicate" frobnicate k
terr "wrong type (PC_EWRONGTYPE)" lpush k x
terr "wrong type (PC_EWRONGTYPE)" hget kl f
terr "wrong type (PC_EWRONGTYPE)" sadd k x
terr "wrong type (PC_EWRONGTYPE)" sunion k
terr "(PC_ENOTNUM)" incrbyfloat k 1
terr "(PC_ENOTINT)" incr d
terr "(PC_ENOTINT)" incr k
terr "(PC_EOVERFLOW)" incrby n -1
terr "(PC_ERANGE)" lset kl 5 x
terr "(PC_ENOTFOUND)" lset nosuch 0 x
terr "(PC_EKEY)" del k ''
terr "(PC_EKEY)" get "$(printf '%0251d' 0)"
t 0 "orig" get k
t 0 "string" type k
t 0 "[1]" get kl
t 1 "0" exists nosuch
t 0 "-9223372036854775808" get n
tj 0 "-1" ttl k

# ---- environment --------------------------------------------------------------
out=$(PYCACHE_DIR="$S" "$PCCLI" --embedded get k 2>"$tmp/err"
    echo ".$?")
rc=${out##*.}
out=${out%.*}
got=${out%"$nl"}
check 0 "orig" "PYCACHE_DIR=\$S pccli --embedded get k"

# ---- flushall, flushdb ---------------------------------------------------------
t 0 "" set fa 1
t 0 "3" rpush fl a b c
t 0 "2" sadd fs x y
t 0 "1" hset fh f v
t 0 "1" expire fa 100
t 0 "" flushall
t 0 "" keys
t 1 "" get fa
t 0 "0" llen fl
t 1 "0" exists fs fh k
t 0 "" set fb 2
t 0 "fb" keys
tj 0 "true" flushdb
t 0 "" keys
t 0 "" FLUSHALL
terr "wrong arguments" flushall now
terr "wrong arguments" flushdb 0
t 0 "" set after 1
t 0 "1" get after

# ---- numbers in Strings (issue 13): a String that holds a number counts ------
t 0 "" set cnt 10
t 0 "10" get cnt
t 0 "string" type cnt
t 0 "11" incr cnt
t 0 "numeric" type cnt
t 0 "" set cnt2 "-5"
t 0 "-15" decrby cnt2 10
t 0 "" set fl 2.5
t 0 "3.0" incrbyfloat fl 0.5
t 0 "1" hset user age 27
t 0 "28" hincrby user age 1
t 0 "28.5" hincrbyfloat user age 0.5
t 0 "" set word abc
terr "value is not an integer" incr word
terr "(PC_ENOTNUM)" incrbyfloat word 1
t 0 "abc" get word
t 0 "" set lead 007
terr "canonical form" incr lead
# a value that looks like a number stays a String, unless -T says otherwise
t 0 "1" sadd nums 1
t 0 "1" -T sadd nums 1
t 0 '["1",1]' smembers nums
t 0 "" set ten 10
t 0 "string" type ten
t 0 "" -T set tenT 10
t 0 "numeric" type tenT
t 0 "" -T set dbl 2.50
tj 0 "2.5" get dbl
terr "neither" -T set bad true
t 0 "10" -T getset tenT 11.5
t 0 "11.5" get tenT

# ---- set with Redis's options ------------------------------------------------
t 0 "" set rk v EX 100
t_ttl 100 rk
t 1 "" set rk v3 NX
t 0 "v" get rk
t 0 "" set rk v3 XX
t 1 "" set rk2 v XX
t 0 "" set rk v4 KEEPTTL
t 0 "v4" get rk
t 0 "" set rk v5 PX 90000
run pttl rk
checks=$((checks + 1))
case $rc:$got in 0:8[5-9][0-9][0-9][0-9] | 0:90000) ;; *) fail "set PX: pttl $got" ;; esac
t 0 "v5" set rk v6 GET
t 0 "v6" get rk
t 1 "" set rk7 v GET XX
t 1 "v6" set rk other NX GET
t 0 "v6" get rk
tj 0 "null" set rk8 v GET
t 0 "v" get rk8
now=$(date +%s)
t 0 "" set rat v EXAT $((now + 3600))
t 0 "$((now + 3600))" expiretime rat
t 0 "" set rpat v PXAT $(((now + 7200) * 1000))
t 0 "$(((now + 7200) * 1000))" pexpiretime rpat
t 0 "" set gone v EXAT $((now - 10))
t 1 "" get gone
t 0 "" set col --list '[1,2]' EX 100
t_ttl 100 col
t 0 "" set dashv -- --nx
t 0 "--nx" get dashv
terr "give one of" set k v EX 5 PX 5
terr "NX and XX" set k v nx xx
terr "KEEPTTL and a TTL" set k v KEEPTTL EX 5

# ---- the string commands of issue 13 ------------------------------------------
t 0 "1" setnx snx a
t 1 "0" setnx snx b
t 0 "a" get snx
t 0 "" setex sx 100 v
t_ttl 100 sx
t 0 "" psetex psx 100000 v
t_ttl 100 psx
t 0 "v" getdel sx
t 1 "" get sx
t 1 "" getdel sx
tj 1 "null" getdel sx
t 0 "v" getex psx
t 0 "v" getex psx EX 500
t_ttl 500 psx
t 0 "v" getex psx PERSIST
t 0 "-1" ttl psx
t 0 "v" getex psx PX 200000
t_ttl 200 psx
t 0 "v" getex psx EXAT $((now + 1000))
t 0 "$((now + 1000))" expiretime psx
t 1 "" getex nosuch EX 5
terr "wrong arguments" getex psx EX
t 0 "1" rpush gdl x
terr "(PC_EWRONGTYPE)" getdel gdl
t 0 '["x"]' get gdl

# ---- keys ------------------------------------------------------------------------
t 0 "" flushall
t 0 "0" dbsize
t 1 "" randomkey
t 0 "" mset a 1 b 2 c 3
t 0 "3" dbsize
run randomkey
checks=$((checks + 1))
case $rc:$got in 0:a | 0:b | 0:c) ;; *) fail "randomkey: $rc $got" ;; esac
t 0 "3" exists a b b
t 0 "2" touch a c nosuch
t 1 "0" touch nosuch
t 0 "2" unlink a b nosuch
t 0 "1" dbsize
t 0 "" rename c d
t 1 "" get c
t 0 "3" get d
terr "no such key" rename c e
t 0 "" -T set e 5
t 1 "0" renamenx d e
t 0 "1" renamenx d f
t 0 "3" get f
t 0 "" set tk v
t 0 "1" expireat tk $((now + 100))
t 0 "$((now + 100))" expiretime tk
t 0 "1" pexpireat tk $(((now + 200) * 1000))
t 0 "$(((now + 200) * 1000))" pexpiretime tk
t 0 "-1" expiretime e
t 1 "-2" expiretime nosuch
t 1 "-2" pexpiretime nosuch
t 1 "0" expireat nosuch $((now + 100))
t 0 "1" expireat tk $((now - 100))
t 1 "" get tk
t 0 "int" object encoding e
t 0 "" -T set dd 1.5
t 0 "double" object encoding dd
t 0 "" set ss x
t 0 "string" object encoding ss
t 1 "" object encoding nosuch
terr "only OBJECT ENCODING" object idletime ss
# scan: a cursor, then a page; "0" when done; every key once
t 0 "" flushall
i=0
keys=
while [ $i -lt 25 ]; do keys="$keys sk$i $i"; i=$((i + 1)); done
# shellcheck disable=SC2086 # split on purpose
t 0 "" mset $keys
cursor=0 all=
n=0
while :; do
    run scan "$cursor" COUNT 7
    n=$((n + 1))
    cursor=${got%%"$nl"*}
    case $got in *"$nl"*) all="$all${got#*"$nl"}$nl" ;; esac
    [ "$rc" = 0 ] && [ "$cursor" != 0 ] && [ $n -lt 20 ] || break
done
checks=$((checks + 1))
[ "$rc" = 0 ] && [ "$(printf '%s' "$all" | sort | uniq | grep -c '^sk')" = 25 ] &&
    [ "$(printf '%s' "$all" | grep -c '^sk')" = 25 ] || fail "scan: every key once" "$all"
run scan 0 MATCH 'sk1*' COUNT 100
checks=$((checks + 1))
[ "$rc" = 0 ] && [ "$got" = "0${nl}sk1${nl}sk10${nl}sk11${nl}sk12${nl}sk13${nl}sk14${nl}sk15${nl}sk16${nl}sk17${nl}sk18${nl}sk19" ] ||
    fail "scan MATCH" "$got"
tj 0 '["0",["sk10","sk11","sk12","sk13","sk14","sk15","sk16","sk17","sk18","sk19"]]' scan 0 MATCH 'sk1?' COUNT 100 TYPE string
t 0 "1" rpush onelist x
tj 0 '["0",["onelist"]]' scan 0 COUNT 100 TYPE list
terr "not a cursor" scan xyz

# ---- lists -----------------------------------------------------------------------
t 0 "5" rpush pl a b c b d
t 0 "1" lpos pl b
t 0 "[1,3]" lpos pl b COUNT 0
t 0 "3" lpos pl b RANK 2
t 0 "3" lpos pl b RANK -1
t 0 "[3,1]" lpos pl b RANK -1 COUNT 2
t 1 "" lpos pl b MAXLEN 1
t 1 "" lpos pl zz
t 0 "[]" lpos pl zz COUNT 0
t 0 "6" linsert pl BEFORE c X
t 0 "7" linsert pl after d Y
t 0 '["a","b","X","c","b","d","Y"]' lrange pl 0 -1
t 1 "-1" linsert pl BEFORE nosuch Z
t 1 "0" linsert nosuch BEFORE a Z
t 0 "a" lmove pl pl2 LEFT RIGHT
t 0 "Y" lmove pl pl2 RIGHT LEFT
t 0 '["Y","a"]' lrange pl2 0 -1
t 0 "a" lmove pl2 pl2 RIGHT LEFT
t 0 '["a","Y"]' lrange pl2 0 -1
t 1 "" lmove nosuch pl2 LEFT LEFT
terr "LEFT or RIGHT" lmove pl pl2 UP DOWN
t 0 "2" qpush bq 1 2
t 0 '["1","2"]' qrange bq 0 -1
t 0 '["2"]' qrange bq -1 -1
t 0 '["bq","1"]' blpop nosuch bq 1
t 0 '["pl","b"]' blpop pl 0.1
t 0 '["pl","d"]' brpop pl 1
t 1 "" blpop nosuch 0.2
t 0 "2" bqpop bq 1
t 1 "" bqpop bq 0.2
t 0 "2" qpush bq 3 4
t 0 '["3","4"]' bqpop bq 1 5

# ---- maps and sets ----------------------------------------------------------------
t 0 "2" hset hm f1 v1 f2 ""
t 0 '["v1",null,""]' hmget hm f1 nosuch f2
t 0 '["f1","f2"]' hkeys hm
t 0 '["v1",""]' hvals hm
t 0 '[]' hkeys nosuch
t 0 "1" hsetnx hm f3 v3
t 1 "0" hsetnx hm f3 other
t 0 "v3" hget hm f3
t 0 "2" hstrlen hm f1
t 0 "0" hstrlen hm nosuch
t 0 "0" hstrlen nosuch f
t 0 "3" sadd sm a b c
t 0 "1" smove sm sm2 a
t 1 "0" smove sm sm2 a
t 0 '["a"]' smembers sm2
t 0 '[1,0,1]' smismember sm b a c
t 0 '[0]' smismember nosuch a
run srandmember sm
checks=$((checks + 1))
case $rc:$got in 0:b | 0:c) ;; *) fail "srandmember: $rc $got" ;; esac
tsort 0 '"b","c"' srandmember sm 5
run srandmember sm -6
checks=$((checks + 1))
[ "$rc" = 0 ] && [ "$(printf '%s' "$got" | tr -d '[]' | tr ',' '\n' | grep -c .)" = 6 ] ||
    fail "srandmember -6: $got"
t 1 "" srandmember nosuch
t 0 '[]' srandmember nosuch 3

# ---- ping, info, dbsize --------------------------------------------------------------
t 0 "PONG" ping
t 0 "hi there" ping "hi there"
run info
checks=$((checks + 1))
case $rc:$out in 0:"# Server${nl}pycache_version:"*"mode:embedded"*"# Keyspace${nl}db0:keys="*) ;;
*) fail "info" "$out" ;; esac
run info keyspace
checks=$((checks + 1))
case $rc:$got in 0:"# Keyspace${nl}db0:keys="*) ;; *) fail "info keyspace" "$got" ;; esac
run --json info server
checks=$((checks + 1))
case $rc:$got in 0:'{"server":{"pycache_version":'*'"mode":"embedded"'*'}}') ;; *) fail "--json info server" "$got" ;; esac
[ -z "$JQ" ] || printf '%s' "$got" | "$JQ" -e .server >/dev/null || fail "--json info: not JSON"

# ---- habits: -x, -r/-i, --pipe, standard input, --json errors, -V, -j -------------------
printf 'a\000b\377\nc' >"$tmp/bin"
out=$("$PCCLI" -d "$S" --embedded -x set xbin <"$tmp/bin" 2>"$tmp/err"; echo ".$?")
rc=${out##*.}; out=${out%.*}; got=${out%"$nl"}
check 0 "" "pccli -x set xbin < binary"
t 0 "6" strlen xbin
"$PCCLI" -d "$S" --embedded get xbin >"$tmp/got" 2>"$tmp/err"
printf '\n' >>"$tmp/bin"
checks=$((checks + 1))
cmp -s "$tmp/bin" "$tmp/got" || fail "get after -x set: the bytes differ" "$(od -c "$tmp/got" | head -3)"
out=$(printf 'tail' | "$PCCLI" -d "$S" --embedded -x rpush xl head 2>"$tmp/err"; echo ".$?")
rc=${out##*.}; out=${out%.*}; got=${out%"$nl"}
check 0 "2" "pccli -x rpush xl head < tail"
t 0 '["head","tail"]' lrange xl 0 -1
t 0 "$(printf '1\n2\n3')" -r 3 incr rcount
t 0 "$(printf '3\n3')" -r 2 -i 0.05 get rcount
out=$(printf 'set p1 v1\nget p1\nincr p2\nbogus x\nset "a b" "c\\x00d"\n' |
    "$PCCLI" -d "$S" --embedded --pipe 2>"$tmp/err"; echo ".$?")
rc=${out##*.}; out=${out%.*}; got=${out%"$nl"}
checks=$((checks + 1))
[ "$rc" = 2 ] && [ "$got" = "errors: 1, replies: 5" ] && grep -q "unknown command: bogus" "$tmp/err" ||
    fail "--pipe" "status $rc, stdout: $got" "stderr: $(cat "$tmp/err")"
t 0 "v1" get p1
t 0 "3" strlen "a b"
out=$(printf 'get p1\n\nrpush "q l" "x y" '"'"'z'"'"'\nlrange "q l" 0 -1\n' |
    "$PCCLI" -d "$S" --embedded 2>"$tmp/err"; echo ".$?")
rc=${out##*.}; out=${out%.*}; got=${out%"$nl"}
check 0 "v1${nl}2${nl}[\"x y\",\"z\"]" "commands from standard input"
out=$(printf 'get "unbalanced\n' | "$PCCLI" -d "$S" --embedded 2>"$tmp/err"; echo ".$?")
rc=${out##*.}; out=${out%.*}; got=${out%"$nl"}
check 2 "" "a line with unbalanced quotes"
run --json lpush p1 x
checks=$((checks + 1))
[ "$rc" = 2 ] && [ -z "$out" ] &&
    [ "$(cat "$tmp/err")" = '{"error":"PC_EWRONGTYPE","command":"lpush","message":"operation against a key holding the wrong type (PC_EWRONGTYPE)"}' ] ||
    fail "--json error on stderr" "$(cat "$tmp/err")"
run -j get
checks=$((checks + 1))
case $rc:$(cat "$tmp/err") in 2:'{"error":"usage","command":"get","message":'*) ;; *) fail "-j usage error" "$(cat "$tmp/err")" ;; esac
[ -z "$JQ" ] || "$JQ" -e .error "$tmp/err" >/dev/null || fail "--json error: not JSON"
"$PCCLI" -V >"$tmp/out" 2>&1
checks=$((checks + 1))
grep -q '^pccli (pycache) [0-9]' "$tmp/out" || fail "pccli -V"
tj 0 '"v1"' get p1

# ---- the interactive mode, through a pseudo-terminal -----------------------------------
# script(1) needs a pseudo-terminal: a chroot without /dev/pts has none.
if ! command -v script >/dev/null 2>&1; then
    echo "test_pccli: no script(1): the interactive mode is not tested"
elif ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
    echo "test_pccli: script(1) cannot open a pseudo-terminal here: the interactive mode is not tested"
else
    printf 'set r1 "hello world"\nget r1\nget nosuch\nhelp get\nhelp @queue\nbogus\nset q "x\nRPUSH rl a b\nquit\nget r1\n' >"$tmp/in"
    PCCLI_HISTFILE="$tmp/hist" timeout 60 script -qec "$PCCLI -d $S --embedded" /dev/null \
        <"$tmp/in" >"$tmp/tty" 2>&1
    rc=$?
    tr -d '\r' <"$tmp/tty" >"$tmp/tty2"
    checks=$((checks + 1))
    ok=1
    for want in "pccli> " "OK" "hello world" "(nil)" "summary: print a value" "bqpop KEY TIMEOUT" \
        "unknown command: bogus (try help)" "unbalanced quotes" ; do
        grep -qF -- "$want" "$tmp/tty2" || { ok=0; fail "interactive mode: no '$want'" "$(cat "$tmp/tty2")"; }
    done
    [ "$rc" = 0 ] || fail "interactive mode: status $rc"
    t 0 '["a","b"]' lrange rl 0 -1
    checks=$((checks + 1))
    grep -q 'hello' "$tmp/hist" 2>/dev/null || fail "interactive mode: no history written"
fi

# ---- through a daemon: the new writes and reads go through the channel -----------
# The default shard count (one per core, or PCTEST_SHARDS): the calls of two
# keys (rename, lmove, smove, bzpopmin) give their keys one {tag}.
D="$tmp/daemon"
"$PYCACHED" --foreground -d "$D" --log-file "$D.log" --sync none --max-memory 32M \
    --max-value 1M </dev/null >/dev/null 2>"$D.err" &
dpid=$!
i=0
until "$PCCLI" -d "$D" ping >/dev/null 2>&1 || [ $i -ge 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
# dr STATUS STDOUT ARGS...: as t, through the daemon.
dr() {
    want_rc=$1
    want_out=$2
    shift 2
    out=$("$PCCLI" -d "$D" "$@" 2>"$tmp/err"; echo ".$?")
    rc=${out##*.}; out=${out%.*}; got=${out%"$nl"}
    check "$want_rc" "$want_out" "pccli (daemon) $*"
}
dr 0 "PONG" ping
dr 0 "" set cnt 10
dr 0 "11" incr cnt
dr 0 "numeric" type cnt
dr 0 "" set {d}k v EX 100 NX
dr 0 "v" getex {d}k PERSIST
dr 0 "-1" ttl {d}k
dr 0 "" rename {d}k {d}k2
dr 0 "3" rpush {d}l a b c
dr 0 "c" lmove {d}l {d}l2 RIGHT LEFT
dr 0 "3" linsert {d}l AFTER a X
dr 0 '["a","X","b"]' lrange {d}l 0 -1
dr 0 "1" lpos {d}l X
dr 0 "1" hsetnx h f v
dr 0 "1" sadd {d}s m
dr 0 "1" smove {d}s {d}s2 m
dr 0 "v" getdel {d}k2
dr 0 "5" dbsize
dr 0 "2" del cnt {d}l
# Keys of two shards without a tag: refused, naming both keys and the {tag}
# way (x0 against x1, x2 ... until two lie apart; none do in one shard).
shards=$("$PCCLI" -d "$D" info 2>/dev/null | sed -n 's/^shards:\([0-9]*\).*/\1/p')
checks=$((checks + 1))
if [ "${shards:-0}" -ge 2 ]; then
    i=1
    while [ $i -le 64 ]; do
        "$PCCLI" -d "$D" lmove x0 "x$i" LEFT LEFT >/dev/null 2>"$tmp/err"
        [ $? = 2 ] && break # (1: no element, the same shard)
        i=$((i + 1))
    done
    case $(cat "$tmp/err") in
    *"'x0' (shard "*"'x$i' (shard "*"lie in different shards of the $shards; give them the same {tag}"*) ;;
    *) fail "lmove x0 x$i across shards through the daemon" "$(cat "$tmp/err")" ;;
    esac
elif [ "${shards:-0}" = 1 ]; then
    "$PCCLI" -d "$D" lmove x0 x1 LEFT LEFT >/dev/null 2>"$tmp/err"
    [ $? = 1 ] || fail "lmove x0 x1 in a store of one shard" "$(cat "$tmp/err")"
else
    fail "info through the daemon: no shards line"
fi
run_info=$("$PCCLI" -d "$D" info 2>&1)
checks=$((checks + 1))
case $run_info in *"# Clients${nl}connected_clients:"*"# Memory${nl}used_memory:"*"# Stats${nl}total_commands_processed:"*"db0:keys=3,expires=0"*) ;;
*) fail "info through the daemon" "$run_info" ;; esac
# wait_blocked: until pcstat shows a client blocked in the daemon (or 60 s;
# counted in seconds, not tries, which take long on a loaded machine; info's
# connected_clients is published periodically, so it is no sign that a pop
# is waiting).
wait_blocked() {
    until_s=$((SECONDS + 60))
    until "$PCSTAT" -d "$D" --json clients 2>/dev/null | grep -q '"blocked": *true' ||
        [ $SECONDS -ge $until_s ]; do
        sleep 0.05
    done
}
# bqpop waits for a push from another client: push once it is blocked
("$PCCLI" -d "$D" bqpop jobs 120 >"$tmp/bq" 2>&1; echo "$?" >"$tmp/bqrc") &
bq=$!
wait_blocked
dr 0 "1" qpush jobs work
wait $bq
checks=$((checks + 1))
[ "$(cat "$tmp/bq")" = work ] && [ "$(cat "$tmp/bqrc")" = 0 ] || fail "bqpop through the daemon" "$(cat "$tmp/bq")"
# bzpopmin too (issue 17): woken by a zadd to its second key
("$PCCLI" -d "$D" bzpopmin {z}q1 {z}q2 120 >"$tmp/bz" 2>&1; echo "$?" >"$tmp/bzrc") &
bz=$!
wait_blocked
dr 0 "2" zadd {z}q2 5 late 1 early
wait $bz
checks=$((checks + 1))
[ "$(cat "$tmp/bz")" = '["{z}q2","early","1"]' ] && [ "$(cat "$tmp/bzrc")" = 0 ] ||
    fail "bzpopmin through the daemon" "$(cat "$tmp/bz")"
stop_pid "$dpid"
dpid=
# ---- issue 16: throttle ---------------------------------------------------------
# tthrottle STATUS "LIMITED LIMIT REMAINING" ARGS...: the first three of the five
# numbers are exact; the two times (ms) must be integers.
tthrottle() {
    want_rc=$1
    want3=$2
    shift 2
    run throttle "$@"
    checks=$((checks + 1))
    set -- $got
    if [ "$rc" != "$want_rc" ] || [ $# != 5 ] || [ "$1 $2 $3" != "$want3" ] ||
        ! [ "$4" -eq "$4" ] 2>/dev/null || ! [ "$5" -ge 0 ] 2>/dev/null; then
        fail "pccli throttle: expected status $want_rc, '$want3 RETRY RESET'" "got status $rc: $got"
    fi
}
t 0 "" set k orig
t 0 "" set d --double 0.5
tthrottle 0 "0 3 2" th 2 1 60
tthrottle 0 "0 3 1" th 2 1 60
tthrottle 0 "0 3 0" th 2 1 60
tthrottle 1 "1 3 0" th 2 1 60
tthrottle 0 "0 3 0" th 2 1 60 0
tthrottle 1 "1 3 0" th 2 1 60 4
tthrottle 0 "0 10 6" th2 9 10 1 4
t 0 "numeric" type th
t_ttl 180 th
t 1 "" get nothrottle
run --json throttle thj 0 1 3600
checks=$((checks + 1))
case $got in "[0,1,0,-1,"*"]") ;; *) fail "pccli --json throttle" "$got" ;; esac
terr "COUNT must be at least 1" throttle th 2 0 60
terr "MAX_BURST must be at least 0" throttle th -1 1 60
terr "PERIOD (seconds) must be at least 1" throttle th 1 1 0
terr "QUANTITY must be at least 0" throttle th 1 1 60 -1
terr "PERIOD is longer than 100 years" throttle th 1 1 99999999999
terr "wrong arguments" throttle th 1 1
terr "wrong type (PC_EWRONGTYPE)" throttle k 1 1 60
terr "(PC_ENOTINT)" throttle d 1 1 60
t 0 "orig" get k

# ---- issue 16: bit arrays -------------------------------------------------------
t 0 "0" setbit bits 7 1
t 0 "1" setbit bits 7 1
t 0 "0" setbit bits 100 1
t 0 "1" getbit bits 7
t 0 "0" getbit bits 8
t 0 "0" getbit nobits 8
t 0 "bits" type bits
t 0 "2" bitcount bits
t 0 "1" bitcount bits 0 0
t 0 "1" bitcount bits 7 7 bit
t 0 "1" bitcount bits -1 -1 BYTE
t 0 "0" bitcount nobits
t 0 "7" bitpos bits 1
t 0 "0" bitpos bits 0
t 0 "100" bitpos bits 1 1
t 0 "-1" bitpos bits 1 2 5
t 0 "100" bitpos bits 1 8 -1 bit
t 0 "-1" bitpos nobits 1
t 0 "13" bitop not {b}n bits
t 0 "13" bitop NOT {b}n bits
t 0 "102" bitcount {b}n
tj 0 "13" bitop or {b}o bits {b}n
t 0 "104" bitcount {b}o
terr "BIT must be 0 or 1" setbit bits 1 2
terr "OFFSET must be at least 0" setbit bits -1 1
terr "OFFSET is past the largest" setbit bits 4294967296 1
terr "OFFSET is not an integer" getbit bits x
terr "expected BYTE or BIT" bitcount bits 0 1 words
terr "wrong arguments" bitcount bits 0
terr "expected AND, OR, XOR or NOT" bitop nand d bits
terr "NOT takes exactly one source key" bitop not d bits bits
terr "wrong arguments" bitop and d
terr "wrong type (PC_EWRONGTYPE)" setbit k 1 1
terr "wrong type (PC_EWRONGTYPE)" bitcount k
terr "wrong type (PC_EWRONGTYPE)" bitop or dnew bits k
t 0 "2" bitcount bits
t 1 "" get dnew

# ---- issue 16: Bloom filters ----------------------------------------------------
t 0 "" bf.reserve bf 0.01 100
tj 0 "true" bf.reserve bf2 0.001 1000 EXPANSION 4
t 0 "" bf.reserve bf3 0.01 10 nonscaling
t 0 "1" bf.add bf apple
t 0 "0" bf.add bf apple
t 0 "1${nl}1${nl}0" bf.madd bf pear plum apple
tj 0 "[1,0]" bf.madd bf fig pear
t 0 "1" bf.exists bf apple
t 1 "0" bf.exists bf kiwi
t 1 "0" bf.exists nobf apple
t 0 "1${nl}0" bf.mexists bf plum kiwi
tj 0 "[1,0]" bf.mexists bf plum kiwi
t 0 "bloom" type bf
t 0 "capacity:100${nl}size:138${nl}filters:1${nl}items:4${nl}expansion:2${nl}error_rate:0.01${nl}nonscaling:no" bf.info bf
tj 0 '{"capacity":10,"size":14,"filters":1,"items":0,"expansion":0,"error_rate":0.01,"nonscaling":true}' bf.info bf3
t 1 "" bf.info nobf
t 0 "1" bf.add auto x
t 0 "capacity:100${nl}size:138${nl}filters:1${nl}items:1${nl}expansion:2${nl}error_rate:0.01${nl}nonscaling:no" bf.info auto
terr "(PC_EEXIST)" bf.reserve bf 0.01 100
terr "ERROR_RATE must be between 0 and 1" bf.reserve nb 1 100
terr "ERROR_RATE is not a number" bf.reserve nb x 100
terr "CAPACITY must be at least 1" bf.reserve nb 0.1 0
terr "EXPANSION must be at least 1" bf.reserve nb 0.1 10 expansion 0
terr "wrong arguments" bf.reserve nb 0.1 10 sideways
terr "wrong arguments" bf.add bf
terr "(PC_ERANGE)" bf.madd bf3 a b c d e f g h i j k l
terr "wrong type (PC_EWRONGTYPE)" bf.add k x
terr "wrong type (PC_EWRONGTYPE)" bf.exists k x
t 1 "" bf.info nb
t 0 "capacity:10${nl}size:14${nl}filters:1${nl}items:0${nl}expansion:0${nl}error_rate:0.01${nl}nonscaling:yes" bf.info bf3

# Streams (issue 17): Redis's commands and arguments.
t 0 "1-1" xadd xs 1-1 f v n 1
t 0 "1-2" xadd xs '1-*' f w
t 0 "5-0" xadd xs 5 f x
terr "equal or smaller than the target stream top item" xadd xs 5-0 f y
terr "equal or smaller than the target stream top item" xadd xs0 0-0 f y
terr "invalid stream ID" xadd xs 5-x f y
terr "FIELD VALUE pairs" xadd xs '*' f v g
t 1 "" xadd xnone NOMKSTREAM '*' f v
t 1 "0" exists xnone
t 0 "stream" type xs
t 0 "3" xlen xs
t 0 "0" xlen nostream
t 0 '[["1-1",["f","v","n","1"]],["1-2",["f","w"]],["5-0",["f","x"]]]' xrange xs - +
t 0 '[["1-2",["f","w"]]]' xrange xs '(1-1' '(5-0'
t 0 '[["1-1",["f","v","n","1"]],["1-2",["f","w"]]]' xrange xs 1 1
t 0 '[["5-0",["f","x"]]]' xrevrange xs + - COUNT 1
t 0 '[]' xrange xs 6 +
t 0 '[]' xrange xs - + COUNT 0
t 0 '[]' xrange nostream - +
tj 0 '[["5-0",["f","x"]]]' xrange xs 2 +
terr "invalid stream ID" xrange xs x +
t 0 '[["xs",[["5-0",["f","x"]]]]]' xread STREAMS xs 1-2
t 0 '[["xs",[["1-2",["f","w"]]]]]' xread COUNT 1 STREAMS xs nostream 1-1 0
t 1 "" xread STREAMS xs '$'
t 1 "" xread BLOCK 50 STREAMS xs '$'
terr "Unbalanced 'xread' list of streams" xread STREAMS xs a b
t 0 "" xgroup CREATE xs g 0
terr "BUSYGROUP" xgroup CREATE xs g 0
terr "requires the key to exist" xgroup CREATE nostream g '$'
t 0 "" xgroup CREATE xe g '$' MKSTREAM
t 0 "0" xlen xe
t 0 '[["xs",[["1-1",["f","v","n","1"]],["1-2",["f","w"]]]]]' xreadgroup GROUP g alice COUNT 2 STREAMS xs '>'
t 0 '[["xs",[["5-0",["f","x"]]]]]' xreadgroup GROUP g bob STREAMS xs '>'
t 1 "" xreadgroup GROUP g bob STREAMS xs '>'
t 1 "" xreadgroup GROUP g bob BLOCK 50 STREAMS xs '>'
t 0 '[["xs",[["5-0",["f","x"]]]]]' xreadgroup GROUP g bob STREAMS xs 0
terr "NOGROUP" xreadgroup GROUP nog bob STREAMS xs '>'
t 0 '[3,"1-1","5-0",[["alice","2"],["bob","1"]]]' xpending xs g
t 0 "1" xack xs g 1-1 9-9
t 0 "0" xack xs g 1-1
t 0 '[["1-2",["f","w"]]]' xclaim xs g carol 0 1-2
t 0 '["1-2"]' xclaim xs g dave 0 1-2 JUSTID
t 0 '["0-0",[["1-2",["f","w"]],["5-0",["f","x"]]],[]]' xautoclaim xs g erin 0 0 COUNT 10
t 0 "2" xdel xs 1-1 1-2
t 0 '["0-0",[["5-0",["f","x"]]],["1-2"]]' xautoclaim xs g erin 0 0
t 0 "length:1${nl}last-generated-id:5-0${nl}max-deleted-entry-id:1-2${nl}entries-added:3${nl}groups:1${nl}first-entry-id:5-0" xinfo STREAM xs
tj 0 '[{"name":"g","consumers":5,"pending":1,"last-delivered-id":"5-0","entries-read":3,"lag":0}]' xinfo GROUPS xs
t 0 "1" xgroup CREATECONSUMER xs g zed
t 0 "0" xgroup CREATECONSUMER xs g zed
t 0 "1" xgroup DELCONSUMER xs g erin
t 0 "" xgroup SETID xs g 0
t 0 "1" xgroup DESTROY xs g
t 0 "0" xgroup DESTROY xs g
t 0 "1" xtrim xs MAXLEN 0
terr "LIMIT cannot be used without the special ~ option" xtrim xs MAXLEN 0 LIMIT 5
t 0 "0" xtrim xs MINID '~' 9 LIMIT 10
terr "wrong type (PC_EWRONGTYPE)" xadd k '*' f v
terr "wrong type (PC_EWRONGTYPE)" xrange k - +
# ---- issue 17: sorted sets --------------------------------------------------------
t 0 "4" zadd zs 1 a 2 b 2 c 3 d
t 0 "0" zadd zs 1 a
t 0 "1" zadd zs ch 5 a
t 0 "0" zadd zs nx 9 a
t 0 "0" zadd zs xx 9 new
t 0 "0" zadd zs gt ch 1 a
t 0 "6" zadd zs incr 1 a
t 1 "" zadd zs nx incr 1 a
t 0 "zset" type zs
t 0 "4" zcard zs
t 0 "0" zcard nozs
t 0 '["b","2","c","2","d","3","a","6"]' zrange zs 0 -1 withscores
tj 0 '["b",2,"c",2,"d",3,"a",6]' zrange zs 0 -1 withscores
t 0 '["a","d"]' zrange zs 0 1 rev
t 0 '["c","d"]' zrange zs "(1" +inf byscore limit 1 2
t 0 '["d","c","b"]' zrange zs 3 -inf byscore rev
t 0 '[]' zrange zs 10 20
t 0 '["a","d"]' zrevrange zs 0 1
t 0 '["b","c"]' zrangebyscore zs -inf "(3"
t 0 '["d","c"]' zrevrangebyscore zs 3 2 limit 0 2
t 0 "1" zrank zs c
t 0 '[1,"3"]' zrevrank zs d withscore
t 1 "" zrank zs nope
t 0 "6" zscore zs a
t 1 "" zscore zs nope
t 0 '["6",null]' zmscore zs a nope
t 0 "2" zcount zs 2 2
t 0 "1" zcount zs "(2" "(6"
t 0 "8" zincrby zs 2 a
t 0 "3" zadd zl 0 x 0 y 0 z
t 0 '["y","z"]' zrangebylex zl "(x" +
t 0 '["z","y"]' zrevrangebylex zl + "[y"
t 0 "2" zlexcount zl - "[y"
t 0 '["b","2"]' zpopmin zs
t 0 '["a","8","d","3"]' zpopmax zs 2
t 0 '[]' zpopmin nozs
t 0 "2" zadd zm -inf lo +inf hi
t 0 '["lo","-inf","hi","inf"]' zrange zm 0 -1 withscores
tj 0 '["lo","-inf","hi","inf"]' zrange zm 0 -1 withscores
t 0 '["zm","lo","-inf"]' bzpopmin nozs zm 1
t 1 "" bzpopmax nozs 0.05
t 0 "4" zunionstore zu 2 zl zm weights 2 1 aggregate max
t 0 '["x","0","y","0","z","0","hi","inf"]' zrange zu 0 -1 withscores
t 0 "3" zinterstore zi 2 zu zl
t 0 "1" zdiffstore zd 2 zu zl
t 0 "2" zrangestore zr zu 0 1
t 0 '["x","y"]' zrange zr 0 -1
t 0 "1" zremrangebyrank zu 0 0
t 0 "1" zremrangebyscore zu "(0" inf
t 0 "1" zremrangebylex zu - "[y"
t 0 '["z"]' zrange zu 0 -1
terr "not a number" zadd zs nan a
terr "not a number" zadd zs x a
terr "wrong arguments" zadd zs 1
terr "INCR option supports a single" zadd zs incr 1 a 2 b
terr "(PC_EINVAL)" zadd zs nx xx 1 a
terr "LIMIT is only supported" zrange zs 0 -1 limit 0 1
terr "a lex bound is" zrangebylex zl a b
terr "wrong type (PC_EWRONGTYPE)" zadd k 1 a
terr "wrong type (PC_EWRONGTYPE)" zrange k 0 -1
terr "NUMKEYS is 3 but 2 keys follow" zunionstore d 3 zl zm
t 0 "1" zcard zs

echo "test_pccli: $checks checks, $fails failed"
[ "$fails" = 0 ]
