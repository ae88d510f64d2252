"""SQLite: a private store kept in a SQLite file that survives restarts.

The working copy is a private pycache store (as InMemory's): reads are
zero-copy.  Every write is followed into the SQLite file at ``path`` before
the call returns: the keys it touched are written again, as they now are, in
one SQLite transaction.  When the program starts again, ``SQLite(path)``
loads the file (keys that expired meanwhile are left out and removed).

The file has the schema of pycached's snapshots (docs/snapshots.md): tables
``meta``, ``keys``, ``members`` and the views ``strings``, ``numerics``,
``lists``, ``queues``, ``maps``, ``sets``, so ``sqlite3 path`` reads it and
``pycached --restore path`` loads it into a daemon's store.  Row counts in
``meta`` are kept by triggers.

One process at a time: the file is locked (flock) while open; a second
process gets BusyError (share data between processes with Daemon).  Several
SQLite adapters of one process on one path share one store.  Writes are
durable when the call returns (WAL, synchronous=NORMAL: a crash of the
program loses nothing; a power loss may lose the last commits).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, TypeVar

from ..client import Client
from ..errors import BusyError, CorruptError
from .Adapter import Adapter
from .InMemory import _PrivateStore

T = TypeVar("T")

FORMAT = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys(key PRIMARY KEY, type TEXT NOT NULL, expire_at INTEGER, value)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members(key NOT NULL, pos INTEGER, field, value, kind TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS members_key ON members(key);
CREATE VIEW IF NOT EXISTS strings AS SELECT key, value, expire_at FROM keys WHERE type='string';
CREATE VIEW IF NOT EXISTS numerics AS SELECT key, value, expire_at FROM keys WHERE type='numeric';
CREATE VIEW IF NOT EXISTS lists AS SELECT m.key, m.pos, m.value, m.kind FROM members m
    JOIN keys k ON k.key=m.key WHERE k.type='list' ORDER BY m.key, m.pos;
CREATE VIEW IF NOT EXISTS queues AS SELECT m.key, m.pos, m.value, m.kind FROM members m
    JOIN keys k ON k.key=m.key WHERE k.type='queue' ORDER BY m.key, m.pos;
CREATE VIEW IF NOT EXISTS maps AS SELECT m.key, m.field, m.value, m.kind FROM members m
    JOIN keys k ON k.key=m.key WHERE k.type='map' ORDER BY m.key, m.field;
CREATE VIEW IF NOT EXISTS sets AS SELECT m.key, m.value AS member, m.kind FROM members m
    JOIN keys k ON k.key=m.key WHERE k.type='set' ORDER BY m.key;
CREATE TRIGGER IF NOT EXISTS keys_ins AFTER INSERT ON keys
    BEGIN UPDATE meta SET value = value + 1 WHERE name = 'key_count'; END;
CREATE TRIGGER IF NOT EXISTS keys_del AFTER DELETE ON keys
    BEGIN UPDATE meta SET value = value - 1 WHERE name = 'key_count'; END;
CREATE TRIGGER IF NOT EXISTS members_ins AFTER INSERT ON members
    BEGIN UPDATE meta SET value = value + 1 WHERE name = 'member_count'; END;
CREATE TRIGGER IF NOT EXISTS members_del AFTER DELETE ON members
    BEGIN UPDATE meta SET value = value - 1 WHERE name = 'member_count'; END;
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _sql_bytes(s: Any) -> Any:
    """A str as TEXT when it is valid UTF-8, else its bytes as a BLOB."""
    if isinstance(s, str):
        try:
            s.encode("utf-8")
            return s
        except UnicodeEncodeError:
            return s.encode("utf-8", "surrogateescape")
    return bytes(s)


def _sql_elem(v: Any) -> Tuple[Any, str]:
    """An element as (SQLite value, kind) of the snapshot schema."""
    if v is None:
        return None, "nil"
    if isinstance(v, bool):
        return int(v), "bool"
    if isinstance(v, int):
        return v, "int"
    if isinstance(v, float):
        return v, "double"
    return _sql_bytes(v), "bytes"


def _py_elem(value: Any, kind: str) -> Any:
    if kind == "nil":
        return None
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "bytes":
        return value
    raise CorruptError(f"unknown element kind {kind!r} in the SQLite file")


class _Store:
    """One SQLite file and its private pycache store, shared by the SQLite
    adapters of this process that name the same file."""

    def __init__(self, path: str, map_size: Optional[int]) -> None:
        self.path = path
        self.refs = 0
        self.lock = threading.RLock()
        self._lockfd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._lockfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lockfd)
            raise BusyError(f"SQLite file {path} is open in another process: the SQLite "
                            "adapter is for one process at a time (share a store between "
                            "processes with Daemon)") from None
        self.private = _PrivateStore("pycache-sqlite-", map_size)
        self.db: Optional[sqlite3.Connection] = None
        self.client: Optional[Client] = None
        try:
            self._connect()
            self._load()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> None:
        self.client = self.private.open()
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        self.db = db

    def after_fork(self) -> None:
        # The child shares the private store and the lock with its parent;
        # SQLite connections and Clients cannot cross a fork.
        self.lock = threading.RLock()
        self.db = None
        self.client = None
        self._connect()

    # ---- the file ----

    def _init_schema(self) -> None:
        db = self.db
        assert db is not None
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if names and "meta" not in names:
            raise CorruptError(f"{self.path} is a SQLite file with other tables "
                               f"({', '.join(sorted(names))}): not one of pycache's")
        if "meta" in names:
            row = db.execute("SELECT value FROM meta WHERE name='format'").fetchone()
            if not row or row[0] != FORMAT:
                raise CorruptError(f"{self.path}: not a pycache SQLite file of format {FORMAT}")
        from .. import _pycache

        meta = [("format", FORMAT), ("pycache_version", _pycache.LIBRARY_VERSION),
                ("created_ms", _now_ms()), ("generation", 0), ("took_ms", 0),
                ("key_count", 0), ("member_count", 0), ("shards", 1)]
        inserts = "".join(f"INSERT OR IGNORE INTO meta VALUES ('{n}', {v!r});" for n, v in meta)
        # executescript commits what is pending first, so the script is its own transaction
        db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + inserts + "COMMIT;")

    def _rows(self, keys: Optional[List[Any]] = None) -> Dict[Any, Tuple[Any, ...]]:
        """{key: (type, expire_at, value, [members])} for keys (None: all)."""
        db = self.db
        assert db is not None
        if keys is None:
            krows = db.execute("SELECT key, type, expire_at, value FROM keys").fetchall()
            mrows = db.execute(
                "SELECT key, pos, field, value, kind FROM members ORDER BY key, pos").fetchall()
        else:
            krows, mrows = [], []
            for k in keys:
                krows += db.execute("SELECT key, type, expire_at, value FROM keys WHERE key=?",
                                    (k,)).fetchall()
                mrows += db.execute("SELECT key, pos, field, value, kind FROM members "
                                    "WHERE key=? ORDER BY pos", (k,)).fetchall()
        out: Dict[Any, Tuple[Any, ...]] = {k: (t, e, v, []) for k, t, e, v in krows}
        for k, pos, field, value, kind in mrows:
            if k in out:
                out[k][3].append((pos, field, value, kind))
        return out

    @staticmethod
    def _value(t: str, v: Any, members: List[Tuple[Any, ...]]) -> Tuple[Any, str]:
        if t in ("string", "numeric"):
            return v, t
        if t in ("list", "queue", "set"):
            return [_py_elem(val, kind) for _, _, val, kind in members], t
        if t == "map":
            return {f: _py_elem(val, kind) for _, f, val, kind in members}, t
        raise CorruptError(f"unknown type {t!r} in the SQLite file")

    def _load(self) -> None:
        """Fill the private store from the file; remove keys that expired."""
        self._init_schema()
        c = self.client
        assert c is not None
        now = _now_ms()
        expired = []
        with c.batch() as b:
            for k, (t, e, v, members) in self._rows().items():
                if e is not None and e <= now:
                    expired.append(k)
                    continue
                value, typ = self._value(t, v, members)
                b.set(k, value, None if e is None else (e - now) / 1000.0, type=typ)
        for r in b.results or []:
            if isinstance(r, BaseException):
                raise r
        if expired:
            self._sql(lambda db: [self._delete_rows(db, k) for k in expired])

    def _sql(self, fn: Callable[[sqlite3.Connection], Any]) -> None:
        db = self.db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            fn(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @staticmethod
    def _delete_rows(db: sqlite3.Connection, k: Any) -> None:
        db.execute("DELETE FROM members WHERE key=?", (k,))
        db.execute("DELETE FROM keys WHERE key=?", (k,))

    def _put(self, db: sqlite3.Connection, key: Any) -> None:
        """Write key's rows as the private store holds it now."""
        c = self.client
        assert c is not None
        k = _sql_bytes(key)
        self._delete_rows(db, k)
        value, _ = c.get_versioned(key)
        if value is None:
            return
        ms = c.pttl(key)
        expire_at = None if ms is None else _now_ms() + ms
        if isinstance(value, (str, bytes)):
            db.execute("INSERT INTO keys VALUES (?, 'string', ?, ?)",
                       (k, expire_at, _sql_bytes(value)))
            return
        if isinstance(value, (int, float)):
            db.execute("INSERT INTO keys VALUES (?, 'numeric', ?, ?)", (k, expire_at, value))
            return
        t = ("queue" if isinstance(value, deque) else "map" if isinstance(value, dict)
             else "set" if isinstance(value, set) else "list")
        db.execute("INSERT INTO keys VALUES (?, ?, ?, NULL)", (k, t, expire_at))
        if t == "map":
            rows = [(k, None, _sql_bytes(f)) + _sql_elem(v) for f, v in value.items()]
        elif t == "set":
            rows = [(k, None, None) + _sql_elem(v) for v in value]
        else:
            rows = [(k, i, None) + _sql_elem(v) for i, v in enumerate(value)]
        db.executemany("INSERT INTO members VALUES (?, ?, ?, ?, ?)", rows)

    def follow(self, keys: Iterable[Any]) -> None:
        """Write keys to the file as they now are.  If that fails, put the
        private store back as the file has them, and raise."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return
        try:
            self._sql(lambda db: [self._put(db, k) for k in keys])
        except BaseException:
            self.reload(keys)
            raise

    def reload(self, keys: List[Any]) -> None:
        """Make the private store hold keys as the file does."""
        c = self.client
        assert c is not None
        rows = self._rows([_sql_bytes(k) for k in keys])
        now = _now_ms()
        for key in keys:
            c.delete(key)
            row = rows.get(_sql_bytes(key))
            if row is None:
                continue
            t, e, v, members = row
            if e is not None and e <= now:
                continue
            value, typ = self._value(t, v, members)
            c.set(key, value, None if e is None else (e - now) / 1000.0, type=typ)

    def purge(self) -> int:
        c = self.client
        assert c is not None
        n = c.purge_expired()
        now = _now_ms()
        self._sql(lambda db: (
            db.execute("DELETE FROM members WHERE key IN "
                       "(SELECT key FROM keys WHERE expire_at IS NOT NULL AND expire_at <= ?)",
                       (now,)),
            db.execute("DELETE FROM keys WHERE expire_at IS NOT NULL AND expire_at <= ?",
                       (now,))))
        return int(n)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.db is not None:
            self.db.close()
            self.db = None
        self.private.remove()
        if self._lockfd >= 0:
            os.close(self._lockfd)  # after SQLite's own descriptors: see flock(2)
            self._lockfd = -1


_stores: Dict[str, _Store] = {}
_stores_lock = threading.Lock()


def _stores_after_fork() -> None:
    global _stores_lock
    _stores_lock = threading.Lock()
    for store in _stores.values():
        store.after_fork()


os.register_at_fork(after_in_child=_stores_after_fork)


def _release(store: _Store) -> None:
    """One adapter less on store: the last one closes it.  (In a forked child
    that only closes the child's copies; the parent keeps its lock.)"""
    with _stores_lock:
        store.refs -= 1
        if store.refs > 0:
            return
        _stores.pop(store.path, None)
    store.close()


class SQLite(Adapter):
    """Data that survives restarts, in a SQLite file at ``path``.

    Reads come from a private pycache store (zero-copy); every write is also
    written to the file before the call returns.  ``sqlite3 path`` reads the
    file (the schema of docs/snapshots.md) and ``pycached --restore path``
    loads it.  A missing or empty file is a valid start.  One process at a
    time (BusyError otherwise); a forked child shares its parent's.
    ``map_size`` caps the private store (bytes).
    """

    def __init__(self, path: Any = "pycache.db", *args: Any,
                 map_size: Optional[int] = None) -> None:
        super().__init__(os.fspath(path), *args)
        self._path = os.path.realpath(os.fspath(path))
        self._map_size = map_size
        self._store: Optional[_Store] = None
        self._release: Callable[[], Any] = lambda: None

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._path

    def _open(self) -> Client:
        if self._store is None:
            with _stores_lock:
                store = _stores.get(self._path)
                if store is None:
                    store = _Store(self._path, self._map_size)
                    _stores[self._path] = store
                store.refs += 1
                self._store = store
                self._release = weakref.finalize(self, _release, store)
        client = self._store.client
        assert client is not None
        return client

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()  # the store itself is reopened by _stores_after_fork

    def _write(self, keys: Iterable[Any], fn: Callable[[Client], T]) -> T:
        c = self.client()
        store = self._store
        assert store is not None
        with store.lock:
            result = fn(c)
            store.follow(keys)
            return result

    def _purge(self) -> int:
        self.client()
        store = self._store
        assert store is not None
        with store.lock:
            return store.purge()

    def close(self) -> None:
        """Stop using the file (the last adapter of the process closes it)."""
        with self._lock:
            self._client = None
            self._closed = True
            store, self._store = self._store, None
        if store is not None:
            self._release()
