#!/bin/bash
# demo.sh - set up (scripts/setup.sh), then the main job: start pycached on a
# throw-away store, store and read a value of every type with pccli, show
# what pcstat sees, stop the daemon, and clean up.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
cli="$top/build/pccli"
store=$(mktemp -d /dev/shm/pycache-demo.XXXXXX)
stop() {
  [ -f "$store/pycached.pid" ] && pid=$(cat "$store/pycached.pid") && [ -n "$pid" ] &&
    kill "$pid" 2>/dev/null && while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -rf "$store"
}
trap stop EXIT

run() {
  printf '$ pccli %s\n' "$*"
  "$cli" -d "$store" "$@" || printf '(exit %d)\n' $?
}

echo
echo "== pycached on a throw-away store in $store (tmpfs: a pure in-memory cache)"
"$top/build/pycached" -d "$store" --log-file "$store/pycached.log" --log-level notice
echo "pycached is serving (pid $(cat "$store/pycached.pid"))"
run set user:name "John Doe" --ttl 60
run get user:name
run ttl user:name
run set user:age --int 30
run incrby user:age 1
run set price --double 19.99
run get price
run set user:hobbies --list '["reading", "swimming", "coding", 1, 2.5, true, null]'
run rpush user:hobbies sailing
run lrange user:hobbies 0 -1
run set user:profile --map '{"city": "New York", "country": "USA"}'
run hset user:profile zip 10001
run hgetall user:profile
run set tags --set '["c", "lmdb", "cache", 42]'
run sismember tags lmdb
run smembers tags
run set jobs --queue '["job1", "job2"]'
run qpush jobs job3
run qpop jobs
run qlen jobs
run type user:profile
run keys 'user:*'
run mget user:name user:age nosuchkey
run del user:name nosuchkey
run get user:name
run set session:42 token-abc --ttl 300

stat() {
  printf '$ pcstat %s\n' "$*"
  "$top/build/pcstat" -d "$store" "$@" || printf '(exit %d)\n' $?
}
echo
echo "== what pcstat sees"
stat
stat show user:hobbies
stat expiry

echo
echo "== stopping pycached (SIGTERM); its log:"
pid=$(cat "$store/pycached.pid")
kill "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
cat "$store/pycached.log"
