#!/usr/bin/env python3
"""Author the action-group scenarios: ``scenarios/ag-<name>.json``.

An action-group scenario is one Bedrock action-group invocation (or a few) of one
group, the AWS data moto is seeded with (``setup``), and the recorded answers of the
AWS reads moto does not serve faithfully (Logs Insights polling and ``StopQuery``,
X-Ray filter expressions, pagination and the service graph, throttling and access
errors). What a reviewer decides -- the invocations, the seeded data, the recorded
answers in AWS's real response shapes -- is written here once; the *requests* in the
files are recorded by running the real handler (:func:`record`), never typed, and
``--check`` keeps the files and this script from drifting (a test runs it).

Usage::

    python tools/build_action_group_corpus.py            # (re)write the ag-* files
    python tools/build_action_group_corpus.py --check    # exit 1 if a file is stale

Deterministic by construction: fixed clocks and ids, values computed from the minute
index, no randomness.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_corpus as corpus

from harness.authoring import ActionGroupSpec, author, invocation_event, seed_log_events
from harness.authoring import AwsAnswer as Answer
from harness.scenario import ErrorAnswer, Fault, HttpAnswer, Scenario, SetupCall
from opx.action_groups.incident_history import table_definition

TOOL = "tools/build_action_group_corpus.py"
BUILDERS: dict[str, corpus.Builder] = {}
ACCOUNT = corpus.ACCOUNT
REGION = corpus.REGION
HISTORY_TABLE = "opx-incident-history-replay"

#: Content types AWS answers with, per protocol.
JSON_1_1 = {"content-type": "application/x-amz-json-1.1"}
JSON_1_0 = {"content-type": "application/x-amz-json-1.0"}
REST_JSON = {"content-type": "application/json"}


def scenario(name: str) -> Any:
    return corpus.scenario(name, BUILDERS)


# --------------------------------------------------------------------------- helpers


def at(start: str, **delta: float) -> str:
    """``start`` moved by ``delta`` (``minutes=-30``), ISO 8601 with ``Z``."""
    moved = datetime.fromisoformat(start).astimezone(UTC) + timedelta(**delta)
    return moved.isoformat().replace("+00:00", "Z")


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# --------------------------------------------------------------------------- cloudwatch-metrics

API = [{"Name": "ApiName", "Value": "checkout-api"}, {"Name": "Stage", "Value": "prod"}]


def _latency_ms(minute: int) -> float:
    """p-average latency of checkout-api: ~120 ms, ~900 ms from minute 35 on."""
    base = 118.0 + (minute % 7) * 1.5
    return base + (780.0 + (minute % 5) * 12.0 if minute >= 35 else 0.0)


def _metric_data(
    name: str, start: str, values: Iterable[tuple[int, float]], unit: str
) -> SetupCall:
    return SetupCall(
        client="cloudwatch",
        operation="PutMetricData",
        params={
            "Namespace": "AWS/ApiGateway",
            "MetricData": [
                {
                    "MetricName": name,
                    "Dimensions": API,
                    "Timestamp": at(start, minutes=minute),
                    "Value": value,
                    "Unit": unit,
                }
                for minute, value in values
            ],
        },
    )


@scenario("ag-metrics-latency-and-errors")
def metrics_latency_and_errors(name: str) -> Scenario:
    start, now = "2026-03-04T09:05:00Z", "2026-03-04T10:05:00Z"
    minutes = range(60)
    incident = "INC-2026-0304-0017"
    common = {"namespace": "AWS/ApiGateway", "dimensions": "ApiName=checkout-api,Stage=prod"}
    window = {"startTime": start, "endTime": now, "period": "300"}
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "cloudwatch-metrics on moto: an hour of checkout-api metrics seeded per minute "
                "(latency jumps from ~120 ms to ~900 ms and 5XX errors start at 09:40). The agent "
                "asks for the average Latency and IntegrationLatency, then the Sum of 5XXError "
                "and Count, at 5-minute periods: one GetMetricData each, twelve datapoints per "
                "metric, with count/min/max/mean/last computed from them."
            ),
            tags=["action-group", "cloudwatch-metrics", "moto", "api-gateway"],
            clock_start=datetime.fromisoformat(now),
            group="cloudwatch-metrics",
            setup=[
                _metric_data(
                    "Latency", start, ((m, _latency_ms(m)) for m in minutes), "Milliseconds"
                ),
                _metric_data(
                    "IntegrationLatency",
                    start,
                    ((m, _latency_ms(m) - 14.0) for m in minutes),
                    "Milliseconds",
                ),
                _metric_data(
                    "5XXError",
                    start,
                    ((m, float(3 * (m - 34)) if m >= 35 else 0.0) for m in minutes),
                    "Count",
                ),
                _metric_data(
                    "Count", start, ((m, 1200.0 + (m % 4) * 25) for m in minutes), "Count"
                ),
            ],
            events=[
                invocation_event(
                    "cloudwatch-metrics",
                    "getMetricData",
                    incident=incident,
                    text="Is checkout-api slower since 09:40 UTC?",
                    params={**common, "metricNames": '["Latency", "IntegrationLatency"]', **window},
                ),
                invocation_event(
                    "cloudwatch-metrics",
                    "getMetricData",
                    incident=incident,
                    text="How many 5XX errors did checkout-api return?",
                    params={
                        **common,
                        "metricNames": "5XXError,Count",
                        "statistic": "Sum",
                        **window,
                    },
                ),
            ],
        ),
    )


@scenario("ag-metrics-bad-window")
def metrics_bad_window(name: str) -> Scenario:
    now = "2026-03-05T16:40:00Z"
    incident = "INC-2026-0305-0003"

    def ask(body: dict[str, str]) -> dict[str, Any]:
        return invocation_event(
            "cloudwatch-metrics",
            "getMetricData",
            incident=incident,
            text="Show the orders-table throttling.",
            params={"namespace": "AWS/DynamoDB", **body},
        )

    names = ",".join(
        [
            "ReadThrottleEvents",
            "WriteThrottleEvents",
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "SuccessfulRequestLatency",
        ]
    )
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "cloudwatch-metrics input validation: a reversed window (endTime before "
                "startTime), a start time without a UTC offset together with an end time a "
                "day in the future, and five metrics at 60 s over two days (2880 datapoints, "
                "over the 360 limit) plus an unknown parameter. Each is a 400 "
                "INVALID_PARAMETERS naming every bad parameter; CloudWatch is never called."
            ),
            tags=["action-group", "cloudwatch-metrics", "validation", "dynamodb"],
            clock_start=datetime.fromisoformat(now),
            group="cloudwatch-metrics",
            events=[
                ask(
                    {
                        "metricNames": "ReadThrottleEvents",
                        "startTime": at(now, minutes=-30),
                        "endTime": at(now, minutes=-90),
                    }
                ),
                ask(
                    {
                        "metricNames": "ReadThrottleEvents",
                        "startTime": "2026-03-05T15:40:00",
                        "endTime": at(now, days=1),
                    }
                ),
                ask(
                    {
                        "metricNames": names,
                        "dimensions": "TableName=orders",
                        "period": "60",
                        "startTime": at(now, days=-2),
                        "endTime": now,
                        "region": "us-east-1",
                    }
                ),
            ],
        ),
    )


# --------------------------------------------------------------------------- logs-insights

LOG_GROUP = "/aws/lambda/checkout-api-handler"
LOG_STREAM = "2026/03/06/[$LATEST]4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a98"


def _log_line(n: int) -> str:
    if n % 4 == 3:
        return (
            '{"level":"ERROR","message":"PaymentGatewayTimeout: POST '
            'https://payments.example.com/v2/charges timed out after 3000 ms",'
            f'"order_id":"ord-{40210 + n}","request_id":"req-{n:04d}"}}'
        )
    return (
        '{"level":"INFO","message":"order accepted",'
        f'"order_id":"ord-{40210 + n}","request_id":"req-{n:04d}"}}'
    )


@scenario("ag-logs-recent-errors")
def logs_recent_errors(name: str) -> Scenario:
    now = "2026-03-06T11:20:00Z"
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "logs-insights on moto: forty checkout-api-handler log lines seeded over the "
                "last 40 minutes, every fourth a PaymentGatewayTimeout. The agent asks for the "
                "newest lines with limit 10: StartQuery and one GetQueryResults (moto completes "
                "queries at once), 25 rows from the query's own limit cut to 10 and flagged "
                "truncated, @ptr left out."
            ),
            tags=["action-group", "logs-insights", "moto", "lambda"],
            clock_start=datetime.fromisoformat(now),
            group="logs-insights",
            setup=seed_log_events(
                LOG_GROUP,
                LOG_STREAM,
                [(int(epoch(at(now, minutes=n - 40)) * 1000), _log_line(n)) for n in range(40)],
            ),
            events=[
                invocation_event(
                    "logs-insights",
                    "runLogsInsightsQuery",
                    incident="INC-2026-0306-0008",
                    text="What does checkout-api-handler log right now?",
                    params={
                        "logGroupNames": f'["{LOG_GROUP}"]',
                        "queryString": "fields @timestamp, @message | sort @timestamp desc | limit 25",  # noqa: E501
                        "limit": "10",
                        "startTime": at(now, hours=-1),
                        "endTime": now,
                    },
                )
            ],
        ),
    )


QUERY_ID = "7c9f3a52-1e4b-4d7a-9c2e-5b8f0a6d3e41"


def _logs(operation: str, body: dict[str, Any], latency_ms: int) -> Answer:
    """A Logs answer (json protocol 1.1) as AWS sends it."""
    return Answer(
        "cloudwatch-logs", operation, HttpAnswer(headers=JSON_1_1, body=body), latency_ms=latency_ms
    )


def _query_results(
    status: str, rows: list[list[tuple[str, str]]], matched: int, scanned: int, latency_ms: int
) -> Answer:
    """A GetQueryResults answer: rows of (field, value), AWS's statistics."""
    body = {
        "queryLanguage": "CWLI",
        "results": [[{"field": f, "value": v} for f, v in row] for row in rows],
        "statistics": {
            "recordsMatched": float(matched),
            "recordsScanned": float(scanned),
            "estimatedRecordsSkipped": 0.0,
            "bytesScanned": float(scanned * 312),
            "estimatedBytesSkipped": 0.0,
            "logGroupsScanned": 2.0,
        },
        "status": status,
    }
    return _logs("GetQueryResults", body, latency_ms)


def _error_bins(count: int) -> list[list[tuple[str, str]]]:
    """Five-minute error counts from 09:40, rising, as Logs Insights prints them."""
    first = datetime(2026, 3, 7, 9, 40, tzinfo=UTC)
    return [
        [
            ("bin(5m)", (first + timedelta(minutes=5 * n)).strftime("%Y-%m-%d %H:%M:%S.000")),
            ("errors", str(12 + 9 * n)),
            ("@ptr", f"CnYKPQo5{n:02d}MTIzNDU2Nzg5MDEyOi9hd3MvbGFtYmRhL2NoZWNrb3V0"),
        ]
        for n in range(count)
    ]


@scenario("ag-logs-error-stats")
def logs_error_stats(name: str) -> Scenario:
    now = "2026-03-07T10:12:00Z"
    query = "filter level = 'ERROR' | stats count(*) as errors by bin(5m) | sort bin(5m) asc"
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "logs-insights polling, recorded (moto answers every query at once): StartQuery "
                "on two log groups, then GetQueryResults Scheduled, Running with two partial "
                "rows, and Complete with six 5-minute error counts and statistics. The handler "
                "waits 0.5 s then 1 s between polls (the frozen clock advances), and answers "
                "the complete rows without @ptr."
            ),
            tags=["action-group", "logs-insights", "polling", "recorded"],
            clock_start=datetime.fromisoformat(now),
            group="logs-insights",
            answers=[
                _logs("StartQuery", {"queryId": QUERY_ID}, 140),
                _query_results("Scheduled", [], 0, 0, 90),
                _query_results("Running", _error_bins(2), 21, 48210, 110),
                _query_results("Complete", _error_bins(6), 177, 153877, 120),
            ],
            events=[
                invocation_event(
                    "logs-insights",
                    "runLogsInsightsQuery",
                    incident="INC-2026-0307-0021",
                    text="How did the error rate of the checkout Lambdas develop?",
                    params={
                        # Not JSON: "a, b", as models also send lists.
                        "logGroupNames": (
                            "/aws/lambda/checkout-api-handler, /aws/lambda/checkout-payments"
                        ),
                        "queryString": query,
                        "startTime": at(now, minutes=-32),
                        "endTime": now,
                    },
                )
            ],
        ),
    )


def _slow_rows(count: int) -> list[list[tuple[str, str]]]:
    return [
        [
            ("@timestamp", f"2026-03-0{1 + n % 7} 0{n % 10}:1{n % 6}:0{n % 10}.{100 + n}"),
            (
                "@message",
                f"REPORT RequestId: 5d1e{n:04d}-0b7c-4c55-9a3e-7f2b8c6d{n:04d} "
                f"Duration: {2900 + 7 * n}.41 ms Billed Duration: {3000 + 7 * n} ms "
                f"Memory Size: 1024 MB Max Memory Used: {610 + n} MB",
            ),
            (
                "@log",
                f"{ACCOUNT}:/aws/lambda/checkout-{('api-handler', 'payments', 'inventory')[n % 3]}",
            ),
            ("@ptr", f"CmQKKwonMTIzNDU2Nzg5MDEyOi9hd3MvbGFtYmRh{n:04d}"),
        ]
        for n in range(count)
    ]


@scenario("ag-logs-query-timeout")
def logs_query_timeout(name: str) -> Scenario:
    now = "2026-03-08T07:45:00Z"
    polls = 8
    results = [
        _query_results("Running", _slow_rows(3 * n), 3 * n, 1_200_000 * (n + 1), 200)
        for n in range(polls)
    ]
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "logs-insights deadline, recorded: a seven-day REPORT-line query over three log "
                "groups is still Running after eight GetQueryResults polls (pauses 0.5, 1, 2, "
                "2, 2, 2, 2 s on the frozen clock); the next pause would pass the 15 s deadline, "
                "so the handler calls StopQuery and answers the 21 rows it has, flagged partial "
                "and stopped, status Running."
            ),
            tags=["action-group", "logs-insights", "recorded", "timeout"],
            clock_start=datetime.fromisoformat(now),
            group="logs-insights",
            answers=[
                _logs("StartQuery", {"queryId": "0b5d8e21-94c3-4f6a-8e1d-2c7b9a4f6e03"}, 150),
                *results,
                _logs("StopQuery", {"success": True}, 80),
            ],
            events=[
                invocation_event(
                    "logs-insights",
                    "runLogsInsightsQuery",
                    incident="INC-2026-0308-0002",
                    text="Which checkout Lambda invocations ran close to their timeout this week?",
                    params={
                        "logGroupNames": (
                            '["/aws/lambda/checkout-api-handler", "/aws/lambda/checkout-payments", '
                            '"/aws/lambda/checkout-inventory"]'
                        ),
                        "queryString": (
                            "filter @type = 'REPORT' and @duration > 2500 "
                            "| fields @timestamp, @message, @log | sort @duration desc"
                        ),
                        "limit": "100",
                        "startTime": at(now, days=-7),
                        "endTime": now,
                    },
                )
            ],
        ),
    )


# --------------------------------------------------------------------------- xray


def _service_id(name: str, kind: str) -> dict[str, Any]:
    return {"Name": name, "Names": [name], "AccountId": ACCOUNT, "Type": kind}


def _trace(
    n: int, start: str, *, fault: bool, error: bool, response_s: float, status: int
) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "Id": f"1-65eb{n:04x}-{n:06x}c3d1e2f3a4b5c6d7",
        "StartTime": epoch(at(start, seconds=37 * n)),
        "Duration": response_s + 0.012,
        "ResponseTime": response_s,
        "HasFault": fault,
        "HasError": error,
        "HasThrottle": False,
        "IsPartial": False,
        "Http": {
            "HttpURL": f"https://api.example.com/prod/orders/ord-{51000 + n}/checkout",
            "HttpStatus": status,
            "HttpMethod": "POST",
            "UserAgent": "checkout-web/4.12.0",
            "ClientIp": "198.51.100.24",
        },
        "Annotations": {},
        "Users": [],
        "ServiceIds": [
            _service_id("checkout-api/prod", "AWS::ApiGateway::Stage"),
            _service_id("checkout-api-handler", "AWS::Lambda::Function"),
            _service_id("payments.example.com", "remote"),
        ],
        "EntryPoint": _service_id("checkout-api/prod", "AWS::ApiGateway::Stage"),
        "FaultRootCauses": [],
        "ErrorRootCauses": [],
        "Revision": 2,
    }
    if fault:
        trace["FaultRootCauses"] = [
            {
                "Services": [
                    {
                        "Name": "checkout-api-handler",
                        "Names": ["checkout-api-handler"],
                        "Type": "AWS::Lambda::Function",
                        "AccountId": ACCOUNT,
                        "EntityPath": [
                            {"Name": "checkout-api-handler", "Exceptions": [], "Remote": False},
                            {
                                "Name": "payments.example.com",
                                "Exceptions": [
                                    {
                                        "Name": "PaymentGatewayTimeout",
                                        "Message": "timed out after 3000 ms",
                                    }
                                ],
                                "Remote": True,
                            },
                        ],
                        "Inferred": False,
                    }
                ],
                "ClientImpacting": True,
            }
        ]
    return trace


@scenario("ag-xray-trace-summaries")
def xray_trace_summaries(name: str) -> Scenario:
    now = "2026-03-09T15:30:00Z"
    first = at(now, minutes=-20)
    page_one = [
        _trace(1, first, fault=False, error=False, response_s=2.31, status=200),
        _trace(2, first, fault=True, error=False, response_s=3.02, status=502),
        _trace(3, first, fault=False, error=True, response_s=2.05, status=409),
        _trace(4, first, fault=True, error=False, response_s=3.11, status=502),
    ]
    page_two = [
        _trace(5, first, fault=False, error=False, response_s=4.87, status=200),
        _trace(6, first, fault=True, error=False, response_s=3.01, status=504),
        _trace(7, first, fault=False, error=False, response_s=2.22, status=200),
    ]
    approximate = epoch(now)

    def page(traces: list[dict[str, Any]], token: str | None) -> HttpAnswer:
        body: dict[str, Any] = {
            "TraceSummaries": traces,
            "ApproximateTime": approximate,
            "TracesProcessedCount": 1840,
        }
        if token:
            body["NextToken"] = token
        return HttpAnswer(headers=REST_JSON, body=body)

    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "xray trace summaries, recorded (moto rejects filter expressions and does not "
                "paginate): a filter for faulting or slow checkout-api traces, two pages (the "
                "first with a NextToken), seven traces. The handler answers the five most "
                "relevant -- the three faults slowest first, then the 409 error, then the "
                "slowest plain trace -- with HTTP status, services and the PaymentGatewayTimeout "
                "root cause, flagged truncated."
            ),
            tags=["action-group", "recorded", "pagination", "xray"],
            clock_start=datetime.fromisoformat(now),
            group="xray",
            answers=[
                Answer(
                    "xray",
                    "GetTraceSummaries",
                    page(page_one, "eyJzZWdtZW50IjogMn0="),
                    latency_ms=420,
                ),
                Answer("xray", "GetTraceSummaries", page(page_two, None), latency_ms=380),
            ],
            events=[
                invocation_event(
                    "xray",
                    "getTraceSummaries",
                    incident="INC-2026-0309-0011",
                    text="Find failing or slow checkout requests.",
                    params={
                        "startTime": first,
                        "endTime": now,
                        "filterExpression": (
                            'service("checkout-api-handler") { fault = true } OR responsetime > 2'
                        ),
                        "limit": "5",
                    },
                )
            ],
        ),
    )


def _statistics(ok: int, errors: int, throttles: int, faults: int, mean_s: float) -> dict[str, Any]:
    total = ok + errors + faults
    return {
        "OkCount": ok,
        "ErrorStatistics": {
            "ThrottleCount": throttles,
            "OtherCount": errors - throttles,
            "TotalCount": errors,
        },
        "FaultStatistics": {"OtherCount": faults, "TotalCount": faults},
        "TotalCount": total,
        "TotalResponseTime": round(mean_s * total, 3),
    }


def _histogram(*buckets: tuple[float, int]) -> list[dict[str, Any]]:
    return [{"Value": value, "Count": count} for value, count in buckets]


Traffic = tuple[dict[str, Any], list[dict[str, Any]]]


def _edge(target: int, window: dict[str, float], traffic: Traffic) -> dict[str, Any]:
    statistics, histogram = traffic
    return {
        "ReferenceId": target,
        **window,
        "SummaryStatistics": statistics,
        "ResponseTimeHistogram": histogram,
        "Aliases": [],
    }


def _node(
    reference: int,
    name: str,
    kind: str,
    window: dict[str, float],
    traffic: Traffic = ({}, []),
    edges: Sequence[dict[str, Any]] = (),
    *,
    root: bool = False,
    ours: bool = True,
) -> dict[str, Any]:
    """A service-graph node; ``ours``: in this account (not a client or remote host)."""
    statistics, histogram = traffic
    node: dict[str, Any] = {
        "ReferenceId": reference,
        "Name": name,
        "Names": [name],
        "Root": root,
        "Type": kind,
        "State": "active" if ours else "unknown",
        **window,
        "Edges": list(edges),
        "SummaryStatistics": statistics,
        "ResponseTimeHistogram": histogram,
        "DurationHistogram": histogram,
    }
    if ours:
        node["AccountId"] = ACCOUNT
    return node


def _graph(now: str) -> dict[str, Any]:
    start, end = epoch(at(now, hours=-1)), epoch(now)
    window = {"StartTime": start, "EndTime": end}
    api = (
        _statistics(4906, 88, 27, 6, 0.431),
        _histogram((0.09, 2800), (0.14, 1500), (0.95, 400), (3.05, 300)),
    )
    handler = (
        _statistics(4720, 61, 0, 219, 0.398),
        _histogram((0.07, 2900), (0.11, 1400), (0.88, 380), (3.0, 300)),
    )
    handler_as_called = (
        _statistics(4720, 61, 0, 219, 0.412),
        _histogram((0.08, 2900), (0.12, 1400), (0.9, 380), (3.0, 300)),
    )
    orders = (
        _statistics(5010, 0, 0, 0, 0.008),
        _histogram((0.005, 3100), (0.008, 1600), (0.035, 310)),
    )
    orders_as_called = (
        _statistics(5010, 0, 0, 0, 0.009),
        _histogram((0.006, 3100), (0.009, 1600), (0.04, 310)),
    )
    payments = (
        _statistics(1520, 3, 0, 212, 1.218),
        _histogram((0.35, 1100), (0.8, 420), (3.0, 215)),
    )
    client = _node(0, "clients", "client", window, edges=[_edge(1, window, api)], ours=False)
    return {
        "StartTime": start,
        "EndTime": end,
        "Services": [
            client,
            _node(
                1,
                "checkout-api/prod",
                "AWS::ApiGateway::Stage",
                window,
                api,
                [_edge(2, window, handler_as_called)],
                root=True,
            ),
            _node(
                2,
                "checkout-api-handler",
                "AWS::Lambda::Function",
                window,
                handler,
                [_edge(3, window, orders_as_called), _edge(4, window, payments)],
            ),
            _node(3, "orders", "AWS::DynamoDB::Table", window, orders),
            _node(4, "payments.example.com", "remote", window, payments, ours=False),
        ],
        "ContainsOldGroupVersions": False,
    }


@scenario("ag-xray-service-graph")
def xray_service_graph(name: str) -> Scenario:
    now = "2026-03-10T13:50:00Z"
    incident = "INC-2026-0310-0006"
    window = {"startTime": at(now, hours=-1), "endTime": now}
    graph = HttpAnswer(headers=REST_JSON, body=_graph(now))
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "xray service graph, recorded (moto's GetServiceGraph is an empty stub): clients "
                "-> API Gateway stage -> checkout-api-handler -> orders table and "
                "payments.example.com. Per service and edge: requests, error (4xx), throttle "
                "(429) and fault (5xx) rates from ErrorStatistics/FaultStatistics, mean latency "
                "and nearest-rank p50/p90/p99 from the response-time histogram. Asked twice: the "
                "whole graph, then only payments.example.com with its caller."
            ),
            tags=["action-group", "recorded", "service-graph", "xray"],
            clock_start=datetime.fromisoformat(now),
            group="xray",
            answers=[
                Answer("xray", "GetServiceGraph", graph, latency_ms=610),
                Answer("xray", "GetServiceGraph", graph, latency_ms=590),
            ],
            events=[
                invocation_event(
                    "xray",
                    "getServiceGraph",
                    incident=incident,
                    text="Which dependency of checkout is failing?",
                    params=window,
                ),
                invocation_event(
                    "xray",
                    "getServiceGraph",
                    incident=incident,
                    text="Show payments.example.com and who calls it.",
                    params={**window, "serviceName": "payments.example.com"},
                ),
            ],
        ),
    )


@scenario("ag-xray-throttled")
def xray_throttled(name: str) -> Scenario:
    now = "2026-03-11T20:15:00Z"
    incident = "INC-2026-0311-0030"
    window = {"startTime": at(now, minutes=-30), "endTime": now}
    throttled = Fault(
        error="ThrottledException", status=429, message="Rate exceeded", latency_ms=35
    )
    empty = HttpAnswer(
        headers=REST_JSON,
        body={"TraceSummaries": [], "ApproximateTime": epoch(now), "TracesProcessedCount": 0},
    )
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "xray throttling, recorded: GetServiceGraph answers ThrottledException (429) to "
                "all three attempts -- the handler waits 0.5 s and 1 s between them -- and the "
                "agent gets a 429 THROTTLED marked retryable; GetTraceSummaries is throttled "
                "once, then answers an empty page, so that invocation succeeds after one 0.5 s "
                "pause."
            ),
            tags=["action-group", "recorded", "throttling", "xray"],
            clock_start=datetime.fromisoformat(now),
            group="xray",
            answers=[
                Answer(
                    "xray",
                    "GetServiceGraph",
                    ErrorAnswer(status=429, code="ThrottledException", message="Rate exceeded"),
                    faults=(throttled, throttled),
                    latency_ms=35,
                ),
                Answer("xray", "GetTraceSummaries", empty, faults=(throttled,), latency_ms=300),
            ],
            events=[
                invocation_event(
                    "xray",
                    "getServiceGraph",
                    incident=incident,
                    text="Map the checkout dependencies.",
                    params=window,
                ),
                invocation_event(
                    "xray",
                    "getTraceSummaries",
                    incident=incident,
                    text="Any faulting traces in the last half hour?",
                    params={**window, "filterExpression": "fault = true"},
                ),
            ],
        ),
    )


# --------------------------------------------------------------------------- incident-history


def _incident_item(incident: str, service: str, created: str, **fields: Any) -> SetupCall:
    item: dict[str, Any] = {
        "incident_id": {"S": incident},
        "service": {"S": service},
        "created_at": {"S": created},
    }
    for key, value in fields.items():
        if isinstance(value, bool):
            item[key] = {"BOOL": value}
        elif isinstance(value, int | float):
            item[key] = {"N": str(value)}
        elif isinstance(value, list):
            item[key] = {"SS": value}
        else:
            item[key] = {"S": value}
    return SetupCall(
        client="dynamodb", operation="PutItem", params={"TableName": HISTORY_TABLE, "Item": item}
    )


@scenario("ag-history-lookup")
def history_lookup(name: str) -> Scenario:
    now = "2026-03-13T08:25:00Z"
    incident = "INC-2026-0313-0004"
    setup = [
        SetupCall(
            client="dynamodb", operation="CreateTable", params=table_definition(HISTORY_TABLE)
        ),
        _incident_item(
            "INC-2025-1104-0019",
            "checkout-api",
            "2025-11-04T17:42:10Z",
            severity="SEV2",
            title="checkout-api 5XX after payments provider latency spike",
            root_cause="payments.example.com timeouts exhausted the handler's 3 s budget",
            resolution="raised the payments client timeout to 5 s and added a circuit breaker",
            duration_minutes=47,
            tags=["payments", "timeout", "lambda"],
        ),
        _incident_item(
            "INC-2026-0119-0007",
            "checkout-api",
            "2026-01-19T09:03:55Z",
            severity="SEV3",
            title="checkout-api latency during orders table throttling",
            root_cause="on-demand table hit the partition throughput limit on a hot key",
            resolution="spread order ids over a write-sharded key",
            duration_minutes=23,
            tags=["dynamodb", "throttling"],
        ),
        _incident_item(
            "INC-2026-0226-0012",
            "checkout-api",
            "2026-02-26T21:17:02Z",
            severity="SEV2",
            title="checkout-api errors after deploy d-8KQ2ZL",
            root_cause="a missing environment variable in deploy d-8KQ2ZL",
            resolution="rolled back d-8KQ2ZL",
            duration_minutes=12,
            postmortem=True,
        ),
        _incident_item(
            "INC-2026-0302-0001",
            "inventory-api",
            "2026-03-02T04:40:41Z",
            severity="SEV4",
            title="inventory-api cold starts",
            duration_minutes=5,
        ),
    ]

    def ask(operation: str, params: dict[str, str], text: str) -> dict[str, Any]:
        return invocation_event("incident-history", operation, params, incident=incident, text=text)

    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "incident-history on moto: the history table (created from table_definition) "
                "seeded with four past incidents. getIncident reads one with GetItem (numbers "
                "exact, string sets sorted); listServiceIncidents queries the service index for "
                "checkout-api newest first with limit 2 (two of three, more=true); an unknown "
                "incident id is a 404 INCIDENT_NOT_FOUND."
            ),
            tags=["action-group", "dynamodb", "incident-history", "moto"],
            clock_start=datetime.fromisoformat(now),
            group="incident-history",
            env={"INCIDENT_HISTORY_TABLE": HISTORY_TABLE},
            setup=setup,
            events=[
                ask(
                    "getIncident",
                    {"incidentId": "INC-2025-1104-0019"},
                    "What happened in INC-2025-1104-0019?",
                ),
                ask(
                    "listServiceIncidents",
                    {"serviceName": "checkout-api", "limit": "2"},
                    "Has checkout-api had incidents like this before?",
                ),
                ask(
                    "getIncident",
                    {"incidentId": "INC-2024-0101-0001"},
                    "And INC-2024-0101-0001?",
                ),
            ],
        ),
    )


@scenario("ag-history-access-denied")
def history_access_denied(name: str) -> Scenario:
    now = "2026-03-14T19:02:00Z"
    denied = ErrorAnswer(
        status=400,
        code="AccessDeniedException",
        message=(
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/opx-incident-history-role/"
            "opx-incident-history "
            "is not authorized to perform: dynamodb:GetItem on resource: "
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/opx-incident-history-replay because no "
            "identity-based policy allows the dynamodb:GetItem action"
        ),
    )
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "incident-history without permission, recorded: GetItem answers "
                "AccessDeniedException (as a role missing dynamodb:GetItem gets it). The handler "
                "does not retry and answers a 403 ACCESS_DENIED naming the call and carrying "
                "AWS's message, not a 500 and not a traceback."
            ),
            tags=["action-group", "access-denied", "dynamodb", "recorded"],
            clock_start=datetime.fromisoformat(now),
            group="incident-history",
            env={"INCIDENT_HISTORY_TABLE": HISTORY_TABLE},
            answers=[Answer("dynamodb", "GetItem", denied, latency_ms=25)],
            events=[
                invocation_event(
                    "incident-history",
                    "getIncident",
                    incident="INC-2026-0314-0009",
                    text="Look up INC-2026-0212-0005.",
                    params={"incidentId": "INC-2026-0212-0005"},
                )
            ],
        ),
    )


# --------------------------------------------------------------------------- contract


@scenario("ag-contract-errors")
def contract_errors(name: str) -> Scenario:
    now = "2026-03-15T05:55:00Z"
    incident = "INC-2026-0315-0002"
    window = {"startTime": at(now, hours=-2), "endTime": now}
    unknown_path = invocation_event(
        "xray", "getServiceGraph", incident=incident, text="List traces.", params=window
    ) | {"apiPath": "/xray/traces"}
    no_version = invocation_event(
        "xray", "getServiceGraph", incident=incident, text="Graph?", params=window
    )
    del no_version["messageVersion"], no_version["agent"]
    function_call = {
        key: value
        for key, value in invocation_event(
            "xray",
            "getServiceGraph",
            incident=incident,
            text="Graph?",
            params={"endTime": now},
        ).items()
        if key not in ("apiPath", "httpMethod")
    } | {"function": "getServiceGraph"}
    return author(
        "action-group",
        ActionGroupSpec(
            name=name,
            description=(
                "The action-group contract's error answers, no AWS call: an apiPath the xray "
                "schema does not define (404 UNKNOWN_OPERATION listing the paths it has), an "
                "event without messageVersion and agent (400 naming both), a function-defined "
                "invocation missing startTime (400 in the function envelope, responseState "
                "REPROMPT) and an event that is not an object (400 in the OpenAPI envelope)."
            ),
            tags=["action-group", "contract", "validation", "xray"],
            clock_start=datetime.fromisoformat(now),
            group="xray",
            events=[unknown_path, no_version, function_call, "getServiceGraph please"],
        ),
    )


def render(names: Iterable[str] | None = None) -> dict[str, str]:
    return corpus.render(names, BUILDERS)


def main(argv: Sequence[str] | None = None) -> int:
    return corpus.cli(argv, description=__doc__.split("\n\n")[0], render_files=render, tool=TOOL)


if __name__ == "__main__":
    sys.exit(main())
