"""The scenario an author's spec describes before its run fills in the interactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from harness.scenario import Clock, Scenario


class Described(Protocol):
    """What every kind's spec says about its scenario besides its answers."""

    name: str
    description: str
    tags: Sequence[str]
    env: Mapping[str, str]
    events: Sequence[Any]


def draft(spec: Described, start: datetime, **fields: Any) -> Scenario:
    """``spec``'s scenario with its clock at ``start`` and no interactions yet;
    ``fields`` are the kind's own (delivery, seeded items, action group, setup)."""
    return Scenario(
        name=spec.name,
        description=spec.description,
        tags=sorted(spec.tags),
        clock=Clock(start=start),
        env=dict(spec.env),
        events=list(spec.events),
        **fields,
    )


__all__ = ["Described", "draft"]
