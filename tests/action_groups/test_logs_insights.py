"""logs-insights: moto for a plain query; recorded answers for polling, the deadline,
StopQuery and failures (moto completes every query at once and has no StopQuery)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.authoring import AwsAnswer, seed_log_events
from harness.scenario import ErrorAnswer, Fault, HttpAnswer
from opx.action_groups.logs_insights import (
    MAX_VALUE_CHARS,
    QUERY_DEADLINE_S,
    cap_rows,
    poll_pauses,
)
from tests.action_groups.support import NOW, actions, answered, event, run

GROUP = "/aws/lambda/checkout"
JSON = {"content-type": "application/x-amz-json-1.1"}
QUERY_ID = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def _ask(**params: str) -> dict[str, Any]:
    base = {
        "logGroupNames": GROUP,
        "queryString": "fields @timestamp, @message | sort @timestamp desc",
        "startTime": "2026-04-02T11:00:00Z",
        "endTime": NOW,
    }
    return event("logs-insights", "runLogsInsightsQuery", **{**base, **params})


def _answer(operation: str, body: dict[str, Any], latency_ms: int = 100) -> AwsAnswer:
    return AwsAnswer(
        "cloudwatch-logs", operation, HttpAnswer(headers=JSON, body=body), latency_ms=latency_ms
    )


def _results(status: str, rows: int, matched: int = 0) -> AwsAnswer:
    return _answer(
        "GetQueryResults",
        {
            "status": status,
            "results": [
                [
                    {"field": "@message", "value": f"line {n}"},
                    {"field": "@ptr", "value": f"ptr-{n}"},
                ]
                for n in range(rows)
            ],
            "statistics": {
                "recordsMatched": float(matched),
                "recordsScanned": 5000.0,
                "bytesScanned": 1.5e6,
            },
        },
    )


STARTED = _answer("StartQuery", {"queryId": QUERY_ID})


def test_moto_query_newest_first_capped_at_the_limit() -> None:
    start = datetime(2026, 4, 2, 11, 30, tzinfo=UTC)
    setup = seed_log_events(
        GROUP,
        "s",
        [(int((start + timedelta(minutes=n)).timestamp() * 1000), f"event {n}") for n in range(12)],
    )
    result = run("logs-insights", [_ask(limit="5")], setup=setup)
    status, body = answered(result.responses[0])
    assert status == 200
    assert [row["@message"] for row in body["rows"]] == [f"event {n}" for n in (11, 10, 9, 8, 7)]
    assert all("@ptr" not in row for row in body["rows"])
    assert (body["status"], body["partial"], body["stopped"], body["truncated"]) == (
        "Complete",
        False,
        False,
        True,
    )
    assert actions(result) == ["cloudwatch-logs:StartQuery", "cloudwatch-logs:GetQueryResults"]
    assert result.clock["slept_s"] == []


def test_polls_until_complete_with_growing_pauses() -> None:
    answers = [
        STARTED,
        _results("Scheduled", 0),
        _results("Running", 2),
        _results("Running", 4),
        _results("Complete", 6, 6),
    ]
    result = run("logs-insights", [_ask()], answers=answers)
    status, body = answered(result.responses[0])
    assert status == 200
    assert body["rows"] == [{"@message": f"line {n}"} for n in range(6)]
    assert body["statistics"] == {
        "recordsMatched": 6,
        "recordsScanned": 5000,
        "bytesScanned": 1500000,
    }
    assert (body["status"], body["partial"], body["stopped"]) == ("Complete", False, False)
    assert result.clock["slept_s"] == [0.5, 1.0, 2.0]
    assert (
        actions(result) == ["cloudwatch-logs:StartQuery"] + ["cloudwatch-logs:GetQueryResults"] * 4
    )


def _polls_before_deadline(latency_s: float, start_latency_s: float) -> int:
    """How many GetQueryResults fit in the deadline -- the handler's rule, recomputed."""
    elapsed = start_latency_s
    for polls, pause in enumerate(poll_pauses(), start=1):
        elapsed += latency_s
        if elapsed + pause > QUERY_DEADLINE_S:
            return polls
        elapsed += pause
    raise AssertionError("unreachable")


def test_deadline_stops_the_query_and_flags_partial_rows() -> None:
    polls = _polls_before_deadline(0.1, 0.1)
    answers = [
        STARTED,
        *(_results("Running", 2 * n, n) for n in range(polls)),
        _answer("StopQuery", {"success": True}),
    ]
    result = run("logs-insights", [_ask()], answers=answers)
    status, body = answered(result.responses[0])
    assert status == 200
    assert (body["status"], body["partial"], body["stopped"]) == ("Running", True, True)
    assert len(body["rows"]) == 2 * (polls - 1)  # the last poll's rows
    assert actions(result)[-1] == "cloudwatch-logs:StopQuery"
    assert actions(result).count("cloudwatch-logs:GetQueryResults") == polls
    # The frozen clock: the elapsed time is the recorded latencies plus the pauses taken.
    elapsed = datetime.fromisoformat(result.clock["end"]) - datetime.fromisoformat(
        result.clock["start"]
    )
    assert elapsed.total_seconds() <= QUERY_DEADLINE_S
    assert sum(result.clock["slept_s"]) + 0.1 * (polls + 2) == elapsed.total_seconds()


def test_a_query_that_ended_meanwhile_cannot_be_stopped_and_that_is_fine() -> None:
    polls = _polls_before_deadline(0.1, 0.1)
    ended = ErrorAnswer(
        status=400, code="InvalidParameterException", message="Query is already ended"
    )
    answers = [
        STARTED,
        *(_results("Running", 1) for _ in range(polls)),
        AwsAnswer("cloudwatch-logs", "StopQuery", ended),
    ]
    status, body = answered(run("logs-insights", [_ask()], answers=answers).responses[0])
    assert status == 200
    assert (body["partial"], body["stopped"]) == (True, False)


def test_aws_timeout_status_is_partial_and_failed_is_an_error() -> None:
    result = run("logs-insights", [_ask()], answers=[STARTED, _results("Timeout", 3)])
    status, body = answered(result.responses[0])
    assert (status, body["status"], body["partial"], body["stopped"]) == (
        200,
        "Timeout",
        True,
        False,
    )
    failed = run("logs-insights", [_ask()], answers=[STARTED, _results("Failed", 0)])
    assert answered(failed.responses[0]) == (
        502,
        {
            "error": "QUERY_FAILED",
            "message": "the Logs Insights query ended Failed",
            "retryable": False,
        },
    )


def test_malformed_query_is_a_400_and_too_many_queries_a_retryable_429() -> None:
    malformed = ErrorAnswer(
        status=400, code="MalformedQueryException", message="unexpected symbol found |"
    )
    result = run(
        "logs-insights",
        [_ask(queryString="fields | |")],
        answers=[AwsAnswer("cloudwatch-logs", "StartQuery", malformed)],
    )
    status, body = answered(result.responses[0])
    assert (status, body["error"], body["retryable"]) == (400, "AWS_REJECTED_REQUEST", False)
    assert "MalformedQueryException" in body["message"]

    busy = Fault(error="LimitExceededException", status=400, message="too many concurrent queries")
    limited = ErrorAnswer(
        status=400, code="LimitExceededException", message="too many concurrent queries"
    )
    result = run(
        "logs-insights",
        [_ask()],
        answers=[AwsAnswer("cloudwatch-logs", "StartQuery", limited, faults=(busy, busy))],
    )
    status, body = answered(result.responses[0])
    assert (status, body["error"], body["retryable"]) == (429, "THROTTLED", True)
    assert body["message"].endswith("(after 3 attempts)")
    assert result.clock["slept_s"] == [0.5, 1.0]


# --------------------------------------------------------------------------- cap_rows

cells = st.lists(
    st.tuples(st.sampled_from(["@message", "@timestamp", "@ptr", "count"]), st.text(max_size=1500)),
    max_size=4,
).map(lambda pairs: [{"field": f, "value": v} for f, v in pairs])


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(cells, max_size=40), limit=st.integers(1, 100), budget=st.integers(2, 20_000))
def test_cap_rows_bounds_count_size_and_values(
    rows: list[list[dict[str, str]]], limit: int, budget: int
) -> None:
    out, truncated = cap_rows(rows, limit, budget)
    assert len(out) <= limit
    assert len(json.dumps(out, ensure_ascii=False, separators=(",", ":"))) <= max(budget, 2)
    assert all(
        "@ptr" not in row and all(len(v) <= MAX_VALUE_CHARS for v in row.values()) for row in out
    )
    # Rows are a prefix of the input, unchanged unless shortened (and then flagged).
    for row, original in zip(out, rows, strict=False):
        expected = {c["field"]: c["value"] for c in original if c["field"] != "@ptr"}
        assert row.keys() == expected.keys()
        for key, value in row.items():
            assert value == expected[key] or (truncated and expected[key].startswith(value[:-1]))
    dropped = len(out) < len(rows)
    shortened = any(
        len(c["value"]) > MAX_VALUE_CHARS
        for r in rows[: len(out)]
        for c in r
        if c["field"] != "@ptr"
    )
    assert truncated == (dropped or shortened)
