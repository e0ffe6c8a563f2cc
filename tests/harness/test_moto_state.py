"""Replays in a moto batch (``harness.replayer.moto_state``) start from empty backends,
exactly as replays that start moto themselves do."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from moto.core.base_backend import BackendDict

from harness.replayer import CHECKPOINT_TABLE, Replayer, replay
from harness.replayer.moto_state import batch
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("rds-failover", "ag-history-lookup", "redelivered-event")


def test_a_batch_replays_byte_for_byte_as_single_replays_do() -> None:
    scenarios = [load_scenario(ROOT / "scenarios" / f"{name}.json") for name in NAMES]
    alone = [replay(s).to_canonical_json() for s in scenarios]
    with batch():
        batched = [replay(s).to_canonical_json() for s in scenarios * 2]
    assert batched == alone * 2


def test_each_replay_in_a_batch_starts_from_empty_backends() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    with batch():
        replay(scenario)  # leaves a table full of checkpoints behind, were it kept
        with Replayer().environment(scenario) as env:
            client = env.session.client("dynamodb")
            assert client.list_tables()["TableNames"] == [CHECKPOINT_TABLE]
            assert client.scan(TableName=CHECKPOINT_TABLE)["Items"] == []


def test_without_the_reset_a_batch_would_leak_state() -> None:
    """Self-test of the one thing a batch must do between replays."""
    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    with batch(), mock.patch.object(BackendDict, "reset"):
        replay(scenario)
        with pytest.raises(Exception, match=r"already exists|ResourceInUse"):
            replay(scenario)  # the kind's setup finds the old table


def test_a_batch_keeps_no_model_instances_between_replays() -> None:
    """moto tracks every model instance until a mock stops; a batch that never stops
    must drop them per replay, or a gate worker's memory grows with every scenario."""
    from moto.core.model_instances import model_data

    def tracked() -> int:
        return sum(
            len(getattr(model, "instances_tracked", []))
            for models in model_data.values()
            for model in models.values()
        )

    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    with batch():
        for _ in range(2):  # the first replay of a batch also meets moto's lazy setup
            replay(scenario)
        settled = tracked()
        for _ in range(3):
            replay(scenario)
        assert tracked() == settled
