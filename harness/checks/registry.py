"""Every check, by the name users select it with, in the order reports list them.

The names are data (``name -> "module:Class"``) so the CLI can list and validate
them without importing LangGraph and moto; a check is loaded on first use. Adding a
check is one module under :mod:`harness.checks` and one line here.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.checks.base import Check

CHECKS: dict[str, str] = {
    "snapshot": "harness.checks.snapshot:SnapshotCheck",
    "repeat": "harness.checks.repeat:RepeatCheck",
    "process": "harness.checks.process:ProcessCheck",
    "order": "harness.checks.order:OrderCheck",
    "resume": "harness.checks.resume:ResumeCheck",
    "cost": "harness.checks.cost:CostCheck",
    "secrets": "harness.checks.secrets:SecretsCheck",
}
CHECK_NAMES: tuple[str, ...] = tuple(CHECKS)
#: Fast enough for every pull request: one replay against the snapshot, one more to compare.
DEFAULT_CHECKS: tuple[str, ...] = ("snapshot", "repeat")
#: Replays compared by the repeat check; the snapshot replay is the first of them.
DEFAULT_REPEAT = 2


@cache
def check_named(name: str) -> Check:
    """The (stateless, shared) check registered as ``name``."""
    try:
        module, _, attribute = CHECKS[name].partition(":")
    except KeyError:
        raise KeyError(f"unknown check {name!r} (known: {', '.join(CHECK_NAMES)})") from None
    return getattr(import_module(module), attribute)()


__all__ = ["CHECKS", "CHECK_NAMES", "DEFAULT_CHECKS", "DEFAULT_REPEAT", "check_named"]
