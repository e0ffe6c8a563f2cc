"""Authoring scenarios by hand: an event plus what each agent answers.

The author says *what* each agent returns (output, tokens, model, faults); the
executor itself says *what it asks*: the scenario is recorded by running the real
handler against these scripted answers, exactly as ``opx-harness record`` records
live Bedrock, so hand-written and recorded scenarios share one format and the
requests in the file are the ones the executor really sends.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.requests import canonical
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
from harness.transport import Transport, _Answer, _answers

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

    def interaction(self, service: str, operation: str, request: dict[str, Any]) -> Interaction:
        return Interaction(
            service=service,
            operation=operation,
            request=request,
            faults=list(self.faults),
            response=self.error or self._stream(),
            latency_ms=self.latency_ms,
        )

    def _stream(self) -> EventStreamAnswer:
        text = self.output if isinstance(self.output, str) else json.dumps(self.output, indent=1)
        size = max(1, -(-len(text) // self.chunks))
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        return EventStreamAnswer(
            events=[
                *usage_traces(self.model_id, self.input_tokens, self.output_tokens),
                *(ChunkEvent(chunk=p) for p in pieces),
            ]
        )


def usage_traces(model_id: str | None, input_tokens: int, output_tokens: int) -> list[TraceEvent]:
    """The traces that tell the executor which model ran and what it billed."""
    # OrchestrationTrace is a union: input and output come as separate events.
    model_input = {
        "orchestrationTrace": {
            "modelInvocationInput": {
                "foundationModel": model_id,
                "traceId": "trace-0",
                "type": "ORCHESTRATION",
            }
        }
    }
    usage = {"inputTokens": input_tokens, "outputTokens": output_tokens}
    model_output = {
        "orchestrationTrace": {
            "modelInvocationOutput": {"metadata": {"usage": usage}, "traceId": "trace-0"}
        }
    }
    traces = [TraceEvent(trace=model_output)]
    return traces if model_id is None else [TraceEvent(trace=model_input), *traces]


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


@dataclass
class ScriptedTransport(Transport):
    """Answers each new request from the agent's script and records it."""

    scripts: Mapping[str, AgentScript] = field(default_factory=dict)
    recorded: list[Interaction] = field(default_factory=list)

    def _take(
        self, key: str, service: str, operation: str, params: dict[str, Any]
    ) -> _Answer | None:
        if key not in self._queues:
            text = params.get("inputText")
            agent = text.get("agent") if isinstance(text, dict) else None
            script = self.scripts.get(agent or "")
            if script is None:
                return None
            interaction = script.interaction(service, operation, params)
            self.recorded.append(interaction)
            self._queues[key] = deque(_answers(len(self.recorded) - 1, interaction))
        return super()._take(key, service, operation, params)


def author(
    *,
    name: str,
    description: str,
    events: list[Any],
    agents: Mapping[str, AgentScript],
    clock_start: datetime,
    tags: list[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Scenario:
    """Record a scenario by running the handler against scripted agent answers."""
    from harness.replayer import LambdaContext, replay_environment
    from opx.errors import response_of
    from opx.lambda_handler import handler

    draft = Scenario(
        name=name,
        description=description,
        tags=sorted(tags or []),
        clock=Clock(start=clock_start),
        env=dict(env or {}),
        events=events,
    )

    def factory(scenario: Scenario, advance: Any) -> ScriptedTransport:
        return ScriptedTransport(scenario, advance, scripts=agents)

    with replay_environment(draft, factory) as (transport, _, _):
        for event in events:
            response_of(handler, event, LambdaContext())
    if transport.unmatched:
        raise transport.unmatched[0]
    # Branches finish in any order; the file lists interactions in a canonical one.
    interactions = sorted(
        transport.recorded, key=lambda i: (i.service, i.operation, canonical(i.request))
    )
    return draft.model_copy(update={"interactions": interactions})
