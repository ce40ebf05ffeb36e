"""Local judge speed: batched (one forward pass per chunk of sequences) vs one completion at a time.

    .venv/bin/python benchmarks/judge_local_speed.py [--completions 64] [--model FOLDER] [--batch-size 32]
        [--choices no,partly,yes] [--repeats 3] [--threads N]

Without `--model` the judge is the tiny random Qwen2 of tests/tiny_model.py (built in a
temporary folder); `--model default` is the packaged SmolLM2-135M-Instruct (what a spec
without `model` uses). N distinct completions of realistic chat length (so the cache
never answers) are judged, each repetition timing, side by side on the same loaded model:

- batched:     one `judge` rule scoring the N completions in one call (`batch_size` sequences
               of prompt x label per forward pass);
- one by one:  the same rule, a fresh scorer (empty cache), called once per completion.

It prints seconds (median and best), completions per second, the ratio, the largest
|score difference| between the two (padding must not change a score) and the command.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How do I bake sourdough bread at home?",
    "What is the best way to learn Python as a beginner?",
    "Can you explain how vaccines train the immune system?",
    "What should I pack for a week of hiking in the mountains?",
    "How do I write a polite email asking for a deadline extension?",
    "Why is the sky blue during the day and red at sunset?",
    "What are good habits for a healthy sleep schedule?",
    "How does compound interest work for savings?",
]
_VOCABULARY = (
    "the a to and of you it is that for your with this can on as be are at or by more when make sure "
    "bread python vaccine hiking email sky sleep interest water time step first then also good best"
)
WORDS = _VOCABULARY.split()


def completions(count: int, seed: int = 0) -> tuple[list[str], list[list[dict[str, str]]]]:
    rng = random.Random(seed)
    texts, prompts = [], []
    for i in range(count):
        texts.append(f"Answer {i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 160))) + ".")
        prompts.append([{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}])
    return texts, prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--completions", type=int, default=64)
    parser.add_argument("--model", default=None, help="a model folder, or `default` (SmolLM2); none: the tiny model")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--choices", default="no,partly,yes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    from rewardlang import loads

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from tiny_model import build_tiny_model

        model_dir: str | None = str(build_tiny_model(Path(tempfile.mkdtemp(prefix="judge-bench-")) / "tiny"))
        label = "tiny random Qwen2 (tests/tiny_model.py)"
    elif args.model == "default":
        model_dir, label = None, "packaged SmolLM2-135M-Instruct"
    else:
        model_dir, label = str(Path(args.model).resolve()), args.model
    choices = ", ".join(f'"{c.strip()}"' for c in args.choices.split(","))
    model_option = f'model "{model_dir}"  ' if model_dir else ""
    text = (f'reward bench\nrule j: judge "Is the reply helpful, correct and polite?" '
            f"{{ choices {choices}  {model_option}batch_size {args.batch_size} }}\n")
    texts, prompts = completions(args.completions)

    loads(text).score(texts[:2], prompts[:2])  # load the model once (process-wide cache), warm up
    batched_times, single_times, worst = [], [], 0.0
    for _ in range(args.repeats):
        spec = loads(text)
        start = time.perf_counter()
        batched = spec.score(texts, prompts).rules["j"]
        batched_times.append(time.perf_counter() - start)

        spec = loads(text)
        start = time.perf_counter()
        single = [spec.score([t], [p]).rules["j"][0] for t, p in zip(texts, prompts, strict=True)]
        single_times.append(time.perf_counter() - start)
        worst = max(worst, max(abs((a or 0.0) - (b or 0.0)) for a, b in zip(batched, single, strict=True)))

    b, s = statistics.median(batched_times), statistics.median(single_times)
    print(f"model: {label}; {args.completions} completions x {len(args.choices.split(','))} choices; "
          f"batch_size {args.batch_size}; torch threads {torch.get_num_threads()}")
    print(f"batched:    median {b:.3f} s  best {min(batched_times):.3f} s  ({args.completions / b:.1f} completions/s)")
    print(f"one by one: median {s:.3f} s  best {min(single_times):.3f} s  ({args.completions / s:.1f} completions/s)")
    print(f"ratio (one by one / batched): {s / b:.2f}x; largest |score difference|: {worst:.2e}")
    print("command: .venv/bin/python benchmarks/judge_local_speed.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
