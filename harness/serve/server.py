"""A Bedrock Agent runtime on 127.0.0.1: InvokeAgent over real HTTP.

The executor and ``opx-harness record`` find Bedrock the way production does, through
``AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME``; pointing that at this server lets either
run on a machine with no AWS account while botocore still signs real requests and
parses real ``application/vnd.amazon.eventstream`` frames (or rest-json errors) off
a socket. This module is only the HTTP side: who answers what is a
:data:`Responder` (a scenario's answers: :mod:`harness.serve.answers`; the tests'
scripted stand-in: ``tests/harness/agent_runtime_server.py``). The bytes come from
:mod:`harness.wire.eventstream`, the renderer replays use, so a served answer is the
answer a replay would have handed botocore.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from botocore.awsrequest import AWSResponse

from harness.wire import agent_of
from harness.wire.eventstream import Event, encode_stream, error_response, eventstream_response

#: The only interface the server listens on: it serves recordings, not a network.
HOST = "127.0.0.1"
#: ``InvokeAgent``'s REST path (``agentId``, ``agentAliasId``, ``sessionId``).
INVOKE_AGENT_PATH = re.compile(r"^/agents/([^/]+)/agentAliases/([^/]+)/sessions/([^/]+)/text$")
#: What a client needs besides the endpoint: botocore signs every request, so it
#: wants credentials and a region even though nothing here checks them.
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"


@dataclass(frozen=True)
class InvokeAgentCall:
    """One ``InvokeAgent`` request as it arrived: the ids in its path and its JSON
    body, ``inputText`` decoded when it holds JSON (opx sends its prompt as JSON)."""

    path: str
    agent_id: str
    agent_alias_id: str
    session_id: str
    body: dict[str, Any]

    @property
    def agent(self) -> str | None:
        """The opx agent the prompt names (ids change between accounts; names do not)."""
        return agent_of(self.body)

    @property
    def params(self) -> dict[str, Any]:
        """The call as botocore's parameters: what a :mod:`harness.wire` renderer reads."""
        return {
            **self.body,
            "agentId": self.agent_id,
            "agentAliasId": self.agent_alias_id,
            "sessionId": self.session_id,
        }


@dataclass(frozen=True)
class HttpReply:
    """A whole HTTP answer, buffered: status, headers and body bytes."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def from_response(cls, response: AWSResponse) -> HttpReply:
        """The reply carrying what a :mod:`harness.wire` renderer produced."""
        headers = {
            k.lower(): v for k, v in response.headers.items() if k.lower() != "content-length"
        }
        return cls(response.status_code, headers, response.content)


def stream_reply(events: Iterable[Event], session_id: str) -> HttpReply:
    """A 200 event stream of ``events``, as Bedrock streams an agent's answer."""
    frames = encode_stream(events)
    return HttpReply.from_response(eventstream_response(frames, session_id=session_id))


def error_reply(status: int, code: str, message: str) -> HttpReply:
    """An AWS error before any stream, in the rest-json shape botocore parses."""
    return HttpReply.from_response(error_response(status, code, message))


#: Answers one call; called from the server's threads, so it must be thread-safe.
Responder = Callable[[InvokeAgentCall], HttpReply]


class RuntimeServer:
    """``responder`` served on ``127.0.0.1:port`` (0: a free port) in a daemon thread.

    ``with RuntimeServer(responder) as server:`` serves until the block ends;
    :meth:`serve_forever` serves in the calling thread (the command line). The
    socket is bound on construction, so :attr:`url` is known before serving starts.
    """

    def __init__(self, responder: Responder, port: int = 0) -> None:
        self.responder = responder
        self._server = ThreadingHTTPServer((HOST, port), _handler(responder))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def environment(self) -> dict[str, str]:
        """What to export so boto3 (the executor, ``record``) talks to this server."""
        return environment(self.url)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` or an exception (Ctrl-C)."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> RuntimeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def environment(url: str) -> dict[str, str]:
    """The environment pointing boto3's Bedrock Agent runtime client at ``url``."""
    return {ENDPOINT_VARIABLE: url, **DUMMY_AWS_ENV}


def read_call(path: str, body: bytes) -> InvokeAgentCall | HttpReply:
    """The call ``path`` and ``body`` make, or the error reply Bedrock would give."""
    match = INVOKE_AGENT_PATH.match(path.split("?", 1)[0])
    if match is None:
        return error_reply(404, "ResourceNotFoundException", f"no InvokeAgent route {path}")
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return error_reply(400, "ValidationException", "the request body is not JSON")
    if not isinstance(request, dict):
        return error_reply(400, "ValidationException", "the request body is not a JSON object")
    text = request.get("inputText")
    if isinstance(text, str):
        # Plain text names no opx agent; the responder says so.
        with contextlib.suppress(ValueError):
            request["inputText"] = json.loads(text)
    agent_id, alias_id, session_id = match.groups()
    return InvokeAgentCall(path, agent_id, alias_id, session_id, request)


def _handler(responder: Responder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            call = read_call(self.path, body)
            if isinstance(call, HttpReply):
                reply = call
            else:
                try:
                    reply = responder(call)
                except Exception as exc:  # a responder bug: say so to the client
                    message = f"{type(exc).__name__}: {exc}"
                    reply = error_reply(500, "InternalServerException", message)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # a client's retries are not the user's business

    return Handler


__all__ = [
    "DUMMY_AWS_ENV",
    "ENDPOINT_VARIABLE",
    "HOST",
    "INVOKE_AGENT_PATH",
    "HttpReply",
    "InvokeAgentCall",
    "Responder",
    "RuntimeServer",
    "environment",
    "error_reply",
    "read_call",
    "stream_reply",
]
