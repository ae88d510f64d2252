"""Map: fields (str or bytes) to scalars."""

from __future__ import annotations

from typing import Any, Dict

from .Datatype import Datatype


class Map(Datatype):
    """A Map made of a dict whose fields are str (or bytes) and whose values are
    str, bytes, int, float, bool or None; a nested dict or list is refused when
    stored (UnsupportedValueError, a TypeError).  An empty Map deletes the key."""

    def __init__(self, value: Any) -> None:
        self._allowed_classes = (dict,)
        super().__init__(value)

    @property
    def value(self) -> Dict[Any, Any]:
        if isinstance(self._value, dict):
            return self._value
        return dict(self._value)

    @staticmethod
    def get_name() -> str:
        return "map"
