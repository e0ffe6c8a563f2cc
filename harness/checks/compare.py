"""Comparing two canonical results for a check: the readable path first.

Every determinism check ends the same way when two runs differ: name the first
differing JSON path in the sections people read first, the first divergent
checkpoint and who wrote it, and attach the divergence report.
"""

from __future__ import annotations

import json
import time
from typing import Any

from harness.checks.divergence import as_canonical, compare, first_difference
from harness.checks.outcome import Outcome, Status
from harness.replayer import ReplayResult

#: Section order for the path a failure names first (see :func:`differs`).
READABLE_FIRST = (
    "responses",
    "final_state",
    "bedrock_calls",
    "metrics",
    "clock",
    "table",
    "checkpoints",
)
#: Lines of a diff or report kept per failure: enough to see the change, not a novel.
DETAIL_LINES = 200


def first_path(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """The first differing path; ``$`` when the bytes differ but the values do not
    (a canonicalization bug, which is itself worth a failure)."""
    return first_difference(expected, actual) or "$"


def excerpt(value: dict[str, Any], path: str) -> str:
    """The value at a ``$.a.b[3]`` path, short, for the reason paragraph."""
    current: Any = value
    for part in path.replace("[", ".[").split(".")[1:]:
        try:
            current = current[int(part[1:-1])] if part.startswith("[") else current[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return "<absent>"
    text = json.dumps(current, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def differs(
    check: str,
    scenario: str,
    what: str,
    expected_label: str,
    expected_run: ReplayResult | dict[str, Any],
    actual_label: str,
    actual_run: ReplayResult | dict[str, Any],
    started: float,
    details: dict[str, Any],
) -> Outcome:
    """The failed outcome of ``check``: two runs (results, which carry every
    checkpoint's state for the report, or canonical dicts) that should be equal."""
    divergence = compare(
        expected_run, actual_run, expected_label=expected_label, actual_label=actual_label
    )
    expected, actual = as_canonical(expected_run), as_canonical(actual_run)
    sections = divergence.sections if divergence is not None else {}
    # Values people read first; checkpoint digests only say *that* a state differs.
    path = next(
        (sections[name] for name in READABLE_FIRST if name in sections),
        first_path(expected, actual),
    )
    reason = (
        f"{check} failed for scenario {scenario}: {what}. The canonical results differ first "
        f"at {path}: {expected_label} has {excerpt(expected, path)}, {actual_label} has "
        f"{excerpt(actual, path)}."
    )
    if divergence is not None:
        if divergence.checkpoint is not None:
            cp = divergence.checkpoint
            writers = ", ".join(cp.writers) or "the input"
            reason += f" The first divergent checkpoint is #{cp.ordinal} (step {cp.step}), "
            reason += f"written by {writers}."
            details = {**details, "writers": cp.writers, "checkpoint": cp.ordinal}
        where = "; ".join(f"{name} at {at}" for name, at in sections.items())
        reason += f" Differing sections: {where}."
        details = {**details, "sections": sections}
    detail = clip(divergence.to_text()) if divergence is not None else ""
    return Outcome(
        Status.NONDETERMINISTIC,
        reason,
        detail,
        path,
        time.perf_counter() - started,
        details,
    )


def clip(text: str, limit: int = DETAIL_LINES) -> str:
    """At most ``limit`` lines of a report, saying how many were cut."""
    lines = text.splitlines()
    if len(lines) <= limit:
        return text
    return "\n".join([*lines[:limit], f"... ({len(lines) - limit} more lines)"])


__all__ = ["DETAIL_LINES", "READABLE_FIRST", "clip", "differs", "excerpt", "first_path"]
