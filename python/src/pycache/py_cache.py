"""PyCache and its sessions: the seed library's asyncio API on a pycache store.

Every session call runs inline: a read is a zero-copy lookup in the shared
map and a write waits only for the daemon's acknowledgement (microseconds),
so handing either to a thread would cost more than it saves.  Nothing here
blocks the event loop for longer than that.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
from collections import deque
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Dict, Iterable, List, Optional, Tuple, Type, Union

from .adapters.Adapter import Adapter
from .client import Client
from .datatypes import Datatype
from .errors import InvalidKeyError, NotFoundError, StateError, UnsupportedValueError, WrongTypeError

__all__ = ["PyCache", "Session"]

log = logging.getLogger("pycache")

_KEY_MAX = 250
_SCALARS = (str, bytes, int, float, bool, type(None))


def _check_key(key: Any) -> None:
    if isinstance(key, str):
        n = len(key.encode("utf-8", "surrogateescape"))
    elif isinstance(key, (bytes, bytearray, memoryview)):
        n = len(key)
    else:
        raise TypeError(f"a key must be str or bytes, not {type(key).__name__}")
    if not 1 <= n <= _KEY_MAX:
        raise InvalidKeyError(f"key must be 1 to 250 bytes, not {n} [PC_EKEY]")


def _as_read(value: Any, typ: str) -> Any:
    """What a get returns for a value stored as typ (None: the key is gone)."""

    def scalar(v: Any) -> Any:
        if isinstance(v, (bytes, bytearray, memoryview)):
            return bytes(v).decode("utf-8", "surrogateescape")
        if not isinstance(v, _SCALARS):
            raise UnsupportedValueError(
                f"cannot store a {type(v).__name__} inside a collection: elements are str, "
                "bytes, int, float, bool or None (nested values are not supported)")
        return v

    if typ == "string":
        return scalar(value)
    if typ == "numeric":
        return value
    if typ == "map":
        d = {}
        for f, v in value.items():
            if not isinstance(f, (str, bytes, bytearray, memoryview)):
                raise TypeError(f"a map's field must be str or bytes, not {type(f).__name__}")
            d[scalar(f)] = scalar(v)
        return d or None
    items = [scalar(v) for v in value]
    if not items:
        return None
    return deque(items) if typ == "queue" else set(items) if typ == "set" else items


class _Tx:
    """A transaction of a session: writes recorded, applied at commit.

    Reads inside see the transaction's own writes (kept here, as a get would
    return them) and otherwise the store; each key read from the store is
    remembered with its version, and the commit requires it unchanged
    (``require_version`` / ``require_absent``), so a transaction that read a
    key another process changed meanwhile fails with ConflictError and
    writes nothing.
    """

    __slots__ = ("client", "ops", "values", "ttls", "reads", "touched")

    def __init__(self, client: Client) -> None:
        self.client = client
        self.ops: List[Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = []
        self.values: Dict[Any, Any] = {}  # key -> value as get returns it; None: gone
        self.ttls: Dict[Any, Optional[int]] = {}  # key -> ms left when set; None: no TTL
        self.reads: Dict[Any, Optional[int]] = {}  # key -> version read; None: was absent
        self.touched: List[Any] = []

    def view(self, key: Any) -> Any:
        if key in self.values:
            return self.values[key]
        value, version = self.client.get_versioned(key)
        self.reads.setdefault(key, version)
        return value

    def get(self, key: Any) -> Any:
        return copy.copy(self.view(key))

    def record(self, key: Any, name: str, *args: Any, **kwargs: Any) -> None:
        self.ops.append((name, (key,) + args, kwargs))
        self.touched.append(key)

    def set(self, key: Any, value: Any, typ: str) -> None:
        _check_key(key)
        self.values[key] = _as_read(value, typ)
        self.ttls[key] = None
        self.record(key, "set", value, type=typ)

    def delete(self, key: Any) -> int:
        _check_key(key)
        existed = self.view(key) is not None
        self.values[key] = None
        self.ttls[key] = None
        self.record(key, "delete")
        return int(existed)

    def expire(self, key: Any, ttl: float) -> int:
        if self.view(key) is None:
            return 0
        self.ttls[key] = max(1, round(ttl * 1000))
        self.record(key, "expire", ttl)
        return 1

    def ttl_ms(self, key: Any) -> Optional[int]:
        if self.view(key) is None:
            return None
        if key in self.ttls:
            return self.ttls[key]
        try:
            return self.client.pttl(key)
        except NotFoundError:
            return None

    def keys(self) -> List[Any]:
        stored = self.client.keys()
        seen = set(stored)
        out = [k for k in stored if self.values.get(k, True) is not None]
        out += [k for k, v in self.values.items() if v is not None and k not in seen]
        return out

    def commit(self, adapter: Adapter) -> None:
        if not self.ops:
            return

        def run(c: Client) -> None:
            with c.transaction() as t:
                for key, version in self.reads.items():
                    if version is None:
                        t.require_absent(key)
                    else:
                        t.require_version(key, version)
                for name, args, kwargs in self.ops:
                    getattr(t, name)(*args, **kwargs)

        adapter._write(self.touched, run)


class _Transaction:
    """``async with session.with_transaction() as tx``: see Session.with_transaction."""

    __slots__ = ("_session", "_tx")

    def __init__(self, session: "Session") -> None:
        self._session = session
        self._tx: Optional[_Tx] = None

    async def __aenter__(self) -> "Session":
        s = self._session
        s._check()
        if s._tx is not None:
            raise StateError("a transaction is already open in this session")
        self._tx = s._tx = _Tx(s._adapter.client())
        return s

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        s = self._session
        tx, s._tx = self._tx, None
        if exc_type is None and tx is not None:
            tx.commit(s._adapter)
        return False  # an exception inside: nothing was written; it goes on


class Session:
    """A session of a PyCache (``async with cache.session() as session``).

    Its calls are the seed library's.  Values go in as datatypes (String,
    Numeric, List, Map, Set, Queue) and come back as plain Python values.
    """

    __slots__ = ("_cache", "_adapter", "_tx", "_closed")

    def __init__(self, cache: "PyCache") -> None:
        self._cache = cache
        self._adapter = cache._adapter
        self._tx: Optional[_Tx] = None
        self._closed = False

    def _check(self) -> None:
        if self._closed:
            raise StateError("this session has ended")

    def _client(self) -> Client:
        if self._closed:
            raise StateError("this session has ended")
        return self._adapter._client or self._adapter.client()

    async def set(self, key: Any, value: Union[Datatype, Dict[Any, Datatype]]) -> int:
        """Store a datatype at key (1), or a dict of them as a batch (how many)."""
        if isinstance(value, dict):
            return await self.batch_set(value)
        if not isinstance(value, Datatype):
            raise TypeError("Value must be a Datatype or a dictionary of string → Datatype")
        v, typ = value._stored()
        tx = self._tx
        if tx is not None:
            self._check()
            tx.set(key, v, typ)
            return 1
        self._check()
        self._adapter._write((key,), lambda c: c.set(key, v, type=typ))
        return 1

    async def batch_set(self, value: Dict[Any, Datatype]) -> int:
        """Store several datatypes (one batch, or in the open transaction); how many."""
        if not isinstance(value, dict):
            raise TypeError("Value must be a dictionary of string → Datatype")
        items = []
        for key, dt in value.items():
            if not isinstance(dt, Datatype):
                raise TypeError("Value must be a dictionary of string → Datatype")
            items.append((key,) + tuple(dt._stored()))
        tx = self._tx
        if tx is not None:
            self._check()
            for key, v, typ in items:
                tx.set(key, v, typ)
            return len(items)

        def run(c: Client) -> List[Any]:
            with c.batch() as b:
                for key, v, typ in items:
                    b.set(key, v, type=typ)
            return b.results or []

        self._check()
        results = self._adapter._write([k for k, _, _ in items], run)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return len(results)

    async def get(self, key: Any, expected_datatype: Optional[Type[Datatype]] = None) -> Any:
        """The value of key (str, int/float, list, dict, set, deque), or None."""
        tx = self._tx
        value = tx.get(key) if tx is not None else self._client().get(key)
        if expected_datatype is not None and value is not None:
            want = expected_datatype.get_name()
            got = _type_of(value)
            if got != want:
                raise WrongTypeError(f"get: {key!r} holds a {got}, not a {want}")
        return value

    async def batch_get(self, keys: Union[Iterable[Any], Dict[Any, Any]],
                        datatype: Optional[str] = None) -> Dict[Any, Any]:
        """The values of the keys that exist, as a dict (one snapshot)."""
        if isinstance(keys, (str, bytes)):
            raise TypeError("keys must be a list of keys")
        tx = self._tx
        if tx is not None:
            self._check()
            out = {}
            for k in keys:
                v = tx.get(k)
                if v is not None:
                    out[k] = v
            return out
        return self._client().get_many(list(keys))  # type: ignore[no-any-return]

    async def delete(self, key: Any) -> int:
        """Delete key: 1 if it existed, else 0."""
        tx = self._tx
        if tx is not None:
            self._check()
            return tx.delete(key)
        self._check()
        return self._adapter._write((key,), lambda c: c.delete(key))

    async def exists(self, key: Any) -> bool:
        """Whether key exists (an expired key does not)."""
        tx = self._tx
        if tx is not None:
            self._check()
            return tx.view(key) is not None
        return self._client().exists(key)  # type: ignore[no-any-return]

    async def keys(self) -> List[Any]:
        """Every key that exists, as a list."""
        tx = self._tx
        if tx is not None:
            self._check()
            return tx.keys()
        return self._client().keys()  # type: ignore[no-any-return]

    async def set_expire(self, key: Any, ttl: Union[int, float]) -> int:
        """Give key a TTL of ttl seconds: 1, or 0 when key is missing.

        TypeError unless ttl is a number; ValueError when it is below 1.
        """
        if not isinstance(ttl, (float, int)):
            raise TypeError("ttl must be numeric")
        if ttl < 1:
            raise ValueError("ttl must be atleast 1second")
        tx = self._tx
        if tx is not None:
            self._check()
            return tx.expire(key, ttl)
        self._check()
        return int(self._adapter._write((key,), lambda c: c.expire(key, ttl)))

    async def get_expire(self, key: Any) -> Optional[int]:
        """Whole seconds key has left (rounded up), or None without a TTL or key."""
        tx = self._tx
        if tx is not None:
            self._check()
            ms = tx.ttl_ms(key)
        else:
            try:
                ms = self._client().pttl(key)
            except NotFoundError:
                return None
        return None if ms is None else math.ceil(ms / 1000)

    def with_transaction(self) -> _Transaction:
        """``async with session.with_transaction() as tx``: all or nothing.

        Writes inside the block (through ``tx`` or this session) are applied
        together when it ends, or not at all if an exception leaves it (the
        exception goes on).  Reads inside see the transaction's writes.  The
        commit fails with ConflictError, writing nothing, if a key the block
        read was changed meanwhile by someone else.
        """
        self._check()
        return _Transaction(self)


def _type_of(value: Any) -> str:
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, (int, float)):
        return "numeric"
    if isinstance(value, deque):
        return "queue"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, set):
        return "set"
    return "list"


class _SessionContext:
    __slots__ = ("_cache", "_session")

    def __init__(self, cache: "PyCache") -> None:
        self._cache = cache
        self._session: Optional[Session] = None

    async def __aenter__(self) -> Session:
        self._session = Session(self._cache)
        return self._session

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        if self._session is not None:
            self._session._closed = True
            self._session._tx = None
        return False


class PyCache:
    """A cache on an adapter: ``PyCache(InMemory())``, ``PyCache(SQLite(path))``,
    ``PyCache(Daemon(dir))``.  Use it through sessions (``async with
    cache.session() as session``); sessions of one PyCache share its store.
    ``close()`` (or ``async with PyCache(...)``) closes the adapter.
    """

    def __init__(self, adapter: Adapter) -> None:
        if not isinstance(adapter, Adapter):
            raise TypeError("adapter must be a pycache adapter (InMemory, SQLite, Daemon)")
        self._adapter = adapter
        self._ttl_task: Optional["asyncio.Task[None]"] = None

    @property
    def adapter(self) -> Adapter:
        """The adapter."""
        return self._adapter

    @property
    def client(self) -> Client:
        """The adapter's pycache.Client, for calls the seed API lacks."""
        return self._adapter.client()

    def session(self) -> _SessionContext:
        """``async with cache.session() as session``: a Session."""
        return _SessionContext(self)

    async def start_ttl_deletion(self, delete_interval: float = 0.5) -> None:
        """Remove expired keys every delete_interval seconds, in a task of the
        running loop, until stop_ttl_deletion() (a second start restarts it).

        Expired keys already read as missing; this frees their room.  (With
        Daemon, the daemon's own TTL worker does it too, every
        --expire-interval; purging from here needs the daemon's admin role.)
        """
        await self.stop_ttl_deletion()
        if delete_interval <= 0:
            return
        self._ttl_task = asyncio.get_running_loop().create_task(self._ttl_loop(delete_interval))

    async def _ttl_loop(self, interval: float) -> None:
        while True:
            try:
                self.delete_expired_attributes()
            except Exception:  # keep going, as the seed's worker does
                log.exception("pycache: removing expired keys failed")
            await asyncio.sleep(interval)

    async def stop_ttl_deletion(self) -> None:
        """Stop the task start_ttl_deletion() began (if any)."""
        task, self._ttl_task = self._ttl_task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def delete_expired_attributes(self) -> int:
        """Remove every expired key now; how many went."""
        return self._adapter._purge()

    def count_expired_keys(self) -> int:
        """How many keys have expired but are still stored."""
        return int(self._adapter.client().expired_count())

    def get_all_keys_with_expiry(self) -> List[Tuple[Any, str]]:
        """(key, expiry time as "YYYY-MM-DD HH:MM:SS" UTC) of every key with a TTL,
        soonest first."""
        fmt = self._adapter.get_datetime_format()
        # expiring() lists shard by shard: sort across shards.
        pairs = sorted(self._adapter.client().expiring(), key=lambda kv: kv[1])
        return [(k, datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(fmt))
                for k, ms in pairs]

    def get_support_transactions(self) -> bool:
        """True: every pycache adapter supports transactions."""
        return self._adapter.get_support_transactions()

    def close(self) -> None:
        """Stop the TTL task and close the adapter (InMemory's data is then gone)."""
        task, self._ttl_task = self._ttl_task, None
        if task is not None:
            task.cancel()
        self._adapter.close()

    async def aclose(self) -> None:
        """close(), waiting for the TTL task to stop."""
        await self.stop_ttl_deletion()
        self._adapter.close()

    async def __aenter__(self) -> "PyCache":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        await self.aclose()
        return False
