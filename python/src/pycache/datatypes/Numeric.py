"""Numeric: an int (64-bit) or a float (finite)."""

from __future__ import annotations

from typing import Any, Union

from .Datatype import Datatype


class Numeric(Datatype):
    """A Numeric: int or float, not bool.  The store holds 64-bit integers and
    finite doubles: a larger int raises OverflowError and NaN or an infinity
    NotFiniteError (a ValueError) when stored."""

    def __init__(self, value: Any) -> None:
        self._allowed_classes = (int, float)
        self._disallowed_classes = (bool,)
        super().__init__(value)

    @property
    def value(self) -> Union[int, float]:
        return self._value  # type: ignore[no-any-return]

    @staticmethod
    def get_name() -> str:
        return "numeric"
