"""Action group ``cloudwatch-metrics``: named CloudWatch metrics over a time window.

``POST /metrics/query`` reads up to :data:`MAX_METRICS` metrics of one namespace and
dimension set with one ``GetMetricData`` call (at most :data:`MAX_PAGES` pages) and
answers each metric's datapoints, oldest first, plus a summary (count, min, max,
mean, last) so the agent need not add numbers itself. The window and period are
bounded so the answer stays within Bedrock's response limit: at most
:data:`MAX_DATAPOINTS` datapoints across all metrics.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from opx.action_groups.aws import Pages, client
from opx.action_groups.contract import Operation, dispatch
from opx.action_groups.params import StringList, Window, iso

GROUP = "cloudwatch-metrics"
MAX_METRICS = 5
MAX_DIMENSIONS = 10
MAX_DATAPOINTS = 360
MAX_PAGES = 3
BASIC_STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
_PERCENTILE = re.compile(r"^p(100|\d{1,2}(\.\d{1,2})?)$")
MEAN_PLACES = Decimal("0.0001")


def parse_dimensions(value: Any) -> Any:
    """Dimensions as ``Name=Value,Name=Value`` or a JSON object."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("is not a JSON object of name to value") from None
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, dimension_value = part.partition("=")
        if not sep or not name.strip() or not dimension_value.strip():
            raise ValueError(f"{part!r} is not Name=Value")
        pairs[name.strip()] = dimension_value.strip()
    return pairs


DimensionName = Annotated[str, Field(min_length=1, max_length=255)]
DimensionValue = Annotated[str, Field(min_length=1, max_length=1024)]
Dimensions = Annotated[
    dict[DimensionName, DimensionValue],
    BeforeValidator(parse_dimensions),
    Field(max_length=MAX_DIMENSIONS),
]


class MetricQuery(Window):
    """``POST /metrics/query``: window of at most 7 days within the last 15 (CloudWatch
    keeps 1-minute data that long)."""

    MAX_SPAN = timedelta(days=7)
    MAX_AGE = timedelta(days=15)

    namespace: str = Field(min_length=1, max_length=255)
    metric_names: StringList = Field(min_length=1, max_length=MAX_METRICS)
    dimensions: Dimensions = Field(default_factory=dict)
    statistic: str = "Average"
    period: int = Field(default=300, ge=60, le=86400)

    @field_validator("metric_names")
    @classmethod
    def _distinct_names(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("names a metric more than once")
        if any(not 1 <= len(name) <= 255 for name in names):
            raise ValueError("each name must be 1-255 characters")
        return names

    @field_validator("statistic")
    @classmethod
    def _known_statistic(cls, statistic: str) -> str:
        if statistic not in BASIC_STATISTICS and not _PERCENTILE.match(statistic):
            raise ValueError(
                f"must be one of {', '.join(BASIC_STATISTICS)} or a percentile such as p99"
            )
        return statistic

    @field_validator("period")
    @classmethod
    def _bounded_datapoints(cls, period: int, info: ValidationInfo) -> int:
        if period % 60:
            raise ValueError("must be a multiple of 60 seconds")
        start, end = info.data.get("start_time"), info.data.get("end_time")
        names = info.data.get("metric_names")
        if start is None or end is None or names is None:
            return period
        points = -(-int((end - start).total_seconds()) // period) * len(names)
        if points > MAX_DATAPOINTS:
            raise ValueError(
                f"{len(names)} metric(s) over this window at {period} s give {points} "
                f"datapoints, more than {MAX_DATAPOINTS}: use a longer period or a shorter window"
            )
        return period


def _queries(query: MetricQuery) -> list[dict[str, Any]]:
    dimensions = [{"Name": n, "Value": v} for n, v in sorted(query.dimensions.items())]
    return [
        {
            "Id": f"m{index}",
            "Label": name,
            "MetricStat": {
                "Metric": {
                    "Namespace": query.namespace,
                    "MetricName": name,
                    "Dimensions": dimensions,
                },
                "Period": query.period,
                "Stat": query.statistic,
            },
            "ReturnData": True,
        }
        for index, name in enumerate(query.metric_names)
    ]


def summarize(values: list[float]) -> dict[str, Any]:
    """Count, min, max, mean (4 places, half-even) and last of a metric's values."""
    if not values:
        return {"count": 0, "min": None, "max": None, "mean": None, "last": None}
    total = sum((Decimal(repr(v)) for v in values), Decimal(0))
    return {
        "count": len(values),
        "min": min(values),
        "max": max(values),
        "mean": (total / len(values)).quantize(MEAN_PLACES, ROUND_HALF_EVEN),
        "last": values[-1],
    }


def get_metric_data(query: MetricQuery) -> dict[str, Any]:
    request: dict[str, Any] = {
        "MetricDataQueries": _queries(query),
        "StartTime": query.start_time,
        "EndTime": query.end_time,
        "ScanBy": "TimestampAscending",
        "MaxDatapoints": MAX_DATAPOINTS,
    }
    points: dict[str, dict[Any, float]] = {f"m{i}": {} for i in range(len(query.metric_names))}
    statuses: dict[str, str] = {}
    messages: set[str] = set()
    reader = Pages(client("cloudwatch").get_metric_data, request, max_pages=MAX_PAGES)
    for page in reader:
        for result in page.get("MetricDataResults", []):
            series = points.setdefault(result["Id"], {})
            series.update(zip(result.get("Timestamps", []), result.get("Values", []), strict=True))
            statuses[result["Id"]] = result.get("StatusCode", "Complete")
        messages |= {m.get("Value", "") for m in page.get("Messages", [])}
    metrics = []
    for index, name in enumerate(query.metric_names):
        series = sorted(points[f"m{index}"].items())
        metrics.append(
            {
                "metricName": name,
                "status": statuses.get(f"m{index}", "Complete"),
                "datapoints": [{"timestamp": iso(t), "value": v} for t, v in series],
                "summary": summarize([v for _, v in series]),
            }
        )
    return {
        "namespace": query.namespace,
        "dimensions": dict(sorted(query.dimensions.items())),
        "statistic": query.statistic,
        "period": query.period,
        "startTime": iso(query.start_time),
        "endTime": iso(query.end_time),
        "metrics": metrics,
        "messages": sorted(m for m in messages if m),
        "partial": reader.more or any(m["status"] != "Complete" for m in metrics),
    }


OPERATIONS = (Operation("/metrics/query", "POST", "getMetricData", MetricQuery, get_metric_data),)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point of the ``cloudwatch-metrics`` action group."""
    return dispatch(GROUP, OPERATIONS, event)
