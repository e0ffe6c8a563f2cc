"""Authoring scenarios by hand: an event plus what each agent answers.

The author says *what* each agent returns (output, tokens, model, faults); the
executor itself says *what it asks*: the scenario is recorded by running the real
handler against these scripted answers, exactly as ``opx-harness record`` records
live Bedrock, so hand-written and recorded scenarios share one format and the
requests in the file are the ones the executor really sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from harness.replayer import Replayer
from harness.scenario import (
    ChunkEvent,
    Clock,
    ErrorAnswer,
    EventStreamAnswer,
    Fault,
    Interaction,
    Scenario,
    TraceEvent,
)
from harness.wire import INVOKE_AGENT, ScriptedAnswers, WireRequest, canonical, usage_traces

DEFAULT_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"


@dataclass(frozen=True)
class AgentScript:
    """What one agent answers. ``output`` is a dict (sent as JSON) or raw text (to
    script malformed completions); ``error`` replaces the answer by a permanent
    HTTP error; ``faults`` precede the answer (retried by the executor)."""

    output: Mapping[str, Any] | str | None = None
    input_tokens: int = 1200
    output_tokens: int = 300
    model_id: str = DEFAULT_MODEL
    latency_ms: int = 1500
    faults: tuple[Fault, ...] = ()
    error: ErrorAnswer | None = None
    chunks: int = 2
    #: Trace events after the usage traces, before the completion (``failureTrace``...).
    traces: tuple[Mapping[str, Any], ...] = ()

    def interaction(self, service: str, operation: str, request: dict[str, Any]) -> Interaction:
        return Interaction(
            service=service,
            operation=operation,
            request=request,
            faults=list(self.faults),
            response=self.error or self._stream(),
            latency_ms=self.latency_ms,
            provenance="authored",
        )

    def _stream(self) -> EventStreamAnswer:
        text = self.output if isinstance(self.output, str) else json.dumps(self.output, indent=1)
        size = max(1, -(-len(text) // self.chunks))
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        return EventStreamAnswer(
            events=[
                *usage_traces(self.model_id, self.input_tokens, self.output_tokens),
                *(TraceEvent(trace=dict(trace)) for trace in self.traces),
                *(ChunkEvent(chunk=p) for p in pieces),
            ]
        )


def agent_output(
    hypothesis: str,
    recommendations: list[tuple[str, str, float]],
    *,
    confidence: float = 0.8,
    status: str = "SUCCESS",
    citations: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An output meeting the agent contract; recommendations as (type, text, confidence)."""
    return {
        "status": status,
        "confidence": confidence,
        "hypothesis": hypothesis,
        "findings": {
            "recommendations": [
                {"type": kind, "description": text, "confidence": conf}
                for kind, text, conf in recommendations
            ]
        },
        "citations": list(citations),
        "disclaimer": "Automated analysis; a human approves every action.",
    }


def unanimous(**overrides: AgentScript) -> dict[str, AgentScript]:
    """Scripts where all six agents agree on rolling back deploy d-ABC123, with
    distinct latencies; ``overrides`` (by agent, ``-`` as ``_``) replace single agents.

    The smallest realistic run: tests and benchmarks vary one agent from it.
    """
    from opx.state import ALL_AGENTS

    scripts = {
        agent: AgentScript(
            output=agent_output(
                f"{agent}: deploy d-ABC123 broke checkout",
                [("rollback", "Roll back d-ABC123", 0.9)],
            ),
            latency_ms=1000 + 100 * n,
        )
        for n, agent in enumerate(ALL_AGENTS)
    }
    scripts.update({name.replace("_", "-"): script for name, script in overrides.items()})
    return scripts


@dataclass(frozen=True)
class ExecutorSpec:
    """What an author decides about an executor scenario: the incident (its events)
    and what each agent answers; what the executor asks is recorded by running it."""

    name: str
    description: str
    events: list[Any]
    #: Scripts by agent name (``signal-intelligence``, ...).
    agents: Mapping[str, AgentScript]
    clock_start: datetime
    tags: list[str] = field(default_factory=list)
    env: Mapping[str, str] = field(default_factory=dict)
    #: ``concurrent``: the events overlap (see :mod:`harness.kinds.overlap`).
    delivery: Literal["sequential", "concurrent"] = "sequential"


def author_executor(spec: ExecutorSpec) -> Scenario:
    """Record a scenario by running the handler once against the scripted answers:
    each agent's first request is answered from its script (faults first, then the
    answer) and written down exactly as the executor sent it."""
    draft = Scenario(
        name=spec.name,
        description=spec.description,
        tags=sorted(spec.tags),
        clock=Clock(start=spec.clock_start),
        env=dict(spec.env),
        events=spec.events,
        delivery=spec.delivery,
    )
    scripted: set[str] = set()

    def script(request: WireRequest) -> Interaction | None:
        agent_script = spec.agents.get(request.agent or "")
        if agent_script is None or request.key in scripted:
            return None  # unscripted, or its answers are used up: paid twice
        scripted.add(request.key)
        return agent_script.interaction(request.service, request.operation, request.params)

    replayer = Replayer(source=lambda s: ScriptedAnswers(s, script, [INVOKE_AGENT]))
    with replayer.environment(draft) as env:
        env.deliver_events()
    if env.transport.unmatched:
        raise env.transport.unmatched[0]
    source = env.source
    assert isinstance(source, ScriptedAnswers)
    # Branches finish in any order; the file lists interactions in a canonical one.
    interactions = sorted(
        source.recorded, key=lambda i: (i.service, i.operation, canonical(i.request))
    )
    return draft.model_copy(update={"interactions": interactions})


__all__ = [
    "DEFAULT_MODEL",
    "AgentScript",
    "ExecutorSpec",
    "agent_output",
    "author_executor",
    "unanimous",
]
