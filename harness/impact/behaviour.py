"""Behaviour old -> new: the scenario-level roll-up a reviewer reads first.

A one-line consensus-weight change used to print thousands of diff lines with no line
saying whether any status or top action changed. This compares what the scenario's
kind says matters (:meth:`ScenarioKind.behaviour`: for the executor status, top
action, agreement, confidence and cost) between two canonical results, and says
"unchanged" explicitly when nothing a reviewer cares about moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.kinds import DEFAULT_KIND, kind_named

#: The field whose change puts a scenario first in every report.
HEADLINE_FIELD = "top action"


@dataclass(frozen=True)
class BehaviourChange:
    """``old`` and ``new`` behaviour of one scenario, field by field."""

    scenario: str
    old: dict[str, str]
    new: dict[str, str]
    #: Fields (in the kind's order) whose value differs.
    changed: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.changed

    @property
    def headline_changed(self) -> bool:
        return HEADLINE_FIELD in self.changed

    def cell(self, name: str) -> str:
        """``old -> new`` where the field changed, the value where it did not."""
        old, new = self.old.get(name, "-"), self.new.get(name, "-")
        return f"{old} -> {new}" if old != new else new

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "old": self.old,
            "new": self.new,
        }


def behaviour_of(result: dict[str, Any]) -> dict[str, str]:
    """What the result's kind says matters, label to value."""
    return kind_named(str(result.get("kind", DEFAULT_KIND))).behaviour(result)


def compare_behaviour(old: dict[str, Any], new: dict[str, Any]) -> BehaviourChange:
    """The roll-up between two canonical results of one scenario."""
    before, after = behaviour_of(old), behaviour_of(new)
    names = [*before, *(k for k in after if k not in before)]
    changed = [n for n in names if before.get(n, "-") != after.get(n, "-")]
    return BehaviourChange(
        str(new.get("scenario", old.get("scenario", "?"))), before, after, changed
    )


def first_by_impact(changes: list[BehaviourChange]) -> list[BehaviourChange]:
    """Top action changed first, then any change, then unchanged; by name within."""
    return sorted(changes, key=lambda c: (not c.headline_changed, c.unchanged, c.scenario))


__all__ = [
    "HEADLINE_FIELD",
    "BehaviourChange",
    "behaviour_of",
    "compare_behaviour",
    "first_by_impact",
]
