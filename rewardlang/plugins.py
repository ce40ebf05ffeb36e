"""Plugin rule kinds: kinds that installed packages register in the entry point group `rewardlang.kinds`.

Each entry point's name is the kind's name; its object is a `rewardlang.kind.Kind`
record, the same record a built-in kind has. A spec names the kind (and, in a
`plugins "PACKAGE"` statement, the distribution that provides it), never a module:
the spec stays data.

Discovery is lazy. Reading the installed distributions' entry points costs tens of
milliseconds, so nothing here runs until a spec names a kind that is not built in or
has a `plugins` statement (`rewardc check` of a built-in-only spec never reads them;
tests/test_plugins.py checks it). Each entry point is loaded
(its module imported) only when a spec uses its kind; a plugin that fails to load is
a `PluginError` naming its package, reported as a diagnostic, never a traceback.
docs/contributing.md ("Writing a plugin kind") walks through writing one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rewardlang.kind import Kind

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "rewardlang.kinds"


class PluginError(Exception):
    """A plugin kind that cannot be used: its message names the kind and its package."""


@dataclass(frozen=True)
class PluginEntry:
    """An installed plugin kind, not loaded yet: its name and the distribution that provides it."""

    name: str
    distribution: str  # as the distribution's metadata spells it: `rewardlang-readability`
    entry_point: EntryPoint
    others: tuple[str, ...] = ()  # other distributions that register the same name: the kind is ambiguous


def normalize(package: str) -> str:
    """A distribution name in its canonical form (PEP 503): `Rewardlang_Readability` -> `rewardlang-readability`."""
    return re.sub(r"[-_.]+", "-", package).lower()


@functools.cache
def installed() -> dict[str, PluginEntry]:
    """Every plugin kind the environment registers, by kind name.

    When two distributions register one name, the entry records both: using that kind is an
    error naming them (`load`), never a silent choice of one.
    """
    from importlib.metadata import entry_points

    found: dict[str, PluginEntry] = {}
    for entry_point in entry_points(group=GROUP):
        distribution = entry_point.dist.name if entry_point.dist is not None else "an unknown package"
        first = found.get(entry_point.name)
        if first is None:
            found[entry_point.name] = PluginEntry(entry_point.name, distribution, entry_point)
        elif normalize(distribution) not in {normalize(d) for d in (first.distribution, *first.others)}:
            found[entry_point.name] = dataclasses.replace(first, others=(*first.others, distribution))
    return dict(sorted(found.items()))


@functools.cache
def installed_distributions() -> frozenset[str]:
    """The canonical names of every installed distribution."""
    from importlib.metadata import distributions

    return frozenset(normalize(dist.metadata["Name"] or "") for dist in distributions())


def is_installed(package: str) -> bool:
    return normalize(package) in installed_distributions()


def kinds_of(package: str) -> list[str]:
    """The plugin kinds that distribution `package` provides, sorted."""
    wanted = normalize(package)
    return [name for name, entry in installed().items() if normalize(entry.distribution) == wanted]


@functools.cache
def load(name: str) -> Kind[Any]:
    """The `Kind` record of installed plugin kind `name`. Raises KeyError when no package provides it,
    `PluginError` when its package does but the kind cannot be used. (A plugin kind named like a
    built-in is never looked up here: `registry.kind_of` finds the built-in first.)"""
    entry = installed()[name]
    package = entry.distribution
    if entry.others:
        packages = ", ".join(f"`{p}`" for p in sorted((package, *entry.others)))
        raise PluginError(f"kind `{name}` is registered by more than one package ({packages}): uninstall all but one")
    try:
        kind = entry.entry_point.load()
    except Exception as exc:  # noqa: BLE001 - any failure of a plugin's own code becomes a diagnostic
        raise PluginError(
            f"kind `{name}` of package `{package}` fails to load "
            f"({entry.entry_point.value}: {type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(kind, Kind):
        raise PluginError(
            f"kind `{name}` of package `{package}` is not a `rewardlang.kind.Kind` "
            f"({entry.entry_point.value} is a {type(kind).__name__})"
        )
    problem = _record_problem(kind)
    if problem:
        raise PluginError(f"kind `{name}` of package `{package}` has {problem}")
    if _kind_name(kind) != name:
        raise PluginError(
            f"package `{package}` registers kind `{name}`, but its record's model is not of that kind "
            f"(it needs `kind: Literal[\"{name}\"]`)"
        )
    canonical = " ".join([name, *(f"{{{argument}}}" for argument in kind.arguments)])
    if kind.template != canonical:
        raise PluginError(
            f"kind `{name}` of package `{package}` has the template {kind.template!r}; a plugin kind's "
            f"header is its name and its arguments in order: {canonical!r}"
        )
    return kind


def _record_problem(kind: Kind[Any]) -> str:
    """What keeps a record from working as a rule kind ("" when nothing does)."""
    from rewardlang.nodes import RuleBase
    from rewardlang.rules.base import RuleScorer

    # The annotations promise these types; a foreign package's record may not keep the promise.
    model: object = kind.model
    scorer: object = kind.scorer
    if not (isinstance(model, type) and issubclass(model, RuleBase)):
        return "a model that is not a `rewardlang.nodes.RuleBase` subclass"
    if not (isinstance(scorer, type) and issubclass(scorer, RuleScorer)):
        return "a scorer that is not a `rewardlang.rules.base.RuleScorer` subclass"
    return ""


def _kind_name(kind: Kind[Any]) -> str | None:
    """The name of a record's model (its `kind` literal); None when the model has none."""
    try:
        return kind.name
    except (KeyError, IndexError, AttributeError):
        return None


def built_in_clash(package: str, name: str) -> PluginError:
    """The error of a package that registers kind `name`, which a built-in kind already has."""
    return PluginError(
        f"package `{package}` registers kind `{name}`, which is a built-in kind: rename it in the package"
    )


def provider(name: str) -> str | None:
    """The distribution that provides plugin kind `name`, None when no installed package does."""
    entry = installed().get(name)
    return entry.distribution if entry is not None else None
