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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.requests import canonical, fingerprint
from harness.scenario import Answer, Interaction, Scenario
from harness.transport import Transport, _Answer, _answers


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

    @property
    def key(self) -> str:
        return answer_key(self.service, self.operation, self.request)


def answer_key(service: str, operation: str, request: dict[str, Any]) -> str:
    """Bedrock agent calls by agent (their prompts carry derived ids); others exactly."""
    text = request.get("inputText")
    agent = text.get("agent") if isinstance(text, dict) else None
    if (service, operation) == ("bedrock-agent-runtime", "InvokeAgent") and agent:
        return f"agent:{agent}"
    return fingerprint(service, operation, request)


@dataclass
class RederivingTransport(Transport):
    answers: Sequence[RecordedAnswer] = ()
    recorded: list[Interaction] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._pending: dict[str, deque[RecordedAnswer]] = {}
        for item in self.answers:
            self._pending.setdefault(item.key, deque()).append(item)
            self._recorded.add((item.service, item.operation))

    def _take(
        self, key: str, service: str, operation: str, params: dict[str, Any]
    ) -> _Answer | None:
        queue = self._pending.get(answer_key(service, operation, params))
        if not queue:
            return None
        item = queue.popleft()
        interaction = Interaction(
            service=service,
            operation=operation,
            request=params,
            response=item.answer,
            latency_ms=item.latency_ms,
        )
        self.recorded.append(interaction)
        [answer] = _answers(len(self.recorded) - 1, interaction)
        return answer

    def unused(self) -> list[str]:
        """Recorded answers nobody asked for, named for people."""
        return sorted(
            item.key if item.key.startswith("agent:") else f"{item.service}.{item.operation}"
            for queue in self._pending.values()
            for item in queue
        )


def rederive(draft: Scenario, answers: Sequence[RecordedAnswer]) -> Scenario:
    """``draft`` (events, env, clock) with the interactions the executor really sends."""
    from harness.replayer import deliver_each_event, replay_environment

    def factory(scenario: Scenario, advance: Callable[[float], None]) -> RederivingTransport:
        return RederivingTransport(scenario, advance, answers=answers)

    with replay_environment(draft, factory) as (transport, _, _):
        deliver_each_event(draft, transport)
    if transport.unmatched:
        raise RederiveError(transport.unmatched[0].report())
    if unused := transport.unused():
        raise RederiveError(
            f"the executor did not ask for {len(unused)} recorded answer(s): {', '.join(unused)}"
        )
    # Identical requests keep the order they were answered in (sorted() is stable).
    interactions = sorted(
        transport.recorded, key=lambda i: (i.service, i.operation, canonical(i.request))
    )
    return draft.model_copy(update={"interactions": interactions})
