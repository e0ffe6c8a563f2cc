"""Authoring scenarios: an author's spec in, a scenario recorded from the real code out.

The author says *what* is answered (each agent's output, tokens, model and faults;
each AWS answer moto cannot give); the code under replay says *what it asks*: the
scenario is recorded by running it once against those scripted answers, exactly as
``opx-harness record`` records live answers, so authored and recorded scenarios
share one format and the requests in a file are the ones really sent.
:func:`author` takes the kind's spec (:class:`ExecutorSpec`,
:class:`ActionGroupSpec`); the kind does the rest (:meth:`ScenarioKind.author`).
"""

from typing import Any

from harness.authoring.action_group import (
    AGENT,
    ActionGroupSpec,
    AuthoringError,
    AwsAnswer,
    invocation_event,
    seed_log_events,
)
from harness.authoring.executor import (
    DEFAULT_MODEL,
    AgentScript,
    ExecutorSpec,
    TableSeed,
    agent_output,
    unanimous,
)
from harness.authoring.tampering import TAMPERS, TamperError
from harness.kinds import kind_named
from harness.scenario import Scenario


def author(kind: str, spec: Any) -> Scenario:
    """Record a scenario of ``kind`` (``executor``, ``action-group``, ...) from ``spec``."""
    return kind_named(kind).author(spec)


__all__ = [
    "AGENT",
    "DEFAULT_MODEL",
    "TAMPERS",
    "ActionGroupSpec",
    "AgentScript",
    "AuthoringError",
    "AwsAnswer",
    "ExecutorSpec",
    "TableSeed",
    "TamperError",
    "agent_output",
    "author",
    "invocation_event",
    "seed_log_events",
    "unanimous",
]
