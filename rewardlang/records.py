"""Frozen records with slots, made without generating code: the nodes of the syntax tree.

`@dataclass(frozen=True, slots=True)` compiles six functions from source for every class
(`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`, `__delattr__`), and
`rewardc check` imports the syntax tree's 27 node classes before it reads a line:
importing it took 20-35 ms of CPU on this machine, 2 ms with records. A `Record` subclass gets the same methods
from `Record` itself, written once and reading the class's field names, so making a class
costs no more than `class` does.

A subclass declares its fields as annotations, in order, with optional defaults (or
`dataclasses.field(default_factory=...)`); like a frozen dataclass it is built by
position or keyword, compares equal to a record of the same class with equal fields,
hashes by its fields, cannot be changed, and pickles. Type checkers read it as a frozen
dataclass (`dataclass_transform`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, dataclass_transform

_MISSING = dataclasses.MISSING


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
class _RecordType(type):
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _RecordType:
        if not bases:  # `Record` itself
            return super().__new__(mcs, name, bases, namespace)
        if any(getattr(base, "_fields", ()) for base in bases):
            raise TypeError(f"{name}: a record cannot extend another record's fields")
        fields = tuple(namespace.get("__annotations__", {}))
        defaults: dict[str, Any] = {}
        factories: dict[str, Any] = {}
        for field in fields:
            if field not in namespace:
                if defaults or factories:
                    raise TypeError(f"{name}: field `{field}` without a default follows one with a default")
                continue
            value = namespace.pop(field)  # a class attribute would clash with the slot
            if isinstance(value, dataclasses.Field):
                if value.default_factory is not _MISSING:
                    factories[field] = value.default_factory
                elif value.default is not _MISSING:
                    defaults[field] = value.default
            else:
                defaults[field] = value
        namespace.update(
            __slots__=fields, __match_args__=fields, _fields=fields, _defaults=defaults, _factories=factories
        )
        return super().__new__(mcs, name, bases, namespace)


class Record(metaclass=_RecordType):
    """The base of a record class; see the module's docstring."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _factories: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields, name = self._fields, type(self).__name__
        if len(args) > len(fields):
            raise TypeError(f"{name}() takes {len(fields)} arguments, {len(args)} given")
        if unknown := sorted(kwargs.keys() - set(fields)):
            raise TypeError(f"{name}() got unexpected arguments {unknown}")
        for field, value in zip(fields, args, strict=False):
            if field in kwargs:
                raise TypeError(f"{name}() got two values for `{field}`")
            object.__setattr__(self, field, value)
        for field in fields[len(args) :]:
            if field in kwargs:
                value = kwargs[field]
            elif field in self._defaults:
                value = self._defaults[field]
            elif field in self._factories:
                value = self._factories[field]()
            else:
                raise TypeError(f"{name}() is missing `{field}`")
            object.__setattr__(self, field, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field) for field in self._fields)

    def __repr__(self) -> str:
        values = ", ".join(f"{field}={getattr(self, field)!r}" for field in self._fields)
        return f"{type(self).__qualname__}({values})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self._values()
