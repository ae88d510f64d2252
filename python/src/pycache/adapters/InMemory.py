"""InMemory: a private store of this process, gone when it is closed."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from typing import Any, Optional

from ..client import Client
from .Adapter import Adapter


def _tmpfs_dir() -> Optional[str]:
    """/dev/shm when it is a writable directory (a store there is memory), else
    None (tempfile's choice)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _map_size(path: str, wanted: Optional[int]) -> int:
    """The map of a private store: what was asked for, else 1 GiB but at most
    half of what the filesystem has free (a map the filesystem cannot back
    would kill the process with SIGBUS when written), and at least 8 MiB."""
    if wanted:
        return int(wanted)
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    return max(8 << 20, min(1 << 30, free // 2))


def _remove(path: str, pid: int) -> None:
    if os.getpid() == pid:  # never in a forked child: the parent still uses it
        shutil.rmtree(path, ignore_errors=True)


class _PrivateStore:
    """A store directory that this process made and removes."""

    def __init__(self, prefix: str, map_size: Optional[int]) -> None:
        self.dir = tempfile.mkdtemp(prefix=prefix, dir=_tmpfs_dir())
        self.map_size = _map_size(self.dir, map_size)
        self._finalizer = weakref.finalize(self, _remove, self.dir, os.getpid())

    def open(self) -> Client:
        return Client(self.dir, embedded=True, create=True, nosync=True, map_size=self.map_size)

    def remove(self) -> None:
        self._finalizer()


class InMemory(Adapter):
    """A private store that no daemon is needed for.

    The store lives in a temporary directory on ``/dev/shm`` (memory), opened
    in embedded mode: the sessions of every PyCache that uses this adapter
    share it, reads are zero-copy, writes run in this process.  It is removed
    when the adapter is closed (``PyCache.close()``), garbage collected, or
    the program exits.  A child made by ``fork()`` shares it with its parent.
    ``connection_uri`` is accepted for the seed's ``InMemory("memory://")``
    and otherwise ignored; ``map_size`` caps the store (bytes).
    """

    def __init__(self, connection_uri: Any = "memory://", *args: Any,
                 map_size: Optional[int] = None) -> None:
        super().__init__(connection_uri, *args)
        self._map_size = map_size
        self._store: Optional[_PrivateStore] = None

    def _open(self) -> Client:
        if self._store is None:
            self._store = _PrivateStore("pycache-mem-", self._map_size)
        return self._store.open()

    @property
    def dir(self) -> Optional[str]:
        """The private store's directory (None until first used)."""
        return self._store.dir if self._store else None

    def close(self) -> None:
        """Close the store and remove it: its data is gone."""
        super().close()
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.remove()
