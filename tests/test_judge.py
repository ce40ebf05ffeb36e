"""The `judge` kind: check-time diagnostics, judge prompts, the local backend (tiny random Qwen2),
the HTTP backend against a real OpenAI-compatible server on 127.0.0.1, caching, failures, the CLI.

The local backend's scores come from the tiny random model, so the tests assert what must hold
for any model (range, determinism, batched == one-by-one, dedup, pickling), and exact values
only where they are computed independently here (`_expected_score`).
"""

from __future__ import annotations

import json
import math
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from rewardlang import analyze, load, loads
from rewardlang.kinds.judge import DEFAULT_TEMPLATE, JudgeScorer, fill, placeholders
from rewardlang.rules.models import ModelLoadError
from rewardlang.runtime import Batch

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = [
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "How do I bake bread?"}],
]
COMPLETIONS = [
    "Paris is the capital of France.",
    "Mix flour, water, yeast and salt.",
    "Paris is the capital of France.",  # a duplicate of row 0 (same prompt below)
    "I can help with that.",
]
ROW_PROMPTS = [PROMPTS[0], PROMPTS[1], PROMPTS[0], PROMPTS[1]]


def _judge_spec(model: Path, options: str = "", criterion: str = "Is the reply correct?") -> str:
    return f'reward t\nrule j: judge "{criterion}" {{ model "{model}"  {options} }}\n'


def _scorer(spec: Any, name: str = "j") -> JudgeScorer:
    scorer = spec.scorers[name]
    assert isinstance(scorer, JudgeScorer)
    return scorer


# ------------------------------------------------------------------ checks
def _codes_at(text: str, base: Path | None = None) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in analyze(text, base).diagnostics]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('judge "Is {anwser} polite?"', [("RL124", 2, 19)]),  # the span is the placeholder inside the string
        ('judge "Is it polite?" { scale 10..1 }', [("RL125", 2, 33)]),
        ('judge "Is it polite?" { scale 1..2.5 }', [("RL125", 2, 33)]),
        ('judge "Is it polite?" { scale 1.. }', [("RL125", 2, 33)]),
        ('judge "Is it polite?" { scale 0..200 }', [("RL125", 2, 33)]),
        ('judge "Is it polite?" { template "missing.txt" }', [("RL126", 2, 33)]),
        ('judge "Is it polite?" { server "http://h/v1"  served_model "m"  batch_size 4 }', [("RL127", 2, 73)]),
        ('judge "Is it polite?" { concurrency 4 }', [("RL127", 2, 33)]),
        ('judge "Is it polite?" { server "http://h/v1" }', [("RL127", 2, 33)]),
        ('judge "Is it polite?" { server "ftp://h"  served_model "m" }', [("RL127", 2, 33)]),
        ('judge "Is it polite?" { server "http://h/v1"  served_model "m"  api_key_env "sk-proj-abcdef12345" }',
         [("RL128", 2, 73)]),
        ('judge "Is it polite?" { server "http://h/v1"  served_model "m"  api_key_env "my key" }',
         [("RL128", 2, 73)]),
        ('judge "Is it polite?" { choices "no", "yes"  scale 1..3 }', [("RL129", 2, 54)]),
        ('judge "Is it polite?" { choices "yes" }', [("RL212", 2, 33)]),
        ('judge "Is it polite?" { choices "no", " ", "yes" }', [("RL107", 2, 47)]),
        ('judge "Is it polite?" { choices "no", "yes", "no" }', [("RL204", 2, 54)]),
    ],
)
def test_check_time_diagnostics(body: str, expected: list[tuple[str, int, int]], tmp_path: Path) -> None:
    assert _codes_at(f"reward t\nrule j: {body}\n", tmp_path) == expected


def test_clean_rules_check_clean(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("{criterion} {answer} {{literal}} {column.ref} {verdicts}", encoding="utf-8")
    text = (
        "reward t\n"
        'rule a: judge "Is {answer} an answer to {last_user}?" { choices "no", "partly", "yes" }\n'
        'rule b: judge "Good?" { scale 1..10  template "t.txt"  batch_size 4  max_length 512 }\n'
        'rule c: judge "Good?" { server "https://x/v1"  served_model "m"  api_key_env "JUDGE_KEY"\n'
        "    concurrency 4  timeout 5  retries 1  budget 30 }\n"
    )
    assert _codes_at(text, tmp_path) == []


def test_template_diagnostics_name_the_place_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("Grade:\n  {answr} for {column.}\n", encoding="utf-8")
    diagnostics = analyze('reward t\nrule j: judge "Good?" { template "t.txt" }\n', tmp_path).diagnostics
    assert [(d.code, d.message, d.help.split("?")[0]) for d in diagnostics] == [
        ("RL124", "unknown placeholder `{answr}` in t.txt:2:3", "did you mean `{answer}`"),
        ("RL124", "unknown placeholder `{column.}` in t.txt:2:15", "did you mean `{column.NAME}`"),
        ("RL213", "the judge template `t.txt` has no answer placeholder: the judge never sees the completion",
         "add `{answer}` where the judge should read the completion"),
    ]
    assert {(d.span.line, d.span.column) for d in diagnostics} == {(2, 25)}


def test_template_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_bytes(b"{answer} \xff")
    diagnostics = analyze('reward t\nrule j: judge "Good?" { template "t.txt" }\n', tmp_path).diagnostics
    assert [(d.code, d.message.split("` ")[1]) for d in diagnostics] == [("RL126", "is not UTF-8 text (byte 9)")]


def test_api_key_is_never_repeated_in_the_diagnostic() -> None:
    key = "sk-proj-abcdef1234567890"
    spec = f'reward t\nrule j: judge "x" {{ server "http://h/v1"  served_model "m"  api_key_env "{key}" }}\n'
    (diagnostic,) = analyze(spec).diagnostics
    assert diagnostic.code == "RL128"
    assert key not in diagnostic.message + diagnostic.label + diagnostic.help


# ----------------------------------------------------------------- prompts
def test_placeholders_and_fill() -> None:
    text = "a {answer} {{x}} {column.ref}"
    assert [p.name for p in placeholders(text)] == ["answer", "column.ref"]
    assert fill(text, {"answer": "A", "column.ref": "R"}) == "a A {x} R"
    assert fill(text, {"answer": "A", "column.ref": None}) is None


def test_template_placeholders_filled(tmp_path: Path, tiny_model_dir: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.txt").write_text(
        "C={criterion}|P={prompt}|U={last_user}|S={system}|A={answer}|R={column.reference}|V={verdicts}|{{x}}",
        encoding="utf-8",
    )
    spec = loads(
        'reward t\nrule j: judge "Is {answer} right?" { choices "no", "partly", "yes"  template "templates/t.txt"'
        f'  model "{tiny_model_dir}" }}\n',
        base=tmp_path,
    )
    batch = Batch(["<think>hmm</think>Paris."], [PROMPTS[0]], columns={"reference": ["Paris"]})
    assert _scorer(spec).prompts(batch) == [
        ('C=Is Paris. right?|P=Be brief.\n\nWhat is the capital of France?|U=What is the capital of France?|'
        'S=Be brief.|A=Paris.|R=Paris|V="no", "partly" or "yes"|{x}')
    ]


def test_default_template_with_and_without_a_prompt(tiny_model_dir: Path) -> None:
    spec = loads(_judge_spec(tiny_model_dir, "scale 1..5"))
    prompts = _scorer(spec).prompts(Batch(["Fine.", "Fine."], [PROMPTS[1], None]))
    head = "You are grading an assistant's reply.\n\nCriterion: Is the reply correct?\n\n"
    tail = (
        "Reply to grade:\nFine.\n\nDoes the reply meet the criterion? Answer with exactly one of: "
        "a whole number from 1 (worst) to 5 (best)."
    )
    assert prompts == [head + "Conversation so far:\nHow do I bake bread?\n\n" + tail, head + tail]
    assert DEFAULT_TEMPLATE.count("{answer}") == 1


def test_template_path_is_relative_to_the_spec(tmp_path: Path, tiny_model_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "specs" / "templates").mkdir(parents=True)
    (tmp_path / "specs" / "templates" / "t.txt").write_text("T: {answer}", encoding="utf-8")
    path = tmp_path / "specs" / "s.reward"
    path.write_text(f'reward s\nrule j: judge "x" {{ template "templates/t.txt"  model "{tiny_model_dir}" }}\n',
                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the spec's folder
    spec = load(path)
    assert _scorer(spec).prompts(Batch(["ok"])) == ["T: ok"]


# ----------------------------------------------------------- local backend
def _expected_score(model_dir: Path, prompt: str, labels: list[str], positions: list[float]) -> float:
    """The documented score, computed here one label at a time with no padding."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                         tokenize=False)
    prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    loglik = []
    for label in labels:
        label_ids = tokenizer(label, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt_ids + label_ids])
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
        loglik.append(sum(logprobs[len(prompt_ids) - 1 + k, t].item() for k, t in enumerate(label_ids)))
    top = max(loglik)
    weights = [math.exp(v - top) for v in loglik]
    return sum(w / sum(weights) * p for w, p in zip(weights, positions, strict=True))


def test_local_scores_match_the_documented_computation(tiny_model_dir: Path) -> None:
    spec = loads(_judge_spec(tiny_model_dir, 'choices "no", "partly", "yes"  batch_size 5'))
    batch = Batch(COMPLETIONS, ROW_PROMPTS)
    scores = spec.score(COMPLETIONS, ROW_PROMPTS).rules["j"]
    prompts = _scorer(spec).prompts(batch)
    for score, prompt in zip(scores, prompts, strict=True):
        assert prompt is not None and score is not None
        assert 0.0 <= score <= 1.0
        assert score == pytest.approx(_expected_score(tiny_model_dir, prompt, ["no", "partly", "yes"],
                                                      [0.0, 0.5, 1.0]), abs=1e-5)


def test_local_is_deterministic_across_scorers_and_batched_equals_one_by_one(tiny_model_dir: Path) -> None:
    batched = loads(_judge_spec(tiny_model_dir, 'choices "no", "partly", "yes"  batch_size 5')).score(
        COMPLETIONS, ROW_PROMPTS).rules["j"]
    again = loads(_judge_spec(tiny_model_dir, 'choices "no", "partly", "yes"  batch_size 5')).score(
        COMPLETIONS, ROW_PROMPTS).rules["j"]
    one_by_one = []
    for completion, prompt in zip(COMPLETIONS, ROW_PROMPTS, strict=True):
        spec = loads(_judge_spec(tiny_model_dir, 'choices "no", "partly", "yes"  batch_size 1'))
        one_by_one.append(spec.score([completion], [prompt]).rules["j"][0])
    assert batched == again
    assert batched[0] == batched[2]  # the same prompt and answer
    for a, b in zip(batched, one_by_one, strict=True):
        assert a is not None and b is not None
        assert abs(a - b) <= 1e-5


def test_duplicates_are_judged_once_and_cached_across_calls(tiny_model_dir: Path) -> None:
    spec = loads(_judge_spec(tiny_model_dir, 'choices "no", "partly", "yes"'))
    scorer = _scorer(spec)
    first = spec.score(COMPLETIONS, ROW_PROMPTS)
    assert scorer.judged == 3  # rows 0 and 2 are the same (prompt, answer)
    assert scorer.backend().prompts_forwarded == 3  # each distinct prompt once, whatever the number of labels
    second = spec.score(list(reversed(COMPLETIONS)), list(reversed(ROW_PROMPTS)))
    assert scorer.judged == 3 and scorer.backend().prompts_forwarded == 3  # all from the cache
    assert second.rules["j"] == list(reversed(first.rules["j"]))
    assert first.metrics == {"judge/j/failures": 0.0} and second.metrics == {"judge/j/failures": 0.0}


def test_scale_rule(tiny_model_dir: Path) -> None:
    spec = loads(_judge_spec(tiny_model_dir, "scale 1..12  batch_size 7"))
    scorer = _scorer(spec)
    labels = [str(v) for v in range(1, 13)]
    assert scorer.rule.labels == tuple(labels)
    scores = spec.score(COMPLETIONS[:2], ROW_PROMPTS[:2]).rules["j"]
    prompts = scorer.prompts(Batch(COMPLETIONS[:2], ROW_PROMPTS[:2]))
    for score, prompt in zip(scores, prompts, strict=True):
        assert prompt is not None and score is not None
        expected = _expected_score(tiny_model_dir, prompt, labels, [i / 11 for i in range(12)])
        assert score == pytest.approx(expected, abs=1e-5)


def test_pickled_scorer_scores_the_same(tiny_model_dir: Path) -> None:
    spec = loads(_judge_spec(tiny_model_dir, 'choices "no", "yes"'))
    before = spec.score(COMPLETIONS, ROW_PROMPTS).rules["j"]
    copy = pickle.loads(pickle.dumps(spec))
    scorer = _scorer(copy)
    assert scorer._backend is None and scorer._cache is None  # transient: re-created on use
    assert copy.score(COMPLETIONS, ROW_PROMPTS).rules["j"] == before


def test_missing_values_are_not_applicable_and_not_judged(tiny_model_dir: Path) -> None:
    spec = loads(_judge_spec(tiny_model_dir, criterion="Does {answer} match {column.reference}?"))
    result = spec.score(["Paris.", "Rome."], [PROMPTS[0], PROMPTS[0]], reference=["Paris", None])
    assert result.rules["j"][1] is None and result.rules["j"][0] is not None
    assert _scorer(spec).judged == 1
    assert result.metrics == {"judge/j/failures": 0.0}


def test_explain(tiny_model_dir: Path) -> None:
    spec = loads(_judge_spec(tiny_model_dir, 'choices "no", "partly", "yes"'))
    result = spec.score(["Paris.", "x"], [PROMPTS[0], PROMPTS[0]], explain=True, )
    assert result.explanations is not None
    line = result.explanations["j"][0]
    match = re.fullmatch(r"most likely '(no|partly|yes)' \(p=(\d\.\d\d)\); expected (\d\.\d{3})", line)
    assert match, line
    assert float(match.group(3)) == pytest.approx(result.rules["j"][0], abs=5e-4)


def test_a_model_folder_that_does_not_exist_fails_loudly(tmp_path: Path) -> None:
    spec = loads(f'reward t\nrule j: judge "x" {{ model "{tmp_path / "nope"}" }}\n')
    with pytest.raises(ModelLoadError, match=r"rule `j`: model folder .*nope` not found"):
        spec.score(["a"])


def test_score_cli_explain(tiny_model_dir: Path, tmp_path: Path, rewardc: Any) -> None:
    spec = tmp_path / "s.reward"
    spec.write_text(_judge_spec(tiny_model_dir, 'choices "no", "yes"'), encoding="utf-8")
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps({"prompt": p, "completion": c}) for p, c in [
        ("What is the capital of France?", "Paris."), ("How do I bake bread?", "With flour."),
    ]) + "\n", encoding="utf-8")
    result = rewardc("score", spec, "--data", data, "--explain", "--format", "jsonl")
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert len(rows) == 2
    assert all(0.0 <= row["scores"]["j"] <= 1.0 for row in rows)
    assert all(row["explanations"]["j"].startswith("most likely '") for row in rows)
    assert "rewardc: judge/j/failures: 0 over 2 rows" in result.err


def test_helpfulness_spec_scores_with_the_tiny_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "specs" / "templates", tmp_path / "templates")
    text = (ROOT / "specs" / "helpfulness.reward").read_text(encoding="utf-8")
    text = text.replace('    template "templates/helpfulness.txt"\n',
                        f'    template "templates/helpfulness.txt"\n    model "{tiny_model_dir}"\n')
    assert f'model "{tiny_model_dir}"' in text
    (tmp_path / "helpfulness.reward").write_text(text, encoding="utf-8")
    spec = load(tmp_path / "helpfulness.reward")
    replies = ["Paris is the capital of France, a city on the Seine.",
               "As an AI language model I cannot say where Paris is."]
    result = spec.score(replies, [PROMPTS[0], PROMPTS[0]])
    helpful = result.rules["helpful"]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in helpful)
    assert result.rules["no_refusal"] == [1.0, 0.0]
    assert result.total[1] == 0.0  # the refusal gate
    assert result.metrics == {"judge/helpful/failures": 0.0}


@pytest.mark.slow
def test_packaged_smollm2_is_the_default_judge() -> None:
    pytest.importorskip("gguf")
    from rewardlang.rules.judge_local import default_model_path

    spec = load(ROOT / "specs" / "helpfulness.reward")
    replies = ["Paris is the capital of France.", "I don't know, go away."]
    prompts = [[{"role": "user", "content": "What is the capital of France?"}]] * 2
    result = spec.score(replies, prompts, explain=True)
    helpful = result.rules["helpful"]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in helpful)
    assert _scorer(spec, "helpful").backend().model_name is None
    assert Path(default_model_path(), "config.json").is_file()
    assert result.metrics == {"judge/helpful/failures": 0.0}


def test_trainer_defaults_use_the_moved_conversion() -> None:
    from rewardlang.rules import smollm2
    from rewardlang_trainer import defaults

    assert defaults.default_model_dir is smollm2.default_model_dir
    assert defaults.smollm2_gguf_path is smollm2.smollm2_gguf_path
    assert defaults.MODEL_FOLDER_NAME == smollm2.MODEL_FOLDER_NAME


# ------------------------------------------------------------ HTTP backend
@pytest.fixture(scope="module")
def judge_server_module() -> Any:
    # tests/judge_server.py comes with the HTTP backend (rewardlang/rules/judge_http.py).
    return pytest.importorskip("judge_server")


@pytest.fixture
def server(judge_server_module: Any, tiny_model_dir: Path) -> Any:
    global _TINY_JUDGE
    if _TINY_JUDGE is None:
        _TINY_JUDGE = judge_server_module.TinyJudgeModel(tiny_model_dir)
    running = judge_server_module.JudgeServer(_TINY_JUDGE).start()
    yield running
    running.stop()


_TINY_JUDGE: Any = None


def _http_spec(server: Any, options: str = "", verdicts: str = 'choices "no", "partly", "yes"') -> Any:
    return loads(
        f'reward t\nrule j: judge "Is the reply correct?" {{ {verdicts}  server "{server.base_url}"'
        f'  served_model "tiny-judge"  {options} }}\n'
    )


def test_http_verdicts_after_thinking(server: Any) -> None:
    server.behaviour.labels = ["no", "partly", "yes"]
    server.behaviour.reply_template = "<think>is it yes or no?</think> Verdict: {label}"
    spec = _http_spec(server)
    result = spec.score(COMPLETIONS, ROW_PROMPTS, explain=True)
    prompts = _scorer(spec).prompts(Batch(COMPLETIONS, ROW_PROMPTS))
    expected = [
        {"no": 0.0, "partly": 0.5, "yes": 1.0}[server.model.best_label([{"role": "user", "content": p}],
                                                                      ["no", "partly", "yes"])]
        for p in prompts
    ]
    assert result.rules["j"] == expected
    assert server.counters.answered == 3  # duplicates judged once; explain read the cached verdicts
    assert result.metrics == {"judge/j/failures": 0.0}
    assert {body["model"] for body in server.counters.bodies} == {"tiny-judge"}
    sent = sorted(json.dumps(body["messages"]) for body in server.counters.bodies)  # in any order (concurrent)
    assert sent == sorted(json.dumps([{"role": "user", "content": p}]) for p in dict.fromkeys(prompts))


def test_http_scale_verdicts(server: Any) -> None:
    server.behaviour.labels = ["4"]
    server.behaviour.reply_template = "<think>5? 3?</think> I give it {label} out of 5"
    result = _http_spec(server, verdicts="scale 1..5").score(["a", "b"], [PROMPTS[0], PROMPTS[1]])
    assert result.rules["j"] == [0.75, 0.75]


@pytest.mark.parametrize(
    ("behaviour", "options"),
    [
        ({"fail_first": 100, "fail_status": 500}, "retries 1  timeout 5"),
        ({"fail_first": 100, "fail_status": 429}, "retries 0  timeout 5"),
        ({"malformed": "json"}, "retries 0  timeout 5"),
        ({"delay": 5.0}, "retries 0  timeout 0.3  budget 1"),
    ],
)
def test_http_failures_score_none_and_are_counted(server: Any, behaviour: dict[str, Any], options: str) -> None:
    server.behaviour.labels = ["no", "partly", "yes"]
    for name, value in behaviour.items():
        setattr(server.behaviour, name, value)
    spec = _http_spec(server, options)
    result = spec.score(COMPLETIONS, ROW_PROMPTS)
    assert result.rules["j"] == [None, None, None, None]
    assert result.metrics == {"judge/j/failures": 3.0}  # three distinct judge prompts failed


def test_http_unreadable_verdict_is_a_counted_failure(server: Any) -> None:
    server.behaviour.labels = ["no", "partly", "yes"]
    server.behaviour.reply_template = "<think>{label}</think> I would rather not say."
    result = _http_spec(server, "retries 0").score(COMPLETIONS[:2], ROW_PROMPTS[:2], explain=True)
    assert result.rules["j"] == [None, None]
    assert result.metrics == {"judge/j/failures": 2.0}
    assert result.explanations is not None
    assert result.explanations["j"][0] == "verdict unreadable in 'I would rather not say.': not applicable"


def test_http_failures_are_not_cached(server: Any) -> None:
    server.behaviour.labels = ["no", "yes"]
    server.behaviour.fail_first = 2
    spec = _http_spec(server, "retries 0", verdicts='choices "no", "yes"')
    first = spec.score(COMPLETIONS[:2], ROW_PROMPTS[:2])
    second = spec.score(COMPLETIONS[:2], ROW_PROMPTS[:2])
    assert first.rules["j"] == [None, None] and first.metrics == {"judge/j/failures": 2.0}
    assert all(s in (0.0, 1.0) for s in second.rules["j"]) and second.metrics == {"judge/j/failures": 0.0}


def test_http_server_dies_mid_batch(server: Any) -> None:
    server.behaviour.labels = ["no", "yes"]
    server.behaviour.die_after = 1
    spec = _http_spec(server, "retries 0  timeout 2  concurrency 1  budget 10", verdicts='choices "no", "yes"')
    result = spec.score(COMPLETIONS, ROW_PROMPTS)
    scores = result.rules["j"]
    assert sum(s is None for s in scores) == 2 and scores[0] in (0.0, 1.0)  # the first request, sent alone, answered
    assert result.metrics == {"judge/j/failures": 2.0}


def test_http_api_key_from_the_named_variable(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server.behaviour.labels = ["no", "yes"]
    monkeypatch.setenv("REWARDLANG_TEST_JUDGE_KEY", "secret-123")
    spec = _http_spec(server, 'api_key_env "REWARDLANG_TEST_JUDGE_KEY"', verdicts='choices "no", "yes"')
    spec.score(["a"], [PROMPTS[0]])
    assert server.counters.authorizations == ["Bearer secret-123"]


def test_http_api_key_variable_not_set_fails_loudly(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REWARDLANG_TEST_JUDGE_KEY", raising=False)
    spec = _http_spec(server, 'api_key_env "REWARDLANG_TEST_JUDGE_KEY"')
    with pytest.raises(ModelLoadError, match="REWARDLANG_TEST_JUDGE_KEY"):
        spec.score(["a"], [PROMPTS[0]])
    assert server.counters.requests == 0


def test_http_scorer_pickles(server: Any) -> None:
    server.behaviour.labels = ["no", "yes"]
    spec = _http_spec(server, verdicts='choices "no", "yes"')
    before = spec.score(COMPLETIONS, ROW_PROMPTS).rules["j"]
    copy = pickle.loads(pickle.dumps(spec))
    assert copy.score(COMPLETIONS, ROW_PROMPTS).rules["j"] == before


# ------------------------------------------------------------------- TRL
def test_local_judge_in_a_real_two_step_grpo_run(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("trl")
    from test_trl_integration import _dataset
    from trl_runs import logged, train_two_steps

    spec = loads(
        "reward judged\n"
        f'rule j: judge "Is the reply helpful?" {{ choices "no", "partly", "yes"  model "{tiny_model_dir}" }}\n'
        "rule brief: length 1..12 words\n"
    )
    history = train_two_steps(spec.reward_funcs, spec.weights, tiny_model_dir, tmp_path / "out", _dataset())
    means = logged(history, "rewards/judged/j/mean")  # TRL names reward functions `<spec>/<rule>`
    assert len(means) == 2 and all(0.0 <= m <= 1.0 for m in means)
    assert logged(history, "judge/j/failures") == [0.0, 0.0]  # logged every step, 0 included
