"""A first replay the recordings could not answer: stale, drift, or not judgeable.

A prompt edit breaks the edited agent's request, and every agent downstream then
sees that agent fail -- so the gate looks at *every* unmatched request of the replay
and names the root cause: a prompt or agent change makes the recordings stale (the
answers were given to something else: refresh them, then review the impact); a
change only in what agents are shown is drift in the executor, shown as the context
diff; anything else cannot be judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.checks.compare import clip
from harness.checks.outcome import Outcome, Status
from harness.wire import ChangeKind, UnmatchedRequestError

DEFAULT_SCENARIOS = Path("scenarios")
DEFAULT_SNAPSHOTS = Path("snapshots")


def refresh_command(name: str | None, scenario: Path, snapshot: Path) -> str:
    """The exact ``opx-harness refresh`` that renews ``name``'s recordings (all stale
    scenarios when ``name`` is ``None``)."""
    words = ["opx-harness", "refresh"]
    if scenario.parent != DEFAULT_SCENARIOS:
        words += ["--scenarios", str(scenario.parent)]
    if snapshot.parent != DEFAULT_SNAPSHOTS:
        words += ["--snapshots", str(snapshot.parent)]
    if name is not None:
        words += ["--only", name]
    return " ".join(words)


def unmatched_outcome(
    name: str, errors: Sequence[UnmatchedRequestError], scenario: Path, snapshot: Path
) -> Outcome | None:
    """The snapshot check's outcome for a replay that sent ``errors``, or ``None`` when
    no change explains them (the caller reports the scenario as not judged)."""
    changes = [e.change for e in errors if e.change is not None]
    command = refresh_command(name, scenario, snapshot)
    stale = [c for c in changes if c.stale]
    lines = [f"- {e.change.kind}: {e.change.summary}" for e in errors if e.change is not None]
    lines += [f"- {e.reason} ({e.service}.{e.operation})" for e in errors if e.change is None]
    if stale:
        causes = "; ".join(sorted({c.summary for c in stale}))
        detail = "\n".join([*lines, "", *(c.diff for c in stale if c.diff)])
        return Outcome(
            Status.STALE,
            f"recordings stale: {causes}. Refresh them, then review the impact: `{command}`",
            clip(detail),
            details={"refresh": command, "changes": sorted({str(c.kind) for c in changes})},
        )
    if (
        changes
        and len(changes) == len(errors)
        and all(c.kind is ChangeKind.CONTEXT for c in changes)
    ):
        agents = ", ".join(sorted({c.agent or "?" for c in changes}))
        detail = "\n".join([*lines, "", *(f"{c.agent}:\n{c.diff}" for c in changes)])
        return Outcome(
            Status.DRIFT,
            f"behaviour drift: what {agents} {'is' if len(changes) == 1 else 'are'} shown "
            f"changed (an executor change upstream of the agents). Re-bind the answers and "
            f"review the impact: `{command}`",
            clip(detail),
            details={"refresh": command, "changes": ["context"]},
        )
    return None


__all__ = ["refresh_command", "unmatched_outcome"]
