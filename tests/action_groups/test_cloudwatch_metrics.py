"""cloudwatch-metrics on moto: seeded datapoints in, the right aggregates out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import fmean

from harness.scenario import SetupCall
from tests.action_groups.support import actions, answered, event, run

START = datetime(2026, 4, 2, 11, 0, tzinfo=UTC)
CHECKOUT = [{"Name": "FunctionName", "Value": "checkout"}]
OTHER = [{"Name": "FunctionName", "Value": "inventory"}]


def _duration(minute: int) -> float:
    return 100.0 + minute * 2.5 + (minute % 3) * 0.25


def _seed(name: str, dimensions: list[dict[str, str]], value: Callable[[int], float]) -> SetupCall:
    return SetupCall(
        client="cloudwatch",
        operation="PutMetricData",
        params={
            "Namespace": "AWS/Lambda",
            "MetricData": [
                {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Timestamp": (START + timedelta(minutes=m)).isoformat(),
                    "Value": value(m),
                }
                for m in range(60)
            ],
        },
    )


SETUP = [
    _seed("Duration", CHECKOUT, _duration),
    _seed("Duration", OTHER, lambda m: 5000.0),  # must never leak into checkout's numbers
    _seed("Errors", CHECKOUT, lambda m: float(m % 4)),
]


def _ask(**params: str) -> dict[str, object]:
    window = {"startTime": "2026-04-02T11:00:00Z", "endTime": "2026-04-02T12:00:00Z"}
    return event(
        "cloudwatch-metrics",
        "getMetricData",
        namespace="AWS/Lambda",
        dimensions="FunctionName=checkout",
        **window,
        **params,
    )


def test_average_per_period_from_the_seeded_values() -> None:
    result = run("cloudwatch-metrics", [_ask(metricNames="Duration", period="600")], setup=SETUP)
    status, body = answered(result.responses[0])
    assert status == 200
    (metric,) = body["metrics"]
    expected = [fmean(_duration(m) for m in range(k, k + 10)) for k in range(0, 60, 10)]
    assert [p["value"] for p in metric["datapoints"]] == expected
    assert [p["timestamp"] for p in metric["datapoints"]] == [
        f"2026-04-02T11:{k:02d}:00Z" for k in range(0, 60, 10)
    ]
    assert metric["summary"] == {
        "count": 6,
        "min": min(expected),
        "max": max(expected),
        "mean": float((sum(Decimal(repr(v)) for v in expected) / 6).quantize(Decimal("0.0001"))),
        "last": expected[-1],
    }
    assert body["partial"] is False
    assert actions(result) == ["cloudwatch:GetMetricData"]


def test_several_metrics_one_call_sum_and_sample_count() -> None:
    result = run(
        "cloudwatch-metrics",
        [
            _ask(metricNames='["Errors", "Duration"]', statistic="Sum", period="1800"),
            _ask(metricNames="Errors", statistic="SampleCount", period="3600"),
        ],
        setup=SETUP,
    )
    _, sums = answered(result.responses[0])
    errors, duration = sums["metrics"]
    assert (errors["metricName"], duration["metricName"]) == ("Errors", "Duration")
    assert [p["value"] for p in errors["datapoints"]] == [
        float(sum(m % 4 for m in range(0, 30))),
        float(sum(m % 4 for m in range(30, 60))),
    ]
    assert [p["value"] for p in duration["datapoints"]] == [
        sum(_duration(m) for m in range(0, 30)),
        sum(_duration(m) for m in range(30, 60)),
    ]
    _, counts = answered(result.responses[1])
    assert counts["metrics"][0]["datapoints"] == [
        {"timestamp": "2026-04-02T11:00:00Z", "value": 60.0}
    ]
    assert actions(result) == ["cloudwatch:GetMetricData"] * 2


def test_a_metric_without_data_is_empty_not_an_error() -> None:
    result = run("cloudwatch-metrics", [_ask(metricNames="Throttles")], setup=SETUP)
    status, body = answered(result.responses[0])
    assert status == 200
    assert body["metrics"] == [
        {
            "metricName": "Throttles",
            "status": "Complete",
            "datapoints": [],
            "summary": {"count": 0, "min": None, "max": None, "mean": None, "last": None},
        }
    ]
