"""One scenario judged for the gate: replay once, then every selected check.

This runs in whichever process the gate hands the scenario to, so it takes a
picklable :class:`Task` and returns a picklable :class:`~harness.verdict.Verdict`;
the heavy modules (moto, LangGraph, boto3) are imported when a scenario is judged,
not when the gate merely needs this function's name to send it to a worker.

The first replay serves every check: it is compared with the snapshot, it is run #1
of the repeat check and the baseline of the completion-order check. A check proves
exactly what it proves in ``tests/harness/test_determinism.py``; only the replay
nobody needed twice is saved.

The cross-process check is not run here: it needs fresh interpreters, which the
gate starts for many scenarios at once (:func:`harness.gate.cross_process`).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.verdict import CHECKS, Outcome, Status, Verdict

if TYPE_CHECKING:
    from harness.replayer import ReplayResult
    from harness.scenario import Scenario
    from harness.transport import UnmatchedRequestError

#: Lines of a diff or report kept per failure: enough to see the change, not a novel.
DETAIL_LINES = 200


@dataclass(frozen=True)
class Task:
    scenario: Path
    snapshot: Path
    checks: tuple[str, ...]
    repeat: int
    #: Return the first replay's canonical JSON (for ``--update`` and the process check).
    keep_replay: bool = False


class _Unjudged(Exception):
    """The scenario cannot be replayed at all; ``args`` = (one line, detail)."""


def judge(task: Task) -> Verdict:
    """Every check of ``task`` on one scenario; never raises for a scenario's fault."""
    started = time.perf_counter()
    name = task.scenario.stem
    verdict = Verdict(name, str(task.scenario), str(task.snapshot), {})
    try:
        scenario = _load(task.scenario)
        first = _first_replay(scenario)
    except _Unjudged as exc:
        verdict.outcomes = _unjudged(task.checks, *exc.args)
    else:
        replayed = first.to_canonical_json()
        replay_seconds = time.perf_counter() - started
        for check in task.checks:
            if check in _LOCAL:
                verdict.outcomes[check] = _run(check, task, scenario, first, replayed)
        if "snapshot" in verdict.outcomes:  # the check that needs the shared replay pays for it
            snapshot = verdict.outcomes["snapshot"]
            seconds = snapshot.seconds + replay_seconds
            verdict.outcomes["snapshot"] = dataclasses.replace(snapshot, seconds=seconds)
        verdict.replayed = replayed if task.keep_replay else None
    verdict.seconds = time.perf_counter() - started
    return verdict


def _load(path: Path) -> Scenario:
    from harness.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        raise _Unjudged(f"invalid scenario: {exc}", "") from None
    if scenario.name != path.stem:
        raise _Unjudged(
            f"invalid scenario: {path}: $.name: {scenario.name!r} must equal the file name "
            f"{path.stem!r} (the snapshot is named after both)",
            "",
        )
    return scenario


def _first_replay(scenario: Scenario) -> ReplayResult:
    from harness.replayer import replay
    from harness.transport import UnmatchedRequestError

    try:
        return replay(scenario)
    except UnmatchedRequestError as exc:
        raise _Unjudged(
            f"unrecorded call: {exc} (re-record or re-author the scenario if the change is "
            "intended)",
            _report_body(exc),
        ) from None
    except Exception as exc:
        raise _Unjudged(f"the replay raised {_one_line(exc)}", "") from None


def _unjudged(checks: tuple[str, ...], summary: str, detail: str) -> dict[str, Outcome]:
    """The first selected check carries the reason; the others say they were not run."""
    ordered = [c for c in CHECKS if c in checks]
    skipped = Outcome(Status.NOT_RUN, "not judged: the scenario could not be replayed")
    return {
        c: Outcome(Status.ERROR, summary, detail) if c == ordered[0] else skipped for c in ordered
    }


CheckFn = Callable[["Task", "Scenario", "ReplayResult", str], Outcome]


def _run(check: str, task: Task, scenario: Scenario, first: ReplayResult, replayed: str) -> Outcome:
    """A check, timed; a later replay's unrecorded call is nondeterminism (the first
    replay of the same input matched), anything else it raises is an unjudged check."""
    from harness.ordering import OrderingStall
    from harness.transport import UnmatchedRequestError

    started = time.perf_counter()
    try:
        outcome = _LOCAL[check](task, scenario, first, replayed)
    except UnmatchedRequestError as exc:
        outcome = Outcome(
            Status.NONDETERMINISTIC,
            f"{check} failed for scenario {scenario.name}: a later replay sent a request the "
            f"first replay did not ({exc})",
            _report_body(exc),
        )
    except OrderingStall as exc:
        outcome = Outcome(Status.ERROR, f"{check} could not force a completion order: {exc}")
    except Exception as exc:
        outcome = Outcome(Status.ERROR, f"{check} could not run: {_one_line(exc)}")
    return dataclasses.replace(outcome, seconds=time.perf_counter() - started)


# --------------------------------------------------------------------------- checks


def _snapshot(task: Task, scenario: Scenario, first: ReplayResult, replayed: str) -> Outcome:
    try:
        approved = task.snapshot.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Outcome(
            Status.MISSING,
            f"no approved snapshot {task.snapshot}: approve it with `opx-harness gate --update` "
            "and review the new file before committing it",
        )
    except (OSError, UnicodeDecodeError) as exc:
        return Outcome(Status.ERROR, f"cannot read snapshot {task.snapshot}: {exc}")
    if approved == replayed:
        return Outcome(Status.PASSED, f"{scenario.name} replays to its approved snapshot")
    return _drift(task.snapshot, approved, first, replayed)


def _drift(snapshot: Path, approved: str, first: ReplayResult, replayed: str) -> Outcome:
    from harness.divergence import compare

    lines: list[str] = []
    path = None
    try:
        divergence = compare(
            json.loads(approved), first, expected_label="snapshot", actual_label="replay"
        )
    except ValueError:  # a hand-broken snapshot file: the text diff says it all
        divergence = None
    if divergence is not None:
        lines += divergence.summary()
        path = next(iter(divergence.sections.values()), None)
    lines += difflib.unified_diff(
        approved.splitlines(),
        replayed.splitlines(),
        fromfile=f"approved snapshot {snapshot}",
        tofile="this replay",
        lineterm="",
    )
    where = f" first at {path}" if path else ""
    return Outcome(
        Status.DRIFT,
        f"the replay differs from the approved snapshot {snapshot}{where} (if intended, "
        "re-approve with `opx-harness gate --update`)",
        _clip("\n".join(lines)),
        path,
    )


def _repeat(task: Task, scenario: Scenario, first: ReplayResult, replayed: str) -> Outcome:
    from harness.checks import check_repeat
    from harness.divergence import compare
    from harness.replayer import replay

    runs: list[ReplayResult] = []

    def replay_fn(s: Scenario) -> ReplayResult:
        runs.append(replay(s) if runs else first)
        return runs[-1]

    result = check_repeat(scenario, task.repeat, replay_fn=replay_fn)
    if result.passed:
        return Outcome(Status.PASSED, result.reason)
    divergence = compare(
        runs[0], runs[-1], expected_label="run #1", actual_label=f"run #{len(runs)}"
    )
    detail = divergence.to_text() if divergence is not None else ""
    return Outcome(Status.NONDETERMINISTIC, result.reason, _clip(detail), result.path)


def _order(task: Task, scenario: Scenario, first: ReplayResult, replayed: str) -> Outcome:
    from harness.checks import check_completion_order, fixed_orders

    result = check_completion_order(scenario, fixed_orders(), baseline=first)
    if not result.applicable:
        return Outcome(Status.SKIPPED, result.reason)
    status = Status.PASSED if result.passed else Status.NONDETERMINISTIC
    return Outcome(status, result.reason, path=result.path)


def _resume(task: Task, scenario: Scenario, first: ReplayResult, replayed: str) -> Outcome:
    from harness.checks import not_applicable
    from harness.resume import resume_matrix

    skipped = not_applicable("resume", scenario)
    if skipped is not None:
        return Outcome(Status.SKIPPED, skipped.reason)
    matrices = [resume_matrix(scenario, saver) for saver in ("dynamodb", "memory")]
    cases = [case for matrix in matrices for case in matrix.cases]
    failures = [case for case in cases if not case.ok]
    if failures:
        return Outcome(
            Status.NONDETERMINISTIC,
            f"resume failed for scenario {scenario.name}: {len(failures)} of {len(cases)} crash "
            f"points did not resume exactly (first: {failures[0].point.label} "
            f"[{failures[0].saver}])",
            _clip("\n".join(case.report() for case in failures)),
        )
    if not cases:
        reasons = "; ".join(sorted({m.skipped or "no crash point" for m in matrices}))
        return Outcome(Status.SKIPPED, f"resume: nothing to crash in {scenario.name}: {reasons}")
    return Outcome(
        Status.PASSED,
        f"{len(cases)} crash points of {scenario.name} (DynamoDB and in-memory savers) all "
        "resumed to the uninterrupted run's answer without paying an agent twice",
    )


_LOCAL: dict[str, CheckFn] = {
    "snapshot": _snapshot,
    "repeat": _repeat,
    "order": _order,
    "resume": _resume,
}


def _one_line(exc: BaseException) -> str:
    """An unexpected exception as the one line a summary is: ``Type: message``."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _report_body(exc: UnmatchedRequestError) -> str:
    """The unmatched-request report below its first line (the summary already says it)."""
    head, _, body = exc.report().partition("\n")
    return _clip(body if head == str(exc) else exc.report())


def _clip(text: str, limit: int = DETAIL_LINES) -> str:
    lines = text.splitlines()
    if len(lines) <= limit:
        return text
    return "\n".join([*lines[:limit], f"... ({len(lines) - limit} more lines)"])
