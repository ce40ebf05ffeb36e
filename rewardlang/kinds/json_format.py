"""`json [keys ...]`: 0 for invalid JSON; else 0.5 + 0.5 x the fraction of `keys` at the top level (1 without keys).

Valid means strict JSON (RFC 8259) once surrounding whitespace is removed:
`NaN`/`Infinity`, which Python's parser accepts, are rejected. Nesting deeper
than Python's parser can follow (about a thousand levels) counts as invalid.
Numbers are not converted (a megabyte of digits parses in linear time).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from rewardlang.kind import Kind
from rewardlang.nodes import Phrase, RuleBase
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch


class JsonRule(RuleBase):
    kind: Literal["json"]
    keys: tuple[Phrase, ...] = ()


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


def _keep_number(text: str) -> str:
    return text


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_keep_number, parse_float=_keep_number)


def parse(text: str) -> tuple[bool, Any]:
    """(valid, value) of `text` with surrounding whitespace removed."""
    text = text.strip()
    if not text:
        return False, None
    try:
        return True, _DECODER.decode(text)
    except (ValueError, RecursionError, TypeError):
        return False, None


class JsonScorer(RuleScorer):
    rule: JsonRule

    def __init__(self, rule: JsonRule):
        super().__init__(rule)
        self.keys = tuple(dict.fromkeys(key.text for key in rule.keys))

    def _check(self, text: str) -> tuple[float, list[str] | None]:
        valid, value = parse(text)
        if not valid:
            return 0.0, None
        if not self.keys:
            return 1.0, []
        present = [key for key in self.keys if isinstance(value, dict) and key in value]
        return 0.5 + 0.5 * len(present) / len(self.keys), present

    def score(self, batch: Batch) -> list[float | None]:
        return [self._check(text)[0] for text in batch.texts(self.rule.scope)]

    def explain(self, batch: Batch, index: int) -> str:
        value, present = self._check(batch.texts(self.rule.scope)[index])
        if present is None:
            return "not valid JSON -> 0"
        if not self.keys:
            return "valid JSON -> 1"
        return f"valid JSON, keys {len(present)}/{len(self.keys)} ({', '.join(present) or 'none'}) -> {value:g}"


KIND = Kind(
    model=JsonRule,
    arguments=(),
    template="json",
    scorer=JsonScorer,
    summary="valid JSON: 0.5 + 0.5 × the fraction of `keys` present (1 without `keys`); else 0",
)
