"""The exceptions of pycache.

Every error of the C library (a negative ``PC_E*`` code, see ``man 3 pycache``)
is raised as a subclass of :class:`PycacheError` whose ``code`` and ``name``
attributes carry the code (``-31002``) and its name (``"PC_EWRONGTYPE"``).
Where Python has a built-in exception for the same situation the class also
derives from it, so ``except ValueError`` or ``except ConnectionError`` catch
what they would catch elsewhere, and the seed library's ``ValueError`` and
``TypeError`` keep working::

    PycacheError
    ├── InvalidArgumentError (ValueError)      PC_EINVAL
    │   ├── InvalidKeyError                    PC_EKEY: keys are 1 to 250 bytes
    │   ├── TooBigError                        PC_ETOOBIG
    │   ├── NotFiniteError                     PC_ENAN
    │   ├── CrossShardError                    PC_ECROSSSHARD
    │   └── TransactionTooLargeError           PC_ETXNSIZE
    ├── NotFoundError (KeyError)               PC_ENOTFOUND
    ├── KeyExistsError                         PC_EEXIST
    ├── WrongTypeError (TypeError)             PC_EWRONGTYPE, PC_ENOTINT, PC_ENOTNUM
    ├── UnsupportedValueError (TypeError)      a value the store cannot hold (nested)
    ├── NumericOverflowError (OverflowError)   PC_EOVERFLOW
    ├── IndexOutOfRangeError (IndexError)      PC_ERANGE
    ├── ConflictError                          PC_ECONFLICT: a transaction's condition failed
    ├── StoreFullError                         PC_EFULL, PC_ENOSPC (DiskFullError)
    ├── OutOfMemoryError (MemoryError)         PC_ENOMEM
    ├── DaemonError (ConnectionError)
    │   ├── NotServedError (ConnectionRefusedError)  PC_ECONNREFUSED: no daemon serves the store
    │   ├── ConnectionLostError (ConnectionResetError)  PC_ECONNRESET
    │   └── ProtocolError                      PC_EPROTO
    ├── TimedOutError (TimeoutError)           PC_ETIMEDOUT
    ├── WouldBlockError (BlockingIOError)      PC_EAGAIN
    ├── BusyError                              PC_EBUSY
    ├── AccessDeniedError (PermissionError)    PC_EACCES
    ├── StoreNotFoundError (FileNotFoundError) PC_ENOENT
    ├── StoreIOError (OSError)                 PC_EIO
    ├── CorruptError                           PC_ECORRUPT
    ├── IncompatibleError                      PC_EINCOMPAT
    ├── NotSupportedError (NotImplementedError) PC_ENOTSUP
    ├── CollisionError                         PC_ECOLLISION
    ├── StateError (RuntimeError)              PC_ESTATE, and misuse the binding sees
    ├── ForkError (RuntimeError)               PC_EFORK: a client used after fork()
    └── ClosedError (RuntimeError)             a closed client
"""

from __future__ import annotations

from typing import Dict, Optional, Type

__all__ = [
    "PycacheError", "InvalidArgumentError", "InvalidKeyError", "TooBigError", "NotFiniteError",
    "CrossShardError", "TransactionTooLargeError", "NotFoundError", "KeyExistsError",
    "WrongTypeError", "UnsupportedValueError", "NumericOverflowError", "IndexOutOfRangeError",
    "ConflictError", "StoreFullError", "DiskFullError", "OutOfMemoryError", "DaemonError",
    "NotServedError", "ConnectionLostError", "ProtocolError", "TimedOutError",
    "WouldBlockError", "BusyError", "AccessDeniedError", "StoreNotFoundError", "StoreIOError",
    "CorruptError", "IncompatibleError", "NotSupportedError", "CollisionError", "StateError",
    "ForkError", "ClosedError",
]


class PycacheError(Exception):
    """Base class of every pycache error.

    ``code`` is the library's negative ``PC_E*`` code (0 for errors the
    binding raises itself) and ``name`` its symbolic name.  A failed
    transaction commit also sets ``index``: the position, in the order queued
    (conditions count), of the write or condition that failed, or -1.
    """

    code: int = 0
    name: str = ""
    index: Optional[int] = None

    def __str__(self) -> str:  # KeyError quotes its argument; we do not
        return str(self.args[0]) if self.args else self.name


class InvalidArgumentError(PycacheError, ValueError):
    """An argument the library refuses (PC_EINVAL)."""


class InvalidKeyError(InvalidArgumentError):
    """A key must be 1 to 250 bytes (PC_EKEY)."""


class TooBigError(InvalidArgumentError):
    """A value or request larger than the store's maximum (PC_ETOOBIG)."""


class NotFiniteError(InvalidArgumentError):
    """NaN or an infinity, which the store does not hold (PC_ENAN)."""


class CrossShardError(InvalidArgumentError):
    """The keys of one call or transaction lie in different shards (PC_ECROSSSHARD)."""


class TransactionTooLargeError(InvalidArgumentError):
    """More than 65,536 writes in one transaction (PC_ETXNSIZE)."""


class NotFoundError(PycacheError, KeyError):
    """No such key, field or element (PC_ENOTFOUND)."""


class KeyExistsError(PycacheError):
    """The key already exists (PC_EEXIST)."""


class WrongTypeError(PycacheError, TypeError):
    """An operation on a key of another type (PC_EWRONGTYPE, PC_ENOTINT, PC_ENOTNUM)."""


class UnsupportedValueError(PycacheError, TypeError):
    """A value the store cannot hold: elements of collections are str, bytes,
    int, float, bool or None; nested containers are refused."""


class NumericOverflowError(PycacheError, OverflowError):
    """An integer result outside 64 bits (PC_EOVERFLOW)."""


class IndexOutOfRangeError(PycacheError, IndexError):
    """No element at that index (PC_ERANGE)."""


class ConflictError(PycacheError):
    """A transaction's condition failed; nothing was written (PC_ECONFLICT)."""


class StoreFullError(PycacheError):
    """The store's map is full (PC_EFULL)."""


class DiskFullError(StoreFullError):
    """The filesystem under the store is full (PC_ENOSPC)."""


class OutOfMemoryError(PycacheError, MemoryError):
    """Out of memory, here or in the daemon (PC_ENOMEM)."""


class DaemonError(PycacheError, ConnectionError):
    """Trouble talking to the daemon."""


class NotServedError(DaemonError, ConnectionRefusedError):
    """No daemon serves this store directory (PC_ECONNREFUSED)."""


class ConnectionLostError(DaemonError, ConnectionResetError):
    """The daemon went away during the call, which may or may not have been done
    (PC_ECONNRESET)."""


class ProtocolError(DaemonError):
    """Client and daemon misunderstood each other (PC_EPROTO)."""


class TimedOutError(PycacheError, TimeoutError):
    """The daemon made no progress on the call for the client's timeout (PC_ETIMEDOUT)."""


class WouldBlockError(PycacheError, BlockingIOError):
    """A non-blocking client found the request ring full (PC_EAGAIN)."""


class BusyError(PycacheError):
    """The store or handle is busy (PC_EBUSY): a daemon holds the store, or it
    serves as many clients as it may."""


class AccessDeniedError(PycacheError, PermissionError):
    """Permission denied (PC_EACCES): the daemon's role for this user forbids it."""


class StoreNotFoundError(PycacheError, FileNotFoundError):
    """No such store directory or file (PC_ENOENT)."""


class StoreIOError(PycacheError, OSError):
    """An input/output error (PC_EIO)."""


class CorruptError(PycacheError):
    """The store's data is malformed (PC_ECORRUPT)."""


class IncompatibleError(PycacheError):
    """The store was made by an incompatible pycache version (PC_EINCOMPAT)."""


class NotSupportedError(PycacheError, NotImplementedError):
    """Not supported in this mode (PC_ENOTSUP)."""


class CollisionError(PycacheError):
    """Two long members share a digest (PC_ECOLLISION)."""


class StateError(PycacheError, RuntimeError):
    """A call not allowed in the client's current state (PC_ESTATE), or a misuse
    the binding detects (a read used from another thread, re-entry)."""


class ForkError(PycacheError, RuntimeError):
    """A client used in a child process after fork(): open a new one (PC_EFORK)."""


class ClosedError(PycacheError, RuntimeError):
    """The client is closed."""


_BY_NAME: Dict[str, Type[PycacheError]] = {
    "PC_EINVAL": InvalidArgumentError,
    "PC_EKEY": InvalidKeyError,
    "PC_ETOOBIG": TooBigError,
    "PC_ENAN": NotFiniteError,
    "PC_ECROSSSHARD": CrossShardError,
    "PC_ETXNSIZE": TransactionTooLargeError,
    "PC_ENOTFOUND": NotFoundError,
    "PC_EEXIST": KeyExistsError,
    "PC_EWRONGTYPE": WrongTypeError,
    "PC_ENOTINT": WrongTypeError,
    "PC_ENOTNUM": WrongTypeError,
    "PC_EOVERFLOW": NumericOverflowError,
    "PC_ERANGE": IndexOutOfRangeError,
    "PC_ECONFLICT": ConflictError,
    "PC_EFULL": StoreFullError,
    "PC_ENOSPC": DiskFullError,
    "PC_ENOMEM": OutOfMemoryError,
    "PC_ECONNREFUSED": NotServedError,
    "PC_ECONNRESET": ConnectionLostError,
    "PC_EPROTO": ProtocolError,
    "PC_ETIMEDOUT": TimedOutError,
    "PC_EAGAIN": WouldBlockError,
    "PC_EBUSY": BusyError,
    "PC_EACCES": AccessDeniedError,
    "PC_ENOENT": StoreNotFoundError,
    "PC_EIO": StoreIOError,
    "PC_ECORRUPT": CorruptError,
    "PC_EINCOMPAT": IncompatibleError,
    "PC_ENOTSUP": NotSupportedError,
    "PC_ECOLLISION": CollisionError,
    "PC_ESTATE": StateError,
    "PC_EFORK": ForkError,
    "PC_ECLOSED": ClosedError,
}


def error_class(name: str) -> Type[PycacheError]:
    """The class raised for a ``PC_E*`` name (PycacheError for an unknown one)."""
    return _BY_NAME.get(name, PycacheError)


def _from_code(code: int, name: str, what: str) -> PycacheError:
    """Make (not raise) the exception for a library code; called by the C extension."""
    from ._pycache import strerror

    message = strerror(code)[1]
    exc = error_class(name)(f"{what}: {message} [{name}]" if what else f"{message} [{name}]")
    exc.code = code
    exc.name = name
    return exc
