"""The repeat check: N replays in one process give byte-identical canonical JSON."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from harness.checks.base import Check, CheckContext
from harness.checks.compare import differs
from harness.checks.outcome import Outcome, Status
from harness.replayer import ReplayResult, replay
from harness.scenario import Scenario


def check_repeat(
    scenario: Scenario,
    runs: int = 3,
    *,
    replay_fn: Callable[[Scenario], ReplayResult] = replay,
) -> Outcome:
    """``runs`` replays in this process, each with fresh moto state and a cold start."""
    started = time.perf_counter()
    first = replay_fn(scenario)
    baseline = first.to_compact_json()
    for run in range(1, runs):
        again = replay_fn(scenario)
        if again.to_compact_json() != baseline:
            return differs(
                "repeat",
                scenario.name,
                f"replay #{run + 1} of {runs} in one process differs from replay #1",
                "run #1",
                first,
                f"run #{run + 1}",
                again,
                started,
                {"runs": runs, "failed_run": run + 1},
            )
    return Outcome(
        Status.PASSED,
        f"{runs} replays of {scenario.name} in one process gave byte-identical canonical JSON.",
        seconds=time.perf_counter() - started,
        details={"runs": runs},
    )


class RepeatCheck(Check):
    name: ClassVar[str] = "repeat"

    def run(self, context: CheckContext) -> Outcome:
        runs: list[ReplayResult] = []

        def replay_fn(scenario: Scenario) -> ReplayResult:
            runs.append(replay(scenario) if runs else context.first)
            return runs[-1]

        return check_repeat(context.scenario, context.repeat, replay_fn=replay_fn)


__all__ = ["RepeatCheck", "check_repeat"]
