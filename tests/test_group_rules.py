"""Group-aware rules: `brevity` and `diversity` score a completion against the others of its prompt.

Scores are computed by hand here (written out next to each case); open-r1's `len_reward`
formula is written out in `open_r1_len_reward` below, as in open-r1's rewards.py, and
compared with `brevity` on the same group. Two tests train real GRPOTrainer steps on the
tiny model: in this process, checking what TRL hands the rules (groups of `num_generations`
equal, not identical, prompts) and what it logs; and under torchrun on two CPU processes
(slow) whose configuration splits every group, checking grpo-train's RL225 warning and the
groups of one each process scores.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import rewardlang
from rewardlang import analyze
from rewardlang.diagnostics import Diagnostic
from rewardlang.fmt import format_source
from rewardlang.groups import group_split_warning
from rewardlang.runtime import Batch, prompt_key
from trl_runs import logged, train_two_steps


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def scores(spec: str, completions: list[Any], prompts: list[Any], **columns: Any) -> dict[str, list[float | None]]:
    return rewardlang.loads(spec).score(completions, prompts, **columns).rules


def words(count: int) -> str:
    return " ".join(["w"] * count)


def open_r1_len_reward(lengths: list[int], correctness: list[bool]) -> list[float]:
    """open-r1's `len_reward` (src/open_r1/rewards.py), its arithmetic written out, on given lengths."""
    min_len, max_len = min(lengths), max(lengths)
    if max_len == min_len:
        return [0.0] * len(lengths)
    rewards = []
    for length, is_correct in zip(lengths, correctness, strict=True):
        lambda_val = 0.5 - (length - min_len) / (max_len - min_len)
        rewards.append(float(lambda_val if is_correct else min(0, lambda_val)))
    return rewards


# ------------------------------------------------------------------ groups
def test_groups_are_formed_by_prompt_content_not_identity() -> None:
    first = user("What is 2 + 2?")
    # TRL hands over G separate, equal objects; key order does not matter either.
    prompts = [first, copy.deepcopy(first), [{"content": "What is 2 + 2?", "role": "user"}], user("Other?"), "plain"]
    assert Batch(["a"] * 5, prompts).groups() == [[0, 1, 2], [3], [4]]
    assert prompt_key(first) == prompt_key(copy.deepcopy(first))


def test_rows_without_a_prompt_are_groups_of_their_own() -> None:
    assert Batch(["a", "b", "c"]).groups() == [[0], [1], [2]]


def test_a_subset_groups_the_rows_it_holds() -> None:
    batch = Batch(["a", "b", "c", "d"], [user("p"), user("q"), user("p"), user("q")])
    assert batch.groups() == [[0, 2], [1, 3]]
    assert batch.subset([1, 2, 3]).groups() == [[0, 2], [1]]


# ----------------------------------------------------------------- brevity
def test_brevity_without_correct_gives_everyone_lambda() -> None:
    # Lengths 2, 4, 6 words: lambda = 0.5 - (len - 2) / 4 -> 0.5, 0, -0.5.
    got = scores("reward t\nrule b: brevity words\n", [words(2), words(4), words(6)], [user("p")] * 3)
    assert got["b"] == [0.5, 0.0, -0.5]


def test_brevity_equal_lengths_and_groups_of_one_score_zero() -> None:
    prompts = [user("p"), user("p"), user("alone")]
    got = scores("reward t\nrule b: brevity words\n", [words(3), words(3), words(9)], prompts)
    assert got["b"] == [0.0, 0.0, 0.0]


def test_brevity_scores_each_group_on_its_own() -> None:
    # Group p: 1 and 3 words -> 0.5, -0.5. Group q: 10, 20, 30 words -> 0.5, 0, -0.5.
    completions = [words(10), words(1), words(20), words(3), words(30)]
    prompts = [user("q"), user("p"), user("q"), user("p"), user("q")]
    got = scores("reward t\nrule b: brevity words\n", completions, prompts)
    assert got["b"] == [0.5, 0.5, 0.0, -0.5, -0.5]


def test_brevity_equals_open_r1_len_reward_on_one_group() -> None:
    # Lengths in characters 10, 25, 40, 55, correctness T, F, T, F:
    # lambda = 0.5 - (len - 10) / 45 -> 0.5, 1/6, -1/6, -0.5; incorrect ones get min(0, lambda).
    texts = ["x" * 10, "x" * 25, "x" * 40, "x" * 55]
    answers = [texts[0], "no", texts[2], "no"]
    expected = [0.5, 0.0, 0.5 - 30 / 45, -0.5]
    assert open_r1_len_reward([10, 25, 40, 55], [True, False, True, False]) == expected
    spec = "reward t\nrule accuracy: equals column answer\nrule concise: brevity characters { correct accuracy }\n"
    got = scores(spec, texts, [user("p")] * 4, answer=answers)
    assert got["accuracy"] == [1.0, 0.0, 1.0, 0.0]
    assert got["concise"] == expected


@pytest.mark.parametrize(
    ("option", "first", "expected"),
    [
        # `digits` (0..3) counts digits; the first completion is the shorter (lambda 0.5), the other
        # "xxxxxxxxxx" (no digit, lambda -0.5) is never correct. The first keeps 0.5 only when correct.
        ("correct digits", "111", 0.5),  # the default: >= 3, the highest score `digits` can give
        ("correct digits", "11", 0.0),
        ("correct digits >= 2", "11", 0.5),
        ("correct digits > 2", "11", 0.0),
        ("correct digits <= 1", "1", 0.5),
        ("correct digits < 1", "1", 0.0),
    ],
)
def test_brevity_correct_threshold_forms(option: str, first: str, expected: float) -> None:
    spec = f'reward t\nrule digits: regex r"\\d" {{ each 1  cap 3 }}\nrule b: brevity characters {{ {option} }}\n'
    got = scores(spec, [first, "x" * 10], [user("p")] * 2)
    assert got["digits"] == [float(len(first)), 0.0]
    assert got["b"] == [expected, -0.5]


def test_brevity_counts_not_applicable_correctness_as_incorrect() -> None:
    # `accuracy` is None where the row has no answer: that row is not correct (min(0, 0.5) = 0).
    spec = "reward t\nrule accuracy: equals column answer\nrule b: brevity words { correct accuracy }\n"
    got = scores(spec, [words(1), words(3)], [user("p")] * 2, answer=[None, words(3)])
    assert got["accuracy"] == [None, 1.0]
    assert got["b"] == [0.0, -0.5]


def test_brevity_tokens_leave_rows_without_ids_out() -> None:
    # Token counts 2, (none), 6, 4: the row without ids is None; lambda = 0.5 - (n - 2) / 4 over the others.
    compiled = rewardlang.loads("reward t\nrule b: brevity tokens\n")
    got = compiled.score(["a", "b", "c", "d"], [user("p")] * 4, completion_ids=[[1, 2], None, [1] * 6, [1] * 4])
    assert got.rules["b"] == [0.5, None, -0.5, 0.0]


def test_brevity_explains_the_group_and_the_verdict() -> None:
    spec = "reward t\nrule accuracy: equals column answer\nrule b: brevity words { correct accuracy }\n"
    result = rewardlang.loads(spec).score(
        [words(2), words(4)], [user("p")] * 2, explain=True, answer=[words(2), "no"]
    )
    assert result.explanations is not None
    assert result.explanations["b"] == [
        "2 words; its group of 2: 2..4 words; correct (accuracy 1, needs >= 1) -> 0.5",
        "4 words; its group of 2: 2..4 words; not correct (accuracy 0, needs >= 1) -> -0.5",
    ]


# --------------------------------------------------------------- diversity
def test_diversity_rouge_l_exact_values() -> None:
    # "the cat sat" vs "the cat ran": LCS 2 of 3 tokens each -> ROUGE-L F 2/3, diversity 1/3.
    # "a dog barked loudly" shares no token with either: diversity 1. A group of one: 1.
    completions = ["the cat sat", "the cat ran", "a dog barked loudly", "the cat sat"]
    prompts = [user("p")] * 3 + [user("alone")]
    got = scores("reward t\nrule d: diversity rougeL\n", completions, prompts)
    assert got["d"] == [pytest.approx(1 / 3), pytest.approx(1 / 3), 1.0, 1.0]


def test_diversity_identical_completions_score_zero() -> None:
    # Identical texts (after case folding) are duplicates whatever the metric, empty ones too.
    completions = ["Same answer.", "same answer.", "", ""]
    prompts = [user("p"), user("p"), user("q"), user("q")]
    got = scores("reward t\nrule d: diversity rouge1\n", completions, prompts)
    assert got["d"] == [0.0, 0.0, 0.0, 0.0]


def test_diversity_fuzzy_takes_the_closest_other_completion() -> None:
    # fuzzy ratio (Indel): "abcd" vs "abce" 1 - 2/8 = 0.75; vs "wxyz" 0. Closest wins: 1 - 0.75.
    got = scores("reward t\nrule d: diversity fuzzy\n", ["abcd", "abce", "wxyz"], [user("p")] * 3)
    assert got["d"] == [0.25, 0.25, 1.0]


def test_diversity_bleu_scores_each_completion_as_the_prediction() -> None:
    # BLEU is not symmetric (its brevity penalty looks at the prediction's length): each
    # completion is the hypothesis against the other, as sacrebleu's sentence BLEU computes it.
    from sacrebleu.metrics import BLEU

    bleu = BLEU(effective_order=True)
    long, short = "the cat sat on the mat today", "the cat sat on the mat"
    expected = [1 - bleu.sentence_score(long, [short]).score / 100, 1 - bleu.sentence_score(short, [long]).score / 100]
    assert expected[0] != expected[1]
    got = scores("reward t\nrule d: diversity bleu\n", [long, short], [user("p")] * 2)
    assert got["d"] == [pytest.approx(expected[0]), pytest.approx(expected[1])]


def test_diversity_explains_the_closest_other_completion() -> None:
    result = rewardlang.loads("reward t\nrule d: diversity fuzzy\n").score(
        ["abcd", "wxyz", "abce", "lone"], [user("p")] * 3 + [user("q")], explain=True
    )
    assert result.explanations is not None
    assert result.explanations["d"] == [
        'closest other completion: "abce", fuzzy 0.750 (of 2 compared) -> 0.250',
        'closest other completion: "abcd", fuzzy 0.000 (of 2 compared) -> 1.000',
        'closest other completion: "abcd", fuzzy 0.750 (of 2 compared) -> 0.250',
        "no other completion of its prompt in this batch -> 1",
    ]


# ----------------------------------------------------------- scoring order
def test_the_rule_correct_names_is_scored_first() -> None:
    spec = (
        "reward t\nrule concise: brevity words { correct accuracy }\nrule varied: diversity rougeL\n"
        "rule accuracy: equals column answer\n"
    )
    compiled = rewardlang.loads(spec)
    assert list(compiled.scorers) == ["accuracy", "concise", "varied"]
    result = compiled.score([words(1), words(3)], [user("p")] * 2, answer=[words(1), words(3)])
    assert list(result.rules) == ["concise", "varied", "accuracy"]  # reported in spec order
    assert result.rules["concise"] == [0.5, -0.5]


# ------------------------------------------------------------------ checks
def only(text: str, code: str) -> Diagnostic:
    found = analyze(text).diagnostics
    assert [d.code for d in found] == [code], found
    return found[0]


def test_correct_naming_an_unknown_rule_is_rl111() -> None:
    text = "reward t\nrule accuracy: equals column answer\nrule b: brevity words { correct acuracy }\n"
    d = only(text, "RL111")
    assert text[d.span.start : d.span.end] == "acuracy"
    assert d.help == "did you mean `accuracy`?"


def test_correct_naming_a_rule_that_reads_another_is_rl146() -> None:
    text = (
        "reward t\nrule accuracy: equals column answer\nrule b: brevity words { correct accuracy }\n"
        "rule c: brevity tokens { correct b }\n"
    )
    d = only(text, "RL146")
    assert d.message == "`correct` names `b`, which itself reads the scores of `accuracy`"
    assert (d.span.line, d.span.column) == (4, 34)
    assert [text[label.span.start : label.span.end] for label in d.labels] == ["correct accuracy"]


def test_correct_naming_its_own_rule_is_rl146() -> None:
    d = only("reward t\nrule b: brevity words { correct b }\n", "RL146")
    assert d.label == "a rule cannot read its own score"


@pytest.mark.parametrize("threshold", [">= 1.5", "> 1", "< 0", "<= -0.5"])
def test_correct_threshold_out_of_reach_is_rl147(threshold: str) -> None:
    text = f"reward t\nrule accuracy: equals column answer\nrule b: brevity words {{ correct accuracy {threshold} }}\n"
    d = only(text, "RL147")
    assert text[d.span.start : d.span.end] == threshold.split()[1]
    assert d.message.endswith("never holds: `accuracy` scores lie in 0..1")


@pytest.mark.parametrize("threshold", [">= 0", "> -1", "<= 1", "< 2"])
def test_correct_threshold_every_score_meets_is_rl226(threshold: str) -> None:
    text = f"reward t\nrule accuracy: equals column answer\nrule b: brevity words {{ correct accuracy {threshold} }}\n"
    d = only(text, "RL226")
    assert text[d.span.start : d.span.end] == threshold.split()[1]
    assert d.message.endswith("always holds: `accuracy` scores lie in 0..1")


@pytest.mark.parametrize("threshold", ["", ">= 1", "> 0.5", "< 1", "<= 0"])
def test_reachable_thresholds_check_clean(threshold: str) -> None:
    text = f"reward t\nrule accuracy: equals column answer\nrule b: brevity words {{ correct accuracy {threshold} }}\n"
    assert analyze(text).diagnostics == []


# ------------------------------------------------------------------- fmt
def test_fmt_round_trip_of_group_rules() -> None:
    text = (
        "reward t\nrule accuracy: equals column answer\n"
        "rule b: brevity   tokens {correct accuracy>=0.5 weight 2}\n"
        "rule c: brevity words{ correct accuracy }\n"
        "rule d: diversity   chrf { case sensitive }\n"
    )
    formatted, diagnostics = format_source(text)
    assert diagnostics == []
    assert formatted == (
        "reward t\n\nrule accuracy: equals column answer\n"
        "rule b: brevity tokens { correct accuracy >= 0.5  weight 2 }\n"
        "rule c: brevity words { correct accuracy }\n"
        "rule d: diversity chrf { case sensitive }\n"
    )
    assert format_source(formatted) == (formatted, [])
    before, after = analyze(text).spec, analyze(formatted).spec
    assert before is not None and after is not None
    assert after.model_dump() == before.model_dump()


# --------------------------------------------------------------- pickling
def test_compiled_group_rules_pickle() -> None:
    spec = (
        'reward t\nrule digits: regex r"\\d" { each 1  cap 3 }\nrule b: brevity characters { correct digits }\n'
        "rule d: diversity bleu\n"
    )
    compiled = rewardlang.loads(spec)
    kwargs: dict[str, Any] = {"prompts": [user("p")] * 3, "completions": ["111", "11", "x" * 7], "completion_ids": None}
    before = [f(**kwargs) for f in compiled.reward_funcs]
    again = pickle.loads(pickle.dumps(compiled))
    assert [f(**kwargs) for f in again.reward_funcs] == before
    # Lengths 3, 2, 7: lambda 0.3, 0.5, -0.5; only "111" reaches the default threshold (3): the bound
    # threshold survives pickling.
    assert before[1] == [0.5 - 1 / 5, 0.0, -0.5]


# -------------------------------------------------- grpo-train: split groups
GROUP_SPEC = rewardlang.loads("reward t\nrule b: brevity words\nrule d: diversity rougeL\n").spec
PLAIN_SPEC = rewardlang.loads("reward t\nrule n: length ..50 words\n").spec


def config(per_device: int, steps: int, generations: int, processes: int) -> SimpleNamespace:
    """The GRPOConfig fields the check reads, as TRL derives them (generation_batch_size)."""
    return SimpleNamespace(
        per_device_train_batch_size=per_device, steps_per_generation=steps, num_generations=generations,
        generation_batch_size=per_device * steps * processes,
    )


def test_rl225_when_a_process_can_hold_part_of_a_group() -> None:
    warning = group_split_warning(GROUP_SPEC, config(2, 1, 4, 2))
    assert warning == (
        "grpo-train: warning[RL225]: group rules `b`, `d` may score part of a prompt's group: each of the 2 "
        "processes scores 2 completions (per_device_train_batch_size x steps_per_generation), not a multiple "
        "of num_generations (4): a prompt's group can be split between processes\n"
        "  = help: make per_device_train_batch_size x steps_per_generation a multiple of num_generations; "
        "a split group is scored as the smaller groups each process holds"
    )


def test_rl225_with_one_generation_per_prompt() -> None:
    warning = group_split_warning(GROUP_SPEC, config(4, 1, 1, 1))
    assert warning is not None and "num_generations is 1: every group holds one completion" in warning


@pytest.mark.parametrize(
    ("spec", "args"),
    [
        (GROUP_SPEC, config(2, 2, 4, 2)),  # 4 rows per process: whole groups of 4
        (GROUP_SPEC, config(2, 3, 3, 2)),  # steps_per_generation counts: 6 rows per process, groups of 3
        (PLAIN_SPEC, config(2, 1, 4, 2)),  # no group rule, nothing to warn about
    ],
)
def test_no_rl225_when_groups_are_whole(spec: Any, args: SimpleNamespace) -> None:
    assert group_split_warning(spec, args) is None


# ------------------------------------------------------------ a real TRL run
class Recorder:
    """A plain reward function (weight 0) keeping what TRL passed, to regroup it here."""

    __name__ = "recorder"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> list[float]:
        self.calls.append({key: kwargs[key] for key in ("prompts", "completions", "completion_ids", "answer")})
        return [0.0] * len(kwargs["completions"])


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_two_grpo_steps_with_both_group_kinds(tiny_model_dir: Path, tmp_path: Path) -> None:
    from datasets import Dataset

    spec = rewardlang.loads(
        "reward grp\nrule brief: length ..6 words\nrule concise: brevity tokens { correct brief }\n"
        "rule varied: diversity rougeL\n"
    )
    dataset = Dataset.from_list(
        [{"prompt": user(question), "answer": str(i)} for i, question in enumerate(["Hi?", "Name a color.", "2+2?",
                                                                                    "Say yes."])]
    )
    recorder = Recorder()
    history = train_two_steps([*spec.reward_funcs, recorder], [*spec.weights, 0.0], tiny_model_dir,
                              tmp_path / "out", dataset)

    assert len(recorder.calls) == 2  # one call a step: 2 prompts x 2 generations
    for step, call in enumerate(recorder.calls):
        prompts = call["prompts"]
        # TRL's layout: each prompt twice in a row, as equal but separate objects.
        assert prompts[0] == prompts[1] and prompts[0] is not prompts[1] and prompts[1] != prompts[2]
        assert Batch(call["completions"], prompts).groups() == [[0, 1], [2, 3]]
        rescored = spec.score(call["completions"], prompts, call["completion_ids"], answer=call["answer"]).rules
        for rule in ("brief", "concise", "varied"):
            values = [v for v in rescored[rule] if v is not None]
            assert logged(history, f"rewards/grp/{rule}/mean")[step] == pytest.approx(sum(values) / len(values))
        assert all(v is not None and -0.5 <= v <= 0.5 for v in rescored["concise"])
        assert all(v is not None and 0.0 <= v <= 1.0 for v in rescored["varied"])


# ------------------------------------------------------- two processes, split groups
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_two_processes_with_split_groups_warn_and_score_groups_of_one(tiny_model_dir: Path, tmp_path: Path) -> None:
    """torchrun, 2 CPU processes, 1 completion each per step, num_generations 2: every group straddles
    the two processes, so each process scores a group of one (brevity 0, diversity 1), as §12.3 says."""
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "grp.reward").write_text(
        "reward grp\nrule concise: brevity tokens\nrule varied: diversity rougeL\n", encoding="utf-8"
    )
    with (tmp_path / "chats.jsonl").open("w", encoding="utf-8") as fh:
        for question in ["Hi?", "Name a color.", "2+2?", "Say yes."]:
            messages = [{"role": "user", "content": question}, {"role": "assistant", "content": "ok"}]
            fh.write(json.dumps({"messages": messages}) + "\n")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "rewardlang_trainer.train", "--rewards", "grp.reward", "--dataset", "chats.jsonl",
        "--model_name_or_path", str(tiny_model_dir), "--output_dir", "out", "--num_generations", "2",
        "--per_device_train_batch_size", "1", "--max_completion_length", "8", "--max_steps", "2",
        "--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true", "--seed", "0",
        "--log_raw", "true",  # the test reads TRL's metric dicts from stdout
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stderr.count("grpo-train: warning[RL225]: group rules `concise`, `varied` may score part") == 1
    logs = [json.loads(line.replace("'", '"')) for line in result.stdout.splitlines() if "'rewards/grp/" in line]
    assert [float(entry["rewards/grp/concise/mean"]) for entry in logs] == [0.0, 0.0]
    assert [float(entry["rewards/grp/varied/mean"]) for entry in logs] == [1.0, 1.0]


def test_a_per_task_group_rule_is_explained_among_the_rows_it_applies_to() -> None:
    spec = rewardlang.loads('reward t\nwhen task = "chat" {\n    rule d: diversity fuzzy\n}\n')
    result = spec.score(["abcd", "wxyz", "abce", "abcf"], [user("p")] * 4, explain=True,
                        task=["chat", "math", "chat", "math"])
    assert result.rules["d"] == [0.25, None, 0.25, None]
    assert result.explanations is not None
    assert result.explanations["d"] == [
        'closest other completion: "abce", fuzzy 0.750 (of 1 compared) -> 0.250',
        'not applicable: `task` is "math" (when task = "chat")',
        'closest other completion: "abcd", fuzzy 0.750 (of 1 compared) -> 0.250',
        'not applicable: `task` is "math" (when task = "chat")',
    ]
