"""Which scenario kinds exist, by name, loaded on first use.

The registry is data -- ``name -> "module:Class"`` -- so the scenario file format
can name the kinds without importing them (a kind brings the executor or an action
group, moto and LangGraph with it), the way syrupy selects an extension by name.
Adding a kind is one module under :mod:`harness.kinds` and one line here.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from harness.kinds.base import ScenarioKind

#: Every kind a scenario may name, and the class that replays it.
KINDS: dict[str, str] = {
    "executor": "harness.kinds.executor:ExecutorKind",
    "action-group": "harness.kinds.action_group:ActionGroupKind",
    "redrive": "harness.kinds.redrive:RedriveKind",
    "maintenance": "harness.kinds.maintenance:MaintenanceKind",
}
#: The kind of a scenario file that names none.
DEFAULT_KIND = "executor"
KIND_NAMES: tuple[str, ...] = tuple(KINDS)
#: The ``kind`` field's type: one of the registered names (an enum in the JSON Schema).
ScenarioKindName = Literal[KIND_NAMES]  # type: ignore[valid-type]


class UnknownKindError(LookupError):
    """A kind name nothing is registered under."""


@cache
def kind_named(name: str) -> ScenarioKind:
    """The (stateless, shared) kind registered as ``name``."""
    try:
        module, _, attribute = KINDS[name].partition(":")
    except KeyError:
        raise UnknownKindError(
            f"unknown scenario kind {name!r} (known: {', '.join(KIND_NAMES)})"
        ) from None
    return getattr(import_module(module), attribute)()


__all__ = [
    "DEFAULT_KIND",
    "KINDS",
    "KIND_NAMES",
    "ScenarioKindName",
    "UnknownKindError",
    "kind_named",
]
