"""pycache for Python: the seed library's API on a store that every process of
the host shares, with zero-copy reads.

* ``pycache.Client(dir)``: the plain client (every type, TTLs, batches,
  transactions, blocking pops, zero-copy reads with ``client.read()``);
* ``pycache.AsyncClient(dir)``: the same for asyncio;
* ``pycache.py_cache.PyCache``, ``pycache.adapters``, ``pycache.datatypes``,
  ``pycache.decorators``: the seed library's API at its module paths;
* ``pycache.errors``: the exceptions.

See docs/python.md.
"""

from . import errors
from ._pycache import KEY_MAX, LIBRARY_VERSION, Read
from .adapters import Adapter, Daemon, InMemory, SQLite
from .aio import AsyncBatch, AsyncClient, AsyncTransaction
from .client import Batch, Client, Transaction
from .datatypes import Datatype, List, Map, Numeric, Queue, Set, String
from .decorators import cache, get_hash_key, rate_limit
from .errors import *  # noqa: F401,F403  (the exception classes)
from .py_cache import PyCache, Session

__version__ = "0.1.0"

__all__ = [
    "Client", "AsyncClient", "Read", "Batch", "Transaction", "AsyncBatch", "AsyncTransaction",
    "PyCache", "Session", "Adapter", "InMemory", "SQLite", "Daemon", "Datatype", "String",
    "Numeric", "List", "Map", "Set", "Queue", "cache", "rate_limit", "get_hash_key", "errors",
    "KEY_MAX", "LIBRARY_VERSION", "__version__",
] + errors.__all__
