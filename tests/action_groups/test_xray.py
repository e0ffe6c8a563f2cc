"""xray: trace summaries on moto (no filter) and recorded (filter, pagination); the
service graph recorded (moto's GetServiceGraph always answers an empty graph)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from harness.authoring import ActionGroupSpec, AwsAnswer, author
from harness.replayer import replay
from harness.scenario import HttpAnswer, SetupCall
from opx.action_groups.xray import MAX_PAGES, rank_traces
from tests.action_groups.support import NOW, actions, answered, event, run

REST = {"content-type": "application/json"}
WINDOW = {"startTime": "2026-04-02T11:00:00Z", "endTime": NOW}


def _segment(n: int, start: float, seconds: float, **flags: bool) -> str:
    return json.dumps(
        {
            "name": "checkout-api-handler",
            "id": f"{n:016x}",
            "trace_id": f"1-{int(start):08x}-{n:024x}",
            "start_time": start,
            "end_time": start + seconds,
            **{flag: True for flag, on in flags.items() if on},
        }
    )


def test_trace_summaries_on_moto_rank_faults_then_errors() -> None:
    base = datetime(2026, 4, 2, 11, 30, tzinfo=UTC).timestamp()
    docs = [
        _segment(1, base, 1.2),
        _segment(2, base + 60, 2.5, fault=True),
        _segment(3, base + 120, 0.4, error=True),
        _segment(4, base + 180, 3.7),
    ]
    setup = [
        SetupCall(
            client="xray", operation="PutTraceSegments", params={"TraceSegmentDocuments": docs}
        )
    ]
    result = run("xray", [event("xray", "getTraceSummaries", **WINDOW)], setup=setup)
    status, body = answered(result.responses[0])
    assert status == 200
    ids = {json.loads(d)["trace_id"]: n for n, d in enumerate(docs, start=1)}
    # moto answers every ResponseTime as 1 s, so the plain traces tie and go by id.
    assert [ids[t["id"]] for t in body["traces"]] == [2, 3, 1, 4]
    assert [(t["hasFault"], t["hasError"]) for t in body["traces"]] == [
        (True, False),
        (False, True),
        (False, False),
        (False, False),
    ]
    # moto reports whole seconds of duration: the handler turns them into ms.
    assert [t["durationMs"] for t in body["traces"]] == [2000, 0, 1000, 3000]
    assert (body["pages"], body["truncated"]) == (1, False)
    assert actions(result) == ["xray:GetTraceSummaries"]


def _summary(n: int, *, fault: bool = False, response: float = 0.5) -> dict[str, Any]:
    return {
        "Id": f"1-660be000-{n:024x}",
        "Duration": response + 0.01,
        "ResponseTime": response,
        "HasFault": fault,
        "HasError": False,
        "HasThrottle": False,
        "ServiceIds": [{"Name": "checkout-api-handler", "Type": "AWS::Lambda::Function"}],
    }


def _page(summaries: list[dict[str, Any]], token: str | None) -> AwsAnswer:
    body: dict[str, Any] = {
        "TraceSummaries": summaries,
        "ApproximateTime": 1775131200.0,
        "TracesProcessedCount": 300,
    }
    if token:
        body["NextToken"] = token
    return AwsAnswer(
        "xray", "GetTraceSummaries", HttpAnswer(headers=REST, body=body), latency_ms=200
    )


def test_filter_expression_is_sent_and_pages_are_bounded() -> None:
    pages = [_page([_summary(n)], f"token-{n}") for n in range(MAX_PAGES)]  # AWS always has more
    ask = event("xray", "getTraceSummaries", **WINDOW, filterExpression="fault = true", limit="50")
    scenario = author(
        "action-group",
        ActionGroupSpec(
            name="pages",
            description="",
            tags=[],
            clock_start=datetime.fromisoformat(NOW),
            group="xray",
            events=[ask],
            answers=pages,
        ),
    )
    requests = [i.request for i in scenario.interactions]
    assert all(r["FilterExpression"] == "fault = true" for r in requests)
    assert [r.get("NextToken") for r in requests] == [
        None,
        *(f"token-{n}" for n in range(MAX_PAGES - 1)),
    ]
    result = replay(scenario)
    _, body = answered(result.responses[0])
    assert (body["pages"], len(body["traces"]), body["truncated"]) == (MAX_PAGES, MAX_PAGES, True)
    assert len(result.aws_calls) == MAX_PAGES


def test_reading_stops_once_the_limit_is_reached() -> None:
    first = _page([_summary(1), _summary(2, fault=True), _summary(3, response=4.0)], "more")
    result = run("xray", [event("xray", "getTraceSummaries", **WINDOW, limit="2")], answers=[first])
    _, body = answered(result.responses[0])
    assert [t["id"][-1] for t in body["traces"]] == ["2", "3"]  # the fault, then the slowest
    assert (body["pages"], body["truncated"]) == (1, True)


def test_rank_traces_is_a_stable_total_order() -> None:
    views = [
        {
            "id": "b",
            "hasFault": False,
            "hasError": True,
            "hasThrottle": False,
            "responseTimeMs": 10,
        },
        {
            "id": "a",
            "hasFault": False,
            "hasError": True,
            "hasThrottle": False,
            "responseTimeMs": 10,
        },
        {
            "id": "c",
            "hasFault": True,
            "hasError": False,
            "hasThrottle": False,
            "responseTimeMs": None,
        },
        {
            "id": "d",
            "hasFault": False,
            "hasError": False,
            "hasThrottle": True,
            "responseTimeMs": 900,
        },
    ]
    assert [v["id"] for v in rank_traces(views)] == ["c", "a", "b", "d"]
    assert rank_traces(views[::-1]) == rank_traces(views)


# --------------------------------------------------------------------------- service graph

STATS = {
    "OkCount": 170,
    "ErrorStatistics": {"ThrottleCount": 8, "OtherCount": 12, "TotalCount": 20},
    "FaultStatistics": {"OtherCount": 7, "TotalCount": 10},
    "TotalCount": 200,
    "TotalResponseTime": 50.0,
}
HISTOGRAM = [{"Value": 1.5, "Count": 40}, {"Value": 0.1, "Count": 100}, {"Value": 0.2, "Count": 60}]


def _graph(services: list[dict[str, Any]], token: str | None = None) -> AwsAnswer:
    body: dict[str, Any] = {
        "StartTime": 1775127600.0,
        "EndTime": 1775131200.0,
        "Services": services,
    }
    if token:
        body["NextToken"] = token
    return AwsAnswer("xray", "GetServiceGraph", HttpAnswer(headers=REST, body=body), latency_ms=300)


CLIENT = {"ReferenceId": 0, "Name": "clients", "Type": "client", "Edges": [{"ReferenceId": 1}]}
API = {
    "ReferenceId": 1,
    "Name": "orders-api",
    "Type": "AWS::Lambda::Function",
    "Root": True,
    "SummaryStatistics": STATS,
    "ResponseTimeHistogram": HISTOGRAM,
    "Edges": [{"ReferenceId": 2, "SummaryStatistics": STATS, "ResponseTimeHistogram": HISTOGRAM}],
}
TABLE = {"ReferenceId": 2, "Name": "orders", "Type": "AWS::DynamoDB::Table", "Edges": []}


def test_service_graph_rates_and_percentiles_from_the_right_fields() -> None:
    result = run(
        "xray", [event("xray", "getServiceGraph", **WINDOW)], answers=[_graph([CLIENT, API, TABLE])]
    )
    status, body = answered(result.responses[0])
    assert status == 200
    by_name = {s["name"]: s for s in body["services"]}
    assert list(by_name) == ["clients", "orders", "orders-api"]
    expected = {
        "requests": 200,
        "ok": 170,
        "errors": 20,  # ErrorStatistics.TotalCount, not OtherCount
        "throttles": 8,
        "faults": 10,  # FaultStatistics.TotalCount, not OtherCount
        "errorRate": 0.1,
        "throttleRate": 0.04,
        "faultRate": 0.05,
        "meanResponseTimeMs": 250.0,
        # nearest rank over 200 requests: p50 = 100th (0.1 s), p90 = 180th and p99 = 198th (1.5 s)
        "latencyMs": {"p50": 100.0, "p90": 1500.0, "p99": 1500.0},
    }
    api = by_name["orders-api"]
    assert {k: api[k] for k in expected} == expected
    assert api["root"] is True
    assert [{k: e[k] for k in ("target", *expected)} for e in api["edges"]] == [
        {"target": "orders", **expected}
    ]
    assert by_name["clients"]["edges"][0]["target"] == "orders-api"
    assert by_name["orders"]["requests"] == 0 and by_name["orders"]["errorRate"] is None


def test_service_graph_pages_merge_and_a_focus_keeps_callers_and_callees() -> None:
    answers = [_graph([CLIENT, API], token="page-2"), _graph([TABLE])]
    result = run(
        "xray",
        [event("xray", "getServiceGraph", **WINDOW, serviceName="orders-api")],
        answers=answers,
    )
    _, body = answered(result.responses[0])
    assert [s["name"] for s in body["services"]] == ["clients", "orders", "orders-api"]
    assert actions(result) == ["xray:GetServiceGraph"] * 2
    assert body["truncated"] is False

    focused = run(
        "xray",
        [event("xray", "getServiceGraph", **WINDOW, serviceName="orders")],
        answers=[_graph([CLIENT, API, TABLE])],
    )
    assert [s["name"] for s in answered(focused.responses[0])[1]["services"]] == [
        "orders",
        "orders-api",
    ]
