"""Recording live AWS answers, on the same botocore hook replays answer from.

:class:`Recorder` is a ``before-send`` handler: it sends the executor's request over
real HTTP itself, buffers the whole answer, stores it in the scenario format
(event streams decoded into chunks, traces and in-stream errors; other answers as
status, parser-relevant headers and JSON body) and hands botocore the very bytes it
received. So the live run parses exactly what AWS said, and the recording is read
back through the same :func:`harness.requests.request_params` a replay matches with.

Nothing the recorder refuses reaches AWS: only reads (and Bedrock ``InvokeAgent``)
go live; credential calls and the checkpoint table pass through untouched.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.eventstream import EventStreamBuffer, ParserError
from botocore.exceptions import HTTPClientError
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies

from harness.scenario import (
    Answer,
    BytesChunkEvent,
    ChunkEvent,
    ErrorAnswer,
    EventStreamAnswer,
    ExceptionEvent,
    HttpAnswer,
    ReturnControlEvent,
    StreamError,
    StreamEvent,
    TraceEvent,
    escape_bytes,
)
from harness.wire import ANSWERED_URL, request_body
from harness.wire.eventstream import error_response, http_response
from harness.wire.requests import operation_model, request_params

#: Operations whose names promise no side effect.
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Search", "Lookup")
#: Side-effect-free calls whose names do not say so.
READ_ONLY_CALLS = frozenset(
    {
        ("bedrock-agent-runtime", "InvokeAgent"),  # the recording's subject; bills, writes nothing
        ("cloudwatch-logs", "FilterLogEvents"),
        ("cloudwatch-logs", "StartQuery"),  # a Logs Insights query, not a write
        ("cloudwatch-logs", "StopQuery"),
    }
)
#: Credentials are resolved through the same session: never recorded, never blocked.
CREDENTIAL_SERVICES = frozenset({"sts", "sso", "sso-oidc"})
#: Protocols whose requests :func:`harness.requests.request_params` can read back.
RECORDABLE_PROTOCOLS = frozenset({"json", "rest-json"})
REFUSED_ERROR_CODE = "HarnessRecordRefused"
#: Seconds a live answer may stay silent (the executor's Bedrock read timeout).
READ_TIMEOUT_S = 120
EVENTSTREAM = "application/vnd.amazon.eventstream"


class RecordingError(Exception):
    """Something in the live run that a scenario cannot faithfully hold."""


@dataclass(frozen=True)
class Exchange:
    """One live request and the answer it got."""

    service: str
    operation: str
    request: dict[str, Any]
    answer: Answer
    latency_ms: int


def is_read_only(service: str, operation: str) -> bool:
    return (service, operation) in READ_ONLY_CALLS or operation.startswith(READ_ONLY_PREFIXES)


@dataclass
class Recorder:
    """Forwards, records and answers; ``passthrough(service, operation, params)`` names
    the calls left to botocore untouched (the checkpoint table)."""

    passthrough: Callable[[str, str, dict[str, Any]], bool]
    #: ``admit(service, operation, exchanges)`` -- the recorder's own list, growing --
    #: says why this call may not go out (a spend cap reached), or ``None``. Refused
    #: calls void the recording.
    admit: Callable[[str, str, list[Exchange]], str | None] | None = None

    def __post_init__(self) -> None:
        self.exchanges: list[Exchange] = []
        #: Problems found during the run; the recording is void if any.
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._sessions: dict[tuple[tuple[str, str], ...], URLLib3Session] = {}

    def before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)
        if service in CREDENTIAL_SERVICES:
            return None
        protocol = operation_model(service, operation).metadata["protocol"]
        if protocol not in RECORDABLE_PROTOCOLS:
            return self._refuse(
                request, f"{service}.{operation}: the {protocol} protocol cannot be recorded yet"
            )
        body = request_body(request)
        params = request_params(
            service, operation, request.method, request.url, request.headers, body
        )
        if self.passthrough(service, operation, params):
            request.body = body
            return None
        if not is_read_only(service, operation):
            return self._refuse(
                request, f"{service}.{operation}: not a read; nothing is written to AWS"
            )
        if self.admit is not None:
            with self._lock:
                refusal = self.admit(service, operation, self.exchanges)
            if refusal is not None:
                return self._refuse(request, f"{service}.{operation}: {refusal}")
        request.body = body
        started = time.monotonic()
        try:
            live = self._session(request.url).send(request)
        except HTTPClientError as exc:
            self._problem(f"{service}.{operation}: no answer to record ({exc})")
            raise
        latency_ms = round((time.monotonic() - started) * 1000)
        request.url = ANSWERED_URL  # answered: keep the embedded moto from running it too
        data = live.raw.read() if request.stream_output else live.content
        headers = {name.lower(): value for name, value in live.headers.items()}
        try:
            answer = answer_from_http(service, operation, live.status_code, headers, data)
        except RecordingError as exc:
            self._problem(f"{service}.{operation}: {exc}")
        else:
            with self._lock:
                self.exchanges.append(Exchange(service, operation, params, answer, latency_ms))
        return http_response(live.status_code, headers, data, url=request.url)

    def _session(self, url: str) -> URLLib3Session:
        """An HTTP session honouring what botocore's own would: environment proxies,
        ``AWS_CA_BUNDLE``, and a read timeout as long as the executor's Bedrock client
        allows (agents can be silent for a while mid-stream)."""
        proxies = get_environ_proxies(url)
        key = tuple(sorted(proxies.items()))
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = URLLib3Session(
                    verify=os.environ.get("AWS_CA_BUNDLE") or True,
                    proxies=proxies,
                    timeout=READ_TIMEOUT_S,
                )
            return self._sessions[key]

    def _problem(self, message: str) -> None:
        with self._lock:
            self.problems.append(message)

    def _refuse(self, request: Any, message: str) -> AWSResponse:
        self._problem(f"refused {message}")
        request.url = ANSWERED_URL
        return error_response(403, REFUSED_ERROR_CODE, message)


# --------------------------------------------------------------------------- answers


def answer_from_http(
    service: str, operation: str, status: int, headers: Mapping[str, str], data: bytes
) -> Answer:
    """The scenario form of one buffered answer (``headers`` lower-cased)."""
    content_type = headers.get("content-type", "").split(";")[0].strip()
    if status == 200 and content_type == EVENTSTREAM:
        return EventStreamAnswer(events=decode_stream(data))
    if status >= 400 and service == "bedrock-agent-runtime":
        return _bedrock_error(status, headers, data)
    kept = {name: headers[name] for name in sorted(_parser_headers(service, operation, headers))}
    if not data:
        return HttpAnswer(status=status, headers=kept, body=None)
    try:
        return HttpAnswer(status=status, headers=kept, body=json.loads(data))
    except ValueError:
        pass
    try:
        return HttpAnswer(status=status, headers=kept, encoding="text", body=data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordingError("a binary answer cannot be stored in a scenario yet") from None


def _parser_headers(service: str, operation: str, headers: Mapping[str, str]) -> set[str]:
    """Headers botocore's parsers read: content type, error type, and the operation's
    output members bound to headers. The rest (dates, request ids) is noise."""
    wanted = {"content-type", "x-amzn-errortype", "x-amzn-query-error"}
    output = operation_model(service, operation).output_shape
    for member in output.members.values() if output is not None else ():
        if member.serialization.get("location") == "header":
            wanted.add(member.serialization.get("name", "").lower())
        elif member.serialization.get("location") == "headers":
            prefix = member.serialization.get("name", "").lower()
            wanted.update(name for name in headers if prefix and name.startswith(prefix))
    return wanted & set(headers)


def _bedrock_error(status: int, headers: Mapping[str, str], data: bytes) -> ErrorAnswer:
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = (
        headers.get("x-amzn-errortype", "").split(":")[0]
        or str(body.get("__type") or body.get("code") or "").split("#")[-1]
    )
    message = body.get("message") or body.get("Message") or ""
    return ErrorAnswer(status=status, code=code or f"HTTP{status}", message=str(message))


def decode_stream(data: bytes) -> list[StreamEvent]:
    """Frames -> scenario stream events.

    The completion is stored as *one* chunk, where its first chunk was: the executor
    joins every chunk's bytes and gives boundaries no meaning, while a boundary
    splitting a secret would hide it from the scrubber (half a token matches no
    pattern). Decoding the joined bytes also keeps a multi-byte character that
    straddled two chunks whole. Joined bytes that are not UTF-8 are stored as they
    came (:class:`BytesChunkEvent`): the executor's answer to them is what the
    scenario is about.
    """
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    events: list[StreamEvent] = []
    completion: int | None = None
    pieces: list[bytes] = []
    try:
        for message in buffer:
            headers = message.headers
            kind = headers.get(":message-type")
            event_type = headers.get(":event-type")
            if kind == "exception":
                payload = json.loads(message.payload or b"{}")
                error = StreamError(
                    type=headers[":exception-type"], message=str(payload.get("message", ""))
                )
                events.append(ExceptionEvent(exception=error))
            elif kind == "error":
                error = StreamError(
                    type=headers[":error-code"], message=headers.get(":error-message", "")
                )
                events.append(ExceptionEvent(exception=error))
            elif event_type == "chunk":
                if completion is None:
                    completion = len(events)
                    events.append(ChunkEvent(chunk=""))
                pieces.append(base64.b64decode(json.loads(message.payload)["bytes"]))
            elif event_type == "trace":
                events.append(TraceEvent(trace=json.loads(message.payload)["trace"]))
            elif event_type == "returnControl":
                payload = json.loads(message.payload)
                if not isinstance(payload, dict):
                    raise ValueError("a returnControl payload is a JSON object")
                events.append(ReturnControlEvent(return_control=payload))
            else:
                raise RecordingError(
                    f"InvokeAgent event {event_type!r} cannot be stored in a scenario yet"
                )
    except (KeyError, ValueError, ParserError) as exc:
        raise RecordingError(f"malformed event stream ({type(exc).__name__}: {exc})") from None
    if completion is not None:
        events[completion] = _completion(b"".join(pieces))
    return events


def _completion(joined: bytes) -> ChunkEvent | BytesChunkEvent:
    try:
        return ChunkEvent(chunk=joined.decode("utf-8"))
    except UnicodeDecodeError:
        return BytesChunkEvent(chunk_bytes=escape_bytes(joined))


__all__ = [
    "READ_ONLY_CALLS",
    "REFUSED_ERROR_CODE",
    "Exchange",
    "Recorder",
    "RecordingError",
    "answer_from_http",
    "decode_stream",
    "is_read_only",
]
