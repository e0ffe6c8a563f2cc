"""The recorder's pure parts: wire answers into scenario answers.

Frames are produced by the harness encoder and read back through botocore's own
``EventStreamBuffer``. (Round trips through a live server and back through the
replay transport are in ``test_record.py``.)
"""

from __future__ import annotations

import json

import pytest

from harness.capture.recorder import RecordingError, answer_from_http, decode_stream, is_read_only
from harness.scenario import (
    ChunkEvent,
    ErrorAnswer,
    ExceptionEvent,
    HttpAnswer,
    TraceEvent,
)
from harness.wire.eventstream import (
    chunk_event,
    encode_stream,
    error_event,
    exception_event,
    model_output_trace,
    trace_event,
)


def test_completion_is_one_chunk_and_split_characters_survive() -> None:
    text = "verdict: café ☕ rollback".encode()
    cut = text.index("☕".encode()) + 1  # inside the three-byte character
    frames = encode_stream(
        [
            trace_event(model_output_trace(10, 2)),
            chunk_event(text[:cut]),
            trace_event(model_output_trace(1, 1, step="postProcessingTrace")),
            chunk_event(text[cut:]),
        ]
    )
    events = decode_stream(frames)
    assert [type(e).__name__ for e in events] == ["TraceEvent", "ChunkEvent", "TraceEvent"]
    assert events[1] == ChunkEvent(chunk="verdict: café ☕ rollback")
    assert isinstance(events[0], TraceEvent)
    assert events[0].trace == model_output_trace(10, 2)


def test_in_stream_exceptions_and_errors_are_kept() -> None:
    events = decode_stream(
        encode_stream(
            [
                exception_event("throttlingException", "slow down"),
                error_event("InternalFailure", "boom"),
            ]
        )
    )
    assert [e.exception.model_dump() for e in events if isinstance(e, ExceptionEvent)] == [
        {"type": "throttlingException", "message": "slow down"},
        {"type": "InternalFailure", "message": "boom"},
    ]


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (encode_stream([chunk_event("ok")])[:-1] + b"\x00", "malformed event stream"),
    ],
)
def test_unstorable_streams_are_named(frames: bytes, message: str) -> None:
    with pytest.raises(RecordingError, match=message):
        decode_stream(frames)


def test_an_unknown_event_type_is_refused_not_dropped() -> None:
    from harness.wire.eventstream import Event

    files = Event(headers=((":event-type", "files"), (":message-type", "event")), payload=b"{}")
    with pytest.raises(RecordingError, match="'files' cannot be stored"):
        decode_stream(encode_stream([files]))


def test_bedrock_errors_become_error_answers() -> None:
    answer = answer_from_http(
        "bedrock-agent-runtime",
        "InvokeAgent",
        429,
        {"content-type": "application/json", "x-amzn-errortype": "ThrottlingException:http://x/"},
        json.dumps({"message": "Rate exceeded"}).encode(),
    )
    assert answer == ErrorAnswer(status=429, code="ThrottlingException", message="Rate exceeded")


def test_other_answers_keep_status_parser_headers_and_readable_body() -> None:
    headers = {
        "content-type": "application/x-amz-json-1.1",
        "date": "Sun, 29 Nov 2026 04:00:00 GMT",
        "x-amzn-requestid": "5e0c8a3e-0000-0000-0000-000000000000",
    }
    body = {"logGroups": [{"logGroupName": "/opx/a", "storedBytes": 12}]}
    answer = answer_from_http(
        "cloudwatch-logs", "DescribeLogGroups", 200, headers, json.dumps(body).encode()
    )
    assert answer == HttpAnswer(
        status=200, headers={"content-type": "application/x-amz-json-1.1"}, body=body
    )
    text = answer_from_http("cloudwatch-logs", "DescribeLogGroups", 500, headers, b"<html/>")
    assert isinstance(text, HttpAnswer)
    assert (text.encoding, text.body, text.status) == ("text", "<html/>", 500)
    with pytest.raises(RecordingError, match="binary"):
        answer_from_http("cloudwatch-logs", "DescribeLogGroups", 200, headers, b"\xff\x00")


@pytest.mark.parametrize(
    ("service", "operation", "allowed"),
    [
        ("bedrock-agent-runtime", "InvokeAgent", True),
        ("cloudwatch", "GetMetricData", True),
        ("cloudwatch-logs", "StartQuery", True),
        ("xray", "GetTraceSummaries", True),
        ("dynamodb", "Query", True),
        ("dynamodb", "PutItem", False),
        ("cloudwatch-logs", "PutRetentionPolicy", False),
        ("bedrock-agent-runtime", "DeleteAgentMemory", False),
        ("cloudwatch", "PutMetricData", False),
    ],
)
def test_only_reads_go_live(service: str, operation: str, allowed: bool) -> None:
    assert is_read_only(service, operation) is allowed
