"""The late duplicate: it read the state (incomplete), then takes the lease just after
the first delivery finished -- and must answer the stored result, paying nothing.

``delivery: concurrent-late`` stages that interleaving (:func:`harness.kinds.overlap.
deliver_late`). Without the executor's second read under the lease (the fault this
scenario exists for) the duplicate runs the graph again and asks Bedrock for answers
the recording no longer has: the gate fails, naming the scenario.
"""

from __future__ import annotations

import inspect
import shutil
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import opx.lambda_handler
from harness import cli
from harness.kinds import overlap
from harness.replayer import replay
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
NAME = "late-duplicate-delivery"
COMPLETED_CHECK = """\
if snapshot.values and not snapshot.next and not snapshot.tasks:
    return snapshot.values  # completed before: same answer, no Bedrock call
"""


def _gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``gate --checks snapshot`` over this scenario alone (one scenario: judged in
    this process, where the fault is planted)."""
    for folder in ("scenarios", "snapshots"):
        (tmp_path / folder).mkdir()
        shutil.copy(ROOT / folder / f"{NAME}.json", tmp_path / folder)
    capsys.readouterr()
    code = cli.main(
        [
            "gate",
            "--checks",
            "snapshot",
            "--scenarios",
            str(tmp_path / "scenarios"),
            "--snapshots",
            str(tmp_path / "snapshots"),
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_late_duplicate_gets_the_stored_answer_and_pays_nothing() -> None:
    result = replay(load_scenario(ROOT / "scenarios" / f"{NAME}.json"))
    first, duplicate = result.responses
    assert first["statusCode"] == duplicate["statusCode"] == 200
    assert first == duplicate
    calls = [c["agent"] for c in result.bedrock_calls]
    assert len(calls) == len(set(calls)) == 6


def test_without_the_read_under_the_lease_the_gate_fails_naming_the_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mutant, planted: ``_run`` without its completed-state check, compiled from
    the executor's own source so nothing else of it changes."""
    source = textwrap.dedent(inspect.getsource(opx.lambda_handler._run))
    body = textwrap.indent(COMPLETED_CHECK, "    ")
    assert source.count(body) == 1, "the completed-state check moved: update this test"
    namespace = dict(vars(opx.lambda_handler))
    exec(compile(source.replace(body, ""), opx.lambda_handler.__file__, "exec"), namespace)
    monkeypatch.setattr(opx.lambda_handler, "_run", namespace["_run"])
    code, out = _gate(tmp_path, capsys)
    assert code != 0, out
    assert NAME in out and "used up" in out, out


class _Transport:
    """Just enough of a transport stack for :func:`overlap.deliver_late`."""

    def __init__(self, layer: overlap.Overlap) -> None:
        self.layer = layer

    def find(self, kind: type) -> Any:
        return self.layer if isinstance(self.layer, kind) else None


class _Inner:
    def send(self, request: Any, event_name: str) -> Any:
        return "sent"


def _staged(
    monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> tuple[overlap.Overlap, pytest.ExceptionInfo[overlap.OverlapTimeoutError]]:
    monkeypatch.setattr(overlap, "HOLD_SECONDS", 0.2)
    layer = overlap.Overlap(_Inner())  # type: ignore[arg-type]
    with pytest.raises(overlap.OverlapTimeoutError) as failure:
        overlap.deliver_late(["event", "event"], _Transport(layer), lambda e, n: invoke(layer, n))  # type: ignore[arg-type]
    return layer, failure


def test_a_delivery_that_never_reaches_its_hold_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stuck = threading.Event()

    def invoke(layer: overlap.Overlap, n: int) -> Any:
        stuck.wait(5)  # neither Bedrock nor the lease: the stage cannot happen
        return n

    try:
        _, failure = _staged(monkeypatch, invoke)
    finally:
        stuck.set()
    assert "delivery 0 did not reach its first Bedrock request within 0.2 s" in str(failure.value)


def test_a_duplicate_that_never_sends_its_lease_put_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stuck = threading.Event()

    def invoke(layer: overlap.Overlap, n: int) -> Any:
        if n == 0:  # parked at Bedrock, as a first delivery is
            return layer.send(object(), "before-send.bedrock-agent-runtime.InvokeAgent")
        stuck.wait(5)
        return n

    try:
        _, failure = _staged(monkeypatch, invoke)
    finally:
        stuck.set()
    assert "delivery 1 did not reach its lease PutItem within 0.2 s" in str(failure.value)


def test_every_overlapping_delivery_a_scenario_may_name_is_staged() -> None:
    from typing import get_args

    from harness.kinds.overlap import STAGINGS
    from harness.scenario import Scenario

    named = set(get_args(Scenario.model_fields["delivery"].annotation)) - {"sequential"}
    assert named == set(STAGINGS)
