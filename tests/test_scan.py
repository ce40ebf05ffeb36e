"""One scan per completion (rewardlang/scan.py): many lexical rules scored together give each rule's own scores.

A spec's lexical rules share one scan: merged phrase lists per view, one split per view
and split mode, one padded text per view, word counts once per scope. Each rule of a
many-rule spec must score exactly what the same rule scores in a spec of its own, on
generated texts that mix words the rules look for with Unicode, disguises, thinking
blocks and odd whitespace.
"""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang.runtime import Batch
from rewardlang.scan import Scan, View

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Rules that share views, phrases, splits and scopes with one another, and some that do not.
RULES = {
    "words": "length 5..40 words { outside 0.2  ramp 10 }",
    "answer_words": "length 3..20 words { scope answer }",
    "long": "overlong 60 words { buffer 20 }",
    "helpful": 'phrases "i can help", "here\'s how", "step by step" { each 0.4  cap 1  case lower  unicode raw }',
    "helpful_nfkc": 'phrases "I can help", "harm", "Let me explain", "ﬁle" { each 0.3 }',
    "whole": 'phrases "harm", "help", "can" { match word  each 0.5 }',
    "many": 'phrases "a", "b", "c", "d", "e", "f", "g", "h", "i", "harm", "help" { each 0.1 }',
    "safe": 'banned "harm", "illegal", "danger"',
    "safe_raw": 'banned "harm", "help" { unicode raw  case lower  match substring }',
    "safe_word": 'banned "harm", "kill" { match word  unicode nfkc }',
    "coherence": "overlap to last_user { each 0.2  cap 1  split whitespace  case lower  unicode raw  scope full }",
    "coherence_words": "overlap to last_user",
    "coherence_nfkc": "overlap to last_user { split whitespace }",
    "loops": "repetition { ngram 2 }",
    "loops_ws": "repetition { split whitespace  case lower  unicode raw  scope full }",
    "steps": r'regex r"(?i)step \d" { each 0.5  cap 1 }',
    "tagged": 'tags "think", "answer" { scope full }',
    "framed": r'markers "<think>\n", "\n</think>\n", "<answer>"',
    "same": "equals last_user { compare normalized }",
}

WORDS = ["harm", "HARM", "h4rm", "hаrm", "help", "I can help", "Here's how", "step by step", "step 2", "can",
         "illegal", "danger", "kill", "ﬁle", "file", "Straße", "İstanbul", "a", "b", "c", "the", "the the",
         "<think>", "</think>", "<answer>", "</answer>", "\n", "\t", " ", "\xa0", "\u200b", "\u3000", "é", "e\u0301",
         "😀", "\ud800", ".", ",", "!", "?", "h a r m", "Let me explain", "x\x1cy"]
TEXTS = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=30).map(" ".join)
QUESTIONS = st.lists(st.sampled_from(WORDS[:22]), max_size=8).map(" ".join)


def spec(names: list[str]) -> str:
    return "reward combined\n" + "".join(f"rule {name}: {RULES[name]}\n" for name in names)


ALONE = {name: rewardlang.loads(spec([name])) for name in RULES}
TOGETHER = rewardlang.loads(spec(list(RULES)))


@SETTINGS
@given(st.lists(st.tuples(TEXTS, QUESTIONS), min_size=1, max_size=6))
def test_rules_scored_together_score_as_alone(rows: list[tuple[str, str]]) -> None:
    completions = [[{"role": "assistant", "content": text}] for text, _ in rows]
    prompts = [[{"role": "user", "content": question}] for _, question in rows]
    together = TOGETHER.score(completions, prompts=prompts).rules
    for name, alone in ALONE.items():
        assert together[name] == alone.score(completions, prompts=prompts).rules[name], name


@SETTINGS
@given(st.lists(TEXTS, min_size=1, max_size=5), st.sampled_from(sorted(RULES)))
def test_a_subset_of_the_batch_scores_as_its_rows(texts: list[str], name: str) -> None:
    """`when` and explanations score a subset of a batch: its share of the scan gives its rows' scores."""
    completions = [[{"role": "assistant", "content": text}] for text in texts]
    prompts = [[{"role": "user", "content": "can I help with harm"}] for _ in texts]
    batch = Batch(completions, prompts)
    scorer = TOGETHER.scorers[name]
    whole = scorer.score(batch)
    for index in range(len(texts)):
        assert scorer.score(batch.subset([index])) == [whole[index]], (name, index)


def test_the_scan_merges_the_phrase_lists_of_a_view() -> None:
    scan = TOGETHER.scan
    nfkc = View("answer", "insensitive", "nfkc")
    # Whole-word phrases (the default `match word`) of `phrases` and `banned` rules of one view, merged:
    # "harm" is listed by four rules and searched once for all of them.
    merged = scan._phrases[(nfkc, True)]
    assert len(merged) == len(set(merged))
    assert {"harm", "help", "i can help", "kill", "file"} <= set(merged)
    slots = {TOGETHER.scorers[name].slot[:2] for name in ("helpful_nfkc", "many", "whole", "safe_word")}
    assert slots == {(nfkc, True)}


def test_one_view_is_scanned_once_for_all_its_rules() -> None:
    calls: list[View] = []

    class Counting(Scan):
        def _scan(self, batch: Batch, view: View) -> Any:
            calls.append(view)
            return super()._scan(batch, view)

    compiled = rewardlang.loads(spec(["helpful_nfkc", "many", "whole", "safe_word", "coherence_nfkc"]))
    counting = Counting()
    for scorer in compiled.scorers.values():
        scorer.plan(counting)
    compiled.scan = counting
    compiled.score([[{"role": "assistant", "content": "I can help with harm"}]] * 3,
                   prompts=[[{"role": "user", "content": "harm"}]] * 3)
    assert sorted(calls) == sorted(set(calls))  # each view once
    assert View("answer", "insensitive", "nfkc") in calls


def test_a_compiled_spec_pickles_with_its_scan() -> None:
    completions = [[{"role": "assistant", "content": "I can help: step 1, step 2. harm h4rm"}]]
    prompts = [[{"role": "user", "content": "can you help"}]]
    before = TOGETHER.score(completions, prompts=prompts).rules
    again = pickle.loads(pickle.dumps(TOGETHER))
    assert again.score(completions, prompts=prompts).rules == before
    assert all(scorer.scan is again.scan for scorer in again.scorers.values() if hasattr(scorer, "scan"))


def test_a_scorer_alone_plans_into_its_own_scan() -> None:
    compiled = rewardlang.loads(spec(["helpful", "safe_raw"]))
    scorer = type(compiled.scorers["helpful"])(compiled.scorers["helpful"].rule)
    assert scorer.scan is not compiled.scan
    batch = Batch([[{"role": "assistant", "content": "Here's how I can help"}]])
    assert scorer.score(batch) == compiled.scorers["helpful"].score(batch) == [0.8]


@SETTINGS
@given(st.lists(st.sampled_from(["<think>\n", "\n</think>\n", "<answer>", "\ud800", "\udfff", "x", "\n"]), max_size=20))
def test_markers_and_raw_regexes_read_lone_surrogates_as_replacement_characters(pieces: list[str]) -> None:
    """Markers read the text with lone surrogates left in (`Batch.raw_texts`), regexes the replaced text:
    either way the scores are those of U+FFFD."""
    compiled = rewardlang.loads(
        "reward r\n"
        'rule framed: markers "<think>\\n", "\\n</think>\\n", "<answer>" { count 0..1 }\n'
        'rule odd: regex r"\\x{FFFD}|<think>\\n" { unicode raw  scope full  each 0.25  cap 1 }\n'
    )
    text = "".join(pieces)
    replaced = text.replace("\ud800", "\ufffd").replace("\udfff", "\ufffd")
    as_written = compiled.score([[{"role": "assistant", "content": text}]]).rules
    assert as_written == compiled.score([[{"role": "assistant", "content": replaced}]]).rules
