"""The detector pass in the gate and before every write the harness makes: the
``secrets`` check over committed files, ``gate --update`` and ``author``. Each test
plants the fault the guard exists for and shows the guard refuses, naming the
file, the JSON path and the detector's kind -- never the value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.cli.author import main as author_main
from tests.harness.deep_secrets import AKID
from tests.harness.gate_support import Project, gate, make_project, table

ROOT = Path(__file__).resolve().parents[2]
NAME = "rds-failover"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    files = {NAME: (ROOT / "scenarios" / f"{NAME}.json").read_text(encoding="utf-8")}
    snapshots = {NAME: (ROOT / "snapshots" / f"{NAME}.json").read_text(encoding="utf-8")}
    return make_project(tmp_path, files, snapshots)


def test_the_secrets_check_passes_the_bundled_scenario(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    run = gate(capsys, project.args("--checks", "snapshot,secrets"))
    assert run.code == 0, run.out
    assert table(run.out)[NAME][:2] == ["pass", "pass"]


def test_a_hand_edited_scenario_with_a_key_fails_the_secrets_check(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project.scenarios / f"{NAME}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["description"] += f" (rotated {AKID})"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    run = gate(capsys, project.args("--checks", "secrets"))
    assert run.code == 3, run.out
    assert table(run.out)[NAME][0] == "error"
    assert f"{NAME}.json: $.description: AWS Access Key" in run.out
    assert AKID not in run.out + run.err


def test_update_refuses_to_approve_a_snapshot_holding_a_secret(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor echoes a key into its answer: the drifted snapshot is not written."""
    import opx.lambda_handler

    original = opx.lambda_handler.handler

    def leaky(event: dict, context: object) -> dict:
        response = original(event, context)
        response["body"]["note"] = f"key {AKID}"
        return response

    monkeypatch.setattr(opx.lambda_handler, "handler", leaky)
    before = project.snapshot(NAME).read_text(encoding="utf-8")
    run = gate(capsys, project.args("--update"))
    assert run.code == 3, run.out
    assert "not re-approved: the detector found a secret" in run.out
    assert "$.responses[0].body.note: AWS Access Key" in run.out
    assert project.snapshot(NAME).read_text(encoding="utf-8") == before
    assert AKID not in run.out + run.err


def test_author_refuses_to_write_a_scenario_holding_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load((ROOT / "specs" / "invalid-event.yaml").read_text(encoding="utf-8"))
    data["description"] += f" (rotated {AKID})"
    spec = tmp_path / "specs" / "invalid-event.yaml"
    spec.parent.mkdir()
    spec.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "scenarios"
    assert author_main([str(spec), "--out", str(out)]) == 3
    captured = capsys.readouterr()
    assert "not written: the secret detector" in captured.err
    assert "invalid-event.json: $.description: AWS Access Key" in captured.err
    assert not (out / "invalid-event.json").exists()
    assert AKID not in captured.out + captured.err
