"""`grpo-train`: GRPO fine-tuning with a rewardlang spec, on TRL's own argument parser.

    grpo-train --rewards my.reward --dataset chats.jsonl --model_name_or_path ./model --output_dir out
    grpo-train --dry_run                  # default spec, packaged model and conversations; no training
    grpo-train --config run.yaml          # any GRPOConfig / ModelConfig option, as with `trl grpo`

The arguments are TRL's `TrlParser((RewardScriptArguments, GRPOConfig, ModelConfig))`, so every
`GRPOConfig` and `ModelConfig` option (and `--config file.yaml`) works exactly as with `trl grpo`.
Options the user does not set get GRPO defaults from the conversation guide (and small, fast ones
when the packaged model and conversations run on a CPU).

Order of checks, all before a model loads or a file is written (`preflight.py`): the `--config`
file (exit 2), the spec (exit 1 on spec errors, 2 if unreadable) and the model folders its rules
name (exit 2), the options, the output folder (an earlier run is never silently overwritten nor
mixed with another run: exit 2 unless `--overwrite` or `--resume_from_checkpoint PATH|last`), the
policy model's location, then the data (exit 2). Ctrl-C or SIGTERM during training saves a
checkpoint and exits 130/143 (128 + the signal, `rewardlang.exits`; see `interrupt.py`). Under torchrun or
`accelerate launch -m rewardlang_trainer.train` only rank 0 prints summaries (docs/training.md).

Heavy imports (torch, transformers, trl) happen inside `main()`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import math
import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE, interrupted

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rewardlang.schedules import Schedule

    from .watch import WatchWarning

__all__ = ["DEFAULT_SPEC", "RewardScriptArguments", "main"]

#: grpo-train's default spec, package data of `rewardlang_trainer`: used when `--rewards` is not given.
DEFAULT_SPEC = resources.files("rewardlang_trainer").joinpath("specs", "default_chat.reward")


@dataclass
class RewardScriptArguments:
    """grpo-train's own options (the rest are TRL's `GRPOConfig` and `ModelConfig`)."""

    rewards: str | None = field(
        default=None,
        metadata={
            "help": "Path of the reward spec (.reward). Default: grpo-train's default spec, a chat assistant "
            "answering in full sentences, on topic, without repeating itself "
            f"({DEFAULT_SPEC.name}, shipped in the rewardlang_trainer package: {DEFAULT_SPEC})."
        },
    )
    dataset: str | None = field(
        default=None,
        metadata={
            "help": "A local .jsonl/.json/.parquet/.csv file, a save_to_disk folder or a Hub id, with a "
            "'messages' or 'prompt' column. Default: the packaged chitchat conversations."
        },
    )
    dataset_split: str = field(default="train", metadata={"help": "Split (slicing syntax allowed)."})
    dataset_config: str | None = field(default=None, metadata={"help": "Hub dataset configuration."})
    max_samples: int | None = field(
        default=None,
        metadata={"help": "Keep a seeded subset of this many rows (default: all; 64 for the packaged data)."},
    )
    system_prompt: str | None = field(
        default=None, metadata={"help": "System message added to prompts that have none."}
    )
    dry_run: bool = field(
        default=False,
        metadata={"help": "Load everything, sample one batch, print every rule's scores; do not train."},
    )
    overwrite: bool = field(
        default=False,
        metadata={"help": "Allow writing into a non-empty output_dir (an earlier run's folder)."},
    )
    log_raw: bool = field(
        default=False,
        metadata={
            "help": "Also print transformers' progress bar and TRL's raw metric dict of every logged step. "
            "Without it, grpo-train prints one line per step (the step, each rule's mean reward, the "
            "seconds it took); what is logged to TensorBoard and trainer_state.json is the same either way."
        },
    )
    max_prompt_length: int = field(
        default=512,
        metadata={
            "help": "Longest prompt in tokens (the guide's setting; TRL 1.16 no longer truncates prompts): "
            "the oldest turns of a longer conversation are dropped, keeping system messages and the last user turn."
        },
    )


#: grpo-train's own options: each takes one value (in `--config` too).
OWN_OPTIONS = frozenset(f.name for f in fields(RewardScriptArguments))


def trim_prompts(dataset: Any, tokenizer: Any, max_tokens: int) -> Any:
    """Drop the oldest turns of conversational prompts longer than `max_tokens` (chat template applied).

    Long multi-turn prompts make each step's attention cost grow quadratically, and one long
    prompt pads every prompt of its batch to its length. The result is the first count of oldest
    turns at which a turn-by-turn scan would stop (dropping a turn never makes a chat template's
    text longer). A prompt that still does not fit with only its last user turn loses the start
    of that turn instead (its last tokens are kept, as TRL's left truncation did before 1.0); one
    that would not fit even with that turn empty is kept as it is.
    """
    if "prompt" not in dataset.column_names or not getattr(tokenizer, "chat_template", None):
        return dataset
    overhead = _message_overhead(tokenizer)

    def length(messages: list[dict[str, Any]]) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        # verbose=False: a chat longer than the model's context is what trimming is for, not a warning.
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def fewest_dropped(system: list[dict[str, Any]], turns: list[dict[str, Any]]) -> int:
        """The fewest oldest turns to drop for the prompt to fit (at most all but the last turn).

        Each turn's content is tokenized once, on its own; with the template's cost of a message
        that estimates every candidate's length, the estimate picks where to start, and real
        tokenizations of the candidate prompt (which fits `max_tokens`, so they are short) walk
        from there to the exact answer. An estimate that is off (a template that renders messages
        differently, tokens merging across turns) costs a few more tokenizations, never a wrong
        answer. Re-tokenizing the whole chat instead took 38 s for one 29,457-token chat.
        """
        last = max(len(turns) - 1, 0)
        if last == 0:
            return 0
        # The shortest candidate (only the last turn) exactly; each older turn's content on its own.
        shortest = length(system + turns[last:])
        contents = [str(m.get("content") or "") for m in turns[:last]]
        counts = tokenizer(contents, add_special_tokens=False, verbose=False)["input_ids"]
        estimate = [shortest] * (last + 1)  # estimate[k]: the length with the oldest k turns dropped
        for i in range(last - 1, -1, -1):
            estimate[i] = estimate[i + 1] + len(counts[i]) + overhead
        k = next((k for k in range(last + 1) if estimate[k] <= max_tokens), last)

        def fits(k: int) -> bool:
            return (shortest if k == last else length(system + turns[k:])) <= max_tokens

        if fits(k):
            while k > 0 and fits(k - 1):
                k -= 1
            return k
        while k < last and not fits(k + 1):
            k += 1
        return min(k + 1, last)

    def cut_last_turn(system: list[dict[str, Any]], turn: dict[str, Any]) -> dict[str, Any]:
        """`turn` with the fewest leading tokens of its text dropped for the prompt to fit."""
        content = turn.get("content")
        if not isinstance(content, str) or length([*system, turn]) <= max_tokens:
            return turn
        room = max_tokens - length([*system, {**turn, "content": ""}])
        if room <= 0:
            return turn
        ids = tokenizer(content, add_special_tokens=False, verbose=False)["input_ids"]
        # Tokens can merge differently at the cut: walk down from the estimate to a fit.
        for keep in range(min(room, len(ids)), 0, -1):
            candidate = {**turn, "content": tokenizer.decode(ids[-keep:]).lstrip("\ufffd")}
            if length([*system, candidate]) <= max_tokens:
                return candidate
        return turn

    def trim(row: dict[str, Any]) -> dict[str, Any]:
        prompt = row["prompt"]
        if not isinstance(prompt, list):
            return {"prompt": prompt}
        system = [m for m in prompt if m.get("role") in ("system", "developer")]
        turns = [m for m in prompt if m.get("role") not in ("system", "developer")]
        turns = turns[fewest_dropped(system, turns) :]
        while turns and turns[0].get("role") != "user" and len(turns) > 1:
            turns = turns[1:]  # a conversation shown to the model starts with the user
        if len(turns) == 1:
            turns = [cut_last_turn(system, turns[0])]
        return {"prompt": system + turns}

    return dataset.map(trim, desc="trimming long prompts")


def _message_overhead(tokenizer: Any) -> int:
    """The tokens a chat template adds around one message's content (role markers, separators).

    Measured on a two-turn chat against a one-turn chat; an estimate only (`trim_prompts` checks
    every answer with real tokenizations), so a template that cannot render these gives 0.
    """

    def tokens(messages: list[dict[str, str]]) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    user, reply = {"role": "user", "content": "hello"}, {"role": "assistant", "content": "hello"}
    try:
        content = len(tokenizer("hello", add_special_tokens=False)["input_ids"])
        return max(0, tokens([user, reply]) - tokens([user]) - content)
    except Exception:  # noqa: BLE001  (a template's own checks, raise_exception, reject the probe chat)
        return 0


def _is_main_process() -> bool:
    """Rank 0 (or a single process): under torchrun/accelerate only it prints summaries."""
    return os.environ.get("RANK", "0") == "0"


def _say(*parts: Any) -> None:
    if _is_main_process():
        print(*parts, flush=True)


def _err(message: str) -> None:
    rank = os.environ.get("RANK")
    where = f" (rank {rank})" if rank not in (None, "0") else ""
    print(f"grpo-train{where}: error: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------- parsing
def _make_parser() -> Any:
    from trl import GRPOConfig, ModelConfig, TrlParser

    dataclasses: Any = (RewardScriptArguments, GRPOConfig, ModelConfig)  # TRL annotates them as instances
    return TrlParser(dataclasses, prog="grpo-train")


def _split_config(argv: list[str]) -> tuple[list[str], str | None]:
    """(the arguments without `--config PATH`, PATH), as TRL's parser reads `--config`."""
    from .preflight import PreflightError

    if "--config" not in argv:
        return list(argv), None
    i = argv.index("--config")
    if i + 1 >= len(argv):
        raise PreflightError("--config needs the path of a YAML file")
    return argv[:i] + argv[i + 2 :], argv[i + 1]


def _options(parser: Any) -> dict[str, argparse.Action]:
    """Option name -> its argparse action (what a `--config` key may be)."""
    return {action.dest: action for action in parser._actions if action.dest != "help"}


def _explicit(args: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """The options the user set (name -> value), from the `--config` file and the command line."""
    values = {k: v for k, v in config.items() if k != "env"}
    parser = _make_parser()
    for action in parser._actions:
        action.default = argparse.SUPPRESS
        action.required = False
    namespace, _ = parser.parse_known_args(args)
    values.update(vars(namespace))
    return values


def _report_to_default() -> str:
    return "tensorboard" if importlib.util.find_spec("tensorboard") is not None else "none"


def _defaults(explicit: dict[str, Any], weights: list[float]) -> dict[str, Any]:
    """GRPOConfig values for the options the user did not set."""
    import torch

    on_cuda = torch.cuda.is_available() and not explicit.get("use_cpu")
    has_accelerator = on_cuda or torch.backends.mps.is_available()
    on_cpu = bool(explicit.get("use_cpu")) or not has_accelerator
    packaged = explicit.get("dataset") is None and explicit.get("model_name_or_path") is None
    values: dict[str, Any] = {
        # The conversation guide's settings.
        "remove_unused_columns": False,  # keep `reference` and other columns for the rewards
        "num_generations": 4,
        "max_completion_length": 256,
        "temperature": 0.7,
        "per_device_train_batch_size": 4,
        "logging_steps": 1,
        "report_to": _report_to_default(),
        "reward_weights": weights,
        "output_dir": "grpo-output",
    }
    if "fp16" not in explicit:
        # GRPOConfig turns bf16 on everywhere; keep it only where the hardware has it
        # (not on CPUs, MPS, or GPUs older than Ampere, where it fails or crawls).
        values["bf16"] = bool(on_cuda and torch.cuda.is_bf16_supported())
    if "gradient_checkpointing" not in explicit:
        # Gradient (activation) checkpointing trades compute for accelerator memory, TRL's default
        # there; on a CPU it only slows steps down. Set under its current transformers name, which
        # takes precedence over the deprecated `gradient_checkpointing` (and does not warn).
        values["activation_checkpointing"] = not on_cpu
    if on_cpu:
        values["use_cpu"] = True
    if on_cpu and packaged:
        # The first run (docs/training.md, "The first run"): a few minutes on a 2-core CPU, in
        # which every rule of the default spec moves. Prompts cut to 64 tokens (the chitchat logs
        # average 375 tokens at 512, which made a step 30-60 s) and 40 tokens for a reply, since
        # on this CPU each generated token costs a pass over the weights; 2 prompts of 4
        # completions a step. LoRA on every linear layer at a learning rate that moves the model
        # in 10 steps, with activation checkpointing: a full fine-tune keeps 1.6 GB of gradients
        # and AdamW moments, and without checkpointing the activations peaked at 4.5 GB in all.
        values.update(
            {
                "max_steps": 10,
                "max_prompt_length": 64,
                "max_completion_length": 40,
                "per_device_train_batch_size": 8,
                "temperature": 0.9,
                "learning_rate": 1e-3,
                "lr_scheduler_type": "constant",
                "save_steps": 5,
                "use_peft": True,
                "lora_r": 16,
                "lora_alpha": 32,
                "lora_dropout": 0.0,
                "lora_target_modules": "all-linear",
            }
        )
        if "gradient_checkpointing" not in explicit:
            values["activation_checkpointing"] = True
    return values


# -------------------------------------------------------------------------------------- reporting
def _mean(entries: list[dict[str, Any]], key: str) -> float | None:
    values = [e[key] for e in entries if isinstance(e.get(key), (int, float)) and not math.isnan(e[key])]
    return sum(values) / len(values) if values else None


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.3f}"


def _change(start: float | None, end: float | None) -> str:
    """`  +0.123 up`, `  -0.050 down`, `   0.000 same` (equal to 3 decimals), or `-` without both values."""
    if start is None or end is None:
        return f"{'-':>8}"
    change = end - start
    if abs(change) < 0.0005:
        return f"{0:>8.3f} same"
    return f"{change:>+8.3f} {'up' if change > 0 else 'down'}"


def _steps(entries: list[dict[str, Any]]) -> str:
    first, last = entries[0].get("step", "?"), entries[-1].get("step", "?")
    return f"step {first}" if len(entries) == 1 else f"steps {first}-{last}"


def _print_reward_table(
    history: list[dict[str, Any]], names: list[str], warnings: Sequence[WatchWarning] = (),
    schedules: Mapping[str, Schedule] | None = None,
) -> None:
    """Each rule's mean reward at the start and at the end of training, the scheduled weights, then the
    watch's warnings.

    Start and end average up to 3 logged steps each: one step's mean over a handful of
    completions is noisy enough to suggest a trend that is not there. Nothing is printed
    for the watch when it raised no warning.
    """
    logged = [entry for entry in history if any(f"rewards/{n}/mean" in entry for n in names)]
    if not logged:
        print("no rewards were logged")
        return
    window = max(1, min(3, len(logged) // 2))
    head, tail = logged[:window], logged[-window:]
    width = max(len(n) for n in names)
    print(f"mean reward per rule ({_steps(head)} -> {_steps(tail)}):")
    print(f"  {'rule':<{width}}  {'start':>8}  {'end':>8}  {'change':>8}")
    for name in names:
        key = f"rewards/{name}/mean"
        start, end = _mean(head, key), _mean(tail, key)
        print(f"  {name:<{width}}  {_fmt(start):>8}  {_fmt(end):>8}  {_change(start, end)}")
    _print_schedules(history, schedules or {})
    if warnings:
        print(f"training watch: {len(warnings)} warning{'s' if len(warnings) > 1 else ''} (docs/training.md):")
        for warning in warnings:
            print(f"  {warning}")


def _print_schedules(history: list[dict[str, Any]], schedules: Mapping[str, Schedule]) -> None:
    """Each logged schedule (`weight/<rule>`, `schedule/<name>`): its value at the first and the last
    step that logged it, and the schedule as written."""
    rows = []
    for key, schedule in schedules.items():
        logged = [entry for entry in history if isinstance(entry.get(key), (int, float))]
        if logged:
            first, last = logged[0], logged[-1]
            rows.append((key, f"{_fmt(first[key])} -> {_fmt(last[key])}", _steps([first, last]), schedule.describe()))
        else:
            rows.append((key, "-", "not logged", schedule.describe()))
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print("scheduled weights (first -> last logged step):")
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])


def _warn_unfinished_schedules(compiled: Any, max_steps: int, filename: str) -> None:
    """RL222 at start-up: a schedule that is still changing when the run ends."""
    from rewardlang.render import render_short
    from rewardlang.schedules import unfinished_schedules

    if _is_main_process():
        for diagnostic in unfinished_schedules(compiled.logged_schedules, max_steps):
            print(render_short(diagnostic, filename), file=sys.stderr)


def _resume_command(argv: list[str], checkpoint: str) -> str:
    """The command line that continues an interrupted run from `checkpoint`."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--resume_from_checkpoint", "--resume-from-checkpoint"):
            skip = True
            continue
        if arg.startswith(("--resume_from_checkpoint=", "--resume-from-checkpoint=")) or arg == "--overwrite":
            continue
        kept.append(arg)
    return shlex.join(["grpo-train", *kept, "--resume_from_checkpoint", checkpoint])


# ----------------------------------------------------------------------------------------- dry run
def _dry_run(compiled: Any, dataset: Any, model_path: str, tokenizer: Any, training_args: Any, model_args: Any) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    dtype = model_args.dtype
    if dtype not in (None, "auto"):
        dtype = getattr(torch, dtype)
    model: Any = AutoModelForCausalLM.from_pretrained(
        model_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
        dtype=dtype,
    )
    device = "cpu" if training_args.use_cpu or not torch.cuda.is_available() else "cuda"
    model.to(device).eval()
    generations = training_args.num_generations or 4
    rows = dataset.select(range(min(2, dataset.num_rows)))
    extra = [c for c in rows.column_names if c not in ("prompt", "messages")]
    torch.manual_seed(training_args.seed)
    for index in range(rows.num_rows):
        row = rows[index]
        prompt = row["prompt"]
        conversational = isinstance(prompt, list)
        if conversational:
            text = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
            shown = next((m["content"] for m in reversed(prompt) if m.get("role") == "user"), "")
        else:
            text, shown = prompt, prompt
        inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(device)
        with torch.no_grad():
            out = model.generate(
                **inputs,
                do_sample=True,
                temperature=training_args.temperature,
                max_new_tokens=training_args.max_completion_length or 64,
                num_return_sequences=generations,
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        completions = [[{"role": "assistant", "content": t}] if conversational else t for t in texts]
        columns = {c: [row[c]] * len(texts) for c in extra}
        scores = compiled.score(completions, prompts=[prompt] * len(texts), **columns)
        print(f"\nprompt {index + 1}: {shown[:200]!r}")
        for i, completion_text in enumerate(texts):
            print(f"  completion {i + 1}: {completion_text[:200]!r}")
            parts = [f"{rule}={_fmt(values[i])}" for rule, values in scores.rules.items()]
            print(f"    scores: {'  '.join(parts)}  total={_fmt(scores.total[i])}")


class _RuleWithoutRows(logging.Filter):
    """Drops transformers' TensorBoard warning about a reward logged as None.

    TRL logs a rule's mean as None for a step where the rule applied to no row (a `when` rule
    whose task the step did not sample): there is no mean to plot, which is expected, not a
    mistake, and the warning would print every such rule twice a step. Other None values still warn.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith('Trainer is attempting to log a value of "None"') and "rewards/" in message)


def _quiet_rules_that_did_not_apply() -> None:
    logging.getLogger("transformers.integrations.integration_utils").addFilter(_RuleWithoutRows())


#: Deprecation warnings raised inside the libraries by their own calls, which grpo-train cannot
#: change: (message pattern, category, module that warns). Each is filtered by all three.
LIBRARY_DEPRECATIONS: tuple[tuple[str, type[Warning], str], ...] = (
    # TRL 1.16's unwrap_model_for_generation reads `model.is_gradient_checkpointing` at every
    # generation (trl/models/utils.py); transformers 5 renamed it `is_activation_checkpointing`.
    (r"`is_gradient_checkpointing` is deprecated", FutureWarning, r"transformers\.modeling_utils"),
    # Its disable_gradient_checkpointing (the same file) switches checkpointing off around every
    # generation and on again, under the old names.
    (r"`gradient_checkpointing_(en|dis)able` is deprecated", FutureWarning, r"transformers\.modeling_utils"),
)


def _quiet_libraries(log_raw: bool) -> None:
    """No library deprecation warnings; the libraries' own progress bars only with `--log_raw`."""
    import warnings

    for message, category, module in LIBRARY_DEPRECATIONS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    if not log_raw:
        # `datasets`' bars for two 64-row maps and transformers' "Loading weights" bar: noise
        # around grpo-train's own lines, which say what each phase did.
        import datasets
        import transformers

        datasets.disable_progress_bars()
        transformers.utils.logging.disable_progress_bar()


def _show_progress(trainer: Any, names: list[str], log_raw: bool) -> None:
    """One progress line per logged step; transformers' progress bar and raw dicts only with `--log_raw`.

    Only printing callbacks are removed: the logging callbacks (TensorBoard, the log history saved
    in trainer_state.json) see the same entries either way.
    """
    from transformers import PrinterCallback, ProgressCallback

    from .progress import progress_callback

    if not log_raw:
        trainer.remove_callback(ProgressCallback)
        trainer.remove_callback(PrinterCallback)
    trainer.add_callback(progress_callback(names))


def _cpu_threads() -> int | None:
    """Torch's thread count for a CPU run: the cores other programs leave idle, unless OMP_NUM_THREADS says.

    Torch's CPU kernels split work over threads that wait for each other at the end of every
    operation; when one of them is descheduled because another program wants its core, all wait.
    On the 2-core machine of docs/performance-training.md ("First run"), sampling 4 completions of
    32 tokens took 127 s with 2 threads and 9 s with 1 while other work ran, and on the idle
    machine the first run's steps took 16-24 s with 2 threads against 26-38 s with 1. So: the
    cores that were idle over a quarter of a second at the start (all of them where that cannot
    be read), at least one. Returns the count set, or None when left as it is.
    """
    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        return None
    cores = os.cpu_count() or 1
    threads = max(1, min(torch.get_num_threads(), round(cores * _idle_share())))
    torch.set_num_threads(threads)
    return threads


def _idle_share(seconds: float = 0.25) -> float:
    """The share of the machine's CPU time that was idle over `seconds` (Linux /proc/stat; 1 elsewhere)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)  # all, idle + iowait

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError, IndexError):
        return 1.0
    elapsed = total_after - total_before
    return (idle_after - idle_before) / elapsed if elapsed > 0 else 1.0


# -------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    import rewardlang
    from rewardlang.frontend import read_source
    from rewardlang.groups import group_split_warning

    from .data import DataError, load_dataset_source, prepare
    from .preflight import (
        PreflightError,
        check_output_dir,
        data_warnings,
        model_location_problem,
        read_config,
        resume_request,
        rule_model_problems,
    )

    argv = list(sys.argv[1:] if argv is None else argv)
    # 0. The --config file, read once (a FIFO or `<(...)` works) and checked with file and line.
    try:
        args, config_path = _split_config(argv)
        config = read_config(config_path, _options(_make_parser()), OWN_OPTIONS) if config_path else {}
        explicit = _explicit(args, config)
    except (OSError, ValueError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    for key, value in config.get("env", {}).items():  # as TRL does, before anything reads them
        os.environ[str(key)] = str(value)

    # 1. The spec, before anything heavy (and before GRPOConfig's own checks).
    rewards = explicit.get("rewards")
    try:
        with resources.as_file(DEFAULT_SPEC) if rewards is None else contextlib.nullcontext(rewards) as spec_file:
            filename = str(spec_file)
            compiled = rewardlang.load(spec_file)
            spec_text = read_source(spec_file)  # for the warnings about the dataset (step 5)
    except rewardlang.SpecError as exc:
        if _is_main_process():  # every rank finds the same errors: show them once
            from rewardlang.render import render_error

            print(render_error(exc), file=sys.stderr)
        return EXIT_SPEC
    except rewardlang.SourceError as exc:
        _err(str(exc))
        return EXIT_USAGE
    # The models the rules name: a missing one would otherwise fail at the first training step.
    problems = rule_model_problems(compiled.spec, filename)
    for problem in problems:
        _err(problem)
    if problems:
        return EXIT_USAGE
    _say(f"rewards: {', '.join(compiled.names)} (weights {compiled.weights})")

    # 2. Parse with GRPO defaults for what the user did not set, so that GRPOConfig's own checks
    #    and derived values see them; the command line and --config override them as usual.
    defaults = {k: v for k, v in _defaults(explicit, compiled.weights).items() if k not in explicit}
    parser = _make_parser()
    parser.set_defaults_with_config(**defaults)
    parser.set_defaults_with_config(**{k: v for k, v in config.items() if k != "env"})
    try:
        script_args, training_args, model_args = parser.parse_args_into_dataclasses(args=args)
    except (OSError, ValueError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    _warn_unfinished_schedules(compiled, training_args.max_steps, filename)
    _quiet_libraries(script_args.log_raw)

    # RL225: a group rule (`brevity`, `diversity`) whose groups a process may hold only part of.
    if (group_warning := group_split_warning(compiled.spec, training_args)) and _is_main_process():
        print(group_warning, file=sys.stderr)

    # 3. The output folder: an earlier run is never silently overwritten, nor mixed with another
    #    run's checkpoint; a false --resume_from_checkpoint means no resume.
    if not script_args.dry_run:
        try:
            training_args.resume_from_checkpoint = check_output_dir(
                training_args.output_dir, script_args.overwrite, resume_request(training_args.resume_from_checkpoint)
            )
        except PreflightError as exc:
            _err(str(exc))
            return EXIT_USAGE

    # 4. The policy model's location and the optional packages the options need.
    if model_args.model_name_or_path is not None:
        model_problem = model_location_problem(model_args.model_name_or_path)
        if model_problem:
            _err(f"--model_name_or_path: {model_problem}")
            return EXIT_USAGE
    if training_args.use_vllm and importlib.util.find_spec("vllm") is None:
        _err("--use_vllm needs the `vllm` package (CUDA machines only), which is not installed: pip install vllm")
        return EXIT_USAGE
    if model_args.use_peft and importlib.util.find_spec("peft") is None:
        _err("--use_peft needs the `peft` package, which is not installed: pip install peft")
        return EXIT_USAGE

    if training_args.use_cpu and (threads := _cpu_threads()) is not None:
        _say(f"torch threads: {threads} of {os.cpu_count()} cores, the idle ones (OMP_NUM_THREADS sets another count)")

    # 5. The data.
    try:
        if script_args.dataset is None:
            from .defaults import default_dataset

            raw = default_dataset()
            max_samples = script_args.max_samples or 64
        else:
            raw = load_dataset_source(script_args.dataset, script_args.dataset_split, script_args.dataset_config)
            max_samples = script_args.max_samples
        dataset, report = prepare(raw, script_args.system_prompt, max_samples, seed=training_args.seed)
    except (DataError, FileNotFoundError, ValueError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    _say(report.summary())
    if _is_main_process():  # the columns the spec reads that the dataset lacks, `when`s that hold nowhere
        sys.stderr.write(data_warnings(compiled.spec, spec_text, filename, dataset))

    # 6. The model.
    model_path = model_args.model_name_or_path
    if model_path is None:
        from .defaults import default_model_dir

        try:
            model_path = str(default_model_dir())
        except (FileNotFoundError, FileExistsError, ImportError) as exc:
            _err(str(exc))
            return EXIT_USAGE
        _say(f"model: packaged SmolLM2-135M-Instruct ({model_path})")
    else:
        _say(f"model: {model_path}")

    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            model_path, revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code
        )
    except (OSError, ValueError) as exc:  # a folder without a model, or a Hub id that is not there
        detail = " ".join(str(exc).split())[:400] or type(exc).__name__
        _err(f"cannot load the tokenizer of model {model_path}: {detail}")
        return EXIT_USAGE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dataset = trim_prompts(dataset, tokenizer, script_args.max_prompt_length)

    from rewardlang.rules.models import ModelLoadError

    if script_args.dry_run:
        try:
            _dry_run(compiled, dataset, model_path, tokenizer, training_args, model_args)
        except ModelLoadError as exc:  # a rule's model folder exists but does not load
            _err(str(exc))
            return EXIT_USAGE
        print("\ndry run: no training")
        return EXIT_OK

    peft_config = None
    if model_args.use_peft:
        from trl import get_peft_config

        peft_config = get_peft_config(model_args)

    from trl import GRPOTrainer

    model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
    }
    if training_args.model_init_kwargs is not None:
        model_init_kwargs.update(training_args.model_init_kwargs)
    training_args.model_init_kwargs = model_init_kwargs

    trainer = GRPOTrainer(
        model=model_path,
        processing_class=tokenizer,
        reward_funcs=list[Any](compiled.reward_funcs),  # TRL's annotation is a list of its own union
        args=training_args,
        train_dataset=dataset,
        peft_config=peft_config,
    )
    from .interrupt import InterruptCheckpoint
    from .watch import TrainingWatch, watch_callback

    watch = TrainingWatch.for_spec(compiled, training_args.max_completion_length)

    if training_args.resume_from_checkpoint:
        _say(f"resuming from {training_args.resume_from_checkpoint}")
    _quiet_rules_that_did_not_apply()
    try:
        with InterruptCheckpoint() as interrupt:
            trainer.add_callback(interrupt)
            trainer.add_callback(watch_callback(watch))
            _show_progress(trainer, compiled.names, script_args.log_raw)
            trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    except ModelLoadError as exc:  # raised at the first step by a rule whose model folder does not load
        _err(str(exc))
        return EXIT_USAGE
    if _is_main_process():
        _print_reward_table(trainer.state.log_history, compiled.names, watch.warnings, compiled.logged_schedules)

    if interrupt.stopped_at_step is not None:
        checkpoint = str(Path(training_args.output_dir) / f"checkpoint-{interrupt.stopped_at_step}")
        step = interrupt.stopped_at_step
        _say(f"interrupted ({interrupt.received}) after step {step}: checkpoint saved to {checkpoint}")
        launcher = " (under the same launcher)" if int(os.environ.get("WORLD_SIZE", "1")) > 1 else ""
        _say(f"continue with{launcher}:\n  {_resume_command(argv, checkpoint)}")
        signum = signal.SIGTERM if interrupt.received == "SIGTERM" else signal.SIGINT
        return interrupted(signum)
    trainer.save_model(training_args.output_dir)
    _say(f"model saved to {training_args.output_dir}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
