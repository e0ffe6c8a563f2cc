"""Where two runs part ways: a structured divergence report.

"The outputs differ" is useless at 5 pm on a Friday. This report names the first
checkpoint whose state differs (its step, the node(s) that wrote it and the channels
they wrote differently), shows a unified diff of the canonical state there, and says
which other parts of the result (responses, metrics, Bedrock calls, clock) differ and
at which JSON path first. It reads as JSON for tools and as text for people.

Either side may be a :class:`ReplayResult` (full per-checkpoint states, so the diff is
of the state itself) or a canonical dict such as a loaded snapshot (digests only; the
diff then falls back to the first differing section of the result).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from harness import canonical
from harness.replayer import ReplayResult

SECTIONS = (
    "responses",
    "final_state",
    "checkpoints",
    "metrics",
    "bedrock_calls",
    "aws_calls",
    "table",
    "clock",
    "aws_clients",
)


@dataclass(frozen=True)
class CheckpointDivergence:
    ordinal: int
    step: int | None
    writers: list[str]
    #: Channels whose written values differ in the super-step that produced it.
    channels: list[str]
    expected_sha256: str | None
    actual_sha256: str | None


@dataclass(frozen=True)
class Divergence:
    expected_label: str
    actual_label: str
    #: Sections of the result that differ, each with its first differing JSON path.
    sections: dict[str, str]
    checkpoint: CheckpointDivergence | None
    diff: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return canonical.pretty(asdict(self))

    def to_text(self) -> str:
        lines = self.summary()
        if self.diff:
            lines += [f"--- {self.expected_label}", f"+++ {self.actual_label}", self.diff]
        return "\n".join(lines)

    def summary(self) -> list[str]:
        """The report without its diff: where, in which node and channel, and what else."""
        lines = [f"divergence: {self.expected_label} vs {self.actual_label}"]
        if self.checkpoint is not None:
            cp = self.checkpoint
            lines.append(
                f"first divergent checkpoint: #{cp.ordinal} (step {cp.step}, written by "
                f"{', '.join(cp.writers) or 'the input'}; channels: "
                f"{', '.join(cp.channels) or 'unknown'})"
            )
        for section, path in self.sections.items():
            lines.append(f"  {section}: first difference at {path}")
        return lines + self.notes


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """The first JSON path (keys in sorted order) where the two values differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                return f"{path}.{key}"
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return (
            f"{path}[{min(len(expected), len(actual))}]" if len(expected) != len(actual) else None
        )
    return None if expected == actual else path


def compare(
    expected: ReplayResult | dict[str, Any],
    actual: ReplayResult | dict[str, Any],
    *,
    expected_label: str = "expected",
    actual_label: str = "actual",
) -> Divergence | None:
    """``None`` when the canonical results are equal, else where they diverge."""
    left, right = as_canonical(expected), as_canonical(actual)
    if canonical.dumps(left) == canonical.dumps(right):
        return None
    sections = {
        name: path
        for name in SECTIONS
        if (path := first_difference(left.get(name), right.get(name), f"$.{name}"))
    }
    checkpoint, state_diff = _first_checkpoint(expected, actual, left, right)
    diff = state_diff or _section_diff(left, right, sections)
    notes = []
    if checkpoint is None and "checkpoints" not in sections:
        notes.append("every checkpoint agrees: the difference is outside the graph state")
    return Divergence(expected_label, actual_label, sections, checkpoint, diff, notes)


def as_canonical(result: ReplayResult | dict[str, Any]) -> dict[str, Any]:
    return result.canonical() if isinstance(result, ReplayResult) else result


def _states(result: ReplayResult | dict[str, Any]) -> list[dict[str, Any]] | None:
    return result.checkpoint_states() if isinstance(result, ReplayResult) else None


def _first_checkpoint(
    expected: ReplayResult | dict[str, Any],
    actual: ReplayResult | dict[str, Any],
    left: dict[str, Any],
    right: dict[str, Any],
) -> tuple[CheckpointDivergence | None, str]:
    trail_left, trail_right = left.get("checkpoints") or [], right.get("checkpoints") or []
    for ordinal in range(max(len(trail_left), len(trail_right))):
        a = trail_left[ordinal] if ordinal < len(trail_left) else {}
        b = trail_right[ordinal] if ordinal < len(trail_right) else {}
        if a.get("state_sha256") == b.get("state_sha256"):
            continue
        previous = ordinal - 1
        writes_a = _writes(trail_left, previous)
        writes_b = _writes(trail_right, previous)
        channels = sorted(
            channel
            for channel in set(writes_a) | set(writes_b)
            if writes_a.get(channel) != writes_b.get(channel)
        )
        divergence = CheckpointDivergence(
            ordinal=ordinal,
            step=(a or b).get("step"),
            writers=sorted(set(a.get("writers", [])) | set(b.get("writers", []))),
            channels=channels,
            expected_sha256=a.get("state_sha256"),
            actual_sha256=b.get("state_sha256"),
        )
        states_a, states_b = _states(expected), _states(actual)
        diff = ""
        if states_a is not None and states_b is not None:
            state_a = states_a[ordinal] if ordinal < len(states_a) else None
            state_b = states_b[ordinal] if ordinal < len(states_b) else None
            diff = _unified(state_a, state_b)
        return divergence, diff
    return None, ""


def _writes(trail: list[dict[str, Any]], ordinal: int) -> dict[str, list[str]]:
    """Channel -> sorted value digests written in the super-step after ``ordinal``."""
    if ordinal < 0 or ordinal >= len(trail):
        return {}
    writes: dict[str, list[str]] = {}
    for channel, digest in trail[ordinal].get("pending_writes", []):
        writes.setdefault(channel, []).append(digest)
    return {channel: sorted(digests) for channel, digests in writes.items()}


def _section_diff(left: dict[str, Any], right: dict[str, Any], sections: dict[str, str]) -> str:
    if not sections:
        return _unified(left, right)
    name = next(iter(sections))
    return _unified(left.get(name), right.get(name))


def _unified(left: Any, right: Any, context: int = 3) -> str:
    a = json.dumps(canonical.plain(left), indent=2, sort_keys=True, ensure_ascii=False)
    b = json.dumps(canonical.plain(right), indent=2, sort_keys=True, ensure_ascii=False)
    lines = difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=context)
    return "\n".join(list(lines)[2:])


__all__ = [
    "SECTIONS",
    "CheckpointDivergence",
    "Divergence",
    "as_canonical",
    "compare",
    "first_difference",
]
