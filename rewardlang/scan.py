"""One scan per completion for the lexical rules of a spec: what they read from a text, planned once.

The compiler asks every scorer what it reads (`RuleScorer.plan`) and collects it in one
`Scan` per compiled spec:

- *views*: a normalised form of the text, `(scope, case, unicode)`, computed once per
  completion (`Batch.normalized`) whichever rules read it;
- *phrase lists* (`phrases`, `banned`): all the lists of one view and one matching mode
  (`substring` or `word`) are merged into one list, searched with one matcher
  (`PhraseMatcher`: `in` for a few phrases, one RE2 set pass for more, Aho-Corasick where
  RE2 cannot build the set);
  each rule reads its own phrases' hits as a bit mask of that one search;
- *words*: each view is split once per split mode (`matching.split_words`) for every rule
  that reads its words (`overlap`, `repetition`); `overlap ... { split whitespace }` looks
  for the target's words in the view's *padded* text instead (`matching.padded`, made once
  per view: no word objects are built), and word counts (`length`, `overlong` in `words`)
  are counted on the text's bytes, once per scope (`matching.count_words`).

Splitting is what costs most (every word becomes an object): on the benchmark chat
completions, specs/guide.reward took 36 us per completion this way against 57 us with one
split shared by `length` and `overlap` (process time, one timing of each).

A view's phrase searches and splits run in one pass over its texts (`Scan._scan`). Nothing
here changes what a rule computes: a phrase's hit does not depend on the other phrases
searched with it, and a word list is the same list whichever rule asked for it (tests/
test_scan.py scores many-rule specs against each rule alone). Results live in the `Batch`
(`Batch.cached`, keyed by the scan), so that a subset of a batch (`when`, explanations)
keeps its share. A scorer built alone plans into a scan of its own, so it scores the same
without a compiler.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from rewardlang.rules.matching import PhraseMatcher, capped_text, count_words, padded, split_words
from rewardlang.runtime import Batch


class View(NamedTuple):
    """A normalised text of each completion: `Batch.normalized(scope, case, unicode)`."""

    scope: str
    case: str
    unicode: str


class PhraseSlot(NamedTuple):
    """A rule's phrases within the merged list of its view and matching mode."""

    view: View
    word: bool  # whole words (`match word`) or substrings
    mask: int  # bit i: the merged list's phrase i is one of the rule's


# What one pass over a view's texts finds, each a list with one item per completion, by part:
# ("hits", word): the bit mask of the merged list's phrases found; ("words", split): the words
# (`matching.split_words`); ("padded",): `matching.padded` of each text. Each part is a view of
# its own in the batch (`Batch.cached`), so that a subset of the batch picks its rows of each.
Part = tuple[Any, ...]


class Scan:
    """What the lexical rules of one compiled spec read from each completion; filled by `RuleScorer.plan`."""

    def __init__(self) -> None:
        self._phrases: dict[tuple[View, bool], list[str]] = {}
        self._splits: dict[View, set[str]] = {}
        self._padded: set[View] = set()
        self._matchers: dict[tuple[View, bool], PhraseMatcher] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_matchers"] = {}  # rebuilt on first use (RE2 sets do not pickle)
        return state

    # ------------------------------------------------------------ planning
    def phrases(self, view: View, phrases: Sequence[str], word: bool) -> PhraseSlot:
        """Search `phrases` (normalised like `view`) in `view`: the slot to read the hits with (`hits`)."""
        merged = self._phrases.setdefault((view, word), [])
        self._splits.setdefault(view, set())
        mask = 0
        for phrase in phrases:
            if not phrase:  # an empty phrase is never searched (`PhraseMatcher` drops it too)
                continue
            if phrase not in merged:
                merged.append(phrase)
            mask |= 1 << merged.index(phrase)
        self._matchers.pop((view, word), None)  # the list grew: built again on first use
        return PhraseSlot(view, word, mask)

    def words(self, view: View, split: str) -> None:
        """A rule reads the words of `view` cut by `split` (`word_lists`)."""
        self._splits.setdefault(view, set()).add(split)

    def pieces(self, view: View) -> None:
        """A rule looks for whole `str.split()` pieces in `view` (`padded`)."""
        self._splits.setdefault(view, set())
        self._padded.add(view)

    # ------------------------------------------------------------- reading
    def _part(self, batch: Batch, view: View, part: Part) -> list[Any]:
        """One part of the pass over `view` (every part is computed with the first one asked for)."""
        return batch.cached(("scan", id(self), view, *part), lambda: self._scan(batch, view)[part])

    def _matcher(self, key: tuple[View, bool]) -> PhraseMatcher:
        matcher = self._matchers.get(key)
        if matcher is None:
            matcher = self._matchers[key] = PhraseMatcher(self._phrases[key], word=key[1])
        return matcher

    def _scan(self, batch: Batch, view: View) -> dict[Part, list[Any]]:
        """Every phrase search and split planned for `view`, in one pass over its texts."""
        texts = batch.normalized(*view)
        searches = [(word, self._matcher((view, word))) for word in (False, True) if (view, word) in self._phrases]
        splits = sorted(self._splits.get(view, ()))
        hits: dict[bool, list[int]] = {word: [] for word, _ in searches}
        words: dict[str, list[list[str]]] = {split: [] for split in splits}
        # A few substrings are tested with `in` inline (the hot path); other lists go through the matcher.
        inline = [
            (hits[word].append, [(phrase, 1 << i) for i, phrase in enumerate(matcher.phrases)])
            for word, matcher in searches if matcher.simple
        ]
        general = [(hits[word].append, matcher.found) for word, matcher in searches if not matcher.simple]
        cut = [(words[split].append, split) for split in splits]
        spaced: list[str | None] | None = [] if view in self._padded else None
        for text in texts:
            for add, bits in inline:
                found = 0
                for phrase, bit in bits:
                    if phrase in text:
                        found |= bit
                add(found)
            for add, search in general:
                add(sum(1 << i for i in search(text)))
            for keep, split in cut:
                keep(split_words(text, split))
            if spaced is not None:
                spaced.append(padded(capped_text(text)))
        parts: dict[Part, list[Any]] = {("hits", word): masks for word, masks in hits.items()}
        parts |= {("words", split): lists for split, lists in words.items()}
        if spaced is not None:
            parts[("padded",)] = spaced
        for part, values in parts.items():  # the other parts, for the rules that ask next
            batch.cached(("scan", id(self), view, *part), lambda values=values: values)  # type: ignore[misc]
        return parts

    def hits(self, batch: Batch, slot: PhraseSlot) -> list[int]:
        """Per completion, the bit mask of the merged list's phrases found (`& slot.mask`: the rule's own)."""
        return self._part(batch, slot.view, ("hits", slot.word))

    def word_lists(self, batch: Batch, view: View, split: str) -> list[list[str]]:
        """Each completion's words: `view` cut by `split` (the first `MAX_WORDS`, `matching.split_words`)."""
        if split not in self._splits.get(view, ()):  # not planned: split on its own
            return batch.cached(
                ("scan", id(self), view, "words", split, "alone"),
                lambda: [split_words(t, split) for t in batch.normalized(*view)],
            )
        return self._part(batch, view, ("words", split))

    def padded(self, batch: Batch, view: View) -> list[str | None]:
        """`matching.padded` of each completion's text in `view`, cut after `MAX_WORDS` words (`capped_text`)."""
        if view not in self._padded:  # not planned: on its own
            return batch.cached(
                ("scan", id(self), view, "padded", "alone"),
                lambda: [padded(capped_text(t)) for t in batch.normalized(*view)],
            )
        return self._part(batch, view, ("padded",))

    def word_counts(self, batch: Batch, scope: str) -> list[int]:
        """`len(text.split())` of each completion's `unicode nfkc` text in `scope` (`matching.count_words`)."""
        # `count_words` removes ignorables itself (its `fold`): the whole text needs no `visible` view.
        return batch.cached(
            ("lexical", "word_counts", scope),
            lambda: [count_words(t) for t in (batch.texts(scope) if scope == "full" else batch.visible(scope))],
        )
