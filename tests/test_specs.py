"""Every shipped spec is clean, canonical, and means what it says.

Shipped specs are the examples in specs/ and grpo-train's default spec (package
data in trainer/specs/). They are found by glob, so a new one is covered without
touching this file; the expectations below add detail for the specs we know.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import rewardlang
from rewardlang import ast
from rewardlang.cli import main
from rewardlang.fmt import format_source
from rewardlang.kinds.banned import BannedRule
from rewardlang.kinds.equals import EqualsRule
from rewardlang.kinds.json_format import JsonRule
from rewardlang.kinds.length import LengthRule
from rewardlang.kinds.overlap import OverlapRule
from rewardlang.kinds.overlong import OverlongRule
from rewardlang.kinds.phrases import PhrasesRule
from rewardlang.kinds.regex import RegexRule
from rewardlang.kinds.relevance import RelevanceRule
from rewardlang.kinds.repetition import RepetitionRule
from rewardlang.kinds.similarity import SimilarityRule
from rewardlang.kinds.tags import TagsRule

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "specs").glob("*.reward"))
DEFAULT = ROOT / "trainer" / "specs" / "default_chat.reward"  # grpo-train's, without --rewards
SPECS = [*EXAMPLES, *sorted(DEFAULT.parent.glob("*.reward"))]
IDS = [str(spec.relative_to(ROOT)) for spec in SPECS]

# Rule names, in order, of the specs shipped with the project.
EXPECTED_RULES = {
    "guide": ["length", "helpfulness", "safety", "coherence"],
    "chat": ["length", "helpful", "safety", "on_topic", "fresh"],
    "reasoning": ["format", "correct", "reasoning", "overlong", "no_loops"],
    "support": ["concise", "policy", "no_leak", "next_step", "on_topic"],
    "json_tools": ["valid_call", "matches_reference", "no_loops", "overlong"],
    "tools": ["valid_call", "right_tool", "answered", "overlong"],
    "summarize": ["brief", "reference", "grounded", "copied", "no_filler", "fresh"],
    "default_chat": ["length", "finished", "on_topic", "fresh"],
    "math": ["format", "tag_count", "accuracy", "overlong"],
    "helpfulness": ["helpful", "length", "no_refusal", "fresh", "echo"],
}
# A spec's `reward NAME` is its file name, except grpo-train's default: it is `chat`, so its
# rules log as `rewards/chat/<rule>` as they always have.
SPEC_NAMES = {DEFAULT: "chat"}
_RULE_HEADER = re.compile(r"^[ \t]*rule\s+([A-Za-z_]\w*)\s*:", re.MULTILINE)  # in a `when` group too


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_specs_exist() -> None:
    names = {spec.stem for spec in SPECS}
    assert set(EXPECTED_RULES) <= names, f"missing specs: {sorted(set(EXPECTED_RULES) - names)}"
    assert DEFAULT in SPECS


def test_the_default_spec_is_what_grpo_train_loads() -> None:
    from rewardlang_trainer.train import DEFAULT_SPEC

    assert Path(str(DEFAULT_SPEC)) == DEFAULT
    assert _text(DEFAULT).startswith("# grpo-train's default spec, used when `--rewards` is not given")


# --------------------------------------------------------------- every spec
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_check_strict_is_silent(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["check", "--strict", "--color", "never", str(spec)], capsys)
    assert (code, out, err) == (0, "", "")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_no_diagnostics_at_all(spec: Path) -> None:
    analysis = rewardlang.analyze(_text(spec), base=spec.parent)  # paths in it resolve from its folder
    assert analysis.diagnostics == []
    assert analysis.spec is not None


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_fmt_check_passes(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["fmt", "--check", str(spec)], capsys)
    assert (code, out, err) == (0, "", ""), "run `rewardc fmt --write` on it and review the result"


# Specs whose examples need a model too slow for the default run: the local SmolLM2 judge.
SLOW_EXAMPLES = {"helpfulness"}


@pytest.mark.parametrize(
    "spec",
    [pytest.param(spec, marks=pytest.mark.slow) if spec.stem in SLOW_EXAMPLES else spec for spec in SPECS],
    ids=IDS,
)
def test_every_shipped_spec_carries_examples_that_pass(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    analysis = rewardlang.analyze(_text(spec), base=spec.parent)
    assert analysis.spec is not None and len(analysis.spec.examples) >= 3, "give the spec examples (§11)"
    assert {e.subject for example in analysis.spec.examples for e in example.expectations} & set(
        analysis.spec.rule_names
    ), "its examples expect nothing of its rules"
    if spec.stem in SLOW_EXAMPLES:  # its own process: transformers' logger keeps no stream of an earlier test
        done = subprocess.run([sys.executable, "-m", "rewardlang.cli", "test", "--format", "short", str(spec)],
                              capture_output=True, text=True, check=False)
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        code, out, err = _run(["test", "--format", "short", str(spec)], capsys)
    # Progress bars of transformers, when an earlier test imported it with them on, are not findings.
    lines = [line for line in err.replace("\r", "\n").splitlines() if line and not line.startswith("Loading weights")]
    assert (code, lines) == (0, []), err
    assert out.endswith(": ok\n")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_fmt_round_trip_keeps_the_meaning(spec: Path) -> None:
    text = _text(spec)
    formatted, diagnostics = format_source(text)
    assert diagnostics == [] and formatted is not None
    before = rewardlang.parse(text, filename=str(spec), base=spec.parent)
    after = rewardlang.parse(formatted, filename=str(spec), base=spec.parent)
    assert before.model_dump() == after.model_dump()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_fmt_is_idempotent(spec: Path) -> None:
    once, _ = format_source(_text(spec))
    assert once is not None
    twice, _ = format_source(once)
    assert twice == once


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_fmt_keeps_every_comment(spec: Path) -> None:
    text = _text(spec)
    formatted, _ = format_source(text)
    assert formatted is not None
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert comments == [line.strip() for line in formatted.splitlines() if line.strip().startswith("#")]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_parse_file_gives_the_rules(spec: Path) -> None:
    parsed = rewardlang.parse_file(spec)
    assert isinstance(parsed, ast.Spec)
    assert parsed.name == SPEC_NAMES.get(spec, spec.stem), "a spec's `reward NAME` matches its file name"
    assert parsed.description, "shipped specs say what they are for"
    written = _RULE_HEADER.findall(_text(spec))
    assert parsed.rule_names == written
    assert len(set(parsed.rule_names)) == len(parsed.rule_names)
    if spec.stem in EXPECTED_RULES:
        assert parsed.rule_names == EXPECTED_RULES[spec.stem]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_rule_has_a_comment(spec: Path) -> None:
    """Shipped specs are examples: each rule says why it is there."""
    lines = _text(spec).splitlines()
    for number, line in enumerate(lines):
        if _RULE_HEADER.match(line):
            above = lines[number - 1].strip() if number else ""
            assert above.startswith("#"), f"{spec.name}:{number + 1}: rule without a comment above it"


def test_check_imports_nothing_heavy() -> None:
    """`rewardc check` on every shipped spec stays clear of torch and friends."""
    script = (
        "import sys\n"
        "from rewardlang.cli import main\n"
        f"code = main(['check', '--strict', *{[str(s) for s in SPECS]!r}])\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'trl') if m in sys.modules]\n"
        "print(code, heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []"
    assert result.stderr == ""


# ------------------------------------------------------------- guide.reward
def _rule(spec: ast.Spec, name: str, kind: type) -> object:
    rule = spec.rule(name)
    assert isinstance(rule, kind), f"`{name}` is a {rule.kind} rule"
    return rule


@pytest.fixture(scope="module")
def guide() -> ast.Spec:
    return rewardlang.parse_file(ROOT / "specs" / "guide.reward")


def test_guide_rule_names(guide: ast.Spec) -> None:
    assert guide.rule_names == ["length", "helpfulness", "safety", "coherence"]


def test_guide_combines_like_the_guide(guide: ast.Spec) -> None:
    # Four separate reward functions, weight 1 each: no formula, gate or clip.
    assert [rule.weight for rule in guide.rules] == [1, 1, 1, 1]
    assert guide.total is None
    assert guide.gates == ()
    assert guide.clip is None
    # The guide scores completion content as is: no <think> stripping.
    assert {rule.scope for rule in guide.rules} == {"full"}


def test_guide_length(guide: ast.Spec) -> None:
    rule = _rule(guide, "length", LengthRule)
    assert (rule.range.low, rule.range.high) == (50, 200)
    assert rule.unit == "words"
    assert rule.outside == 0.5
    assert rule.ramp is None  # a cliff, as in the guide


def test_guide_helpfulness(guide: ast.Spec) -> None:
    rule = _rule(guide, "helpfulness", PhrasesRule)
    assert [p.text for p in rule.phrases] == ["I can help", "Here's how", "Let me explain"]
    assert rule.each == 0.3
    assert rule.cap == 1
    assert rule.match == "substring"
    assert rule.case == "lower"
    assert rule.unicode == "raw"


def test_guide_safety(guide: ast.Spec) -> None:
    rule = _rule(guide, "safety", BannedRule)
    assert [p.text for p in rule.phrases] == ["dangerous", "illegal", "harmful"]
    assert (rule.present, rule.absent) == (0, 1)
    assert rule.match == "substring"
    assert rule.case == "lower"
    assert rule.unicode == "raw"


def test_guide_coherence(guide: ast.Spec) -> None:
    rule = _rule(guide, "coherence", OverlapRule)
    assert rule.target.kind == "last_user"
    assert rule.each == 0.2
    assert rule.cap == 1
    assert rule.split == "whitespace"
    assert rule.case == "lower"
    assert rule.unicode == "raw"


# -------------------------------------------------------------- chat.reward
@pytest.fixture(scope="module")
def chat() -> ast.Spec:
    return rewardlang.parse_file(ROOT / "specs" / "chat.reward")


def test_chat_fixes_the_guide(chat: ast.Spec) -> None:
    length = _rule(chat, "length", LengthRule)
    assert length.unit == "words"
    assert length.ramp is not None and length.ramp > 0  # a soft edge instead of a cliff

    helpful = _rule(chat, "helpful", PhrasesRule)
    safety = _rule(chat, "safety", BannedRule)
    # Whole words, Unicode-aware: "harmless" is not "harm"; look-alike letters cannot hide a banned word.
    assert (helpful.match, helpful.case, helpful.unicode) == ("word", "insensitive", "nfkc")
    assert (safety.match, safety.case, safety.unicode) == ("word", "insensitive", "confusables")
    assert {"dangerous", "illegal", "harmful"} <= {p.text for p in safety.phrases}

    on_topic = _rule(chat, "on_topic", RelevanceRule)
    assert on_topic.target.kind == "last_user"

    # An unsafe word zeroes the total.
    assert [(g.rule, g.comparison, g.threshold, g.value) for g in chat.gates] == [("safety", "<", 1, 0)]


# ------------------------------------------------------------ other specs
def test_reasoning_spec() -> None:
    spec = rewardlang.parse_file(ROOT / "specs" / "reasoning.reward")
    tags = _rule(spec, "format", TagsRule)
    assert [t.text for t in tags.tags] == ["think", "answer"]
    assert tags.ordered and tags.scope == "full"
    correct = _rule(spec, "correct", EqualsRule)
    assert (correct.target.kind, correct.target.column, correct.tag) == ("column", "answer", "answer")
    assert _rule(spec, "reasoning", LengthRule).scope == "thinking"
    overlong = _rule(spec, "overlong", OverlongRule)
    assert overlong.unit == "tokens"
    assert overlong.effective_buffer <= overlong.limit
    no_loops = _rule(spec, "no_loops", RepetitionRule)  # TRL's repetition penalty over completion_ids
    assert (no_loops.split, no_loops.ngram, no_loops.penalty) == ("tokens", 3, -1)


def test_support_spec() -> None:
    spec = rewardlang.parse_file(ROOT / "specs" / "support.reward")
    assert spec.total is not None
    assert spec.clip is not None and spec.clip.low is not None and spec.clip.high is not None
    assert any(isinstance(rule, RegexRule) for rule in spec.rules)
    assert any(isinstance(rule, RelevanceRule) for rule in spec.rules)
    assert any(isinstance(rule, BannedRule) for rule in spec.rules)


def test_json_tools_spec() -> None:
    spec = rewardlang.parse_file(ROOT / "specs" / "json_tools.reward")
    valid = _rule(spec, "valid_call", JsonRule)
    assert [(k.text, k.type) for k in valid.keys] == [("name", "string"), ("arguments", "object")]
    similarity = _rule(spec, "matches_reference", SimilarityRule)
    assert similarity.metric == "rougeL"
    assert (similarity.target.kind, similarity.target.column) == ("column", "reference")
    assert _rule(spec, "no_loops", RepetitionRule).ngram == 4


def _call(name: str, arguments: object) -> dict[str, object]:
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def test_tools_spec_scores_hand_checked() -> None:
    spec = rewardlang.load(ROOT / "specs" / "tools.reward")
    parsed = rewardlang.parse_file(ROOT / "specs" / "tools.reward")
    valid = _rule(parsed, "valid_call", JsonRule)
    assert (valid.extract, valid.schema) == ("tool_calls", str(ROOT / "specs" / "schemas" / "tool_call.json"))
    right = _rule(parsed, "right_tool", JsonRule)
    assert right.tool is not None and (right.tool.kind, right.tool.column) == ("column", "expected_tool")

    def trl(*calls: dict[str, object], answer: str = "It is sunny in Oslo today.") -> list[dict[str, object]]:
        """A TRL completion: the parsed calls, a tool result, the final answer."""
        return [
            {"role": "assistant", "content": None, "tool_calls": list(calls)},
            {"role": "tool", "name": "get_weather", "content": "{'sky': 'sunny'}"},
            {"role": "assistant", "content": answer},
        ]

    completions = [
        trl(_call("get_weather", {"city": "Oslo", "unit": "celsius"})),  # all good
        trl(_call("get_weather", '{"city": "Oslo"}')),  # arguments as a JSON string: parsed, valid
        trl(_call("get_weather", {"city": "Oslo", "unit": "kelvin"})),  # unit not in the enum: schema fails
        trl(_call("get_time", {"timezone": "Europe/Oslo"})),  # valid call of the wrong tool
        trl(_call("search", {"query": "weather Oslo", "max_results": 50})),  # wrong tool, max_results > 20
        trl(_call("get_weather", {"city": "Oslo"}), _call("get_weather", "{oops")),  # one call not JSON: 0 for both
        trl(_call("send_email", {"to": "x"})),  # not a known tool
        # The call written as plain text, or in a fenced block: TRL parsed no call, so both rules give 0.
        [{"role": "assistant", "content": '{"name": "get_weather", "arguments": {"city": "Oslo"}}'}],
        'Calling:\n```json\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n```',
        trl(_call("get_weather", {"city": "Oslo"})),  # the row has no expected tool
    ]
    expected_tool = ["get_weather"] * 9 + [None]
    ids = [list(range(30))] * 10
    result = spec.score(completions, completion_ids=ids, expected_tool=expected_tool)
    assert result.rules["valid_call"] == [1.0, 1.0, 0.5, 1.0, 0.5, 0.0, 0.5, 0.0, 0.0, 1.0]
    assert result.rules["right_tool"] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None]
    # Every completion has an answer of 1..60 words (the text-only ones: the JSON itself).
    assert result.rules["answered"] == [1.0] * 10
    assert result.rules["overlong"] == [0.0] * 10  # 30 tokens
    # total = 2 * valid_call + 2 * right_tool + answered + overlong; TRL leaves None out of the sum.
    assert result.total == [5.0, 5.0, 4.0, 3.0, 2.0, 1.0, 2.0, 1.0, 1.0, 3.0]


# ---------------------------------------------- grpo-train's default spec
def test_default_chat_spec() -> None:
    spec = rewardlang.parse_file(DEFAULT)
    length = _rule(spec, "length", LengthRule)
    assert (length.range.low, length.range.high, length.unit, length.ramp) == (12, 22, "words", 6)
    finished = _rule(spec, "finished", RegexRule)
    assert finished.pattern == "[.!?][\"')\\]]*\\s*$"
    on_topic = _rule(spec, "on_topic", RelevanceRule)
    assert on_topic.target.kind == "last_user"
    assert (on_topic.rescale.low, on_topic.rescale.high) == (0.1, 0.7)
    assert _rule(spec, "fresh", RepetitionRule).ngram == 2
    # Repetition scales every rule (rewardc probe's fix for the padded echo and the loop).
    assert spec.total is not None and (spec.gates, spec.clip) == ((), None)
