"""``bench/replay.py`` and ``bench/resume.py`` at their smallest: one scenario, one run,
so they cannot rot."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.replayer import replay
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def _bench(name: str = "replay") -> Any:
    """``bench/<name>.py`` as a module (bench scripts are not a package)."""
    path = ROOT / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_one_scenario_one_run_reports_both_ratios() -> None:
    bench = _bench()
    results, skipped = bench.run(ROOT / "scenarios", runs=1, only=["rds-failover", "config-error"])
    assert set(results) == {"rds-failover"}
    assert skipped == {"config-error": "the replay stored no execution"}
    measured = results["rds-failover"]
    assert measured.replay > 0 and measured.floor > 0 and measured.bare > 0
    assert measured.calls == 6 and measured.checkpoints == 6
    lines = bench.report(results, skipped, 1)
    assert lines[-1].startswith("median over 1 scenarios: replay ")


def test_the_floor_must_reach_the_replays_final_state() -> None:
    """The self-check the ratios rest on: a floor that computes something else
    (here: a final state the executor never reaches) is refused, not timed."""
    bench = _bench()
    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    state = replay(scenario).final_state
    executor = bench.Executor(scenario, state)
    executor.check_same_work(state)  # the real one passes
    tampered = copy.deepcopy(state)
    tampered["status"] = "FAILED"
    with pytest.raises(bench.NotComparable, match="bare graph did not reach"):
        executor.check_same_work(tampered)


def test_resume_bench_times_a_passing_and_a_broken_checkpointer() -> None:
    """``bench/resume.py`` at its smallest; it also refuses to report a ratio when
    the broken checkpointer passes (its self-check)."""
    bench = _bench("resume")
    lines = bench.run(ROOT / "scenarios", ["budget-exceeded"])
    assert lines[1].startswith("budget-exceeded")
    assert lines[1].split()[-1] in ("ok", "> 2x")
