"""No leak: resident memory stays flat over a million calls.

The million run on an embedded store (a write is ~2 us there, against
~5-100 us through a daemon on a loaded two-core machine); the binding's
code is the same in both modes, and a shorter run goes through the daemon.
"""

from __future__ import annotations

import gc
import os

import pycache
from pycache import errors

PAGE = os.sysconf("SC_PAGE_SIZE")
SLACK = 4 << 20  # a leak of 8 bytes a call would be 8 MB here


def rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def churn(client: pycache.Client, n: int) -> None:
    get, set_ = client.get, client.set
    for i in range(n):
        key = "k%d" % (i % 1000)
        set_(key, "value-%d" % i)
        assert get(key) is not None


def test_a_million_gets_and_sets(embedded: pycache.Client) -> None:
    client = embedded
    get, set_ = client.get, client.set
    for i in range(20000):  # warm up: the allocators' pools, the key cache
        set_("k%d" % (i % 1000), "value-%d" % i)
        get("k%d" % (i % 1000))
    before = rss()
    churn(client, 500000)  # 500,000 sets and 500,000 gets
    grown = rss() - before
    assert grown < SLACK, f"resident memory grew by {grown} bytes over 1,000,000 calls"


def test_through_the_daemon(client: pycache.Client) -> None:
    churn(client, 5000)
    before = rss()
    churn(client, 20000)
    grown = rss() - before
    assert grown < SLACK, f"resident memory grew by {grown} bytes over 40,000 calls"


def test_other_paths(embedded: pycache.Client) -> None:
    """Collections, errors, batches, transactions, views: 20,000 rounds."""
    client = embedded

    def round_(i: int) -> None:
        client.set("l", [i, "x", None, 1.5])
        assert client.get("l")[0] == i
        client.set("m", {"a": i, "b": "y"})
        client.hgetall("m")
        client.set("q", ("a", "b"), type="queue")
        client.qpop("q", 2)
        client.sadd("s", i % 7)
        client.smembers("s")
        try:
            client.pttl("missing")
        except errors.NotFoundError:
            pass
        try:
            client.incr("l")
        except errors.WrongTypeError:
            pass
        with client.batch() as b:
            b.set("b1", i)
            b.incr("l")  # fails: its exception is a result
        with client.transaction() as t:  # keys of one shard: a common tag
            t.require_absent("{t}never")
            t.set("{t}1", "v")
        with client.read() as r:
            bytes(r.get("{t}1"))
            r.get_many(["l", "m", "missing"])
        client.mget(["b1", "{t}1", "missing"])

    for i in range(2000):
        round_(i)
    before = rss()
    for i in range(20000):
        round_(i)
    grown = rss() - before
    assert grown < SLACK, f"resident memory grew by {grown} bytes over 20,000 rounds"
