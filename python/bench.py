#!/usr/bin/env python3
"""bench.py: pycache's Python binding beside redis-py, in one run.

Starts its own pycached (a store on tmpfs, --sync none) and redis-server
(a Unix socket, no persistence), loads the same keys into both, and times
the same calls against each from this one Python process:

  get           a hit: Client.get(key)            / redis.Redis.get(key)
  set           an acknowledged write             / SET
  batch_get 10  Client.get_many(10 keys) -> dict  / MGET, made into the same dict
  asyncio get   await AsyncClient.get(key)        / await redis.asyncio.Redis.get(key)
  session get   await session.get(key) (the seed's API on Daemon; no Redis row)

Calls are timed in groups of --group (100) with time.perf_counter_ns, and a
group's time divided by its size is one sample: p50 and p99 are over those
samples, which include the Python loop around each call (tens of ns).  Both
clients return str (redis-py with decode_responses=True).

  PYTHONPATH=build/python/lib /usr/bin/python3 python/bench.py \\
      --pycached build/pycached [--keys 100000] [--out report.md]

(`make bench-python` in the build directory runs it so.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import pycache
from pycache.adapters import Daemon
from pycache.py_cache import PyCache

try:
    import redis
    import redis.asyncio as aredis
except ImportError:  # pragma: no cover - said clearly below
    redis = None


def tmpfs() -> Optional[str]:
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            sys.exit(f"bench: timed out waiting for {what}")
        time.sleep(0.01)


class Servers:
    """pycached and redis-server in a temporary directory of their own."""

    def __init__(self, pycached: str, redis_server: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="pycache-bench-", dir=tmpfs())
        self.store = os.path.join(self.dir, "store")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.procs: List[subprocess.Popen] = []
        os.mkdir(self.store, 0o700)
        self.procs.append(subprocess.Popen(
            [pycached, "--foreground", "-d", self.store, "--sync", "none",
             "--log-file", os.path.join(self.dir, "pycached.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        self.procs.append(subprocess.Popen(
            [redis_server, "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))

        def pycache_up() -> bool:
            try:
                pycache.Client(self.store, ring_only=True).close()
                return True
            except (pycache.NotServedError, pycache.StoreNotFoundError):
                return False

        wait_for(pycache_up, 30, "pycached")
        wait_for(lambda: os.path.exists(self.sock), 30, "redis-server")

    def close(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def stats(samples: List[float], ops: int, seconds: float) -> Dict[str, float]:
    samples.sort()
    return {"p50": statistics.median(samples) * 1e6,
            "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1e6,
            "ops": ops / seconds}


def timed(call: Callable[[Any], Any], args: List[Any], group: int) -> Dict[str, float]:
    """Time call(a) for every a of args, in groups."""
    samples = []
    clock = time.perf_counter_ns
    t0 = clock()
    for i in range(0, len(args) - group + 1, group):
        chunk = args[i:i + group]
        start = clock()
        for a in chunk:
            call(a)
        samples.append((clock() - start) / 1e9 / group)
    return stats(samples, len(samples) * group, (clock() - t0) / 1e9)


async def atimed(call: Callable[[Any], Any], args: List[Any], group: int) -> Dict[str, float]:
    samples = []
    clock = time.perf_counter_ns
    t0 = clock()
    for i in range(0, len(args) - group + 1, group):
        chunk = args[i:i + group]
        start = clock()
        for a in chunk:
            await call(a)
        samples.append((clock() - start) / 1e9 / group)
    return stats(samples, len(samples) * group, (clock() - t0) / 1e9)


Row = Tuple[str, Dict[str, float], Optional[Dict[str, float]]]


def run(opts: argparse.Namespace) -> Tuple[List[Row], Dict[str, str]]:
    servers = Servers(opts.pycached, opts.redis_server)
    try:
        return measure(opts, servers)
    finally:
        servers.close()


def measure(opts: argparse.Namespace, servers: Servers) -> Tuple[List[Row], Dict[str, str]]:
    rng = random.Random(opts.seed)
    keys = [f"key:{i:012d}" for i in range(opts.keys)]  # 16 bytes
    value = "v" * opts.value_size
    pc = pycache.Client(servers.store)
    rc = redis.Redis(unix_socket_path=servers.sock, decode_responses=True)
    # load both
    for i in range(0, len(keys), 1000):
        with pc.batch() as b:
            for k in keys[i:i + 1000]:
                b.set(k, value)
        rc.mset({k: value for k in keys[i:i + 1000]})
    assert pc.get(keys[-1]) == value and rc.get(keys[-1]) == value
    info = {"redis": rc.info("server")["redis_version"], "redis_py": redis.__version__}

    def sample(n: int) -> List[str]:
        return [keys[rng.randrange(len(keys))] for _ in range(n)]

    g = opts.group
    rows = []
    fast, slow = opts.ops, max(opts.ops // 20, g * 20)
    # warm up: map the store's pages, open redis's connection
    for k in sample(min(len(keys), 20000)):
        pc.get(k)
    for k in sample(500):
        rc.get(k)

    rows.append(("get (hit)", timed(pc.get, sample(fast), g), timed(rc.get, sample(slow), g)))
    rows.append(("set (acknowledged)",
                 timed(lambda k: pc.set(k, value), sample(slow), g),
                 timed(lambda k: rc.set(k, value), sample(slow), g)))
    batches = [sample(10) for _ in range(max(fast // 10, g * 20))]

    def redis_batch_get(ks: List[str]) -> Dict[str, str]:
        return {k: v for k, v in zip(ks, rc.mget(ks)) if v is not None}

    rows.append(("batch_get of 10", timed(pc.get_many, batches, g),
                 timed(redis_batch_get, batches[:slow // 10 + g * 20], g)))

    async def aio() -> Tuple[Dict[str, float], Dict[str, float], Dict[str, float]]:
        ac = pycache.AsyncClient(client=pc)
        ar = aredis.Redis(unix_socket_path=servers.sock, decode_responses=True)
        for k in sample(500):
            await ar.get(k)
        mine = await atimed(ac.get, sample(fast), g)
        theirs = await atimed(ar.get, sample(slow), g)
        await ar.close()
        cache = PyCache(Daemon(servers.store))
        async with cache.session() as s:
            seed = await atimed(s.get, sample(fast), g)
        cache.close()
        return mine, theirs, seed

    mine, theirs, seed = asyncio.run(aio())
    rows.append(("asyncio get (hit)", mine, theirs))
    rows.append(("seed session.get (asyncio, Daemon)", seed, None))
    pc.close()
    rc.close()
    return rows, info


def report(rows: List[Row], info: Dict[str, str], opts: argparse.Namespace) -> str:
    lines = [
        f"pycache Python binding beside redis-py {info['redis_py']} (Redis {info['redis']}, "
        f"Unix socket), one process, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}; {opts.keys:,} keys of "
        f"16 B, {opts.value_size} B values; groups of {opts.group} calls",
        "",
        "| call | pycache p50 | p99 | ops/s | redis-py p50 | p99 | ops/s | pycache vs redis-py "
        "(p50) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, p, r in rows:
        cells = [name, f"{p['p50']:.2f} µs", f"{p['p99']:.2f} µs", f"{p['ops']:,.0f}"]
        if r is None:
            cells += ["—", "—", "—", "—"]
        else:
            ratio = r["p50"] / p["p50"]
            cells += [f"{r['p50']:.2f} µs", f"{r['p99']:.2f} µs", f"{r['ops']:,.0f}",
                      f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower"]
        lines.append("| " + " | ".join(cells) + " |")
    get, aget = rows[0], rows[3]
    lines += [
        "",
        "Targets (issue 18): get hit ≤ 1.5 µs median: "
        f"{get[1]['p50']:.2f} µs, {'met' if get[1]['p50'] <= 1.5 else 'MISSED'}; "
        f"≥ 20× redis-py GET: {get[2]['p50'] / get[1]['p50']:.1f}×, "
        f"{'met' if get[2]['p50'] / get[1]['p50'] >= 20 else 'MISSED'}; "
        f"asyncio get ≥ 10× redis.asyncio: {aget[2]['p50'] / aget[1]['p50']:.1f}×, "
        f"{'met' if aget[2]['p50'] / aget[1]['p50'] >= 10 else 'MISSED'}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pycached", default=shutil.which("pycached") or "pycached",
                    help="the pycached to start (default: on PATH)")
    ap.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--keys", type=int, default=100000, help="keys loaded (100000)")
    ap.add_argument("--value-size", type=int, default=64, help="bytes per value (64)")
    ap.add_argument("--ops", type=int, default=200000,
                    help="calls timed for pycache's reads (200000; a twentieth for the rest)")
    ap.add_argument("--group", type=int, default=100, help="calls per timed group (100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    ap.add_argument("--out", help="also write the report to this file")
    opts = ap.parse_args()
    if redis is None:
        sys.exit("bench: redis-py is missing: apt-get install python3-redis")
    for prog in (opts.pycached, opts.redis_server):
        if not (os.path.exists(prog) or shutil.which(prog)):
            sys.exit(f"bench: cannot find {prog} (apt-get install redis-server; --pycached PATH)")
    if opts.quick:
        opts.keys, opts.ops, opts.group = min(opts.keys, 2000), min(opts.ops, 4000), 10
    rows, info = run(opts)
    text = report(rows, info, opts)
    sys.stdout.write(text)
    if opts.out:
        with open(opts.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
