"""The seed's datatypes: what they accept, what they refuse and how."""

from __future__ import annotations

from collections import deque

import pytest

from pycache.datatypes import Datatype, List, Map, Numeric, Queue, Set, String


def test_values() -> None:
    assert String("hello world").value == "hello world"
    assert String(123).value == "123" and String(None).value == "None"
    assert String(True).value == "True" and String("🚀🌟").value == "🚀🌟"
    assert List([1, 2, 3]).value == [1, 2, 3] and List((1, 2, 3)).value == [1, 2, 3]
    assert List("hello").value == ["h", "e", "l", "l", "o"] and List(range(3)).value == [0, 1, 2]
    assert sorted(List({3, 1, 2}).value) == [1, 2, 3]
    assert Map({"a": 1}).value == {"a": 1} and Map({}).value == {}
    assert Numeric(42).value == 42 and Numeric(-3.14).value == -3.14
    assert Set([1, 1, 2]).value == {1, 2} and Set("hello").value == {"h", "e", "l", "o"}
    d = deque([1, 2])
    assert Queue(d).value is d and Queue((1, 2)).value == deque([1, 2])
    assert isinstance(Queue(range(3)).value, deque)
    for cls in (String, Numeric, List, Map, Set, Queue):
        assert issubclass(cls, Datatype)
    assert [c.get_name() for c in (String, Numeric, List, Map, Set, Queue)] == [
        "string", "numeric", "list", "map", "set", "queue"]


@pytest.mark.parametrize("cls, bad, message", [
    (List, 123, r"Invalid type: expected one of \(Iterable, list, tuple\), but got int"),
    (Map, [1, 2], r"Invalid type: expected one of \(dict\), but got list"),
    (Numeric, "x", r"Invalid type: expected one of \(int, float\), but got str"),
    (Set, 123, r"Invalid type: expected one of \(Iterable, set, list, tuple\), but got int"),
    (Queue, 123, r"Invalid type: expected one of \(Iterable, list, deque\), but got int"),
    (Numeric, True, r"Invalid type: bool is disallowed"),
    (List, None, "Invalid type"), (Map, None, "Invalid type"), (Numeric, None, "Invalid type"),
    (Set, None, "Invalid type"), (Queue, None, "Invalid type"),
])
def test_refused(cls: type, bad: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        cls(bad)
