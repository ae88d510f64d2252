"""Adapters: where a PyCache keeps its data.

``InMemory()``
    a private store of this process (no daemon), gone when it is closed;
``SQLite(path)``
    the same, kept in a SQLite file at ``path`` that survives restarts and
    that ``sqlite3`` reads;
``Daemon(dir)``
    the store a running ``pycached`` serves: shared by every process.

Each is also importable from its own module, as in the seed library
(``from pycache.adapters.InMemory import InMemory``).
"""

from .Adapter import Adapter
from .Daemon import Daemon
from .InMemory import InMemory
from .SQLite import SQLite

__all__ = ["Adapter", "Daemon", "InMemory", "SQLite"]
