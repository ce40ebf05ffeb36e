"""`judge "CRITERION"`: an LLM grades each completion against a criterion; the verdict maps to 0..1.

The verdict is one of `choices` (worst to best; default `"no", "yes"`), mapped to
`index / (n - 1)`, or a number on `scale LOW..HIGH` (whole numbers), mapped to
`(value - LOW) / (HIGH - LOW)`.

Backends (docs/language.md §7, `judge`):

- local (the default): a causal LM loaded with transformers (`model`, default the
  packaged SmolLM2-135M-Instruct). Each label's probability after the judge prompt is
  read from one batched forward pass; the score is the expected value of the labels'
  positions (`rules.judge_local`). Never a parse failure.
- HTTP: any OpenAI-compatible server (`server` base URL, `served_model`, the API key
  from the environment variable `api_key_env` names). The reply's verdict is parsed
  after its thinking is stripped (`rules.judge_http.parse_verdict`); a failed request or
  an unreadable verdict scores None and is counted in `judge/<rule>/failures`.

The judge prompt is the `template` file (a path relative to the spec) or the built-in
template, with its placeholders filled in (`PLACEHOLDERS`, `{column.NAME}`); the
criterion may hold placeholders too. Identical judge prompts are judged once per call
and remembered across calls in a bounded LRU cache (`CACHE_SIZE`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic, did_you_mean
from rewardlang.kind import Kind, RuleSpans
from rewardlang.nodes import BatchSize, ModelName, Phrase, Range, RuleBase, SpecFile, Target, Text
from rewardlang.rules.base import LazyModelScorer
from rewardlang.runtime import Batch, split_thinking
from rewardlang.source import Span

DEFAULT_CHOICES = ("no", "yes")
#: Placeholders of a judge template (besides `{column.NAME}`, a dataset column).
PLACEHOLDERS = ("prompt", "last_user", "system", "answer", "criterion", "verdicts")
#: Distinct judge prompts remembered across calls, per rule.
CACHE_SIZE = 4096
#: A scale has at most this many values (each is one label the local judge scores).
MAX_SCALE_VALUES = 101
#: A template file larger than this is refused at check time.
MAX_TEMPLATE_BYTES = 1_000_000
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What a literal API key looks like: a provider prefix, or a long run of letters and digits.
_KEY_LIKE = re.compile(r"(sk|pk|rk|hf|gsk|xai|key)[-_][A-Za-z0-9_-]{6,}|[A-Za-z0-9_-]{32,}", re.IGNORECASE)
_HTTP_OPTIONS = ("served_model", "api_key_env", "concurrency", "timeout", "retries", "budget")
_LOCAL_OPTIONS = ("model", "batch_size", "max_length")

# The built-in template: the conversation part is left out where a completion has no prompt.
DEFAULT_TEMPLATE = (
    "You are grading an assistant's reply.\n\n"
    "Criterion: {criterion}\n\n"
    "{conversation}"
    "Reply to grade:\n{answer}\n\n"
    "Does the reply meet the criterion? Answer with exactly one of: {verdicts}."
)
DEFAULT_CONVERSATION = "Conversation so far:\n{prompt}\n\n"


class JudgeRule(RuleBase):
    kind: Literal["judge"]
    criterion: Text
    choices: tuple[Phrase, ...] = ()  # worst to best; none given: "no", "yes"
    scale: Range | None = None
    template: SpecFile | None = None
    # local backend (None: the defaults, so that mixing backends can be diagnosed)
    model: ModelName | None = None  # None: the packaged SmolLM2-135M-Instruct
    batch_size: BatchSize | None = None  # (prompt x label) rows per forward pass; default 16
    max_length: Annotated[int, Field(ge=16, le=1_000_000)] | None = None  # tokens per sequence; default 2048
    # HTTP backend
    server: Text | None = None
    served_model: Text | None = None
    api_key_env: Text | None = None
    concurrency: Annotated[int, Field(ge=1, le=1024)] | None = None
    timeout: Annotated[float, Field(gt=0, le=3600)] | None = None
    retries: Annotated[int, Field(ge=0, le=20)] | None = None
    budget: Annotated[float, Field(gt=0, le=86_400)] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """The verdict labels, worst to best: the choices, or the scale's values as text."""
        if self.scale is not None and self.scale.low is not None and self.scale.high is not None:
            return tuple(str(v) for v in range(int(self.scale.low), int(self.scale.high) + 1))
        return tuple(c.text for c in self.choices) or DEFAULT_CHOICES

    @property
    def positions(self) -> tuple[float, ...]:
        """Each label's score, 0..1 (a single choice scores 1)."""
        count = len(self.labels)
        return tuple(1.0 for _ in range(count)) if count == 1 else tuple(i / (count - 1) for i in range(count))


# ------------------------------------------------------------------ templates
@dataclass(frozen=True)
class Placeholder:
    name: str
    start: int  # offset of `{` in the text
    end: int  # offset after `}`


def placeholders(text: str) -> list[Placeholder]:
    """The `{name}` placeholders of a template, in order (`{{` and `}}` are literal braces)."""
    return [Placeholder(m.group(1), m.start(), m.end()) for m in _PLACEHOLDER.finditer(text) if m.group(1) is not None]


def is_known(name: str) -> bool:
    return name in PLACEHOLDERS or (name.startswith("column.") and len(name) > len("column."))


def fill(template: str, values: dict[str, str | None]) -> str | None:
    """The template with its placeholders replaced; None if a value it uses is missing."""
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name is None:
            return match.group(0)[0]  # `{{` -> `{`, `}}` -> `}`
        value = values.get(name)
        if value is None:
            missing = True
            return ""
        return value

    text = _PLACEHOLDER.sub(replace, template)
    return None if missing else text


def read_template(path: str) -> str:
    """The template file's text. Raises OSError or UnicodeDecodeError (the check reports them as RL126)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_TEMPLATE_BYTES + 1)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise OSError(f"larger than {MAX_TEMPLATE_BYTES:,} bytes")
    return data.decode("utf-8")


def verdicts_text(rule: JudgeRule) -> str:
    """How the prompt names the verdicts: `"no", "partly" or "yes"`, or `a whole number from 1 to 10`."""
    if rule.scale is not None:
        return f"a whole number from {rule.labels[0]} (worst) to {rule.labels[-1]} (best)"
    quoted = [f'"{label}"' for label in rule.labels]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# ------------------------------------------------------------------- scorer
@dataclass(frozen=True)
class Verdict:
    score: float | None  # None: the judge failed or its verdict could not be read
    detail: str  # for `rewardc score --explain`


class JudgeScorer(LazyModelScorer):
    _transient = ("_model", "_backend", "_cache", "_template_text")

    def __init__(self, rule: JudgeRule):
        super().__init__(rule)
        self.rule: JudgeRule = rule
        self._backend: Any = None
        self._cache: Any = None
        self._template_text: str | None = None
        self.metric = f"judge/{rule.name}/failures"
        self.judged = 0  # distinct prompts sent to the backend, over this scorer's life

    # ----------------------------------------------------------- prompts
    def template_text(self) -> str:
        if self._template_text is None:
            if self.rule.template is None:
                self._template_text = DEFAULT_TEMPLATE
            else:
                try:
                    self._template_text = read_template(self.rule.template)
                except (OSError, UnicodeDecodeError) as error:
                    from rewardlang.rules.models import ModelLoadError

                    raise ModelLoadError(
                        f"rule `{self.rule.name}`: cannot read the judge template `{self.rule.template}`: {error}"
                    ) from error
        return self._template_text

    def prompts(self, batch: Batch) -> list[str | None]:
        """The judge prompt of each completion; None where a value it needs is missing."""
        rule = self.rule
        template = self.template_text()
        names = {p.name for p in placeholders(template)} | {p.name for p in placeholders(rule.criterion)}
        columns: dict[str, list[str | None]] = {
            "answer": list(batch.texts(rule.scope)),
            **{
                name: batch.targets(Target(kind=name))
                for name in ("prompt", "last_user", "system")
                if name in names or (name == "prompt" and rule.template is None)
            },
            **{
                name: batch.targets(Target(kind="column", column=name.removeprefix("column.")))
                for name in names
                if name.startswith("column.")
            },
        }
        verdicts = verdicts_text(rule)
        out: list[str | None] = []
        for index in range(batch.size):
            values = {name: values[index] for name, values in columns.items()}
            values["verdicts"] = verdicts
            criterion = fill(rule.criterion, values)
            if criterion is None:
                out.append(None)
                continue
            values["criterion"] = criterion
            if rule.template is None:
                prompt = values.get("prompt")
                values["conversation"] = "" if prompt is None else fill(DEFAULT_CONVERSATION, values)
            out.append(fill(template, values))
        return out

    # ---------------------------------------------------------- backends
    def backend(self) -> Any:
        if self._backend is None:
            rule = self.rule
            if rule.server is not None:
                from rewardlang.rules.judge_http import ChatClient, HttpSettings

                settings: dict[str, Any] = {
                    name: getattr(rule, name)
                    for name in ("api_key_env", "concurrency", "timeout", "retries", "budget")
                    if getattr(rule, name) is not None
                }
                self._backend = ChatClient(
                    HttpSettings(base_url=rule.server, model=rule.served_model or "", **settings)
                )
            else:
                from rewardlang.rules.judge_local import LocalJudge

                self._backend = LocalJudge(
                    rule.model, rule.labels, rule.positions,
                    batch_size=rule.batch_size or 16, max_length=rule.max_length or 2048, rule=rule.name,
                )
        return self._backend

    def _judge(self, prompts: list[str]) -> list[Verdict]:
        rule = self.rule
        backend = self.backend()
        self.judged += len(prompts)
        if rule.server is None:
            out = []
            for verdict in backend.judge(prompts):
                best = max(range(len(rule.labels)), key=lambda i: verdict.probabilities[i])
                out.append(Verdict(
                    verdict.score,
                    f"most likely {rule.labels[best]!r} (p={verdict.probabilities[best]:.2f}); "
                    f"expected {verdict.score:.3f}",
                ))
            return out
        from rewardlang.rules.judge_http import parse_verdict

        replies = backend.complete([[{"role": "user", "content": p}] for p in prompts])
        verdicts = []
        for reply in replies:
            if reply.failure is not None or reply.text is None:
                verdicts.append(Verdict(None, f"judge request failed ({reply.failure}): not applicable"))
                continue
            if rule.scale is not None:
                assert rule.scale.low is not None and rule.scale.high is not None
                value = parse_verdict(reply.text, scale=(rule.scale.low, rule.scale.high))
            else:
                value = parse_verdict(reply.text, choices=rule.labels)
            shown = " ".join(split_thinking(reply.text)[1].split())[:60]  # the verdict part, thinking aside
            if value is None:
                verdicts.append(Verdict(None, f"verdict unreadable in {shown!r}: not applicable"))
            else:
                verdicts.append(Verdict(value, f"verdict {shown!r} -> {value:.3f}"))
        return verdicts

    def verdicts(self, batch: Batch) -> list[Verdict | None]:
        """Each completion's verdict (None: a value the prompt needs is missing); failures recorded."""
        from rewardlang.rules.models import LRUCache

        def compute() -> list[Verdict | None]:
            if self._cache is None:
                self._cache = LRUCache[str, Verdict](CACHE_SIZE)
            prompts = self.prompts(batch)
            known: dict[str, Verdict] = {}
            wanted: dict[str, None] = {}  # distinct prompts to judge, in first-seen order
            for prompt in prompts:
                if prompt is None or prompt in known or prompt in wanted:
                    continue
                cached = self._cache.get(prompt)
                if cached is not None:
                    known[prompt] = cached
                else:
                    wanted[prompt] = None
            failures = 0
            for prompt, verdict in zip(wanted, self._judge(list(wanted)) if wanted else [], strict=True):
                known[prompt] = verdict
                if verdict.score is None:
                    failures += 1  # counted once per distinct prompt, and never cached: retried next call
                else:
                    self._cache.put(prompt, verdict)
            batch.record_metric(self.metric, float(failures))
            return [None if prompt is None else known[prompt] for prompt in prompts]

        return batch.cached(("judge", id(self)), compute)

    def score(self, batch: Batch) -> list[float | None]:
        return [None if v is None else v.score for v in self.verdicts(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        verdict = self.verdicts(batch)[index]
        if verdict is None:
            return "a value the judge prompt needs (prompt, message or column) is missing: not applicable"
        return verdict.detail


# ------------------------------------------------------------------- checks
def _inner_span(string_span: Span, text: str, start: int, end: int) -> Span:
    """The span of text[start:end] inside a one-line string literal; the whole literal if it holds escapes."""
    if string_span.end - string_span.start != len(text) + 2 or string_span.line != string_span.end_line:
        return string_span
    offset = string_span.start + 1
    column = string_span.column + 1
    return Span(offset + start, offset + end, string_span.line, column + start, string_span.line, column + end)


def _unknown(name: str) -> tuple[str, str]:
    """(label, help) of an unknown placeholder."""
    best = did_you_mean(name, [*PLACEHOLDERS, "column.NAME"])
    known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS) + ", {column.NAME}"
    suggestion = f"did you mean `{{{best}}}`? " if best else ""
    return "unknown placeholder", f"{suggestion}placeholders: {known}; write {{{{ and }}}} for literal braces"


def _shown(path: str) -> str:
    """A path as a diagnostic shows it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def check_placeholders(rule: JudgeRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL124 unknown placeholders (criterion and template), RL126 unreadable template, RL213 answer unseen."""
    for placeholder in placeholders(rule.criterion):
        if not is_known(placeholder.name) or placeholder.name == "criterion":
            label, help_text = _unknown(placeholder.name)
            where = _inner_span(span("criterion"), rule.criterion, placeholder.start, placeholder.end)
            yield codes.RL124(
                where, placeholder=f"{{{placeholder.name}}}", where="the criterion", label=label, help=help_text
            )
    if rule.template is None:
        return
    try:
        text = read_template(rule.template)
    except UnicodeDecodeError as error:
        yield codes.RL126(
            span("template"), variant="encoding", path=_shown(rule.template), offset=error.start,
            label="not UTF-8", help="save the template as UTF-8",
        )
        return
    except OSError as error:
        reason = error.strerror or str(error)
        yield codes.RL126(
            span("template"), path=_shown(rule.template), reason=reason, label="cannot read this file",
            help="relative paths are resolved from the spec file's folder",
        )
        return
    for placeholder in placeholders(text):
        if not is_known(placeholder.name):
            line = text.count("\n", 0, placeholder.start) + 1
            column = placeholder.start - (text.rfind("\n", 0, placeholder.start) + 1) + 1
            label, help_text = _unknown(placeholder.name)
            yield codes.RL124(
                span("template"), placeholder=f"{{{placeholder.name}}}",
                where=f"{os.path.basename(rule.template)}:{line}:{column}", label=label, help=help_text,
            )
    if "answer" not in {p.name for p in placeholders(text)}:
        yield codes.RL213(
            span("template"), path=os.path.basename(rule.template), label="no {answer} in this template",
            help="add `{answer}` where the judge should read the completion",
        )


def check_verdicts(rule: JudgeRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL125 a bad scale, RL129 choices and a scale at once, RL212 a single choice."""
    if rule.scale is not None:
        low, high = rule.scale.low, rule.scale.high
        problem = ""
        if low is None or high is None:
            problem = "a scale needs both ends"
        elif low != int(low) or high != int(high):
            problem = "the ends must be whole numbers"
        elif low >= high:
            problem = "the low end must be below the high end"
        elif high - low + 1 > MAX_SCALE_VALUES:
            problem = f"at most {MAX_SCALE_VALUES} values"
        if problem:
            yield codes.RL125(
                span("scale"), problem=problem, label=problem, help="write whole numbers LOW..HIGH, e.g. `scale 1..10`"
            )
        if rule.choices:
            yield codes.RL129(
                span("scale"), label="a scale here", labels=(),
                help="keep `choices` (named verdicts) or `scale` (a number), not both",
            )
    elif len(rule.choices) == 1:
        yield codes.RL212(
            span("choices"), label="a single choice", help='list the verdicts worst to best: `choices "no", "yes"`'
        )


def check_backend(rule: JudgeRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL127 options of the two backends mixed (or a server without its model); RL128 a literal API key."""
    if rule.server is not None:
        for name in _LOCAL_OPTIONS:
            if getattr(rule, name) is not None:
                yield codes.RL127(
                    span(name), option=name, label="a local-model option",
                    help="a judge with a server runs there: remove this option, or the server",
                )
        if rule.served_model is None:
            yield codes.RL127(
                span("server"), variant="served_model", label="which model?",
                help='name the model the server serves: `served_model "Qwen/Qwen3-8B"`',
            )
        if not rule.server.startswith(("http://", "https://")):
            yield codes.RL127(
                span("server"), variant="url", label="not an http(s) URL",
                help='give the OpenAI base URL, with /v1: `server "http://127.0.0.1:8000/v1"`',
            )
    else:
        for name in _HTTP_OPTIONS:
            if getattr(rule, name) is not None:
                yield codes.RL127(
                    span(name), variant="no_server", option=name, label="an HTTP-backend option",
                    help='add the server: `server "http://127.0.0.1:8000/v1"`, or remove this option',
                )
    key = rule.api_key_env
    if key is not None and (_KEY_LIKE.fullmatch(key) or not _ENV_NAME.fullmatch(key)):
        yield codes.RL128(
            span("api_key_env"), label="this looks like a key, not a variable name",
            help='name the environment variable that holds the key: `api_key_env "OPENAI_API_KEY"`; '
            "and revoke the key if this file was shared",
        )


def item_as_written(rule: JudgeRule, text: str) -> str:
    """Choices are labels the judge writes: compared as written (`Yes` and `yes` differ), trimmed."""
    return text.strip()


KIND = Kind(
    model=JudgeRule,
    arguments=("criterion",),
    template="judge {criterion}",
    scorer=JudgeScorer,
    summary="an LLM judge's verdict on the answer against a criterion (`choices` or a `scale`), local or HTTP",
    range_doc="0..1 (None when the judge fails)",
    checks=(check_placeholders, check_verdicts, check_backend),
    item_key=item_as_written,
)
