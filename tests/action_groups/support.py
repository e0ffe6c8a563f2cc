"""Running action-group handlers the way the replay harness does, for the tests.

``run`` builds an in-memory ``action-group`` scenario -- events, moto seed data,
recorded answers -- and replays it: fresh moto, frozen clock, no network, every AWS
call observed. Recorded answers get their requests from the handler itself
(``harness.action_group_authoring.author``), so no test types a request by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from harness.authoring import ActionGroupSpec, AwsAnswer, author, invocation_event
from harness.kinds.action_group import ActionGroupResult
from harness.replayer import replay
from harness.scenario import SetupCall

#: The frozen "now" of every test run (inside X-Ray's and CloudWatch's retention).
NOW = "2026-04-02T12:00:00Z"
INCIDENT = "INC-2026-0402-0001"
HISTORY_TABLE = "opx-incident-history-test"


def event(group: str, operation: str, **params: str) -> dict[str, Any]:
    """An OpenAPI invocation of ``operation`` with string parameter values."""
    return invocation_event(group, operation, params, incident=INCIDENT, text="test")


def run(
    group: str,
    events: Sequence[Any],
    *,
    setup: Sequence[SetupCall] = (),
    answers: Sequence[AwsAnswer] = (),
    env: Mapping[str, str] | None = None,
    start: str = NOW,
) -> ActionGroupResult:
    scenario = author(
        "action-group",
        ActionGroupSpec(
            name="test",
            description="test",
            tags=[],
            clock_start=datetime.fromisoformat(start),
            group=group,
            events=events,
            setup=setup,
            answers=answers,
            env=env or {},
        ),
    )
    result = replay(scenario)
    assert isinstance(result, ActionGroupResult)
    return result


def status(response: dict[str, Any]) -> int:
    return response["response"]["httpStatusCode"]


def body(response: dict[str, Any]) -> Any:
    """The decoded body of an OpenAPI-shaped response."""
    return json.loads(response["response"]["responseBody"]["application/json"]["body"])


def answered(response: dict[str, Any]) -> tuple[int, Any]:
    return status(response), body(response)


def actions(result: ActionGroupResult) -> list[str]:
    """``service:Operation`` of every AWS call the handler made, in order."""
    return [f"{c['service']}:{c['operation']}" for c in result.aws_calls]
