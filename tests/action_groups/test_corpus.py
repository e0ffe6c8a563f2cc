"""The action-group scenarios: reproducible from their specs (``specs/ag-*.yaml``),
realistic, covering every operation and the error paths, and each doing -- under a
real replay -- what its description promises (so re-approving a snapshot cannot
quietly turn "the query timed out and was stopped" into something else).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.cli.author import main as author_main
from harness.kinds.action_group import ActionGroupResult
from harness.replayer import replay
from harness.scenario import Scenario, discover, load_scenario
from opx.action_groups.registry import ACTION_GROUPS
from tests.action_groups.support import actions

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SPECS = ROOT / "specs"
PATHS = discover(SCENARIOS)
NAMES = [p.stem for p in PATHS if load_scenario(p).kind == "action-group"]
ACCOUNT = "123456789012"


@functools.cache
def _scenario(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.json")


@functools.cache
def _replayed(name: str) -> ActionGroupResult:
    result = replay(_scenario(name))
    assert isinstance(result, ActionGroupResult)
    return result


def _answers(name: str) -> list[tuple[int | str, dict[str, Any]]]:
    """(status or responseState, decoded body) of every response."""
    out = []
    for response in _replayed(name).responses:
        inner = response["response"]
        if "functionResponse" in inner:
            (media,) = inner["functionResponse"]["responseBody"].values()
            out.append(
                (inner["functionResponse"].get("responseState", 200), json.loads(media["body"]))
            )
        else:
            out.append(
                (
                    inner["httpStatusCode"],
                    json.loads(inner["responseBody"]["application/json"]["body"]),
                )
            )
    return out


def test_author_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """The committed files are byte for byte what ``opx-harness author`` writes."""
    specs = [str(SPECS / f"{name}.yaml") for name in NAMES]
    assert author_main(["--check", "--out", str(SCENARIOS), *specs]) == 0
    assert f"{len(NAMES)} scenario files up to date" in capsys.readouterr().out


def test_every_operation_of_every_group_is_exercised() -> None:
    asked = set()
    for name in NAMES:
        scenario = _scenario(name)
        for event in scenario.events:
            if isinstance(event, dict) and "apiPath" in event:
                asked.add((scenario.action_group, event["apiPath"], event.get("httpMethod")))
    for group in ACTION_GROUPS:
        for path, methods in group.load_schema()["paths"].items():
            for method in methods:
                assert (group.name, path, method.upper()) in asked


def test_clock_starts_are_distinct_across_all_scenarios() -> None:
    starts = [load_scenario(p).clock.start for p in PATHS]
    assert len(set(starts)) == len(starts)


@pytest.mark.parametrize("name", NAMES)
def test_scenario_file_is_canonical_realistic_and_approved(name: str) -> None:
    text = (SCENARIOS / f"{name}.json").read_text(encoding="utf-8")
    scenario = _scenario(name)
    assert name.startswith("ag-")
    assert scenario.to_json() == text
    assert len(scenario.description) >= 80
    assert "action-group" in scenario.tags and scenario.tags == sorted(scenario.tags)
    assert len(scenario.tags) >= 3
    assert set(re.findall(r"\b(\d{12})\b", text)) <= {ACCOUNT}
    for email in re.findall(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", text):
        assert email == "example.com" or email.endswith(".example.com"), email
    assert (ROOT / "snapshots" / f"{name}.json").is_file()


# --------------------------------------------------------------------------- per scenario


def _metrics(name: str) -> None:
    (latency_status, latency), (error_status, errors) = _answers(name)
    assert (latency_status, error_status) == (200, 200)
    latency_ms = {m["metricName"]: m for m in latency["metrics"]}
    before, after = latency_ms["Latency"]["datapoints"][:7], latency_ms["Latency"]["datapoints"][7:]
    assert max(p["value"] for p in before) < 150 < 800 < min(p["value"] for p in after)
    assert len(latency_ms["IntegrationLatency"]["datapoints"]) == 12
    five_xx = next(m for m in errors["metrics"] if m["metricName"] == "5XXError")
    assert [p["value"] for p in five_xx["datapoints"]][:7] == [0.0] * 7
    assert five_xx["summary"]["count"] == 12 and five_xx["summary"]["max"] > 0
    assert actions(_replayed(name)) == ["cloudwatch:GetMetricData"] * 2


def _bad_window(name: str) -> None:
    answers = _answers(name)
    assert [status for status, _ in answers] == [400, 400, 400]
    named = [sorted(d["parameter"] for d in body["details"]) for _, body in answers]
    assert named == [["endTime"], ["endTime", "startTime"], ["period", "region"]]
    assert _replayed(name).aws_calls == []


def _logs_moto(name: str) -> None:
    ((status, body),) = _answers(name)
    assert (status, body["status"], body["truncated"], len(body["rows"])) == (
        200,
        "Complete",
        True,
        10,
    )
    assert "PaymentGatewayTimeout" in body["rows"][0]["@message"]  # the newest line, an error
    assert all(c["served_by"] == "moto" for c in _replayed(name).aws_calls)


def _logs_polling(name: str) -> None:
    ((status, body),) = _answers(name)
    assert (status, body["status"], body["partial"]) == (200, "Complete", False)
    assert [row["errors"] for row in body["rows"]] == ["12", "21", "30", "39", "48", "57"]
    assert _replayed(name).clock["slept_s"] == [0.5, 1.0]


def _logs_timeout(name: str) -> None:
    ((status, body),) = _answers(name)
    assert (status, body["status"], body["partial"], body["stopped"]) == (
        200,
        "Running",
        True,
        True,
    )
    assert len(body["rows"]) == 21
    result = _replayed(name)
    assert actions(result)[-1] == "cloudwatch-logs:StopQuery"
    assert result.clock["slept_s"] == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]


def _traces(name: str) -> None:
    ((status, body),) = _answers(name)
    assert (status, body["pages"], body["truncated"], len(body["traces"])) == (200, 2, True, 5)
    flags = [(t["hasFault"], t["hasError"]) for t in body["traces"]]
    assert flags == [(True, False)] * 3 + [(False, True), (False, False)]
    assert body["traces"][0]["faultRootCauses"][0]["exceptions"] == ["PaymentGatewayTimeout"]


def _graph(name: str) -> None:
    (_, whole), (_, focused) = _answers(name)
    services = {s["name"]: s for s in whole["services"]}
    assert len(services) == 5
    payments_edge = next(
        e
        for e in services["checkout-api-handler"]["edges"]
        if e["target"] == "payments.example.com"
    )
    assert payments_edge["faultRate"] == round(212 / 1735, 4)
    assert services["checkout-api/prod"]["throttleRate"] == round(27 / 5000, 4)
    assert [s["name"] for s in focused["services"]] == [
        "checkout-api-handler",
        "payments.example.com",
    ]


def _throttled(name: str) -> None:
    (graph_status, graph), (traces_status, traces) = _answers(name)
    assert (graph_status, graph["error"], graph["retryable"]) == (429, "THROTTLED", True)
    assert (traces_status, traces["traces"]) == (200, [])
    outcomes = [c["outcome"] for c in _replayed(name).aws_calls]
    assert outcomes == ["fault:ThrottledException"] * 2 + [
        "error:ThrottledException",
        "fault:ThrottledException",
        "answer",
    ]


def _history(name: str) -> None:
    (found, incident), (listed, incidents), (missing, _) = _answers(name)
    assert (found, listed, missing) == (200, 200, 404)
    assert incident["incident"]["tags"] == ["lambda", "payments", "timeout"]
    assert [i["incident_id"] for i in incidents["incidents"]] == [
        "INC-2026-0226-0012",
        "INC-2026-0119-0007",
    ]
    assert incidents["more"] is True


def _denied(name: str) -> None:
    ((status, body),) = _answers(name)
    assert (status, body["error"], body["retryable"]) == (403, "ACCESS_DENIED", False)
    assert "dynamodb:GetItem" in body["message"]


def _contract(name: str) -> None:
    statuses = [status for status, _ in _answers(name)]
    assert statuses == [404, 400, "REPROMPT", 400]
    assert _replayed(name).aws_calls == []


#: What each scenario must show, by name.
CHECKS: dict[str, Callable[[str], None]] = {
    "ag-metrics-latency-and-errors": _metrics,
    "ag-metrics-bad-window": _bad_window,
    "ag-logs-recent-errors": _logs_moto,
    "ag-logs-error-stats": _logs_polling,
    "ag-logs-query-timeout": _logs_timeout,
    "ag-xray-trace-summaries": _traces,
    "ag-xray-service-graph": _graph,
    "ag-xray-throttled": _throttled,
    "ag-history-lookup": _history,
    "ag-history-access-denied": _denied,
    "ag-contract-errors": _contract,
}


def test_every_scenario_has_specific_assertions() -> None:
    assert sorted(CHECKS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_scenario_does_what_it_describes(name: str) -> None:
    CHECKS[name](name)
