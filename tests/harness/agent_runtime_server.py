"""A fake Bedrock Agent runtime on 127.0.0.1 that speaks InvokeAgent over real HTTP.

``opx-harness record`` talks to it exactly as to AWS: boto3 finds it through
``AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME``, signs real requests, and reads real
``application/vnd.amazon.eventstream`` frames (or rest-json errors) off a socket.
Each agent's answers are scripted per attempt; the default answer quotes the
incident back -- secrets included -- in the completion *and* in the trace, the way
a real agent's trace carries its prompt.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.authoring import agent_output
from harness.wire.eventstream import (
    Event,
    chunk_event,
    encode_stream,
    exception_event,
    model_input_trace,
    model_output_trace,
    trace_event,
)

MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
_PATH = re.compile(r"^/agents/([^/]+)/agentAliases/([^/]+)/sessions/([^/]+)/text$")


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: an event stream, or an error status before any stream."""

    events: tuple[Event, ...] = ()
    status: int = 200
    code: str = ""
    message: str = ""


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


def http_error(status: int, code: str, message: str) -> Reply:
    return Reply(status=status, code=code, message=message)


@dataclass
class AgentRuntime:
    """Scripts: agent -> replies for attempts 1, 2, ...; after them, ``echo_reply``."""

    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    answer: Callable[[str, dict[str, Any]], Reply] = echo_reply
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def reply(self, path: str, body: bytes) -> tuple[Reply, str]:
        match = _PATH.match(path)
        if match is None:
            return http_error(404, "ResourceNotFoundException", f"no route {path}"), ""
        request = json.loads(body)
        request["inputText"] = json.loads(request["inputText"])
        agent = request["inputText"]["agent"]
        with _lock:
            self.requests.append({"path": path, **request})
            script = self.scripts.get(agent, [])
            reply = script.pop(0) if script else None
        return reply or self.answer(agent, request), match.group(3)


_lock = threading.Lock()


def _handler(runtime: AgentRuntime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            reply, session = runtime.reply(self.path, body)
            if reply.status != 200:
                payload = json.dumps({"message": reply.message}).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("x-amzn-errortype", f"{reply.code}:http://internal.amazon.com/")
            else:
                payload = encode_stream(reply.events)
                self.send_response(200)
                self.send_header("content-type", "application/vnd.amazon.eventstream")
                self.send_header("x-amz-bedrock-agent-session-id", session)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def serve(runtime: AgentRuntime) -> Iterator[AgentRuntime]:
    """Serve on an ephemeral port of 127.0.0.1 only."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(runtime))
    runtime.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield runtime
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
