"""What a check found: one vocabulary for the checks, the gate, the reports and the CLI.

Statuses map to the gate's exit codes (:mod:`harness.gate.verdict`): a drift is a
behaviour change to review, nondeterminism a bug to fix before anything is
approved, an error means nothing was proven.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASSED = "pass"
    #: The result differs from what was approved, or is wrong (exit 1).
    DRIFT = "drift"
    #: The recordings answer another prompt or agent version: refresh them, then
    #: review what the change does (exit 1).
    STALE = "stale"
    #: Two runs of one input differ (exit 2).
    NONDETERMINISTIC = "nondeterministic"
    #: The check could not be judged: invalid scenario, unrecorded call, a crash (exit 3).
    ERROR = "error"
    #: No approved snapshot for the scenario (exit 3; ``--update`` creates it).
    MISSING = "missing"
    #: ``--update`` re-approved a drifted snapshot / approved a new one.
    UPDATED = "updated"
    CREATED = "created"
    #: ``--update`` deleted an orphaned snapshot.
    DELETED = "deleted"
    #: The check had nothing to prove for this scenario (e.g. resume without checkpoints).
    SKIPPED = "skipped"
    #: Not run because the scenario could not be replayed at all.
    NOT_RUN = "not-run"


#: Statuses that fail a check.
FAILED = frozenset(
    {Status.DRIFT, Status.STALE, Status.NONDETERMINISTIC, Status.ERROR, Status.MISSING}
)


@dataclass(frozen=True)
class Outcome:
    """One check of one scenario."""

    status: Status
    #: One paragraph for people: what ran, and where the first difference is.
    summary: str
    #: The divergence report, unmatched-request report or crash-point list ("" if none).
    detail: str = ""
    #: First differing JSON path, when the check compared two results.
    path: str | None = None
    seconds: float = 0.0
    #: Facts for tools (runs, seeds, the order that failed, ...).
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def applicable(self) -> bool:
        """False when the check had nothing to prove (it passes, reported skipped)."""
        return self.status is not Status.SKIPPED

    def __bool__(self) -> bool:
        return self.passed


__all__ = ["FAILED", "Outcome", "Status"]
