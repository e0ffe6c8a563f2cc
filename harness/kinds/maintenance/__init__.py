"""The ``maintenance`` kind: operators' checkpoint-table operations after real runs.

:mod:`.kind` is the kind (what a replay seeds, runs and reports), :mod:`.operations`
the registry of operations it runs, and :mod:`.authoring` records a scenario from an
author's recipe.
"""

from harness.kinds.maintenance.kind import MaintenanceKind, MaintenanceResult
from harness.kinds.maintenance.operations import OPERATIONS, UnresolvedReferenceError

__all__ = ["OPERATIONS", "MaintenanceKind", "MaintenanceResult", "UnresolvedReferenceError"]
