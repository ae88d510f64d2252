"""The seed's decorators: cache (computed once across processes) and
rate_limit (atomic), for sync and async functions.

How they work across processes, with the C API of today, is in
pycache._flight; both keep the seed's signatures.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import threading
from typing import Any, Callable, Optional, Type, TypeVar, Union

from . import _flight
from .adapters.Adapter import Adapter
from .adapters.InMemory import InMemory
from .datatypes import Datatype, String

__all__ = ["cache", "rate_limit", "get_hash_key"]

F = TypeVar("F", bound=Callable[..., Any])

_default: Optional[InMemory] = None
_default_lock = threading.Lock()


def _default_adapter() -> InMemory:
    """The seed's default: one InMemory shared by the decorators, made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = InMemory()
        return _default


def get_hash_key(prefix: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The key of a call: prefix, then the SHA-256 of the function's name and
    the repr of its arguments (as the seed makes it)."""
    raw_key = f"{fn.__name__}.{fn.__qualname__}:{args}:{kwargs}"
    return f"{prefix}:{hashlib.sha256(raw_key.encode()).hexdigest()}"


def _check_adapter(adapter: Optional[Adapter]) -> None:
    if adapter is not None and not isinstance(adapter, Adapter):
        raise TypeError("adapter must be a instance of Adapter")


def cache(ttl: float = -1, adapter: Optional[Adapter] = None,
          return_type: Type[Datatype] = String, lock_ttl: float = 30.0) -> Callable[[F], F]:
    """Cache a function's result under a key made of its arguments.

    On a hit the stored value comes back (as ``session.get`` returns it: with
    ``return_type=String`` a str).  On a miss the function runs once across
    every process that shares the adapter's store (single flight): one caller
    computes and stores ``return_type(result)`` with ``ttl`` seconds to live
    (none when ttl <= 0), the others wait for it without running the function.
    An async waiter awaits, never blocking the event loop.  ``lock_ttl`` is how
    long others wait for a computation whose process died before they take
    over.  ``adapter`` defaults to one InMemory shared by the decorators.
    """
    _check_adapter(adapter)
    if not (isinstance(return_type, type) and issubclass(return_type, Datatype)):
        raise TypeError("return_type must be a subclass of Datatype")
    window = ttl if ttl > 0 else None

    def decorator(fn: F) -> F:
        def store(a: Adapter, key: str, result: Any) -> None:
            value, typ = return_type(result)._stored()
            a._write((key,), lambda c: c.set(key, value, window, type=typ))

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                a = adapter or _default_adapter()
                c = a.client()
                key = get_hash_key("cache_result", fn, *args, **kwargs)
                while True:
                    value = c.get(key)
                    if value is not None:
                        return value
                    token = _flight.try_lead(c, key, lock_ttl)
                    if token is None:
                        value = await _flight.await_value(c, key)
                        if value is not None:
                            return value
                        continue
                    try:
                        value = c.get(key)  # stored while we took the lock?
                        if value is not None:
                            return value
                        result = await fn(*args, **kwargs)
                        store(a, key, result)
                        return result
                    finally:
                        _flight.finish(c, key, token)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            a = adapter or _default_adapter()
            c = a.client()
            key = get_hash_key("cache_result", fn, *args, **kwargs)
            while True:
                value = c.get(key)
                if value is not None:
                    return value
                token = _flight.try_lead(c, key, lock_ttl)
                if token is None:
                    value = _flight.wait(c, key)
                    if value is not None:
                        return value
                    continue
                try:
                    value = c.get(key)
                    if value is not None:
                        return value
                    result = fn(*args, **kwargs)
                    store(a, key, result)
                    return result
                finally:
                    _flight.finish(c, key, token)

        return sync_wrapper  # type: ignore[return-value]

    return decorator


def _takes_arguments(get_key: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(get_key).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL,
                          p.VAR_KEYWORD) for p in params)


def rate_limit(limit: int = -1, ttl: float = -1, get_key: Optional[Callable[..., Any]] = None,
               exception: Union[BaseException, Type[BaseException]] = Exception(
                   "Rate limit exceeded"),
               adapter: Optional[Adapter] = None) -> Callable[[F], F]:
    """Let a function run at most ``limit`` times per window of ``ttl`` seconds
    (no window when ttl <= 0; no limit when limit is -1), counted atomically
    across every process sharing the adapter's store; beyond it, raise
    ``exception``.  The count is per key: ``get_key()`` (or
    ``get_key(*args, **kwargs)`` when it takes arguments), else a key made of
    the call's arguments.
    """
    _check_adapter(adapter)
    window = ttl if ttl > 0 else None

    def decorator(fn: F) -> F:
        pass_args = get_key is not None and _takes_arguments(get_key)

        def check(args: Any, kwargs: Any) -> None:
            if limit == -1:
                return
            if get_key is None:
                key = get_hash_key("rate_limit", fn, *args, **kwargs)
            else:
                key = get_key(*args, **kwargs) if pass_args else get_key()
            a = adapter or _default_adapter()
            if not a._write((key,), lambda c: _flight.hit(c, key, limit, window)):
                raise exception

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                check(args, kwargs)
                return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            check(args, kwargs)
            return fn(*args, **kwargs)

        return sync_wrapper  # type: ignore[return-value]

    return decorator
