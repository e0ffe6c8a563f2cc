"""Keeps ``bench/checkpointer.py`` runnable, and its call counts honest.

Timings are not asserted (they depend on the machine); DynamoDB call counts are
deterministic, so the ratio the benchmark reports is checked here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "checkpointer.py"


def test_bench_counts_calls_for_both_savers() -> None:
    spec = importlib.util.spec_from_file_location("bench_checkpointer", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    # dataclasses and LangGraph's type-hint lookups find the module there
    sys.modules[spec.name] = bench
    try:
        spec.loader.exec_module(bench)
        results = bench.run(runs=2, warmup=0)  # also asserts equal final states
    finally:
        del sys.modules[spec.name]

    ours, theirs = results["opx"], results["aws"]
    # 1 Query, 6 checkpoints, 9 task writes: one call each.
    assert [dict(c) for c in ours.calls] == [{"Query": 1, "PutItem": 15}] * 2
    assert ours.calls_per_invoke * 3 <= theirs.calls_per_invoke
    assert len(ours.millis) == len(theirs.millis) == 2
