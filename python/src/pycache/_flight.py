"""Single flight and rate limiting across processes, built on what the C API
has today: a lock key set with NX and a TTL, and transactions with
check-and-set conditions.

The helpers issue (issue 16) brings primitives for both; the decorators
call only the functions here, so swapping them in changes this module alone.

Single flight.  The first caller to miss sets ``KEY:flight`` with NX and a
TTL (the lock); it computes, stores the value, and deletes the lock if it is
still its own (a transaction that requires the version it read).  The others
wait, re-reading the value and the lock with a growing pause (0.5 ms up to
25 ms), until the value appears, or the lock is gone without a value (the
leader failed: one of them leads next), or the lock's TTL ran out (the
leader died: the same).  A read is a zero-copy lookup, so waiting costs
little; an asyncio waiter awaits asyncio.sleep between reads.

Rate limit.  A fixed window: the counter key is created at 1 with the
window's TTL by a transaction that requires it absent, and raised by a
transaction that requires the version read, so two processes can never both
take the last slot; a conflict retries.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Optional, Tuple

from .client import Client
from .errors import ConflictError, WrongTypeError

__all__ = ["lock_key", "try_lead", "finish", "poll", "wait", "await_value", "hit"]

FIRST_PAUSE = 0.0005
LAST_PAUSE = 0.025


def lock_key(key: Any) -> Any:
    """The lock of a single-flight computation of key."""
    return key + (b":flight" if isinstance(key, bytes) else ":flight")


def try_lead(c: Client, key: Any, lock_ttl: float) -> Optional[str]:
    """Take the lock: a token that finish() needs, or None when another holds it."""
    token = f"{os.getpid()}:{time.monotonic_ns()}:{id(c)}"
    return token if c.set(lock_key(key), token, lock_ttl, nx=True) else None


def finish(c: Client, key: Any, token: str) -> None:
    """Give the lock back if it is still ours (its TTL may have run out)."""
    lk = lock_key(key)
    value, version = c.get_versioned(lk)
    if value != token:
        return
    try:
        with c.transaction() as t:
            t.require_version(lk, version)
            t.delete(lk)
    except ConflictError:
        pass  # taken by another meanwhile: it is theirs now


def poll(c: Client, key: Any) -> Tuple[Any, bool]:
    """(the value or None, whether a leader still holds the lock)."""
    value = c.get(key)
    if value is not None:
        return value, False
    return None, bool(c.exists(lock_key(key)))


def wait(c: Client, key: Any) -> Any:
    """Wait while a leader computes key: its value, or None when the leader went
    without one (then lead)."""
    pause = FIRST_PAUSE
    while True:
        value, held = poll(c, key)
        if value is not None or not held:
            return value
        time.sleep(pause)
        pause = min(pause * 2, LAST_PAUSE)


async def await_value(c: Client, key: Any) -> Any:
    """wait() for asyncio: the loop runs other tasks between reads."""
    pause = FIRST_PAUSE
    while True:
        value, held = poll(c, key)
        if value is not None or not held:
            return value
        await asyncio.sleep(pause)
        pause = min(pause * 2, LAST_PAUSE)


def hit(c: Client, key: Any, limit: int, window: Optional[float]) -> bool:
    """Count one call against key's limit: True if it may run, False when the
    limit is reached.  window: the counter's TTL in seconds (None: none)."""
    while True:
        count, version = c.get_versioned(key)
        try:
            if count is None:
                with c.transaction() as t:
                    t.require_absent(key)
                    t.set(key, 1, window)
                return True
            if not isinstance(count, int):
                raise WrongTypeError(f"rate limit key {key!r} holds {count!r}, not a count")
            if count >= limit:
                return False
            with c.transaction() as t:
                t.require_version(key, version)
                t.incr(key)
            return True
        except ConflictError:
            continue  # another process counted meanwhile: look again
