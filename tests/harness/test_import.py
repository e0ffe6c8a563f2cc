"""``opx-harness import``: a scenario rebuilt from what a real executor run stored.

The table is filled by the real handler, checkpointing to moto in server mode and
calling the fake Bedrock Agent runtime over HTTP -- nothing here writes checkpoint
items by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness import canonical
from harness.cli import main
from harness.replayer import LambdaContext, checkpoint_trail, replay
from harness.scenario import load_scenario
from opx.checkpointing import DynamoDBCheckpointer, create_table
from tests.harness.agent_runtime_server import (
    AgentRuntime,
    http_error,
    serve,
    throttled_in_stream,
)
from tests.harness.scrub_corpus import PLANTED, allow_the_commit, leaked, secret_bearing_event
from tests.support import sample_event

INCIDENT = "INC-2026-0001"


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentRuntime]:
    with serve(AgentRuntime()) as served:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", served.url)
        yield served


@pytest.fixture
def table(request: pytest.FixtureRequest, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh checkpoint table on the moto server, and the executor pointed at it."""
    name = f"opx-import-{request.node.name}".replace("[", "-").replace("]", "")[:200]
    create_table(_dynamodb(moto_server), name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server)
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "true")
    monkeypatch.setenv("CHECKPOINT_TABLE_NAME", name)
    return name


def _dynamodb(endpoint: str) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)


def _run_executor(*events: dict[str, Any]) -> list[dict[str, Any]]:
    from opx.errors import response_of
    from opx.lambda_handler import cold_start, handler

    cold_start()
    try:
        return [response_of(handler, event, LambdaContext()) for event in events]
    finally:
        cold_start()


def _import(tmp_path: Path, table: str, incident: str = INCIDENT, *extra: str) -> int:
    return main(
        [
            "import",
            "--incident-id",
            incident,
            "--table",
            table,
            "--scenarios",
            str(tmp_path / "scenarios"),
            "--snapshots",
            str(tmp_path / "snapshots"),
            *extra,
        ]
    )


def _stored_state(moto_server: str, table: str, execution_id: str) -> dict[str, Any]:
    saver = DynamoDBCheckpointer(table, client=_dynamodb(moto_server))
    state, _ = checkpoint_trail(saver, execution_id)
    assert state is not None
    return state


def test_import_rebuilds_a_scenario_that_reproduces_the_stored_state(
    tmp_path: Path,
    runtime: AgentRuntime,
    table: str,
    moto_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPX_AGENT_MAX_ATTEMPTS", "3")
    runtime.scripts["signal-intelligence"] = [
        http_error(429, "ThrottlingException", "Rate exceeded"),
        throttled_in_stream(),
    ]
    runtime.scripts["historical-pattern"] = [throttled_in_stream()] * 3
    runtime.scripts["knowledge-rag"] = [http_error(403, "AccessDeniedException", "denied")]
    [response] = _run_executor(sample_event("opx_incident"))
    assert response["statusCode"] == 200
    assert _import(tmp_path, table) == 0
    assert "saved" in capsys.readouterr().out
    scenario = load_scenario(tmp_path / "scenarios" / "incident-inc-2026-0001.json")
    snapshot = (tmp_path / "snapshots" / "incident-inc-2026-0001.json").read_text()
    assert scenario.events == [sample_event("opx_incident")]
    assert scenario.env["OPX_AGENT_MAX_ATTEMPTS"] == "3"  # historical-pattern ran out
    result = replay(scenario)
    assert result.to_canonical_json() == snapshot
    # Independently of import's own check: the replay ends in the stored state.
    stored = _stored_state(moto_server, table, response["body"]["execution_id"])
    assert canonical.dumps(result.final_state) == canonical.dumps(stored)
    assert result.responses == [response]
    hypotheses = stored["hypotheses"]
    assert hypotheses["historical-pattern"]["error"]["code"] == "RETRIES_EXHAUSTED"
    assert hypotheses["signal-intelligence"]["attempts"] == 3
    # As many Bedrock calls as the live run made: 3 + 3 + 1 + 3 single tries.
    assert len(result.bedrock_calls) == len(runtime.requests) == 10


def test_imported_secrets_never_reach_the_written_files(
    tmp_path: Path,
    runtime: AgentRuntime,
    table: str,
    moto_server: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = secret_bearing_event()
    [response] = _run_executor(event)
    assert response["statusCode"] == 200
    stored = _stored_state(moto_server, table, response["body"]["execution_id"])
    assert len(leaked(canonical.dumps(stored))) >= len(PLANTED), "the table holds them all"
    allow_the_commit(tmp_path / "scenarios")  # the detector pass's one false positive
    assert _import(tmp_path, table, event["detail"]["incident_id"], "--name", "secrets") == 0
    output = capsys.readouterr()
    files = [tmp_path / "scenarios" / "secrets.json", tmp_path / "snapshots" / "secrets.json"]
    everything = "\n".join([*(p.read_text() for p in files), output.out, output.err])
    assert leaked(everything) == []
    assert "redacted: " in output.out and "email" in output.out
    scenario = load_scenario(files[0])
    assert replay(scenario).to_canonical_json() == files[1].read_text()


def test_several_executions_need_a_choice(
    tmp_path: Path,
    runtime: AgentRuntime,
    table: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = sample_event("opx_incident")
    second = {**sample_event("opx_incident"), "id": "0b6f7c1e-1111-4c3b-9d7e-2f0a5c6b7a80"}
    responses = _run_executor(first, second)
    executions = sorted(r["body"]["execution_id"] for r in responses)
    assert _import(tmp_path, table) == 3
    err = capsys.readouterr().err
    assert "2 executions" in err and all(e in err for e in executions)
    assert not (tmp_path / "scenarios").exists()
    chosen = executions[1]
    assert _import(tmp_path, table, INCIDENT, "--execution-id", chosen) == 0
    scenario = load_scenario(tmp_path / "scenarios" / "incident-inc-2026-0001.json")
    assert replay(scenario).responses[0]["body"]["execution_id"] == chosen


def test_unfinished_execution_is_refused(
    tmp_path: Path,
    runtime: AgentRuntime,
    table: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from opx import graph

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("consensus bug")

    monkeypatch.setattr(graph, "compute_consensus", broken)
    [response] = _run_executor(sample_event("opx_incident"))
    assert response["statusCode"] == 500
    assert _import(tmp_path, table) == 3
    assert "did not complete" in capsys.readouterr().err


def test_unknown_incident_and_missing_table(
    tmp_path: Path, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(tmp_path, table, "INC-NOPE") == 3
    assert "no execution of incident INC-NOPE" in capsys.readouterr().err
    assert _import(tmp_path, "no-such-table") == 2
    err = capsys.readouterr().err
    assert err.startswith("opx-harness: error: AWS: ") and err.count("\n") == 1
