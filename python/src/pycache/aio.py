"""asyncio: pycache.AsyncClient.

Reads and acknowledged writes run inline, in the event loop's thread: a read
is a zero-copy lookup (about a microsecond) and a write waits only for the
daemon's acknowledgement (a few microseconds), less than a hop to an
executor thread and back (about 100 microseconds).  Waits that can be long
(a blocking queue pop) run in a thread of pycache's own, with the GIL
released, and wake the loop through its self-pipe
(``loop.call_soon_threadsafe``): the loop never blocks on them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Callable, List, Optional, Tuple, Type

from .client import Client

__all__ = ["AsyncClient", "AsyncBatch", "AsyncTransaction"]

#: Client methods that AsyncClient runs inline (as coroutines).
INLINE = (
    # reads
    "get", "get_many", "get_versioned", "mget", "exists", "type", "ttl", "pttl", "version",
    "strlen", "getrange", "llen", "lindex", "lrange", "qlen", "qpeek", "qrange", "hget",
    "hmget", "hlen", "hexists", "hgetall", "scard", "sismember", "smembers", "sunion",
    "sinter", "sdiff", "keys", "expired_count", "expiring",
    # writes
    "set", "mset", "delete", "expire", "persist", "getset", "append", "setrange", "incr",
    "incrbyfloat", "lpush", "rpush", "lpop", "rpop", "lset", "ltrim", "lrem", "qpush", "qpop",
    "hset", "hdel", "hincrby", "hincrbyfloat", "sadd", "srem", "spop", "flush",
    "purge_expired", "set_expire_interval",
    # the store
    "store_info", "stats",
)

#: What a batch or transaction of AsyncClient may queue.
QUEUEABLE = frozenset(INLINE[INLINE.index("set"):INLINE.index("set_expire_interval")]) | {
    "require_absent", "require_version"}

_SLICE = 0.1  # seconds a waiting thread waits before it looks whether it is still wanted
_pool: Optional[ThreadPoolExecutor] = None
_active = 0  # waits running in pycache threads (see waiting())
_active_lock = threading.Lock()


def waiting() -> int:
    """How many blocking waits pycache threads are running now."""
    return _active


def _executor() -> ThreadPoolExecutor:
    """pycache's own threads for long waits (never the loop's default executor)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=256, thread_name_prefix="pycache-wait")
    return _pool


def _forget_pool() -> None:
    global _pool
    _pool = None  # its threads do not exist in a forked child


os.register_at_fork(after_in_child=_forget_pool)


class _PopWait:
    """One blocking pop, run in a pycache thread for an awaiting task."""

    def __init__(self, client: Client, key: Any, timeout: Optional[float], count: Optional[int],
                 loop: asyncio.AbstractEventLoop, fut: "asyncio.Future[Any]") -> None:
        self.client = client
        self.key = key
        self.count = count
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.loop = loop
        self.fut = fut
        self.cancelled = False

    def run(self) -> None:
        global _active
        with _active_lock:
            _active += 1
        try:
            self._run()
        finally:
            with _active_lock:
                _active -= 1

    def _wanted(self) -> bool:
        """Whether anyone may still take what this wait pops."""
        return not (self.cancelled or self.loop.is_closed()
                    or not threading.main_thread().is_alive())  # the interpreter is exiting

    def _run(self) -> None:
        c = self.client
        try:
            while True:
                if not self._wanted():
                    return
                if self.deadline is None:
                    wait, last = _SLICE, False
                else:
                    left = self.deadline - time.monotonic()
                    wait, last = min(max(left, 0.0), _SLICE), left <= _SLICE
                got = c.qpop_wait(self.key, wait, self.count) if wait > 0 else c.qpop(
                    self.key, self.count)
                if (got is not None and got != []) or last:
                    break
        except BaseException as e:  # the awaiting task gets it
            self._deliver(None, e)
            return
        self._deliver(got, None)

    def _deliver(self, got: Any, exc: Optional[BaseException]) -> None:
        try:
            self.loop.call_soon_threadsafe(self._settle, got, exc)
        except RuntimeError:  # the loop has closed: nobody awaits it
            self._give_back(got)

    def _settle(self, got: Any, exc: Optional[BaseException]) -> None:
        if self.fut.done():  # cancelled while the element arrived
            self._give_back(got)
        elif exc is not None:
            self.fut.set_exception(exc)
        else:
            self.fut.set_result(got)

    def _give_back(self, got: Any) -> None:
        """Push what nobody took back onto the queue (at its back): never lost."""
        if got is None or got == []:
            return
        items = got if self.count is not None else [got]
        self.client.qpush(self.key, *items)


def _inline(name: str) -> Callable[..., Any]:
    meth = getattr(Client, name)

    async def call(self: "AsyncClient", *args: Any, **kwargs: Any) -> Any:
        return meth(self._c, *args, **kwargs)

    call.__name__ = name
    call.__qualname__ = f"AsyncClient.{name}"
    call.__doc__ = (meth.__doc__ or "") + "\n\n(Runs inline in the event loop's thread.)"
    return call


class _Recorder:
    """The writes of an AsyncClient batch or transaction, recorded in the
    block and sent in one go when it ends, so that other tasks' writes,
    which run while this one awaits, never join it."""

    def __init__(self, client: Client, transaction: bool) -> None:
        self._client = client
        self._transaction = transaction
        self._ops: List[Tuple[str, Tuple[Any, ...], Any]] = []
        #: The writes' results once the block has run (see Client.batch).
        self.results: Optional[List[Any]] = None

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name not in QUEUEABLE:
            raise AttributeError(f"{name} cannot be queued in a batch or transaction")

        def record(*args: Any, **kwargs: Any) -> None:
            self._ops.append((name, args, kwargs))

        record.__name__ = name
        return record

    async def __aenter__(self) -> "_Recorder":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        if exc_type is not None:
            return False  # nothing was sent
        c = self._client
        q = c.transaction() if self._transaction else c.batch()
        with q:
            for name, args, kwargs in self._ops:
                getattr(q, name)(*args, **kwargs)
        self.results = q.results
        return False


class AsyncBatch(_Recorder):
    """``async with aclient.batch() as b: b.set(...)`` (no await on b's calls)."""


class AsyncTransaction(_Recorder):
    """``async with aclient.transaction() as t: t.require_absent(k); t.set(...)``."""


class AsyncClient:
    """pycache.Client for asyncio: the same calls, as coroutines.

    ``AsyncClient(dir, **options)`` takes Client's arguments (or
    ``client=`` an existing Client).  Reads and writes run inline;
    ``qpop_wait`` waits in a pycache thread and never blocks the loop.
    ``read()`` is Client.read(): do not await inside its block (other tasks
    would share its snapshot).
    """

    def __init__(self, dir: Optional[str] = None, *, client: Optional[Client] = None,
                 **options: Any) -> None:
        self._c = client if client is not None else Client(dir, **options)

    @property
    def client(self) -> Client:
        """The Client underneath."""
        return self._c

    async def get(self, key: Any) -> Any:
        """Client.get, inline: the value of key of any type, or None."""
        return self._c.get(key)

    async def qpop_wait(self, key: Any, timeout: Optional[float],
                        count: Optional[int] = None) -> Any:
        """Pop from a Queue's front, waiting up to timeout seconds (None: until
        cancelled) for an element; None (or [] with count) when nothing came.
        The wait runs in a pycache thread; if the task is cancelled just as an
        element arrives, the element goes back onto the queue (at its back)."""
        loop = asyncio.get_running_loop()
        fut: "asyncio.Future[Any]" = loop.create_future()
        job = _PopWait(self._c, key, timeout, count, loop, fut)
        _executor().submit(job.run)
        try:
            return await fut
        except asyncio.CancelledError:
            job.cancelled = True
            raise

    def read(self) -> Any:
        """Client.read(): ``with aclient.read() as r:`` (no await inside)."""
        return self._c.read()

    def batch(self) -> AsyncBatch:
        """``async with aclient.batch() as b``: b's writes run as one batch at the end."""
        return AsyncBatch(self._c, False)

    def transaction(self) -> AsyncTransaction:
        """``async with aclient.transaction() as t``: all or nothing at the end."""
        return AsyncTransaction(self._c, True)

    async def snapshot(self) -> Any:
        """Client.snapshot, in a pycache thread (it waits for the file)."""
        return await asyncio.get_running_loop().run_in_executor(_executor(), self._c.snapshot)

    async def aclose(self) -> None:
        """Close the client."""
        self._c.close()

    close = aclose

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        self._c.close()
        return False


for _name in INLINE:
    if _name != "get":
        setattr(AsyncClient, _name, _inline(_name))
del _name
