"""The `judge` rule's OpenAI-compatible HTTP backend: chat completions, bounded in every way.

`ChatClient.complete` sends one `POST {base_url}/chat/completions` per conversation
(vLLM's `vllm serve`, llama.cpp's `llama-server`, TGI's Messages API, a hosted API)
and returns one `Reply` per conversation, in order. It never raises for a network or
server problem: each such problem is a `Reply` with a `failure` kind (`FAILURES`), which
the judge kind scores None (not applicable) and counts. Bounds:

- at most `concurrency` requests in flight per client (a thread pool of that size,
  shared by every call, whatever thread calls);
- each attempt waits at most min(`timeout`, time left in the budget);
- `retries` extra attempts after a 429, a 5xx, a connection error or a timeout, with
  exponential backoff from `backoff` seconds (jittered), or the server's `Retry-After`
  when it asks for longer; a wait that would end past the budget is not waited: the
  reply fails with "budget";
- the calling thread waits on the futures until the budget's deadline (+ `GRACE_SECONDS`)
  and no longer, even if a worker is stuck: whatever has not finished fails with "budget".

A body that is not JSON or lacks a string `choices[0].message.content` is "malformed" and
is not retried (as the openai and verifiers clients do: a server that answered 200 with a
broken body most likely answers the same request the same way). Any 4xx but 429 is
"http_status" and is not retried (the request itself is wrong: bad model name, bad key).

`parse_verdict` reads the verdict of a reply (thinking stripped) as a 0..1 score.

httpx is imported inside the methods, so `rewardc check` never loads it, and the
client pickles: the httpx.Client and the thread pool are transient, re-created on
first use after unpickling (or in a forked child).
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import json
import logging
import os
import random
import re
import threading
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from rewardlang.rules.models import ModelLoadError
from rewardlang.runtime import split_thinking

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

FAILURES = ("timeout", "http_status", "connection", "malformed", "budget")

# How long past the budget's deadline the caller waits for workers whose last attempt was cut at
# the deadline, so that they report their own failure instead of a generic "budget".
GRACE_SECONDS = 0.1
# A chat reply larger than this is not a verdict: the body is cut off and counted as malformed.
MAX_BODY_BYTES = 8 * 1024 * 1024


class JudgeSetupError(ModelLoadError):
    """A mistake in how the judge is set up (a missing API-key variable, a base URL that is not
    http(s)): raised at once, never turned into per-request failures."""


@dataclass(frozen=True)
class HttpSettings:
    base_url: str  # the OpenAI base URL, with /v1: "http://127.0.0.1:8000/v1"
    model: str  # the served model name sent in the request body
    api_key_env: str | None = None  # NAME of the environment variable holding the key; read at call time
    concurrency: int = 8  # requests in flight at most
    timeout: float = 30.0  # seconds per request (connect + read)
    retries: int = 3  # extra attempts after a 429 / 5xx / connection error / timeout
    budget: float = 120.0  # seconds for one whole `complete` call: no step ever waits longer
    max_tokens: int = 512
    temperature: float = 0.0
    backoff: float = 0.5  # first retry delay, doubled per attempt (Retry-After honoured), capped by the budget

    def __post_init__(self) -> None:
        # The judge kind validates these at check time; this guards the Python API.
        problems = [
            f"{name} must be {rule} (got {getattr(self, name)!r})"
            for name, rule, ok in (
                ("concurrency", "at least 1", self.concurrency >= 1),
                ("timeout", "positive", self.timeout > 0),
                ("retries", "0 or more", self.retries >= 0),
                ("budget", "positive", self.budget > 0),
                ("max_tokens", "at least 1", self.max_tokens >= 1),
                ("backoff", "0 or more", self.backoff >= 0),
            )
            if not ok
        ]
        if problems:
            raise ValueError("HttpSettings: " + "; ".join(problems))


@dataclass(frozen=True)
class Reply:
    text: str | None  # the assistant message content, None on failure
    failure: str | None  # None on success; else one of FAILURES


@dataclass(frozen=True)
class _Outcome:
    """One conversation's result, with the detail that goes to the log (never a key or a header)."""

    reply: Reply
    detail: str = ""


def _redacted(url: str) -> str:
    """The URL without any user:password part, for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _retry_after(value: str | None) -> float | None:
    """Seconds asked for by a Retry-After header (a number of seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class _AttemptOver(Exception):
    """The attempt's time ran out while the body was still arriving."""


class ChatClient:
    """Chat completions from an OpenAI-compatible server, bounded by `HttpSettings`."""

    def __init__(self, settings: HttpSettings) -> None:
        parts = urlsplit(settings.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise JudgeSetupError(
                f"judge base URL {_redacted(settings.base_url)!r} is not an http:// or https:// URL "
                "(write it as the OpenAI base URL, e.g. http://127.0.0.1:8000/v1)"
            )
        self._setup(settings)

    def _setup(self, settings: HttpSettings) -> None:
        self.settings = settings
        self._endpoint = settings.base_url.rstrip("/") + "/chat/completions"
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"ChatClient(base_url={_redacted(self.settings.base_url)!r}, model={self.settings.model!r})"

    # -------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        return {"settings": self.settings}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["settings"])

    # -------------------------------------------------------------- resources
    def _resources(self) -> tuple[httpx.Client, concurrent.futures.ThreadPoolExecutor]:
        import httpx

        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's pool threads do not exist here
                self._client, self._executor, self._pid = None, None, os.getpid()
            if self._client is None or self._executor is None:
                size = self.settings.concurrency
                self._client = httpx.Client(
                    limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                    follow_redirects=False,
                    # HTTP(S)_PROXY from the environment is for remote hosts: a proxy must not reroute a local judge.
                    trust_env=not _is_loopback(self.settings.base_url),
                )
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=size, thread_name_prefix="rewardlang-judge"
                )
                # Free the pool's threads and sockets when the client is garbage collected (or closed).
                self._finalizer = weakref.finalize(self, _release, self._client, self._executor)
            return self._client, self._executor

    def close(self) -> None:
        """Close the connections and stop the worker threads now (they are re-created on next use)."""
        with self._lock:
            finalizer, self._finalizer = self._finalizer, None
            self._client, self._executor = None, None
        if finalizer is not None:
            finalizer()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        name = self.settings.api_key_env
        if name is not None:
            key = os.environ.get(name)
            if not key:
                raise JudgeSetupError(
                    f"the judge's API key variable {name} is not set (or empty) in the environment: "
                    f"export {name}=... before training, or drop `api_key_env` for a server without a key"
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    # -------------------------------------------------------------- the call
    def complete(self, conversations: Sequence[list[dict[str, str]]]) -> list[Reply]:
        """One reply per conversation (OpenAI chat messages), in order. Thread-safe; never raises for
        a network or server problem (those are failures); never takes longer than settings.budget
        (+ GRACE_SECONDS); works from any thread and when an asyncio loop runs in the calling thread."""
        if not conversations:
            return []
        deadline = time.monotonic() + self.settings.budget
        headers = self._headers()  # a missing key fails loudly, before any request
        client, executor = self._resources()
        futures = [
            executor.submit(self._one, client, headers, list(messages), deadline) for messages in conversations
        ]
        concurrent.futures.wait(futures, timeout=max(0.0, deadline - time.monotonic()) + GRACE_SECONDS)
        outcomes: list[_Outcome] = []
        for future in futures:
            if future.done() and not future.cancelled():
                outcomes.append(future.result())
            else:
                future.cancel()  # not started yet: it never will be; started: it ends at its own timeout
                unfinished = f"unfinished after the {self.settings.budget:g} s budget"
                outcomes.append(_Outcome(Reply(None, "budget"), unfinished))
        self._log(outcomes)
        return [outcome.reply for outcome in outcomes]

    def _log(self, outcomes: list[_Outcome]) -> None:
        failed = [outcome for outcome in outcomes if outcome.reply.failure is not None]
        if not failed:
            return
        kinds = Counter(outcome.reply.failure for outcome in failed)
        example = next(outcome.detail for outcome in failed if outcome.detail)
        logger.warning(
            "judge %s (%s): %d of %d requests failed (%s); for example: %s",
            _redacted(self.settings.base_url),
            self.settings.model,
            len(failed),
            len(outcomes),
            ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())),
            example,
        )

    def _one(self, client: httpx.Client, headers: dict[str, str], messages: list[dict[str, str]],
             deadline: float) -> _Outcome:
        """One conversation: the attempts, the backoff between them, all inside the deadline."""
        settings = self.settings
        body = {
            "model": settings.model,
            "messages": messages,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
        }
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        outcome = _Outcome(Reply(None, "budget"), "the budget was spent before the first attempt")
        for attempt in range(settings.retries + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                return _Outcome(Reply(None, "budget"), f"budget spent after {attempt} attempts ({outcome.detail})")
            outcome, retryable, asked_wait = self._attempt(client, headers, content, deadline, left)
            if not retryable or attempt == settings.retries:
                return outcome
            wait = settings.backoff * (2**attempt) * random.uniform(1.0, 1.25)  # jitter: workers do not retry in step
            if asked_wait is not None:
                wait = max(wait, asked_wait)
            if time.monotonic() + wait >= deadline:
                return _Outcome(Reply(None, "budget"), f"no time left to retry ({outcome.detail})")
            time.sleep(wait)
        return outcome

    def _attempt(self, client: httpx.Client, headers: dict[str, str], content: bytes, deadline: float,
                 left: float) -> tuple[_Outcome, bool, float | None]:
        """(outcome, retryable, seconds the server asked to wait) of one request."""
        import httpx

        capped = left < self.settings.timeout  # this attempt's timeout is what is left of the budget
        seconds = min(self.settings.timeout, left)
        # httpx's timeouts bound each network operation; this bounds the whole reply (a trickling body).
        attempt_end = time.monotonic() + seconds
        try:
            with client.stream("POST", self._endpoint, content=content, headers=headers,
                               timeout=httpx.Timeout(seconds)) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    wait = _retry_after(response.headers.get("Retry-After"))
                    return _Outcome(Reply(None, "http_status"), f"HTTP {status}"), True, wait
                if not 200 <= status < 300:
                    return _Outcome(Reply(None, "http_status"), f"HTTP {status} (not retried)"), False, None
                raw = bytearray()
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_BODY_BYTES:
                        return _Outcome(Reply(None, "malformed"), f"body over {MAX_BODY_BYTES} bytes"), False, None
                    if time.monotonic() > attempt_end:
                        raise _AttemptOver
        except (_AttemptOver, httpx.TimeoutException):
            if capped:
                return _Outcome(Reply(None, "budget"), "the budget ran out during a request"), False, None
            return _Outcome(Reply(None, "timeout"), f"no reply within {seconds:g} s"), True, None
        except httpx.DecodingError as error:  # a body whose content-encoding does not decode
            return _Outcome(Reply(None, "malformed"), f"{type(error).__name__}: {error}"), False, None
        except httpx.RequestError as error:  # refused, reset, closed without a reply, DNS, TLS
            return _Outcome(Reply(None, "connection"), f"{type(error).__name__}: {error}"), True, None
        text = _message_content(bytes(raw))
        if text is None:
            return _Outcome(Reply(None, "malformed"), "no choices[0].message.content in the reply"), False, None
        return _Outcome(Reply(text, None)), False, None


def _release(client: httpx.Client, executor: concurrent.futures.ThreadPoolExecutor) -> None:
    executor.shutdown(wait=False, cancel_futures=True)
    client.close()


def _message_content(raw: bytes) -> str | None:
    """`choices[0].message.content` of an OpenAI chat-completion body, or None when the body has none."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser goes
        return None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


# ------------------------------------------------------------------ verdicts
# Quotes, backticks and markdown emphasis around a one-word reply ("**Yes**", "`good`", '"B"').
_WRAPPERS = "\"'`*_“”‘’ \t\r\n"
_TRAILING = ".!?,;:。"
# A number not inside a word or a dotted version ("v1.5"): an optional sign, digits, decimals.
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
# "8/10" and "8 out of 10" are one number, the first: a judge's score on its scale.
_SCORE = re.compile(
    rf"(?<![\w.])({_NUMBER})(?:\s*(?:/|\bout\s+of\b)\s*[0-9]+(?:\.[0-9]+)?)?(?!\w|\.[0-9])",
    re.IGNORECASE,
)


def _bare(text: str) -> str:
    """The reply without surrounding whitespace, quotes, markdown emphasis and trailing punctuation."""
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_WRAPPERS).rstrip(_TRAILING)
    return text


def _choice(answer: str, choices: Sequence[str]) -> int | None:
    labels = [label.strip() for label in choices]
    bare = _bare(answer).casefold()
    for index, label in enumerate(labels):
        if bare == label.casefold():
            return index
    # The labels as whole words; at one position the longest label wins ("very good" over "good").
    # The last one found is the verdict: judges reason first and conclude last.
    alternatives = sorted({label for label in labels if label}, key=len, reverse=True)
    if not alternatives:
        return None
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(label) for label in alternatives) + r")(?!\w)",
                         re.IGNORECASE)
    found = None
    for match in pattern.finditer(answer):
        found = match.group(1).casefold()
    if found is None:
        return None
    return next(index for index, label in enumerate(labels) if label.casefold() == found)


def parse_verdict(text: str, choices: Sequence[str] | None = None,
                  scale: tuple[float, float] | None = None) -> float | None:
    """The verdict of a judge reply, mapped to 0..1, or None when it cannot be read.

    Thinking (`<think>...</think>`) is stripped first. choices (worst to best): the whole
    reply equal to a label (ignoring case, quotes, markdown bold, trailing punctuation), else
    the label that occurs last as a whole word -> index / (len - 1) (a single choice -> 1.0).
    scale (low, high): the last number ("8", "7.5", "8/10" -> 8, "8 out of 10" -> 8) ->
    (value - low) / (high - low); outside the scale -> None.
    """
    if (choices is None) == (scale is None):
        raise ValueError("parse_verdict takes choices or a scale (exactly one of them)")
    _thinking, answer = split_thinking(text)
    if choices is not None:
        if not choices:
            raise ValueError("parse_verdict: choices is empty")
        index = _choice(answer, choices)
        if index is None:
            return None
        return 1.0 if len(choices) == 1 else index / (len(choices) - 1)
    assert scale is not None
    low, high = scale
    if not low < high:
        raise ValueError(f"parse_verdict: the scale's low end must be below its high end (got {low}..{high})")
    numbers = _SCORE.findall(answer)
    if not numbers:
        return None
    value = float(numbers[-1])
    if not low <= value <= high:
        return None
    return (value - low) / (high - low)
