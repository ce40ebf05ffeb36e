"""A real OpenAI-compatible chat-completions server, answering from the tiny random Qwen2, for tests.

    def test_x(judge_server): ChatClient(HttpSettings(judge_server.base_url, "tiny")).complete(...)

`JudgeServer` is an `http.server.ThreadingHTTPServer` on 127.0.0.1 (a free port), served
from a thread. It speaks `POST /v1/chat/completions` (the OpenAI response shape) and
`GET /v1/models`. Given `labels`, it replies with the label that has the highest
log-probability under the model after the chat-formatted prompt (deterministic), written
into `reply_template` (`{label}`, and `{prompt}`: the last user message); without labels
it generates greedily (`max_tokens`, at most 64).
What it does wrong on purpose is set per instance in `server.behaviour` (a slow reply, a body
trickling in, 500s or 429s first, malformed bodies, dying mid-batch), and what it saw is in its counters
(`requests`, `answered`, `max_in_flight`, `authorizations`, `bodies`, `arrivals`).

The fixtures: `judge_model` (the tiny model loaded once per session, from `tiny_model_dir`)
and `judge_server` (a fresh server per test). A test module registers this plugin with
`pytest_plugins = ["judge_server"]` (tests/ is on sys.path); the benchmark
(benchmarks/judge_http_speed.py) uses the classes directly.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

MODEL_NAME = "tiny-judge"
MAX_GENERATED_TOKENS = 64
MAX_PROMPT_TOKENS = 400  # the tiny model has 512 positions: keep the end of a long prompt


class TinyJudgeModel:
    """The tiny chat model behind the server: label log-probabilities, or greedy text."""

    def __init__(self, folder: str | Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True).eval()
        # One forward pass at a time: handler threads share the model (and the CPU cores).
        self.lock = threading.Lock()

    def _prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):  # BatchEncoding in newer transformers
            ids = ids["input_ids"]
        return list(ids)[-MAX_PROMPT_TOKENS:]

    def label_logprobs(self, messages: list[dict[str, str]], labels: list[str]) -> list[float]:
        """Sum of the log-probabilities of each label's tokens after the prompt, in one batched pass."""
        torch = self.torch
        prompt = self._prompt_ids(messages)
        endings = [self.tokenizer(label, add_special_tokens=False)["input_ids"] for label in labels]
        width = len(prompt) + max(len(ending) for ending in endings)
        pad = self.tokenizer.pad_token_id
        rows = [prompt + ending + [pad] * (width - len(prompt) - len(ending)) for ending in endings]
        mask = [[1] * (len(prompt) + len(ending)) + [0] * (width - len(prompt) - len(ending)) for ending in endings]
        with self.lock, torch.no_grad():
            logits = self.model(input_ids=torch.tensor(rows), attention_mask=torch.tensor(mask)).logits
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        totals = []
        for row, ending in enumerate(endings):
            # The token at position p is predicted by the logits at p - 1.
            total = sum(float(logprobs[row, len(prompt) + i - 1, token]) for i, token in enumerate(ending))
            totals.append(total)
        return totals

    def best_label(self, messages: list[dict[str, str]], labels: list[str]) -> str:
        scores = self.label_logprobs(messages, labels)
        return labels[max(range(len(labels)), key=scores.__getitem__)]  # ties: the first label

    def generate(self, messages: list[dict[str, str]], max_tokens: int) -> str:
        torch = self.torch
        prompt = self._prompt_ids(messages)
        with self.lock, torch.no_grad():
            output = self.model.generate(
                torch.tensor([prompt]),
                attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                max_new_tokens=max(1, min(max_tokens, MAX_GENERATED_TOKENS)),
                do_sample=False,
            )
        return str(self.tokenizer.decode(output[0, len(prompt) :], skip_special_tokens=True))


@dataclass
class Behaviour:
    """What the server does, set per instance; a test may change it between calls."""

    labels: list[str] | None = None  # reply with the most likely label; None: generate greedily
    # e.g. "<think>weighing it</think> Verdict: {label}"; {prompt} is the last user message (tests check order with it)
    reply_template: str = "{label}"
    delay: float = 0.0  # seconds before each reply (interrupted when the server stops)
    delay_from: int = 0  # ... only for requests numbered from this one on (0-based)
    fail_first: int = 0  # the first N requests get `fail_status` instead of a reply
    fail_status: int = 500
    retry_after: str | None = None  # the Retry-After header sent with those failures
    malformed: str | None = None  # "json": a body that is not JSON; "shape": JSON without choices[0].message.content
    die_after: int | None = None  # after answering K requests: stop listening, drop every later request
    trickle: float = 0.0  # seconds between the bytes of a reply's body (each gap shorter than a read timeout)


@dataclass
class Counters:
    requests: int = 0  # POSTs to /v1/chat/completions received, answered or not
    answered: int = 0  # of those, answered with a chat completion
    in_flight: int = 0
    max_in_flight: int = 0
    authorizations: list[str | None] = field(default_factory=list)  # the Authorization header of each request
    bodies: list[dict[str, Any]] = field(default_factory=list)  # each request's JSON body
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() at each request
    broken: int = 0  # exchanges that ended in an error (a client that hung up mid-reply): counted, not printed


class _Httpd(ThreadingHTTPServer):
    """socketserver prints a traceback for every client that hangs up mid-reply, which the tests of
    timeouts and budgets do on purpose: count those instead."""

    def __init__(self, owner: JudgeServer, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        with self.owner.lock:
            self.owner.counters.broken += 1


class JudgeServer:
    """The server; `start()` serves it from a thread, `stop()` ends it (and any delayed reply)."""

    def __init__(self, model: TinyJudgeModel, behaviour: Behaviour | None = None) -> None:
        self.model = model
        self.behaviour = behaviour or Behaviour()
        self.counters = Counters()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.dead = False
        self._httpd = _Httpd(self, _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> JudgeServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="judge-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._close_listener()

    def _close_listener(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
        if self._thread is not None:  # shutdown() waits for a serving loop: one that never ran would hang it
            self._httpd.shutdown()
        self._httpd.server_close()

    def die(self) -> None:
        """Stop listening; requests on connections already open are dropped without a reply."""
        self.dead = True
        # shutdown() waits for the serving loop, which may be this very handler's caller: not here.
        threading.Thread(target=self._close_listener, daemon=True).start()

    # ------------------------------------------------------------------ replies
    def reply_text(self, messages: list[dict[str, str]], max_tokens: int) -> str:
        labels = self.behaviour.labels
        if labels:
            last_user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
            label = self.model.best_label(messages, labels)
            return self.behaviour.reply_template.format(label=label, prompt=last_user)
        return self.model.generate(messages, max_tokens)


def _handler(server: JudgeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real model servers do
        disable_nagle_algorithm = True  # TCP_NODELAY, as uvicorn and other servers set it: no 40 ms stalls

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # quiet tests

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self._send_headers(status, len(body), headers)
                if server.behaviour.trickle > 0:
                    for index in range(len(body)):
                        if server.stopping.wait(server.behaviour.trickle):
                            break
                        self.wfile.write(body[index : index + 1])
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): nothing to tell
                self.close_connection = True

        def _send_headers(self, status: int, length: int, headers: dict[str, str] | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(data).encode("utf-8"), headers)

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/v1/models":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            self._json(200, {"object": "list", "data": [
                {"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "rewardlang-tests"}]})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            behaviour = server.behaviour
            with server.lock:
                number = server.counters.requests
                server.counters.requests += 1
                server.counters.arrivals.append(time.monotonic())
                server.counters.authorizations.append(self.headers.get("Authorization"))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                server.counters.bodies.append(body if isinstance(body, dict) else {})
                if server.dead:
                    self.close_connection = True  # dropped: the client sees the connection closed, no reply
                    return
                server.counters.in_flight += 1
                server.counters.max_in_flight = max(server.counters.max_in_flight, server.counters.in_flight)
            try:
                self._answer(number, body, behaviour)
            finally:
                with server.lock:
                    server.counters.in_flight -= 1

        def _answer(self, number: int, body: Any, behaviour: Behaviour) -> None:
            if behaviour.delay > 0 and number >= behaviour.delay_from and server.stopping.wait(behaviour.delay):
                self.close_connection = True  # the server is stopping: no reply
                return
            if number < behaviour.fail_first:
                headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after is not None else None
                self._json(behaviour.fail_status, {"error": {"message": "injected failure"}}, headers)
                return
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                self._json(400, {"error": {"message": "the body needs a list of messages"}})
                return
            if behaviour.malformed == "json":
                self._send(200, b'{"id": "chatcmpl-broken", "choices": [{"message": ')
                return
            if behaviour.malformed == "shape":
                self._json(200, {"id": "chatcmpl-empty", "object": "chat.completion", "choices": []})
                return
            text = server.reply_text(body["messages"], int(body.get("max_tokens") or 16))
            with server.lock:
                server.counters.answered += 1
                dying = behaviour.die_after is not None and server.counters.answered >= behaviour.die_after
                if dying:
                    server.dead = True  # decided before replying: no later request slips through
            if dying:
                self.close_connection = True
                server.die()
            self._json(200, {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", MODEL_NAME),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            })

    return Handler


@pytest.fixture(scope="session")
def judge_model(tiny_model_dir: Path) -> TinyJudgeModel:
    """The tiny random Qwen2 loaded once per test session."""
    return TinyJudgeModel(tiny_model_dir)


@pytest.fixture
def judge_server(judge_model: TinyJudgeModel) -> Iterator[JudgeServer]:
    """A fresh server per test (its own behaviour and counters), stopped afterwards."""
    server = JudgeServer(judge_model).start()
    try:
        yield server
    finally:
        server.stop()
