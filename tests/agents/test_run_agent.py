"""run_agent end to end: real botocore serialization and parsing of scripted bytes."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any, get_type_hints
from urllib.parse import unquote

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.wire.eventstream import (
    Event,
    chunk_event,
    error_response,
    exception_event,
    model_input_trace,
    model_output_trace,
    trace_event,
)
from opx.agents import AgentSettings, RetryPolicy, render_input, run_agent
from opx.state import AgentResult

MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
AGENT = "signal-intelligence"
SETTINGS = AgentSettings("OPXSIGNAL1", "TSTALIASID")
SESSION = "exec-0001.signal-intelligence"
CONTEXT = {"incident": {"id": "inc-1", "service": "checkout", "account": "123456789012"}}

Sleeps = tuple[list[float], Callable[[float], None]]


def _answer(text: str, input_tokens: int = 100, output_tokens: int = 20) -> list[Event]:
    """What a healthy agent streams: which model, how many tokens, then the text."""
    return [
        trace_event(model_input_trace(MODEL_ID)),
        trace_event(model_output_trace(input_tokens, output_tokens)),
        chunk_event(text),
    ]


def _run(client: Any, sleeps: Sleeps, **kwargs: Any) -> AgentResult:
    return run_agent(
        AGENT,
        CONTEXT,
        client=client,
        settings=SETTINGS,
        session_id=SESSION,
        sleep=sleeps[1],
        **kwargs,
    )


def test_success_sums_usage_over_every_trace_and_reports_the_model(
    bedrock: Any, sleeps: Sleeps, valid_output: Callable[..., dict[str, Any]]
) -> None:
    client, script = bedrock
    text = "```json\n" + json.dumps(valid_output()) + "\n```"
    script.then_stream(
        [
            trace_event(model_input_trace("first-model", step="preProcessingTrace")),
            trace_event(model_output_trace(10, 1, step="preProcessingTrace")),
            trace_event(model_input_trace(MODEL_ID)),
            trace_event(model_output_trace(200, 30)),
            trace_event({"orchestrationTrace": {"rationale": {"text": "thinking"}}}),
            trace_event(model_output_trace(300, 40)),
            chunk_event(text[:10]),
            chunk_event(text[10:]),
            trace_event(model_output_trace(5, 2, step="postProcessingTrace")),
        ],
        chunk_size=17,
    )
    result = _run(client, sleeps)
    assert result == {
        "agent": AGENT,
        "status": "SUCCESS",
        "output": valid_output(),
        "error": None,
        "usage": {"input_tokens": 515, "output_tokens": 73},
        "model_id": "first-model",
        "attempts": 1,
        "responses": [
            {
                "completion": text,
                "usage": {"input_tokens": 515, "output_tokens": 73},
                "model_id": "first-model",
                "error": None,
            }
        ],
    }
    assert set(result) == set(get_type_hints(AgentResult))
    assert sleeps[0] == []


def test_request_carries_ids_session_canonical_input_and_trace(
    bedrock: Any, sleeps: Sleeps, valid_output: Callable[..., dict[str, Any]]
) -> None:
    client, script = bedrock
    script.then_stream(_answer(json.dumps(valid_output())))
    _run(client, sleeps)
    [request] = script.requests
    assert unquote(request.url).endswith(
        f"/agents/OPXSIGNAL1/agentAliases/TSTALIASID/sessions/{SESSION}/text"
    )
    assert script.bodies() == [{"inputText": render_input(AGENT, CONTEXT), "enableTrace": True}]


def test_in_stream_throttling_twice_then_success(
    bedrock: Any, sleeps: Sleeps, valid_output: Callable[..., dict[str, Any]]
) -> None:
    client, script = bedrock
    for _ in range(2):
        script.then_stream(
            [
                trace_event(model_input_trace(MODEL_ID)),
                trace_event(model_output_trace(50, 0)),
                exception_event("throttlingException", "Your request rate is too high."),
            ]
        )
    script.then_stream(_answer(json.dumps(valid_output()), 100, 20))
    result = _run(client, sleeps)
    assert result["status"] == "SUCCESS"
    assert result["attempts"] == 3
    assert sleeps[0] == [0.5, 1.0]
    assert result["usage"] == {"input_tokens": 200, "output_tokens": 20}
    assert result["model_id"] == MODEL_ID
    assert all(response.raw.closed for response in script.served[:2])
    assert [r["usage"]["input_tokens"] for r in result["responses"]] == [50, 50, 100]
    assert [r["model_id"] for r in result["responses"]] == [MODEL_ID] * 3
    assert [(r["error"] or {}).get("where") for r in result["responses"]] == [
        "stream",
        "stream",
        None,
    ]
    assert json.loads(result["responses"][-1]["completion"]) == valid_output()


def test_http_429_is_retried(
    bedrock: Any, sleeps: Sleeps, valid_output: Callable[..., dict[str, Any]]
) -> None:
    client, script = bedrock
    script.then(error_response(429, "ThrottlingException", "Rate exceeded"))
    script.then_stream(_answer(json.dumps(valid_output())))
    result = _run(client, sleeps)
    assert (result["status"], result["attempts"], sleeps[0]) == ("SUCCESS", 2, [0.5])
    assert result["usage"] == {"input_tokens": 100, "output_tokens": 20}


@pytest.mark.parametrize(
    "failure",
    [
        lambda: error_response(503, "ServiceUnavailableException", "down"),
        lambda: error_response(500, "InternalServerException", "oops"),
        lambda: error_response(424, "DependencyFailedException", "lambda failed"),
        lambda: error_response(429, "ServiceQuotaExceededException", "quota"),
        lambda: error_response(502, "BadGatewayException", "gateway"),
        lambda: [exception_event("serviceQuotaExceededException", "quota")],
        lambda: [exception_event("internalServerException", "oops")],
        lambda: [exception_event("dependencyFailedException", "lambda failed")],
        lambda: [exception_event("modelNotReadyException", "loading")],
        lambda: [exception_event("badGatewayException", "gateway")],
    ],
)
def test_each_transient_error_is_retried(
    bedrock: Any,
    sleeps: Sleeps,
    valid_output: Callable[..., dict[str, Any]],
    failure: Callable[[], Any],
) -> None:
    client, script = bedrock
    first = failure()
    if isinstance(first, list):
        script.then_stream(first)
    else:
        script.then(first)
    script.then_stream(_answer(json.dumps(valid_output())))
    result = _run(client, sleeps)
    assert (result["status"], result["attempts"], sleeps[0]) == ("SUCCESS", 2, [0.5])


def test_permanent_throttling_exhausts_retries(bedrock: Any, sleeps: Sleeps) -> None:
    client, script = bedrock
    script.then(error_response(429, "ThrottlingException", "Rate exceeded"))
    for _ in range(3):
        script.then_stream(
            [trace_event(model_output_trace(7, 1)), exception_event("throttlingException", "slow")]
        )
    result = _run(client, sleeps)
    assert result["status"] == "FAILURE"
    assert result["output"] is None
    assert result["error"] == {
        "code": "RETRIES_EXHAUSTED",
        "message": "gave up after 4 attempts; last error throttlingException: slow",
    }
    assert result["attempts"] == 4
    assert sleeps[0] == [0.5, 1.0, 2.0]
    assert result["usage"] == {"input_tokens": 21, "output_tokens": 3}
    assert script.responses == []
    # Each call is checkpointed as it was answered, so it can be answered again.
    http, *streams = result["responses"]
    assert http == {
        "completion": "",
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "model_id": None,
        "error": {
            "where": "http",
            "code": "ThrottlingException",
            "message": "Rate exceeded",
            "status": 429,
        },
    }
    assert (
        streams
        == [
            {
                "completion": "",
                "usage": {"input_tokens": 7, "output_tokens": 1},
                "model_id": None,
                "error": {
                    "where": "stream",
                    "code": "throttlingException",
                    "message": "slow",
                    "status": None,
                },
            }
        ]
        * 3
    )


def test_custom_policy_bounds_attempts_and_delays(bedrock: Any, sleeps: Sleeps) -> None:
    client, script = bedrock
    for _ in range(2):
        script.then(error_response(503, "ServiceUnavailableException", "down"))
    policy = RetryPolicy(max_attempts=2, base_delay_s=3.0, max_delay_s=1.5)
    result = _run(client, sleeps, policy=policy)
    assert result["error"] is not None
    assert result["error"]["code"] == "RETRIES_EXHAUSTED"
    assert "ServiceUnavailableException: down" in result["error"]["message"]
    assert (result["attempts"], sleeps[0]) == (2, [1.5])


@pytest.mark.parametrize(
    "denied",
    [
        lambda: error_response(403, "AccessDeniedException", "not authorized"),
        lambda: [exception_event("accessDeniedException", "not authorized")],
    ],
)
def test_access_denied_is_not_retried(
    bedrock: Any, sleeps: Sleeps, denied: Callable[[], Any]
) -> None:
    client, script = bedrock
    response = denied()
    if isinstance(response, list):
        script.then_stream(response)
    else:
        script.then(response)
    result = _run(client, sleeps)
    assert result["status"] == "FAILURE"
    assert result["error"] is not None
    assert result["error"]["code"] == "AGENT_INVOCATION_FAILED"
    assert result["error"]["message"].lower() == "accessdeniedexception: not authorized"
    assert (result["attempts"], sleeps[0]) == (1, [])


def test_malformed_output_is_a_failure_that_keeps_text_and_usage(
    bedrock: Any, sleeps: Sleeps
) -> None:
    client, script = bedrock
    script.then_stream(_answer("I think the database is slow."))
    result = _run(client, sleeps)
    assert result == {
        "agent": AGENT,
        "status": "FAILURE",
        "output": None,
        "error": {"code": "MALFORMED_OUTPUT", "message": "no JSON object found in the completion"},
        "usage": {"input_tokens": 100, "output_tokens": 20},
        "model_id": MODEL_ID,
        "attempts": 1,
        "responses": [
            {
                "completion": "I think the database is slow.",
                "usage": {"input_tokens": 100, "output_tokens": 20},
                "model_id": MODEL_ID,
                "error": None,
            }
        ],
    }


def test_contract_violation_is_a_failure(
    bedrock: Any, sleeps: Sleeps, valid_output: Callable[..., dict[str, Any]]
) -> None:
    client, script = bedrock
    script.then_stream(_answer(json.dumps(valid_output(confidence=7))))
    result = _run(client, sleeps)
    assert result["status"] == "FAILURE"
    assert result["error"] == {
        "code": "CONTRACT_VIOLATION",
        "message": "output violates the agent contract at: confidence [less_than_equal]",
    }


def test_empty_completion_reports_the_failure_trace(bedrock: Any, sleeps: Sleeps) -> None:
    client, script = bedrock
    script.then_stream(
        [
            trace_event(model_output_trace(9, 0)),
            trace_event({"failureTrace": {"failureReason": "guardrail blocked", "traceId": "t"}}),
        ]
    )
    result = _run(client, sleeps)
    assert result["error"] == {
        "code": "EMPTY_COMPLETION",
        "message": "the agent returned no text; failure trace: guardrail blocked",
    }
    assert result["usage"] == {"input_tokens": 9, "output_tokens": 0}
    assert result["model_id"] is None


def test_invalid_utf8_is_malformed(bedrock: Any, sleeps: Sleeps) -> None:
    client, script = bedrock
    script.then_stream([chunk_event(b'{"status": "\xff"}')])
    result = _run(client, sleeps)
    assert result["error"] == {
        "code": "MALFORMED_OUTPUT",
        "message": "completion is not valid UTF-8 (byte 12)",
    }
    assert result["responses"][-1]["completion"] == '{"status": "\ufffd"}'


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_endpoint_fails_fast_without_retry(
    make_client: Callable[..., Any], sleeps: Sleeps
) -> None:
    client = make_client(endpoint_url=f"http://127.0.0.1:{_closed_port()}", connect_timeout=0.5)
    started = time.monotonic()
    result = _run(client, sleeps)
    elapsed = time.monotonic() - started
    assert result["status"] == "FAILURE"
    assert result["error"] is not None
    assert result["error"]["code"] == "AGENT_UNREACHABLE"
    assert result["error"]["message"].startswith("EndpointConnectionError: ")
    assert (result["attempts"], sleeps[0]) == (1, [])
    [response] = result["responses"]
    assert response["error"] is not None
    assert (response["error"]["where"], response["error"]["code"]) == (
        "network",
        "EndpointConnectionError",
    )
    assert elapsed < 5.0


def test_default_sleep_is_time_sleep_looked_up_at_call_time(
    bedrock: Any, monkeypatch: pytest.MonkeyPatch, valid_output: Callable[..., dict[str, Any]]
) -> None:
    client, script = bedrock
    patched: list[float] = []
    monkeypatch.setattr(time, "sleep", patched.append)
    script.then(error_response(429, "ThrottlingException", "Rate exceeded"))
    script.then_stream(_answer(json.dumps(valid_output())))
    result = run_agent(AGENT, CONTEXT, client=client, settings=SETTINGS, session_id=SESSION)
    assert (result["status"], patched) == ("SUCCESS", [0.5])


def test_run_agent_never_raises(bedrock: Any) -> None:
    client, script = bedrock
    unknown = run_agent("made-up", {}, client=client, settings=SETTINGS, session_id=SESSION)
    assert unknown["error"] is not None
    assert unknown["error"]["code"] == "AGENT_INTERNAL_ERROR"
    assert unknown["attempts"] == 0
    bad_context = run_agent(
        AGENT, {"x": {1, 2}}, client=client, settings=SETTINGS, session_id=SESSION
    )
    assert bad_context["error"] is not None
    assert bad_context["error"]["code"] == "AGENT_INTERNAL_ERROR"
    assert "TypeError" in bad_context["error"]["message"]

    def broken_sleep(_: float) -> None:
        raise RuntimeError("sleep is broken")

    script.then(error_response(429, "ThrottlingException", "Rate exceeded"))
    broken = run_agent(
        AGENT, CONTEXT, client=client, settings=SETTINGS, session_id=SESSION, sleep=broken_sleep
    )
    assert broken["error"] == {
        "code": "AGENT_INTERNAL_ERROR",
        "message": "RuntimeError: sleep is broken",
    }
    assert broken["attempts"] == 1
    assert script.requests and not script.responses


def test_client_config_leaves_retries_to_run_agent(bedrock: Any, sleeps: Sleeps) -> None:
    """One HTTP request per counted attempt: botocore must not retry underneath us."""
    client, script = bedrock
    for _ in range(2):
        script.then(error_response(429, "ThrottlingException", "Rate exceeded"))
    result = _run(client, sleeps, policy=RetryPolicy(max_attempts=2))
    assert result["attempts"] == 2
    assert len(script.requests) == 2


def test_botocore_max_attempts_one_still_retries_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why bedrock_client_config uses total_max_attempts: the pitfall, pinned."""
    botocore_sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", botocore_sleeps.append)  # botocore's jittered backoff
    client = boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    requests: list[Any] = []

    def throttle(request: Any, **_: Any) -> Any:
        requests.append(request)
        return error_response(429, "ThrottlingException", "Rate exceeded")

    client.meta.events.register("before-send.bedrock-agent-runtime.InvokeAgent", throttle)
    with pytest.raises(ClientError):
        client.invoke_agent(
            agentId="OPXSIGNAL1", agentAliasId="TSTALIASID", sessionId=SESSION, inputText="{}"
        )
    assert len(requests) == 2
    assert len(botocore_sleeps) == 1


def test_admission_is_asked_before_every_attempt_and_can_stop_a_retry(
    bedrock: Any, sleeps: Sleeps, valid_output: Callable[..., dict[str, Any]]
) -> None:
    """The budget check runs before retries too, seeing what earlier attempts billed."""
    client, script = bedrock
    for _ in range(2):
        script.then_stream(
            [
                trace_event(model_input_trace(MODEL_ID)),
                trace_event(model_output_trace(50, 0)),
                exception_event("throttlingException", "Your request rate is too high."),
            ]
        )
    script.then_stream(_answer(json.dumps(valid_output()), 100, 20))
    asked: list[tuple[int, str | None]] = []

    def admit(input_text: str, usage: Any, model_id: str | None) -> str | None:
        assert input_text == render_input(AGENT, CONTEXT)
        asked.append((usage["input_tokens"], model_id))
        return "no budget left" if usage["input_tokens"] >= 100 else None

    result = _run(client, sleeps, admit=admit)

    assert asked == [(0, None), (50, MODEL_ID), (100, MODEL_ID)]
    assert result["status"] == "FAILURE"
    assert result["error"] == {"code": "BUDGET_EXCEEDED", "message": "no budget left"}
    assert result["attempts"] == 2
    assert result["usage"] == {"input_tokens": 100, "output_tokens": 0}  # billed, kept
    assert len(script.served) == 2


def test_refused_before_the_first_attempt_is_skipped_without_a_call(
    bedrock: Any, sleeps: Sleeps
) -> None:
    client, script = bedrock
    result = _run(client, sleeps, admit=lambda *_: "budget is 0")
    assert result["status"] == "SKIPPED"
    assert result["error"] == {"code": "BUDGET_EXCEEDED", "message": "budget is 0"}
    assert result["attempts"] == 0 and result["responses"] == []
    assert script.served == []
