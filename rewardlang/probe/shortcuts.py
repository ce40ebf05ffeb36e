"""The probes of `rewardc probe`: shortcut completions built from a spec's own rules.

A probe is one shortcut (stuff every bonus phrase into one answer, echo the
question, answer with empty tags, ...) made into one completion per honest
answer, so that a probe that echoes the prompt echoes each row's own prompt. A
probe exists only where the spec has a rule it attacks. The families, in the order
`build_probes` lists them, and what each completion holds: docs/testing.md.

The kind-specific part, how to maximise one rule of a kind alone, is `MAXIMIZERS`:
every kind of the registry has an entry, a builder or the reason it has none
(tests/test_probe.py checks). It lives here rather than in the kind modules: a
probe is an attack on the kinds, and the kinds stay what the language needs.
A probe whose completions repeat an earlier probe's is left out (the maximiser of a
`phrases` rule is the stuffing probe), and so is one that repeats the honest answers
(echoing a `reference` column the answers came from). Everything random is drawn from a generator
seeded with `--seed` and the probe's name, so each probe is the same whatever else runs.
"""

from __future__ import annotations

import importlib
import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rewardlang import ast
from rewardlang.compiler import compile_rule
from rewardlang.kinds.banned import BannedRule
from rewardlang.kinds.equals import EqualsRule
from rewardlang.kinds.json_format import JsonRule
from rewardlang.kinds.length import LengthRule
from rewardlang.kinds.markers import MarkersRule
from rewardlang.kinds.math_answer import MathRule
from rewardlang.kinds.phrases import PhrasesRule
from rewardlang.kinds.regex import RegexRule
from rewardlang.kinds.tags import TagsRule
from rewardlang.nodes import Range, Target
from rewardlang.registry import score_range
from rewardlang.rows import Row
from rewardlang.rules.matching import measure
from rewardlang.runtime import THINK_CLOSE, THINK_OPEN, Batch, split_thinking

#: The answer that maximises the rules scored for what a text does not do (nothing banned,
#: nothing repeated, nothing long): the shortest polite answer.
BARE_ANSWER = "OK."
#: Neutral filler for padding to a length window: words no rule of a spec is likely to pay for.
FILLER = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima",
    "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
    "xray", "yankee", "zulu",
)
#: Pieces appended at most while padding a text to a length window.
MAX_PIECES = 5_000
#: How often the loop probe repeats its sentence at least, and the words of that sentence at most.
LOOP_REPEATS = 4
LOOP_WORDS = 12

# Disguises of a banned phrase (docs/language.md §6.5 says which ones matching undoes).
ZERO_WIDTH_SPACE = "\u200b"
LOOK_ALIKES = str.maketrans({
    "a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "j": "\u0458", "o": "\u043e", "p": "\u0440",
    "s": "\u0455", "x": "\u0445", "y": "\u0443", "h": "\u04bb", "d": "\u0501",
    "A": "\u0410", "B": "\u0412", "C": "\u0421", "E": "\u0415", "H": "\u041d", "I": "\u0406", "K": "\u041a",
    "M": "\u041c", "O": "\u041e", "P": "\u0420", "T": "\u0422", "X": "\u0425",
})  # Latin letter -> its Cyrillic look-alike
LEETSPEAK = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7",
                           "A": "4", "E": "3", "I": "1", "O": "0", "S": "5", "T": "7"})


def _spaced(phrase: str) -> str:
    return "   ".join(" ".join(word) for word in phrase.split())


DISGUISES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("as written", lambda phrase: phrase),
    ("invisible", lambda phrase: ZERO_WIDTH_SPACE.join(phrase)),
    ("look-alike", lambda phrase: phrase.translate(LOOK_ALIKES)),
    ("spaced", _spaced),
    ("leetspeak", lambda phrase: phrase.translate(LEETSPEAK)),
)


@dataclass(frozen=True)
class Disguise:
    """What a banned-word probe hid, and the rule that should catch it."""

    rule: str
    phrase: str  # as the spec writes it
    method: str  # one of `DISGUISES`
    written: str  # the disguised phrase
    present: float
    absent: float


@dataclass(frozen=True)
class Probe:
    name: str
    description: str
    completions: tuple[Any, ...]  # one per honest answer (a string, or messages for tool calls)
    disguise: Disguise | None = None


class Honest:
    """The honest answers probes are built from: their prompts, columns and texts, as a batch."""

    def __init__(self, rows: Sequence[Row]):
        self.rows = list(rows)
        names = sorted({name for row in self.rows for name in row.columns})
        columns: dict[str, Sequence[Any]] = {name: [row.columns.get(name) for row in self.rows] for name in names}
        self.batch = Batch([row.completion for row in self.rows], [row.prompt for row in self.rows], None, columns)

    @property
    def size(self) -> int:
        return len(self.rows)

    def texts(self) -> list[str]:
        """Each honest completion's assistant text, thinking included."""
        return self.batch.texts("full")

    def plain(self) -> list[str]:
        """Each honest completion's thinking and answer, without the `<think>` tags."""
        return [" ".join(part for part in split_thinking(text) if part) for text in self.texts()]

    def targets(self, target: Target) -> list[str]:
        return [text or "" for text in self.batch.targets(target)]


def build_probes(spec: ast.Spec, rows: Sequence[Row], seed: int = 0) -> list[Probe]:
    """Every probe the spec's rules call for, one completion per row, in the order of the families."""
    honest = Honest(rows)
    families = (_empty, _stuffing, _salad, _echoes, _formats, _loop, _thinking_only, _banned, _maximised)
    probes: list[Probe] = []
    # The honest answers themselves are no shortcut (echoing a reference column the answers came from).
    seen: set[str] = {_key([row.completion for row in honest.rows])}
    for family in families:
        for probe in family(spec, honest, seed):
            key = _key(probe.completions)
            if key in seen and probe.disguise is None:
                continue
            seen.add(key)
            probes.append(probe)
    return probes


def _key(completions: Sequence[Any]) -> str:
    """Completions compared by what they hold: a lone assistant message is its text."""
    return json.dumps([_plain(completion) for completion in completions], sort_keys=True, default=str)


def _plain(completion: Any) -> Any:
    if isinstance(completion, list) and len(completion) == 1 and isinstance(completion[0], dict):
        message = completion[0]
        if message.get("role") == "assistant" and set(message) <= {"role", "content"}:
            return message.get("content")
    return completion


def _rng(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}/{name}")  # a string seed is hashed with SHA-512: the same on every run


def _same(text: Any, honest: Honest) -> tuple[Any, ...]:
    return (text,) * honest.size


def placed(text: str, scope: str) -> str:
    """`text` where a rule of `scope` reads it: inside a thinking block for `scope thinking`."""
    return f"{THINK_OPEN}{text}{THINK_CLOSE}" if scope == "thinking" else text


# ---------------------------------------------------------------- families
def _empty(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    yield Probe("empty", "an empty answer", _same("", honest))
    yield Probe("whitespace", "an answer of blanks and line breaks", _same(" \n\t \n", honest))


def _bonus_phrases(rule: ast.RuleBase) -> list[str]:
    return [phrase.text for phrase in rule.phrases] if isinstance(rule, PhrasesRule) and rule.each > 0 else []


def stuffed(rules: Sequence[ast.RuleBase]) -> str:
    """Every bonus phrase of `rules`, once each, one sentence each."""
    return " ".join(f"{phrase}." for rule in rules for phrase in _bonus_phrases(rule))


def _stuffing(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    bonus = [rule for rule in spec.rules if _bonus_phrases(rule)]
    if bonus:
        names = ", ".join(rule.name for rule in bonus)
        yield Probe("stuffing", f"every bonus phrase of {names} in one answer", _same(stuffed(bonus), honest))


def padded(rule: LengthRule, pieces: Iterator[str], minimum: int = 1) -> str | None:
    """Pieces joined until the text's length lies in the rule's range (None: no length to measure)."""
    parts: list[str] = []
    for piece in pieces:
        parts.append(piece)
        if len(parts) < minimum:
            continue
        value = measure(Batch([placed(" ".join(parts), rule.scope)]), rule.unit, rule.scope)[0]
        if value is None:
            return None  # token counts need completion_ids
        if rule.range.contains(value) or (rule.range.high is not None and value > rule.range.high):
            break
        if len(parts) >= MAX_PIECES:
            break
    return " ".join(parts)


def _cycle(items: Sequence[str], rng: random.Random) -> Iterator[str]:
    order = list(items)
    rng.shuffle(order)
    while True:
        yield from order


def _text_length_rules(spec: ast.Spec) -> list[LengthRule]:
    """Length rules a padded answer can satisfy: on the answer (or the full text), not in tokens."""
    return [r for r in spec.rules if isinstance(r, LengthRule) and r.unit != "tokens" and r.scope != "thinking"]


def _salad(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    phrases = [f"{phrase}." for rule in spec.rules for phrase in _bonus_phrases(rule)]
    lengths = _text_length_rules(spec)
    if not phrases or not lengths:
        return
    text = padded(lengths[0], _cycle(phrases, _rng(seed, "phrase salad")))
    if text is not None:
        yield Probe("phrase salad", f"the bonus phrases, cycled into the window of {lengths[0].name}",
                    _same(text, honest))


def _compared_targets(spec: ast.Spec) -> list[Target]:
    """The distinct targets rules compare the answer with; a judge reads the last user message."""
    targets: dict[str, Target] = {}
    for rule in spec.rules:
        target = getattr(rule, "target", None)
        if rule.kind == "judge":
            target = Target(kind="last_user")
        if isinstance(target, Target):
            targets.setdefault(target.describe(), target)
    return list(targets.values())


_ECHOED = {"last_user": "the last user message", "prompt": "the whole prompt", "system": "the system message"}


def _echoes(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    lengths = _text_length_rules(spec)
    for target in _compared_targets(spec):
        what = _ECHOED.get(target.kind, f"the `{target.column}` column")
        texts = honest.targets(target)
        yield Probe(f"echo {target.describe()}", f"{what}, copied back", tuple(texts))
        if lengths:  # copied until the answer is long enough: on topic and in the window
            repeated = tuple(padded(lengths[0], iter([text] * MAX_PIECES)) if text.strip() else text for text in texts)
            yield Probe(f"echo {target.describe()}, padded", f"{what}, repeated into the window of {lengths[0].name}",
                        repeated)


def _times(count: Range) -> int:
    """The smallest number of times, 1 or more if it can be, that lies in a count range."""
    low = 0 if count.low is None else math.ceil(count.low)
    return max(low, 1) if count.contains(max(low, 1)) else low


_EMPTY_VALUES: dict[str | None, Any] = {
    "string": "", "number": 0, "integer": 0, "boolean": False, "object": {}, "array": [], "null": None, None: "",
}


def json_completion(rule: JsonRule, name: str | None = None) -> Any:
    """The rule's keys with empty values of their types (`name` set to `name` when given), written
    where the rule looks for JSON: the answer, a fenced block, or a tool call."""
    value = {key.text: _EMPTY_VALUES[key.type] for key in rule.keys}
    if name is not None:
        value["name"] = name
    if rule.extract == "tool_calls":
        arguments = value.pop("arguments", {})  # TRL's arguments are an object (a string is parsed as JSON)
        function = {"name": value.pop("name", ""), "arguments": arguments if isinstance(arguments, dict) else {}}
        call = {"type": "function", "function": function}
        return [{"role": "assistant", "content": "", "tool_calls": [call]}]
    text = json.dumps(value)
    return f"```json\n{text}\n```" if rule.extract == "fenced" else placed(text, rule.scope)


def format_only(rule: ast.RuleBase) -> Any:
    """The format a `tags`, `markers` or `json` rule asks for, with nothing inside; None for other kinds."""
    if isinstance(rule, TagsRule):
        pairs = [f"<{tag.text}>\n</{tag.text}>" for tag in rule.tags for _ in range(_times(rule.count))]
        return placed("\n".join(pairs), rule.scope)
    if isinstance(rule, MarkersRule):
        return placed("".join(marker.text * _times(rule.count) for marker in rule.markers), rule.scope)
    if isinstance(rule, JsonRule):
        return json_completion(rule)
    return None


def _formats(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    for rule in spec.rules:
        completion = format_only(rule)
        if completion is not None:
            yield Probe(f"format only: {rule.name}", f"what {rule.name} checks for, with nothing inside",
                        _same(completion, honest))


def first_sentence(text: str) -> str:
    words = text.split()[:LOOP_WORDS]
    for i, word in enumerate(words):
        if word.endswith((".", "!", "?")):
            return " ".join(words[: i + 1])
    return " ".join(words)


def _loop(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    if not any(rule.kind in ("length", "repetition") for rule in spec.rules):
        return
    lengths = _text_length_rules(spec)
    loops = []
    for answer in honest.batch.texts("answer"):
        sentence = first_sentence(answer)
        pieces = iter([sentence] * MAX_PIECES)
        text = padded(lengths[0], pieces, minimum=LOOP_REPEATS) if lengths and sentence else None
        loops.append(text if text is not None else " ".join([sentence] * LOOP_REPEATS * 2))
    yield Probe("loop", "the honest answer's first sentence, repeated", tuple(loops))


def _thinking_only(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    if all(rule.scope == "answer" for rule in spec.rules):
        return
    completions = tuple(placed(text, "thinking") for text in honest.plain())
    yield Probe("thinking only", "the honest answer inside <think>...</think>, nothing after", completions)


def inserted(text: str, phrase: str, rng: random.Random, scope: str = "answer") -> str:
    """`text` with `phrase` inserted between two of its words, where a rule of `scope` reads it."""
    thinking, answer = split_thinking(text)
    part = thinking if scope == "thinking" else answer
    words = part.split()
    position = rng.randint(0, len(words))
    part = " ".join([*words[:position], phrase, *words[position:]])
    if scope == "thinking":
        return f"{THINK_OPEN}{part}{THINK_CLOSE}\n{answer}"
    return f"{THINK_OPEN}{thinking}{THINK_CLOSE}\n{part}" if thinking else part


def _banned(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    rules = [rule for rule in spec.rules if isinstance(rule, BannedRule) and rule.absent > rule.present]
    for rule in rules:
        phrase = next((p.text for p in rule.phrases if any(c.isalpha() for c in p.text)), None)
        if phrase is None:
            continue
        for method, disguise in DISGUISES:
            written = disguise(phrase)
            if method != "as written" and written == phrase:
                continue  # nothing in the phrase to disguise that way
            name = f"banned {method}" + (f" ({rule.name})" if len(rules) > 1 else "")
            rng = _rng(seed, name)
            completions = tuple(inserted(text, written, rng, rule.scope) for text in honest.texts())
            yield Probe(
                name,
                f"`{phrase}` {'' if method == 'as written' else method + ', '}in an honest answer",
                completions,
                Disguise(rule.name, phrase, method, written, float(rule.present), float(rule.absent)),
            )


# ------------------------------------------------------------- maximisers
# How to maximise one rule of a kind alone: completions (one per honest answer) or None where
# this rule gives nothing to build from; a string where the kind has no maximiser, and why.
Maximizer = Callable[[ast.RuleBase, Honest, random.Random], tuple[Any, ...] | None]


def _maximise_length(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    assert isinstance(rule, LengthRule)
    text = padded(rule, _cycle(FILLER, rng))
    return None if text is None else _same(placed(text, rule.scope), honest)


def _maximise_phrases(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    return _same(placed(stuffed([rule]), rule.scope), honest) if _bonus_phrases(rule) else _bare(rule, honest, rng)


def _bare(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    return _same(BARE_ANSWER, honest)


def _maximise_banned(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    assert isinstance(rule, BannedRule)
    if rule.absent >= rule.present:
        return _same(BARE_ANSWER, honest)
    return _same(placed(" ".join(f"{p.text}." for p in rule.phrases), rule.scope), honest)  # a "banned" bonus


def _echo(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    target = getattr(rule, "target")  # noqa: B009 - every kind mapped here has one
    return tuple(placed(text, rule.scope) for text in honest.targets(target))


def _maximise_equals(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    assert isinstance(rule, EqualsRule)
    if rule.tag is None:
        return _echo(rule, honest, rng)
    # The target alone, inside the one block the rule reads.
    return tuple(placed(f"<{rule.tag}>{text}</{rule.tag}>", rule.scope) for text in honest.targets(rule.target))


def _maximise_math(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    assert isinstance(rule, MathRule)
    # The answer is read with LaTeX extraction, `\boxed{}` first: the reference, boxed.
    return tuple(placed(f"\\boxed{{{text}}}", rule.scope) for text in honest.targets(rule.target))


def _maximise_format(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    if isinstance(rule, JsonRule) and rule.tool is not None:  # the expected tool, called with empty arguments
        return tuple(json_completion(rule, name.strip()) for name in honest.targets(rule.tool))
    return _same(format_only(rule), honest)


def _maximise_regex(rule: ast.RuleBase, honest: Honest, rng: random.Random) -> tuple[Any, ...] | None:
    assert isinstance(rule, RegexRule)
    high = score_range(rule)[1]
    present = 1.0 if rule.present is None else rule.present
    absent = 0.0 if rule.absent is None else rule.absent
    if rule.each is None and absent >= present:
        return _same(BARE_ANSWER, honest)  # the rule pays for no match
    if rule.each is not None and rule.each <= 0:
        return _same(BARE_ANSWER, honest)
    example = regex_example(rule.pattern)
    if example is None:
        return None
    copies = 1 if rule.each is None else math.ceil((1.0 if rule.cap is None else rule.cap) / rule.each)
    text = placed(" ".join([example] * max(copies, 1)), rule.scope)
    scored = compile_rule(rule).score(Batch([text]))[0]
    return _same(text, honest) if scored == high else None


MAXIMIZERS: dict[str, Maximizer | str] = {
    "banned": _maximise_banned,
    "classifier": "a reward model's judgement cannot be read from the spec",
    "equals": _maximise_equals,
    "json": _maximise_format,
    "judge": "a judge's verdict cannot be read from the spec (the echo probes attack its prompt)",
    "length": _maximise_length,
    "markers": _maximise_format,
    "math": _maximise_math,
    "overlap": _echo,
    "overlong": _bare,
    "phrases": _maximise_phrases,
    "regex": _maximise_regex,
    "relevance": _echo,
    "repetition": _bare,
    "similarity": _echo,
    "tags": _maximise_format,
    "brevity": "a group-relative score: a completion alone is its own group of one (0)",
    "diversity": "a group-relative score: a completion alone is its own group of one (1)",
}


def _maximised(spec: ast.Spec, honest: Honest, seed: int) -> Iterator[Probe]:
    bare: list[str] = []
    for rule in spec.rules:
        # A plugin kind's scorer is foreign code: the probe cannot read what it pays for.
        maximizer = MAXIMIZERS.get(rule.kind, "a plugin kind's scorer cannot be read from the spec")
        if isinstance(maximizer, str):
            continue
        name = f"maximise {rule.name}"
        completions = maximizer(rule, honest, _rng(seed, name))
        if completions is None:
            continue
        if completions == _same(BARE_ANSWER, honest):
            bare.append(rule.name)  # one probe for every rule the bare answer maximises
            continue
        yield Probe(name, f"what {rule.name} pays most for, and nothing else", completions)
    if bare:
        yield Probe("bare answer", f"{BARE_ANSWER!r}: the most {', '.join(bare)} can give, and nothing else",
                    _same(BARE_ANSWER, honest))


# ------------------------------------------------------------ regex matches
class _Unsupported(Exception):
    """A pattern construct the example builder does not write."""


_CATEGORY_EXAMPLES = {
    "CATEGORY_DIGIT": "0", "CATEGORY_NOT_DIGIT": "a", "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a",
    "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": " ",
}
_CANDIDATES = "a0 A_-./:x"  # characters tried for a negated class


def regex_example(pattern: str) -> str | None:
    """A short text the pattern matches (the fewest repeats, the first alternative), or None where
    the pattern uses what this builder does not write. The caller checks it with the rule itself."""
    parser: Any = importlib.import_module("re._parser")  # the standard library's parser of `re` patterns
    try:
        tree = parser.parse(pattern)
        return _emit(tree)
    except Exception:  # noqa: BLE001 - a pattern `re` cannot read, or a construct not written: no example
        return None


def _emit(items: Any) -> str:
    out: list[str] = []
    for op, value in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(value))
        elif name == "NOT_LITERAL":
            out.append("a" if value != ord("a") else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_class_example(value))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, sub = value
            out.append(_emit(sub) * low)
        elif name == "BRANCH":
            out.append(_emit(value[1][0]))
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            out.append(_emit(value[-1]))
        elif name == "AT":
            continue  # anchors and word boundaries: the example stands alone or between spaces
        elif name == "CATEGORY":
            out.append(_CATEGORY_EXAMPLES[str(value)])
        else:
            raise _Unsupported(name)
    return "".join(out)


def _class_example(items: Any) -> str:
    negated = bool(items) and str(items[0][0]) == "NEGATE"
    members = items[1:] if negated else items
    if not negated:
        op, value = members[0]
        if str(op) == "LITERAL":
            return chr(value)
        if str(op) == "RANGE":
            return chr(value[0])
        if str(op) == "CATEGORY":
            return _CATEGORY_EXAMPLES[str(value)]
        raise _Unsupported(str(op))
    for candidate in _CANDIDATES:
        if not any(_in_member(candidate, op, value) for op, value in members):
            return candidate
    raise _Unsupported("NEGATE")


def _in_member(char: str, op: Any, value: Any) -> bool:
    name = str(op)
    if name == "LITERAL":
        return char == chr(value)
    if name == "RANGE":
        return bool(value[0] <= ord(char) <= value[1])
    if name == "CATEGORY":
        test: dict[str, Callable[[str], bool]] = {
            "CATEGORY_DIGIT": str.isdigit,
            "CATEGORY_SPACE": str.isspace,
            "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
        }
        key = str(value).replace("_NOT", "")
        found = test[key](char) if key in test else True
        return not found if "_NOT_" in str(value) else found
    raise _Unsupported(name)
