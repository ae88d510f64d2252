#!/bin/bash
# demo.sh - set up (scripts/setup.sh), then the main job: start pycached on a
# throw-away store, store and read a value of every type with pccli, use the
# same store from Python (the pycache package built in ./build/python/lib),
# show what pcstat sees, stop the daemon, and clean up.
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

echo
echo "== the same store from Python (docs/python.md)"
PYTHONPATH="$top/build/python/lib" /usr/bin/python3 - "$store" <<'PY'
import asyncio
import sys

import pycache
from pycache.adapters import Daemon
from pycache.datatypes import List, Numeric, String
from pycache.decorators import cache
from pycache.py_cache import PyCache

store = sys.argv[1]


def show(code, value):
    print(f">>> {code}\n{value!r}")


c = pycache.Client(store)                       # zero-copy reads of the shared map
show('c.get("user:hobbies")', c.get("user:hobbies"))       # what pccli stored
show('c.get("user:profile")', c.get("user:profile"))
show('c.set("py:greeting", "hello from Python", ttl=300)', c.set("py:greeting", "hello from Python", ttl=300))
show('c.incr("user:age")', c.incr("user:age"))
with c.transaction() as t:                      # all or nothing
    t.rpush("user:hobbies", "python")
    t.hset("user:profile", "lang", "python")
show('(with c.transaction() as t: t.rpush(...); t.hset(...)) t.results', t.results)
with c.read() as r:                             # one snapshot; strings as memoryviews into the map
    view = r.get("py:greeting")
    show('bytes(r.get("py:greeting")[:5])', bytes(view[:5]))


async def seed_api():                           # the seed library's API, on the daemon's store
    cache_ = PyCache(Daemon(store))
    async with cache_.session() as session:
        await session.set("seed:name", String("John Doe"))
        await session.set("seed:scores", List([100, 95, 87]))
        await session.set_expire("seed:name", 60)
        show('await session.batch_get(["seed:name", "seed:scores", "nope"])',
             await session.batch_get(["seed:name", "seed:scores", "nope"]))
        show('await session.get_expire("seed:name")', await session.get_expire("seed:name"))
    cache_.close()

asyncio.run(seed_api())


@cache(ttl=60, adapter=Daemon(store), return_type=Numeric)   # computed once across processes
def slow_square(x):
    print("  (computing ...)")
    return x * x

show("slow_square(12)", slow_square(12))
show("slow_square(12)", slow_square(12))
PY
run get py:greeting
run lrange user:hobbies 0 -1

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
