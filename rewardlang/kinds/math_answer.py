"""`math TARGET`: 1 when the answer's final result equals the target mathematically (math-verify), else 0.

TRL's `accuracy_reward`, step for step: the reference is parsed with math-verify's
default extraction (LaTeX, then plain expressions); the answer with LaTeX
extraction only, `\\boxed{}` first, units normalised, first match; then
`verify(reference, answer)`. A missing or unparseable reference is not applicable
(None), as in TRL.

Every step (parsing one reference; parsing and verifying one answer) is bounded by
`timeout` seconds in a worker process that the scorer owns (`rules.math_worker`):
math-verify's own signal-based bound does nothing off the main thread. A step that
overruns scores None and is counted in the metric `math/<rule>/timeouts` (a worker
that dies on a step: `math/<rule>/crashes`). Distinct (reference, answer) pairs are
verified once per call; the worker keeps parsed references across calls.

The answer is read from the last `MAX_ANSWER_CHARS` characters of the scored text:
math-verify tries the rightmost matches first, a final answer stands at the end, and
its regexes grow faster than linearly on long texts (a megabyte of numbers takes
minutes), so a longer text costs no more than that tail.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from rewardlang.kind import Kind
from rewardlang.nodes import RuleBase, Target
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch

if TYPE_CHECKING:  # the worker module starts processes and threads: imported when the rule first scores
    from rewardlang.rules.math_worker import MathVerifier, Verdict

Seconds = Annotated[float, Field(ge=0.1, le=600)]

#: How much of the end of a completion math-verify reads (docs/language.md, `math`).
MAX_ANSWER_CHARS = 4096


class MathRule(RuleBase):
    kind: Literal["math"]
    target: Target
    timeout: Seconds = 5.0  # per step, as TRL's `verify` timeout


class MathScorer(RuleScorer):
    rule: MathRule
    _transient = ("_verifier", "_lock")

    def __init__(self, rule: MathRule):
        super().__init__(rule)
        self._verifier: MathVerifier | None = None
        self._lock: threading.Lock | None = threading.Lock()
        self.timeouts = 0  # over the scorer's life (the metric is per call)
        self.crashes = 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in self._transient:
            state[name] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the worker process now (it also stops with the scorer, and at exit)."""
        if self._verifier is not None:
            self._verifier.close()

    def _worker(self) -> MathVerifier:
        assert self._lock is not None
        with self._lock:
            if self._verifier is None:
                from rewardlang.rules.math_worker import MathVerifier  # subprocess, threads: not for `rewardc check`

                self._verifier = MathVerifier(self.rule.timeout)
            return self._verifier

    def verdicts(self, batch: Batch, explain: bool = False) -> list[Verdict | None]:
        """One verdict per completion; None where the target is missing."""
        texts = batch.texts(self.rule.scope)
        references = batch.targets(self.rule.target)
        distinct: dict[tuple[str, str], int] = {}
        rows: list[int | None] = []
        for text, reference in zip(texts, references, strict=True):
            if reference is None or not reference.strip():
                rows.append(None)
                continue
            rows.append(distinct.setdefault((reference, text[-MAX_ANSWER_CHARS:]), len(distinct)))
        if not distinct:
            verdicts: list[Verdict] = []
            timeouts = crashes = 0
        else:
            report = self._worker().verify(list(distinct), explain=explain)
            verdicts, timeouts, crashes = report.verdicts, report.timeouts, report.crashes
        self.timeouts += timeouts
        self.crashes += crashes
        # Recorded even when 0, so that the curve exists from the first step.
        batch.record_metric(f"math/{self.rule.name}/timeouts", float(timeouts))
        batch.record_metric(f"math/{self.rule.name}/crashes", float(crashes))
        return [None if row is None else verdicts[row] for row in rows]

    def score(self, batch: Batch) -> list[float | None]:
        return [None if verdict is None else verdict.score for verdict in self.verdicts(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        verdict = self.verdicts(batch.row(index), explain=True)[0]
        if verdict is None:
            return f"no {self.rule.target.describe()} target: not applicable"
        if verdict.outcome == "unparseable reference":
            return "the reference has no parseable math: not applicable"
        if verdict.outcome == "timeout":
            return f"verification ran past {self.rule.timeout:g} s: not applicable"
        if verdict.outcome == "crash":
            return "the math-verify worker died on it: not applicable"
        return f"parsed {verdict.answer} vs reference {verdict.reference} -> {verdict.score:g}"


KIND = Kind(
    model=MathRule,
    arguments=("target",),
    template="math {target}",
    scorer=MathScorer,
    summary="1 when the answer's final result equals the target mathematically (math-verify), else 0",
    range_doc="0 or 1",
)
