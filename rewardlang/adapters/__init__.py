"""One spec for every trainer: the same compiled spec as another trainer's reward function.

- `rewardlang.adapters.verl`: verl's custom reward function (`compute_score`, and
  `compute_score_batch` for its batch reward manager);
- `rewardlang.adapters.openrlhf`: OpenRLHF's `reward_func(queries, prompts, labels)`.

TRL needs no adapter (`rewardlang.load(path).reward_funcs`). Each adapter returns the total
as the reward and every rule's score under `<spec>/<rule>` (the names TRL logs), where the
trainer logs it; docs/trainers.md has a ready config for each. What they share is here.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rewardlang.compiler import CompiledSpec, Scores

__all__ = ["compiled_spec", "logged_scores", "score_rows"]

# Both trainers call their reward function from several threads at once (verl's reward loop in an
# executor, OpenRLHF through `asyncio.to_thread`, one sample each); a spec's scorers build matchers and
# load models lazily on first use, so one batch is scored at a time. The scoring is CPU-bound Python
# (or one model call), so little is lost.
_SCORING = threading.Lock()


def compiled_spec(path: str | os.PathLike[str]) -> CompiledSpec:
    """The spec at `path`, compiled once per process (a trainer calls its reward function every step,
    and in each of its worker processes). Raises `SourceError` or `SpecError`, with the diagnostics."""
    return _compiled(os.path.abspath(os.fspath(path)))


@functools.lru_cache(maxsize=8)
def _compiled(path: str) -> CompiledSpec:
    from rewardlang.compiler import load

    return load(path)


def score_rows(
    compiled: CompiledSpec,
    completions: Sequence[str],
    prompts: Sequence[Any] | None,
    columns: Sequence[Mapping[str, Any]],
) -> Scores:
    """Score one batch: each row's completion, prompt (None: unknown) and dataset columns (by name)."""
    from rewardlang.scoring import _CLASHING_COLUMNS

    names = sorted({name for row in columns for name in row} - _CLASHING_COLUMNS - {"completion_ids"})
    by_name: dict[str, list[Any]] = {name: [row.get(name) for row in columns] for name in names}
    # Neither trainer passes its training step to a reward function: weight schedules stay at step 0.
    with _SCORING:
        return compiled.score(
            list(completions), prompts=prompts, completion_ids=None, explain=False, at_step=0, **by_name
        )


def logged_scores(compiled: CompiledSpec, scores: Scores, index: int) -> dict[str, float]:
    """Row `index`'s rule scores under `<spec>/<rule>`, as TRL names them. A rule that does not apply
    (None) is logged as 0, the value the total counts it as: verl and OpenRLHF average these values
    as plain numbers, where a None or a NaN would break the average or poison it."""
    name = compiled.spec.name
    return {f"{name}/{rule}": float(values[index] or 0.0) for rule, values in scores.rules.items()}
