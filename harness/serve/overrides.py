"""Scripted changes to a served scenario: "the model now answers differently".

An overrides file (YAML, or JSON) maps agent names to what that agent answers
instead of its recordings. Each entry is an agent block of a scenario spec
(:class:`harness.specs.model.AgentSpec`: ``answer`` or raw ``output``, ``tokens``,
``model``, ``faults``, ``error``), so a block copied from ``specs/*.yaml`` works
unchanged -- with ``tokens`` and ``latency_ms`` optional here, because a user
simulating a different answer rarely cares about them::

    response-strategy:
      answer:
        hypothesis: The replica lag, not the failover, is the cause
        confidence: 0.7
        recommendations:
        - {type: scale_up, description: Add a read replica, confidence: 0.8}
      tokens: [2100, 380]
    signal-intelligence:
      faults: [{error: throttlingException, where: stream}]
      output: {status: SUCCESS, ...}

The answer is rendered by :class:`harness.authoring.AgentScript`, as authored
scenarios are, so an override is served exactly as a scripted answer is replayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from harness.authoring import AgentScript
from harness.scenario import Interaction, error_line, json_path
from harness.specs.compile import agent_script, expand, read_yaml
from harness.specs.model import AgentSpec
from harness.wire import INVOKE_AGENT

#: Tokens an override bills unless it says (the authoring default).
DEFAULT_TOKENS = (AgentScript.input_tokens, AgentScript.output_tokens)


class OverridesError(Exception):
    """An overrides file that cannot be used; the message is one line naming the
    file and the field."""


class AgentOverride(AgentSpec):
    """What one agent answers instead of its recordings (see the module docstring)."""

    tokens: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]] = DEFAULT_TOKENS
    latency_ms: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _says_something(self) -> AgentOverride:
        if self.answer is None and self.output is None and self.error is None:
            raise ValueError("give answer, output or error")
        return self

    def script(self) -> AgentScript:
        """The authoring script serving this answer (faults first, then the answer)."""
        return agent_script(self)

    def interaction(self) -> Interaction:
        """The answer as a scenario interaction (its request is not served on)."""
        return self.script().interaction(*INVOKE_AGENT, {})


_OVERRIDES: TypeAdapter[dict[str, AgentOverride]] = TypeAdapter(dict[str, AgentOverride])


def parse_overrides(data: Any, source: str = "<overrides>") -> dict[str, AgentOverride]:
    """Validated overrides from decoded YAML/JSON; ``source`` names it in errors."""
    from opx.state import ALL_AGENTS

    if not isinstance(data, Mapping):
        raise OverridesError(f"{source}: $: overrides are a mapping of agent name to answer")
    for agent in data:
        if agent not in ALL_AGENTS:
            raise OverridesError(
                f"{source}: {json_path((str(agent),))}: unknown agent {agent!r} "
                f"(known: {', '.join(ALL_AGENTS)})"
            )
    try:
        data = expand(dict(data))
    except ValueError as exc:
        raise OverridesError(f"{source}: {' '.join(str(exc).split())}") from None
    try:
        return _OVERRIDES.validate_python(data)
    except ValidationError as exc:
        raise OverridesError(f"{source}: {error_line(exc)}") from None


def load_overrides(path: str | Path) -> dict[str, AgentOverride]:
    """The validated overrides in ``path`` (YAML or JSON)."""
    path = Path(path)
    try:
        data = read_yaml(path)
    except ValueError as exc:
        raise OverridesError(str(exc)) from None
    return parse_overrides(data, str(path))


__all__ = [
    "DEFAULT_TOKENS",
    "AgentOverride",
    "OverridesError",
    "load_overrides",
    "parse_overrides",
]
