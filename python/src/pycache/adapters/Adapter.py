"""The base of the adapters: where a PyCache keeps its data.

An adapter owns one :class:`pycache.Client` (made on first use, made anew in
the child after ``fork()``), which every session and decorator using the
adapter shares: a Client keeps one connection per thread, and sessions run
their calls inline, so nothing is lost by sharing it.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Callable, Iterable, Optional, TypeVar

from ..client import Client

T = TypeVar("T")

_live: "weakref.WeakSet[Adapter]" = weakref.WeakSet()


def _forget_clients_in_child() -> None:
    for adapter in list(_live):
        adapter._after_fork_in_child()


os.register_at_fork(after_in_child=_forget_clients_in_child)


class Adapter:
    """Where a PyCache keeps its data.  Subclasses: InMemory, SQLite, Daemon."""

    def __init__(self, connection_uri: Any = None, tablename: str = "kv-store") -> None:
        self._connection_uri = connection_uri
        self._tablename = tablename
        self._client: Optional[Client] = None
        self._lock = threading.RLock()
        self._closed = False
        _live.add(self)

    # ---- what PyCache, its sessions and the decorators use ----

    def client(self) -> Client:
        """The adapter's Client, opened on first use."""
        c = self._client
        if c is not None:
            return c
        with self._lock:
            if self._client is None:
                self._closed = False
                self._client = self._open()
            return self._client

    def _open(self) -> Client:
        raise NotImplementedError

    def _write(self, keys: Iterable[Any], fn: Callable[[Client], T]) -> T:
        """Run a write of keys; adapters that keep a copy (SQLite) follow it."""
        return fn(self.client())

    def _purge(self) -> int:
        """Remove every expired key now; how many went."""
        return self._write((), lambda c: c.purge_expired())

    def _after_fork_in_child(self) -> None:
        # The parent's Client refuses to work here (ForkError); the next call
        # opens a new one.  It is not closed: that only frees memory.
        self._client = None
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the adapter's Client (a later use opens it again)."""
        with self._lock:
            c, self._client = self._client, None
            self._closed = True
        if c is not None:
            c.close()

    # ---- the seed's adapter interface ----

    def get_support_transactions(self) -> bool:
        """Every pycache adapter supports transactions."""
        return True

    def get_support_datatype_serializer(self) -> bool:
        """Values come back with their type: no expected_datatype is needed."""
        return True

    def get_datetime_format(self) -> str:
        """How get_all_keys_with_expiry() writes expiry times (UTC)."""
        return "%Y-%m-%d %H:%M:%S"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._connection_uri!r})"
