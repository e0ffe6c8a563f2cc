"""Authoring a ``maintenance`` scenario: the executions, then the operations.

The author decides the incident, what each agent answers (as for an executor
scenario), optionally the table to start from and scripted DynamoDB answers, and the
operator operations. The Bedrock requests are recorded by running the real executor
-- and the operations after it -- once against the scripted answers, exactly as the
executor kind records its scenarios (:func:`harness.authoring.executor.record_answers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.authoring.action_group import AuthoringError
from harness.authoring.draft import draft
from harness.authoring.executor import ExecutorSpec, record_answers, seed_table
from harness.kinds.maintenance.operations import UnresolvedReferenceError
from harness.scenario import Scenario


@dataclass(frozen=True)
class MaintenanceRecipe:
    """What an author decides: the executions (an executor recipe: its events, agents,
    table seed, DynamoDB script, name, clock...) and the operations."""

    executor: ExecutorSpec
    operations: list[Any]


def author_maintenance(recipe: MaintenanceRecipe) -> Scenario:
    """Record the scenario by running the executions and the operations once."""
    spec = recipe.executor
    items = seed_table(spec, spec.table) if spec.table is not None else []
    scenario = draft(
        spec,
        spec.clock_start,
        kind="maintenance",
        checkpoint_items=items,
        dynamodb=spec.dynamodb,
        maintenance=list(recipe.operations),
    )
    try:
        return record_answers(
            scenario, {agent: script.interaction for agent, script in spec.agents.items()}
        )
    except UnresolvedReferenceError as exc:  # a reference the run left nothing for
        raise AuthoringError(str(exc)) from None


__all__ = ["MaintenanceRecipe", "author_maintenance"]
