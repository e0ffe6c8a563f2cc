"""A pure encoder for AWS event-stream frames, shaped for Bedrock InvokeAgent.

Replays must exercise botocore's *real* response parsing, so instead of faking a
parsed ``completion`` iterator we produce the exact bytes the service sends
(``application/vnd.amazon.eventstream``) and hand them to botocore through a
``before-send`` handler. That way framing, CRC checks, base64 chunk decoding, the
trace union and in-stream exceptions all go through the code that runs in Lambda.

Frame layout (big-endian), as decoded by ``botocore.eventstream.EventStreamBuffer``::

    total_length:u32  headers_length:u32  prelude_crc:u32 (CRC32 of the first 8 bytes)
    headers           (name_len:u8 name  type:u8=7  value_len:u16 value)*
    payload
    message_crc:u32   (CRC32 of everything before it, prelude included)

Everything here is a pure function of its arguments: same events, same bytes.
"""

from __future__ import annotations

import base64
import json
import struct
from binascii import crc32
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

_HEADER_TYPE_STRING = 7
_PRELUDE = struct.Struct("!II")
_UINT32 = struct.Struct("!I")

#: Placeholder URL on synthesized responses; botocore does not read it.
DEFAULT_URL = "https://bedrock-agent-runtime.us-east-1.amazonaws.com/"
DEFAULT_AGENT_ID = "OPXSIGNAL1"
DEFAULT_ALIAS_ID = "TSTALIASID"
DEFAULT_SESSION_ID = "replay-session"
DEFAULT_AGENT_VERSION = "DRAFT"
#: ``modelInvocationInput.type`` the service reports for each Trace union member.
_STEP_TYPES = {
    "orchestrationTrace": "ORCHESTRATION",
    "postProcessingTrace": "POST_PROCESSING",
    "preProcessingTrace": "PRE_PROCESSING",
    "routingClassifierTrace": "ROUTING_CLASSIFIER",
}


@dataclass(frozen=True)
class Event:
    """One event-stream message: ordered string headers and a raw payload."""

    headers: tuple[tuple[str, str], ...]
    payload: bytes


def _encode_headers(headers: Iterable[tuple[str, str]]) -> bytes:
    out = bytearray()
    for name, value in headers:
        name_bytes = name.encode("utf-8")
        value_bytes = value.encode("utf-8")
        if len(name_bytes) > 0xFF or len(value_bytes) > 0xFFFF:
            raise ValueError(f"header {name!r} too long for the event-stream format")
        out += bytes([len(name_bytes)]) + name_bytes
        out += bytes([_HEADER_TYPE_STRING]) + struct.pack("!H", len(value_bytes)) + value_bytes
    return bytes(out)


def encode_event(event: Event) -> bytes:
    """The wire frame of one event."""
    headers = _encode_headers(event.headers)
    total_length = _PRELUDE.size + 4 + len(headers) + len(event.payload) + 4
    prelude = _PRELUDE.pack(total_length, len(headers))
    prelude += _UINT32.pack(crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + event.payload
    return message + _UINT32.pack(crc32(message) & 0xFFFFFFFF)


def encode_stream(events: Iterable[Event]) -> bytes:
    """Concatenated frames, i.e. a whole response body."""
    return b"".join(encode_event(event) for event in events)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _event(event_type: str, body: Mapping[str, Any]) -> Event:
    return Event(
        headers=(
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ),
        payload=_json_bytes(body),
    )


def chunk_event(text: str | bytes) -> Event:
    """A ``chunk`` event; the service sends the blob base64-encoded inside JSON.

    Accepts bytes so a test can split a multi-byte character across chunks.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    return _event("chunk", {"bytes": base64.b64encode(data).decode("ascii")})


def return_control_event(payload: Mapping[str, Any]) -> Event:
    """A ``returnControl`` event: the ReturnControlPayload (``invocationId``,
    ``invocationInputs``), the whole JSON body as botocore's model reads it (the
    shape has no ``eventpayload`` member)."""
    return _event("returnControl", payload)


def trace_event(
    trace: Mapping[str, Any],
    *,
    agent_id: str = DEFAULT_AGENT_ID,
    agent_alias_id: str = DEFAULT_ALIAS_ID,
    session_id: str = DEFAULT_SESSION_ID,
    agent_version: str = DEFAULT_AGENT_VERSION,
) -> Event:
    """A ``trace`` event: a TracePart around ``trace`` (the Trace union, e.g.
    ``{"orchestrationTrace": {"modelInvocationOutput": {...}}}``)."""
    return _event(
        "trace",
        {
            "agentAliasId": agent_alias_id,
            "agentId": agent_id,
            "agentVersion": agent_version,
            "sessionId": session_id,
            "trace": dict(trace),
        },
    )


def model_input_trace(
    foundation_model: str, *, step: str = "orchestrationTrace", trace_id: str = "trace-0"
) -> dict[str, Any]:
    """Trace union naming the model a step invoked (how opx learns the model id)."""
    return {
        step: {
            "modelInvocationInput": {
                "foundationModel": foundation_model,
                "traceId": trace_id,
                "type": _STEP_TYPES.get(step, "ORCHESTRATION"),
            }
        }
    }


def model_output_trace(
    input_tokens: int,
    output_tokens: int,
    *,
    step: str = "orchestrationTrace",
    trace_id: str = "trace-0",
) -> dict[str, Any]:
    """Trace union reporting one model invocation's token usage."""
    return {
        step: {
            "modelInvocationOutput": {
                "metadata": {"usage": {"inputTokens": input_tokens, "outputTokens": output_tokens}},
                "traceId": trace_id,
            }
        }
    }


def exception_event(member_name: str, message: str) -> Event:
    """A modeled in-stream exception (``throttlingException``, ...).

    botocore raises it as ``EventStreamError`` with ``Error.Code == member_name``
    while the caller iterates ``completion``.
    """
    return Event(
        headers=(
            (":exception-type", member_name),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ),
        payload=_json_bytes({"message": message}),
    )


def error_event(code: str, message: str) -> Event:
    """An unmodeled in-stream error (``:message-type: error``), raised the same way."""
    return Event(
        headers=(
            (":error-code", code),
            (":error-message", message),
            (":message-type", "error"),
        ),
        payload=b"",
    )


class ReplayBody:
    """The minimal urllib3-response surface botocore reads a body through.

    ``stream()`` yields fixed-size slices so frames straddle reads exactly as they
    can on a socket, exercising botocore's reassembly.
    """

    def __init__(self, data: bytes, chunk_size: int = 1024) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self._data = data
        self._chunk_size = chunk_size
        self._position = 0
        self.closed = False

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        size = amt or self._chunk_size
        while self._position < len(self._data):
            piece = self._data[self._position : self._position + size]
            self._position += len(piece)
            yield piece

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        end = len(self._data) if amt is None else self._position + amt
        piece = self._data[self._position : end]
        self._position += len(piece)
        return piece

    def close(self) -> None:
        self.closed = True


def eventstream_response(
    frames: bytes,
    *,
    session_id: str | None = None,
    chunk_size: int = 1024,
    url: str = DEFAULT_URL,
) -> AWSResponse:
    """A 200 InvokeAgent response whose body is ``frames``, for a before-send handler."""
    headers = {
        "content-type": "application/vnd.amazon.eventstream",
        "x-amzn-bedrock-agent-content-type": "application/json",
        "x-amzn-requestid": "00000000-0000-0000-0000-000000000000",
    }
    if session_id is not None:
        headers["x-amz-bedrock-agent-session-id"] = session_id
    return AWSResponse(url, 200, headers, ReplayBody(frames, chunk_size))


def http_response(
    status: int, headers: Mapping[str, str], body: bytes, *, url: str = DEFAULT_URL
) -> AWSResponse:
    """Any buffered answer: what the recorder hands botocore and what replay renders."""
    return AWSResponse(url, status, {**headers, "content-length": str(len(body))}, ReplayBody(body))


def error_response(status: int, code: str, message: str, *, url: str = DEFAULT_URL) -> AWSResponse:
    """An AWS error (e.g. 429 ThrottlingException) as rest-json and json services return it."""
    headers = {
        "content-type": "application/json",
        "x-amzn-errortype": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        "x-amzn-requestid": "00000000-0000-0000-0000-000000000000",
    }
    # ``__type`` too: the json protocol (Logs, DynamoDB) reads the code from the body.
    body = _json_bytes({"__type": code, "message": message})
    return http_response(status, headers, body, url=url)
