"""`rewardlang.records.Record`: behaves as `@dataclass(frozen=True, slots=True)` does, for the syntax tree."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from rewardlang import syntax as syn
from rewardlang.records import Record
from rewardlang.source import Span


class Point(Record):
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class PointDataclass:
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


def test_built_by_position_keyword_and_defaults() -> None:
    assert (Point(1).x, Point(1).y, Point(1).tags) == (1, 0, [])
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    assert Point(1).tags is not Point(1).tags  # a fresh list from the factory each time
    assert Point.__match_args__ == ("x", "y", "tags")
    assert not hasattr(Point(1), "__dict__")  # slots only


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing `x`"),
        ((1, 2, [], 4), {}, "takes 3 arguments, 4 given"),
        ((1,), {"x": 2}, "two values for `x`"),
        ((1,), {"z": 2}, "unexpected arguments ['z']"),
    ],
)
def test_wrong_arguments_are_refused(args: tuple[object, ...], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Point(*args, **kwargs)


def test_equality_hash_and_repr_as_a_frozen_dataclass() -> None:
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 2) != PointDataclass(1, 2)  # another class is never equal
    assert hash(Point(1, 2, ())) == hash(Point(1, 2, ())) == hash((1, 2, ()))  # type: ignore[arg-type]
    assert repr(Point(1, 2, ["a"])) == repr(PointDataclass(1, 2, ["a"])).replace("PointDataclass", "Point")
    span = Span(0, 4, 1, 1, 1, 5)
    assert {syn.Word("name", span): 1}[syn.Word("name", span)] == 1  # syntax nodes as keys
    assert repr(syn.Word("name", span)) == f"Word(text='name', span={span!r})"


def test_frozen() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x  # type: ignore[misc]
    assert point.x == 1


def test_pickles() -> None:
    point = Point(1, 2, ["a"])
    assert pickle.loads(pickle.dumps(point)) == point


def test_a_field_without_default_after_one_with_default_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default follows"):

        class Bad(Record):
            a: int = 0
            b: int
