"""incident-history on moto: GetItem and Query only, items as exact JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary

from harness.authoring import AwsAnswer
from harness.scenario import ErrorAnswer, SetupCall
from opx.action_groups.incident_history import (
    MAX_LIST_ITEMS,
    MAX_VALUE_CHARS,
    plain,
    table_definition,
)
from tests.action_groups.support import HISTORY_TABLE, actions, answered, event, run

ENV = {"INCIDENT_HISTORY_TABLE": HISTORY_TABLE}


def _put(incident: str, service: str, created: str, **extra: Any) -> SetupCall:
    item = {"incident_id": {"S": incident}, "service": {"S": service}, "created_at": {"S": created}}
    return SetupCall(
        client="dynamodb",
        operation="PutItem",
        params={"TableName": HISTORY_TABLE, "Item": {**item, **extra}},
    )


SETUP = [
    SetupCall(client="dynamodb", operation="CreateTable", params=table_definition(HISTORY_TABLE)),
    _put(
        "INC-1",
        "checkout",
        "2026-01-10T08:00:00Z",
        duration_minutes={"N": "42"},
        cost_usd={"N": "12.75"},
        tags={"SS": ["timeout", "payments"]},
        notes={"S": "x" * (MAX_VALUE_CHARS + 50)},
        blob={"B": b"\x00\x01\x02"},
        timeline={"L": [{"S": f"step {n}"} for n in range(MAX_LIST_ITEMS + 5)]},
    ),
    _put("INC-2", "checkout", "2026-02-20T09:30:00Z"),
    _put("INC-3", "checkout", "2026-03-30T23:59:59Z"),
    _put("INC-4", "inventory", "2026-03-01T00:00:00Z"),
    _put("INC-5", "checkout", "2025-01-01T00:00:00Z"),  # older than the default year
]


def test_get_incident_answers_exact_json() -> None:
    result = run(
        "incident-history",
        [event("incident-history", "getIncident", incidentId="INC-1")],
        setup=SETUP,
        env=ENV,
    )
    status, body = answered(result.responses[0])
    assert status == 200
    incident = body["incident"]
    assert incident["duration_minutes"] == 42 and isinstance(incident["duration_minutes"], int)
    assert incident["cost_usd"] == 12.75
    assert incident["tags"] == ["payments", "timeout"]
    assert incident["notes"] == "x" * (MAX_VALUE_CHARS - 1) + "…"
    assert incident["blob"] == {"binaryBytes": 3}
    assert incident["timeline"] == [f"step {n}" for n in range(MAX_LIST_ITEMS)]
    assert body["truncated"] is True
    assert actions(result) == ["dynamodb:GetItem"]


def test_unknown_incident_is_a_404() -> None:
    result = run(
        "incident-history",
        [event("incident-history", "getIncident", incidentId="INC-9")],
        setup=SETUP,
        env=ENV,
    )
    assert answered(result.responses[0]) == (
        404,
        {
            "error": "INCIDENT_NOT_FOUND",
            "message": "no incident INC-9 in the history",
            "retryable": False,
        },
    )


def test_service_incidents_newest_first_within_the_window() -> None:
    events = [
        event("incident-history", "listServiceIncidents", serviceName="checkout"),
        event("incident-history", "listServiceIncidents", serviceName="checkout", limit="2"),
        event(
            "incident-history",
            "listServiceIncidents",
            serviceName="checkout",
            since="2026-02-01T00:00:00Z",
            until="2026-03-01T00:00:00Z",
        ),
    ]
    result = run("incident-history", events, setup=SETUP, env=ENV)
    every, limited, window = (answered(r)[1] for r in result.responses)
    # now = 2026-04-02: a year back reaches INC-1..3, not INC-5 (2025-01-01) nor inventory's.
    assert [i["incident_id"] for i in every["incidents"]] == ["INC-3", "INC-2", "INC-1"]
    assert (every["since"], every["until"]) == ("2025-04-02T12:00:00Z", "2026-04-02T12:00:00Z")
    assert [i["incident_id"] for i in limited["incidents"]] == ["INC-3", "INC-2"]
    assert limited["more"] is True
    assert [i["incident_id"] for i in window["incidents"]] == ["INC-2"]
    assert actions(result) == ["dynamodb:Query"] * 3


def test_missing_configuration_and_missing_table_are_named() -> None:
    ask = event("incident-history", "getIncident", incidentId="INC-1")
    status, body = answered(run("incident-history", [ask]).responses[0])
    assert (status, body["error"]) == (500, "CONFIGURATION_ERROR")
    assert body["message"] == "INCIDENT_HISTORY_TABLE is not set"
    status, body = answered(run("incident-history", [ask], env=ENV).responses[0])
    assert (status, body["error"]) == (404, "RESOURCE_NOT_FOUND")


def test_access_denied_is_a_403_without_retries() -> None:
    denied = ErrorAnswer(
        status=400,
        code="AccessDeniedException",
        message="not authorized to perform: dynamodb:Query",
    )
    result = run(
        "incident-history",
        [event("incident-history", "listServiceIncidents", serviceName="checkout")],
        answers=[AwsAnswer("dynamodb", "Query", denied)],
        env=ENV,
    )
    status, body = answered(result.responses[0])
    assert (status, body["error"], body["retryable"]) == (403, "ACCESS_DENIED", False)
    assert (
        body["message"]
        == "Query failed with AccessDeniedException: not authorized to perform: dynamodb:Query"
    )
    assert result.clock["slept_s"] == []


def test_plain_keeps_numbers_exact() -> None:
    assert plain(Decimal("3")) == (3, False)
    assert plain(Decimal("0.1")) == (Decimal("0.1"), False)
    assert plain({"b": {Decimal("10"), Decimal("9")}, "a": Binary(b"xy")}) == (
        {"a": {"binaryBytes": 2}, "b": [9, 10]},
        False,
    )
    assert plain({Binary(b"b"), Binary(b"a")}) == ([{"binaryBytes": 1}] * 2, False)
