"""Bedrock answers a scenario could not hold before: ``returnControl`` events, a
completion whose bytes are not UTF-8, and a stream fault that billed tokens.

Each is stored, rendered as real event-stream frames, read back by the recorder to
the same events, authored from a spec, and seen by the gate (scenario
``agent-stream-shapes``) -- the self-test at the end breaks the executor's
return-control handling and watches the gate fail naming that scenario only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.capture.recorder import decode_stream
from harness.replayer import replay
from harness.scenario import (
    BytesChunkEvent,
    ChunkEvent,
    EventStreamAnswer,
    ExceptionEvent,
    Fault,
    Interaction,
    ReturnControlEvent,
    StreamError,
    escape_bytes,
    load_scenario,
    unescape_bytes,
)
from harness.specs.model import AgentSpec, FaultSpec
from harness.wire import usage_traces
from harness.wire.answers import fault_renderer, prepare_answers
from harness.wire.eventstream import chunk_event, encode_stream, return_control_event
from opx.agents.stream import StreamCollector
from tests.harness.gate_support import ROOT, bundled_project, gate

SCENARIO = "agent-stream-shapes"
CONTROL = {
    "invocationId": "inv-1",
    "invocationInputs": [
        {
            "functionInvocationInput": {
                "actionGroup": "lookup",
                "actionInvocationType": "RESULT",
                "agentId": "OPXRISK001",
                "function": "list_dependents",
                "parameters": [{"name": "service", "type": "string", "value": "menu"}],
            }
        }
    ],
}
PARAMS = {"agentId": "A1", "agentAliasId": "AL1", "sessionId": "s-1"}


# ----------------------------------------------------------------- the escaped form


@pytest.mark.parametrize(
    "data",
    [b"caf\xe9", "café ☕".encode(), b"\\", b"\\xe9 is text", b"\xff\xfe", b"", b"a\\\\b\x80"],
)
def test_escaped_bytes_round_trip(data: bytes) -> None:
    assert unescape_bytes(escape_bytes(data)) == data


def test_escaped_bytes_read_as_text_around_the_bad_byte() -> None:
    assert escape_bytes("entrée ".encode("latin-1") + "☕".encode()) == "entr\\xe9e ☕"


@pytest.mark.parametrize("text", ["a\\q", "a\\x4", "end\\", "\\xE9"])
def test_a_broken_escape_is_named(text: str) -> None:
    with pytest.raises(ValueError, match="starts neither"):
        unescape_bytes(text)
    with pytest.raises(ValidationError, match="chunk_bytes"):
        BytesChunkEvent(chunk_bytes=text)


# ----------------------------------------------------------------- the model


def test_events_are_told_apart_by_their_one_key() -> None:
    answer = EventStreamAnswer.model_validate(
        {"events": [{"return_control": CONTROL}, {"chunk_bytes": "caf\\xe9"}, {"chunk": "ok"}]}
    )
    assert [type(e) for e in answer.events] == [ReturnControlEvent, BytesChunkEvent, ChunkEvent]
    with pytest.raises(ValidationError):
        EventStreamAnswer.model_validate({"events": [{"chunk": "a", "chunk_bytes": "b"}]})


def test_a_fault_without_traces_keeps_its_old_form() -> None:
    assert "traces" not in Fault(error="throttlingException", where="stream").model_dump()
    billed = Fault(error="throttlingException", where="stream", traces=usage_traces("m", 5, 1))
    assert Fault.model_validate(billed.model_dump(mode="json")) == billed
    with pytest.raises(ValidationError, match="only a stream fault"):
        Fault(error="ThrottlingException", where="http", traces=usage_traces("m", 5, 1))


# ----------------------------------------------------------------- wire and recorder


def _body(answer: EventStreamAnswer) -> bytes:
    interaction = Interaction(
        service="bedrock-agent-runtime", operation="InvokeAgent", request={}, response=answer
    )
    response = prepare_answers(0, interaction)[-1].render(PARAMS)
    data: bytes = response.raw.read()
    return data


def test_return_control_and_raw_bytes_replay_and_record_to_the_same_events() -> None:
    events: list[Any] = [
        *usage_traces("m", 900, 40),
        ReturnControlEvent(return_control=CONTROL),
        BytesChunkEvent(chunk_bytes=escape_bytes(b'{"h": "entr\xe9e"}')),
    ]
    assert decode_stream(_body(EventStreamAnswer(events=events))) == [
        *usage_traces("m", 900, 40),
        ReturnControlEvent(return_control=CONTROL),
        BytesChunkEvent(chunk_bytes='{"h": "entr\\xe9e"}'),
    ]


def test_the_recorder_joins_chunks_before_deciding_they_are_not_text() -> None:
    text = "ok ☕".encode()
    split = encode_stream([chunk_event(text[:4]), chunk_event(text[4:])])
    assert decode_stream(split) == [ChunkEvent(chunk="ok ☕")]
    bad = encode_stream([chunk_event(b"caf"), chunk_event(b"\xe9!"), return_control_event({})])
    assert decode_stream(bad) == [
        BytesChunkEvent(chunk_bytes="caf\\xe9!"),
        ReturnControlEvent(return_control={}),
    ]


def test_the_executor_reads_what_the_replay_sends() -> None:
    """Through a real client: ``returnControl`` parses as botocore's member shape
    (ReturnControlPayload), and the raw bytes arrive as they were stored."""
    import boto3

    answer = EventStreamAnswer(
        events=[ReturnControlEvent(return_control=CONTROL), BytesChunkEvent(chunk_bytes="caf\\xe9")]
    )
    interaction = Interaction(
        service="bedrock-agent-runtime", operation="InvokeAgent", request={}, response=answer
    )
    render = prepare_answers(0, interaction)[-1].render
    client = boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.meta.events.register("before-send", lambda **_: render(PARAMS))
    response = client.invoke_agent(
        agentId="A1", agentAliasId="AL1", sessionId="s-1", inputText="hello"
    )
    collector = StreamCollector()
    parsed = list(response["completion"])
    for event in parsed:
        collector.add(event)
    assert parsed[0] == {"returnControl": CONTROL}
    assert collector.return_control and collector.completion_bytes == b"caf\xe9"


def test_a_billed_stream_fault_sends_its_traces_before_the_error() -> None:
    fault = Fault(
        error="throttlingException", where="stream", message="slow", traces=usage_traces("m", 7, 3)
    )
    body = fault_renderer(fault, "bedrock-agent-runtime")(PARAMS).raw.read()
    assert decode_stream(body) == [
        *usage_traces("m", 7, 3),
        ExceptionEvent(exception=StreamError(type="throttlingException", message="slow")),
    ]


# ----------------------------------------------------------------- specs


def test_spec_fields_are_checked_where_the_author_wrote_them() -> None:
    base: dict[str, Any] = {"tokens": [1000, 200], "latency_ms": 10}
    with pytest.raises(ValidationError, match="output and output_bytes"):
        AgentSpec.model_validate({**base, "output": "x", "output_bytes": "y"})
    with pytest.raises(ValidationError, match="starts neither"):
        AgentSpec.model_validate({**base, "output_bytes": "caf\\e9"})
    assert AgentSpec.model_validate({**base, "return_control": CONTROL}).silent
    with pytest.raises(ValidationError, match="only where: stream"):
        FaultSpec.model_validate({"error": "ThrottlingException", "tokens": [1000, 10]})
    with pytest.raises(ValidationError, match="give tokens too"):
        FaultSpec.model_validate({"error": "x", "where": "stream", "model": "m"})
    fault = FaultSpec.model_validate(
        {"error": "throttlingException", "where": "stream", "tokens": [1000, 10], "times": 2}
    )
    expanded = fault.expanded()
    assert len(expanded) == 2 and expanded[0].traces == usage_traces(fault.model, 1000, 10)


# ----------------------------------------------------------------- the scenario


def test_the_failed_attempt_is_billed_by_the_harness_as_by_the_executor() -> None:
    result = json.loads(
        replay(load_scenario(ROOT / "scenarios" / f"{SCENARIO}.json")).to_canonical_json()
    )
    rag = [c for c in result["bedrock_calls"] if c["agent"] == "knowledge-rag"]
    assert [(c["outcome"], c["input_tokens"], c["cost_usd"]) for c in rag] == [
        ("error:throttlingException", 4000, "0.025500")
    ]
    hypotheses = result["final_state"]["hypotheses"]
    assert hypotheses["knowledge-rag"]["error"]["code"] == "BUDGET_EXCEEDED"
    assert result["final_state"]["cost"]["per_agent"]["knowledge-rag"] == "0.025500"
    assert hypotheses["risk-blast-radius"]["error"]["message"].endswith(
        "it requested return of control, which opx does not support"
    )
    assert hypotheses["change-intelligence"]["error"]["message"] == (
        "completion is not valid UTF-8 (byte 103)"
    )


def test_the_gate_sees_return_control_handling_only_through_this_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: an executor that ignores ``returnControl`` events (the EMPTY_COMPLETION
    reason loses its return-of-control clause) fails the gate on this scenario, and
    a scenario with an empty completion of another kind cannot notice."""
    names = (SCENARIO, "agent-failure-trace")
    project = bundled_project(tmp_path, names)
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0
    add = StreamCollector.add

    def add_ignoring_return_control(self: StreamCollector, event: Any) -> None:
        if "returnControl" not in event:
            add(self, event)

    monkeypatch.setattr(StreamCollector, "add", add_ignoring_return_control)
    run = gate(capsys, project.args("--checks", "snapshot", "--json", str(tmp_path / "r.json")))
    assert run.code == 1, run.out
    verdicts = {s["name"]: s for s in json.loads((tmp_path / "r.json").read_text())["scenarios"]}
    assert "drift" in json.dumps(verdicts[SCENARIO])
    assert "drift" not in json.dumps(verdicts["agent-failure-trace"])
