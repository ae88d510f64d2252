"""String: any value, stored as its str()."""

from __future__ import annotations

from typing import Any

from .Datatype import Datatype


class String(Datatype):
    """A String.  Any value is accepted and stored as ``str(value)`` (bytes are
    stored as they are)."""

    def __init__(self, value: Any) -> None:
        self._allowed_classes = ()
        super().__init__(value)

    @property
    def value(self) -> str:
        if isinstance(self._value, str):
            return self._value
        return str(self._value)

    def _stored(self) -> Any:
        if isinstance(self._value, (bytes, bytearray, memoryview)):
            return bytes(self._value), "string"
        return self.value, "string"

    @staticmethod
    def get_name() -> str:
        return "string"
