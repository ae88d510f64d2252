"""pycache.Client: the plain (not async) client, and its batches and transactions.

The methods of :class:`Client` are those of the C extension
(``pycache._pycache.Client``); this module adds the ``with`` blocks for
batches and transactions.  See docs/python.md for the whole API.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, List, Optional, Type

from . import _pycache

__all__ = ["Client", "Batch", "Transaction", "Read"]

Read = _pycache.Read


class _Queued:
    """What batch() and transaction() return: the client's writes, queued."""

    __slots__ = ("_client", "results", "_open")

    def __init__(self, client: "Client") -> None:
        self._client = client
        self._open = False
        #: The writes' results, in order, once the block has run.
        self.results: Optional[List[Any]] = None

    def __getattr__(self, name: str) -> Any:
        # b.set(...) is client.set(...): queued while the block is open.
        return getattr(self._client, name)

    def _begin(self) -> None:
        raise NotImplementedError

    def _run(self) -> List[Any]:
        raise NotImplementedError

    def __enter__(self) -> "_Queued":
        if self._open:
            raise _pycache_errors().StateError("this block is already open")
        self._begin()
        self._open = True
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]],
                 exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        self._open = False
        if exc_type is not None:
            self._client.discard()
            return False
        self.results = self._run()
        return False


def _pycache_errors() -> Any:
    from . import errors

    return errors


class Batch(_Queued):
    """``with client.batch() as b:`` queues this thread's writes on the client
    and runs them together when the block ends: many requests in flight,
    answered in order.  Each applies on its own; ``b.results`` then holds each
    write's result, or for a write that failed its exception (not raised).
    An exception inside the block drops the batch: nothing of it runs.
    """

    __slots__ = ()

    def _begin(self) -> None:
        self._client.begin_batch()

    def _run(self) -> List[Any]:
        return self._client.exec_batch()


class Transaction(_Queued):
    """``with client.transaction() as t:`` queues this thread's writes and
    applies them all together or not at all when the block ends.

    ``t.require_absent(key)`` and ``t.require_version(key, version)`` add
    conditions checked at commit (check-and-set with :meth:`Client.version`).
    A failed condition raises :class:`~pycache.errors.ConflictError`, a
    failing write its own error (``index`` says which); then nothing was
    written.  An exception inside the block drops the transaction.  Reads
    inside the block see the store, not the queued writes.  Every key of a
    transaction must lie in one shard.
    """

    __slots__ = ()

    def _begin(self) -> None:
        self._client.begin_transaction()

    def _run(self) -> List[Any]:
        return self._client.commit()


class Client(_pycache.Client):
    """A client of the pycache store in directory ``dir``.

    ``Client(dir)`` talks to the ``pycached`` serving ``dir`` (None: the
    default, ``$XDG_RUNTIME_DIR/pycache`` or ``/run/pycache`` for root);
    ``Client(dir, embedded=True, create=True)`` opens (and makes) the store
    itself, with no daemon.  Keyword options: ``nosync`` (embedded: no fsync),
    ``ring_only`` (never map the store), ``nonblock`` (a full ring raises
    WouldBlockError), ``timeout`` (seconds the client waits for a daemon that
    makes no progress; default 10, negative: no limit), and, when a store is
    created, ``map_size``, ``shards``, ``max_readers``, ``max_value``.
    ``decode=False`` returns byte strings as bytes instead of str.

    Reads (``get``, ``lrange``, ``hgetall``, ...) go straight to the shared
    map: no copy in the store, no system call.  Writes wait for the daemon's
    acknowledgement with the GIL released.  A Client may be shared by threads:
    it opens one connection per thread that uses it.  After ``fork()`` it
    raises ForkError in the child: make a new one there.
    """

    __slots__ = ()

    def batch(self) -> Batch:
        """A ``with`` block whose writes run as one batch (see :class:`Batch`)."""
        return Batch(self)

    def transaction(self) -> Transaction:
        """A ``with`` block whose writes apply all or nothing (see :class:`Transaction`)."""
        return Transaction(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("embedded" if self.embedded else "daemon")
        return f"<pycache.Client {self.dir!r} {state}>"
