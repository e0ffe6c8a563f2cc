"""The ``redrive`` kind: the gate proves the dead-letter recovery path.

Each fault the kind exists for is planted in the code under replay (monkeypatched, so
nothing is edited on disk) and the gate, run on the one committed scenario that must
catch it, fails naming that scenario. The kind's own rules are checked too: its
checks that do not apply say why, and a scenario without its command is refused at
the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import opx.redrive
from harness.checks import not_applicable
from harness.kinds import KindFieldError, kind_named
from harness.scenario import load_scenario
from tests.harness.gate_support import gate_bundled

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SNAPSHOTS = ROOT / "snapshots"


def test_the_committed_scenario_passes_unfaulted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = gate_bundled("redrive-interrupted-resume", tmp_path, capsys)
    assert code == 0, out


def _delete_then_invoke(
    sqs: Any, queue_url: str, invoke: Any, *, limit: int = 100, dry_run: bool = False
) -> opx.redrive.RedriveReport:
    """``opx.redrive.redrive`` with its two steps swapped: the message is gone before
    the invoke was accepted, so a refused invoke loses the incident."""
    report = opx.redrive.RedriveReport()
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    )[:limit]:
        try:
            event = opx.redrive.event_of(message["Body"])
        except ValueError as exc:
            report.kept[message["MessageId"]] = str(exc)
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        invoke(event)
        report.redriven.append(message["MessageId"])
    return report


def test_deleting_before_invoking_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opx.redrive, "redrive", _delete_then_invoke)
    code, out = gate_bundled("redrive-function-not-found", tmp_path, capsys)
    assert code != 0
    assert "redrive-function-not-found" in out
    assert "queue_left" in out  # the on-failure record is gone from the queue


def _record_as_event(body: str | dict[str, Any]) -> dict[str, Any]:
    """``opx.redrive.event_of`` reading the on-failure record itself as the event."""
    message = json.loads(body) if isinstance(body, str) else body
    if not isinstance(message, dict) or not {"id", "source", "detail"} <= set(message):
        raise ValueError("message holds no EventBridge event (needs id, source, detail)")
    return message


def test_reading_the_record_instead_of_its_payload_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opx.redrive, "event_of", _record_as_event)
    code, out = gate_bundled("redrive-interrupted-resume", tmp_path, capsys)
    assert code != 0
    assert "redrive-interrupted-resume" in out


def test_a_dry_run_that_invokes_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = opx.redrive.redrive

    def ignoring_dry_run(*args: Any, **kwargs: Any) -> opx.redrive.RedriveReport:
        return real(*args, **{**kwargs, "dry_run": False})

    monkeypatch.setattr(opx.redrive, "redrive", ignoring_dry_run)
    code, out = gate_bundled("redrive-dry-run", tmp_path, capsys)
    assert code != 0
    assert "redrive-dry-run" in out


def test_checks_that_drive_the_executor_directly_say_why_they_do_not_apply() -> None:
    scenario = load_scenario(SCENARIOS / "redrive-limit.json")
    for check in ("repeat", "snapshot", "process", "secrets"):
        assert not_applicable(check, scenario) is None
    for check in ("order", "resume", "cost"):
        outcome = not_applicable(check, scenario)
        assert outcome is not None
        assert "dead-letter messages" in outcome.summary


def test_a_redrive_scenario_names_its_command() -> None:
    scenario = load_scenario(SCENARIOS / "redrive-dry-run.json")
    with pytest.raises(KindFieldError) as raised:
        kind_named("redrive").validate(scenario.model_copy(update={"redrive": None}))
    assert raised.value.field == "redrive"


def test_an_executor_that_restarts_instead_of_resuming_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor never finds the interrupted execution's checkpoint, so the redriven
    event runs from the start and asks the five agents that already answered again:
    requests the scenario has no answer for -- paid twice."""
    from opx.checkpointing import DynamoDBCheckpointer

    monkeypatch.setattr(DynamoDBCheckpointer, "get_tuple", lambda self, config: None)
    code, out = gate_bundled("redrive-interrupted-resume", tmp_path, capsys)
    assert code != 0
    assert "redrive-interrupted-resume" in out
    assert "InvokeAgent" in out
