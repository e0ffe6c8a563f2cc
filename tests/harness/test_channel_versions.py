"""Every checkpoint's stored channel versions are part of the canonical result.

LangGraph decides what a resumed execution runs by comparing a checkpoint's stored
``channel_versions`` with the versions each node has seen. This executor's graph runs
every node once, so a saver that numbered versions wrongly finished every run the same
way -- until a resume, or an older checkpoint, met the wrong numbers. The trail now
shows the versions, so the gate sees a wrong numbering in any scenario that checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.replayer import replay
from harness.scenario import load_scenario
from opx.checkpointing import DynamoDBCheckpointer
from tests.harness.gate_support import bundled_project, gate

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("redelivered-event", "checkpoint-write-unreachable")


def test_each_checkpoint_shows_its_channel_versions() -> None:
    result = json.loads(
        replay(load_scenario(ROOT / "scenarios" / f"{NAMES[0]}.json")).to_canonical_json()
    )
    trail = result["checkpoints"]
    assert trail[0]["channel_versions"] == {"__start__": 1}
    # The saver's integers: each super-step's writes get the next number.
    for entry in trail[1:]:
        assert max(entry["channel_versions"].values()) == entry["step"] + 2


def test_the_gate_sees_a_saver_that_numbers_versions_wrongly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: versions 1, 0, 1, 0 (the surviving mutant ``+ 1`` -> ``^ 1`` of
    ``get_next_version``) -- every run still finishes, and every checkpointing scenario
    fails the gate on its versions."""
    project = bundled_project(tmp_path, NAMES)
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0
    numbered = DynamoDBCheckpointer.get_next_version

    def alternating(self: DynamoDBCheckpointer, current: Any, channel: None = None) -> Any:
        return current ^ 1 if isinstance(current, int) else numbered(self, current, channel)

    monkeypatch.setattr(DynamoDBCheckpointer, "get_next_version", alternating)
    run = gate(capsys, project.args("--checks", "snapshot"))
    assert run.code == 1, run.out
    drifted = {v["name"] for v in project.report()["scenarios"] if "drift" in json.dumps(v)}
    assert drifted == set(NAMES)
    assert "channel_versions" in run.out
