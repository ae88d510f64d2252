"""The seed library's README examples (../shared/seed/pycache-python-README.md),
as they are written there with `src.pycache` replaced by `pycache`; waits of
several seconds are cut to one, and prints are checked."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest

from pycache.adapters import Daemon, InMemory, SQLite
from pycache.datatypes import List, Map, Numeric, Queue, Set, String
from pycache.py_cache import PyCache


async def test_basic_usage(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> None:
        # Create cache with in-memory backend
        cache = PyCache(InMemory())

        # Use cache with session
        async with cache.session() as session:
            # Store different data types
            await session.set("user_name", String("John Doe"))
            await session.set("user_age", Numeric(30))
            await session.set("user_hobbies", List(["reading", "swimming", "coding"]))
            await session.set("user_profile", Map({"city": "New York", "country": "USA"}))

            # Retrieve data
            name = await session.get("user_name")
            age = await session.get("user_age")
            hobbies = await session.get("user_hobbies")
            profile = await session.get("user_profile")

            print(f"Name: {name}")
            print(f"Age: {age}")
            print(f"Hobbies: {hobbies}")
            print(f"Profile: {profile}")

    await main()
    assert capsys.readouterr().out.splitlines() == [
        "Name: John Doe",
        "Age: 30",
        "Hobbies: ['reading', 'swimming', 'coding']",
        "Profile: {'city': 'New York', 'country': 'USA'}",
    ]


async def test_sqlite_backend(tmp_path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)

    async def main() -> None:
        # Create cache with SQLite backend
        cache = PyCache(SQLite("cache.db"))

        async with cache.session() as session:
            # Store data
            await session.set("key1", String("value1"))
            await session.set("key2", List([1, 2, 3, 4, 5]))

            # Check if key exists
            if await session.exists("key1"):
                value = await session.get("key1")
                print(f"Value: {value}")

            # Get all keys
            all_keys = await session.keys()
            print(f"All keys: {all_keys}")
        cache.close()

    await main()
    assert capsys.readouterr().out.splitlines() == ["Value: value1", "All keys: ['key1', 'key2']"]
    assert (tmp_path / "cache.db").stat().st_size > 0


@pytest.fixture(params=["InMemory", "SQLite", "Daemon"])
def cache(request: pytest.FixtureRequest, tmp_path) -> PyCache:
    if request.param == "InMemory":
        c = PyCache(InMemory())
    elif request.param == "SQLite":
        c = PyCache(SQLite(str(tmp_path / "cache.db")))
    else:
        c = PyCache(Daemon(request.getfixturevalue("store")))
    yield c
    c.close()


async def test_data_types(cache: PyCache) -> None:
    async with cache.session() as session:
        await session.set("greeting", String("Hello, World!"))
        assert await session.get("greeting") == "Hello, World!"

        await session.set("count", Numeric(42))
        await session.set("price", Numeric(19.99))
        assert await session.get("count") == 42
        assert await session.get("price") == 19.99

        await session.set("items", List([1, 2, 3, "hello", True]))
        assert await session.get("items") == [1, 2, 3, "hello", True]

        await session.set("user", Map({"name": "Alice", "age": 25}))
        assert await session.get("user") == {"name": "Alice", "age": 25}

        await session.set("unique_items", Set({1, 2, 3, "unique"}))
        assert await session.get("unique_items") == {1, 2, 3, "unique"}

        await session.set("task_queue", Queue(deque(["task1", "task2", "task3"])))
        assert await session.get("task_queue") == deque(["task1", "task2", "task3"])


async def test_ttl(cache: PyCache, capsys: pytest.CaptureFixture[str]) -> None:
    async with cache.session() as session:
        # Store data with 60 seconds TTL
        await session.set("temp_data", String("expires in 60 seconds"))
        await session.set_expire("temp_data", 60)

        # Check remaining TTL
        remaining_ttl = await session.get_expire("temp_data")
        print(f"TTL remaining: {remaining_ttl} seconds")
    assert capsys.readouterr().out == "TTL remaining: 60 seconds\n"


async def test_automatic_ttl_cleanup(cache: PyCache, capsys: pytest.CaptureFixture[str]) -> None:
    # Start TTL worker (runs every 0.5 seconds by default)
    await cache.start_ttl_deletion()

    try:
        async with cache.session() as session:
            await session.set("temp_key", String("will expire"))
            await session.set_expire("temp_key", 1)  # the README says 5

            # Wait for expiration
            await asyncio.sleep(1.2)  # the README says 6

            # Key should be automatically removed
            exists = await session.exists("temp_key")
            print(f"Key exists: {exists}")  # False
            # ... and the worker removed it from the store, not only from view
            for _ in range(200):
                if cache.count_expired_keys() == 0:
                    break
                await asyncio.sleep(0.05)
            assert cache.count_expired_keys() == 0
    finally:
        # Stop TTL worker
        await cache.stop_ttl_deletion()
    assert capsys.readouterr().out == "Key exists: False\n"


async def test_batch_operations(cache: PyCache, capsys: pytest.CaptureFixture[str]) -> None:
    async with cache.session() as session:
        # Batch set multiple values
        data = {
            "user:1": String("Alice"),
            "user:2": String("Bob"),
            "user:3": String("Charlie"),
            "scores": List([100, 95, 87]),
            "config": Map({"theme": "dark", "lang": "en"}),
        }

        await session.batch_set(data)

        # Batch get multiple values
        results = await session.batch_get(["user:1", "user:2", "scores", "nonexistent"])
        print(results)  # {"user:1": "Alice", "user:2": "Bob", "scores": [100, 95, 87]}
    assert capsys.readouterr().out == (
        "{'user:1': 'Alice', 'user:2': 'Bob', 'scores': [100, 95, 87]}\n")


async def test_transactions(cache: PyCache) -> None:
    async with cache.session() as session:
        async with session.with_transaction():
            await session.set("account:1", Numeric(100))
            await session.set("account:2", Numeric(200))

            # If any operation fails, all changes are rolled back
            # If all operations succeed, all changes are committed
        assert await session.batch_get(["account:1", "account:2"]) == {
            "account:1": 100, "account:2": 200}

        with pytest.raises(RuntimeError):
            async with session.with_transaction():
                await session.set("account:1", Numeric(0))
                raise RuntimeError("a failure inside")
        assert await session.get("account:1") == 100


async def test_key_management(cache: PyCache) -> None:
    async with cache.session() as session:
        # Store data
        await session.set("key1", String("value1"))
        await session.set("key2", String("value2"))

        # Check if key exists
        exists = await session.exists("key1")  # True
        assert exists is True

        # Get all keys
        all_keys = await session.keys()  # ["key1", "key2"]
        assert sorted(all_keys) == ["key1", "key2"]

        # Delete specific key
        deleted_count = await session.delete("key1")  # 1
        assert deleted_count == 1

        # Check after deletion
        exists = await session.exists("key1")  # False
        assert exists is False


async def test_error_handling(cache: PyCache, capsys: pytest.CaptureFixture[str]) -> None:
    async with cache.session() as session:
        try:
            # Get non-existent key
            value = await session.get("nonexistent")
            print(f"Value: {value}")  # None

            # Set invalid TTL
            await session.set_expire("key", -1)  # Raises ValueError

        except ValueError as e:
            print(f"Invalid TTL: {e}")
        except Exception as e:
            print(f"Cache error: {e}")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Value: None" and out[1].startswith("Invalid TTL: ")


async def test_concurrent_access(cache: PyCache, capsys: pytest.CaptureFixture[str]) -> None:
    async def worker(cache: PyCache, worker_id: int) -> None:
        async with cache.session() as session:
            for i in range(10):
                key = f"worker:{worker_id}:{i}"
                await session.set(key, String(f"data from worker {worker_id}"))
                await asyncio.sleep(0.01)  # the README says 0.1

    async def main() -> None:
        # Run multiple workers concurrently
        tasks = [worker(cache, i) for i in range(5)]
        await asyncio.gather(*tasks)

        # Verify all data was stored
        async with cache.session() as session:
            keys = await session.keys()
            print(f"Total keys stored: {len(keys)}")

    await main()
    assert capsys.readouterr().out == "Total keys stored: 50\n"
