"""Rebuilding a scenario's requests by asking the executor again.

A scrubbed or imported recording has trustworthy *answers* but no trustworthy
*requests*: scrubbing changes the event, and what the executor derives from it by
hashing (incident ids of alarm events, execution and session ids) or by cutting
(evidence excerpts) cannot be scrubbed into agreement. So the executor is run once
more, offline, on the final event, and each request it sends is answered from the
recording -- Bedrock calls by agent, in attempt order; any other call by its exact
request -- and written down as sent. The scenario's requests are then exactly what
the executor sends, by construction, and the strict replay afterwards proves it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.replayer import Replayer
from harness.scenario import Answer, Fault, Interaction, Provenance, Scenario
from harness.wire import (
    INVOKE_AGENT,
    ScriptedAnswers,
    WireRequest,
    agent_of,
    canonical,
    fingerprint,
)


class RederiveError(Exception):
    """The executor asked differently than the recording can answer."""


@dataclass(frozen=True)
class RecordedAnswer:
    """An answer waiting for its request.

    ``request`` is the request as recorded -- or, for a Bedrock agent call rebuilt
    from a checkpoint, just enough of it to name the agent (``inputText.agent``).
    """

    service: str
    operation: str
    request: dict[str, Any]
    answer: Answer
    latency_ms: int = 0
    #: Failed attempts served before the answer (an authored throttle survives a refresh).
    faults: tuple[Fault, ...] = ()
    provenance: Provenance = "recorded"

    @classmethod
    def of(cls, interaction: Interaction, provenance: Provenance | None = None) -> RecordedAnswer:
        """An interaction's answer, to be re-bound (``provenance`` overrides its own)."""
        return cls(
            interaction.service,
            interaction.operation,
            interaction.request,
            interaction.response,
            interaction.latency_ms,
            tuple(interaction.faults),
            provenance or interaction.provenance,
        )

    @property
    def key(self) -> str:
        return answer_key(self.service, self.operation, self.request)


def answer_key(service: str, operation: str, request: dict[str, Any]) -> str:
    """Bedrock agent calls by agent (their prompts carry derived ids); others exactly."""
    agent = agent_of(request)
    if (service, operation) == INVOKE_AGENT and agent:
        return f"agent:{agent}"
    return fingerprint(service, operation, request)


class Rebinding:
    """The script of a re-derivation: each request takes the next recorded answer
    with its key, and is written down exactly as sent."""

    def __init__(self, answers: Sequence[RecordedAnswer]) -> None:
        self._pending: dict[str, deque[RecordedAnswer]] = {}
        for item in answers:
            self._pending.setdefault(item.key, deque()).append(item)

    def __call__(self, request: WireRequest) -> Interaction | None:
        queue = self._pending.get(answer_key(request.service, request.operation, request.params))
        if not queue:
            return None
        item = queue.popleft()
        return Interaction(
            service=request.service,
            operation=request.operation,
            request=request.params,
            faults=list(item.faults),
            response=item.answer,
            latency_ms=item.latency_ms,
            provenance=item.provenance,
        )

    def unused(self) -> list[str]:
        """Recorded answers nobody asked for, named for people."""
        return sorted(
            item.key if item.key.startswith("agent:") else f"{item.service}.{item.operation}"
            for queue in self._pending.values()
            for item in queue
        )


def rederive(draft: Scenario, answers: Sequence[RecordedAnswer]) -> Scenario:
    """``draft`` (events, env, clock) with the interactions the executor really sends."""
    rebinding = Rebinding(answers)
    operations = {(item.service, item.operation) for item in answers}
    replayer = Replayer(source=lambda s: ScriptedAnswers(s, rebinding, operations))
    # Only the rebinding answers: the draft's own interactions are what is rebuilt.
    with replayer.environment(draft.model_copy(update={"interactions": []})) as env:
        env.deliver_events()
    if env.transport.unmatched:
        raise RederiveError(env.transport.unmatched[0].report())
    if unused := rebinding.unused():
        raise RederiveError(
            f"the executor did not ask for {len(unused)} recorded answer(s): {', '.join(unused)}"
        )
    source = env.source
    assert isinstance(source, ScriptedAnswers)
    # Identical requests keep the order they were answered in (sorted() is stable).
    interactions = sorted(
        source.recorded, key=lambda i: (i.service, i.operation, canonical(i.request))
    )
    return draft.model_copy(update={"interactions": interactions})


__all__ = ["RecordedAnswer", "RederiveError", "answer_key", "rederive"]
