"""Set: unordered distinct scalars."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Set as _Set

from .Datatype import Datatype


class Set(Datatype):
    """A Set made of any iterable of str, bytes, int, float, bool or None.  The
    store keeps 1, 1.0, "1" and True apart; a Python set cannot, so they come
    back as Python collapses them.  An empty Set deletes the key."""

    def __init__(self, value: Any) -> None:
        self._allowed_classes = (Iterable, set, list, tuple)
        super().__init__(value)

    @property
    def value(self) -> _Set[Any]:
        if isinstance(self._value, set):
            return self._value
        return set(self._value)

    @staticmethod
    def get_name() -> str:
        return "set"
