"""Stack settings from CDK context, validated once, each error naming its context key.

A typo in an agent id or a stage must stop ``cdk synth`` with one line that says
which key is wrong -- not deploy a stack whose Lambda fails every invocation with
ResourceNotFound. Defaults are the executor's own (agent placeholders from
``opx.agents.settings``), so ``python infra/app.py`` synthesizes with no context.

Context keys (``-c key=value`` or ``cdk.json``; lists and objects may be JSON text):

=========================== ===============================================================
``stage``                   ``dev`` (default) or ``prod``; names the table and functions
``opx:bundle``              ``source`` (default: ``opx/`` only, offline) or ``full``
                            (``opx/`` plus pip-installed dependencies -- what deploys;
                            ``cdk.json`` sets it)
``opx:agents``              ``{"<agent>": {"id": "...", "alias": "..."}}``; missing agents
                            or fields keep the executor's defaults
``opx:logGroups``           log groups (names or ``*`` patterns) Logs Insights may query
``opx:incidentHistoryTable`` the incident-history table the action group reads
``opx:alarmTopicArn``       optional SNS topic every alarm notifies
=========================== ===============================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from opx.agents.settings import DEFAULT_AGENT_IDS, DEFAULT_ALIAS_ID, AgentSettings
from opx.state import ALL_AGENTS

STAGES = ("dev", "prod")
#: AWS-vended log group prefixes of the services opx incidents come from (Lambda,
#: RDS, API Gateway, ECS Container Insights under ``/aws/``; ECS's console default
#: ``/ecs/``; API Gateway execution logs) -- not every log group of the account.
DEFAULT_LOG_GROUPS = ("/aws/*", "/ecs/*", "API-Gateway-Execution-Logs_*")
_LOG_GROUP = re.compile(r"^[\w./#*-]{1,512}$")
_TABLE_NAME = re.compile(r"^[\w.-]{3,255}$")
_SNS_ARN = re.compile(r"^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")


class ContextError(ValueError):
    """A CDK context value the stack cannot use; the message names the key."""


class BundleMode(Enum):
    #: ``opx/`` only: offline and fast, for tests and template checks; not deployable.
    SOURCE = "source"
    #: ``opx/`` plus the runtime dependencies pip-installed for the Lambda platform.
    FULL = "full"


@dataclass(frozen=True)
class StackConfig:
    stage: str
    bundle: BundleMode
    agents: Mapping[str, AgentSettings]
    log_groups: tuple[str, ...]
    incident_history_table: str
    alarm_topic_arn: str | None = None

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StackConfig:
        """Read every key through ``get`` (``node.try_get_context``, or ``dict.get``)."""
        stage = _choice(get, "stage", STAGES, default="dev")
        history = get("opx:incidentHistoryTable") or f"opx-incident-history-{stage}"
        return cls(
            stage=stage,
            bundle=BundleMode(
                _choice(get, "opx:bundle", [m.value for m in BundleMode], default="source")
            ),
            agents=_agents(get("opx:agents")),
            log_groups=_log_groups(get("opx:logGroups")),
            incident_history_table=_matching("opx:incidentHistoryTable", history, _TABLE_NAME),
            alarm_topic_arn=_optional_arn(get("opx:alarmTopicArn")),
        )


def _choice(get: Callable[[str], Any], key: str, allowed: Any, *, default: str) -> str:
    value = get(key)
    if value is None:
        return default
    if value not in allowed:
        raise ContextError(f"context {key}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _json(key: str, raw: Any) -> Any:
    """Context from ``-c`` arrives as text; from ``cdk.json`` already parsed."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ContextError(f"context {key}: not valid JSON ({exc.msg})") from None


def _agents(raw: Any) -> dict[str, AgentSettings]:
    given = _json("opx:agents", raw) if raw is not None else {}
    if not isinstance(given, dict):
        raise ContextError("context opx:agents: expected an object of agent -> {id, alias}")
    unknown = sorted(set(given) - set(ALL_AGENTS))
    if unknown:
        raise ContextError(
            f"context opx:agents: unknown agent {unknown[0]!r} (agents: {', '.join(ALL_AGENTS)})"
        )
    return {agent: _agent(agent, given.get(agent) or {}) for agent in ALL_AGENTS}


def _agent(agent: str, given: Any) -> AgentSettings:
    key = f"opx:agents.{agent}"
    if not isinstance(given, dict) or set(given) - {"id", "alias"}:
        raise ContextError(f"context {key}: expected an object with keys id and alias")
    agent_id = given.get("id", DEFAULT_AGENT_IDS[agent])
    alias_id = given.get("alias", DEFAULT_ALIAS_ID)
    try:
        return AgentSettings(agent_id=agent_id, alias_id=alias_id)
    except (ValueError, TypeError) as exc:
        raise ContextError(f"context {key}: {exc}") from None


def _log_groups(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_LOG_GROUPS
    value = _json("opx:logGroups", raw) if str(raw).lstrip().startswith("[") else raw
    groups = value.split(",") if isinstance(value, str) else value
    if not isinstance(groups, list) or not groups:
        raise ContextError("context opx:logGroups: expected a non-empty list of log groups")
    return tuple(_matching("opx:logGroups", str(g).strip(), _LOG_GROUP) for g in groups)


def _optional_arn(raw: Any) -> str | None:
    return None if raw is None else _matching("opx:alarmTopicArn", raw, _SNS_ARN)


def _matching(key: str, value: Any, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ContextError(f"context {key}: {value!r} does not match {pattern.pattern}")
    return value
