"""Issue 15's blind spots, each injected on purpose: ``opx-harness gate`` exits non-zero
with a message that names it.

Before issue 15 every one of these left the gate green: the snapshot held no
checkpoint-table attributes, the request fingerprint decoded ``inputText`` (so its
bytes were free), and the cost check recomputed only the agents the response listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.scenario import Scenario
from tests.harness.conftest import AGREED, THROTTLED
from tests.harness.gate_support import Project, gate, make_project


@pytest.fixture
def project(tmp_path: Path, authored: dict[str, Scenario], approved: dict[str, str]) -> Project:
    names = (AGREED, THROTTLED)
    return make_project(
        tmp_path,
        {name: authored[name].to_json() for name in names},
        {name: approved[name] for name in names},
    )


def _wrap_encode_head(monkeypatch: pytest.MonkeyPatch, change: Callable[[dict], None]) -> None:
    from opx.checkpointing import items

    real = items.encode_head

    def encode_head(**kwargs: Any) -> Any:
        change(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(items, "encode_head", encode_head)


def _gate(capsys: pytest.CaptureFixture[str], project: Project, *extra: str) -> tuple[int, str]:
    run = gate(capsys, project.args(*extra))
    return run.code, run.out


# --------------------------------------------------------------------------- table items


def test_a_ttl_a_second_per_day_too_long_is_drift_naming_ttl(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opx.checkpointing import saver

    monkeypatch.setattr(saver, "SECONDS_PER_DAY", 86_401)
    code, out = _gate(capsys, project)
    # Drift (1) -- and, since a value outside its step's window is shown to the
    # second, which parallel branches make vary, also nondeterminism (2, which wins).
    assert code in (1, 2), out
    assert "snapshot: drift" in out and "first at $.table[0].ttl.N" in out
    assert '+        "N": "clock.start+30d+30s"' in out  # 30 extra seconds, clock-relative


def test_an_already_expired_ttl_is_drift(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opx.checkpointing import DynamoDBCheckpointer

    monkeypatch.setattr(DynamoDBCheckpointer, "_ttl", lambda self: 0)
    code, out = _gate(capsys, project)
    assert code == 1, out
    # Expired items read as absent (issue 16): the read-back finds no checkpoint at all,
    # so the drift shows first in the final state, and the table names the TTLs.
    assert "first at $.final_state" in out
    assert "table: first difference at $.table" in out


def test_a_dropped_incident_id_index_attribute_is_drift_naming_it(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wrap_encode_head(monkeypatch, lambda kwargs: kwargs.update(incident_id=None))
    code, out = _gate(capsys, project)
    assert code == 1, out
    assert "first at $.table[0].incident_id" in out and '-      "incident_id": {' in out


def test_created_at_from_the_wrong_clock_is_drift_naming_it(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local clock (UTC+1) written as UTC: the GSI orders executions wrongly."""

    def local_clock(kwargs: dict) -> None:
        kwargs["created_at"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    _wrap_encode_head(monkeypatch, local_clock)
    code, out = _gate(capsys, project)
    # The clock read at put time also depends on which branch finished first: the
    # repeat check may call it nondeterministic (2) as well as the snapshot drift (1).
    assert code in (1, 2), out
    assert "snapshot: drift" in out
    assert "$.table[0].created_at.S" in out and "clock.start+3600s" in out


def test_an_index_keyed_on_another_attribute_is_drift_naming_the_index(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table definition and the items disagree on the GSI key: every item still
    carries ``incident_id`` (the table section is unchanged), but the sparse index holds
    none of them, and the query ``opx-harness import`` makes for the incident fails."""
    from opx.checkpointing import TableSchema

    real = TableSchema.create_table_request

    def renamed(self: TableSchema, table_name: str) -> dict[str, Any]:
        request = real(self, table_name)
        index = request["GlobalSecondaryIndexes"][0]
        index["KeySchema"][0]["AttributeName"] = "incidentId"
        for definition in request["AttributeDefinitions"]:
            if definition["AttributeName"] == "incident_id":
                definition["AttributeName"] = "incidentId"
        return request

    monkeypatch.setattr(TableSchema, "create_table_request", renamed)
    code, out = _gate(capsys, project)
    assert code == 1, out
    assert "snapshot: drift" in out and "every checkpoint agrees" in out
    assert '+    "INC-2026-0001": "ValidationException: Query condition missed' in out


# --------------------------------------------------------------------------- request bytes


@pytest.mark.parametrize(
    ("spelling", "encode", "shown"),
    [
        ("pretty-printed", lambda v: json.dumps(v, sort_keys=True, indent=1), "canonical"),
        ("key-reordered", lambda v: json.dumps(v, separators=(",", ":")), "prompt_version"),
        (
            "ascii-escaped",
            lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True),
            "\\\\u",
        ),
    ],
)
def test_a_prompt_in_other_bytes_is_an_unrecorded_call_with_a_readable_diff(
    capsys: pytest.CaptureFixture[str],
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    spelling: str,
    encode: Callable[[Any], str],
    shown: str,
) -> None:
    from opx.agents import prompts

    monkeypatch.setattr(prompts, "canonical_json", encode)
    code, out = _gate(capsys, project)
    assert code == 3, (spelling, out)
    assert "unrecorded call" in out
    assert "not the canonical JSON encoding" in out
    # The diff is the readable decoded request plus one line saying where bytes differ.
    assert '+  "inputText": {' not in out  # the decoded prompt itself is unchanged
    assert "__wire_encoding__" in out and shown in out


def test_the_canonical_encoding_matches_what_the_executor_sends() -> None:
    from harness.wire.requests import canonical
    from opx.agents.prompts import canonical_json

    value = {"b": [1, 2.5, "é—"], "a": {"z": None, "y": True}}
    assert canonical(value) == canonical_json(value)


# --------------------------------------------------------------------------- cost


def test_a_response_that_drops_an_agents_spend_fails_the_cost_check_naming_it(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opx import graph

    real = graph.cost_report

    def without_strategy(results: Any, pricing: Any) -> Any:
        return real({a: r for a, r in results.items() if a != "response-strategy"}, pricing)

    monkeypatch.setattr(graph, "cost_report", without_strategy)
    code, out = _gate(capsys, project, "--checks", "cost")
    assert code == 1, out
    assert "drops response-strategy's spend" in out


# --------------------------------------------------------------------------- specific fetch


def test_a_fetch_by_checkpoint_id_that_returns_the_latest_is_drift_naming_it(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opx.checkpointing import DynamoDBCheckpointer

    real = DynamoDBCheckpointer.get_tuple

    def latest_always(self: Any, config: Any) -> Any:
        conf = {k: v for k, v in config["configurable"].items() if k != "checkpoint_id"}
        return real(self, {"configurable": conf})

    monkeypatch.setattr(DynamoDBCheckpointer, "get_tuple", latest_always)
    code, out = _gate(capsys, project)
    assert code == 1, out
    assert ".fetched_by_id" in out and '"fetched_by_id": "another checkpoint"' in out


# --------------------------------------------------------------------------- client configuration


def test_a_changed_client_timeout_is_drift_naming_the_client(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay answers every request, so no timeout is ever felt; the configuration
    the executor builds its clients with is in the snapshot instead (found by the
    mutation sample: ``connect_timeout=3`` -> ``2`` in ``opx/aws.py`` survived)."""
    from botocore.config import Config

    from opx import aws

    monkeypatch.setattr(aws, "AWS_CONFIG", Config(retries={"mode": "standard"}, connect_timeout=2))
    code, out = _gate(capsys, project)
    assert code == 1, out
    assert "snapshot: drift" in out and "first at $.aws_clients" in out
    assert '"connect_timeout": 2' in out


def test_a_client_built_without_its_configuration_is_drift(
    capsys: pytest.CaptureFixture[str], project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropping ``config=`` (botocore's defaults: legacy retries, 60 s timeouts) drops
    the client from the list: the gate says so."""
    from opx import aws

    monkeypatch.setattr(aws, "bedrock_client_config", lambda: None)
    code, out = _gate(capsys, project)
    assert code == 1, out
    assert "first at $.aws_clients" in out
