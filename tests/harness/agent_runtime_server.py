"""A scripted Bedrock Agent runtime on 127.0.0.1 that speaks InvokeAgent over real HTTP.

``opx-harness record`` talks to it exactly as to AWS: boto3 finds it through
``AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME``, signs real requests, and reads real
``application/vnd.amazon.eventstream`` frames (or rest-json errors) off a socket.
The HTTP side is the harness's own runtime server (:mod:`harness.serve`, what
``opx-harness serve`` runs); what differs is who answers: each agent's answers are
scripted per attempt, and the default answer quotes the incident back -- secrets
included -- in the completion *and* in the trace, the way a real agent's trace
carries its prompt (the scrubbing tests need live answers that leak).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from harness.authoring import agent_output
from harness.serve import HttpReply, InvokeAgentCall, RuntimeServer, error_reply, stream_reply
from harness.wire.eventstream import (
    Event,
    chunk_event,
    exception_event,
    model_input_trace,
    model_output_trace,
    return_control_event,
    trace_event,
)

MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: an event stream, or an error status before any stream."""

    events: tuple[Event, ...] = ()
    status: int = 200
    code: str = ""
    message: str = ""

    def http(self, session_id: str) -> HttpReply:
        """The reply on the wire, rendered by the harness's runtime server."""
        if self.status != 200:
            return error_reply(self.status, self.code, self.message)
        return stream_reply(self.events, session_id)


def echo_reply(agent: str, request: dict[str, Any]) -> Reply:
    """A contract-meeting answer that repeats the incident title and evidence."""
    context = request["inputText"]["context"]
    incident = context.get("incident", context)
    quoted = json.dumps(incident.get("evidence_bundle", {}), sort_keys=True)[:600]
    output = agent_output(
        f"{agent}: {incident.get('title', '')} -- evidence {quoted}",
        [("rollback", f"Roll back; page {incident.get('service', '')}", 0.8)],
    )
    prompt_trace = {
        "orchestrationTrace": {
            "modelInvocationInput": {
                "foundationModel": MODEL,
                "text": json.dumps(incident, sort_keys=True)[:2000],
                "traceId": "t-1",
                "type": "ORCHESTRATION",
            }
        }
    }
    text = json.dumps(output)
    middle = len(text) // 2
    return Reply(
        events=(
            trace_event(prompt_trace),
            trace_event(model_output_trace(1500, 320)),
            chunk_event(text[:middle]),
            chunk_event(text[middle:]),
        )
    )


def throttled_in_stream() -> Reply:
    return Reply(
        events=(
            trace_event(model_input_trace(MODEL)),
            trace_event(model_output_trace(40, 0)),
            exception_event("throttlingException", "Rate exceeded"),
        )
    )


#: What an agent with a RETURN_CONTROL action group asks its caller to run.
CONTROL = {
    "invocationId": "5d0c2b7e-1f3a-4c89-9e6d-2b7a4f0c8e13",
    "invocationInputs": [
        {
            "functionInvocationInput": {
                "actionGroup": "blast-radius-lookup",
                "actionInvocationType": "RESULT",
                "agentId": "OPXRISK001",
                "function": "list_dependents",
                "parameters": [{"name": "service", "type": "string", "value": "checkout"}],
            }
        }
    ],
}
#: A contract answer encoded in Latin-1: not UTF-8 at its e-acute.
LATIN1 = json.dumps(
    agent_output("The entrée schema changed", [("rollback", "Roll back", 0.8)]),
    ensure_ascii=False,
).encode("latin-1")


def return_control_reply() -> Reply:
    """Usage traces, then a ``returnControl`` event and no text."""
    return Reply(
        events=(
            trace_event(model_input_trace(MODEL)),
            trace_event(model_output_trace(1100, 60)),
            return_control_event(CONTROL),
        )
    )


def latin1_reply() -> Reply:
    """:data:`LATIN1`, cut in two chunks right after its bad byte."""
    cut = LATIN1.index(b"\xe9") + 1
    return Reply(
        events=(
            trace_event(model_input_trace(MODEL)),
            trace_event(model_output_trace(1200, 250)),
            chunk_event(LATIN1[:cut]),
            chunk_event(LATIN1[cut:]),
        )
    )


def http_error(status: int, code: str, message: str) -> Reply:
    return Reply(status=status, code=code, message=message)


@dataclass
class AgentRuntime:
    """Scripts: agent -> replies for attempts 1, 2, ...; after them, ``echo_reply``.

    A :data:`harness.serve.Responder`: every request is kept (``inputText`` decoded)."""

    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    answer: Callable[[str, dict[str, Any]], Reply] = echo_reply
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, call: InvokeAgentCall) -> HttpReply:
        request = call.body
        agent = call.agent or ""
        with self.lock:
            self.requests.append({"path": call.path, **request})
            script = self.scripts.get(agent, [])
            reply = script.pop(0) if script else None
        return (reply or self.answer(agent, request)).http(call.session_id)


@contextmanager
def serve(runtime: AgentRuntime) -> Iterator[AgentRuntime]:
    """Serve on an ephemeral port of 127.0.0.1 only."""
    with RuntimeServer(runtime) as server:
        runtime.url = server.url
        yield runtime
