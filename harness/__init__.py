"""The opx replay harness.

``harness.replay(scenario)`` runs a recorded scenario through the real code under
replay offline and returns a :class:`ReplayResult`. The subpackages read as the
architecture: ``scenario`` (the file format), ``wire`` (transport and answers),
``replayer`` (the replay template and its environment), ``kinds`` (what a scenario
replays), ``authoring``, ``checks``, ``gate``, ``capture``, ``cli`` and
``pytest_plugin``.

Exports load lazily: this package is imported by the pytest plugin in every pytest
run, which must not pay for moto, LangGraph and boto3 unless a scenario is actually
replayed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "replay": "harness.replayer",
    "Replayer": "harness.replayer",
    "ReplayResult": "harness.replayer",
    "Scenario": "harness.scenario",
    "ScenarioError": "harness.scenario",
    "load_scenario": "harness.scenario",
    "UnmatchedRequestError": "harness.wire",
    "author": "harness.authoring",
    "AgentScript": "harness.authoring",
    "ExecutorSpec": "harness.authoring",
    "ActionGroupSpec": "harness.authoring",
    "agent_output": "harness.authoring",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
