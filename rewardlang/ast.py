"""The validated spec: frozen Pydantic models, one discriminated union of rule kinds.

Field names are the option names of the language, so the validator's own
"extra field" and "bad literal" errors map one-to-one onto spec diagnostics.
Bounds live in the types. Every node carries the source span it came from;
spans are excluded from dumps, so `a.model_dump() == b.model_dump()` compares
meaning, not layout.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from rewardlang.diagnostics import NO_SPAN, Span

# Score-like values (`each`, `cap`, `present`, ...) and weights are bounded so
# that no combination can overflow to inf.
ScoreValue = Annotated[float, Field(ge=-100, le=100)]
Cap = Annotated[float, Field(ge=0, le=100)]  # a bound on the score's magnitude
Weight = Annotated[float, Field(ge=-100, le=100)]
PositiveInt = Annotated[int, Field(ge=1, le=1_000_000)]
Text = Annotated[str, Field(min_length=1)]

Scope = Literal["answer", "thinking", "full"]
Case = Literal["insensitive", "sensitive", "lower"]
UnicodeMode = Literal["nfkc", "confusables", "raw"]  # docs/language.md §6.5; rewardlang/text.py
MatchMode = Literal["word", "substring"]
SplitMode = Literal["words", "whitespace"]
LengthUnit = Literal["words", "characters", "tokens", "sentences"]
Metric = Literal["rouge1", "rouge2", "rougeL", "bleu", "chrf", "fuzzy"]
Compare = Literal["exact", "normalized", "numeric"]
Activation = Literal["sigmoid", "softmax", "none"]
Context = Literal["none", "last_user", "prompt"]
TargetKind = Literal["last_user", "prompt", "system", "column"]
Comparison = Literal["<", "<=", ">", ">="]
FunctionName = Literal["min", "max", "clip", "abs"]

# How many arguments each formula function takes: (at least, at most).
FUNCTION_ARITY: dict[str, tuple[int, int]] = {"min": (1, 64), "max": (1, 64), "clip": (3, 3), "abs": (1, 1)}


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    span: Annotated[Span, SkipValidation] = Field(default=NO_SPAN, exclude=True, repr=False)


class Range(Node):
    """`low..high`, `low..` or `..high`; both ends inclusive."""

    low: float | None = None
    high: float | None = None

    def contains(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


class Phrase(Node):
    text: Text


class Target(Node):
    kind: TargetKind
    column: Text | None = None

    def describe(self) -> str:
        return f"column {self.column}" if self.kind == "column" else self.kind


# ------------------------------------------------------------------ rule kinds
class RuleBase(Node):
    name: str
    weight: Weight = 1.0
    scope: Scope = "answer"


class TextMatching(BaseModel):
    """Options shared by rules that look for words or phrases in the text."""

    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"
    match: MatchMode = "word"


class LengthRule(RuleBase):
    kind: Literal["length"]
    range: Range
    unit: LengthUnit
    outside: ScoreValue = 0.0
    ramp: Annotated[float, Field(gt=0, le=1e9)] | None = None


class PhrasesRule(RuleBase, TextMatching):
    kind: Literal["phrases"]
    phrases: Annotated[tuple[Phrase, ...], Field(min_length=1)]
    each: ScoreValue = 1.0
    cap: Cap = 1.0


class BannedRule(RuleBase, TextMatching):
    kind: Literal["banned"]
    phrases: Annotated[tuple[Phrase, ...], Field(min_length=1)]
    unicode: UnicodeMode = "confusables"  # look-alike letters must not hide a banned word
    present: ScoreValue = 0.0
    absent: ScoreValue = 1.0


class RegexRule(RuleBase):
    kind: Literal["regex"]
    pattern: Text
    case: Case = "sensitive"
    unicode: UnicodeMode = "nfkc"
    present: ScoreValue | None = None
    absent: ScoreValue | None = None
    each: ScoreValue | None = None
    cap: Cap | None = None


class TagsRule(RuleBase):
    kind: Literal["tags"]
    tags: Annotated[tuple[Phrase, ...], Field(min_length=1)]
    count: Range = Range(low=1, high=1)
    ordered: bool = False


class JsonRule(RuleBase):
    kind: Literal["json"]
    keys: tuple[Phrase, ...] = ()


class RelevanceRule(RuleBase):
    kind: Literal["relevance"]
    target: Target
    model: Text | None = None  # None: the packaged all-MiniLM-L6-v2
    rescale: Range | None = None
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 64


class OverlapRule(RuleBase):
    kind: Literal["overlap"]
    target: Target
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"
    split: SplitMode = "words"
    each: ScoreValue | None = None
    cap: Cap = 1.0


class SimilarityRule(RuleBase):
    kind: Literal["similarity"]
    metric: Metric
    target: Target
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"


class RepetitionRule(RuleBase):
    kind: Literal["repetition"]
    ngram: Annotated[int, Field(ge=1, le=32)] = 3
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"
    split: SplitMode = "words"


class OverlongRule(RuleBase):
    kind: Literal["overlong"]
    limit: PositiveInt
    unit: LengthUnit
    buffer: Annotated[int, Field(ge=1, le=1_000_000)] | None = None  # None: a quarter of the limit

    @property
    def effective_buffer(self) -> int:
        return self.buffer if self.buffer is not None else max(1, self.limit // 4)


class EqualsRule(RuleBase):
    kind: Literal["equals"]
    target: Target
    compare: Compare = "normalized"


class ClassifierRule(RuleBase):
    kind: Literal["classifier"]
    model: Text
    label: Annotated[int, Field(ge=0, le=100_000)] | Text = 0
    activation: Activation = "sigmoid"
    context: Context = "none"
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 16
    max_length: Annotated[int, Field(ge=8, le=1_000_000)] = 512


Rule = Annotated[
    Union[
        LengthRule,
        PhrasesRule,
        BannedRule,
        RegexRule,
        TagsRule,
        JsonRule,
        RelevanceRule,
        OverlapRule,
        SimilarityRule,
        RepetitionRule,
        OverlongRule,
        EqualsRule,
        ClassifierRule,
    ],
    Field(discriminator="kind"),
]

RULE_MODELS: dict[str, type[RuleBase]] = {
    model.model_fields["kind"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in Rule.__origin__.__args__  # type: ignore[attr-defined]
}

# Fields set by the rule header rather than by options in its `{ ... }` block.
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "length": ("range", "unit"),
    "phrases": ("phrases",),
    "banned": ("phrases",),
    "regex": ("pattern",),
    "tags": ("tags",),
    "json": (),
    "relevance": ("target",),
    "overlap": ("target",),
    "similarity": ("metric", "target"),
    "repetition": (),
    "overlong": ("limit", "unit"),
    "equals": ("target",),
    "classifier": ("model",),
}


def options_for(kind: str) -> list[str]:
    """The options a rule kind accepts in its block, sorted."""
    model = RULE_MODELS[kind]
    hidden = {"span", "name", "kind", *ARGUMENTS[kind]}
    return sorted(name for name in model.model_fields if name not in hidden)


# ------------------------------------------------------------------- formulas
class Num(Node):
    op: Literal["num"] = "num"
    value: float


class Ref(Node):
    op: Literal["ref"] = "ref"
    rule: str


class Unary(Node):
    op: Literal["neg"] = "neg"
    operand: Expr


class Binary(Node):
    op: Literal["add", "sub", "mul", "div"]
    left: Expr
    right: Expr


class Call(Node):
    op: Literal["call"] = "call"
    function: FunctionName
    args: tuple[Expr, ...]


Expr = Annotated[Union[Num, Ref, Unary, Binary, Call], Field(discriminator="op")]


class Gate(Node):
    """`gate RULE < THRESHOLD then VALUE`: when the comparison holds, the total is VALUE."""

    rule: str
    comparison: Comparison
    threshold: float
    value: ScoreValue = 0.0


class Defaults(Node):
    """Options applied to every rule that accepts them and does not set them itself."""

    weight: Weight | None = None
    scope: Scope | None = None
    case: Case | None = None
    unicode: UnicodeMode | None = None
    match: MatchMode | None = None
    split: SplitMode | None = None


DEFAULTABLE: tuple[str, ...] = tuple(name for name in Defaults.model_fields if name != "span")


class Spec(Node):
    name: str
    description: str | None = None
    defaults: Defaults = Defaults()
    rules: tuple[Rule, ...]
    total: Expr | None = None
    gates: tuple[Gate, ...] = ()
    clip: Range | None = None

    def rule(self, name: str) -> RuleBase:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    @property
    def rule_names(self) -> list[str]:
        return [rule.name for rule in self.rules]


for _model in (Unary, Binary, Call, Spec):
    _model.model_rebuild()
