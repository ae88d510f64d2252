"""The base of the seed's datatypes: a Python value checked for the type it
will be stored as (String, Numeric, List, Map, Set, Queue)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Tuple


class Datatype(ABC):
    """A value to store, wrapped in the type it is stored as.

    ``value`` is the plain Python value (what ``session.get`` gives back).
    The constructor raises TypeError for a value of a type not allowed, with
    the seed's message.
    """

    _allowed_classes: Tuple[type, ...] = ()
    _disallowed_classes: Tuple[type, ...] = ()

    def __init__(self, value: Any) -> None:
        self._value = value
        self.validate(value)

    @property
    @abstractmethod
    def value(self) -> Any:
        """The Python value."""

    @staticmethod
    def get_name() -> str:
        """The type's name in the store: "string", "numeric", ...."""
        raise NotImplementedError

    def validate(self, value: Any) -> None:
        """Raise TypeError unless value is of an allowed class."""
        if self._disallowed_classes and isinstance(value, tuple(self._disallowed_classes)):
            disallowed = ", ".join(cls.__name__ for cls in self._disallowed_classes)
            raise TypeError(
                f"Invalid type: {type(value).__name__} is disallowed (Disallowed: {disallowed})"
            )
        if self._allowed_classes and not isinstance(value, tuple(self._allowed_classes)):
            allowed = ", ".join(cls.__name__ for cls in self._allowed_classes)
            raise TypeError(
                f"Invalid type: expected one of ({allowed}), but got {type(value).__name__}"
            )

    def _stored(self) -> Tuple[Any, str]:
        """(the value as pycache.Client.set takes it, the store type's name)."""
        return self.value, self.get_name()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._value!r})"
