"""harness.eventstream produces bytes botocore's own decoder and parsers accept."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from harness.wire.eventstream import (
    Event,
    chunk_event,
    encode_event,
    encode_stream,
    error_event,
    error_response,
    eventstream_response,
    exception_event,
    model_input_trace,
    model_output_trace,
    trace_event,
)

_INVOKE = {
    "agentId": "OPXSIGNAL1",
    "agentAliasId": "TSTALIASID",
    "sessionId": "exec-1.signal-intelligence",
    "inputText": "{}",
    "enableTrace": True,
}


def _decode(data: bytes) -> list[Any]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def test_frame_round_trips_through_botocore_decoder() -> None:
    event = Event(headers=((":message-type", "event"), ("x-é", "välue")), payload=b"\x00payload")
    [message] = _decode(encode_event(event))
    assert message.headers == {":message-type": "event", "x-é": "välue"}
    assert message.payload == b"\x00payload"
    assert message.prelude.total_length == len(encode_event(event))


def test_encoding_is_pure() -> None:
    events = [chunk_event("a"), trace_event(model_output_trace(1, 2)), exception_event("x", "y")]
    assert encode_stream(events) == encode_stream(list(events))
    assert len(_decode(encode_stream(events))) == 3


def test_corrupted_frame_fails_the_crc_check() -> None:
    frame = bytearray(encode_event(chunk_event("hello")))
    frame[-6] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(frame))


def test_oversized_header_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_event(Event(headers=(("x" * 256, "v"),), payload=b""))


def _invoke(client: Any, response: Any) -> dict[str, Any]:
    client.meta.events.register(
        "before-send.bedrock-agent-runtime.InvokeAgent", lambda **_: response
    )
    return client.invoke_agent(**_INVOKE)


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 16])
def test_botocore_parses_chunk_and_trace_events(
    make_client: Callable[..., Any], chunk_size: int
) -> None:
    frames = encode_stream(
        [
            trace_event(model_input_trace("anthropic.claude-v2", step="preProcessingTrace")),
            trace_event(model_output_trace(11, 3, step="preProcessingTrace")),
            chunk_event("héllo "),
            chunk_event(b"\xe2\x82"),  # first two bytes of the euro sign...
            chunk_event(b"\xac"),  # ...and its last byte in another chunk
        ]
    )
    client = make_client()
    response = _invoke(
        client, eventstream_response(frames, session_id="sid-1", chunk_size=chunk_size)
    )
    assert response["sessionId"] == "sid-1"
    assert response["contentType"] == "application/json"
    events = list(response["completion"])
    assert events[0]["trace"]["trace"] == {
        "preProcessingTrace": {
            "modelInvocationInput": {
                "foundationModel": "anthropic.claude-v2",
                "traceId": "trace-0",
                "type": "PRE_PROCESSING",
            }
        }
    }
    assert events[0]["trace"]["agentId"] == "OPXSIGNAL1"
    usage = events[1]["trace"]["trace"]["preProcessingTrace"]["modelInvocationOutput"]
    assert usage["metadata"]["usage"] == {"inputTokens": 11, "outputTokens": 3}
    text = b"".join(e["chunk"]["bytes"] for e in events[2:]).decode("utf-8")
    assert text == "héllo €"


@pytest.mark.parametrize(
    ("event", "code", "message"),
    [
        (
            exception_event("throttlingException", "Rate exceeded"),
            "throttlingException",
            "Rate exceeded",
        ),
        (exception_event("accessDeniedException", "nope"), "accessDeniedException", "nope"),
        (error_event("InternalFailure", "boom"), "InternalFailure", "boom"),
    ],
)
def test_botocore_raises_in_stream_exceptions(
    make_client: Callable[..., Any], event: Event, code: str, message: str
) -> None:
    client = make_client()
    response = _invoke(client, eventstream_response(encode_stream([chunk_event("partial"), event])))
    received: list[Any] = []
    with pytest.raises(EventStreamError) as caught:
        for item in response["completion"]:
            received.append(item)
    assert received == [{"chunk": {"bytes": b"partial"}}]
    assert caught.value.response["Error"] == {"Code": code, "Message": message}


def test_botocore_parses_http_error_responses(make_client: Callable[..., Any]) -> None:
    client = make_client()
    with pytest.raises(ClientError) as caught:
        _invoke(client, error_response(429, "ThrottlingException", "Rate exceeded"))
    error = caught.value
    assert type(error).__name__ == "ThrottlingException"
    assert error.response["Error"]["Code"] == "ThrottlingException"
    assert error.response["Error"]["Message"] == "Rate exceeded"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_chunk_payload_is_base64_json_like_the_service() -> None:
    [message] = _decode(encode_event(chunk_event("hi")))
    assert json.loads(message.payload) == {"bytes": "aGk="}
    assert message.headers[":event-type"] == "chunk"
