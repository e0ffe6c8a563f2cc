"""Parameter validation: every bad value is a 400 naming its parameter, before AWS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time
from pydantic import BaseModel

from opx.action_groups.cloudwatch_metrics import MAX_DATAPOINTS, MetricQuery
from opx.action_groups.contract import ActionError, validate
from opx.action_groups.incident_history import IncidentLookup, ServiceIncidents
from opx.action_groups.logs_insights import LogsQuery
from opx.action_groups.params import parse_list
from opx.action_groups.xray import GraphQuery, TraceQuery
from tests.action_groups.support import NOW

HOUR_AGO = "2026-04-02T11:00:00Z"


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    # pytest's own timing keeps the real clock (its reported durations stay true).
    with freeze_time(NOW, ignore=["_pytest"]):
        yield


def _problems(model: type[BaseModel], **arguments: Any) -> dict[str, str]:
    with pytest.raises(ActionError) as caught:
        validate(model, arguments)
    assert caught.value.status == 400
    assert caught.value.code == "INVALID_PARAMETERS"
    return {d["parameter"]: d["message"] for d in caught.value.details}


def _metrics(**overrides: Any) -> dict[str, Any]:
    base = {
        "namespace": "AWS/Lambda",
        "metricNames": "Errors",
        "startTime": HOUR_AGO,
        "endTime": NOW,
    }
    return {**base, **overrides}


# --------------------------------------------------------------------------- windows


def test_times_are_normalized_to_utc() -> None:
    query = validate(MetricQuery, _metrics(startTime="2026-04-02T13:00:00+02:00"))
    assert query.start_time == datetime(2026, 4, 2, 11, 0, tzinfo=UTC)
    assert query.start_time.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        ({"startTime": "2026-04-02T11:00:00"}, {"startTime": "Input should have timezone info"}),
        (
            {"startTime": "yesterday"},
            {"startTime": "Input should be a valid datetime or date, input is too short"},
        ),
        ({"endTime": "2026-04-02T10:00:00Z"}, {"endTime": "must be after startTime"}),
        ({"endTime": HOUR_AGO}, {"endTime": "must be after startTime"}),
        (
            {"endTime": "2026-04-02T12:10:00Z"},
            {"endTime": "is in the future (now is 2026-04-02T12:00:00Z)"},
        ),
        (
            {"startTime": "2026-03-01T00:00:00Z", "period": "3600"},
            {"startTime": "must be within the last 15 d (after 2026-03-18T12:00:00Z)"},
        ),
        (
            {"startTime": "2026-03-24T00:00:00Z", "period": "3600"},
            {"endTime": "the window may span at most 7 d"},
        ),
    ],
    ids=["naive", "not-a-time", "reversed", "empty", "future", "too-old", "too-long"],
)
def test_bad_windows_name_the_time_that_is_wrong(
    overrides: dict[str, Any], problems: dict[str, str]
) -> None:
    assert _problems(MetricQuery, **_metrics(**overrides)) == problems


def test_clock_skew_of_a_few_minutes_is_accepted() -> None:
    assert validate(MetricQuery, _metrics(endTime="2026-04-02T12:04:00Z"))


def test_every_bad_parameter_is_named_at_once() -> None:
    bad = {
        "metricNames": "",
        "statistic": "Median",
        "period": "90",
        "startTime": "2026-04-02T11:00:00",
        "region": "us-east-1",
    }
    problems = _problems(MetricQuery, **_metrics(**bad))
    assert sorted(problems) == sorted(bad)
    assert problems["region"] == "unknown parameter"


def test_a_missing_required_parameter_is_named() -> None:
    assert _problems(MetricQuery, metricNames="Errors", startTime=HOUR_AGO, endTime=NOW) == {
        "namespace": "required"
    }


# --------------------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    "statistic",
    ["Average", "Sum", "Minimum", "Maximum", "SampleCount", "p99", "p99.9", "p50", "p100"],
)
def test_known_statistics_pass(statistic: str) -> None:
    assert validate(MetricQuery, _metrics(statistic=statistic)).statistic == statistic


@pytest.mark.parametrize("statistic", ["average", "p", "p101", "p99.999", "tm99", "Median"])
def test_unknown_statistics_are_refused(statistic: str) -> None:
    message = (
        "must be one of Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p99"
    )
    assert _problems(MetricQuery, **_metrics(statistic=statistic)) == {"statistic": message}


def test_datapoint_budget_names_the_period() -> None:
    names = "A,B,C,D,E"
    problems = _problems(
        MetricQuery, **_metrics(metricNames=names, period="60", startTime="2026-04-02T10:00:00Z")
    )
    # 2 h at 60 s = 120 datapoints per metric, times 5 metrics.
    assert problems == {
        "period": f"5 metric(s) over this window at 60 s give 600 datapoints, more than "
        f"{MAX_DATAPOINTS}: use a longer period or a shorter window"
    }
    assert validate(
        MetricQuery, _metrics(metricNames=names, period="120", startTime="2026-04-02T10:00:00Z")
    )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("A,A", "names a metric more than once"),
        ("A,B,C,D,E,F", "List should have at most 5 items after validation, not 6"),
        ("", "List should have at least 1 item after validation, not 0"),
        (f'["{"x" * 256}"]', "each name must be 1-255 characters"),
    ],
)
def test_metric_names_are_bounded(names: str, message: str) -> None:
    assert _problems(MetricQuery, **_metrics(metricNames=names)) == {"metricNames": message}


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("ApiName=checkout-api, Stage=prod", {"ApiName": "checkout-api", "Stage": "prod"}),
        ('{"FunctionName": "checkout"}', {"FunctionName": "checkout"}),
        ("", {}),
    ],
)
def test_dimensions_forms(given: str, parsed: dict[str, str]) -> None:
    assert validate(MetricQuery, _metrics(dimensions=given)).dimensions == parsed


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("ApiName", "'ApiName' is not Name=Value"),
        ("=prod", "'=prod' is not Name=Value"),
        ("{not json", "is not a JSON object of name to value"),
        (
            ",".join(f"D{n}=v" for n in range(11)),
            "Value should have at most 10 items after validation, not 11",
        ),
    ],
)
def test_bad_dimensions_are_named(given: str, message: str) -> None:
    assert _problems(MetricQuery, **_metrics(dimensions=given)) == {"dimensions": message}


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ('["a", "b"]', ["a", "b"]),
        ("[a, b]", ["a", "b"]),
        ("a,b", ["a", "b"]),
        (" a ", ["a"]),
        ("['a', \"b\"]", ["a", "b"]),
        (["a"], ["a"]),
    ],
)
def test_list_parameters_in_every_form_agents_send(given: Any, parsed: list[str]) -> None:
    assert parse_list(given) == parsed


# --------------------------------------------------------------------------- logs, xray, history


def test_logs_query_bounds() -> None:
    problems = _problems(
        LogsQuery,
        logGroupNames="/aws/lambda/ok, bad name!",
        queryString="",
        limit="1000",
        startTime="2026-03-20T00:00:00Z",
        endTime=NOW,
    )
    assert problems == {
        "logGroupNames": "not a log group name: bad name!",
        "queryString": "String should have at least 1 character",
        "limit": "Input should be less than or equal to 100",
        "endTime": "the window may span at most 7 d",
    }


def test_log_groups_are_deduplicated_and_sorted() -> None:
    query = validate(
        LogsQuery,
        {
            "logGroupNames": "/b,/a,/b",
            "queryString": "fields @message",
            "startTime": HOUR_AGO,
            "endTime": NOW,
        },
    )
    assert query.log_group_names == ["/a", "/b"]


def test_xray_windows_are_six_hours_at_most() -> None:
    for model in (TraceQuery, GraphQuery):
        assert _problems(model, startTime="2026-04-02T05:00:00Z", endTime=NOW) == {
            "endTime": "the window may span at most 6 h"
        }
    assert _problems(TraceQuery, startTime=HOUR_AGO, endTime=NOW, limit="0") == {
        "limit": "Input should be greater than or equal to 1"
    }


def test_history_parameters() -> None:
    assert _problems(IncidentLookup, incidentId="INC 1") == {
        "incidentId": "String should match pattern '^[A-Za-z0-9._:-]{1,128}$'"
    }
    assert _problems(ServiceIncidents, serviceName="checkout", since=NOW, until=HOUR_AGO) == {
        "until": "must be after since"
    }
    assert _problems(ServiceIncidents, serviceName="checkout", limit="26") == {
        "limit": "Input should be less than or equal to 25"
    }
