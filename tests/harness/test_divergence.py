"""The divergence report names the first divergent checkpoint, its node and channels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.checks.divergence import compare, first_difference
from harness.replayer import replay
from harness.scenario import load_scenario
from opx import graph as graph_module

SCENARIO = Path(__file__).parents[2] / "scenarios" / "rds-failover.json"


@pytest.fixture(scope="module")
def baseline():
    return replay(load_scenario(SCENARIO))


def _with_consensus_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    real = graph_module.compute_consensus

    def drifting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**real(*args, **kwargs), "run_marker": "second run"}

    monkeypatch.setattr(graph_module, "compute_consensus", drifting)


def test_equal_runs_have_no_divergence(baseline) -> None:
    assert compare(baseline, replay(load_scenario(SCENARIO))) is None


def test_report_names_checkpoint_node_channel_and_shows_the_state_diff(
    baseline, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_consensus_drift(monkeypatch)
    drifted = replay(load_scenario(SCENARIO))

    report = compare(baseline, drifted, expected_label="run 1", actual_label="run 2")

    assert report is not None
    cp = report.checkpoint
    assert cp.writers == ["consensus"]
    assert cp.channels == ["consensus"]
    assert cp.ordinal == [c["writers"] for c in baseline.checkpoints].index(["consensus"])
    assert '+    "run_marker": "second run",' in report.diff.splitlines()
    assert report.sections["final_state"] == "$.final_state.consensus.run_marker"
    assert report.sections["responses"].startswith("$.responses[0].body.consensus")
    text = report.to_text()
    assert text.splitlines()[0] == "divergence: run 1 vs run 2"
    assert "written by consensus; channels: consensus" in text
    assert json.loads(report.to_json())["checkpoint"]["channels"] == ["consensus"]


def test_a_snapshot_can_be_the_expected_side(baseline, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = json.loads((SCENARIO.parents[1] / "snapshots" / SCENARIO.name).read_text())
    assert compare(snapshot, baseline) is None
    _with_consensus_drift(monkeypatch)

    report = compare(snapshot, replay(load_scenario(SCENARIO)), expected_label="snapshot")

    assert report.checkpoint.writers == ["consensus"]
    assert report.checkpoint.channels == ["consensus"]
    assert "run_marker" in report.diff  # no states in a snapshot: the first section's diff


def test_a_difference_outside_the_graph_state_is_said_so(baseline) -> None:
    edited = baseline.canonical()
    edited["metrics"][0]["Execution/DurationMs"] = [1.0]

    report = compare(baseline, edited)

    assert report.checkpoint is None
    assert report.sections == {"metrics": "$.metrics[0].Execution/DurationMs[0]"}
    assert "outside the graph state" in report.to_text()


@pytest.mark.parametrize(
    ("left", "right", "path"),
    [
        ({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]}, "$.b[1]"),
        ({"a": 1}, {"a": 1, "z": 0}, "$.z"),
        ([1], [1, 2], "$[1]"),
        ({"a": {"b": None}}, {"a": {"b": None}}, None),
    ],
)
def test_first_difference(left: Any, right: Any, path: str | None) -> None:
    assert first_difference(left, right) == path
