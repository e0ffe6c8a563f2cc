"""Which Bedrock agent (id + alias) answers for each opx agent name.

Ids come from the environment so one build deploys to any account; the defaults are
fixed, syntactically valid placeholders so tests and replays need no configuration
and produce the same request URLs everywhere. ``TSTALIASID`` is Bedrock's built-in
test alias (it points at the agent's DRAFT version).

Environment variables, with ``<UPPER_SNAKE>`` the agent name upper-cased and dashes
turned into underscores (``signal-intelligence`` -> ``SIGNAL_INTELLIGENCE``):
``OPX_AGENT_<UPPER_SNAKE>_ID`` and ``OPX_AGENT_<UPPER_SNAKE>_ALIAS_ID``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from opx.state import ALL_AGENTS

#: InvokeAgent's URI pattern for ``agentId`` and ``agentAliasId``.
AGENT_ID_PATTERN = re.compile(r"^[0-9a-zA-Z]{1,10}$")
#: InvokeAgent's pattern for ``sessionId`` (2..100 characters).
SESSION_ID_PATTERN = re.compile(r"^[0-9a-zA-Z._:-]{2,100}$")

DEFAULT_ALIAS_ID = "TSTALIASID"
DEFAULT_AGENT_IDS: Mapping[str, str] = {
    "change-intelligence": "OPXCHANGE1",
    "historical-pattern": "OPXHISTPT1",
    "knowledge-rag": "OPXKNOWRAG",
    "response-strategy": "OPXSTRATG1",
    "risk-blast-radius": "OPXRISKBR1",
    "signal-intelligence": "OPXSIGNAL1",
}


@dataclass(frozen=True)
class AgentSettings:
    """The Bedrock coordinates of one agent; validated so a typo fails at startup."""

    agent_id: str
    alias_id: str

    def __post_init__(self) -> None:
        for field, value in (("agent_id", self.agent_id), ("alias_id", self.alias_id)):
            if not AGENT_ID_PATTERN.fullmatch(value):
                raise ValueError(f"{field} {value!r} does not match {AGENT_ID_PATTERN.pattern}")


def env_prefix(agent: str) -> str:
    """``signal-intelligence`` -> ``OPX_AGENT_SIGNAL_INTELLIGENCE``."""
    return "OPX_AGENT_" + agent.upper().replace("-", "_")


def agent_settings_from_env(agent: str, environ: Mapping[str, str]) -> AgentSettings:
    """Settings for ``agent``; raises ValueError for an unknown agent or invalid id.

    An empty variable is an error, not "unset": silently falling back to the test
    placeholder in production would surface as ResourceNotFound on every execution.
    Call this at Lambda init so misconfiguration fails the cold start, not a node.
    """
    if agent not in DEFAULT_AGENT_IDS:
        raise ValueError(f"unknown agent {agent!r}; expected one of {sorted(ALL_AGENTS)}")
    prefix = env_prefix(agent)
    return AgentSettings(
        agent_id=environ.get(f"{prefix}_ID", DEFAULT_AGENT_IDS[agent]),
        alias_id=environ.get(f"{prefix}_ALIAS_ID", DEFAULT_ALIAS_ID),
    )


def session_id_for(execution_id: str, agent: str) -> str:
    """A valid, deterministic InvokeAgent ``sessionId`` for one agent of one execution.

    Readable ``<execution_id>.<agent>`` when that fits the service pattern; otherwise
    ``<agent>.<sha256(execution_id)[:64]>`` so any execution id maps to a valid,
    collision-resistant session id.
    """
    readable = f"{execution_id}.{agent}"
    if SESSION_ID_PATTERN.fullmatch(readable):
        return readable
    digest = hashlib.sha256(execution_id.encode("utf-8")).hexdigest()[:64]
    return f"{agent}.{digest}"
