"""Two deliveries of one event at once, in a scenario: one set of Bedrock calls.

``delivery: concurrent`` stages the overlap deterministically (:mod:`harness.kinds.
overlap`): the duplicate arrives while the first delivery holds the execution's lease.
The executor must answer it "in progress" and pay nothing; with the lease switched
off (the fault this guards against) both deliveries pay, and the replay says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import opx.checkpointing.lease
from harness.kinds import overlap
from harness.replayer import replay
from harness.scenario import Scenario, load_scenario
from harness.wire import UnmatchedRequestError

ROOT = Path(__file__).resolve().parents[2]
NAME = "concurrent-duplicate-delivery"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(ROOT / "scenarios" / f"{NAME}.json")


def test_the_duplicate_is_answered_in_progress_and_every_agent_is_paid_once(
    scenario: Scenario,
) -> None:
    result = replay(scenario)
    assert [r["statusCode"] for r in result.responses] == [200, 409]
    calls = [c["agent"] for c in result.bedrock_calls]
    assert len(calls) == len(set(calls)) == 6


def test_without_the_lease_both_deliveries_pay_and_the_replay_says_so(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault injected: every delivery takes the lease (one owner for all, so the
    holder check always passes). The duplicate runs the agents again; the recording
    holds one answer each, so the second set finds them used up."""
    real = opx.checkpointing.lease.acquire

    def anyone(client: Any, table: str, thread: str, owner: str, *, seconds: int) -> Any:
        return real(client, table, thread, "one-owner-for-all", seconds=seconds)

    monkeypatch.setattr(opx.checkpointing.lease, "acquire", anyone)
    monkeypatch.setattr(overlap, "HOLD_SECONDS", 0.5)
    with pytest.raises(UnmatchedRequestError, match="used up"):
        replay(scenario)


def test_delivery_is_written_only_when_not_sequential(scenario: Scenario) -> None:
    assert json.loads(scenario.to_json())["delivery"] == "concurrent"
    sequential = scenario.model_copy(update={"delivery": "sequential"})
    assert "delivery" not in json.loads(sequential.to_json())
