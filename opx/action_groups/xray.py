"""Action group ``xray``: trace summaries and the service graph of a time window.

* ``GET /xray/trace-summaries`` -- ``GetTraceSummaries`` with an optional X-Ray filter
  expression, at most :data:`MAX_PAGES` pages; the traces that matter most for an
  incident first (faults, then errors, then the slowest), at most ``limit`` of them.
* ``GET /xray/service-graph`` -- ``GetServiceGraph`` (at most :data:`MAX_PAGES` pages):
  per service and per outgoing edge the request count, error (4xx), throttle (429)
  and fault (5xx) rates and p50/p90/p99 latency (see :mod:`xray_stats`); optionally
  only one service with its callers and callees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from pydantic import Field

from opx.action_groups.aws import Pages, client
from opx.action_groups.contract import Operation, dispatch
from opx.action_groups.params import Window, iso
from opx.action_groups.xray_stats import traffic

GROUP = "xray"
MAX_PAGES = 5
MAX_TRACES = 50
MAX_SERVICES = 40
MAX_ROOT_CAUSES = 5


class XRayWindow(Window):
    """X-Ray answers for windows of at most 6 hours and keeps traces 30 days."""

    MAX_SPAN = timedelta(hours=6)
    MAX_AGE = timedelta(days=30)


class TraceQuery(XRayWindow):
    filter_expression: str | None = Field(default=None, min_length=1, max_length=2000)
    limit: int = Field(default=20, ge=1, le=MAX_TRACES)


class GraphQuery(XRayWindow):
    service_name: str | None = Field(default=None, min_length=1, max_length=255)


# --------------------------------------------------------------------------- traces


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _root_causes(causes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The services a trace's root causes name, each with its exception names."""
    out = []
    for cause in causes:
        for service in cause.get("Services", []):
            exceptions = sorted(
                {
                    exception.get("Name", "")
                    for entity in service.get("EntityPath", [])
                    for exception in entity.get("Exceptions", [])
                }
                - {""}
            )
            out.append({"service": service.get("Name", ""), "exceptions": exceptions})
    return out[:MAX_ROOT_CAUSES]


def trace_view(summary: Mapping[str, Any]) -> dict[str, Any]:
    """One trace summary, reduced to what an incident analysis reads."""
    http = summary.get("Http", {})
    view: dict[str, Any] = {
        "id": summary["Id"],
        "durationMs": _ms(summary.get("Duration")),
        "responseTimeMs": _ms(summary.get("ResponseTime")),
        "hasFault": bool(summary.get("HasFault")),
        "hasError": bool(summary.get("HasError")),
        "hasThrottle": bool(summary.get("HasThrottle")),
        "services": sorted({s.get("Name", "") for s in summary.get("ServiceIds", [])} - {""}),
        "faultRootCauses": _root_causes(summary.get("FaultRootCauses", [])),
        "errorRootCauses": _root_causes(summary.get("ErrorRootCauses", [])),
    }
    if "StartTime" in summary:
        view["startTime"] = iso(summary["StartTime"])
    if "EntryPoint" in summary:
        view["entryPoint"] = summary["EntryPoint"].get("Name")
    if http:
        wires = (("method", "HttpMethod"), ("url", "HttpURL"), ("status", "HttpStatus"))
        view["http"] = {key: http[wire] for key, wire in wires if wire in http}
    return view


def rank_traces(views: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Faults first, then errors, then throttles, each slowest first; ties by id."""
    return sorted(
        views,
        key=lambda v: (
            not v["hasFault"],
            not v["hasError"],
            not v["hasThrottle"],
            -(v["responseTimeMs"] or 0),
            v["id"],
        ),
    )


def get_trace_summaries(query: TraceQuery) -> dict[str, Any]:
    request: dict[str, Any] = {"StartTime": query.start_time, "EndTime": query.end_time}
    if query.filter_expression:
        request["FilterExpression"] = query.filter_expression
    views: dict[str, dict[str, Any]] = {}
    reader = Pages(client("xray").get_trace_summaries, request, max_pages=MAX_PAGES)
    for page in reader:
        views.update((s["Id"], trace_view(s)) for s in page.get("TraceSummaries", []))
        if len(views) >= query.limit:
            break
    ranked = rank_traces(list(views.values()))
    return {
        "startTime": iso(query.start_time),
        "endTime": iso(query.end_time),
        "filterExpression": query.filter_expression,
        "pages": reader.read,
        "traces": ranked[: query.limit],
        "truncated": reader.more or len(ranked) > query.limit,
    }


# --------------------------------------------------------------------------- graph


def service_views(services: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every service of a graph with its traffic and its outgoing edges', by name."""
    names = {s.get("ReferenceId"): s.get("Name", "") for s in services}
    views = []
    for service in services:
        edges = [
            {
                "target": names.get(edge.get("ReferenceId"), "unknown"),
                **traffic(edge.get("SummaryStatistics"), edge.get("ResponseTimeHistogram", [])),
            }
            for edge in service.get("Edges", [])
        ]
        views.append(
            {
                "name": service.get("Name", ""),
                "type": service.get("Type", ""),
                "root": bool(service.get("Root")),
                **traffic(
                    service.get("SummaryStatistics"), service.get("ResponseTimeHistogram", [])
                ),
                "edges": sorted(edges, key=lambda e: e["target"]),
            }
        )
    return sorted(views, key=lambda v: (v["name"], v["type"]))


def neighbourhood(views: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """``name`` with the services calling it and the services it calls."""
    callees = {e["target"] for v in views if v["name"] == name for e in v["edges"]}
    return [
        v
        for v in views
        if v["name"] == name or v["name"] in callees or any(e["target"] == name for e in v["edges"])
    ]


def get_service_graph(query: GraphQuery) -> dict[str, Any]:
    request = {"StartTime": query.start_time, "EndTime": query.end_time}
    reader = Pages(client("xray").get_service_graph, request, max_pages=MAX_PAGES)
    services = [service for page in reader for service in page.get("Services", [])]
    views = service_views(services)
    if query.service_name:
        views = neighbourhood(views, query.service_name)
    return {
        "startTime": iso(query.start_time),
        "endTime": iso(query.end_time),
        "serviceName": query.service_name,
        "services": views[:MAX_SERVICES],
        "truncated": reader.more or len(views) > MAX_SERVICES,
    }


OPERATIONS = (
    Operation("/xray/trace-summaries", "GET", "getTraceSummaries", TraceQuery, get_trace_summaries),
    Operation("/xray/service-graph", "GET", "getServiceGraph", GraphQuery, get_service_graph),
)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point of the ``xray`` action group."""
    return dispatch(GROUP, OPERATIONS, event)
