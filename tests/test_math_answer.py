"""The `math` rule: TRL's `accuracy_reward`, bounded per step in a worker process.

The scores are compared with TRL's own `accuracy_reward` on the same inputs, case by
case. The bound is tested with an answer that makes sympy run for minutes (a power
tower) called from a thread and from inside running asyncio loops; a worker killed
from outside mid-batch is a real crash. Starting a worker imports sympy (seconds), so
the tests share a few compiled specs.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang.compiler import CompiledSpec, Scores
from rewardlang.kinds.math_answer import MathScorer
from trl_runs import logged, train_two_steps

ROOT = Path(__file__).resolve().parent.parent

# (completion content, solution): LaTeX, \boxed{}, fractions, percentages, sets,
# intervals, symbolic, units, matrices, equations, unparseable and missing solutions,
# wrong answers, answers outside LaTeX. The expected score is TRL's, written out.
CASES: list[tuple[str, str, float | None]] = [
    (r"The answer is \boxed{\frac{1}{2}}", "0.5", 1.0),
    (r"So $\boxed{0.5}$.", r"$\frac{1}{2}$", 1.0),
    (r"The answer is $\frac{3}{4}$", "0.75", 1.0),
    (r"\boxed{50\%}", "0.5", 1.0),
    (r"\boxed{50\%}", r"$50\%$", 1.0),
    (r"The set is $\boxed{\{1, 2\}}$", r"$\{2, 1\}$", 1.0),
    (r"\boxed{(1, 2]}", r"$(1,2]$", 1.0),
    (r"\boxed{[1, 2]}", r"$(1,2]$", 0.0),
    (r"\boxed{x+1}", r"$\frac{x^2-1}{x-1}$", 1.0),
    (r"\boxed{\sqrt{2}}", r"$2^{1/2}$", 1.0),
    (r"\boxed{10\text{ cm}}", "10", 1.0),
    (r"\boxed{1,000}", "1000", 1.0),
    (r"$\boxed{x = 2}$", "2", 1.0),
    (r"\boxed{\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}}", r"$\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}$", 1.0),
    (r"First $x=3$, then \boxed{4}", "4", 1.0),
    (r"\boxed{3}", "4", 0.0),
    ("The answer is 1/2", "0.5", 0.0),  # not LaTeX: TRL's answer extraction finds nothing
    ("", "1", 0.0),
    (r"\boxed{3}", "no math here", None),  # unparseable solution: skipped
    (r"\boxed{3}", "", None),
]
# Makes sympy evaluate a number with more digits than atoms in the universe: minutes at least.
PATHOLOGICAL = r"The answer is $\boxed{9^{9^{9^{9}}}}$"


def conversation(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


@pytest.fixture(scope="module")
def full_scope() -> Iterator[CompiledSpec]:
    spec = rewardlang.loads("reward m\nrule m: math column solution { scope full }\n")
    yield spec
    _close(spec)


@pytest.fixture(scope="module")
def bounded() -> Iterator[CompiledSpec]:
    spec = rewardlang.loads("reward m\nrule m: math column solution { timeout 4 }\n")
    yield spec
    _close(spec)


@pytest.fixture(scope="module")
def generous() -> Iterator[CompiledSpec]:
    """A deadline no ordinary input comes near, for tests whose outcome must not depend on the machine's speed."""
    spec = rewardlang.loads("reward m\nrule m: math column solution { timeout 120 }\n")
    yield spec
    _close(spec)


def _close(spec: CompiledSpec) -> None:
    for scorer in spec.scorers.values():
        assert isinstance(scorer, MathScorer)
        scorer.close()


def _scorer(spec: CompiledSpec) -> MathScorer:
    scorer = spec.scorers["m"]
    assert isinstance(scorer, MathScorer)
    return scorer


# ------------------------------------------------------------ TRL's semantics
def test_equals_trl_accuracy_reward_case_by_case(full_scope: CompiledSpec) -> None:
    from trl.rewards import accuracy_reward

    completions = [conversation(text) for text, _, _ in CASES]
    solutions = [solution for _, solution, _ in CASES]
    trl = accuracy_reward(completions, solutions)
    ours = full_scope.score(completions, solution=solutions).rules["m"]
    for (text, solution, expected), theirs, mine in zip(CASES, trl, ours, strict=True):
        assert (mine, theirs) == (expected, expected), (text, solution)


def test_reads_the_answer_from_the_last_characters_only(generous: CompiledSpec) -> None:
    from rewardlang.kinds.math_answer import MAX_ANSWER_CHARS

    filler = "word " * (MAX_ANSWER_CHARS // 5 + 10)  # longer than the tail math-verify reads
    texts = [
        filler + r"The answer is \boxed{4}",  # at the end: read
        r"The answer is \boxed{4}. " + filler,  # before the tail: not seen
        "1 2 3 " * 200_000 + r"\boxed{4}",  # a megabyte of numbers (minutes for math-verify whole)
    ]
    assert generous.score(texts, solution=["4", "4", "4"]).rules["m"] == [1.0, 0.0, 1.0]


def test_missing_solution_is_not_applicable(full_scope: CompiledSpec) -> None:
    scores = full_scope.score([r"\boxed{1}", r"\boxed{1}"], solution=[None, "1"])
    assert scores.rules["m"] == [None, 1.0]


def test_scope_answer_ignores_a_boxed_guess_in_the_thinking(bounded: CompiledSpec) -> None:
    texts = [r"<think>maybe \boxed{3}</think>The answer is \boxed{4}", r"<think>\boxed{4}</think>No idea."]
    assert bounded.score(texts, solution=["4", "4"]).rules["m"] == [1.0, 0.0]


def test_explain_says_what_was_compared(full_scope: CompiledSpec) -> None:
    texts = [r"The answer is \boxed{\frac{1}{2}}", r"\boxed{3}", r"\boxed{3}", "no answer"]
    scores = full_scope.score(texts, solution=["0.5", "4", "no math here", None], explain=True)
    assert scores.explanations == {
        "m": [
            "parsed 1/2 vs reference 0.5 -> 1",
            "parsed 3 vs reference 4 -> 0",
            "the reference has no parseable math: not applicable",
            "no column solution target: not applicable",
        ]
    }


# ------------------------------------------------------------------- the bound
BATCH = [r"\boxed{\frac{1}{2}}", PATHOLOGICAL, r"\boxed{0.5}", r"\boxed{2}"]
SOLUTIONS = ["0.5", "1", "1/2", "3"]
BOUNDED_SCORES = [1.0, None, 1.0, 0.0]
BOUNDED_METRICS = {"math/m/timeouts": 1.0, "math/m/crashes": 0.0}


def _in_thread(work: Callable[[], Scores]) -> Scores:
    results: list[Scores] = []
    thread = threading.Thread(target=lambda: results.append(work()))
    thread.start()
    thread.join()
    assert len(results) == 1, "the scoring thread raised"
    return results[0]


def test_a_pathological_answer_is_cut_off_on_a_worker_thread(bounded: CompiledSpec) -> None:
    scores = _in_thread(lambda: bounded.score(BATCH, solution=SOLUTIONS))
    assert (scores.rules["m"], scores.metrics) == (BOUNDED_SCORES, BOUNDED_METRICS)


def test_a_pathological_answer_is_cut_off_inside_a_running_event_loop(bounded: CompiledSpec) -> None:
    async def score() -> Scores:
        assert asyncio.get_running_loop().is_running()
        return bounded.score(BATCH, solution=SOLUTIONS)

    scores = asyncio.run(score())
    assert (scores.rules["m"], scores.metrics) == (BOUNDED_SCORES, BOUNDED_METRICS)


def test_a_pathological_answer_is_cut_off_in_an_event_loop_on_a_worker_thread(bounded: CompiledSpec) -> None:
    # TRL's async reward loop: an event loop of its own thread, calling the reward function.
    async def score() -> Scores:
        return bounded.score(BATCH, solution=SOLUTIONS)

    scores = _in_thread(lambda: asyncio.run(score()))
    assert (scores.rules["m"], scores.metrics) == (BOUNDED_SCORES, BOUNDED_METRICS)


def test_a_reference_whose_parse_overruns_cuts_off_its_rows_once() -> None:
    # A megabyte of nested \boxed{ takes math-verify over a minute to parse; every step else, a fraction of a second.
    spec = rewardlang.loads("reward m\nrule m: math column solution { timeout 1 }\n")
    endless = r"\boxed{" * 100_000
    scorer = _scorer(spec)
    try:
        scores = spec.score([r"\boxed{1}", r"\boxed{2}", r"\boxed{1}"], solution=[endless, endless, "1"])
    finally:
        scorer.close()
    # One kill for the reference: its rows score None without parsing it again; the other row scores.
    assert scores.rules["m"] == [None, None, 1.0]
    assert scores.metrics == {"math/m/timeouts": 2.0, "math/m/crashes": 0.0}
    assert scorer._verifier is not None and scorer._verifier.starts == 2


def test_trl_calls_get_the_metric_through_log_metric(bounded: CompiledSpec) -> None:
    logged: list[tuple[str, float]] = []
    function = bounded.reward_funcs[0]
    scores = function(
        prompts=[[{"role": "user", "content": "?"}]] * 2,
        completions=[conversation(r"\boxed{1}"), conversation(r"\boxed{2}")],
        completion_ids=[[1], [2]],
        solution=["1", "1"],
        log_metric=lambda name, value: logged.append((name, value)),
    )
    assert scores == [1.0, 0.0]
    assert logged == [("math/m/timeouts", 0.0), ("math/m/crashes", 0.0)]


def test_a_worker_killed_mid_batch_scores_none_and_the_rest_continues() -> None:
    # A long deadline: the worker is stuck on the power tower until killed (as the OOM killer would).
    spec = rewardlang.loads("reward m\nrule m: math column solution { timeout 600 }\n")
    scorer = _scorer(spec)
    killed = threading.Event()

    def kill_when_stuck() -> None:
        while scorer._verifier is None or scorer._verifier._process is None:  # until the worker is ready
            time.sleep(0.05)
        time.sleep(1)  # the worker is on the first pair, which never ends
        os.kill(scorer._verifier._process.popen.pid, signal.SIGKILL)
        killed.set()

    killer = threading.Thread(target=kill_when_stuck)
    killer.start()
    try:
        texts = [PATHOLOGICAL, r"\boxed{\frac{1}{2}}", r"\boxed{0.5}", r"\boxed{2}"]  # stuck on the first
        scores = spec.score(texts, solution=["1", "0.5", "1/2", "3"])
    finally:
        killer.join()
        scorer.close()
    assert killed.is_set()
    assert scores.rules["m"] == [None, 1.0, 1.0, 0.0]
    assert scores.metrics == {"math/m/timeouts": 0.0, "math/m/crashes": 1.0}


def test_a_worker_that_died_between_calls_is_restarted(bounded: CompiledSpec) -> None:
    scorer = _scorer(bounded)
    assert bounded.score([r"\boxed{1}"], solution=["1"]).rules["m"] == [1.0]
    assert scorer._verifier is not None and scorer._verifier._process is not None
    process = scorer._verifier._process.popen
    process.kill()
    process.wait()
    scores = bounded.score([r"\boxed{1}", r"\boxed{2}"], solution=["1", "1"])
    assert (scores.rules["m"], scores.metrics) == ([1.0, 0.0], {"math/m/timeouts": 0.0, "math/m/crashes": 0.0})


# ----------------------------------------------------------- anything in
junk = st.recursive(
    st.none() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["role", "content"]), children),
    max_leaves=5,
)
LATEX_PIECES = [*"0123456789+-*/^{}()[]$\\ x,.%", r"\boxed{", r"\frac{"]
latexish = st.lists(st.sampled_from(LATEX_PIECES), max_size=20).map("".join)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(latexish | junk, latexish | junk), min_size=1, max_size=4))
def test_any_input_scores_zero_one_or_none(generous: CompiledSpec, rows: list[tuple[object, object]]) -> None:
    scores = generous.score([row[0] for row in rows], solution=[row[1] for row in rows])
    assert len(scores.rules["m"]) == len(rows)
    assert set(scores.rules["m"]) <= {0.0, 1.0, None}
    assert scores.metrics == {"math/m/timeouts": 0.0, "math/m/crashes": 0.0}


def test_megabyte_inputs(generous: CompiledSpec) -> None:
    texts = ["a" * 1_000_000, "{" * 500_000 + "}" * 500_000 + r" so \boxed{1}", "$2$ " * 250_000 + r"\boxed{1}"]
    scores = generous.score(texts, solution=["1", "{" * 500_000, "1"])
    # No math in a megabyte of letters; no parseable reference in a megabyte of braces; \boxed{} first.
    assert scores.rules["m"] == [0.0, None, 1.0]


# ----------------------------------------------------------------- pickling
def test_the_scorer_pickles_without_its_worker(bounded: CompiledSpec) -> None:
    scorer = _scorer(bounded)
    bounded.score([r"\boxed{1}"], solution=["1"])
    assert scorer._verifier is not None
    copy = pickle.loads(pickle.dumps(bounded))
    copied = _scorer(copy)
    assert copied._verifier is None
    try:
        assert copy.score([r"\boxed{1}", r"\boxed{2}"], solution=["1", "1"]).rules["m"] == [1.0, 0.0]
    finally:
        copied.close()


# -------------------------------------------------------------- specs/math.reward
def test_the_packaged_math_spec_scores_hand_checked_totals() -> None:
    spec = rewardlang.load(ROOT / "specs" / "math.reward")
    good = "<think>\nHalf of one.\n</think>\n<answer>\n\\boxed{\\frac{1}{2}}\n</answer>"
    rows: list[tuple[str, str | None, int, dict[str, float | None], float]] = [
        # format, tag count 4 x 0.25, accuracy (weight 2), no length penalty: 1 + 1 + 2 = 4
        (good, "0.5", 100, {"format": 1.0, "tag_count": 1.0, "accuracy": 1.0, "overlong": 0.0}, 4.0),
        # wrong answer, 896 tokens: half-way into the 256-token buffer: 1 + 1 + 0 - 0.5
        (good, "4", 896, {"format": 1.0, "tag_count": 1.0, "accuracy": 0.0, "overlong": -0.5}, 1.5),
        # right answer, no format at all: 2 x 1
        (r"The answer is \boxed{\frac{1}{2}}", "1/2", 50, {"format": 0.0, "tag_count": 0.0, "accuracy": 1.0,
                                                          "overlong": 0.0}, 2.0),
        # the solution cannot be parsed: accuracy does not apply (adds nothing); past the limit: -1
        (good, "see the figure", 2000, {"format": 1.0, "tag_count": 1.0, "accuracy": None, "overlong": -1.0}, 1.0),
        # tags without open-r1's line breaks: only "<think>\n" is found, 0.25; 1 + 0.25 + 2
        ("<think>\nx\n</think><answer>\\boxed{1}</answer>", "1", 10,
         {"format": 1.0, "tag_count": 0.25, "accuracy": 1.0, "overlong": 0.0}, 3.25),
    ]
    try:
        scores = spec.score(
            [conversation(text) for text, _, _, _, _ in rows],
            completion_ids=[[7] * tokens for _, _, tokens, _, _ in rows],
            solution=[solution for _, solution, _, _, _ in rows],
        )
    finally:
        _close_all(spec)
    for index, (text, _, _, expected, total) in enumerate(rows):
        assert {name: values[index] for name, values in scores.rules.items()} == expected, text
        assert scores.total[index] == total, text
    assert scores.metrics == {"math/accuracy/timeouts": 0.0, "math/accuracy/crashes": 0.0}


def _close_all(spec: CompiledSpec) -> None:
    for scorer in spec.scorers.values():
        if isinstance(scorer, MathScorer):
            scorer.close()


# ------------------------------------------------------------ a real GRPO run
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_the_math_spec_in_two_real_grpo_steps(tiny_model_dir: Path, tmp_path: Path) -> None:
    """TRL's GRPOTrainer with specs/math.reward: every rule and the timeouts metric are logged each step."""
    pytest.importorskip("trl")
    from datasets import Dataset

    spec = rewardlang.load(ROOT / "specs" / "math.reward")
    dataset = Dataset.from_list(
        [
            {"prompt": [{"role": "user", "content": question}], "solution": solution}
            for question, solution in [("What is 1/2 + 1/4?", r"$\frac{3}{4}$"), ("What is 6 x 7?", "42"),
                                       ("Half of 3?", "1.5"), ("The set of roots of x^2 = 1?", r"$\{-1, 1\}$")]
        ]
    )
    try:
        history = train_two_steps(spec.reward_funcs, spec.weights, tiny_model_dir, tmp_path / "run", dataset)
    finally:
        _close_all(spec)
    for key in ["rewards/math/accuracy/mean", "rewards/math/format/mean", "math/accuracy/timeouts"]:
        assert len(logged(history, key)) == 2, (key, logged(history, key))
    # A tiny random model boxes no answer: every completion is verified and wrong, none cut off.
    assert logged(history, "rewards/math/accuracy/mean") == [0, 0]
    assert logged(history, "math/accuracy/timeouts") == [0, 0]
