"""Does GRPO through `grpo-train` move a rule's reward? A trained run against a learning-rate-0 control.

    .venv/bin/python experiments/learning_signal.py [--steps 24] [--learning_rate 2e-5]

What is measured: the per-step mean of one rule, `rewards/brevity/short/mean` of
experiments/length.reward (full marks for 3..12 words, falling to 0 at 24 words beyond), over
two `grpo-train` runs on its embedded defaults (the packaged SmolLM2-135M-Instruct and the
packaged chitchat conversations, no --model_name_or_path / --dataset):

- trained: `--learning_rate` (default 2e-5, constant schedule), 8 completions per step (2 prompts x
  4), at most 48 completion tokens, prompts trimmed to 256 tokens with grpo-train's
  `--max_prompt_length` (the packaged chats are long: 375 tokens on average at the default 512,
  which makes a CPU step take 30-60 s);
- control: the same command with learning rate 0 and the same seed. Step 1 of both is the same
  batch and the same completions; the dataloader order is seeded, so step k of both sees the same
  prompts, and any later difference comes from the weight updates, not from noise in the data.

Each run is `python -m rewardlang_trainer.train ...` in a subprocess (the `grpo-train` code path),
logging to TensorBoard in a temporary output_dir (`--save_strategy no`); the curves are read back
from its event file (tags `train/rewards/<spec>/<rule>/mean`, `train/completions/mean_length`).

Printed: start (mean of the first 3 steps) and end (mean of the last 3 steps) of each run, the
mean over the last `--window` steps, the paired difference trained - control over those steps
(same step, same prompts) with its standard error, and Welch's t for the two last-window means.
Written: a CSV of both curves (`--csv`) and a PNG plot with a rolling mean (`--png`).
"""

from __future__ import annotations

import argparse
import csv
import glob
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def rule_tag(spec: Path) -> str:
    """The TensorBoard tag of the spec's first rule: `train/rewards/<spec>/<rule>/mean`."""
    sys.path.insert(0, str(ROOT))
    import rewardlang

    return f"train/rewards/{rewardlang.load(spec).names[0]}/mean"


def grpo_train(args: argparse.Namespace, learning_rate: float, output_dir: str) -> tuple[float, str]:
    """Run grpo-train once; return (wall seconds, its output)."""
    command = [
        sys.executable, "-m", "rewardlang_trainer.train",
        "--rewards", str(args.spec),
        "--output_dir", output_dir,
        "--max_steps", str(args.steps),
        "--learning_rate", str(learning_rate),
        "--lr_scheduler_type", "constant",
        "--max_completion_length", str(args.max_completion_length),
        "--max_prompt_length", str(args.max_prompt_length),
        "--per_device_train_batch_size", str(args.batch_size),
        "--num_generations", str(args.num_generations),
        "--seed", str(args.seed),
        "--logging_steps", "1",
        "--save_strategy", "no",
        "--report_to", "tensorboard",
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **OFFLINE_ENV})
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"grpo-train exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return elapsed, done.stdout


def read_curves(output_dir: str, tags: list[str]) -> dict[str, list[float]]:
    """Scalars per step for `tags` from the run's TensorBoard event file(s)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = sorted(glob.glob(os.path.join(output_dir, "**", "events.out.tfevents.*"), recursive=True))
    if not files:
        raise RuntimeError(f"no TensorBoard event file under {output_dir}")
    curves: dict[str, dict[int, float]] = {tag: {} for tag in tags}
    for path in files:
        events = EventAccumulator(path, size_guidance={"scalars": 0})
        events.Reload()
        for tag in tags:
            if tag in events.Tags()["scalars"]:
                curves[tag].update({e.step: e.value for e in events.Scalars(tag)})
    return {tag: [values[step] for step in sorted(values)] for tag, values in curves.items()}


def rolling_mean(values: list[float], window: int) -> list[float]:
    return [statistics.mean(values[max(0, i - window + 1) : i + 1]) for i in range(len(values))]


def welch_t(a: list[float], b: list[float]) -> float:
    """Welch's t statistic for mean(a) - mean(b)."""
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    return (statistics.mean(a) - statistics.mean(b)) / se if se > 0 else math.inf


def plot(path: Path, trained: list[float], control: list[float], args: argparse.Namespace, ylabel: str) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    steps = list(range(1, len(trained) + 1))
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    for values, label, color in (
        (trained, f"trained (lr {args.learning_rate:g})", "tab:blue"),
        (control, "control (lr 0)", "tab:gray"),
    ):
        ax.plot(steps, values, color=color, alpha=0.35, linewidth=1, marker="o", markersize=2.5)
        ax.plot(steps, rolling_mean(values, args.rolling), color=color, linewidth=2.2,
                label=f"{label}, rolling mean of {args.rolling}")  # fmt: skip
    ax.set_xlabel("GRPO step")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(
        f"grpo-train, packaged SmolLM2-135M + chitchat: {args.batch_size} completions/step, "
        f"max {args.max_completion_length} tokens",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "experiments" / "length.reward")
    parser.add_argument("--steps", type=int, default=24, help="GRPO steps per run (default 24)")
    parser.add_argument("--learning_rate", type=float, default=2e-5, help="trained run (default 2e-5)")
    parser.add_argument("--batch_size", type=int, default=8, help="completions per step (default 8)")
    parser.add_argument("--num_generations", type=int, default=4, help="completions per prompt (default 4)")
    parser.add_argument("--max_completion_length", type=int, default=48, help="tokens (default 48)")
    parser.add_argument(
        "--max_prompt_length", type=int, default=256, help="grpo-train's prompt trimming, tokens (default 256)"
    )
    parser.add_argument("--seed", type=int, default=42, help="(default 42)")
    parser.add_argument("--window", type=int, default=8, help="last steps compared between runs (default 8)")
    parser.add_argument("--rolling", type=int, default=5, help="rolling-mean window of the plot (default 5)")
    parser.add_argument("--csv", type=Path, default=ROOT / "experiments" / "learning_signal.csv")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "img" / "learning_signal.png")
    args = parser.parse_args(argv)
    os.environ.update(OFFLINE_ENV)

    reward_tag = rule_tag(args.spec)
    length_tag = "train/completions/mean_length"
    runs = {"trained": args.learning_rate, "control": 0.0}
    curves: dict[str, dict[str, list[float]]] = {}
    for name, learning_rate in runs.items():
        with tempfile.TemporaryDirectory(prefix=f"learning-signal-{name}-") as output_dir:
            elapsed, output = grpo_train(args, learning_rate, output_dir)
            curves[name] = read_curves(output_dir, [reward_tag, length_tag])
        table = output[output.find("mean reward per rule") :].strip()
        print(f"{name}: learning rate {learning_rate:g}, {args.steps} steps in {elapsed:.0f} s\n  {table}", flush=True)

    trained, control = curves["trained"][reward_tag], curves["control"][reward_tag]
    if len(trained) != args.steps or len(control) != args.steps:
        print(f"expected {args.steps} logged steps, got {len(trained)} (trained) and {len(control)} (control)")
        return 1

    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with args.csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["step", "trained_reward", "control_reward", "trained_mean_length_tokens",
                         "control_mean_length_tokens"])  # fmt: skip
        for step in range(args.steps):
            writer.writerow([
                step + 1,
                f"{trained[step]:.4f}",
                f"{control[step]:.4f}",
                f"{curves['trained'][length_tag][step]:.2f}",
                f"{curves['control'][length_tag][step]:.2f}",
            ])  # fmt: skip
    plot(args.png, trained, control, args, f"mean reward of {reward_tag.split('/', 2)[2].removesuffix('/mean')}")

    k, w = 3, args.window
    print(f"\n{reward_tag.removeprefix('train/')}: {args.steps} steps, {args.batch_size} completions per step")
    print(f"{'run':<8} {'first 3':>8} {'last 3':>8} {'change':>8} {f'last {w}':>8} {'tokens first 3 -> last 3':>26}")
    for name, values in (("trained", trained), ("control", control)):
        tokens = curves[name][length_tag]
        start, end = statistics.mean(values[:k]), statistics.mean(values[-k:])
        print(
            f"{name:<8} {start:>8.3f} {end:>8.3f} {end - start:>+8.3f} {statistics.mean(values[-w:]):>8.3f} "
            f"{statistics.mean(tokens[:k]):>12.1f} -> {statistics.mean(tokens[-k:]):>5.1f}"
        )
    paired = [a - b for a, b in zip(trained[-w:], control[-w:], strict=True)]
    se = statistics.stdev(paired) / math.sqrt(len(paired))
    print(
        f"last {w} steps, trained - control (same step, same prompts): {statistics.mean(paired):+.3f} "
        f"(standard error {se:.3f}, {statistics.mean(paired) / se if se else math.inf:.1f} SE); "
        f"Welch's t of the two means {welch_t(trained[-w:], control[-w:]):.1f}"
    )
    print(f"step 1 identical in both runs: {trained[0] == control[0]}")
    print(f"wrote {args.csv} and {args.png} ({args.png.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
