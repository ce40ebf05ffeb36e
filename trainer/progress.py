"""grpo-train's progress output: one concise line per logged step.

    step 3/20  total 2.410  length 0.620  on_topic 0.410  fresh 0.980  4.1 s

The line shows each rule's mean reward over the step's completions (the `rewards/<rule>/mean`
values TRL logs) and the seconds since the previous line. It replaces transformers' progress bar
and its raw metric dicts, which grpo-train prints only with `--log_raw`; what is logged
(TensorBoard, `trainer_state.json`) is the same either way, since only printing callbacks change.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from transformers import TrainerCallback

__all__ = ["progress_callback", "progress_line"]


def _short(name: str) -> str:
    """`chat/length` -> `length`: the spec's name is the same on every rule."""
    return name.split("/", 1)[-1]


def progress_line(
    logs: Mapping[str, Any], step: int, max_steps: int, names: Sequence[str], seconds: float
) -> str | None:
    """The progress line of one log entry, or None for an entry without rewards (the run's summary)."""
    keys = [f"rewards/{name}/mean" for name in names]
    if not any(key in logs for key in keys):
        return None
    width = len(str(max_steps)) if max_steps > 0 else 1
    parts = [f"step {step:>{width}}/{max_steps}" if max_steps > 0 else f"step {step}"]
    for name, key in zip(names, keys, strict=True):
        value = logs.get(key)
        shown = f"{value:.3f}" if isinstance(value, (int, float)) and not math.isnan(value) else "-"
        parts.append(f"{_short(name)} {shown}")
    parts.append(f"{seconds:.1f} s")
    return "  ".join(parts)


def progress_callback(names: Sequence[str]) -> TrainerCallback:
    """A `TrainerCallback` printing `progress_line` for every log entry, on the main process, to stdout."""
    from transformers import TrainerCallback

    class ProgressLine(TrainerCallback):
        def __init__(self) -> None:
            self.since = time.perf_counter()

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            self.since = time.perf_counter()
            return control

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> Any:
            now = time.perf_counter()
            line = progress_line(logs or {}, state.global_step, state.max_steps, names, now - self.since)
            if line is not None:
                self.since = now
                if state.is_world_process_zero:
                    print(line, file=sys.stdout, flush=True)
            return control

    return ProgressLine()
