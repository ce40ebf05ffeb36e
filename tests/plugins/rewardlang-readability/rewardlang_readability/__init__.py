"""`readability RANGE`: the example plugin rule kind of rewardlang.

    plugins "rewardlang-readability"
    rule plain: readability 6..10 { outside 0  ramp 4 }

Scores 1 when the answer's Flesch-Kincaid grade level lies in RANGE (a range of school
grades), and falls in a straight line to `outside` over `ramp` grades beyond it. The grade
of a text is

    0.39 * words / sentences + 11.8 * syllables / words - 15.59

Words are runs of letters (and apostrophes inside them); sentences end at `.`, `!` or `?`
(a text without one is one sentence). Syllables are counted by a heuristic: the groups of
vowels (a, e, i, o, u, y) in the word, one fewer for a silent final `e` (`made`, not
`table`), at least one per word. It is an estimate, as every readability formula is: good
for telling a plain answer from a dense one, not for grading a single sentence.

Options: `outside` (the score far outside the range, default 0), `ramp` (over how many
grades the score falls to `outside`, above 0, default 4; a tiny ramp is a step),
`min_words` (an answer with fewer words is not graded: it scores None, not applicable;
default 1, so an empty answer is not applicable), the flag `ignore_code` (leave out fenced
code blocks, ``` ... ```, before measuring), and the built-in `weight` and `scope`.

The package depends on rewardlang only; its entry point (pyproject.toml) registers `KIND`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from rewardlang.kind import Kind, RangeField
from rewardlang.nodes import Range, RuleBase, ScoreValue
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch

__all__ = ["KIND", "ReadabilityRule", "ReadabilityScorer", "grade", "syllables"]

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?]+")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")
_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)


def syllables(word: str) -> int:
    """The heuristic syllable count of one word: vowel groups, less a silent final `e`, at least 1."""
    lowered = word.lower()
    count = len(_VOWEL_GROUP.findall(lowered))
    if lowered.endswith("e") and not lowered.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(count, 1)


def measure(text: str) -> tuple[int, int, int]:
    """(words, sentences, syllables) of a text."""
    words = _WORD.findall(text)
    # Sentences: each run of end marks after some text; trailing text without one is a sentence too.
    pieces = [piece for piece in _SENTENCE_END.split(text) if _WORD.search(piece)]
    return len(words), max(len(pieces), 1), sum(syllables(word) for word in words)


def grade(text: str) -> float | None:
    """The Flesch-Kincaid grade level of `text`; None when it has no words."""
    words, sentences, syllable_count = measure(text)
    if words == 0:
        return None
    return 0.39 * words / sentences + 11.8 * syllable_count / words - 15.59


class ReadabilityRule(RuleBase):
    kind: Literal["readability"]
    grades: Range  # the header: `readability 6..10`
    outside: ScoreValue = 0.0
    ramp: Annotated[float, Field(gt=0, le=100)] = 4.0
    min_words: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    ignore_code: bool = False


class ReadabilityScorer(RuleScorer):
    rule: ReadabilityRule

    def _grades(self, batch: Batch) -> list[float | None]:
        def compute() -> list[float | None]:
            found: list[float | None] = []
            for text in batch.visible(self.rule.scope):
                if self.rule.ignore_code:
                    text = _CODE_BLOCK.sub(" ", text)
                found.append(grade(text) if len(_WORD.findall(text)) >= self.rule.min_words else None)
            return found

        # Rules of the same scope and code option share the measurement.
        return batch.cached(("readability", self.rule.scope, self.rule.ignore_code, self.rule.min_words), compute)

    def shape(self, value: float) -> float:
        """1 inside the grade range; beyond it a straight fall to `outside` over `ramp` grades."""
        low, high = self.rule.grades.low, self.rule.grades.high
        if low is not None and value < low:
            distance = low - value
        elif high is not None and value > high:
            distance = value - high
        else:
            return 1.0
        fraction = distance / self.rule.ramp
        # Past the ramp the score is exactly `outside` (the formula below would round it).
        return self.rule.outside if fraction >= 1 else 1.0 + (self.rule.outside - 1.0) * fraction

    def score(self, batch: Batch) -> list[float | None]:
        return [None if value is None else self.shape(value) for value in self._grades(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        value = self._grades(batch)[index]
        if value is None:
            return f"fewer than {self.rule.min_words} word(s): not graded"
        low = "" if self.rule.grades.low is None else f"{self.rule.grades.low:g}"
        high = "" if self.rule.grades.high is None else f"{self.rule.grades.high:g}"
        inside = "yes" if self.rule.grades.contains(value) else "no"
        return f"grade {value:.1f}, inside {low}..{high}? {inside} -> {self.shape(value):g}"


def score_range(rule: ReadabilityRule) -> tuple[float, float]:
    return (min(rule.outside, 1.0), max(rule.outside, 1.0))


KIND = Kind(
    model=ReadabilityRule,
    arguments=("grades",),
    template="readability {grades}",
    scorer=ReadabilityScorer,
    summary="1 when the answer's Flesch-Kincaid grade lies in `RANGE`, falling to `outside` over `ramp` grades",
    range_doc="between `outside` and 1",
    score_range=score_range,
    ranges=(RangeField("grades", "grade range"),),
)
