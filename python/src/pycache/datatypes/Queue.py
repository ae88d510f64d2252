"""Queue: a FIFO of scalars, returned as collections.deque."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, Deque

from .Datatype import Datatype


class Queue(Datatype):
    """A Queue made of any iterable (a deque, a list, ...), front first.
    Elements as for List.  An empty Queue deletes the key."""

    def __init__(self, value: Any) -> None:
        self._allowed_classes = (Iterable, list, deque)
        super().__init__(value)

    @property
    def value(self) -> Deque[Any]:
        if isinstance(self._value, deque):
            return self._value
        return deque(self._value)

    @staticmethod
    def get_name() -> str:
        return "queue"
