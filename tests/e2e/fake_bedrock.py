"""A Bedrock Agent runtime answered in-process with real event-stream bytes.

The executor's own boto3 client sends a real, serialized InvokeAgent request; a
``before-send`` hook on boto3's default session answers it with encoded frames, and
botocore's real parser decodes them. Nothing is mocked above the HTTP layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from harness.wire.eventstream import (
    Event,
    chunk_event,
    encode_stream,
    error_response,
    eventstream_response,
    exception_event,
    model_input_trace,
    model_output_trace,
    trace_event,
)
from opx.agents import DEFAULT_AGENT_IDS

MODEL_ID = "anthropic.claude-3-5-sonnet-20241022-v2:0"
_URL = re.compile(r"/agents/([^/]+)/agentAliases/([^/]+)/sessions/([^/]+)/text$")
_AGENT_BY_ID = {agent_id: agent for agent, agent_id in DEFAULT_AGENT_IDS.items()}

Answer = Callable[[], AWSResponse]


def output(hypothesis: str, *recommendations: tuple[str, float], confidence: float = 0.8) -> str:
    """An agent completion that meets the output contract."""
    return json.dumps(
        {
            "status": "SUCCESS",
            "confidence": confidence,
            "hypothesis": hypothesis,
            "findings": {
                "recommendations": [
                    {"type": kind, "description": f"{kind} for {hypothesis}", "confidence": conf}
                    for kind, conf in recommendations
                ]
            },
            "citations": ["runbook://checkout-api"],
            "disclaimer": "Generated analysis; verify before acting.",
        }
    )


def completion(text: str, input_tokens: int = 1000, output_tokens: int = 200) -> Answer:
    events: list[Event] = [
        trace_event(model_input_trace(MODEL_ID)),
        trace_event(model_output_trace(input_tokens, output_tokens)),
        chunk_event(text[: len(text) // 2]),
        chunk_event(text[len(text) // 2 :]),
    ]
    frames = encode_stream(events)
    return lambda: eventstream_response(frames)


def in_stream_throttle() -> Answer:
    frames = encode_stream([exception_event("throttlingException", "Rate exceeded")])
    return lambda: eventstream_response(frames)


def billed_throttle(input_tokens: int, output_tokens: int) -> Answer:
    """A throttle that arrives after the model already ran: its tokens are billed."""
    frames = encode_stream(
        [
            trace_event(model_input_trace(MODEL_ID)),
            trace_event(model_output_trace(input_tokens, output_tokens)),
            exception_event("throttlingException", "Rate exceeded"),
        ]
    )
    return lambda: eventstream_response(frames)


def http_error(status: int, code: str) -> Answer:
    return lambda: error_response(status, code, f"{code} from the fake service")


DEFAULT_OUTPUTS: dict[str, str] = {
    "change-intelligence": output("deploy d-ABC123 introduced the 5xx", ("rollback", 0.9)),
    "historical-pattern": output("matches INC-2025-0412 bad deploy", ("rollback", 0.8)),
    "knowledge-rag": output("runbook says roll back first", ("rollback", 0.7), ("page_owner", 0.5)),
    "risk-blast-radius": output("checkout only, 12% of traffic", ("scale_out", 0.4)),
    "signal-intelligence": output("5xx began 8 minutes after deploy", ("rollback", 0.85)),
    "response-strategy": output("roll back d-ABC123, then verify", ("rollback", 0.9)),
}


@dataclass
class FakeBedrock:
    """Scripted answers per agent; the last answer repeats. Records every call."""

    scripts: dict[str, list[Answer]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def script(self, agent: str, *answers: Answer) -> None:
        self.scripts[agent] = list(answers)

    def calls_for(self, agent: str) -> int:
        return sum(1 for call in self.calls if call["agent"] == agent)

    def before_send(self, request: Any, **_: Any) -> AWSResponse:
        match = _URL.search(request.url.split("?")[0])
        assert match, f"unexpected Bedrock request {request.url}"
        agent = _AGENT_BY_ID[match.group(1)]
        body = json.loads(request.body)
        attempt = self.calls_for(agent)
        self.calls.append({"agent": agent, "session_id": match.group(3), "body": body})
        answers = self.scripts.get(agent) or [completion(DEFAULT_OUTPUTS[agent])]
        return answers[min(attempt, len(answers) - 1)]()


def hook(fake: FakeBedrock) -> None:
    """Answer Bedrock calls of clients created from now on by boto3's default session.

    ``register_first`` puts the hook ahead of moto, which would answer Bedrock with a
    404; and since moto swaps the default session when a mock starts, hook inside it.
    """
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register_first(
        "before-send.bedrock-agent-runtime.InvokeAgent", fake.before_send
    )


def install(fake: FakeBedrock) -> Iterator[FakeBedrock]:
    """Answer the executor's Bedrock calls with ``fake`` for the duration of a test."""
    from opx.lambda_handler import cold_start

    hook(fake)
    cold_start()
    try:
        yield fake
    finally:
        cold_start()
        boto3.DEFAULT_SESSION = None
