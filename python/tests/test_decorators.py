"""The seed's decorators: cache computes once across processes (single
flight), rate_limit counts atomically across processes."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Callable, List

import pytest

import pycache
from pycache.adapters import Daemon, InMemory
from pycache.datatypes import Numeric
from pycache.decorators import cache, get_hash_key, rate_limit

from conftest import wait_for

N_PROCS = 6


def run_children(dir: str, n: int, body: Callable[[int], None]) -> None:
    """Fork n children that start body(i) together (a barrier in the store);
    every one must exit 0."""
    pids: List[int] = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                c = pycache.Client(dir)
                c.incr("ready")
                deadline = time.monotonic() + 60
                while not c.exists("go") and time.monotonic() < deadline:
                    time.sleep(0.001)
                body(i)
                code = 0
            except BaseException as e:
                os.write(2, f"child {i}: {type(e).__name__}: {e}\n".encode())
            finally:
                os._exit(code)
        pids.append(pid)
    c = pycache.Client(dir)
    try:
        wait_for(lambda: c.get("ready") == n, 60, "the children to be ready")
        c.set("go", 1)
    finally:
        statuses = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
        c.close()
    assert statuses == [0] * n


def test_cache_hits_and_misses(store: str) -> None:
    adapter = Daemon(store)
    calls = []

    @cache(ttl=60, adapter=adapter, return_type=Numeric)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    assert square(3) == 9 and square(3) == 9 and square(4) == 16
    assert calls == [3, 4]
    key = get_hash_key("cache_result", square.__wrapped__, 3)
    assert 0 < adapter.client().ttl(key) <= 60
    assert square.__name__ == "square"

    @cache(adapter=adapter)  # the seed's default return type: String
    def name(x: int) -> int:
        return x

    assert name(5) == 5 and name(5) == "5"  # a hit returns what was stored
    adapter.close()


def test_cache_defaults_and_checks() -> None:
    @cache()
    def f() -> str:
        return "x"

    assert f() == "x" and f() == "x"
    with pytest.raises(TypeError):
        cache(adapter="not an adapter")
    with pytest.raises(TypeError):
        cache(return_type=int)


def test_cache_single_flight_across_processes(store: str) -> None:
    @cache(ttl=60, adapter=Daemon(store), return_type=Numeric)
    def slow(x: int) -> int:
        c = pycache.Client(store)
        c.incr("runs")
        time.sleep(0.3)  # long enough that every child misses while it runs
        return x + 1

    def child(i: int) -> None:
        assert slow(41) == 42
        pycache.Client(store).rpush("answers", 42)

    run_children(store, N_PROCS, child)
    c = pycache.Client(store)
    assert c.get("runs") == 1 and c.lrange("answers") == [42] * N_PROCS


def test_cache_single_flight_async_across_processes(store: str) -> None:
    @cache(ttl=60, adapter=Daemon(store), return_type=Numeric)
    async def slow(x: int) -> int:
        pycache.Client(store).incr("runs")
        await asyncio.sleep(0.3)
        return x * 2

    def child(i: int) -> None:
        async def main() -> None:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            t = asyncio.ensure_future(ticker())
            assert await slow(21) == 42
            t.cancel()
            assert ticks >= 5  # waiting never blocked the loop

        asyncio.run(main())

    run_children(store, N_PROCS, child)
    assert pycache.Client(store).get("runs") == 1


async def test_cache_waiters_in_one_loop(store: str) -> None:
    runs = []

    @cache(adapter=Daemon(store), return_type=Numeric)
    async def slow() -> int:
        runs.append(1)
        await asyncio.sleep(0.2)
        return 7

    assert await asyncio.gather(*(slow() for _ in range(10))) == [7] * 10
    assert runs == [1]


def test_a_failed_leader_lets_another_compute(store: str) -> None:
    attempts = []

    @cache(adapter=Daemon(store), return_type=Numeric)
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first try fails")
        return 1

    with pytest.raises(RuntimeError):
        flaky()
    assert flaky() == 1 and len(attempts) == 2


def test_a_dead_leader_is_waited_for_until_its_lock_expires(store: str) -> None:
    @cache(adapter=Daemon(store), return_type=Numeric, lock_ttl=0.5)
    def f() -> int:
        return 3

    key = get_hash_key("cache_result", f.__wrapped__)
    c = pycache.Client(store)
    c.set(key + ":flight", "a process that died", 0.3)  # its lock, left behind
    t0 = time.monotonic()
    assert f() == 3
    assert time.monotonic() - t0 >= 0.25


def test_rate_limit(store: str) -> None:
    adapter = Daemon(store)

    @rate_limit(limit=3, ttl=1, adapter=adapter)
    def ping(x: int) -> int:
        return x

    assert [ping(1), ping(1), ping(1)] == [1, 1, 1]
    with pytest.raises(Exception, match="Rate limit exceeded"):
        ping(1)
    assert ping(2) == 2  # another key: other arguments
    key = get_hash_key("rate_limit", ping.__wrapped__, 1)
    wait_for(lambda: not adapter.client().exists(key), 10, "the window to end")
    assert ping(1) == 1

    class Slow(Exception):
        pass

    @rate_limit(limit=1, ttl=60, get_key=lambda: "fixed", exception=Slow, adapter=adapter)
    async def once() -> str:
        return "ok"

    @rate_limit(limit=1, ttl=60, get_key=lambda user: f"user:{user}", exception=Slow(),
                adapter=adapter)
    def per_user(user: str) -> str:
        return user

    assert asyncio.run(once()) == "ok"
    with pytest.raises(Slow):
        asyncio.run(once())
    assert per_user("a") == "a" and per_user("b") == "b"
    with pytest.raises(Slow):
        per_user("a")

    @rate_limit(adapter=adapter)  # limit -1: no limit
    def free() -> int:
        return 1

    assert sum(free() for _ in range(20)) == 20
    adapter.close()


def test_rate_limit_is_atomic_across_processes(store: str) -> None:
    limit, calls = 10, 5

    @rate_limit(limit=limit, ttl=60, get_key=lambda: "shared", adapter=Daemon(store))
    def work() -> None:
        pass

    def child(i: int) -> None:
        c = pycache.Client(store)
        for _ in range(calls):
            try:
                work()
                c.incr("allowed")
            except Exception:
                c.incr("refused")

    run_children(store, N_PROCS, child)
    c = pycache.Client(store)
    assert c.get("allowed") == limit and c.get("refused") == N_PROCS * calls - limit
    assert c.get("shared") == limit


def test_decorators_default_to_one_inmemory() -> None:
    @rate_limit(limit=1, ttl=60, get_key=lambda: "only-once")
    def once() -> int:
        return 1

    assert once() == 1
    with pytest.raises(Exception):
        once()
    from pycache import decorators

    assert isinstance(decorators._default, InMemory)
