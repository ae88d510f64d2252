"""List: a sequence of scalars, in order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, List as _List

from .Datatype import Datatype


class List(Datatype):
    """A List made of any iterable.  Elements are str, bytes, int, float, bool
    or None; a nested list or dict is refused when stored
    (UnsupportedValueError, a TypeError).  An empty List deletes the key."""

    def __init__(self, value: Any) -> None:
        self._allowed_classes = (Iterable, list, tuple)
        super().__init__(value)

    @property
    def value(self) -> _List[Any]:
        if isinstance(self._value, list):
            return self._value
        return list(self._value)

    @staticmethod
    def get_name() -> str:
        return "list"
