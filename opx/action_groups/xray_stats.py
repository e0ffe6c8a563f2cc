"""X-Ray service-graph arithmetic: rates and latency percentiles, as pure functions.

The original stubs read the wrong fields. What X-Ray reports per node and per edge
(``ServiceStatistics`` / ``EdgeStatistics``): ``TotalCount`` requests, of which
``OkCount`` succeeded, ``ErrorStatistics.TotalCount`` were client errors (4xx) --
``ErrorStatistics.ThrottleCount`` of them throttled (429) -- and
``FaultStatistics.TotalCount`` were faults (5xx); ``TotalResponseTime`` is the sum of
response times in seconds. Latency percentiles come from ``ResponseTimeHistogram``
(``[{Value: seconds, Count}]``), nearest-rank, so every percentile is a response time
that really occurred. All arithmetic is ``Decimal``: the same input gives the same
digits everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import accumulate
from typing import Any

PERCENTILES = (50, 90, 99)
RATE_PLACES = Decimal("0.0001")
MS_PLACES = Decimal("0.001")
_MS = Decimal(1000)


def rate(part: int, total: int) -> Decimal | None:
    """``part / total`` to 4 places (half-even); ``None`` without traffic."""
    if total <= 0:
        return None
    return (Decimal(part) / Decimal(total)).quantize(RATE_PLACES, ROUND_HALF_EVEN)


def _seconds(value: Any) -> Decimal:
    # repr of a float is its shortest round-trip text: 0.012, not 0.01199999...
    return Decimal(repr(float(value)))


def percentile(histogram: Sequence[Mapping[str, Any]], q: int) -> Decimal | None:
    """The nearest-rank ``q``-th percentile of a response-time histogram, in seconds:
    the smallest value with at least ``ceil(q% of all requests)`` at or below it."""
    buckets = sorted(
        (_seconds(b["Value"]), int(b["Count"])) for b in histogram if int(b.get("Count", 0)) > 0
    )
    total = sum(count for _, count in buckets)
    if total == 0:
        return None
    rank = max(1, -(-q * total // 100))
    cumulative = accumulate(count for _, count in buckets)
    return next(value for (value, _), seen in zip(buckets, cumulative, strict=True) if seen >= rank)


def _ms(seconds: Decimal | None) -> Decimal | None:
    return None if seconds is None else (seconds * _MS).quantize(MS_PLACES, ROUND_HALF_EVEN)


def traffic(
    statistics: Mapping[str, Any] | None, histogram: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Counts, rates, mean and percentile latency of one node or edge."""
    stats = statistics or {}
    total = int(stats.get("TotalCount") or 0)
    errors = stats.get("ErrorStatistics") or {}
    faults = stats.get("FaultStatistics") or {}
    error_count = int(errors.get("TotalCount") or 0)
    throttle_count = int(errors.get("ThrottleCount") or 0)
    fault_count = int(faults.get("TotalCount") or 0)
    total_time = stats.get("TotalResponseTime")
    mean = _ms(_seconds(total_time) / Decimal(total)) if total and total_time is not None else None
    return {
        "requests": total,
        "ok": int(stats.get("OkCount") or 0),
        "errors": error_count,
        "throttles": throttle_count,
        "faults": fault_count,
        "errorRate": rate(error_count, total),
        "throttleRate": rate(throttle_count, total),
        "faultRate": rate(fault_count, total),
        "meanResponseTimeMs": mean,
        "latencyMs": {f"p{q}": _ms(percentile(histogram, q)) for q in PERCENTILES},
    }
