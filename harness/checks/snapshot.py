"""The snapshot check: a replay equals its approved snapshot, byte for byte.

Also the one drift report, used by the gate and by the pytest plugin alike: a
one-line summary naming the file and the first differing path, then the divergence
summary (first divergent checkpoint, its writers and channels, each section's first
differing path) and a unified diff of the approved file against this replay.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import ClassVar

from harness.checks.base import Check, CheckContext
from harness.checks.compare import clip
from harness.checks.divergence import compare
from harness.checks.outcome import Outcome, Status
from harness.replayer import ReplayResult

#: How the gate tells a person to approve an intended change.
GATE_APPROVAL = "`opx-harness gate --update`"


@dataclass(frozen=True)
class DriftReport:
    #: One line: which snapshot, where it first differs, how to approve.
    summary: str
    #: The divergence summary and the unified diff.
    detail: str
    #: The first differing JSON path, when the approved file could be read as JSON.
    path: str | None


def drift_report(
    approved: str,
    replayed: ReplayResult | str,
    *,
    location: str,
    approval: str = GATE_APPROVAL,
) -> DriftReport:
    """How ``replayed`` differs from the ``approved`` snapshot text at ``location``."""
    text = replayed if isinstance(replayed, str) else replayed.to_canonical_json()
    lines: list[str] = []
    path = None
    try:
        expected = json.loads(approved)
        actual = json.loads(text) if isinstance(replayed, str) else replayed
        divergence = compare(expected, actual, expected_label="snapshot", actual_label="replay")
    except ValueError:  # a hand-broken snapshot file: the text diff says it all
        divergence = None
    if divergence is not None:
        lines += divergence.summary()
        path = next(iter(divergence.sections.values()), None)
    lines += difflib.unified_diff(
        approved.splitlines(),
        text.splitlines(),
        fromfile=f"approved snapshot {location}",
        tofile="this replay",
        lineterm="",
    )
    where = f" first at {path}" if path else ""
    summary = (
        f"the replay differs from the approved snapshot {location}{where} "
        f"(if the change is intended, re-approve with {approval})"
    )
    return DriftReport(summary, "\n".join(lines), path)


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
        report = drift_report(approved, context.first, location=str(context.snapshot))
        return Outcome(Status.DRIFT, report.summary, clip(report.detail), report.path)


__all__ = ["GATE_APPROVAL", "DriftReport", "SnapshotCheck", "drift_report"]
