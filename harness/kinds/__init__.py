"""Scenario kinds: what a scenario replays, one module per kind.

:mod:`.registry` names the kinds (loaded lazily), :mod:`.base` is the extension
point, :mod:`.executor`, :mod:`.action_group` and :mod:`.redrive` (the dead-letter
recovery tool, running the executor on what it redrives) are the kinds this harness has.
"""

from harness.kinds.base import KindFieldError, ScenarioKind
from harness.kinds.registry import DEFAULT_KIND, KIND_NAMES, KINDS, UnknownKindError, kind_named

__all__ = [
    "DEFAULT_KIND",
    "KINDS",
    "KIND_NAMES",
    "KindFieldError",
    "ScenarioKind",
    "UnknownKindError",
    "kind_named",
]
