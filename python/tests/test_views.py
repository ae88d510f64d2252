"""Zero-copy reads: memoryviews into the map live only as long as their read."""

from __future__ import annotations

import gc
import threading

import pytest

import pycache
from pycache import errors


def test_views_inside_the_block(client: pycache.Client) -> None:
    client.set("s", "hello")
    client.set("n", 7)
    client.set("l", ["a", 1, None])
    client.set("m", {"f": "v"})
    with client.read() as r:
        assert r.open
        v = r.get("s")
        assert isinstance(v, memoryview) and v.readonly and bytes(v) == b"hello"
        assert r.get("n") == 7 and r.get("missing") is None
        elems = r.get("l")
        assert bytes(elems[0]) == b"a" and elems[1:] == [1, None]
        ((field, value),) = r.hgetall("m").items()
        assert bytes(field) == b"f" and bytes(value) == b"v"
        assert bytes(r.getrange("s", 1, 3)) == b"ell"
        assert [bytes(k) for k in r.keys()] == [b"l", b"m", b"n", b"s"]
    assert not r.open


def test_a_view_used_after_the_block_raises(client: pycache.Client) -> None:
    client.set("s", "hello")
    client.set("l", ["a", "b"])
    with client.read() as r:
        v = r.get("s")
        elems = r.get("l")
    for view in (v, elems[0], elems[1]):
        for use in (bytes, lambda m: m[0], lambda m: m.tobytes(), len):
            with pytest.raises(ValueError):
                use(view)
    with pytest.raises(errors.StateError):
        r.get("s")


def test_the_exporter_refuses_after_the_block(client: pycache.Client) -> None:
    client.set("s", "hello")
    with client.read() as r:
        v = r.get("s")
        span = v.obj
    with pytest.raises(BufferError):
        memoryview(span)


def test_a_slice_pins_its_snapshot(client: pycache.Client) -> None:
    client.set("s", "x" * 4096)
    with client.read() as r:
        v = r.get("s")
        keep = v[100:200]  # shares the buffer: outlives the block
        other = memoryview(v)
    with pytest.raises(ValueError):
        bytes(v)
    # the pages keep what the snapshot saw, however much is written meanwhile
    for i in range(2000):
        client.set("s", str(i % 10) * 4096)
        client.set(f"filler{i % 50}", "y" * 2048)
    assert bytes(keep) == b"x" * 100 and bytes(other)[:10] == b"x" * 10
    assert client.get("s") == "9" * 4096  # the thread carries on with a new connection
    assert client._handles() == 1  # its own: the pinned one left with the read
    del keep, other
    gc.collect()
    with client.read() as r:  # and reads afresh
        assert bytes(r.get("s")) == b"9" * 4096


def test_plain_reads_inside_a_read_see_its_snapshot(client: pycache.Client) -> None:
    client.set("k", "old")
    with pycache.Client(client.dir) as other, client.read() as r:
        assert bytes(r.get("k")) == b"old"  # the snapshot is taken at the first lookup
        other.set("k", "new")
        assert client.get("k") == "old" and bytes(r.get("k")) == b"old"
    assert client.get("k") == "new"


def test_one_read_per_thread_and_only_there(client: pycache.Client) -> None:
    client.set("k", "v")
    with client.read() as r:
        with pytest.raises(errors.StateError):
            client.read()
        failures = []

        def elsewhere() -> None:
            try:
                r.get("k")
            except errors.StateError:
                failures.append("refused")
            with client.read() as r2:  # another thread reads on its own connection
                failures.append(bytes(r2.get("k")))

        t = threading.Thread(target=elsewhere)
        t.start()
        t.join()
        assert failures == ["refused", b"v"]


def test_a_read_without_with(client: pycache.Client) -> None:
    client.set("k", "v")
    r = client.read()
    assert bytes(r.get("k")) == b"v"
    r.close()
    r.close()
    r = client.read()
    del r  # ending it by dropping it
    gc.collect()
    with client.read() as r:
        assert bytes(r.get("k")) == b"v"


def test_a_pinned_read_in_a_batch(client: pycache.Client) -> None:
    client.set("k", "v")
    with client.batch():
        with client.read() as r:
            keep = r.get("k")[:]
        with pytest.raises(BufferError):
            client.get("k")  # the batch holds the thread's connection: it stays pinned
        del keep
        gc.collect()
        assert client.get("k") == "v"
        client.set("k2", "w")
    assert client.get("k2") == "w"


def test_views_after_close(store: str) -> None:
    c = pycache.Client(store)
    c.set("k", "value")
    with c.read() as r:
        keep = r.get("k")[:]
    c.close()
    assert bytes(keep) == b"value"  # still the pinned snapshot's bytes
    del keep
    gc.collect()
