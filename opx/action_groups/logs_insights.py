"""Action group ``logs-insights``: one CloudWatch Logs Insights query, bounded in time
and size.

``POST /logs/query`` starts the query (``StartQuery``) and polls ``GetQueryResults``
after pauses of 0.5, 1, 2, 2, ... seconds (``time.sleep``, looked up at call time)
until the query ends or :data:`QUERY_DEADLINE_S` of ``time.monotonic()`` has passed;
then it stops the query (``StopQuery``) and answers what had arrived, flagged
``partial``. Rows are capped at the request's ``limit`` and at
:data:`MAX_ROWS_CHARS` of JSON (long values shortened), flagged ``truncated``; the
``@ptr`` field (an opaque record pointer) is left out. A query that fails or is
cancelled is a 502.

The deadline keeps the Lambda inside its timeout: give the function at least
``QUERY_DEADLINE_S`` + 10 s.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from pydantic import Field, field_validator

from opx.action_groups.aws import call, client
from opx.action_groups.contract import ActionError, Operation, dispatch
from opx.action_groups.params import StringList, Window, iso

GROUP = "logs-insights"
QUERY_DEADLINE_S = 15.0
MAX_LOG_GROUPS = 10
MAX_LIMIT = 100
MAX_VALUE_CHARS = 1000
MAX_ROWS_CHARS = 16_000
RUNNING = frozenset({"Scheduled", "Running"})
#: Statuses whose rows are (partial) results worth returning.
ANSWERED = frozenset({"Complete", "Timeout"})
_LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


class LogsQuery(Window):
    """``POST /logs/query``: a window of at most 7 days within the last 90."""

    MAX_SPAN = timedelta(days=7)
    MAX_AGE = timedelta(days=90)

    log_group_names: StringList = Field(min_length=1, max_length=MAX_LOG_GROUPS)
    query_string: str = Field(min_length=1, max_length=4000)
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)

    @field_validator("log_group_names")
    @classmethod
    def _valid_names(cls, names: list[str]) -> list[str]:
        bad = [name for name in names if not _LOG_GROUP.match(name)]
        if bad:
            raise ValueError(f"not a log group name: {', '.join(bad)}")
        return sorted(set(names))


def poll_pauses() -> Iterator[float]:
    """Seconds to wait before each next ``GetQueryResults``: 0.5, 1, 2, 2, ..."""
    yield 0.5
    yield 1.0
    while True:
        yield 2.0


def cap_rows(
    rows: Sequence[Sequence[dict[str, str]]], limit: int, max_chars: int = MAX_ROWS_CHARS
) -> tuple[list[dict[str, str]], bool]:
    """Result rows as ``{field: value}`` -- at most ``limit`` of them and ``max_chars``
    of JSON together, values cut at :data:`MAX_VALUE_CHARS` -- and whether anything
    was left out or shortened."""
    out: list[dict[str, str]] = []
    truncated = len(rows) > limit
    used = 1  # the brackets of the list, less the comma the first row does not need
    for row in rows[:limit]:
        fields: dict[str, str] = {}
        for cell in row:
            name, value = cell.get("field", ""), cell.get("value", "")
            if name == "@ptr":
                continue
            if len(value) > MAX_VALUE_CHARS:
                value, truncated = value[: MAX_VALUE_CHARS - 1] + "…", True
            fields[name] = value
        size = len(json.dumps(fields, ensure_ascii=False, separators=(",", ":"))) + 1
        if used + size > max_chars:
            return out, True
        used += size
        out.append(fields)
    return out, truncated


def _statistics(raw: dict[str, Any]) -> dict[str, int]:
    keys = ("recordsMatched", "recordsScanned", "bytesScanned")
    return {key: int(raw[key]) for key in keys if key in raw}


def run_query(query: LogsQuery) -> dict[str, Any]:
    logs = client("logs")
    started = time.monotonic()
    query_id = call(
        logs.start_query,
        logGroupNames=query.log_group_names,
        startTime=int(query.start_time.timestamp()),
        endTime=int(query.end_time.timestamp()),
        queryString=query.query_string,
        limit=query.limit,
    )["queryId"]
    pauses = poll_pauses()
    stopped = False
    while True:
        result = call(logs.get_query_results, queryId=query_id)
        status = result.get("status", "Unknown")
        if status not in RUNNING:
            break
        pause = next(pauses)
        if time.monotonic() - started + pause > QUERY_DEADLINE_S:
            stopped = _stop(logs, query_id)
            break
        time.sleep(pause)
    if status not in RUNNING | ANSWERED:
        raise ActionError(502, "QUERY_FAILED", f"the Logs Insights query ended {status}")
    rows, truncated = cap_rows(result.get("results", []), query.limit)
    return {
        "logGroupNames": query.log_group_names,
        "queryString": query.query_string,
        "startTime": iso(query.start_time),
        "endTime": iso(query.end_time),
        "status": status,
        "partial": status != "Complete",
        "stopped": stopped,
        "rows": rows,
        "truncated": truncated,
        "statistics": _statistics(result.get("statistics", {})),
    }


def _stop(logs: Any, query_id: str) -> bool:
    """Stop a query that ran out of time; one that ended meanwhile cannot be stopped,
    which changes nothing for the answer."""
    try:
        return bool(call(logs.stop_query, queryId=query_id).get("success"))
    except ActionError:
        return False


OPERATIONS = (Operation("/logs/query", "POST", "runLogsInsightsQuery", LogsQuery, run_query),)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point of the ``logs-insights`` action group."""
    return dispatch(GROUP, OPERATIONS, event)
