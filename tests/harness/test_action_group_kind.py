"""The ``action-group`` scenario kind: the model, the replay, and the checks and gate
that judge it -- executor-only checks skip it visibly instead of passing blindly."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.authoring import ActionGroupSpec, AwsAnswer, author, invocation_event, seed_log_events
from harness.checks import not_applicable
from harness.checks.cost import check_cost
from harness.checks.order import check_completion_order, fixed_orders
from harness.checks.repeat import check_repeat
from harness.gate import run_gate
from harness.gate.verdict import GateConfig, Status
from harness.kinds.action_group import ActionGroupResult, SetupError
from harness.replayer import replay
from harness.scenario import HttpAnswer, Scenario, ScenarioError, discover, load_scenario
from harness.wire import UnmatchedRequestError

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-05-05T10:00:00Z"
GROUP = "/aws/lambda/orders"
JSON_1_1 = {"content-type": "application/x-amz-json-1.1"}
#: Epoch ms of the seeded log lines: half an hour before NOW.
SEEDED_AT = int(datetime(2026, 5, 5, 9, 30, tzinfo=UTC).timestamp() * 1000)


def _query(**params: str) -> dict[str, Any]:
    base = {
        "logGroupNames": GROUP,
        "queryString": "fields @message",
        "startTime": "2026-05-05T09:00:00Z",
        "endTime": NOW,
    }
    return invocation_event(
        "logs-insights", "runLogsInsightsQuery", {**base, **params}, incident="INC-1", text="t"
    )


SEEDED = seed_log_events(GROUP, "s", [(SEEDED_AT + n * 1000, f"m{n}") for n in range(3)])


def _scenario(**overrides: Any) -> Scenario:
    fields: dict[str, Any] = {
        "name": "ag-orders-logs",
        "description": "orders logs on moto",
        "clock": {"start": NOW},
        "kind": "action-group",
        "action_group": "logs-insights",
        "setup": [s.model_dump() for s in SEEDED],
        "events": [_query()],
    }
    return Scenario.model_validate({**fields, **overrides})


# --------------------------------------------------------------------------- the model


def test_executor_files_are_written_exactly_as_before() -> None:
    """The new fields are omitted from executor files: every bundled one round-trips."""
    executor = [p for p in discover(ROOT / "scenarios") if load_scenario(p).kind == "executor"]
    assert len(executor) >= 16
    for path in executor:
        text = path.read_text(encoding="utf-8")
        assert load_scenario(path).to_json() == text
        assert not {"kind", "action_group", "setup"} & set(json.loads(text))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"action_group": None}, "$: Value error, an action-group scenario names its action_group"),
        (
            {"action_group": "metrics"},
            "$.action_group: Value error, unknown action group 'metrics'",
        ),
        (
            {"kind": "executor"},
            "$: Value error, action_group and setup belong to action-group scenarios",
        ),
        (
            {"setup": [{"client": "s3", "operation": "PutObject"}]},
            "$.setup[0].client: Input should be",
        ),
        (
            {"setup": [{"client": "logs", "operation": "putLogEvents"}]},
            "$.setup[0].operation: String should match",
        ),
        (
            {
                "interactions": [
                    {
                        "service": "cloudwatch-logs",
                        "operation": "CreateLogGroup",
                        "request": {},
                        "response": {"kind": "http", "body": {}},
                    }
                ]
            },
            "setup calls logs.CreateLogGroup, which the scenario also records",
        ),
    ],
    ids=[
        "no-group",
        "unknown-group",
        "executor-with-setup",
        "setup-client",
        "setup-operation",
        "setup-recorded",
    ],
)
def test_invalid_action_group_scenarios_name_the_spot(
    tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    data = json.loads(_scenario().to_json())
    data.update(overrides)
    path = tmp_path / "ag-orders-logs.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert message in str(caught.value)


# --------------------------------------------------------------------------- the replay


def test_replay_result_is_the_action_groups_own() -> None:
    result = replay(_scenario())
    assert isinstance(result, ActionGroupResult)
    canonical = result.canonical()
    assert sorted(canonical) == [
        "action_group",
        "aws_calls",
        "aws_clients",
        "clock",
        "kind",
        "responses",
        "scenario",
    ]
    assert (canonical["kind"], canonical["action_group"]) == ("action-group", "logs-insights")
    # The handler's own client: one attempt, short timeouts (opx.action_groups.aws).
    assert canonical["aws_clients"] == [
        {
            "service": "logs",
            "region": None,
            "config": {
                "connect_timeout": 2,
                "read_timeout": 10,
                "retries": {"mode": "standard", "total_max_attempts": 1},
            },
        }
    ]
    # Setup (CreateLogGroup, PutLogEvents) is the world, not the result.
    assert [(c["operation"], c["served_by"]) for c in canonical["aws_calls"]] == [
        ("StartQuery", "moto"),
        ("GetQueryResults", "moto"),
    ]
    media = canonical["responses"][0]["response"]["responseBody"]["application/json"]
    sent = result.responses[0]["response"]["responseBody"]["application/json"]["body"]
    assert media["body"] == json.loads(sent)
    assert media["body_sha256"] == hashlib.sha256(sent.encode()).hexdigest()
    assert [row["@message"] for row in media["body"]["rows"]] == ["m2", "m1", "m0"]
    assert result.to_canonical_json() == replay(_scenario()).to_canonical_json()


def test_a_failing_setup_call_names_itself() -> None:
    broken = [SEEDED[2].model_dump()]  # PutLogEvents into a log group that was never created
    with pytest.raises(
        SetupError, match=r"^\$\.setup\[0\]: logs\.PutLogEvents failed: ResourceNotFoundException"
    ):
        replay(_scenario(setup=broken))
    with pytest.raises(SetupError, match=r"^\$\.setup\[0\]: logs has no operation PutLogs$"):
        replay(_scenario(setup=[{"client": "logs", "operation": "PutLogs"}]))


def _recorded_query(rows: list[list[dict[str, str]]]) -> Scenario:
    """The logs query answered by recordings: StartQuery, then one complete result."""
    answers = [
        AwsAnswer(
            "cloudwatch-logs", "StartQuery", HttpAnswer(headers=JSON_1_1, body={"queryId": "q-1"})
        ),
        AwsAnswer(
            "cloudwatch-logs",
            "GetQueryResults",
            HttpAnswer(headers=JSON_1_1, body={"status": "Complete", "results": rows}),
        ),
    ]
    return author(
        "action-group",
        ActionGroupSpec(
            name="ag-recorded",
            description="d",
            tags=[],
            clock_start=datetime.fromisoformat(NOW),
            group="logs-insights",
            events=[_query()],
            answers=answers,
        ),
    )


def test_recorded_answers_override_moto_and_moto_never_runs_them() -> None:
    """moto has no query q-1 (it would raise, had it run the request): only the
    recording can have answered."""
    result = replay(_recorded_query([[{"field": "n", "value": "7"}]]))
    body = json.loads(result.responses[0]["response"]["responseBody"]["application/json"]["body"])
    assert body["rows"] == [{"n": "7"}]
    assert [(c["served_by"], c["interaction"]) for c in result.aws_calls] == [
        ("recording", 0),
        ("recording", 1),
    ]


def test_a_request_the_recording_cannot_answer_fails_the_replay() -> None:
    scenario = _recorded_query([])
    changed = scenario.model_copy(update={"events": [_query(queryString="fields @timestamp")]})
    with pytest.raises(UnmatchedRequestError, match=r"unmatched cloudwatch-logs\.StartQuery"):
        replay(changed)


# --------------------------------------------------------------------------- checks and gate


def test_determinism_checks_run_and_executor_checks_say_they_do_not_apply() -> None:
    scenario = _scenario()
    assert check_repeat(scenario, 3).passed
    for result in (
        check_completion_order(scenario, fixed_orders()),
        check_cost(scenario, snapshot=None),
    ):
        assert (result.passed, result.applicable) == (True, False)
        assert "does not apply to action-group scenario ag-orders-logs" in result.summary
    assert not_applicable("resume", scenario) is not None
    executor = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    assert not_applicable("resume", executor) is None


def test_the_gate_judges_an_action_group_scenario(tmp_path: Path) -> None:
    scenario = _scenario()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "scenarios" / f"{scenario.name}.json").write_text(
        scenario.to_json(), encoding="utf-8"
    )
    snapshot = tmp_path / "snapshots" / f"{scenario.name}.json"
    snapshot.write_text(replay(scenario).to_canonical_json(), encoding="utf-8")
    config = GateConfig(
        scenarios=tmp_path / "scenarios",
        snapshots=tmp_path / "snapshots",
        checks=("snapshot", "repeat", "process", "order", "resume"),
    )
    (verdict,) = run_gate(config).verdicts
    statuses = {check: outcome.status for check, outcome in verdict.outcomes.items()}
    assert statuses == {
        "snapshot": Status.PASSED,
        "repeat": Status.PASSED,
        "process": Status.PASSED,
        "order": Status.SKIPPED,
        "resume": Status.SKIPPED,
    }
    assert "does not apply" in verdict.outcomes["order"].summary
    assert verdict.exit_code == 0

    edited = json.loads(snapshot.read_text(encoding="utf-8"))
    edited["aws_calls"][0]["served_by"] = "recording"
    snapshot.write_text(json.dumps(edited, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    drift = run_gate(GateConfig(scenarios=tmp_path / "scenarios", snapshots=tmp_path / "snapshots"))
    assert drift.verdicts[0].outcomes["snapshot"].status == Status.DRIFT
    assert drift.exit_code == 1
