"""Issue 17 end to end: ``record`` and ``import`` over real HTTP with every planted
shape, and the detector pass standing between the scrubber and the disk.

As in ``test_record``/``test_import``: a fake Bedrock Agent runtime on 127.0.0.1
(it echoes the incident back in completions and traces) and moto in server mode.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from harness import canonical
from harness.capture.scrub import Scrubber
from harness.capture.secret_scan import ALLOWLIST_NAME, allowlist_for, scan_files, unexplained
from harness.cli import main
from harness.replayer import LambdaContext, checkpoint_trail, replay
from harness.scenario import load_scenario
from opx.checkpointing import DynamoDBCheckpointer, create_table
from opx.state import ALL_AGENTS
from tests.harness.agent_runtime_server import AgentRuntime, serve
from tests.harness.deep_secrets import AKID, SHAPES, deep_secret_event, leaked_shapes
from tests.support import sample_event


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentRuntime]:
    with serve(AgentRuntime()) as served:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", served.url)
        yield served


def _dirs(tmp_path: Path) -> list[str]:
    return ["--scenarios", str(tmp_path / "scenarios"), "--snapshots", str(tmp_path / "snapshots")]


def _record(tmp_path: Path, event: Any, name: str) -> int:
    event_file = tmp_path / f"{name}-event.json"
    event_file.write_text(json.dumps(event))
    return main(["record", "--event", str(event_file), "--name", name, *_dirs(tmp_path)])


def _written(tmp_path: Path) -> dict[str, str]:
    return {
        str(path.relative_to(tmp_path)): path.read_text(encoding="utf-8")
        for directory in ("scenarios", "snapshots")
        for path in sorted((tmp_path / directory).glob("*.json"))
    }


def test_record_scrubs_every_shape(
    tmp_path: Path, runtime: AgentRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _record(tmp_path, deep_secret_event(), "deep-secrets") == 0
    output = capsys.readouterr()
    written = _written(tmp_path)
    assert len(written) == 2
    # The live side held every shape: the fake agents received (and echoed) them.
    assert set(leaked_shapes(json.dumps(runtime.requests))) == set(SHAPES)
    assert leaked_shapes("\n".join([*written.values(), output.out, output.err])) == {}
    for kind in ("webhook-url", "encoded-secret", "aws-session-token", "account-id"):
        assert kind in output.out
    scenario = load_scenario(tmp_path / "scenarios" / "deep-secrets.json")
    assert replay(scenario).to_canonical_json() == written["snapshots/deep-secrets.json"]
    # The detector pass had nothing to say about what was written (beyond the
    # built-in entries: the snapshot's digests).
    assert unexplained(scan_files(written), allowlist_for(tmp_path / "scenarios")) == []


def test_the_detector_refuses_what_the_scrubber_missed(
    tmp_path: Path,
    runtime: AgentRuntime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fault injected on purpose: the scrubber stops redacting access key ids."""
    select = Scrubber._select

    def without_access_keys(self: Scrubber, text: str) -> Any:
        return [hit for hit in select(self, text) if hit.kind != "aws-access-key-id"]

    monkeypatch.setattr(Scrubber, "_select", without_access_keys)
    event = sample_event("opx_incident")
    event["detail"]["evidence_bundle"]["note"] = f"deployed with {AKID}"
    assert _record(tmp_path, event, "missed-key") == 3
    output = capsys.readouterr()
    assert not (tmp_path / "scenarios" / "missed-key.json").exists()
    assert not (tmp_path / "snapshots").exists()
    assert "not saved: the secret detector (detect-secrets) found" in output.err
    assert "scenarios/missed-key.json: $.events[0].detail.evidence_bundle.note: AWS Access Key" in (
        output.err
    )
    assert AKID not in output.out + output.err
    # It really ran, and the key really went out.
    assert len(runtime.requests) == len(ALL_AGENTS)
    assert AKID in json.dumps(runtime.requests)


def test_an_allowlisted_false_positive_is_saved(
    tmp_path: Path, runtime: AgentRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    event = sample_event("opx_incident")
    event["detail"]["evidence_bundle"]["deployment"]["commit"] = (
        "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
    )
    assert _record(tmp_path, event, "with-commit") == 3
    err = capsys.readouterr().err
    assert "$.events[0].detail.evidence_bundle.deployment.commit: Hex High Entropy String" in err
    assert not (tmp_path / "snapshots").exists()
    reason = "a git commit SHA of the deployment: public in the repository, not a credential"
    (tmp_path / "scenarios").mkdir()
    digest = hashlib.sha256(b"3b18e512dba79e4c8300dd08aeb37f8e728b8dad").hexdigest()
    (tmp_path / "scenarios" / ALLOWLIST_NAME).write_text(
        '[[allow]]\nfile = "*.json"\npath = "$..*"\nkind = "Hex High Entropy String"\n'
        f'value_sha256 = "{digest}"\nreason = "{reason}"\n'
    )
    assert _record(tmp_path, event, "with-commit") == 0
    written = _written(tmp_path)
    allowlist = allowlist_for(tmp_path / "scenarios")
    explained = {
        entry.reason
        for finding in scan_files(written)
        if finding.value_sha256 == digest and (entry := allowlist.entry_for(finding)) is not None
    }
    assert explained == {reason}


# --------------------------------------------------------------------------- import


@pytest.fixture
def table(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "opx-import-deep-secrets"
    create_table(_dynamodb(moto_server), name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server)
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "true")
    monkeypatch.setenv("CHECKPOINT_TABLE_NAME", name)
    return name


def _dynamodb(endpoint: str) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)


def test_import_scrubs_every_shape(
    tmp_path: Path,
    runtime: AgentRuntime,
    table: str,
    moto_server: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from opx.lambda_handler import cold_start, handler

    event = deep_secret_event()
    cold_start()
    try:
        response = handler(event, LambdaContext())
    finally:
        cold_start()
    assert response["statusCode"] == 200
    saver = DynamoDBCheckpointer(table, client=_dynamodb(moto_server))
    stored, _ = checkpoint_trail(saver, response["body"]["execution_id"])
    assert set(leaked_shapes(canonical.dumps(stored))) == set(SHAPES), "the table holds them all"
    incident = event["detail"]["incident_id"]
    args = [
        "import",
        "--incident-id",
        incident,
        "--table",
        table,
        "--name",
        "deep",
        *_dirs(tmp_path),
    ]
    assert main(args) == 0
    output = capsys.readouterr()
    written = _written(tmp_path)
    assert len(written) == 2
    assert leaked_shapes("\n".join([*written.values(), output.out, output.err])) == {}
    scenario = load_scenario(tmp_path / "scenarios" / "deep.json")
    assert replay(scenario).to_canonical_json() == written["snapshots/deep.json"]
    assert unexplained(scan_files(written), allowlist_for(tmp_path / "scenarios")) == []
