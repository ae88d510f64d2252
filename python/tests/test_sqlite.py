"""SQLite(path): data that survives restarts, readable with sqlite3, in the
schema of pycached's snapshots."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections import deque

import pytest

import pycache
from pycache import errors
from pycache.adapters import SQLite
from pycache.adapters import SQLite as SQLiteModule  # noqa: F401
from pycache.datatypes import List, Map, Numeric, Queue, Set, String
from pycache.py_cache import PyCache

VALUES = {
    "s": String("text é"),
    "n": Numeric(42),
    "f": Numeric(2.5),
    "l": List(["a", 1, 2.5, True, None]),
    "m": Map({"city": "New York", "zip": 10001}),
    "set": Set({"x", 7}),
    "q": Queue(deque(["j1", "j2"])),
}


def write(path: str, values: dict, expire: dict = {}) -> None:
    async def main() -> None:
        cache = PyCache(SQLite(path))
        async with cache.session() as s:
            await s.batch_set(values)
            for k, ttl in expire.items():
                await s.set_expire(k, ttl)
        cache.close()

    asyncio.run(main())


def read_all(path: str, keys) -> dict:
    async def main() -> dict:
        cache = PyCache(SQLite(path))
        async with cache.session() as s:
            got = await s.batch_get(list(keys))
            ttls = {k: await s.get_expire(k) for k in keys}
        cache.close()
        return got, ttls

    return asyncio.run(main())


def test_survives_a_restart(tmp_path) -> None:
    path = str(tmp_path / "cache.db")
    write(path, VALUES, {"s": 100})
    got, ttls = read_all(path, VALUES)
    assert got == {k: v.value for k, v in VALUES.items()}
    assert 98 <= ttls["s"] <= 100 and ttls["n"] is None


def test_expired_keys_are_left_out_and_removed(tmp_path) -> None:
    path = str(tmp_path / "cache.db")
    write(path, {"short": String("x"), "long": String("y")}, {"short": 1, "long": 100})
    db = sqlite3.connect(path)
    db.execute("UPDATE keys SET expire_at = ? WHERE key = 'short'", (int(time.time() * 1000) - 1,))
    db.commit()
    db.close()
    got, _ = read_all(path, ["short", "long"])
    assert got == {"long": "y"}
    db = sqlite3.connect(path)
    assert [r[0] for r in db.execute("SELECT key FROM keys")] == ["long"]
    db.close()


def test_sqlite3_reads_it(tmp_path) -> None:
    path = str(tmp_path / "cache.db")
    write(path, VALUES)
    db = sqlite3.connect(path)
    meta = dict(db.execute("SELECT name, value FROM meta"))
    assert meta["format"] == 1 and meta["key_count"] == len(VALUES)
    assert meta["member_count"] == db.execute("SELECT count(*) FROM members").fetchone()[0]
    assert db.execute("SELECT value FROM strings WHERE key='s'").fetchone() == ("text é",)
    assert db.execute("SELECT value FROM numerics WHERE key='n'").fetchone() == (42,)
    assert db.execute("SELECT value, kind FROM lists WHERE key='l'").fetchall() == [
        ("a", "bytes"), (1, "int"), (2.5, "double"), (1, "bool"), (None, "nil")]
    assert dict(db.execute("SELECT field, value FROM maps WHERE key='m'")) == {
        "city": "New York", "zip": 10001}
    assert db.execute("SELECT value FROM queues WHERE key='q'").fetchall() == [("j1",), ("j2",)]
    assert set(db.execute("SELECT member FROM sets WHERE key='set'").fetchall()) == {
        (7,), ("x",)}
    db.close()


def test_pycached_restores_it(tmp_path, own_daemon) -> None:
    path = str(tmp_path / "cache.db")
    write(path, VALUES, {"s": 100})
    d = own_daemon("--restore", path)
    with pycache.Client(d.dir) as c:
        assert {k: c.get(k) for k in VALUES} == {k: v.value for k, v in VALUES.items()}
        assert 90 < c.ttl("s") <= 100


def test_one_process_at_a_time(tmp_path) -> None:
    path = str(tmp_path / "cache.db")
    adapter = SQLite(path)
    adapter.client()
    other_process = subprocess.run(
        [sys.executable, "-c", "import sys, pycache\n"
         "try:\n    pycache.SQLite(sys.argv[1]).client()\n"
         "except pycache.errors.BusyError as e:\n    print(e)\n    sys.exit(3)\n", path],
        capture_output=True, text=True, timeout=60)
    assert other_process.returncode == 3, other_process.stderr
    assert "another process" in other_process.stdout
    # two adapters of one process on one file share its store
    other = SQLite(path)
    adapter.client().set("k", "v")
    assert other.client().get("k") == "v"
    adapter.close()
    other.close()


def test_not_our_file(tmp_path) -> None:
    path = str(tmp_path / "theirs.db")
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t(x)")
    db.close()
    with pytest.raises(errors.CorruptError):
        SQLite(path).client()


async def test_a_failed_write_to_the_file_leaves_the_store_as_the_file(tmp_path,
                                                                     monkeypatch) -> None:
    from pycache.adapters.SQLite import _Store

    cache = PyCache(SQLite(str(tmp_path / "cache.db")))
    async with cache.session() as s:
        await s.set("k", String("v1"))

        def broken(self, db, key):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(_Store, "_put", broken)
        with pytest.raises(sqlite3.OperationalError):
            await s.set("k", String("v2"))
        with pytest.raises(sqlite3.OperationalError):
            async with s.with_transaction() as tx:
                await tx.set("k", String("v3"))
                await tx.set("new", String("x"))
        monkeypatch.undo()
        assert await s.get("k") == "v1" and await s.get("new") is None
    cache.close()
