"""A handler never raises and always answers a well-formed envelope, whatever arrives:
arbitrary JSON, or a valid invocation with fields dropped, retyped or garbled.

Runs on moto with no network: a mutated event that is still valid reaches moto (empty
state, so AWS errors are exercised too), never AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from harness.replayer import environment, no_network
from opx.action_groups.registry import ACTION_GROUPS
from tests.action_groups.support import NOW, event

STATUSES = {200, 400, 403, 404, 429, 500, 502, 504}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

VALID = [
    event(
        "cloudwatch-metrics",
        "getMetricData",
        namespace="AWS/Lambda",
        metricNames="Errors",
        startTime="2026-04-02T11:00:00Z",
        endTime=NOW,
    ),
    event(
        "logs-insights",
        "runLogsInsightsQuery",
        logGroupNames="/aws/lambda/x",
        queryString="fields @message",
        startTime="2026-04-02T11:00:00Z",
        endTime=NOW,
    ),
    event(
        "xray",
        "getTraceSummaries",
        startTime="2026-04-02T11:00:00Z",
        endTime=NOW,
        filterExpression="fault = true",
    ),
    event("xray", "getServiceGraph", startTime="2026-04-02T11:00:00Z", endTime=NOW),
    event("incident-history", "getIncident", incidentId="INC-1"),
    event("incident-history", "listServiceIncidents", serviceName="checkout", limit="3"),
]
KEYS = sorted({key for e in VALID for key in e})


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid invocation with some top-level fields and parameter values changed."""
    sent = json.loads(json.dumps(draw(st.sampled_from(VALID))))  # a copy to mutate
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(KEYS))
        action = draw(st.sampled_from(["drop", "replace", "parameter"]))
        if action == "drop":
            sent.pop(key, None)
        elif action == "replace":
            sent[key] = draw(json_values)
        else:
            given_parameters = sent.get("parameters")
            listed = given_parameters if isinstance(given_parameters, list) else []
            parameters = [p for p in listed if isinstance(p, dict)]
            if parameters:
                draw(st.sampled_from(parameters))["value"] = draw(json_values)
    return sent


@contextmanager
def _offline_aws() -> Iterator[None]:
    previous = boto3.DEFAULT_SESSION
    with (
        environment({"INCIDENT_HISTORY_TABLE": "history"}),
        mock_aws(),
        no_network(),
        freeze_time(NOW),
    ):
        boto3.DEFAULT_SESSION = boto3.Session()
        try:
            yield
        finally:
            boto3.DEFAULT_SESSION = previous


def _well_formed(response: Any) -> None:
    assert isinstance(response, dict)
    assert response["messageVersion"] == "1.0"
    assert isinstance(response["sessionAttributes"], dict)
    assert isinstance(response["promptSessionAttributes"], dict)
    inner = response["response"]
    assert isinstance(inner["actionGroup"], str)
    if "function" in inner:
        (media,) = inner["functionResponse"]["responseBody"].values()
    else:
        assert inner["httpStatusCode"] in STATUSES
        media = inner["responseBody"]["application/json"]
    decoded = json.loads(media["body"])
    assert isinstance(decoded, dict)
    if "error" in decoded:
        assert isinstance(decoded["message"], str) and isinstance(decoded["retryable"], bool)


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@SETTINGS
@given(sent=json_values | mutated())
def test_handlers_never_raise(sent: Any) -> None:
    with _offline_aws():
        for group in ACTION_GROUPS:
            _well_formed(group.load_handler()(sent, None))
