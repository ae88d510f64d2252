"""pycache.Client against a real pycached: every type, TTLs, batches,
transactions, errors."""

from __future__ import annotations

import math
import time
from collections import deque

import pytest

import pycache
from pycache import errors

from conftest import wait_for

# The seed README's values, one per type.
SEED_VALUES = {
    "user_name": "John Doe",
    "user_age": 30,
    "price": 19.99,
    "user_hobbies": ["reading", "swimming", "coding"],
    "items": [1, 2, 3, "hello", True],
    "user_profile": {"city": "New York", "country": "USA"},
    "user": {"name": "Alice", "age": 25},
    "unique_items": {1, 2, 3, "unique"},
    "task_queue": deque(["task1", "task2", "task3"]),
    "scores": [100, 95, 87],
    "config": {"theme": "dark", "lang": "en"},
    "greeting": "Hello, World!",
}


def test_round_trip_every_type(client: pycache.Client) -> None:
    for key, value in SEED_VALUES.items():
        assert client.set(key, value) is True
    for key, value in SEED_VALUES.items():
        got = client.get(key)
        assert got == value and type(got) is type(value), key
    assert client.type("user_name") == "string"
    assert client.type("user_age") == "numeric"
    assert client.type("user_hobbies") == "list"
    assert client.type("user_profile") == "map"
    assert client.type("unique_items") == "set"
    assert client.type("task_queue") == "queue"
    assert client.type("nope") is None
    assert sorted(client.keys()) == sorted(SEED_VALUES)


def test_scalars_and_elements(client: pycache.Client) -> None:
    elements = [None, True, False, 0, -1, 2**63 - 1, -(2**63), 1.5, -0.25, "", "é🚀", b"\x00\xff"]
    client.set("l", elements)
    got = client.get("l")
    # bytes come back as str: undecodable bytes as lone surrogates, which go back exactly
    assert got[:-1] == elements[:-1]
    assert got[-1].encode("utf-8", "surrogateescape") == b"\x00\xff"
    client.set("raw", got[-1])
    assert pycache.Client(client.dir, decode=False).get("raw") == b"\x00\xff"
    assert client.set("big", 2**63 - 1) and client.get("big") == 2**63 - 1
    with pytest.raises(OverflowError):
        client.set("big", 2**63)
    with pytest.raises(errors.NotFiniteError):
        client.set("nan", math.nan)
    with pytest.raises(ValueError):
        client.set("inf", [math.inf])
    with pytest.raises(TypeError):
        client.set("b", True)  # no top-level bool: only as an element
    with pytest.raises(errors.UnsupportedValueError):
        client.set("nested", [1, {"a": 1}])
    with pytest.raises(errors.UnsupportedValueError):
        client.set("nested", {"a": {"b": 1}})
    with pytest.raises(errors.UnsupportedValueError):
        client.set("x", object())
    assert client.get("nested") is None and client.get("x") is None  # nothing stored


def test_keys_are_1_to_250_bytes(client: pycache.Client) -> None:
    with pytest.raises(errors.InvalidKeyError):
        client.set("", "x")
    with pytest.raises(ValueError):  # InvalidKeyError is a ValueError
        client.get("k" * 251)
    assert client.set("k" * 250, "x") and client.get("k" * 250) == "x"
    assert client.set(b"\x00bin\xff", 1) and client.get(b"\x00bin\xff") == 1
    with pytest.raises(TypeError):
        client.get(3)


def test_empty_collection_deletes_the_key(client: pycache.Client) -> None:
    client.set("l", [1])
    client.set("l", [])
    assert client.get("l") is None and not client.exists("l")


def test_set_conditions_and_type_override(client: pycache.Client) -> None:
    assert client.set("k", "a", nx=True) is True
    assert client.set("k", "b", nx=True) is False
    assert client.set("missing", "b", xx=True) is False
    assert client.set("k", "c", xx=True) is True and client.get("k") == "c"
    client.set("q", ["a", "b"], type="queue")
    assert client.get("q") == deque(["a", "b"])
    client.set("s", "abca", type="set")
    assert client.get("s") == {"a", "b", "c"}
    with pytest.raises(TypeError):
        client.set("n", "12", type="numeric")
    with pytest.raises(ValueError):
        client.set("n", 1, type="tree")


def test_ttl(client: pycache.Client) -> None:
    client.set("t", "v", ttl=30)
    assert 29 < client.ttl("t") <= 30
    assert 29000 < client.pttl("t") <= 30000
    assert client.persist("t") is True and client.ttl("t") is None
    assert client.expire("t", 0.05) is True
    assert client.expire("missing", 5) is False
    with pytest.raises(ValueError):
        client.expire("t", 0)
    with pytest.raises(ValueError):
        client.set("t2", "v", ttl=-1)
    wait_for(lambda: client.get("t") is None, 10, "the key to expire")
    with pytest.raises(errors.NotFoundError):
        client.pttl("t")
    client.set("k", 1, ttl=100)
    client.set("k", 2)  # a set without keepttl drops the TTL
    assert client.ttl("k") is None
    client.set("k", 3, ttl=100)
    client.set("k", 4, keepttl=True)
    assert client.ttl("k") is not None


def test_strings_and_numbers(client: pycache.Client) -> None:
    assert client.append("s", "ab") == 2 and client.append("s", b"cd") == 4
    assert client.strlen("s") == 4 and client.getrange("s", 1, 2) == "bc"
    assert client.setrange("s", 6, "x") == 7 and client.get("s") == "abcd\x00\x00x"
    assert client.getset("s", "new") == "abcd\x00\x00x" and client.getset("none", 1) is None
    assert client.incr("n") == 1 and client.incr("n", 10) == 11 and client.incr("n", -12) == -1
    assert client.incrbyfloat("f", 0.5) == 0.5
    with pytest.raises(errors.WrongTypeError):
        client.incr("s")
    with pytest.raises(errors.WrongTypeError):
        client.incr("f")  # a double Numeric is not an integer
    client.set("max", 2**63 - 1)
    with pytest.raises(errors.NumericOverflowError):
        client.incr("max")
    client.mset({"m1": "a", "m2": 2, "m3": 3.5})
    assert client.mget(["m1", "m2", "m3", "missing"]) == ["a", 2, 3.5, None]
    assert client.delete("m1") == 1 and client.delete("m1") == 0


def test_lists_and_queues(client: pycache.Client) -> None:
    assert client.rpush("l", 1, 2, 3) == 3 and client.lpush("l", 0) == 4
    assert client.lrange("l") == [0, 1, 2, 3] and client.lrange("l", -2) == [2, 3]
    assert client.lrange("l", 1, 2) == [1, 2] and client.lrange("missing") == []
    assert client.llen("l") == 4 and client.lindex("l", -1) == 3 and client.lindex("l", 9) is None
    client.lset("l", 0, "zero")
    assert client.lpop("l") == "zero" and client.rpop("l", 2) == [3, 2]
    client.rpush("l", "x", "x", "y")
    assert client.lrem("l", "x") == 2 and client.lrange("l") == [1, "y"]
    client.ltrim("l", 1, 1)
    assert client.get("l") == ["y"]
    assert client.lpop("missing") is None and client.lpop("missing", 3) == []
    with pytest.raises(errors.IndexOutOfRangeError):
        client.lset("l", 5, "v")
    big = list(range(1000))  # more than a page of the C side's reads
    client.set("big", big)
    assert client.get("big") == big and client.lrange("big", 300, 700) == big[300:701]
    assert client.qpush("q", "a", "b") == 2 and client.qpeek("q") == "a"
    assert client.qrange("q") == ["a", "b"] and client.qlen("q") == 2
    assert client.qpop("q") == "a" and client.qpop("q", 5) == ["b"] and client.qpop("q") is None
    with pytest.raises(errors.WrongTypeError):
        client.qpush("l", 1)


def test_maps_and_sets(client: pycache.Client) -> None:
    assert client.hset("h", "a", 1) == 1 and client.hset("h", {"a": 2, "b": None}) == 1
    assert client.hget("h", "a") == 2 and client.hget("h", "zz") is None
    assert client.hmget("h", ["a", "b", "c"]) == [2, None, None]
    assert client.hexists("h", "b") and not client.hexists("h", "c") and client.hlen("h") == 2
    assert client.hincrby("h", "n", 5) == 5 and client.hincrbyfloat("h", "n", 0.5) == 5.5
    assert client.hdel("h", "a", "zz") == 1 and client.hgetall("h") == {"b": None, "n": 5.5}
    fields = {f"f{i}": i for i in range(700)}
    client.set("bigmap", fields)
    assert client.hgetall("bigmap") == fields
    assert client.sadd("s", 1, "1", 1.5) == 3 and client.sadd("s", 1) == 0
    assert client.sismember("s", "1") and not client.sismember("s", 2) and client.scard("s") == 3
    assert client.srem("s", 1.5, "zz") == 1 and client.smembers("s") == {1, "1"}
    client.sadd("t", "1", "2")
    assert client.sunion("s", "t") == {1, "1", "2"} and client.sinter("s", "t") == {"1"}
    assert client.sdiff("s", "t") == {1}
    assert len(client.spop("t", 5)) == 2 and client.spop("t") is None


def test_keys_pattern_and_expiry_listing(client: pycache.Client) -> None:
    for k in ("user:1", "user:2", "other"):
        client.set(k, k, ttl=100 if k != "other" else None)
    assert sorted(client.keys("user:*")) == ["user:1", "user:2"]
    listed = client.expiring()
    assert [k for k, _ in listed] == ["user:1", "user:2"] or sorted(k for k, _ in listed) == [
        "user:1", "user:2"]
    now_ms = time.time() * 1000
    assert all(now_ms < at <= now_ms + 101000 for _, at in listed)
    assert client.expired_count() == 0


def test_batch(client: pycache.Client) -> None:
    with client.batch() as b:
        b.set("a", 1)
        b.incr("a")
        client.incr("a")  # the client's own calls queue too, on this thread
        b.lpop("missing")
        b.incr("s")  # a missing key counts as 0
        assert client.mode() == "batch" and client.pending() == 5
    assert b.results == [True, 2, 3, None, 1]
    client.set("str", "x")
    with client.batch() as b:
        b.set("k", "v")
        b.incr("str")
    assert b.results[0] is True and isinstance(b.results[1], errors.WrongTypeError)
    assert client.get("k") == "v"  # each write of a batch applies on its own
    with pytest.raises(RuntimeError):
        with client.batch() as b:
            b.set("dropped", 1)
            raise RuntimeError("drop it")
    assert client.get("dropped") is None and client.mode() == "idle"


def test_transaction(client: pycache.Client) -> None:
    # The keys share a tag: a transaction lives in one shard, and a store has
    # one shard per core by default.
    with client.transaction() as t:
        t.set("{t}a", 1)
        t.set("{t}b", 2)
        assert client.get("{t}a") is None  # reads see the store, not the queue
    assert t.results == [True, True] and client.mget(["{t}a", "{t}b"]) == [1, 2]
    version = client.version("{t}a")
    client.set("{t}a", 10)  # another writer got there first
    with pytest.raises(errors.ConflictError) as info:
        with client.transaction() as t:
            t.require_version("{t}a", version)
            t.set("{t}b", 20)
    assert info.value.index == 0 and client.get("{t}b") == 2  # nothing written
    with pytest.raises(errors.WrongTypeError) as info:
        with client.transaction() as t:
            t.set("{t}c", 3)
            t.incr("{t}b")
            t.lpush("{t}b", 1)  # fails at commit: b is a Numeric
    assert info.value.index == 2 and client.get("{t}c") is None
    with client.transaction() as t:
        t.require_absent("{t}new")
        t.set("{t}new", "x")
    assert client.get("{t}new") == "x"
    with pytest.raises(errors.StateError):
        client.require_absent("x")  # only in a transaction
    with pytest.raises(errors.StateError):
        with client.transaction():
            client.qpop_wait("q", 1)  # never in a transaction
    assert client.mode() == "idle"


def test_transaction_cross_shard(client: pycache.Client) -> None:
    shards = client.store_info()["shards"]
    if shards < 2:
        pytest.skip("a store of one shard takes any keys in a transaction")
    keys = [f"k{i}" for i in range(64)]
    with pytest.raises(errors.CrossShardError) as info:
        with client.transaction() as t:
            for k in keys:
                t.set(k, 1)  # refused at the first key in another shard
    message = str(info.value)
    assert "'k0'" in message and "{tag}" in message and message.count("PC_ECROSSSHARD") == 1
    assert client.mget(keys) == [None] * 64  # nothing written
    with client.transaction() as t:
        for k in keys:
            t.set("{user}" + k, 1)
    assert client.mget(["{user}" + k for k in keys]) == [1] * 64


def test_errors_carry_codes(client: pycache.Client) -> None:
    client.set("s", "x")
    with pytest.raises(errors.WrongTypeError) as info:
        client.lpush("s", 1)
    e = info.value
    assert e.code == -31002 and e.name == "PC_EWRONGTYPE" and isinstance(e, TypeError)
    assert "lpush" in str(e) and "wrong type" in str(e)
    assert issubclass(errors.NotServedError, ConnectionRefusedError)
    assert issubclass(errors.NotFoundError, KeyError)
    assert issubclass(errors.InvalidKeyError, ValueError)
    assert issubclass(errors.TimedOutError, TimeoutError)
    assert errors.error_class("PC_ECONFLICT") is errors.ConflictError


def test_connect_errors(tmp_path) -> None:
    with pytest.raises(errors.NotServedError):
        pycache.Client(str(tmp_path))  # a directory no daemon serves
    with pytest.raises(errors.StoreNotFoundError):
        pycache.Client(str(tmp_path / "none"), embedded=True)


def test_close(store: str) -> None:
    c = pycache.Client(store)
    c.set("k", 1)
    with c:
        assert c.get("k") == 1
    assert c.closed
    with pytest.raises(errors.ClosedError):
        c.get("k")
    c.close()  # twice is fine


def test_stats_and_info(client: pycache.Client) -> None:
    client.set("k", "v")
    info = client.store_info()
    assert info["shards"] >= 1 and not info["embedded"]
    # the daemon refreshes its figures on its own schedule
    wait_for(lambda: client.stats()["keys_by_type"]["string"] >= 1, 30,
             "the daemon's stats to count the key")
    stats = client.stats()
    assert stats["pid"] > 0 and stats["keys"] >= 1 and stats["started_ms"] > 0


def test_embedded(embedded: pycache.Client) -> None:
    embedded.set("k", [1, 2])
    assert embedded.embedded and embedded.get("k") == [1, 2]
    with pytest.raises(errors.NotSupportedError):
        embedded.stats()


def test_qpop_wait(client: pycache.Client) -> None:
    t0 = time.monotonic()
    assert client.qpop_wait("q", 0.2) is None
    assert time.monotonic() - t0 >= 0.19
    client.qpush("q", "x")
    assert client.qpop_wait("q", 5) == "x"
    assert client.qpop_wait("q", 0) is None and client.qpop_wait("q", 0.01, 2) == []
