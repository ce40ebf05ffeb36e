"""No lost work on Ctrl-C or SIGTERM: finish the current step, save a checkpoint, stop.

The first SIGINT or SIGTERM only raises a flag; at the end of the optimizer step that is running,
the trainer saves a regular checkpoint (`output_dir/checkpoint-<step>`, with optimizer, scheduler
and RNG state, so `--resume_from_checkpoint` continues exactly) and stops. A second SIGINT stops at
once, as Ctrl-C normally does. Under several processes (torchrun, accelerate) the flag is combined
across ranks at every step end, so all ranks save the same step and none waits forever in a
collective that the others left.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any, Self

from transformers import TrainerCallback

__all__ = ["InterruptCheckpoint"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class InterruptCheckpoint(TrainerCallback):
    """A TrainerCallback that turns SIGINT/SIGTERM into "save a checkpoint and stop"."""

    def __init__(self) -> None:
        self.received: str | None = None  # the name of the first signal, e.g. "SIGINT"
        self.stopped_at_step: int | None = None
        self._previous: dict[int, Any] = {}

    # -------------------------------------------------------------------------- signal handlers
    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():  # signals only reach the main thread
            for signum in _SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None and signum == signal.SIGINT:
            self.__exit__()
            raise KeyboardInterrupt
        if self.received is None:
            self.received = signal.Signals(signum).name
            print(
                f"\ngrpo-train: {self.received} received: finishing the current step, then saving a "
                "checkpoint (press Ctrl-C again to stop at once, without saving)",
                file=sys.stderr,
                flush=True,
            )

    # ------------------------------------------------------------------------------- callback
    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self._anywhere():
            control.should_save = True
            control.should_training_stop = True
            self.stopped_at_step = state.global_step
            if self.received is None:
                self.received = "a signal on another process"
        return control

    def _anywhere(self) -> bool:
        """True when this process or any other rank has received a signal."""
        import torch
        import torch.distributed as dist

        local = self.received is not None
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return local
        from accelerate import PartialState

        flag = torch.tensor([1 if local else 0], device=PartialState().device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())
