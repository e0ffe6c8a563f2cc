"""Computed data for scenario specs: the values nobody should type.

A spec writes ``{generate: NAME, arg: value, ...}`` wherever free-form data goes (an
evidence bundle, a setup call's parameters, a recorded answer's body); the compiler
replaces it by ``GENERATORS[NAME](**args)`` -- arguments first, so generators nest.
Everything here is deterministic: arithmetic on an index, fixed clocks, no randomness.
Adding one: a function with keyword arguments returning JSON-like data, plus its line
in :data:`GENERATORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.specs.model import ACCOUNT

__all__ = [
    "GENERATORS",
    "checkout_api_metric_data",
    "checkout_log_events",
    "checkout_service_graph",
    "dynamodb_item",
    "error_bins",
    "history_table_definition",
    "indexer_log",
    "query_results",
    "slow_rows",
    "text_of_length",
    "xray_trace",
]

Rows = list[list[dict[str, str]]]


def _at(start: str, **delta: float) -> datetime:
    return datetime.fromisoformat(start).astimezone(UTC) + timedelta(**delta)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


# --------------------------------------------------------------------------- executor


def indexer_log(lines: int) -> list[str]:
    """``lines`` realistic ECS log lines of catalog-indexer (OOM loop), from 00:40 on
    2026-12-09: sized to push an evidence bundle past the executor's limits."""
    start = datetime(2026, 12, 9, 0, 40, tzinfo=UTC)
    levels = ("INFO", "INFO", "INFO", "WARN", "INFO", "ERROR", "INFO")
    out = []
    for n in range(lines):
        at = (start + timedelta(milliseconds=811 * n)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        task = f"{(n // 400) * 7919 % 65536:04x}{(n // 400) * 104729 % 65536:04x}"
        level = levels[n % len(levels)]
        heap = 1400 + (n % 400) * 6
        if level == "ERROR":
            text = (
                f"java.lang.OutOfMemoryError: Java heap space while merging segment "
                f"seg_{n // 7:05d} (heap_used_mb={heap}, heap_max_mb=3584)"
            )
        elif level == "WARN":
            text = f"GC pause {180 + (n % 13) * 37} ms (G1 Evacuation Pause) heap_used_mb={heap}"
        else:
            text = (
                f"indexed batch {n:06d}: {500 + n % 250} documents from catalog-updates "
                f"shard {n % 16:02d} in {40 + (n * 7) % 310} ms"
            )
        out.append(f"{at}Z {level:<5} [catalog-indexer task/{task}] {text}")
    return out


# --------------------------------------------------------------------------- cloudwatch


_CHECKOUT_API = [{"Name": "ApiName", "Value": "checkout-api"}, {"Name": "Stage", "Value": "prod"}]


def _latency_ms(minute: int) -> float:
    """Average latency of checkout-api: ~120 ms, ~900 ms from minute 35 on."""
    base = 118.0 + (minute % 7) * 1.5
    return base + (780.0 + (minute % 5) * 12.0 if minute >= 35 else 0.0)


_CHECKOUT_SERIES: dict[str, Callable[[int], float]] = {
    "Latency": _latency_ms,
    "IntegrationLatency": lambda m: _latency_ms(m) - 14.0,
    "5XXError": lambda m: float(3 * (m - 34)) if m >= 35 else 0.0,
    "Count": lambda m: 1200.0 + (m % 4) * 25,
}


def checkout_api_metric_data(metric: str, start: str, unit: str, minutes: int = 60) -> list[Any]:
    """``PutMetricData``'s ``MetricData``: one datapoint a minute of checkout-api/prod's
    ``metric`` (Latency, IntegrationLatency, 5XXError or Count) from ``start`` -- latency
    jumps and 5XX errors start at minute 35."""
    if metric not in _CHECKOUT_SERIES:
        raise ValueError(f"metric must be one of {', '.join(_CHECKOUT_SERIES)}")
    value = _CHECKOUT_SERIES[metric]
    return [
        {
            "MetricName": metric,
            "Dimensions": _CHECKOUT_API,
            "Timestamp": _iso(_at(start, minutes=minute)),
            "Value": value(minute),
            "Unit": unit,
        }
        for minute in range(minutes)
    ]


# --------------------------------------------------------------------------- logs


def checkout_log_events(now: str, count: int) -> list[dict[str, Any]]:
    """``PutLogEvents``' ``logEvents``: ``count`` checkout-api-handler JSON lines, one a
    minute up to ``now`` (oldest first), every fourth a PaymentGatewayTimeout."""
    out = []
    for n in range(count):
        if n % 4 == 3:
            message = (
                '{"level":"ERROR","message":"PaymentGatewayTimeout: POST '
                'https://payments.example.com/v2/charges timed out after 3000 ms",'
                f'"order_id":"ord-{40210 + n}","request_id":"req-{n:04d}"}}'
            )
        else:
            message = (
                '{"level":"INFO","message":"order accepted",'
                f'"order_id":"ord-{40210 + n}","request_id":"req-{n:04d}"}}'
            )
        timestamp = int(_epoch(_at(now, minutes=n - count)) * 1000)
        out.append({"timestamp": timestamp, "message": message})
    return out


def error_bins(count: int) -> Rows:
    """Logs Insights result rows: five-minute error counts from 09:40, rising."""
    first = datetime(2026, 3, 7, 9, 40, tzinfo=UTC)
    rows = [
        [
            ("bin(5m)", (first + timedelta(minutes=5 * n)).strftime("%Y-%m-%d %H:%M:%S.000")),
            ("errors", str(12 + 9 * n)),
            ("@ptr", f"CnYKPQo5{n:02d}MTIzNDU2Nzg5MDEyOi9hd3MvbGFtYmRhL2NoZWNrb3V0"),
        ]
        for n in range(count)
    ]
    return [[{"field": f, "value": v} for f, v in row] for row in rows]


def slow_rows(count: int) -> Rows:
    """Logs Insights result rows: Lambda REPORT lines close to a 3 s timeout."""
    functions = ("api-handler", "payments", "inventory")
    rows = [
        [
            ("@timestamp", f"2026-03-0{1 + n % 7} 0{n % 10}:1{n % 6}:0{n % 10}.{100 + n}"),
            (
                "@message",
                f"REPORT RequestId: 5d1e{n:04d}-0b7c-4c55-9a3e-7f2b8c6d{n:04d} "
                f"Duration: {2900 + 7 * n}.41 ms Billed Duration: {3000 + 7 * n} ms "
                f"Memory Size: 1024 MB Max Memory Used: {610 + n} MB",
            ),
            ("@log", f"{ACCOUNT}:/aws/lambda/checkout-{functions[n % 3]}"),
            ("@ptr", f"CmQKKwonMTIzNDU2Nzg5MDEyOi9hd3MvbGFtYmRh{n:04d}"),
        ]
        for n in range(count)
    ]
    return [[{"field": f, "value": v} for f, v in row] for row in rows]


def query_results(status: str, rows: Rows, matched: int, scanned: int) -> dict[str, Any]:
    """A ``GetQueryResults`` body: the rows and AWS's statistics (312 bytes a record)."""
    return {
        "queryLanguage": "CWLI",
        "results": rows,
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


# --------------------------------------------------------------------------- xray


def _service_id(name: str, kind: str) -> dict[str, Any]:
    return {"Name": name, "Names": [name], "AccountId": ACCOUNT, "Type": kind}


def xray_trace(
    n: int, start: str, *, fault: bool, error: bool, response_s: float, status: int
) -> dict[str, Any]:
    """Trace summary ``n`` of a POST to checkout-api (started ``37 * n`` s after
    ``start``); a fault has the PaymentGatewayTimeout root cause."""
    trace: dict[str, Any] = {
        "Id": f"1-65eb{n:04x}-{n:06x}c3d1e2f3a4b5c6d7",
        "StartTime": _epoch(_at(start, seconds=37 * n)),
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


Traffic = tuple[dict[str, Any], list[dict[str, Any]]]


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


def _edge(target: int, window: Mapping[str, float], traffic: Traffic) -> dict[str, Any]:
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
    window: Mapping[str, float],
    traffic: Traffic = ({}, []),
    edges: list[dict[str, Any]] | None = None,
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
        "Edges": list(edges or []),
        "SummaryStatistics": statistics,
        "ResponseTimeHistogram": histogram,
        "DurationHistogram": histogram,
    }
    if ours:
        node["AccountId"] = ACCOUNT
    return node


def checkout_service_graph(now: str) -> dict[str, Any]:
    """A ``GetServiceGraph`` body for the hour before ``now``: clients -> API Gateway
    stage -> checkout-api-handler -> orders table and payments.example.com (which
    faults), with statistics and response-time histograms per node and edge."""
    start, end = _epoch(_at(now, hours=-1)), _epoch(_at(now))
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


# --------------------------------------------------------------------------- text


def text_of_length(text: str, length: int, separator: str = " ") -> str:
    """``text`` repeated (joined by ``separator``) and cut to exactly ``length``
    characters: a value at a validation limit (a 128-character id, a 4,001-character
    hypothesis) written as its size, so a reviewer reads the bound, not the filler."""
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if not text and length:
        raise ValueError("text must not be empty")
    repeats = length // (len(text) + len(separator)) + 1 if text else 0
    return separator.join([text] * repeats)[:length]


# --------------------------------------------------------------------------- dynamodb


def dynamodb_item(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item from plain values: text ``S``, numbers ``N``, booleans ``BOOL``,
    lists of text ``SS`` -- so a spec lists an item's fields, not their wire types."""
    item: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, bool):
            item[key] = {"BOOL": value}
        elif isinstance(value, int | float):
            item[key] = {"N": str(value)}
        elif isinstance(value, list):
            item[key] = {"SS": value}
        else:
            item[key] = {"S": value}
    return item


def history_table_definition(table: str) -> dict[str, Any]:
    """``CreateTable`` parameters of the incident-history table, from the action
    group's own definition (so the seeded table cannot drift from the code's)."""
    from opx.action_groups.incident_history import table_definition

    return table_definition(table)


#: The generators a spec may name, by name.
GENERATORS: dict[str, Callable[..., Any]] = {
    "indexer_log": indexer_log,
    "checkout_api_metric_data": checkout_api_metric_data,
    "checkout_log_events": checkout_log_events,
    "error_bins": error_bins,
    "slow_rows": slow_rows,
    "query_results": query_results,
    "xray_trace": xray_trace,
    "checkout_service_graph": checkout_service_graph,
    "dynamodb_item": dynamodb_item,
    "history_table_definition": history_table_definition,
    "text_of_length": text_of_length,
}
