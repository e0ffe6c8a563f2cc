"""One scenario judged for the gate: replay once, then every selected check.

This runs in whichever process the gate hands the scenario to, so it takes a
picklable :class:`Task` and returns a picklable :class:`~harness.gate.verdict.Verdict`;
the heavy modules (moto, LangGraph, boto3) are imported when a scenario is judged,
not when the gate merely needs this function's name to send it to a worker.

The first replay serves every check (:class:`~harness.checks.CheckContext`): it is
compared with the snapshot, it is run #1 of the repeat check and the baseline of the
order check. Checks that are cheaper in bulk (``process``: fresh interpreters) are
left to the gate, which runs them over many scenarios at once.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.checks.outcome import Outcome, Status
from harness.checks.registry import CHECK_NAMES, check_named
from harness.gate.verdict import Verdict

if TYPE_CHECKING:
    from harness.checks import CheckContext
    from harness.replayer import ReplayResult
    from harness.scenario import Scenario
    from harness.wire import UnmatchedRequestError


@dataclass(frozen=True)
class Task:
    scenario: Path
    snapshot: Path
    checks: tuple[str, ...]
    repeat: int
    #: Return the first replay's canonical JSON (for ``--update`` and batched checks).
    keep_replay: bool = False
    full_diff: bool = False


class Unjudged(Exception):
    """The scenario cannot be replayed at all; ``args`` = (one line, detail)."""


class Unanswered(Exception):
    """The recordings cannot answer the replay for a reason with a name (stale
    recordings, drift in what agents are shown); ``args`` = (the outcome,)."""


def judge(task: Task) -> Verdict:
    """Every check of ``task`` on one scenario; never raises for a scenario's fault."""
    from harness.checks import CheckContext, not_applicable

    started = time.perf_counter()
    name = task.scenario.stem
    verdict = Verdict(name, str(task.scenario), str(task.snapshot), {})
    try:
        scenario = load(task.scenario)
        first = first_replay(scenario, task)
    except Unjudged as exc:
        verdict.outcomes = unjudged(task.checks, Outcome(Status.ERROR, *exc.args))
    except Unanswered as exc:
        verdict.outcomes = unjudged(task.checks, exc.args[0])
    else:
        replayed = first.to_canonical_json()
        replay_seconds = time.perf_counter() - started
        context = CheckContext(scenario, task.scenario, task.snapshot, first, replayed, task.repeat)
        for check in task.checks:
            skipped = not_applicable(check, scenario)
            if skipped is not None:
                verdict.outcomes[check] = skipped
            elif not check_named(check).batched:  # batched checks: the gate runs them
                verdict.outcomes[check] = run_check(check, context)
        if "snapshot" in verdict.outcomes:  # the check that needs the shared replay pays for it
            snapshot = verdict.outcomes["snapshot"]
            seconds = snapshot.seconds + replay_seconds
            verdict.outcomes["snapshot"] = dataclasses.replace(snapshot, seconds=seconds)
        verdict.replayed = replayed if task.keep_replay else None
    verdict.seconds = time.perf_counter() - started
    return verdict


def load(path: Path) -> Scenario:
    """The scenario file, named like its file (the snapshot is named after both)."""
    from harness.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        raise Unjudged(f"invalid scenario: {exc}", "") from None
    if scenario.name != path.stem:
        raise Unjudged(
            f"invalid scenario: {path}: $.name: {scenario.name!r} must equal the file name "
            f"{path.stem!r} (the snapshot is named after both)",
            "",
        )
    return scenario


def first_replay(scenario: Scenario, task: Task) -> ReplayResult:
    from harness.gate.mismatch import unmatched_outcome
    from harness.replayer import replay
    from harness.wire import UnmatchedRequestError

    try:
        return replay(scenario)
    except UnmatchedRequestError as exc:
        named = unmatched_outcome(scenario.name, exc.replay_errors, task.scenario, task.snapshot)
        if named is not None:
            raise Unanswered(named) from None
        raise Unjudged(
            f"unrecorded call: {exc} (re-record or re-author the scenario if the change is "
            "intended)",
            report_body(exc),
        ) from None
    except Exception as exc:
        raise Unjudged(f"the replay raised {one_line(exc)}", "") from None


def unjudged(checks: tuple[str, ...], reason: Outcome) -> dict[str, Outcome]:
    """The first selected check carries the reason; the others say they were not run."""
    ordered = [c for c in CHECK_NAMES if c in checks]
    skipped = Outcome(Status.NOT_RUN, "not judged: the scenario could not be replayed")
    return {c: reason if c == ordered[0] else skipped for c in ordered}


def run_check(name: str, context: CheckContext) -> Outcome:
    """A check, timed; a later replay's unrecorded call is nondeterminism (the first
    replay of the same input matched), anything else it raises is an unjudged check."""
    from harness.wire import UnmatchedRequestError

    started = time.perf_counter()
    try:
        outcome = check_named(name).run(context)
    except UnmatchedRequestError as exc:
        outcome = Outcome(
            Status.NONDETERMINISTIC,
            f"{name} failed for scenario {context.scenario.name}: a later replay sent a "
            f"request the first replay did not ({exc})",
            report_body(exc),
        )
    except Exception as exc:
        outcome = Outcome(Status.ERROR, f"{name} could not run: {one_line(exc)}")
    return dataclasses.replace(outcome, seconds=time.perf_counter() - started)


def one_line(exc: BaseException) -> str:
    """An unexpected exception as the one line a summary is: ``Type: message``."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def report_body(exc: UnmatchedRequestError) -> str:
    """The unmatched-request report below its first line (the summary already says it)."""
    from harness.checks.compare import clip

    head, _, body = exc.report().partition("\n")
    return clip(body if head == str(exc) else exc.report())


__all__ = [
    "Task",
    "Unanswered",
    "Unjudged",
    "first_replay",
    "judge",
    "load",
    "one_line",
    "run_check",
]
