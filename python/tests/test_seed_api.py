"""The seed library's session API on the three adapters: InMemory, SQLite and
Daemon.  What the seed's own end-to-end tests exercise is exercised here,
and where pycache differs on purpose (docs/python.md, "Differences from the
seed"), the difference is what is tested."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import deque
from typing import Iterator

import pytest

import pycache
from pycache import errors
from pycache.adapters import Daemon, InMemory, SQLite
from pycache.adapters.InMemory import InMemory as InMemoryFromModule
from pycache.adapters.SQLite import SQLite as SQLiteFromModule
from pycache.datatypes import List, Map, Numeric, Queue, Set, String
from pycache.py_cache import PyCache

from conftest import Daemon as DaemonProcess

EXPIRE = 1.3  # long enough past a 1 s TTL


@pytest.fixture(scope="module")
def quiet_daemon() -> Iterator[DaemonProcess]:
    """A daemon whose own TTL worker is stopped, so that expired keys stay
    until PyCache's worker purges them, as with the seed's adapters; of one
    shard, because the seed's transactions take any keys, and a transaction
    lives in one shard (docs/python.md)."""
    d = DaemonProcess("--expire-interval", "0", "--shards", "1").start()
    yield d
    assert d.stop() == 0, d.logs()
    d.remove()


@pytest.fixture(params=["InMemory", "SQLite", "Daemon"])
def make_cache(request: pytest.FixtureRequest, tmp_path):
    made = []

    def make() -> PyCache:
        if request.param == "InMemory":
            cache = PyCache(InMemory("memory://"))
        elif request.param == "SQLite":
            # an existing empty file, as the seed's tests make one
            path = tempfile.NamedTemporaryFile(delete=False, suffix=".db", dir=tmp_path).name
            cache = PyCache(SQLite(path))
        else:
            d = request.getfixturevalue("quiet_daemon")
            if not made:
                with pycache.Client(d.dir) as c:
                    c.flush()
            cache = PyCache(Daemon(d.dir))
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache.close()


@pytest.fixture
def cache(make_cache) -> PyCache:
    return make_cache()


def test_module_paths() -> None:
    assert InMemoryFromModule is InMemory and SQLiteFromModule is SQLite
    import pycache.adapters.Daemon
    import pycache.datatypes.String
    import pycache.decorators
    import pycache.py_cache

    assert pycache.decorators.cache and pycache.py_cache.PyCache is PyCache


async def test_strings(cache: PyCache) -> None:
    async with cache.session() as s:
        assert await s.get("nope") is None
        assert await s.set("foo", String("bar")) == 1
        assert await s.get("foo") == "bar"
        await s.set("foo", String("baz"))
        assert await s.get("foo") == "baz"
        assert await s.exists("foo")
        await s.set("other", String("x"))
        assert sorted(await s.keys()) == ["foo", "other"]
        assert await s.delete("foo") == 1
        assert await s.delete("foo") == 0
        assert not await s.exists("foo") and await s.keys() == ["other"]
        await s.set("key with spaces!@#$%^&*()", String("special"))
        await s.set("ключ_с_кириллицей", String("unicode"))
        assert await s.get("key with spaces!@#$%^&*()") == "special"
        assert await s.get("ключ_с_кириллицей") == "unicode"
        await s.set("large", String("x" * 10000))
        assert await s.get("large") == "x" * 10000
        await s.set("number_as_string", String(123))
        assert await s.get("number_as_string") == "123"


async def test_every_type(cache: PyCache) -> None:
    async with cache.session() as s:
        await s.set("list", List([1, 2, 3, "hello"]))
        await s.set("mixed", List([1, "string", True, None, 2.5]))
        await s.set("map", Map({"name": "John", "age": 30, "city": "New York"}))
        await s.set("int", Numeric(42))
        await s.set("float", Numeric(3.14159))
        await s.set("neg", Numeric(-100))
        await s.set("set", Set({1, 2, 3, "hello"}))
        await s.set("set_from_list", Set([1, 1, 2, 2, 3]))
        await s.set("mixed_set", Set({1, "string", True, None}))
        await s.set("queue", Queue([1, 2, 3, "hello"]))
        await s.set("deque", Queue(deque([1, 2, 3])))
        assert await s.get("list") == [1, 2, 3, "hello"]
        assert await s.get("mixed") == [1, "string", True, None, 2.5]
        assert await s.get("map") == {"name": "John", "age": 30, "city": "New York"}
        assert await s.get("int") == 42 and await s.get("float") == 3.14159
        assert await s.get("neg") == -100
        assert await s.get("set") == {1, 2, 3, "hello"}
        assert await s.get("set_from_list") == {1, 2, 3}
        assert await s.get("mixed_set") == {1, "string", True, None}
        q = await s.get("queue")
        assert isinstance(q, deque) and list(q) == [1, 2, 3, "hello"]
        assert list(await s.get("deque")) == [1, 2, 3]
        for key, first, second in [("list", List([1]), List([4, 5, 6])),
                                   ("map", Map({"old": "v"}), Map({"new": "v"})),
                                   ("set", Set({1}), Set({4, 5, 6})),
                                   ("queue", Queue([1]), Queue([4, 5, 6])),
                                   ("int", Numeric(10), Numeric(20))]:
            await s.set(key, first)
            await s.set(key, second)
            got = await s.get(key)
            assert (list(got) if isinstance(got, deque) else got) == (
                list(second.value) if key == "queue" else second.value)
        with pytest.raises(errors.WrongTypeError):
            await s.get("int", expected_datatype=List)
        assert await s.get("int", expected_datatype=Numeric) == 20


async def test_differences_from_the_seed(cache: PyCache) -> None:
    """What the store cannot hold is a clear error, and changes nothing."""
    async with cache.session() as s:
        # nested values: a dict in a list, a nested map
        with pytest.raises(errors.UnsupportedValueError):
            await s.set("nested_list", List([1, {"key": "value"}]))
        with pytest.raises(TypeError):  # UnsupportedValueError is a TypeError
            await s.set("nested_map", Map({"user": {"name": "Alice"}}))
        assert not await s.exists("nested_list") and not await s.exists("nested_map")
        # keys are 1 to 250 bytes
        with pytest.raises(errors.InvalidKeyError):
            await s.set("", String("empty key"))
        with pytest.raises(ValueError):
            await s.set("k" * 251, String("long key"))
        # an empty collection does not exist: storing one deletes the key
        await s.set("coll", List([1]))
        await s.set("coll", List([]))
        assert await s.get("coll") is None
        for empty in (List([]), Map({}), Set(set()), Queue([])):
            await s.set("empty", empty)
            assert await s.get("empty") is None
        # a set replaces the value and drops the TTL (as Redis does)
        await s.set("t", String("v"))
        await s.set_expire("t", 100)
        await s.set("t", String("w"))
        assert await s.get_expire("t") is None


async def test_batches(cache: PyCache) -> None:
    async with cache.session() as s:
        assert await s.batch_set({"a": String("1"), "b": String("2")}) == 2
        assert await s.batch_get(["a", "b", "c"]) == {"a": "1", "b": "2"}
        mixed = {"string_key": String("hello"), "list_key": List([1, 2, 3]),
                 "map_key": Map({"a": 1, "b": 2}), "numeric_key": Numeric(42),
                 "set_key": Set({1, 2, 3}), "queue_key": Queue([1, 2, 3])}
        assert await s.set("ignored", mixed) == 6  # a dict of datatypes is a batch
        got = await s.batch_get(list(mixed))
        assert got == {k: v.value for k, v in mixed.items()}
        with pytest.raises(TypeError):
            await s.batch_set({"x": "not a datatype"})
        with pytest.raises(TypeError):
            await s.set("x", "not a datatype")


async def test_set_expire_arguments(cache: PyCache) -> None:
    async with cache.session() as s:
        await s.set("k", String("v"))
        for bad in (0, -1, 0.5):
            with pytest.raises(ValueError):
                await s.set_expire("k", bad)
        with pytest.raises(TypeError):
            await s.set_expire("k", "10")
        assert await s.exists("k") and await s.get_expire("k") is None
        assert await s.set_expire("missing", 10) == 0 and not await s.exists("missing")
        assert await s.set_expire("k", 3600) == 1 and await s.get_expire("k") == 3600
        assert await s.set_expire("k", 2.5) == 1 and await s.get_expire("k") == 3


async def test_expiry(cache: PyCache) -> None:
    async with cache.session() as s:
        for k in ("k1", "k2", "k3", "key with spaces!@#", "ключ"):
            await s.set(k, String("v"))
        await s.set("persistent", String("p"))
        await s.set_expire("k1", 1)
        await s.set_expire("k2", 7)
        await s.set_expire("k3", 1)
        await s.set_expire("k3", 30)  # a later TTL replaces the first
        await s.set_expire("key with spaces!@#", 1)
        await s.set_expire("ключ", 1)
        assert (await s.batch_get(["k1", "persistent"])).keys() == {"k1", "persistent"}
        await asyncio.sleep(EXPIRE)
        for gone in ("k1", "key with spaces!@#", "ключ"):
            assert not await s.exists(gone) and await s.get(gone) is None
            assert gone not in await s.keys()
        assert await s.batch_get(["k1", "persistent"]) == {"persistent": "p"}
        assert await s.exists("k2") and await s.exists("k3") and await s.exists("persistent")
        assert await s.get_expire("k1") is None
        assert await s.delete("k1") == 0  # an expired key is not there to delete
        assert await s.set_expire("k1", 5) == 0
        await s.set_expire("k2", 1)
        await asyncio.sleep(EXPIRE)
        assert not await s.exists("k2") and await s.get_expire("persistent") is None


async def test_ttl_worker(make_cache) -> None:
    cache = make_cache()
    async with cache.session() as s:
        await s.set("e1", String("v"))
        await s.set("e2", String("v"))
        await s.set("keep", String("v"))
        await s.set_expire("e1", 1)
        await s.set_expire("e2", 1)
        assert [k for k, _ in cache.get_all_keys_with_expiry()] == ["e1", "e2"] or sorted(
            k for k, _ in cache.get_all_keys_with_expiry()) == ["e1", "e2"]
        when = cache.get_all_keys_with_expiry()[0][1]
        assert len(when) == 19 and when[4] == "-" and when[13] == ":"
        await asyncio.sleep(EXPIRE)
        assert cache.count_expired_keys() == 2  # expired, still stored, already unseen
        await cache.start_ttl_deletion(delete_interval=0.05)
        for _ in range(400):
            if cache.count_expired_keys() == 0:
                break
            await asyncio.sleep(0.025)
        assert cache.count_expired_keys() == 0
        await cache.stop_ttl_deletion()
        await s.set("e3", String("v"))
        await s.set_expire("e3", 1)
        await asyncio.sleep(EXPIRE)
        assert cache.count_expired_keys() == 1  # stopped: nothing removes it
        assert cache.delete_expired_attributes() == 1
        assert cache.count_expired_keys() == 0 and await s.exists("keep")
        await cache.start_ttl_deletion(0)  # 0: does not start
        assert cache._ttl_task is None


async def test_transactions(cache: PyCache) -> None:
    assert cache.get_support_transactions()
    async with cache.session() as s:
        await s.set("key1", String("initial1"))
        await s.set("key2", String("initial2"))
        async with s.with_transaction() as tx:
            await tx.set("key1", String("updated1"))
            await tx.delete("key2")
            await tx.batch_set({"key3": String("new3"), "key4": Numeric(4)})
            await tx.set_expire("key1", 60)
            # reads inside see the transaction's own writes
            assert await tx.get("key1") == "updated1" and await tx.get("key2") is None
            assert await tx.exists("key3") and not await tx.exists("key2")
            assert sorted(await tx.keys()) == ["key1", "key3", "key4"]
            assert await tx.batch_get(["key1", "key2", "key4"]) == {"key1": "updated1", "key4": 4}
            assert await tx.get_expire("key1") == 60
            # ... and the store does not, until the commit
            assert other_get(cache, "key3") is None
        assert await s.batch_get(["key1", "key2", "key3", "key4"]) == {
            "key1": "updated1", "key3": "new3", "key4": 4}
        assert await s.get_expire("key1") == 60


def other_get(cache: PyCache, key: str):
    """key as another client (another process, say) sees it."""
    with pycache.Client(cache.client.dir, embedded=cache.client.embedded) as c:
        return c.get(key)


@pytest.mark.parametrize("exc", [Exception, ValueError, TypeError, RuntimeError])
async def test_transaction_rolls_back(cache: PyCache, exc: type) -> None:
    async with cache.session() as s:
        await s.set("key1", String("initial"))
        await s.set("key2", String("initial"))
        with pytest.raises(exc):
            async with s.with_transaction() as tx:
                await tx.set("key1", String("updated"))
                await tx.delete("key2")
                await tx.batch_set({f"key_{i}": String(f"value_{i}") for i in range(100)})
                await tx.set("list", List([1, 2, 3]))
                await tx.set("map", Map({"a": 1}))
                await tx.set("set", Set({1}))
                await tx.set("queue", Queue([1]))
                await tx.set("num", Numeric(1))
                await tx.set_expire("key1", 60)
                raise exc("simulated")
        assert await s.get("key1") == "initial" and await s.get("key2") == "initial"
        assert await s.get_expire("key1") is None
        assert await s.keys() == ["key1", "key2"] or sorted(await s.keys()) == ["key1", "key2"]


async def test_transaction_large(cache: PyCache) -> None:
    async with cache.session() as s:
        async with s.with_transaction() as tx:
            await tx.batch_set({f"key_{i}": String(f"value_{i}") for i in range(100)})
        got = await s.batch_get([f"key_{i}" for i in range(100)])
        assert got == {f"key_{i}": f"value_{i}" for i in range(100)}


async def test_transaction_conflict(make_cache) -> None:
    """A transaction whose reads were overtaken writes nothing."""
    cache = make_cache()
    async with cache.session() as s:
        await s.set("balance", Numeric(100))
        with pytest.raises(errors.ConflictError):
            async with s.with_transaction() as tx:
                balance = await tx.get("balance")
                # another writer (a Client of its own: another process, say)
                other = pycache.Client(cache.client.dir, embedded=cache.client.embedded)
                other.set("balance", 500)
                other.close()
                await tx.set("balance", Numeric(balance - 30))
        assert await s.get("balance") == 500


async def test_session_ends(cache: PyCache) -> None:
    async with cache.session() as s:
        await s.set("k", String("v"))
    with pytest.raises(errors.StateError):
        await s.get("k")
    async with cache.session() as s2:
        assert await s2.get("k") == "v"  # sessions of one PyCache share its store
        async with s2.with_transaction():
            with pytest.raises(errors.StateError):
                async with s2.with_transaction():
                    pass


async def test_inmemory_is_private_and_goes_away() -> None:
    a, b = PyCache(InMemory()), PyCache(InMemory())
    async with a.session() as s:
        await s.set("k", String("a"))
    async with b.session() as s:
        assert await s.get("k") is None
    d = a.adapter.dir
    assert d and os.path.isdir(d)
    a.close()
    b.close()
    assert not os.path.exists(d)
