"""asyncio: reads and writes inline, long waits off the loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

import pycache
import pycache.aio
from pycache import errors
from pycache.adapters import Daemon
from pycache.aio import _PopWait
from pycache.datatypes import Numeric, String
from pycache.py_cache import PyCache


@pytest.fixture
async def aclient(store: str):
    c = pycache.AsyncClient(store)
    yield c
    await c.aclose()


@pytest.fixture
def no_executor(monkeypatch: pytest.MonkeyPatch):
    """Fail any hop to the loop's executor: what runs inline must not take one."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("an executor hop")

    monkeypatch.setattr(asyncio.BaseEventLoop, "run_in_executor", refuse)


async def test_calls_run_inline(aclient: pycache.AsyncClient, no_executor) -> None:
    assert await aclient.set("k", "v", 10) is True
    assert await aclient.get("k") == "v"
    assert await aclient.incr("n", 5) == 5
    assert await aclient.rpush("l", 1, 2) == 2 and await aclient.lrange("l") == [1, 2]
    assert await aclient.get_many(["k", "n", "zz"]) == {"k": "v", "n": 5}
    assert 0 < await aclient.ttl("k") <= 10
    assert await aclient.qpop_wait("q", 0) is None  # no wait: inline too
    cache = PyCache(Daemon(aclient.client.dir))
    async with cache.session() as s:
        await s.set("seed", String("inline"))
        assert await s.get("seed") == "inline"
        async with s.with_transaction() as tx:
            await tx.set("n", Numeric(1))
    cache.close()


async def test_a_wait_does_not_block_the_loop(aclient: pycache.AsyncClient) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    t = asyncio.get_running_loop().create_task(ticker())
    t0 = time.monotonic()
    assert await aclient.qpop_wait("q", 0.5) is None
    assert time.monotonic() - t0 >= 0.49 and ticks >= 20  # the loop ran all along
    t.cancel()


async def test_a_push_wakes_the_waiter(aclient: pycache.AsyncClient) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, aclient.client.qpush, "q", "job")
    t0 = time.monotonic()
    assert await aclient.qpop_wait("q", 30) == "job"
    assert time.monotonic() - t0 < 10
    loop.call_later(0.05, aclient.client.qpush, "q", "a", "b", "c")
    assert await aclient.qpop_wait("q", None, 2) == ["a", "b"]
    assert await aclient.qpop_wait("q", 1, 5) == ["c"]


async def test_no_timeout_waits_until_an_element_comes(aclient: pycache.AsyncClient) -> None:
    task = asyncio.ensure_future(aclient.qpop_wait("q", None))
    await asyncio.sleep(0.35)  # several of the waiting thread's 100 ms slices
    assert not task.done()
    await aclient.qpush("q", "late")
    assert await asyncio.wait_for(task, 30) == "late"


def test_an_abandoned_wait_lets_the_program_exit(store: str) -> None:
    """A wait whose loop closed without cancelling it must not hold up exit."""
    script = (
        "import asyncio, sys, pycache\n"
        "ac = pycache.AsyncClient(sys.argv[1])\n"
        "loop = asyncio.new_event_loop()\n"
        "loop.create_task(ac.qpop_wait('q', None))\n"
        "loop.run_until_complete(asyncio.sleep(0.2))\n"
        "loop.close()\n"
        "print('bye')\n")
    done = subprocess.run([sys.executable, "-c", script, store], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "bye\n", done.stderr


async def test_many_waiters(aclient: pycache.AsyncClient) -> None:
    waiters = [asyncio.ensure_future(aclient.qpop_wait("q", 30)) for _ in range(20)]
    await aclient.qpush("q", *range(20))  # some wait already, some will find theirs
    assert sorted(await asyncio.gather(*waiters)) == list(range(20))


async def test_cancelled_waiter_loses_nothing(aclient: pycache.AsyncClient) -> None:
    task = asyncio.ensure_future(aclient.qpop_wait("q", 30))
    deadline = time.monotonic() + 30
    while not pycache.aio.waiting() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # pushed before or after the waiting thread saw the cancellation: kept either way
    await aclient.qpush("q", "kept")
    deadline = time.monotonic() + 30
    while pycache.aio.waiting() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    assert pycache.aio.waiting() == 0
    await asyncio.sleep(0)  # the loop runs what the thread handed it (a push back)
    assert await aclient.qrange("q") == ["kept"]
    # the instant case: an element popped for a task cancelled meanwhile goes back
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    job = _PopWait(aclient.client, "q", 1, None, loop, fut)
    fut.cancel()
    job._settle("popped", None)
    assert await aclient.qrange("q") == ["kept", "popped"]


async def test_errors_reach_the_awaiter(aclient: pycache.AsyncClient) -> None:
    await aclient.set("s", "not a queue")
    with pytest.raises(errors.WrongTypeError):
        await aclient.qpop_wait("s", 5)


async def test_batches_and_transactions(aclient: pycache.AsyncClient) -> None:
    async def meddler() -> None:
        await aclient.set("other", 1)

    async with aclient.transaction() as t:
        t.require_absent("a")
        t.set("a", 1)
        await meddler()  # another task's write, while this block awaits
        t.incr("a")
    assert t.results == [True, 2] and await aclient.get("other") == 1
    async with aclient.batch() as b:
        b.set("x", "y")
        b.lpop("missing")
    assert b.results == [True, None]
    with pytest.raises(errors.ConflictError):
        async with aclient.transaction() as t:
            t.require_absent("a")
            t.set("a", 5)
    with pytest.raises(AttributeError):
        aclient.batch().get  # reads are not queued
    assert await aclient.get("a") == 2
