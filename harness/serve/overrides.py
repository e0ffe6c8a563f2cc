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
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError, model_validator

from harness.authoring import AgentScript, agent_output
from harness.scenario import Interaction, json_path
from harness.specs.compile import expand
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
        output: Any = self.output
        if self.answer is not None:
            answer = self.answer
            output = agent_output(
                answer.hypothesis,
                [(r.type, r.description, r.confidence) for r in answer.recommendations],
                confidence=answer.confidence,
                status=answer.status,
                citations=tuple(answer.citations),
            )
            output["disclaimer"] = answer.disclaimer
            output["findings"].update(answer.evidence)
        return AgentScript(
            output=output,
            input_tokens=self.tokens[0],
            output_tokens=self.tokens[1],
            model_id=self.model,
            latency_ms=self.latency_ms,
            faults=tuple(f for fault in self.faults for f in fault.expanded()),
            error=self.error,
        )

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
        first = exc.errors()[0]
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise OverridesError(f"{source}: {json_path(first['loc'])}: {first['msg']}{more}") from None


def load_overrides(path: str | Path) -> dict[str, AgentOverride]:
    """The validated overrides in ``path`` (YAML or JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OverridesError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise OverridesError(f"{path}{where}: invalid YAML ({problem})") from None
    _reject_dates(data, (), path)
    return parse_overrides(data, str(path))


def _reject_dates(value: Any, loc: tuple[int | str, ...], path: Path) -> None:
    """An unquoted timestamp in YAML is a datetime, which no answer can carry."""
    if isinstance(value, date | datetime):
        raise OverridesError(f"{path}: {json_path(loc)}: unquoted date/time; write it in quotes")
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_dates(item, (*loc, str(key)), path)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _reject_dates(item, (*loc, n), path)


__all__ = [
    "DEFAULT_TOKENS",
    "AgentOverride",
    "OverridesError",
    "load_overrides",
    "parse_overrides",
]
