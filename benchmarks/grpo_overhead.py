"""Step time of `grpo-train` against a hand-written TRL script with the same settings.

    .venv/bin/python benchmarks/grpo_overhead.py [--rounds 4] [--steps 8] [--json out.json]

What is compared (DESIGN.md section 7: "`grpo-train` adds no overhead beyond the rewards to a
hand-written TRL script with the same settings"; the aim is at most 2% slower):

- baseline: the script a reader of the GRPO conversation guide writes by hand: `load_dataset("json")`,
  `messages[:-1]` -> `prompt`, `GRPOConfig(...)`, `GRPOTrainer(model=<folder>, reward_funcs=[the
  guide's four Python functions, imported from benchmarks/guide_speed.py])`, `train()`, `save_model()`.
- grpo-train: the real CLI code path, `rewardlang_trainer.train.main([...])` with
  `--rewards specs/guide.reward` (the compiled spec that gives the same numbers as the guide's
  functions), the same data file, the same model folder and the same GRPOConfig values.

Both use the packaged SmolLM2-135M-Instruct (`default_model_dir()`), a small JSONL of short
chitchat conversations written by this script (prompts far below grpo-train's 512-token trimming,
so both see identical prompts), the same seed and the same settings. Each run is a fresh
subprocess of this script (`--variant baseline|grpo-train`, worker mode) that replaces
`trl.GRPOTrainer` by a subclass adding the same timing callback and reward timer in both variants.
The variants alternate, the order swapped each round (AB BA AB ...), so both see the same machine
load. The first (warm-up) step of every run is discarded.

Measured per step: wall time from `on_step_begin` to `on_step_end` (generation, rewards, loss,
backward, optimizer), time inside `GRPOTrainer._generate_and_score_completions` (generation and
rewards) and inside `GRPOTrainer._calculate_rewards` (all reward functions plus TRL's bookkeeping
around them). Per run: start-up (subprocess start to the first step) and the
completions and rewards of every step, to check that both variants follow the same trajectory.
Printed: median step time per variant with min / IQR / max; the ratio grpo-train / baseline of the
total time of the timed steps (both sides run the same steps, so the same work), per round and
overall, the median of per-step ratios of paired runs; reward time and start-up.
`--summarize out.json` prints the table again from a saved `--json` file without running anything.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("baseline", "grpo-train")
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


# ------------------------------------------------------------------------------------- settings
def grpo_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The GRPOConfig values both variants run with (output_dir apart)."""
    return {
        "num_generations": args.num_generations,
        "per_device_train_batch_size": args.batch_size,
        "max_completion_length": args.max_completion_length,
        "temperature": 0.7,  # the guide's setting
        "learning_rate": args.learning_rate,
        "max_steps": args.steps,
        "seed": args.seed,
        "use_cpu": True,
        "bf16": False,
        "gradient_checkpointing": False,
        "report_to": "none",
        "save_strategy": "no",
        "logging_steps": 1,
        "remove_unused_columns": False,
    }


def settings_argv(settings: dict[str, Any]) -> list[str]:
    """The same settings as `grpo-train` command-line options."""
    argv: list[str] = []
    for key, value in settings.items():
        argv += [f"--{key}", str(value)]
    return argv


# ----------------------------------------------------------------------------------------- data
def write_conversations(path: Path, count: int, max_words: int) -> int:
    """Write `count` short chitchat conversations (2 or 4 turns, ending with the assistant) as JSONL."""
    from rewardlang_trainer.defaults import chitchat_conversations

    kept = 0
    with path.open("w", encoding="utf-8") as fh:
        for conversation in chitchat_conversations(seed=0):
            messages = conversation["messages"]
            if len(messages) not in (2, 4) or messages[-1]["role"] != "assistant":
                continue
            if sum(len(m["content"].split()) for m in messages) > max_words:
                continue
            fh.write(json.dumps({"messages": messages}) + "\n")
            kept += 1
            if kept == count:
                break
    return kept


# --------------------------------------------------------------------------------------- worker
def install_timing(record: dict[str, Any]) -> None:
    """Replace `trl.GRPOTrainer` by a subclass that times steps and reward computation.

    Installed identically in both variants before either imports the trainer; `grpo-train` does
    `from trl import GRPOTrainer` inside main(), so it picks the subclass up as the baseline does.
    """
    import trl
    from transformers import TrainerCallback

    steps: list[dict[str, Any]] = record["steps"]

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.begin = 0.0

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            record["train_begin"] = time.time()

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if "first_step_begin" not in record:
                record["first_step_begin"] = time.time()
            steps.append({"reward_s": 0.0, "completions": [], "rewards": [], "completion_tokens": []})
            self.begin = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            steps[-1]["step_s"] = time.perf_counter() - self.begin

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if logs and steps and "loss" in logs:
                steps[-1]["loss"] = float(logs["loss"])

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            record["train_end"] = time.time()

    base = trl.GRPOTrainer

    class TimedGRPOTrainer(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.add_callback(StepTimer())
            record["config"] = json.loads(self.args.to_json_string())

        def train(self, *args: Any, **kwargs: Any) -> Any:
            record["callbacks"] = [type(c).__name__ for c in self.callback_handler.callbacks]
            return super().train(*args, **kwargs)

        def _generate_and_score_completions(self, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            result = super()._generate_and_score_completions(*args, **kwargs)
            if steps:
                steps[-1]["generate_s"] = steps[-1].get("generate_s", 0.0) + time.perf_counter() - start
            return result

        def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any) -> Any:
            start = time.perf_counter()
            rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
            elapsed = time.perf_counter() - start
            if steps:
                step = steps[-1]
                step["reward_s"] += elapsed
                step["completions"] += [c[0]["content"] if isinstance(c, list) else c for c in completions]
                step["rewards"] += rewards.tolist()
                step["completion_tokens"] += [len(ids) for ids in completion_ids_list]
            return rewards

    TimedGRPOTrainer.__name__ = TimedGRPOTrainer.__qualname__ = "GRPOTrainer"
    trl.GRPOTrainer = TimedGRPOTrainer


def run_baseline(data: str, model_dir: str, output_dir: str, settings: dict[str, Any]) -> None:
    """The hand-written TRL script of the conversation guide."""
    from datasets import load_dataset
    from trl import GRPOConfig, GRPOTrainer

    sys.path.insert(0, str(ROOT))
    from benchmarks.guide_speed import coherence_reward, helpfulness_reward, length_reward, safety_reward

    dataset = load_dataset("json", data_files=data, split="train")

    def prepare_data(example: dict[str, Any]) -> dict[str, Any]:
        messages = example["messages"]
        prompt = messages[:-1]  # All except last assistant response
        return {"prompt": prompt}

    dataset = dataset.map(prepare_data)
    args = GRPOConfig(output_dir=output_dir, **settings)
    trainer = GRPOTrainer(
        model=model_dir,
        reward_funcs=[length_reward, helpfulness_reward, safety_reward, coherence_reward],
        args=args,
        train_dataset=dataset,
    )
    trainer.train()
    trainer.save_model()


def run_grpo_train(data: str, model_dir: str, output_dir: str, settings: dict[str, Any]) -> None:
    """The `grpo-train` CLI code path with the same settings."""
    from rewardlang_trainer.train import main as grpo_train

    argv = [
        "--rewards", str(ROOT / "specs" / "guide.reward"),
        "--dataset", data,
        "--model_name_or_path", model_dir,
        "--output_dir", output_dir,
        *settings_argv(settings),
    ]  # fmt: skip
    status = grpo_train(argv)
    if status != 0:
        raise SystemExit(f"grpo-train exited with status {status}")


def worker(args: argparse.Namespace) -> int:
    """One run of one variant; writes its record as JSON to `--result`."""
    record: dict[str, Any] = {"variant": args.variant, "spawned": args.t0, "steps": []}
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    install_timing(record)
    settings = grpo_settings(args)
    with tempfile.TemporaryDirectory(prefix=f"grpo-overhead-{args.variant}-") as output_dir:
        if args.variant == "baseline":
            run_baseline(args.data, args.model, output_dir, settings)
        else:
            run_grpo_train(args.data, args.model, output_dir, settings)
    record["exit"] = time.time()
    Path(args.result).write_text(json.dumps(record), encoding="utf-8")
    return 0


# ----------------------------------------------------------------------------------- statistics
def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def same_trajectory(a: dict[str, Any], b: dict[str, Any]) -> tuple[int, int, int]:
    """(steps compared, steps with identical completions, steps with identical rewards)."""
    compared = same_text = same_rewards = 0
    for step_a, step_b in zip(a["steps"], b["steps"], strict=False):  # the steps both runs reached
        compared += 1
        same_text += step_a["completions"] == step_b["completions"]
        same_rewards += step_a["rewards"] == step_b["rewards"]
    return compared, same_text, same_rewards


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-variant figures and the grpo-train / baseline ratios (warm-up step discarded)."""
    result: dict[str, Any] = {"variants": {}}
    for variant in VARIANTS:
        mine = [r for r in runs if r["variant"] == variant]
        steps = [s for r in mine for s in r["steps"][1:] if "step_s" in s]
        step_s = [s["step_s"] for s in steps]
        reward_s = [s["reward_s"] for s in steps]
        q1, median, q3 = quartiles(step_s)
        result["variants"][variant] = {
            "runs": len(mine),
            "steps": len(step_s),
            "step_median_s": median,
            "step_min_s": min(step_s),
            "step_q1_s": q1,
            "step_q3_s": q3,
            "step_max_s": max(step_s),
            "generate_median_s": statistics.median(s.get("generate_s", math.nan) for s in steps),
            "reward_median_ms": statistics.median(reward_s) * 1000,
            "reward_share": sum(reward_s) / sum(step_s),
            "startup_median_s": statistics.median(r["first_step_begin"] - r["spawned"] for r in mine),
            "completion_tokens_per_step": statistics.mean(sum(s["completion_tokens"]) for s in steps),
        }
    base, cand = (result["variants"][v] for v in VARIANTS)
    result["ratio_of_medians"] = cand["step_median_s"] / base["step_median_s"]

    # Paired runs (same round): the same step does the same work in both when the trajectories match.
    paired: list[float] = []
    trajectories = []
    rounds = sorted({r["round"] for r in runs})
    for rnd in rounds:
        pair = {r["variant"]: r for r in runs if r["round"] == rnd}
        if len(pair) != 2:
            continue
        b, c = pair["baseline"], pair["grpo-train"]
        trajectories.append(same_trajectory(b, c))
        for sb, sc in zip(b["steps"][1:], c["steps"][1:], strict=False):  # the steps both runs reached
            if "step_s" in sb and "step_s" in sc:
                paired.append(sc["step_s"] / sb["step_s"])
    q1, median, q3 = quartiles(paired)
    result["paired_ratio"] = {"median": median, "q1": q1, "q3": q3, "min": min(paired), "max": max(paired)}
    # Total time of the timed steps, per round: the same steps (same work) on both sides.
    totals: dict[str, float] = dict.fromkeys(VARIANTS, 0.0)
    result["round_ratios"] = []
    for rnd in rounds:
        pair = {r["variant"]: r for r in runs if r["round"] == rnd}
        if len(pair) == 2:
            total = {v: sum(s["step_s"] for s in pair[v]["steps"][1:]) for v in VARIANTS}
            result["round_ratios"].append(total["grpo-train"] / total["baseline"])
            for v in VARIANTS:
                totals[v] += total[v]
    result["ratio_of_totals"] = totals["grpo-train"] / totals["baseline"]
    logs = [math.log(r) for r in result["round_ratios"]]
    result["round_ratio_geomean"] = math.exp(statistics.mean(logs))
    result["round_ratio_se_pct"] = (
        100 * statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else float("nan")
    )
    compared = sum(t[0] for t in trajectories)
    result["trajectory"] = {
        "steps_compared": compared,
        "same_completions": sum(t[1] for t in trajectories),
        "same_rewards": sum(t[2] for t in trajectories),
    }
    # Across rounds too: every run of either variant against the first baseline run.
    first = next(r for r in runs if r["variant"] == "baseline")
    result["trajectory"]["runs_identical_to_first"] = sum(
        same_trajectory(first, r)[1] == len(first["steps"]) for r in runs
    )
    result["trajectory"]["runs"] = len(runs)

    # The effective GRPOConfig of both variants (as the trainer saw it) must be the same.
    configs = {v: next(r for r in runs if r["variant"] == v)["config"] for v in VARIANTS}
    keys = sorted(set(configs["baseline"]) | set(configs["grpo-train"]))
    result["config_differences"] = {
        key: [configs["baseline"].get(key), configs["grpo-train"].get(key)]
        for key in keys
        if key not in ("output_dir", "logging_dir") and configs["baseline"].get(key) != configs["grpo-train"].get(key)
    }
    result["callbacks"] = {v: next(r for r in runs if r["variant"] == v)["callbacks"] for v in VARIANTS}
    return result


def print_table(summary: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\n{args.rounds} rounds x 2 variants, {args.steps} steps per run ({args.steps - 1} timed, warm-up dropped); "
        f"{args.batch_size} completions per step ({args.num_generations} per prompt), "
        f"max_completion_length {args.max_completion_length}"
    )
    header = (f"{'variant':<11} {'steps':>5} {'median s':>9} {'min':>7} {'q1':>7} {'q3':>7} {'max':>7} "
              f"{'gen s':>6} {'rewards ms':>10} {'share':>6} {'startup s':>9} {'tokens':>6}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for variant, v in summary["variants"].items():
        print(  # gen s: generation + rewards (`_generate_and_score_completions`); the rest is loss/backward/optimizer
            f"{variant:<11} {v['steps']:>5} {v['step_median_s']:>9.3f} {v['step_min_s']:>7.3f} {v['step_q1_s']:>7.3f} "
            f"{v['step_q3_s']:>7.3f} {v['step_max_s']:>7.3f} {v['generate_median_s']:>6.2f} "
            f"{v['reward_median_ms']:>10.2f} "
            f"{v['reward_share']:>6.2%} {v['startup_median_s']:>9.1f} {v['completion_tokens_per_step']:>6.0f}"
        )
    p = summary["paired_ratio"]
    print(
        f"\nratio grpo-train / baseline, total time of the timed steps (same steps, same work): "
        f"{summary['ratio_of_totals']:.3f}"
    )
    print(
        "  per round: " + ", ".join(f"{r:.3f}" for r in summary["round_ratios"])
        + f"; geometric mean {summary['round_ratio_geomean']:.3f} (standard error {summary['round_ratio_se_pct']:.1f}%)"
    )  # fmt: skip
    print(
        f"paired per-step ratio (same round, same step): median {p['median']:.3f}, "
        f"IQR {p['q1']:.3f}..{p['q3']:.3f}, min {p['min']:.3f}, max {p['max']:.3f}"
    )
    print(f"ratio of the pooled median step times: {summary['ratio_of_medians']:.3f} (steps differ in work: noisier)")
    t = summary["trajectory"]
    print(
        f"same trajectory: {t['same_completions']}/{t['steps_compared']} paired steps with identical completions, "
        f"{t['same_rewards']}/{t['steps_compared']} with identical rewards; "
        f"{t['runs_identical_to_first']}/{t['runs']} runs identical to the first baseline run"
    )
    differences = summary["config_differences"]
    print("GRPOConfig differences (baseline vs grpo-train, output_dir aside): "
          + (", ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in differences.items()) or "none"))  # fmt: skip
    extra = [c for c in summary["callbacks"]["grpo-train"] if c not in summary["callbacks"]["baseline"]]
    print("callbacks only in grpo-train: " + (", ".join(extra) or "none"))


# ----------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="runs of each variant, alternating (default 4)")
    parser.add_argument("--steps", type=int, default=8, help="GRPO steps per run, the first dropped (default 8)")
    parser.add_argument("--batch_size", type=int, default=8, help="completions per step (default 8)")
    parser.add_argument("--num_generations", type=int, default=4, help="completions per prompt (default 4)")
    parser.add_argument("--max_completion_length", type=int, default=32, help="tokens (default 32)")
    parser.add_argument("--learning_rate", type=float, default=1e-5, help="(default 1e-5)")
    parser.add_argument("--seed", type=int, default=42, help="(default 42)")
    parser.add_argument("--conversations", type=int, default=64, help="rows in the data file (default 64)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads per run (default 0: torch's default)")
    parser.add_argument("--json", help="also write the summary and every run's record to this file")
    parser.add_argument("--summarize", metavar="JSON", help="print the table of a saved --json file; run nothing")
    # Worker mode (one run in a fresh process); set by the parent.
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.update(OFFLINE_ENV)
    sys.path.insert(0, str(ROOT))

    if args.variant:
        return worker(args)
    if args.summarize:
        saved = json.loads(Path(args.summarize).read_text(encoding="utf-8"))
        print_table(summarize(saved["runs"]), argparse.Namespace(**saved["args"]))
        return 0

    from rewardlang_trainer.defaults import default_model_dir

    model_dir = str(default_model_dir())
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="grpo-overhead-") as tmp:
        data = Path(tmp) / "conversations.jsonl"
        kept = write_conversations(data, args.conversations, max_words=60)
        print(f"model {model_dir}; data {kept} conversations (2 or 4 turns, <= 60 words); "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        for rnd in range(args.rounds):
            order = VARIANTS if rnd % 2 == 0 else VARIANTS[::-1]
            for variant in order:
                result = Path(tmp) / f"{variant}-{rnd}.json"
                command = [
                    sys.executable, __file__, "--variant", variant, "--data", str(data), "--model", model_dir,
                    "--result", str(result), "--t0", str(time.time()),
                    "--steps", str(args.steps), "--batch_size", str(args.batch_size),
                    "--num_generations", str(args.num_generations),
                    "--max_completion_length", str(args.max_completion_length),
                    "--learning_rate", str(args.learning_rate), "--seed", str(args.seed),
                    "--threads", str(args.threads),
                ]  # fmt: skip
                done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
                if done.returncode != 0:
                    print(done.stdout[-3000:], done.stderr[-5000:], sep="\n", file=sys.stderr)
                    print(f"round {rnd + 1}: {variant} failed (exit {done.returncode})", file=sys.stderr)
                    return 1
                record = json.loads(result.read_text(encoding="utf-8"))
                record["round"] = rnd
                runs.append(record)
                timed = [s["step_s"] for s in record["steps"][1:]]
                print(f"round {rnd + 1} {variant:<10} median step {statistics.median(timed):.3f} s, "
                      f"start-up {record['first_step_begin'] - record['spawned']:.1f} s, "
                      f"load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip

    summary = summarize(runs)
    print_table(summary, args)
    if args.json:
        payload = {"settings": grpo_settings(args), "args": vars(args), "summary": summary, "runs": runs}
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
