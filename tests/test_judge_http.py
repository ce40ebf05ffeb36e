"""The judge's OpenAI-compatible HTTP backend against a real server on 127.0.0.1 (tests/judge_server.py).

The server answers from the tiny random Qwen2; its injected faults (slow replies, 500s, 429s,
malformed bodies, dying mid-batch) and its counters are per test. Assertions are on failure
kinds and request counts, never on elapsed time (one lower bound: a Retry-After is waited).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import subprocess
import sys
import threading

import httpx
import pytest

from judge_server import Behaviour, JudgeServer, TinyJudgeModel
from rewardlang.rules.judge_http import (
    FAILURES,
    ChatClient,
    HttpSettings,
    JudgeSetupError,
    Reply,
    parse_verdict,
)

LABELS = ["bad", "good"]
TEMPLATE = "<think>weighing {prompt}</think> Verdict: {label}"


def conversations(count: int) -> list[list[dict[str, str]]]:
    return [
        [{"role": "system", "content": "You grade answers."}, {"role": "user", "content": f"question {i}"}]
        for i in range(count)
    ]


def settings(server: JudgeServer, **overrides: object) -> HttpSettings:
    """Fast test settings: tiny backoff; other bounds as the test needs."""
    values: dict[str, object] = {"base_url": server.base_url, "model": "tiny-judge", "backoff": 0.001}
    values.update(overrides)
    return HttpSettings(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the happy path
def test_replies_come_in_order_from_the_model_and_parse(judge_server: JudgeServer,
                                                        judge_model: TinyJudgeModel) -> None:
    judge_server.behaviour = Behaviour(labels=LABELS, reply_template=TEMPLATE)
    batch = conversations(6)
    expected_labels = [judge_model.best_label(messages, LABELS) for messages in batch]

    replies = ChatClient(settings(judge_server, concurrency=3, max_tokens=7, temperature=0.5)).complete(batch)

    assert replies == [
        Reply(f"<think>weighing question {i}</think> Verdict: {label}", None) for i, label in enumerate(expected_labels)
    ]
    assert [parse_verdict(reply.text or "", LABELS) for reply in replies] == [
        float(LABELS.index(label)) for label in expected_labels
    ]
    bodies = sorted(judge_server.counters.bodies, key=lambda body: body["messages"][1]["content"])
    assert bodies == [
        {"model": "tiny-judge", "messages": messages, "max_tokens": 7, "temperature": 0.5} for messages in batch
    ]
    assert judge_server.counters.authorizations == [None] * 6  # no api_key_env: no Authorization header


def test_without_labels_the_server_generates_greedily(judge_server: JudgeServer, judge_model: TinyJudgeModel) -> None:
    batch = conversations(2)
    replies = ChatClient(settings(judge_server, max_tokens=5)).complete(batch)
    assert replies == [Reply(judge_model.generate(messages, 5), None) for messages in batch]


def test_the_server_lists_its_model(judge_server: JudgeServer) -> None:
    response = httpx.get(judge_server.base_url + "/models")
    assert response.status_code == 200
    assert [model["id"] for model in response.json()["data"]] == ["tiny-judge"]


def test_no_conversations_send_no_request(judge_server: JudgeServer) -> None:
    assert ChatClient(settings(judge_server)).complete([]) == []
    assert judge_server.counters.requests == 0


# ------------------------------------------------------------------ bounds
@pytest.mark.parametrize("concurrency", [1, 3])
def test_requests_in_flight_never_exceed_the_concurrency(judge_server: JudgeServer, concurrency: int) -> None:
    judge_server.behaviour = Behaviour(labels=LABELS, delay=0.2)
    replies = ChatClient(settings(judge_server, concurrency=concurrency)).complete(conversations(3 * concurrency))
    assert [reply.failure for reply in replies] == [None] * (3 * concurrency)
    assert judge_server.counters.max_in_flight == concurrency


def test_a_reply_slower_than_the_timeout_fails_as_timeout_after_the_retries(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=LABELS, delay=30)
    replies = ChatClient(settings(judge_server, timeout=0.3, retries=2)).complete(conversations(1))
    assert replies == [Reply(None, "timeout")]
    assert judge_server.counters.requests == 3  # 1 + retries


def test_a_body_trickling_in_past_the_timeout_fails_as_timeout(judge_server: JudgeServer) -> None:
    # Each byte comes well within httpx's read timeout; the whole reply does not come within `timeout`.
    judge_server.behaviour = Behaviour(labels=["good"], trickle=0.05)
    replies = ChatClient(settings(judge_server, timeout=0.5, retries=1)).complete(conversations(1))
    assert replies == [Reply(None, "timeout")]
    assert judge_server.counters.requests == 2


def test_a_budget_that_cannot_fit_the_work_fails_the_rest_as_budget(judge_server: JudgeServer) -> None:
    # Two quick replies, then every reply hangs: the hung ones and the two never sent are "budget".
    judge_server.behaviour = Behaviour(labels=LABELS, delay=30, delay_from=2)
    replies = ChatClient(settings(judge_server, concurrency=2, timeout=60, budget=2.0)).complete(conversations(6))
    assert [reply.failure for reply in replies] == [None, None, "budget", "budget", "budget", "budget"]
    assert judge_server.counters.requests == 4  # the two queued behind the hung ones were never sent


def test_a_retry_after_longer_than_the_budget_is_not_waited(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=LABELS, fail_first=1, fail_status=429, retry_after="60")
    replies = ChatClient(settings(judge_server, budget=5.0)).complete(conversations(1))
    assert replies == [Reply(None, "budget")]
    assert judge_server.counters.requests == 1


# ------------------------------------------------------------------ retries
def test_500s_then_a_reply_succeed_after_retries(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], fail_first=2, fail_status=500)
    replies = ChatClient(settings(judge_server, retries=3)).complete(conversations(1))
    assert replies == [Reply("good", None)]
    assert judge_server.counters.requests == 3


def test_500s_past_the_retries_fail_as_http_status(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], fail_first=10, fail_status=503)
    replies = ChatClient(settings(judge_server, retries=2)).complete(conversations(1))
    assert replies == [Reply(None, "http_status")]
    assert judge_server.counters.requests == 3


def test_a_429_with_retry_after_is_retried_after_the_asked_wait(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], fail_first=1, fail_status=429, retry_after="0.3")
    replies = ChatClient(settings(judge_server, retries=1)).complete(conversations(1))
    assert replies == [Reply("good", None)]
    first, second = judge_server.counters.arrivals
    assert second - first >= 0.3  # a lower bound: the asked wait was honoured, whatever the machine's load


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_4xx_other_than_429_is_not_retried(judge_server: JudgeServer, status: int) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], fail_first=1, fail_status=status)
    replies = ChatClient(settings(judge_server, retries=3)).complete(conversations(1))
    assert replies == [Reply(None, "http_status")]
    assert judge_server.counters.requests == 1


@pytest.mark.parametrize("malformed", ["json", "shape"])
def test_a_malformed_body_fails_as_malformed_without_retry(judge_server: JudgeServer, malformed: str) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], malformed=malformed)
    replies = ChatClient(settings(judge_server, retries=3)).complete(conversations(2))
    assert replies == [Reply(None, "malformed"), Reply(None, "malformed")]
    assert judge_server.counters.requests == 2


def test_a_server_that_dies_mid_batch_fails_the_rest_as_connection(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], die_after=3)
    replies = ChatClient(settings(judge_server, concurrency=1, retries=2)).complete(conversations(6))
    assert replies == [Reply("good", None)] * 3 + [Reply(None, "connection")] * 3
    assert judge_server.counters.answered == 3


def test_no_server_at_all_fails_as_connection(judge_model: TinyJudgeModel) -> None:
    server = JudgeServer(judge_model)  # bound, never served, then closed: nothing listens on its port
    server.stop()
    replies = ChatClient(settings(server, retries=1)).complete(conversations(2))
    assert replies == [Reply(None, "connection"), Reply(None, "connection")]


def test_failures_are_logged_with_their_cause(judge_server: JudgeServer, caplog: pytest.LogCaptureFixture) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], fail_first=1, fail_status=401)
    with caplog.at_level(logging.WARNING, logger="rewardlang.rules.judge_http"):
        ChatClient(settings(judge_server)).complete(conversations(2))
    assert [record.getMessage() for record in caplog.records] == [
        (f"judge {judge_server.base_url} (tiny-judge): 1 of 2 requests failed (http_status 1); for example: "
         "HTTP 401 (not retried)")
    ]


def test_a_proxy_from_the_environment_does_not_reroute_a_local_judge(judge_server: JudgeServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # nothing listens there: a proxied request would fail
    judge_server.behaviour = Behaviour(labels=["good"])
    assert ChatClient(settings(judge_server, retries=0)).complete(conversations(1)) == [Reply("good", None)]


def test_the_failure_kinds_are_the_interface_s() -> None:
    assert FAILURES == ("timeout", "http_status", "connection", "malformed", "budget")


# ------------------------------------------------------------------ the API key
def test_the_api_key_is_read_from_the_named_variable(judge_server: JudgeServer, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("RL_JUDGE_TEST_KEY", "sk-secret-123")
    judge_server.behaviour = Behaviour(labels=["good"], fail_first=1, fail_status=401)
    # One at a time, so that the injected 401 goes to the first conversation.
    client = ChatClient(settings(judge_server, api_key_env="RL_JUDGE_TEST_KEY", concurrency=1))
    with caplog.at_level(logging.DEBUG):
        replies = client.complete(conversations(2))
    assert replies == [Reply(None, "http_status"), Reply("good", None)]
    assert judge_server.counters.authorizations == ["Bearer sk-secret-123"] * 2
    assert "sk-secret-123" not in repr(client) + repr(client.settings) + caplog.text
    assert b"sk-secret-123" not in pickle.dumps(client)


def test_a_missing_api_key_variable_is_a_setup_error_naming_it(judge_server: JudgeServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RL_JUDGE_MISSING_KEY", raising=False)
    client = ChatClient(settings(judge_server, api_key_env="RL_JUDGE_MISSING_KEY"))
    with pytest.raises(JudgeSetupError, match="RL_JUDGE_MISSING_KEY is not set"):
        client.complete(conversations(1))
    assert judge_server.counters.requests == 0


@pytest.mark.parametrize("url", ["localhost:8000/v1", "ftp://127.0.0.1/v1", "http:///v1"])
def test_a_base_url_that_is_not_http_is_a_setup_error(url: str) -> None:
    with pytest.raises(JudgeSetupError, match="is not an http:// or https:// URL"):
        ChatClient(HttpSettings(base_url=url, model="m"))


def test_settings_out_of_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match=r"concurrency must be at least 1 \(got 0\); budget must be positive"):
        HttpSettings(base_url="http://127.0.0.1:1/v1", model="m", concurrency=0, budget=0)


# ------------------------------------------------------------------ pickling and callers
def test_the_client_pickles_and_works_after_unpickling(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"])
    client = ChatClient(settings(judge_server))
    assert client.complete(conversations(1)) == [Reply("good", None)]  # its httpx.Client and pool exist now
    copy = pickle.loads(pickle.dumps(client))
    assert copy.settings == client.settings
    assert copy.complete(conversations(2)) == [Reply("good", None)] * 2
    assert judge_server.counters.answered == 3


def test_it_works_from_a_worker_thread(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"])
    client = ChatClient(settings(judge_server))
    results: list[list[Reply]] = []
    worker = threading.Thread(target=lambda: results.append(client.complete(conversations(3))))
    worker.start()
    worker.join()
    assert results == [[Reply("good", None)] * 3]


def test_it_works_inside_a_running_asyncio_loop(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"])
    client = ChatClient(settings(judge_server))

    async def judge() -> list[Reply]:
        asyncio.get_running_loop()  # a loop runs in this thread while the client is called
        return client.complete(conversations(3))

    assert asyncio.run(judge()) == [Reply("good", None)] * 3


def test_calls_from_several_threads_share_the_concurrency_bound(judge_server: JudgeServer) -> None:
    judge_server.behaviour = Behaviour(labels=["good"], delay=0.2)
    client = ChatClient(settings(judge_server, concurrency=2))
    results: list[list[Reply]] = []
    workers = [threading.Thread(target=lambda: results.append(client.complete(conversations(3)))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [[Reply("good", None)] * 3] * 3
    assert judge_server.counters.max_in_flight == 2


def test_importing_the_backend_loads_neither_httpx_nor_the_training_stack() -> None:
    # `rewardc check` imports the judge kind, which may import this module: it must stay light.
    code = (
        "import sys, rewardlang.rules.judge_http\n"
        "print(sorted(m for m in ('httpx', 'torch', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------ verdicts
@pytest.mark.parametrize(
    ("text", "choices", "expected"),
    [
        ("good", ["bad", "good"], 1.0),
        ("  **Bad.**  ", ["bad", "good"], 0.0),
        ('"GOOD"!', ["bad", "good"], 1.0),
        ("`fair`", ["bad", "fair", "good"], 0.5),
        ("<think>It looks good, or is it bad?</think> bad", ["bad", "good"], 0.0),  # thinking stripped
        ("Is it good or bad? Weighing it all, the verdict: bad.", ["bad", "good"], 0.0),  # several: the last
        ("The verdict: good. It is not bad.", ["bad", "good"], 0.0),  # the last, even when it is negated
        ("It is very good", ["bad", "good", "very good"], 1.0),  # the longest label at one position
        ("Verdict: YES", ["no", "yes"], 1.0),
        ("goodness knows, badly done", ["bad", "good"], None),  # whole words only
        ("I cannot tell.", ["bad", "good"], None),  # no label
        ("<think>good</think>", ["bad", "good"], None),  # only thinking: no verdict
        ("<think>still weighing, good", ["bad", "good"], None),  # unclosed thinking: no verdict
        ("pass", ["pass"], 1.0),  # a single choice
    ],
)
def test_parse_verdict_choices(text: str, choices: list[str], expected: float | None) -> None:
    assert parse_verdict(text, choices=choices) == expected


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("8", (0.0, 10.0), 0.8),
        ("Score: 7/10", (0.0, 10.0), 0.7),
        ("7 / 10.", (0.0, 10.0), 0.7),
        ("I give it 6 out of 10", (0.0, 10.0), 0.6),
        ("First 2, then on reflection 4.", (1.0, 5.0), 0.75),  # the last number
        ("<think>maybe 1</think> **5**", (1.0, 5.0), 1.0),  # thinking stripped
        ("Rating: 2.5", (0.0, 5.0), 0.5),
        ("-1", (-1.0, 1.0), 0.0),
        ("11", (0.0, 10.0), None),  # outside the scale
        ("0", (1.0, 5.0), None),  # outside the scale
        ("version v1.5 of the answer", (0.0, 10.0), None),  # not a number of its own
        ("no score here", (0.0, 10.0), None),
    ],
)
def test_parse_verdict_scale(text: str, scale: tuple[float, float], expected: float | None) -> None:
    assert parse_verdict(text, scale=scale) == expected  # each expected value is the float of an exact quotient


def test_parse_verdict_needs_exactly_one_of_choices_and_scale() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        parse_verdict("good")
    with pytest.raises(ValueError, match="exactly one"):
        parse_verdict("good", choices=["good"], scale=(0, 1))
