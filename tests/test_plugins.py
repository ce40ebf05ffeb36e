"""Plugin rule kinds: a kind an installed package registers is checked, compiled and scored like a built-in.

The example plugin `tests/plugins/rewardlang-readability` (installed in the test environment by
scripts/setup.sh) provides the kind `readability`. Broken plugins are real distributions built in
a temporary folder (a `.dist-info` with an `entry_points.txt`, next to their module) and put on
`sys.path`, where `importlib.metadata` finds them; the discovery caches are cleared around them.
Scores are worked out by hand from the Flesch-Kincaid formula of the plugin's docstring:
grade = 0.39 x words / sentences + 11.8 x syllables / words - 15.59.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import rewardlang
from rewardlang import analyze, ast, plugins
from rewardlang.fmt import format_source
from rewardlang.registry import KINDS, kind_of, kinds_table

ROOT = Path(__file__).resolve().parent.parent
HEADER = 'reward plain\nplugins "rewardlang-readability"\n'
PLUGIN_HELP = 'a plugin kind needs its package installed and named in the spec\'s `plugins "PACKAGE"` statement'

# 12 words, 1 sentence, 16 syllables (happy, people, water, garden: 2 each): grade 4.8233...
PLAIN = "Happy people water the garden and the cat sits in the sun."
PLAIN_GRADE = 0.39 * 12 + 11.8 * 16 / 12 - 15.59
# 6 words, 2 sentences, 6 syllables: grade -2.62
SIMPLE = "I like it. It is fun."
# 5 words, 1 sentence, 9 syllables outside the code block: grade 7.6; 9 words, 2 sentences, 21 syllables with it.
WITH_CODE = "Happy people water the garden. ```\nx = compute_everything_immediately()\n```"


def codes_of(text: str) -> list[str]:
    return [d.code for d in analyze(text).diagnostics]


def single(text: str, code: str) -> rewardlang.Diagnostic:
    found = analyze(text).diagnostics
    assert [d.code for d in found] == [code], found
    return found[0]


# ------------------------------------------------------------- discovery
def test_the_example_plugin_is_installed_and_its_kind_recorded_with_its_package() -> None:
    entry = plugins.installed()["readability"]
    assert entry.distribution == "rewardlang-readability"
    assert plugins.provider("readability") == "rewardlang-readability"
    assert plugins.provider("length") is None  # built in
    assert plugins.kinds_of("Rewardlang_Readability") == ["readability"]  # names compare as PEP 503 spells them
    from rewardlang_readability import KIND

    assert kind_of("readability") is KIND
    assert "readability" not in KINDS  # KINDS holds the built-in kinds only
    assert "readability" not in kinds_table()


def test_a_plugin_rule_validates_into_its_own_model_and_the_spec_names_its_packages() -> None:
    from rewardlang_readability import ReadabilityRule

    rule_line = "rule plain: readability 6..10 { outside 0.5  ramp 2  min_words 3  ignore_code  weight 2 }\n"
    analysis = analyze(HEADER + rule_line)
    assert analysis.diagnostics == []
    assert analysis.spec is not None
    rule = analysis.spec.rules[0]
    assert type(rule) is ReadabilityRule
    assert rule.model_dump() == {
        "name": "plain", "kind": "readability", "weight": 2.0, "scope": "answer",
        "grades": {"low": 6.0, "high": 10.0}, "outside": 0.5, "ramp": 2.0, "min_words": 3, "ignore_code": True,
        "when": None,
    }
    assert analysis.spec.plugins == ("rewardlang-readability",)


def test_a_spec_with_a_plugin_rule_round_trips_through_data_and_json() -> None:
    spec = rewardlang.parse(HEADER + "rule plain: readability 6..10\nrule brief: length ..50 words\n")
    data = spec.model_dump()
    again = ast.Spec.model_validate(data)
    assert again.model_dump() == data
    assert [type(rule) for rule in again.rules] == [type(rule) for rule in spec.rules]
    assert ast.Spec.model_validate_json(spec.model_dump_json()).model_dump() == data


def test_a_rule_of_an_unknown_kind_given_as_data_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rule kind `nope`"):
        ast.Spec.model_validate({"name": "x", "rules": [{"kind": "nope", "name": "r"}]})


# ------------------------------------------------- the same checks as built-ins
def test_an_option_of_another_kind_gets_the_built_in_diagnostic() -> None:
    plugin = single(HEADER + "rule plain: readability 6..10 { each 0.5 }\n", "RL102")
    built_in = single("reward x\nrule brief: length ..50 words { each 0.5 }\n", "RL102")
    assert (plugin.message, built_in.message) == (
        "option `each` does not apply to `readability` rules", "option `each` does not apply to `length` rules"
    )
    accepted = "`ignore_code`, `min_words`, `outside`, `ramp`, `scope`, `weight` or `when`"
    assert plugin.help == f"`readability` rules accept {accepted}"
    assert (plugin.span.column, plugin.span.end_column) == (33, 37)  # the option's name, as for built-ins


def test_a_misspelled_option_gets_did_you_mean() -> None:
    # A built-in kind's options are keywords (a misspelling is RL001); a plugin's are names (RL102).
    d = single(HEADER + "rule plain: readability 6..10 { outsid 0.5 }\n", "RL102")
    assert d.message == "option `outsid` does not apply to `readability` rules"
    assert d.help.startswith("did you mean `outside`? ")


def test_a_plugin_only_option_misspelled_gets_did_you_mean() -> None:
    d = single(HEADER + "rule plain: readability 6..10 { min_word 3 }\n", "RL102")
    assert d.help.startswith("did you mean `min_words`? ")


def test_bad_values_get_the_built_in_codes_at_their_spans() -> None:
    text = HEADER + "rule plain: readability 6..10 { ramp 0  outside 200  min_words 2.5  scope thinkin }\n"
    found = analyze(text).diagnostics
    assert [(d.code, d.span.column) for d in found] == [("RL105", 33), ("RL105", 41), ("RL106", 54), ("RL104", 69)]
    assert found[3].help == "did you mean `thinking`?"


def test_an_empty_grade_range_is_rl116_as_for_built_in_ranges() -> None:
    d = single(HEADER + "rule plain: readability 10..6\n", "RL116")
    assert d.message == "grade range can never match"


def test_a_value_of_the_wrong_type_is_rl152_naming_what_the_field_takes() -> None:
    text = HEADER + 'rule plain: readability "easy" { min_words many  ignore_code 2 }\n'
    found = analyze(text).diagnostics
    assert [(d.code, d.message) for d in found] == [
        ("RL152", "`grades` of `readability` rules takes a range (low..high)"),
        ("RL152", "`min_words` of `readability` rules takes a whole number"),
        ("RL152", "`ignore_code` of `readability` rules takes a flag (the option's name alone)"),
    ]
    assert found[0].span.column == len("rule plain: readability ") + 1


def test_a_header_with_too_many_or_too_few_values_is_rl152() -> None:
    extra = single(HEADER + "rule plain: readability 6..10 12 words\n", "RL152")
    assert extra.message == "`readability` rules are written `readability GRADES`"
    assert extra.label == "2 values too many: the header takes 1 value after `readability`"
    missing = single(HEADER + "rule plain: readability { ramp 2 }\n", "RL152")
    assert missing.label == "`GRADES` expected after this"


def test_a_target_where_a_range_belongs_is_rl152_not_an_option_error() -> None:
    d = single(HEADER + "rule plain: readability column grade\n", "RL152")
    assert d.message == "`grades` of `readability` rules takes a range (low..high)"


# ------------------------------------------------- unknown kinds, missing packages
def test_a_misspelled_plugin_kind_gets_did_you_mean_over_installed_kinds() -> None:
    d = single(HEADER + "rule plain: readabilty 6..10\n", "RL149")
    assert d.message == "unknown rule kind `readabilty`"
    assert d.help == "did you mean `readability`? " + PLUGIN_HELP


def test_a_misspelled_built_in_kind_is_rl149_with_did_you_mean() -> None:
    text = "reward x\nrule brief: lenth 1..2 words\n"
    d = single(text, "RL149")
    assert d.help == "did you mean `length`? " + PLUGIN_HELP
    assert (d.span.line, d.span.column, d.span.end_column) == (2, 13, 18)


def test_a_kind_whose_package_is_not_installed_says_what_to_install() -> None:
    text = 'reward polite\nplugins "rewardlang-not-installed"\nrule polite: politeness 0.5..\n'
    found = analyze(text).diagnostics
    assert [d.code for d in found] == ["RL150", "RL149"]
    assert found[0].message == "package `rewardlang-not-installed` is not installed"
    assert found[0].help == "pip install rewardlang-not-installed"
    assert (found[0].span.line, found[0].span.column) == (2, 9)  # at the package's string
    assert found[1].message == (
        "kind `politeness` is not installed; the spec needs package `rewardlang-not-installed`: "
        "pip install rewardlang-not-installed"
    )
    assert (found[1].span.line, found[1].span.column) == (3, 14)  # at the kind


def test_an_installed_package_that_provides_no_used_kind_is_a_warning() -> None:
    d = single(HEADER + "rule brief: length ..50 words\n", "RL228")
    assert d.help == "it provides `readability`; remove it from `plugins`"


def test_a_plugin_kind_used_without_naming_its_package_is_a_warning() -> None:
    analysis = analyze("reward plain\nrule plain: readability 6..10\n")
    assert [d.code for d in analysis.diagnostics] == ["RL229"]
    assert analysis.diagnostics[0].help.startswith('add `plugins "rewardlang-readability"` to the spec')
    assert analysis.spec is not None  # a warning: the spec works here


def test_a_second_plugins_statement_is_a_duplicate() -> None:
    assert codes_of(HEADER + 'plugins "rewardlang-readability"\nrule plain: readability 6..10\n') == ["RL103"]


# ------------------------------------------------- compile, score, explain, pickle
SPEC = HEADER + "rule plain: readability 6..10 { ramp 4 }\nrule code: readability 6..10 { ignore_code }\n"


def test_scores_follow_the_grade_range_and_the_ramp() -> None:
    compiled = rewardlang.loads(SPEC)
    scores = compiled.score([PLAIN, SIMPLE, "", WITH_CODE, [{"role": "assistant", "content": None}]])
    # PLAIN: 6 - 4.8233 = 1.1767 grades below the range, over a ramp of 4.
    assert scores.rules["plain"][0] == pytest.approx(1 - (6 - PLAIN_GRADE) / 4)
    assert scores.rules["plain"][1] == 0.0  # -2.62: more than a ramp below
    assert scores.rules["plain"][2] is None  # no words: not applicable (min_words 1)
    with_code_grade = 0.39 * 9 / 2 + 11.8 * 21 / 9 - 15.59  # 13.698: 3.698 above
    assert scores.rules["plain"][3] == pytest.approx(1 - (with_code_grade - 10) / 4)
    assert scores.rules["code"][3] == 1.0  # grade 7.6 without the code block
    assert scores.rules["plain"][4] is None  # None content: no text
    assert scores.total[0] == pytest.approx(scores.rules["plain"][0] + scores.rules["code"][0])


def test_explain_says_the_grade_and_the_score() -> None:
    compiled = rewardlang.loads(SPEC)
    explained = compiled.score([PLAIN, ""], explain=True).explanations
    assert explained is not None
    assert explained["plain"] == ["grade 4.8, inside 6..10? no -> 0.705833", "fewer than 1 word(s): not graded"]


def test_the_compiled_spec_and_its_reward_functions_pickle() -> None:
    compiled = rewardlang.loads(SPEC)
    expected = compiled.score([PLAIN, WITH_CODE]).rules
    again = pickle.loads(pickle.dumps(compiled))
    assert again.score([PLAIN, WITH_CODE]).rules == expected
    function = pickle.loads(pickle.dumps(compiled.reward_funcs[0]))
    assert function(prompts=["p", "p"], completions=[PLAIN, WITH_CODE]) == expected["plain"]


def test_rewardc_score_scores_a_plugin_rule(rewardc, write) -> None:
    spec = write(SPEC)
    data = write(json.dumps({"prompt": "Tell me.", "completion": PLAIN}) + "\n", "rows.jsonl")
    result = rewardc("score", spec, "--data", data, "--format", "jsonl")
    assert result.code == 0, result.err
    row = json.loads(result.out.splitlines()[0])
    assert row["scores"]["plain"] == pytest.approx(1 - (6 - PLAIN_GRADE) / 4)


# ------------------------------------------------------------------- fmt
def test_fmt_writes_a_plugin_rule_without_the_plugin_installed() -> None:
    text = (
        'reward polite\nplugins   "rewardlang-not-installed","other"\n'
        'rule polite:politeness   0.5.. column "ref col" "a","b" warm {level 3 strict}\n'
    )
    formatted, diagnostics = format_source(text)
    assert diagnostics == []
    assert formatted == (
        'reward polite\n\nplugins "rewardlang-not-installed", "other"\n'
        'rule polite: politeness 0.5.. column "ref col" "a", "b" warm { level 3  strict }\n'
    )
    assert format_source(formatted) == (formatted, [])


def test_fmt_of_an_installed_plugin_rule_keeps_its_meaning() -> None:
    text = HEADER + "rule plain:readability  6..10{min_words 2 ignore_code outside -0.5}\n"
    formatted, _ = format_source(text)
    assert formatted is not None
    assert formatted.splitlines()[-1] == "rule plain: readability 6..10 { min_words 2  ignore_code  outside -0.5 }"
    before, after = analyze(text).spec, analyze(formatted).spec
    assert before is not None and after is not None
    assert after.model_dump() == before.model_dump()


# ------------------------------------------------------------ broken plugins
def _distribution(root: Path, name: str, module: str, source: str, entry_points: dict[str, str]) -> None:
    """A real installed distribution under `root`: its module and its `.dist-info` metadata."""
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    lines = "".join(f"{kind} = {target}\n" for kind, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[rewardlang.kinds]\n{lines}", encoding="utf-8")


BROKEN = """
    from typing import Literal
    from rewardlang.kind import Kind
    from rewardlang.nodes import PhraseList, RuleBase
    from rewardlang.rules.base import RuleScorer

    class Quiet(RuleBase):
        kind: Literal["quiet"]

    class Loud(RuleBase):
        kind: Literal["loud"]

    class Wordy(RuleBase):
        kind: Literal["wordy"]

    class Keywords(RuleBase):
        kind: Literal["keywords"]
        phrases: PhraseList

    class KeywordsScorer(RuleScorer):
        def score(self, batch):
            return [1.0 if any(p.text in text for p in self.rule.phrases) else 0.0 for text in batch.texts()]

    KEYWORDS = Kind(model=Keywords, arguments=("phrases",), template="keywords {phrases}",
                    scorer=KeywordsScorer, summary="")
    NOT_A_KIND = 42
    WRONG_NAME = Kind(model=Loud, arguments=(), template="loud", scorer=RuleScorer, summary="")
    WORDY = Kind(model=Wordy, arguments=(), template="wordy please", scorer=RuleScorer, summary="")
    class Bare(RuleBase):
        kind: Literal["bare"]

    NO_SCORER = Kind(model=Bare, arguments=(), template="bare", scorer=object, summary="")
    CLASH = Kind(model=Quiet, arguments=(), template="quiet", scorer=RuleScorer, summary="")
"""


def _clear_caches() -> None:
    for cached in (plugins.installed, plugins.installed_distributions, plugins.load):
        cached.cache_clear()


@pytest.fixture
def broken_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _distribution(tmp_path, "rewardlang-broken", "rewardlang_broken", BROKEN, {
        "fails": "rewardlang_missing_module:KIND", "number": "rewardlang_broken:NOT_A_KIND",
        "wrong": "rewardlang_broken:WRONG_NAME", "wordy": "rewardlang_broken:WORDY",
        "keywords": "rewardlang_broken:KEYWORDS", "bare": "rewardlang_broken:NO_SCORER",
        "twice": "rewardlang_broken:CLASH",
    })
    _distribution(tmp_path, "rewardlang-clash", "rewardlang_clash", BROKEN, {"length": "rewardlang_clash:CLASH"})
    _distribution(tmp_path, "rewardlang-twin", "rewardlang_twin", BROKEN, {"twice": "rewardlang_twin:CLASH"})
    monkeypatch.syspath_prepend(str(tmp_path))
    _clear_caches()
    yield
    monkeypatch.undo()
    _clear_caches()


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("fails", ("kind `fails` of package `rewardlang-broken` fails to load (rewardlang_missing_module:KIND: "
                  "ModuleNotFoundError: No module named 'rewardlang_missing_module')")),
        ("number", ("kind `number` of package `rewardlang-broken` is not a `rewardlang.kind.Kind` "
                   "(rewardlang_broken:NOT_A_KIND is a int)")),
        ("wrong", ("package `rewardlang-broken` registers kind `wrong`, but its record's model is not of that kind "
                  '(it needs `kind: Literal["wrong"]`)')),
        ("wordy", ("kind `wordy` of package `rewardlang-broken` has the template 'wordy please'; a plugin kind's "
                  "header is its name and its arguments in order: 'wordy'")),
        ("bare", ("kind `bare` of package `rewardlang-broken` has a scorer that is not a "
                  "`rewardlang.rules.base.RuleScorer` subclass")),
    ],
)
def test_a_broken_plugin_kind_is_rl151_naming_its_package(broken_plugins: None, kind: str, reason: str) -> None:
    text = f'reward x\nplugins "rewardlang-broken"\nrule r: {kind}\n'
    d = single(text, "RL151")
    assert d.message == f"rule kind `{kind}` cannot be used: {reason}"
    assert d.label == "provided by package `rewardlang-broken`"
    assert (d.span.line, d.span.column) == (3, 9)


def test_a_kind_that_two_packages_register_is_rl151_naming_both(broken_plugins: None) -> None:
    d = single('reward x\nplugins "rewardlang-broken"\nrule r: twice\n', "RL151")
    assert d.message == (
        "rule kind `twice` cannot be used: kind `twice` is registered by more than one package "
        "(`rewardlang-broken`, `rewardlang-twin`): uninstall all but one"
    )
    assert (d.span.line, d.span.column) == (3, 9)


def test_a_plugin_that_registers_a_built_in_name_is_rl151_at_the_package(broken_plugins: None) -> None:
    text = 'reward x\nplugins "rewardlang-clash"\nrule r: length ..5 words\n'
    found = analyze(text).diagnostics
    assert [d.code for d in found] == ["RL151", "RL228"]  # and the package provides nothing the spec can use
    d = found[0]
    assert d.message == (
        "rule kind `length` cannot be used: package `rewardlang-clash` registers kind `length`, "
        "which is a built-in kind: rename it in the package"
    )
    assert (d.span.line, d.span.column) == (2, 9)
    assert kind_of("length") is KINDS["length"]  # the built-in kind stays


def test_a_plugin_list_argument_gets_the_list_checks_of_built_ins(broken_plugins: None) -> None:
    # The package's working kind: its phrase list is checked for blanks (RL107) and repeats (RL204).
    # (No `case` option: entries compare case-sensitively, so "hi" and "Hi" differ.)
    text = 'reward x\nplugins "rewardlang-broken"\nrule r: keywords "hi", "Hi", "" { weight 2 }\n'
    found = analyze(text).diagnostics
    assert [(d.code, d.span.column) for d in found] == [("RL107", 30)]
    found = analyze(text.replace(', ""', "").replace('"Hi"', '"hi"')).diagnostics
    assert [(d.code, d.span.column) for d in found] == [("RL204", 24)]
    compiled = rewardlang.loads(text.replace(', ""', ""))
    assert compiled.score(["hi there", "zero"]).rules["r"] == [1.0, 0.0]


def test_broken_plugins_harm_no_spec_that_does_not_use_them(broken_plugins: None) -> None:
    assert codes_of("reward x\nrule brief: length ..50 words\n") == []
    assert codes_of(HEADER + "rule plain: readability 6..10\n") == []


# ------------------------------------------------------------- discovery cost
def test_checking_a_built_in_spec_never_reads_the_installed_plugins() -> None:
    # pydantic itself imports importlib.metadata and reads its own entry point group (`pydantic`), so
    # the probe records the groups asked for: rewardlang's is never read, nor the distributions listed.
    script = textwrap.dedent(
        """
        import importlib.metadata as metadata, json
        groups = []
        real_entry_points = metadata.entry_points
        def entry_points(**selection):
            groups.append(selection.get("group"))
            return real_entry_points(**selection)
        metadata.entry_points = entry_points
        import rewardlang.cli
        from rewardlang import plugins
        code = rewardlang.cli.main(["check", "specs/chat.reward"])
        read = [plugins.installed.cache_info().currsize, plugins.installed_distributions.cache_info().currsize]
        print(json.dumps({"code": code, "rewardlang group read": "rewardlang.kinds" in groups, "read": read}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome == {"code": 0, "rewardlang group read": False, "read": [0, 0]}


def test_checking_a_plugin_spec_reads_the_rewardlang_group() -> None:
    _clear_caches()
    assert codes_of(HEADER + "rule plain: readability 6..10\n") == []
    assert plugins.installed.cache_info().currsize == 1


# ------------------------------------------------------------ a real TRL run
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_a_plugin_kind_in_two_real_grpo_steps(tiny_model_dir: Path, tmp_path: Path) -> None:
    """TRL's GRPOTrainer with a spec holding the plugin kind: each step logs the mean of its scores.

    A weight-0 reward function records the completions TRL generated, so the logged mean is compared
    with the spec's own scores of them (None, not applicable, left out as TRL does).
    """
    pytest.importorskip("trl")
    from datasets import Dataset

    from trl_runs import logged, train_two_steps

    spec = rewardlang.loads(HEADER + "rule plain: readability 5..6 { ramp 20 }\nrule brief: length ..40 words\n")
    generated: list[list[object]] = []

    def record(completions: list[object], **_: object) -> list[float]:
        generated.append(list(completions))
        return [0.0] * len(completions)

    prompts = ["Explain rain.", "What is a cat?", "Say hello.", "Why is the sky blue?"]
    dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": p}]} for p in prompts])
    history = train_two_steps([*spec.reward_funcs, record], [*spec.weights, 0.0], tiny_model_dir, tmp_path / "run",
                              dataset)
    assert len(generated) == 2
    expected = []
    for completions in generated:
        scores = [score for score in spec.score(completions).rules["plain"] if score is not None]
        expected.append(sum(scores) / len(scores))
    assert logged(history, "rewards/plain/plain/mean") == pytest.approx(expected)
    assert all(0.0 < mean < 1.0 for mean in expected)  # a narrow range: the scores really vary
    assert len(logged(history, "rewards/plain/brief/mean")) == 2


def test_the_reference_example_checks_clean() -> None:
    section = (ROOT / "docs" / "language.md").read_text(encoding="utf-8").split("### 12.4 Plugin kinds", 1)[1]
    example = section.split("```reward\n", 1)[1].split("```", 1)[0]
    analysis = analyze(example)
    assert analysis.diagnostics == []
    assert analysis.spec is not None and [rule.kind for rule in analysis.spec.rules] == ["readability", "length"]


def test_a_syntax_error_in_a_plugin_block_lists_the_kinds_options() -> None:
    d = single(HEADER + 'rule plain: readability 6..10 { ramp 2 "x" }\n', "RL002")
    assert d.label == "expected one of `outside`, `ramp`, `scope`, `weight`, `when`, a name, `}`"


def test_every_plugin_code_is_explained(rewardc) -> None:
    for code in ("RL149", "RL150", "RL151", "RL152", "RL228", "RL229"):
        result = rewardc("explain", code)
        assert result.code == 0 and result.out.startswith(("error[" + code, "warning[" + code)), code


@pytest.mark.parametrize(
    ("line", "word", "keyword"), [("totl = plain", "totl", "total"), ("rul b: json", "rul", "rule")]
)
def test_a_misspelled_statement_keyword_after_a_plugin_header_is_rl001(line: str, word: str, keyword: str) -> None:
    # The plugin header takes the misspelled word in as a name; the error is still reported at the word.
    d = single(HEADER + f"rule plain: readability 6..10\n{line}\n", "RL001")
    assert (d.message, d.help) == (f"unknown keyword `{word}`", f"did you mean `{keyword}`?")
    assert (d.span.line, d.span.column, d.span.end_column) == (4, 1, 1 + len(word))


MESSY = """\
reward   plain   # header
plugins  "rewardlang-readability" ,   # the package
# before the rule
rule plain :readability   -2 .. 10 {   # open
  # inside
  min_words   3   # trailing
  ignore_code
}
rule other: politeness column   ref "a" ,"b",{weight 2}
"""

MESSY_FORMATTED = """\
reward plain  # header

plugins "rewardlang-readability"  # the package
# before the rule
rule plain: readability -2..10 {  # open
    # inside
    min_words 3  # trailing
    ignore_code
}
rule other: politeness column ref "a", "b" { weight 2 }
"""


def test_fmt_of_plugin_rules_keeps_comments_and_is_idempotent() -> None:
    formatted, diagnostics = format_source(MESSY)
    assert diagnostics == []
    assert formatted == MESSY_FORMATTED
    assert format_source(MESSY_FORMATTED) == (MESSY_FORMATTED, [])
    before, after = analyze(MESSY), analyze(MESSY_FORMATTED)
    assert [d.code for d in before.diagnostics] == [d.code for d in after.diagnostics] == ["RL149"]  # politeness
    # Without the rule of the kind nobody provides, both validate to the same spec.
    valid_before, valid_after = (analyze(text.rsplit("rule other", 1)[0]).spec for text in (MESSY, MESSY_FORMATTED))
    assert valid_before is not None and valid_after is not None
    assert valid_before.model_dump() == valid_after.model_dump()


def test_checking_a_plugin_spec_imports_no_training_stack(tmp_path: Path) -> None:
    try:
        from test_imports import heavy_after
    except ImportError:  # tests/ turned into a package
        from tests.test_imports import heavy_after

    path = tmp_path / "plain.reward"
    path.write_text(SPEC, encoding="utf-8")
    outcome = heavy_after(f"import rewardlang.cli\nresult = rewardlang.cli.main(['check', {str(path)!r}])")
    assert outcome == {"result": 0, "heavy": []}


def test_a_plugin_rule_takes_a_scheduled_weight_like_a_built_in_rule() -> None:
    compiled = rewardlang.loads(HEADER + "rule plain: readability 4..6 { weight 0 -> 2 over 10 }\n")
    assert compiled.weights == [1.0, 0.0]  # a scheduled spec: the total, then each rule at weight 0
    halfway, end = compiled.score([PLAIN], at_step=5), compiled.score([PLAIN], at_step=10)
    assert halfway.rules["plain"] == [1.0]  # grade 4.82: inside 4..6
    assert (halfway.total, end.total) == ([1.0], [2.0])  # weight 1 at step 5, 2 from step 10
