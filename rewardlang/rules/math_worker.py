"""math-verify in a worker process: every verification bounded, from any thread.

math-verify bounds its own work with `signal.alarm`, which only works on the main
thread of the main interpreter; off it, the bound silently does nothing or raises
(TRL #5281, verl #5635), and TRL calls rewards from worker threads in its async
loop. So math-verify runs here with its signal timeouts off (`parsing_timeout=None`,
`timeout_seconds=None`), in a child process (`rewardlang.rules.math_worker.main`,
started with `subprocess` running `python -c`: no fork of a threaded trainer, no re-import of the
user's `__main__` as multiprocessing's spawn does). The parent waits for each
result with a deadline (`select` on the pipe, which works in any thread and inside
a running asyncio loop); when a step overruns, the child is killed and a fresh one
continues with the rest of the batch. A child whose parent dies is killed by the kernel
(Linux `PR_SET_PDEATHSIG`; elsewhere it exits within a second, between Python steps). POSIX only (`select` on pipes).

Protocol: frames of a 4-byte big-endian length and a pickle, both ends ours.
parent -> child: `(references, items, explain)`, the whole batch in one message;
an item is `(position, reference_index, answer)`.
child -> parent: `("ready",)` once started (or `("error", message)`), then per batch
`("reference", index, parsed, shown)` the first time a batch uses a reference (before
its items), `("item", position, verdict, shown)` per item, and `("done",)`.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rewardlang.rules.models import ModelLoadError

STARTUP_SECONDS = 300.0  # importing sympy on a busy machine; not counted against any verification
REFERENCE_CACHE = 4096  # parsed references a worker keeps across batches (least recently used dropped)
SHOWN_CHARS = 60
PARENT_POLL_SECONDS = 1.0  # how often a worker checks that its parent is still alive
PR_SET_PDEATHSIG = 1  # linux/prctl.h
_HEADER = struct.Struct(">I")


class MathWorkerError(ModelLoadError):
    """The worker cannot start (math-verify missing or broken): a setup mistake, raised loudly."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one (reference, answer) pair."""

    score: float | None  # 1.0 equal, 0.0 not, None not applicable or cut off
    outcome: str  # "verified", "unparseable reference", "timeout", "crash"
    answer: str = ""  # what the answer parsed to (when explaining)
    reference: str = ""  # what the reference parsed to (when explaining)


@dataclass
class BatchReport:
    verdicts: list[Verdict]
    timeouts: int  # pairs cut off at the deadline
    crashes: int  # pairs during which the worker died


# ------------------------------------------------------------------ frames
def _send(stream: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = stream.read(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _receive_blocking(stream: IO[bytes]) -> Any:
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    payload = _read_exactly(stream, _HEADER.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)


class _FrameReader:
    """Frames from a pipe, each awaited until a deadline (select: any thread, no signals)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = bytearray()

    def next(self, deadline: float) -> tuple[str, Any]:
        """("frame", message), ("timeout", None) or ("eof", None)."""
        while True:
            if len(self.buffer) >= _HEADER.size:
                size = _HEADER.unpack_from(self.buffer)[0]
                end = _HEADER.size + size
                if len(self.buffer) >= end:
                    payload = bytes(self.buffer[_HEADER.size : end])
                    del self.buffer[:end]
                    return "frame", pickle.loads(payload)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout", None
            readable, _, _ = select.select([self.fd], [], [], remaining)
            if not readable:
                return "timeout", None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return "eof", None
            self.buffer += chunk


# ------------------------------------------------------------------ parent
class _Process:
    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        command = [sys.executable, "-P", "-c", "from rewardlang.rules.math_worker import main; main()"]
        # Started from one long-lived thread: on Linux the worker dies with the *thread* that started
        # it (PR_SET_PDEATHSIG), and the reward's caller may be a short-lived one.
        self.popen = _spawner().submit(
            subprocess.Popen, command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True
        ).result()
        assert self.popen.stdin is not None and self.popen.stdout is not None
        self.stdin = self.popen.stdin
        self.reader = _FrameReader(self.popen.stdout.fileno())
        # Killed with the verifier that owns it, or at interpreter exit.
        self.finalizer = weakref.finalize(self, _kill, self.popen)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        self.finalizer()


_SPAWNER: ThreadPoolExecutor | None = None
_SPAWNER_LOCK = threading.Lock()


def _spawner() -> ThreadPoolExecutor:
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            _SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rewardlang-math-spawner")
        return _SPAWNER


def _kill(popen: subprocess.Popen[bytes]) -> None:
    if popen.poll() is None:
        popen.kill()
    popen.wait()
    for stream in (popen.stdin, popen.stdout):
        if stream is not None:
            stream.close()


class MathVerifier:
    """Verifies (reference, answer) pairs in a worker process, `timeout` seconds per step at most.

    A step is parsing one reference, or parsing and verifying one answer. Thread-safe
    (one batch at a time); the process starts on first use and after a kill or crash.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.starts = 0  # worker processes started so far (the first, then one per kill or death)
        self._process: _Process | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None

    def _ready_process(self) -> _Process:
        if self._process is not None and self._process.alive():
            return self._process
        self._stop()
        process = _Process()
        self.starts += 1
        kind, message = process.reader.next(time.monotonic() + STARTUP_SECONDS)
        if kind != "frame" or message[0] != "ready":
            process.kill()
            why = message[1] if kind == "frame" and message[0] == "error" else f"no answer from it ({kind})"
            raise MathWorkerError(f"the math-verify worker could not start: {why}")
        self._process = process
        return process

    def verify(self, pairs: list[tuple[str, str]], explain: bool = False) -> BatchReport:
        """One verdict per (reference, answer) pair, in order."""
        with self._lock:
            return self._verify(pairs, explain)

    def _verify(self, pairs: list[tuple[str, str]], explain: bool) -> BatchReport:
        references: dict[str, int] = {}
        items: list[tuple[int, int, str]] = []
        for position, (reference, answer) in enumerate(pairs):
            items.append((position, references.setdefault(reference, len(references)), answer))
        reference_list = list(references)
        verdicts: dict[int, Verdict] = {}
        shown_reference: dict[int, str] = {}
        failed_reference: dict[int, str] = {}  # a reference whose parse was cut off: its outcome
        timeouts = crashes = 0
        pending = items
        while pending:
            process = self._ready_process()
            reported: set[int] = set()  # references this attempt has parsed (or taken from its cache)
            cut, finished = "crash", False
            try:
                _send(process.stdin, (reference_list, pending, explain))
            except OSError:  # the worker died before reading: its first step counts as a crash
                pass
            else:
                while True:
                    kind, message = process.reader.next(time.monotonic() + self.timeout)
                    if kind != "frame":
                        cut = "timeout" if kind == "timeout" else "crash"
                        break
                    if message[0] == "done":
                        finished = True
                        break
                    if message[0] == "reference":
                        _, index, parsed, shown = message
                        reported.add(index)
                        shown_reference[index] = shown
                        if not parsed:
                            failed_reference[index] = "unparseable reference"
                    elif message[0] == "item":
                        _, position, verdict, shown = message
                        index = items[position][1]
                        if index in failed_reference:
                            verdicts[position] = Verdict(None, failed_reference[index], "", shown_reference[index])
                        else:
                            verdicts[position] = Verdict(
                                1.0 if verdict else 0.0, "verified", shown, shown_reference.get(index, "")
                            )
            if finished:
                break
            # Cut off: kill the worker; the step it was on scores None, the rest goes to a fresh one.
            self._stop()
            remaining = [item for item in pending if item[0] not in verdicts]
            if not remaining:
                break
            position, index, _ = remaining[0]
            if index not in reported:  # it was parsing this item's reference: every item of it is cut off
                failed_reference[index] = cut
                victims = [item[0] for item in remaining if item[1] == index]
            else:
                victims = [position]
            for victim in victims:
                verdicts[victim] = Verdict(None, cut, "", shown_reference.get(index, ""))
            timeouts += len(victims) if cut == "timeout" else 0
            crashes += len(victims) if cut == "crash" else 0
            pending = [item for item in remaining if item[0] not in verdicts]
        return BatchReport([verdicts[position] for position, _, _ in items], timeouts, crashes)


# ------------------------------------------------------------------ child
def _shown(parsed: list[Any]) -> str:
    """How a parse result reads: its first value, as written where that is a float (`0.5`, not `0.500000000000000`)."""
    value = parsed[0]
    if type(value).__name__ == "Float" and len(parsed) > 1 and isinstance(parsed[1], str):
        value = parsed[1]
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - a courtesy for `explain`; the verdict stands
        return "?"
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The worker's loop: TRL's `accuracy_reward` extraction, with math-verify's signal timeouts off."""
    import logging

    try:
        from latex2sympy2_extended import NormalizationConfig
        from math_verify import LatexExtractionConfig, parse, verify
    except Exception as error:  # noqa: BLE001 - told to the parent, which raises it with the rule's name
        _send(replies, ("error", f"{type(error).__name__}: {error} (install math-verify[antlr4-13-2])"))
        return
    # The "Timeout is disabled" warnings: the bound is the parent's deadline.
    for name in ("math_verify.parser", "math_verify.grader", "math_verify"):
        logging.getLogger(name).setLevel(logging.ERROR)
    answer_config = [
        LatexExtractionConfig(
            normalization_config=NormalizationConfig(units=True),
            boxed_match_priority=0,  # \boxed{} first
            try_extract_without_anchor=False,
        )
    ]

    def parse_reference(text: str) -> list[Any]:
        return list(parse(text, parsing_timeout=None))

    def parse_answer(text: str) -> list[Any]:
        return list(parse(text, extraction_config=answer_config, extraction_mode="first_match", parsing_timeout=None))

    # Warm up (sympy's and the parsers' first-call costs) before the parent starts counting.
    verify(parse_reference("1/2"), parse_answer(r"\boxed{\frac{1}{2}}"), timeout_seconds=None)
    _send(replies, ("ready",))
    cache: OrderedDict[str, list[Any]] = OrderedDict()
    while True:
        message = _receive_blocking(requests)
        if message is None:  # the parent closed the pipe (or died): stop
            return
        references, items, explain = message
        golds: dict[int, list[Any]] = {}
        for position, index, answer in items:
            if index not in golds:
                text = references[index]
                if text in cache:
                    cache.move_to_end(text)
                    gold = cache[text]
                else:
                    gold = cache[text] = parse_reference(text)
                    if len(cache) > REFERENCE_CACHE:
                        cache.popitem(last=False)
                golds[index] = gold
                _send(replies, ("reference", index, bool(gold), _shown(gold) if explain and gold else ""))
            gold = golds[index]
            if not gold:
                _send(replies, ("item", position, None, ""))
                continue
            parsed = parse_answer(answer)
            verdict = bool(verify(gold, parsed, timeout_seconds=None))
            shown = (_shown(parsed) if parsed else "nothing") if explain else ""
            _send(replies, ("item", position, verdict, shown))
        _send(replies, ("done",))


def _exit_with_parent(parent: int) -> None:
    """Stop when the parent dies, even in the middle of a step that would never end (no orphan burning a core)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when its parent dies, even inside one long C call holding the GIL."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def main() -> None:
    parent = os.getppid()
    _die_with_parent(parent)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    # The protocol owns the real stdout; anything printed by a library goes to stderr instead.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
