"""Threads share a Client (one connection each); a forked child refuses the
parent's Client with ForkError, and the seed API's adapters reopen there."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

import pycache
from pycache import errors
from pycache.adapters import Daemon, InMemory
from pycache.datatypes import String
from pycache.py_cache import PyCache

from conftest import wait_for


def test_threads_share_a_client(client: pycache.Client) -> None:
    n_threads, n_incr = 8, 500

    def work() -> None:
        for _ in range(n_incr):
            client.incr("counter")
        with client.transaction() as t:  # a transaction is the thread's own
            t.incr("tx")

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.get("counter") == n_threads * n_incr and client.get("tx") == n_threads
    assert client._handles() <= n_threads + 1
    # connections of threads that have ended go when another thread connects
    t = threading.Thread(target=lambda: client.get("counter"))
    t.start()
    t.join()
    assert client._handles() <= 2


def test_a_blocking_pop_releases_the_gil(client: pycache.Client) -> None:
    got = []
    waiter = threading.Thread(target=lambda: got.append(client.qpop_wait("jobs", 30)))
    waiter.start()
    # this thread keeps running Python (and the client) while the other waits
    wait_for(lambda: client.stats()["clients"] >= 2, 30, "the waiting thread's connection")
    t0 = time.monotonic()
    for _ in range(1000):
        client.get("nothing")
    assert time.monotonic() - t0 < 10
    client.qpush("jobs", "job1")
    waiter.join(30)
    assert got == ["job1"]


def test_close_while_another_thread_waits(store: str) -> None:
    c = pycache.Client(store)
    result = []

    def wait() -> None:
        result.append(c.qpop_wait("q", 0.5))
        try:
            c.get("q")
        except errors.ClosedError:
            result.append("closed")

    t = threading.Thread(target=wait)
    t.start()
    wait_for(lambda: c._handles() == 2, 30, "the waiting thread's connection")
    c.close()  # leaves the busy connection to its call
    t.join(30)
    assert result == [None, "closed"] and c._handles() == 0


def _in_child(fn) -> int:
    """Run fn in a forked child; its exit status (0: fn returned)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        except BaseException as e:  # report, never return into pytest
            os.write(2, f"child: {type(e).__name__}: {e}\n".encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_fork(client: pycache.Client) -> None:
    client.set("k", "parent")

    def child() -> None:
        with pytest.raises(errors.ForkError):
            client.get("k")
        with pytest.raises(errors.ForkError):
            client.set("k", "child")
        with pytest.raises(RuntimeError):  # ForkError is a RuntimeError
            client.read()
        fresh = pycache.Client(client.dir)
        assert fresh.get("k") == "parent"
        fresh.set("k", "child")
        fresh.close()

    assert _in_child(child) == 0
    assert client.get("k") == "child"  # the parent's Client works on


def test_fork_with_the_seed_api(store: str) -> None:
    shared = PyCache(Daemon(store))
    private = PyCache(InMemory())

    async def parent_writes() -> None:
        async with shared.session() as s:
            await s.set("from", String("parent"))
        async with private.session() as s:
            await s.set("mem", String("parent"))

    asyncio.run(parent_writes())

    def child() -> None:
        async def main() -> None:
            async with shared.session() as s:  # the adapter opens a new Client here
                assert await s.get("from") == "parent"
                await s.set("from", String("child"))
            async with private.session() as s:  # the private store is shared with the child
                assert await s.get("mem") == "parent"
                await s.set("mem", String("child"))

        asyncio.run(main())

    assert _in_child(child) == 0

    async def parent_reads() -> None:
        async with shared.session() as s:
            assert await s.get("from") == "child"
        async with private.session() as s:
            assert await s.get("mem") == "child"

    asyncio.run(parent_reads())
    d = private.adapter.dir
    shared.close()
    private.close()
    assert not os.path.exists(d)
