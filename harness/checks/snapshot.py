"""The snapshot check: a replay equals its approved snapshot, byte for byte.

Also the one drift report, used by the gate and by the pytest plugin alike: a
one-line summary naming the file and the first differing path, then the divergence
summary (first divergent checkpoint, its writers and channels, each section's first
differing path) and a unified diff of the approved file against this replay.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import ClassVar

from harness.checks.base import Check, CheckContext
from harness.checks.compare import clip
from harness.checks.divergence import as_canonical, compare
from harness.checks.outcome import Outcome, Status
from harness.impact.behaviour import BehaviourChange, compare_behaviour
from harness.replayer import ReplayResult

#: How the gate tells a person to approve an intended change.
GATE_APPROVAL = "`opx-harness gate --update`"
#: A changed diff line that only carries a digest (state, pending write, elided value).
_DIGEST_LINE = re.compile(r'^[+-]\s*("[^"]*": )?"[0-9a-f]{64}",?$')


@dataclass(frozen=True)
class DriftReport:
    #: One line: which snapshot, where it first differs, how to approve.
    summary: str
    #: The behaviour roll-up line, the divergence summary and the unified diff.
    detail: str
    #: The first differing JSON path, when the approved file could be read as JSON.
    path: str | None
    #: Behaviour approved -> replayed, when both sides are results.
    behaviour: BehaviourChange | None = None


def drift_report(
    approved: str,
    replayed: ReplayResult | str,
    *,
    location: str,
    approval: str = GATE_APPROVAL,
    full: bool = False,
) -> DriftReport:
    """How ``replayed`` differs from the ``approved`` snapshot text at ``location``;
    hunks that change nothing but digests are folded into one line unless ``full``."""
    text = replayed if isinstance(replayed, str) else replayed.to_canonical_json()
    lines: list[str] = []
    path = None
    behaviour = None
    try:
        expected = json.loads(approved)
        actual = json.loads(text) if isinstance(replayed, str) else replayed
        divergence = compare(expected, actual, expected_label="snapshot", actual_label="replay")
    except ValueError:  # a hand-broken snapshot file: the text diff says it all
        divergence = None
    if divergence is not None and isinstance(expected, dict):
        behaviour = compare_behaviour(expected, as_canonical(actual))
        lines.append(behaviour_line(behaviour))
    if divergence is not None:
        lines += divergence.summary()
        path = next(iter(divergence.sections.values()), None)
    diff = list(
        difflib.unified_diff(
            approved.splitlines(),
            text.splitlines(),
            fromfile=f"approved snapshot {location}",
            tofile="this replay",
            lineterm="",
        )
    )
    lines += diff if full else fold_digest_hunks(diff)
    where = f" first at {path}" if path else ""
    summary = (
        f"the replay differs from the approved snapshot {location}{where} "
        f"(if the change is intended, re-approve with {approval})"
    )
    return DriftReport(summary, "\n".join(lines), path, behaviour)


def behaviour_line(change: BehaviourChange) -> str:
    """``behaviour: top action a -> b; ...`` or ``behaviour unchanged (...)``."""
    if change.unchanged:
        return f"behaviour unchanged ({', '.join(change.new)} all equal)"
    return "behaviour: " + "; ".join(f"{name} {change.cell(name)}" for name in change.changed)


def fold_digest_hunks(diff: list[str]) -> list[str]:
    """A unified diff with every hunk that changes only digests (state, pending
    writes, elided values) replaced by one line saying how many were folded: they say
    *that* a state differs, which the readable hunks and the roll-up already show."""
    head, hunks = diff[:2], []
    for line in diff[2:]:
        if line.startswith("@@") or not hunks:
            hunks.append([line])
        else:
            hunks[-1].append(line)
    kept, folded = [], 0
    for hunk in hunks:
        changed = [ln for ln in hunk[1:] if ln[:1] in "+-"]
        if changed and all(_DIGEST_LINE.match(ln) for ln in changed):
            folded += 1
        else:
            kept += hunk
    note = [f"({folded} hunk(s) changing only digests folded; --full-diff shows them)"]
    return [*head, *kept, *(note if folded else [])]


class SnapshotCheck(Check):
    name: ClassVar[str] = "snapshot"
    determinism: ClassVar[bool] = False

    def run(self, context: CheckContext) -> Outcome:
        try:
            approved = context.snapshot.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Outcome(
                Status.MISSING,
                f"no approved snapshot {context.snapshot}: approve it with {GATE_APPROVAL} "
                "and review the new file before committing it",
            )
        except (OSError, UnicodeDecodeError) as exc:
            return Outcome(Status.ERROR, f"cannot read snapshot {context.snapshot}: {exc}")
        if approved == context.replayed:
            name = context.scenario.name
            return Outcome(Status.PASSED, f"{name} replays to its approved snapshot")
        report = drift_report(
            approved, context.first, location=str(context.snapshot), full=context.full_diff
        )
        details = {"behaviour": report.behaviour.to_json()} if report.behaviour else {}
        detail = report.detail if context.full_diff else clip(report.detail)
        return Outcome(Status.DRIFT, report.summary, detail, report.path, details=details)


__all__ = [
    "GATE_APPROVAL",
    "DriftReport",
    "SnapshotCheck",
    "behaviour_line",
    "drift_report",
    "fold_digest_hunks",
]
