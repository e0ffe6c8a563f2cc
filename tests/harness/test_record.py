"""``opx-harness record``: live runs over real HTTP, recorded, verified, scrubbed.

"Live" here is a fake Bedrock Agent runtime on 127.0.0.1 speaking InvokeAgent with
real event-stream framing, and moto in server mode (its own process) for the AWS
side, both selected the way production selects endpoints: ``AWS_ENDPOINT_URL_*``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness.capture.recorder import Recorder
from harness.cli import main
from harness.replayer import replay
from harness.scenario import (
    BytesChunkEvent,
    EventStreamAnswer,
    HttpAnswer,
    Interaction,
    ReturnControlEvent,
    Scenario,
    escape_bytes,
    load_scenario,
)
from opx.state import ALL_AGENTS
from tests.harness.agent_runtime_server import (
    CONTROL,
    LATIN1,
    AgentRuntime,
    http_error,
    latin1_reply,
    return_control_reply,
    serve,
    throttled_in_stream,
)
from tests.harness.scrub_corpus import PLANTED, allow_the_commit, leaked, secret_bearing_event
from tests.support import sample_event


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentRuntime]:
    with serve(AgentRuntime()) as served:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", served.url)
        yield served


def _record(tmp_path: Path, event: Any, name: str, *extra: str) -> int:
    event_file = tmp_path / f"{name}-event.json"
    event_file.write_text(json.dumps(event))
    return main(
        [
            "record",
            "--event",
            str(event_file),
            "--name",
            name,
            "--scenarios",
            str(tmp_path / "scenarios"),
            "--snapshots",
            str(tmp_path / "snapshots"),
            *extra,
        ]
    )


def _written(tmp_path: Path) -> dict[str, str]:
    return {
        str(path.relative_to(tmp_path)): path.read_text(encoding="utf-8")
        for directory in ("scenarios", "snapshots")
        for path in sorted((tmp_path / directory).glob("*.json"))
    }


def test_record_saves_a_scenario_that_replays_byte_identically(
    tmp_path: Path, runtime: AgentRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _record(tmp_path, sample_event("opx_incident"), "live-rollback") == 0
    out = capsys.readouterr().out
    assert "saved" in out and "redacted:" in out
    scenario = load_scenario(tmp_path / "scenarios" / "live-rollback.json")
    snapshot = (tmp_path / "snapshots" / "live-rollback.json").read_text(encoding="utf-8")
    # Every agent was asked once over HTTP, and each answer is in the file.
    assert sorted(r["inputText"]["agent"] for r in runtime.requests) == sorted(ALL_AGENTS)
    assert len(scenario.interactions) == len(ALL_AGENTS)
    assert scenario.tags == ["recorded"]
    # The file is readable: decoded prompts and completions, not base64 frames.
    text = (tmp_path / "scenarios" / "live-rollback.json").read_text(encoding="utf-8")
    assert '"agent": "signal-intelligence"' in text and '"chunk": ' in text
    # Replays offline, byte for byte, run after run.
    assert replay(scenario).to_canonical_json() == snapshot
    assert replay(scenario).to_canonical_json() == snapshot
    assert json.loads(snapshot)["responses"][0]["body"]["status"] == "SUCCEEDED"


def test_the_installed_command_records_over_the_network(
    tmp_path: Path, runtime: AgentRuntime
) -> None:
    """What a user types, in a process of its own: only the environment points it at
    the (fake) service."""
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(sample_event("opx_incident")))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "record",
            "--event",
            str(event_file),
            "--name",
            "from-the-shell",
            "--description",
            "recorded in a subprocess",
            "--scenarios",
            str(tmp_path / "scenarios"),
            "--snapshots",
            str(tmp_path / "snapshots"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": runtime.url},
    )
    assert done.returncode == 0, done.stderr
    assert "redacted: nothing" in done.stdout and done.stderr == ""
    scenario = load_scenario(tmp_path / "scenarios" / "from-the-shell.json")
    assert scenario.description == "recorded in a subprocess"
    snapshot = (tmp_path / "snapshots" / "from-the-shell.json").read_text(encoding="utf-8")
    assert replay(scenario).to_canonical_json() == snapshot


def test_retries_are_recorded_as_they_happened(tmp_path: Path, runtime: AgentRuntime) -> None:
    runtime.scripts["signal-intelligence"] = [
        http_error(429, "ThrottlingException", "Rate exceeded"),
        throttled_in_stream(),
    ]
    runtime.scripts["knowledge-rag"] = [
        http_error(403, "AccessDeniedException", "not authorized to invoke this agent")
    ]
    assert _record(tmp_path, sample_event("opx_incident"), "live-retries") == 0
    snapshot = json.loads((tmp_path / "snapshots" / "live-retries.json").read_text())
    body = snapshot["responses"][0]["body"]
    assert body["agents"]["knowledge-rag"] == "FAILURE"
    assert body["agents"]["signal-intelligence"] == "SUCCESS"
    outcomes = sorted(call["outcome"] for call in snapshot["bedrock_calls"])
    # A retry is a retry: the throttles were followed by another call of the agent.
    assert outcomes.count("fault:ThrottlingException") == 1
    assert outcomes.count("fault:throttlingException") == 1
    assert outcomes.count("error:AccessDeniedException") == 1
    signal_calls = [c for c in snapshot["bedrock_calls"] if c["agent"] == "signal-intelligence"]
    assert [(c["attempt"], c["where"]) for c in signal_calls] == [
        (0, "http"),
        (1, "stream"),
        (2, None),
    ]
    # The in-stream throttle keeps its billed tokens: it is a stream, not an error.
    assert signal_calls[1]["input_tokens"] == 40
    assert len(snapshot["bedrock_calls"]) == 8
    signal = snapshot["final_state"]["hypotheses"]["signal-intelligence"]
    assert signal["attempts"] == 3
    assert [(r["error"] or {}).get("where") for r in signal["responses"]] == [
        "http",
        "stream",
        None,
    ]


def test_planted_secrets_never_reach_the_written_files(
    tmp_path: Path, runtime: AgentRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    allow_the_commit(tmp_path / "scenarios")  # the detector pass's one false positive
    assert _record(tmp_path, secret_bearing_event(), "live-secrets") == 0
    output = capsys.readouterr()
    written = _written(tmp_path)
    assert len(written) == 2
    # The fake agent echoed the secrets back in completions and traces.
    echoed = json.dumps(runtime.requests)
    everything = "\n".join([*written.values(), output.out, output.err])
    assert leaked(everything) == []
    assert len(leaked(echoed)) >= len(PLANTED), "the live side really saw the secrets"
    assert "account-id" in output.out and "email" in output.out
    scenario = load_scenario(tmp_path / "scenarios" / "live-secrets.json")
    assert replay(scenario).to_canonical_json() == written["snapshots/live-secrets.json"]


def test_alarm_event_with_account_in_the_arn_records(tmp_path: Path, runtime: AgentRuntime) -> None:
    """The incident id of an alarm event is a hash of its ARN: scrubbing the account
    changes it, and with it every session id the executor derives."""
    event = sample_event("aws_cloudwatch_alarm_state_change")
    event = json.loads(json.dumps(event).replace(":123456789012:", ":111122223333:"))
    event["account"] = "111122223333"
    assert _record(tmp_path, event, "live-alarm") == 0
    written = _written(tmp_path)
    assert "111122223333" not in "".join(written.values())
    scenario = load_scenario(tmp_path / "scenarios" / "live-alarm.json")
    assert replay(scenario).to_canonical_json() == written["snapshots/live-alarm.json"]


def test_an_irreproducible_live_run_saves_nothing(
    tmp_path: Path,
    runtime: AgentRuntime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A prompt that reads the wall clock: live and offline requests differ."""
    import time

    from opx.agents import invoke

    real = invoke.render_input
    monkeypatch.setattr(
        invoke, "render_input", lambda agent, context: real(agent, {**context, "t": time.time()})
    )
    assert _record(tmp_path, sample_event("opx_incident"), "live-clock") == 3
    err = capsys.readouterr().err
    assert "not saved" in err and "does not replay" in err
    assert '+      "t": ' in err or '"t":' in err
    assert not (tmp_path / "scenarios").exists()


def test_existing_files_are_kept_unless_forced(tmp_path: Path, runtime: AgentRuntime) -> None:
    assert _record(tmp_path, sample_event("opx_incident"), "live-twice") == 0
    before = _written(tmp_path)
    assert _record(tmp_path, sample_event("opx_incident"), "live-twice") == 3
    assert _written(tmp_path) == before
    assert _record(tmp_path, sample_event("opx_incident"), "live-twice", "--force") == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "invalid JSON"), ("[]", "expected an event object")],
)
def test_bad_event_files_exit_2_with_one_line(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "event.json"
    path.write_text(content)
    assert main(["record", "--event", str(path), "--name", "x"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_name_is_refused_before_any_live_call(
    tmp_path: Path, runtime: AgentRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _record(tmp_path, sample_event("opx_incident"), "Not A Name") == 3
    assert "invalid scenario name" in capsys.readouterr().err
    assert runtime.requests == []


def test_checkpoints_go_to_the_named_table_on_moto_server(
    tmp_path: Path, runtime: AgentRuntime, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server)
    from opx.checkpointing import create_table

    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_server)
    create_table(client, "opx-live-checkpoints")
    assert (
        _record(
            tmp_path,
            sample_event("opx_incident"),
            "live-table",
            "--checkpoint-table",
            "opx-live-checkpoints",
        )
        == 0
    )
    items = client.scan(TableName="opx-live-checkpoints")["Items"]
    incidents = {item["incident_id"]["S"] for item in items if "incident_id" in item}
    assert incidents == {sample_event("opx_incident")["detail"]["incident_id"]}
    scenario = load_scenario(tmp_path / "scenarios" / "live-table.json")
    snapshot = (tmp_path / "snapshots" / "live-table.json").read_text(encoding="utf-8")
    assert replay(scenario).to_canonical_json() == snapshot


def test_the_recorder_keeps_reads_and_refuses_writes(moto_server: str) -> None:
    """Generic AWS reads are recorded readable and replay through the transport; a
    write never leaves the machine."""
    session = boto3.Session(region_name="us-east-1")
    recorder = Recorder(passthrough=lambda *_: False)
    session.events.register_first("before-send", recorder.before_send)
    logs = session.client("logs", endpoint_url=moto_server)
    boto3.client("logs", region_name="us-east-1", endpoint_url=moto_server).create_log_group(
        logGroupName="/opx/recorded"
    )
    listed = logs.describe_log_groups(logGroupNamePrefix="/opx/")
    with pytest.raises(logs.exceptions.ClientError, match="HarnessRecordRefused"):
        logs.put_retention_policy(logGroupName="/opx/recorded", retentionInDays=1)
    assert recorder.problems == [
        "refused cloudwatch-logs.PutRetentionPolicy: not a read; nothing is written to AWS"
    ]
    server = boto3.client("logs", region_name="us-east-1", endpoint_url=moto_server)
    group = server.describe_log_groups(logGroupNamePrefix="/opx/recorded")["logGroups"][0]
    assert "retentionInDays" not in group
    [exchange] = recorder.exchanges
    assert isinstance(exchange.answer, HttpAnswer)
    assert exchange.answer.body["logGroups"][0]["logGroupName"] == "/opx/recorded"
    assert exchange.request == {"logGroupNamePrefix": "/opx/"}
    # Replayed through the harness transport, botocore parses the same answer.
    from harness.replayer import Replayer

    scenario = Scenario(
        name="recorded-read",
        description="",
        clock={"start": "2026-11-29T00:00:00+00:00"},
        events=[{}],
        interactions=[
            Interaction(
                service=exchange.service,
                operation=exchange.operation,
                request=exchange.request,
                response=exchange.answer,
            )
        ],
    )
    with Replayer().environment(scenario) as env:
        again = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/opx/")
    assert env.transport.unmatched == []
    assert again["logGroups"] == listed["logGroups"]


def test_return_control_and_bytes_that_are_not_text_are_recorded(
    tmp_path: Path, runtime: AgentRuntime
) -> None:
    """Two answers the recorder used to refuse: an agent answering ``returnControl``
    and no text, and one whose completion (split across chunks) is Latin-1. Both are
    stored, and the offline replay reproduces the live executor's result."""
    runtime.scripts["risk-blast-radius"] = [return_control_reply()]
    runtime.scripts["change-intelligence"] = [latin1_reply()]
    assert _record(tmp_path, sample_event("opx_incident"), "live-stream-shapes") == 0
    scenario = load_scenario(tmp_path / "scenarios" / "live-stream-shapes.json")
    events = {
        i.request["inputText"]["agent"]: i.response.events
        for i in scenario.interactions
        if isinstance(i.response, EventStreamAnswer)
    }
    assert ReturnControlEvent(return_control=CONTROL) in events["risk-blast-radius"]
    assert BytesChunkEvent(chunk_bytes=escape_bytes(LATIN1)) in events["change-intelligence"]
    snapshot = (tmp_path / "snapshots" / "live-stream-shapes.json").read_text(encoding="utf-8")
    assert replay(scenario).to_canonical_json() == snapshot
    hypotheses = json.loads(snapshot)["final_state"]["hypotheses"]
    bad_byte = LATIN1.index("é".encode("latin-1"))
    assert hypotheses["risk-blast-radius"]["error"] == {
        "code": "EMPTY_COMPLETION",
        "message": "the agent returned no text; it requested return of control, "
        "which opx does not support",
    }
    assert hypotheses["change-intelligence"]["error"] == {
        "code": "MALFORMED_OUTPUT",
        "message": f"completion is not valid UTF-8 (byte {bad_byte})",
    }
