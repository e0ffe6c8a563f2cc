"""Serving a scenario's recorded answers as a Bedrock Agent runtime on 127.0.0.1.

The whole prompt-change workflow -- record, edit a prompt, refresh, read the impact
-- needs a Bedrock that answers; this package is one that needs no AWS account.
:mod:`.server` speaks InvokeAgent over HTTP, :mod:`.answers` answers by agent from
a scenario, :mod:`.overrides` scripts "the model now answers differently";
``opx-harness serve`` (:mod:`harness.cli.serve`) is the command::

    with serve(load_scenario("scenarios/rds-failover.json")) as endpoint:
        os.environ.update(endpoint.environment())
        ...  # opx-harness record, or the executor itself
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from harness.scenario import Scenario
from harness.serve.answers import ScenarioAnswers, ScenarioRuntime, Served, ServeError
from harness.serve.overrides import AgentOverride, OverridesError, load_overrides, parse_overrides
from harness.serve.server import (
    DUMMY_AWS_ENV,
    ENDPOINT_VARIABLE,
    HOST,
    HttpReply,
    InvokeAgentCall,
    Responder,
    RuntimeServer,
    environment,
    error_reply,
    read_call,
    stream_reply,
)


@contextmanager
def serve(
    scenario: Scenario, *, overrides: Mapping[str, AgentOverride] | None = None, port: int = 0
) -> Iterator[ScenarioRuntime]:
    """Serve ``scenario``'s answers for the ``with`` block on 127.0.0.1 (``port`` 0:
    a free one); yields the runtime: its ``url``, ``environment()`` and ``served``."""
    with ScenarioRuntime(scenario, overrides, port) as runtime:
        yield runtime


__all__ = [
    "DUMMY_AWS_ENV",
    "ENDPOINT_VARIABLE",
    "HOST",
    "AgentOverride",
    "HttpReply",
    "InvokeAgentCall",
    "OverridesError",
    "Responder",
    "RuntimeServer",
    "ScenarioAnswers",
    "ScenarioRuntime",
    "ServeError",
    "Served",
    "environment",
    "error_reply",
    "load_overrides",
    "parse_overrides",
    "read_call",
    "serve",
    "stream_reply",
]
