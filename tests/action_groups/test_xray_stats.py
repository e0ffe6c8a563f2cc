"""Service-graph arithmetic, property-tested against independent recomputations."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opx.action_groups.xray_stats import PERCENTILES, percentile, rate, traffic

values = st.sampled_from([0.001, 0.005, 0.012, 0.05, 0.1, 0.25, 0.8, 1.5, 3.0, 12.5])
histograms = st.lists(
    st.fixed_dictionaries({"Value": values, "Count": st.integers(0, 500)}), max_size=8
)


def _expanded(histogram: list[dict[str, Any]]) -> list[float]:
    """Every request's response time, one list entry each: the definition, spelled out."""
    return sorted(v for b in histogram for v in [float(b["Value"])] * int(b["Count"]))


@settings(max_examples=300, deadline=None)
@given(histogram=histograms, q=st.integers(1, 100))
def test_percentile_is_the_nearest_rank_of_the_expanded_requests(
    histogram: list[dict[str, Any]], q: int
) -> None:
    requests = _expanded(histogram)
    got = percentile(histogram, q)
    if not requests:
        assert got is None
        return
    assert got == Decimal(repr(requests[math.ceil(q * len(requests) / 100) - 1]))


@settings(max_examples=200, deadline=None)
@given(histogram=histograms, data=st.data())
def test_percentiles_are_ordered_observed_and_order_independent(
    histogram: list[dict[str, Any]], data: st.DataObject
) -> None:
    found = [percentile(histogram, q) for q in PERCENTILES]
    if not _expanded(histogram):
        assert found == [None] * len(PERCENTILES)
        return
    assert found == sorted(found)
    observed = {Decimal(repr(float(b["Value"]))) for b in histogram if b["Count"]}
    assert set(found) <= observed
    shuffled = data.draw(st.permutations(histogram))
    assert [percentile(shuffled, q) for q in PERCENTILES] == found


@given(part=st.integers(0, 10**9), extra=st.integers(0, 10**9))
def test_rate_is_the_exact_ratio_rounded_to_four_places(part: int, extra: int) -> None:
    total = part + extra
    got = rate(part, total)
    if total == 0:
        assert got is None
        return
    assert Decimal(0) <= got <= Decimal(1)
    assert abs(Fraction(got) - Fraction(part, total)) <= Fraction(1, 20000)
    assert got.as_tuple().exponent == -4


@given(
    ok=st.integers(0, 10**6),
    other_errors=st.integers(0, 10**6),
    throttles=st.integers(0, 10**6),
    faults=st.integers(0, 10**6),
    mean_ms=st.integers(1, 10**5),
)
def test_traffic_reads_error_throttle_and_fault_totals(
    ok, other_errors, throttles, faults, mean_ms
) -> None:
    errors = other_errors + throttles
    total = ok + errors + faults
    stats = {
        "OkCount": ok,
        "ErrorStatistics": {
            "ThrottleCount": throttles,
            "OtherCount": other_errors,
            "TotalCount": errors,
        },
        "FaultStatistics": {"OtherCount": faults // 2, "TotalCount": faults},
        "TotalCount": total,
        "TotalResponseTime": mean_ms * total / 1000,
    }
    got = traffic(stats, [])
    assert (got["requests"], got["ok"], got["errors"], got["throttles"], got["faults"]) == (
        total,
        ok,
        errors,
        throttles,
        faults,
    )
    assert got["errorRate"] == rate(errors, total)
    assert got["throttleRate"] == rate(throttles, total)
    assert got["faultRate"] == rate(faults, total)
    if total:
        assert got["throttleRate"] <= got["errorRate"]  # throttles are a kind of error
        assert abs(got["meanResponseTimeMs"] - mean_ms) <= Decimal("0.001")
    assert got["latencyMs"] == {"p50": None, "p90": None, "p99": None}


def test_a_node_without_statistics_has_no_rates() -> None:
    assert traffic(None, []) == {
        "requests": 0,
        "ok": 0,
        "errors": 0,
        "throttles": 0,
        "faults": 0,
        "errorRate": None,
        "throttleRate": None,
        "faultRate": None,
        "meanResponseTimeMs": None,
        "latencyMs": {"p50": None, "p90": None, "p99": None},
    }
