"""The action groups opx deploys, in one place.

The handlers, their OpenAPI schemas, the tests that hold them together and the
infrastructure (IAM, environment, Lambda entry points) all read this registry, so a
new read or a renamed handler cannot drift between code and stack.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class ActionGroup:
    #: Bedrock action group name.
    name: str
    #: Lambda handler, ``module.function``.
    handler: str
    #: OpenAPI schema file under ``opx/action_groups/schemas/``.
    schema: str
    #: Every AWS API action the handler may call -- reads only.
    actions: tuple[str, ...]
    #: Environment variables the handler requires.
    env: tuple[str, ...] = ()

    def load_schema(self) -> dict[str, Any]:
        """The OpenAPI schema, as shipped in the package."""
        path = resources.files("opx.action_groups").joinpath("schemas", self.schema)
        return json.loads(path.read_text(encoding="utf-8"))

    def load_handler(self) -> Callable[[Any, Any], dict[str, Any]]:
        """The Lambda entry point ``handler`` names."""
        module, _, function = self.handler.rpartition(".")
        return getattr(importlib.import_module(module), function)


#: Names the incident-history table (DynamoDB reads only).
INCIDENT_HISTORY_TABLE_ENV = "INCIDENT_HISTORY_TABLE"

ACTION_GROUPS: tuple[ActionGroup, ...] = (
    ActionGroup(
        name="cloudwatch-metrics",
        handler="opx.action_groups.cloudwatch_metrics.handler",
        schema="cloudwatch-metrics.json",
        actions=("cloudwatch:GetMetricData",),
    ),
    ActionGroup(
        name="incident-history",
        handler="opx.action_groups.incident_history.handler",
        schema="incident-history.json",
        actions=("dynamodb:GetItem", "dynamodb:Query"),
        env=(INCIDENT_HISTORY_TABLE_ENV,),
    ),
    ActionGroup(
        name="logs-insights",
        handler="opx.action_groups.logs_insights.handler",
        schema="logs-insights.json",
        actions=("logs:GetQueryResults", "logs:StartQuery", "logs:StopQuery"),
    ),
    ActionGroup(
        name="xray",
        handler="opx.action_groups.xray.handler",
        schema="xray.json",
        actions=("xray:GetServiceGraph", "xray:GetTraceSummaries"),
    ),
)


def by_name(name: str) -> ActionGroup:
    """The group called ``name``; ``KeyError`` naming the known ones otherwise."""
    for group in ACTION_GROUPS:
        if group.name == name:
            return group
    known = ", ".join(group.name for group in ACTION_GROUPS)
    raise KeyError(f"no action group {name!r} (known: {known})")
