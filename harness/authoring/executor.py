"""Authoring scenarios by hand: an event plus what each agent answers.

The author says *what* each agent returns (output, tokens, model, faults); the
executor itself says *what it asks*: the scenario is recorded by running the real
handler against these scripted answers, exactly as ``opx-harness record`` records
live Bedrock, so hand-written and recorded scenarios share one format and the
requests in the file are the ones the executor really sends.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from unittest import mock

from harness.authoring.action_group import AuthoringError
from harness.authoring.draft import draft
from harness.authoring.seed_worker import seed_worker
from harness.authoring.tampering import TamperError, tamper
from harness.replayer import CHECKPOINT_TABLE, Replayer
from harness.scenario import (
    BytesChunkEvent,
    ChunkEvent,
    DynamoDBScript,
    ErrorAnswer,
    EventStreamAnswer,
    Fault,
    Interaction,
    ReturnControlEvent,
    Scenario,
    TraceEvent,
    boto3_item,
    escape_bytes,
    wire_item,
)
from harness.wire import (
    INVOKE_AGENT,
    DynamoDBAnswers,
    ScriptedAnswers,
    WireRequest,
    canonical,
    usage_traces,
)

DEFAULT_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"


@dataclass(frozen=True)
class AgentScript:
    """What one agent answers. ``output`` is a dict (sent as JSON), raw text (to
    script malformed completions) or bytes (a completion that is not UTF-8);
    ``error`` replaces the answer by a permanent HTTP error; ``faults`` precede the
    answer (retried by the executor); ``return_control`` (a ReturnControlPayload)
    is sent after the traces, and with no ``output`` it is the whole answer: no text,
    as an agent with a RETURN_CONTROL action group answers."""

    output: Mapping[str, Any] | str | bytes | None = None
    input_tokens: int = 1200
    output_tokens: int = 300
    model_id: str = DEFAULT_MODEL
    latency_ms: int = 1500
    faults: tuple[Fault, ...] = ()
    error: ErrorAnswer | None = None
    chunks: int = 2
    #: Trace events after the usage traces, before the completion (``failureTrace``...).
    traces: tuple[Mapping[str, Any], ...] = ()
    return_control: Mapping[str, Any] | None = None

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
        control = (
            [ReturnControlEvent(return_control=dict(self.return_control))]
            if self.return_control is not None
            else []
        )
        return EventStreamAnswer(
            events=[
                *usage_traces(self.model_id, self.input_tokens, self.output_tokens),
                *(TraceEvent(trace=dict(trace)) for trace in self.traces),
                *control,
                *self._chunks(),
            ]
        )

    def _chunks(self) -> list[ChunkEvent | BytesChunkEvent]:
        if self.output is None and self.return_control is not None:
            return []
        if isinstance(self.output, bytes):
            # Split the bytes themselves: a chunk boundary may fall inside a character.
            size = max(1, -(-len(self.output) // self.chunks))
            return [
                BytesChunkEvent(chunk_bytes=escape_bytes(self.output[i : i + size]))
                for i in range(0, len(self.output), size)
            ] or [ChunkEvent(chunk="")]
        text = self.output if isinstance(self.output, str) else json.dumps(self.output, indent=1)
        size = max(1, -(-len(text) // self.chunks))
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        return [ChunkEvent(chunk=p) for p in pieces]


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
class TableSeed:
    """The checkpoint table a scenario starts from: what the spec's own run (same
    events, same agents), started at ``start``, left -- then edited by ``tamper``
    (:mod:`.tampering` operations, applied in order)."""

    start: datetime
    tamper: Sequence[Any] = ()


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
    delivery: Literal["sequential", "concurrent", "concurrent-late"] = "sequential"
    #: Start from the table an earlier run left (``None``: an empty table).
    table: TableSeed | None = None
    #: What DynamoDB answers instead of moto (``None``: moto's answers, unlogged).
    dynamodb: DynamoDBScript | None = None
    #: What ``get_remaining_time_in_millis`` reports (``None``: the harness default).
    remaining_ms: int | None = None


def author_executor(spec: ExecutorSpec) -> Scenario:
    """Record a scenario by running the handler once against the scripted answers:
    each agent's first request is answered from its script (faults first, then the
    answer) and written down exactly as the executor sent it."""
    items = seed_table(spec, spec.table) if spec.table is not None else []
    scenario = draft(
        spec,
        spec.clock_start,
        delivery=spec.delivery,
        checkpoint_items=items,
        dynamodb=spec.dynamodb,
        remaining_ms=spec.remaining_ms,
    )
    return record_answers(
        scenario, {agent: script.interaction for agent, script in spec.agents.items()}
    )


#: How an agent answers a request: ``(service, operation, request) -> Interaction``.
Answer = Callable[[str, str, dict[str, Any]], Interaction]


def record_answers(
    scenario: Scenario, agents: Mapping[str, Answer], table: list[Any] | None = None
) -> Scenario:
    """``scenario`` with the interactions its replay asked for, answered by ``agents``
    (any kind whose code under replay runs the executor: the redrive kind records its
    scenarios with it too); ``table`` receives the checkpoint items the run left (boto3 form)."""
    scripted: set[str] = set()

    def script(request: WireRequest) -> Interaction | None:
        answer = agents.get(request.agent or "")
        if answer is None or request.key in scripted:
            return None  # unscripted, or its answers are used up: paid twice
        scripted.add(request.key)
        return answer(request.service, request.operation, request.params)

    replayer = Replayer(source=lambda s: ScriptedAnswers(s, script, [INVOKE_AGENT]))
    with replayer.environment(scenario) as env:
        env.deliver_events()
        if table is not None:
            table += [dict(item) for item in env.written.table(CHECKPOINT_TABLE).items.values()]
    if env.transport.unmatched:
        raise env.transport.unmatched[0]
    scripted = env.transport.find(DynamoDBAnswers)
    unused = scripted.unused() if scripted is not None else []
    if unused:
        raise AuthoringError(f"$.dynamodb.{unused[0]}: the script names a call never made")
    source = env.source
    assert isinstance(source, ScriptedAnswers)
    # Branches finish in any order; the file lists interactions in a canonical one.
    interactions = sorted(
        source.recorded, key=lambda i: (i.service, i.operation, canonical(i.request))
    )
    return scenario.model_copy(update={"interactions": interactions})


#: The hash seed the earlier run's process uses: LangGraph keeps a node's edges in a
#: set, so the order of the ``branch:to:*`` writes inside stored payloads follows the
#: process's string hashing.
SEED_HASHSEED = "0"


def seed_table(spec: ExecutorSpec, seed: TableSeed) -> list[dict[str, dict[str, str]]]:
    """The items the spec's own run, started at ``seed.start``, left in the checkpoint
    table, tampered with as ``seed.tamper`` says, in wire JSON sorted by key.

    Produced by the real executor, never written by hand, and byte for byte the same
    on every authoring (``author --check`` compares them): the run happens in a child
    process with a fixed hash seed (:data:`SEED_HASHSEED`, one child for every spec:
    :mod:`harness.authoring.seed_worker`), see :func:`run_seed`.
    """
    if seed.start >= spec.clock_start:
        raise TamperError(
            "start: the earlier run must start before the scenario "
            f"({seed.start.isoformat()} is not before {spec.clock_start.isoformat()})"
        )
    run = seed_run(spec, seed)
    if os.environ.get("PYTHONHASHSEED") == SEED_HASHSEED:
        stored = [wire_item(item) for item in run_seed(run)]
    else:
        stored = seed_worker(SEED_HASHSEED).run(spec.name, run)
    items = tamper([boto3_item(item) for item in stored], list(seed.tamper))
    wired = [wire_item(item) for item in items]
    return sorted(wired, key=lambda i: (i["session_id"]["S"], i["checkpoint_id"]["S"]))


def seed_run(spec: ExecutorSpec, seed: TableSeed) -> dict[str, Any]:
    """The earlier run as plain JSON data: the draft scenario (started at
    ``seed.start``) and each agent's answer with the request left out.

    The agents answer without latency: parallel branches store their writes from
    background threads, and each item's ``ttl`` reads the clock when it lands, so
    latencies would make the items depend on thread timing.
    """
    scenario = draft(spec, seed.start)
    answers = {
        agent: replace(
            script,
            latency_ms=0,
            faults=tuple(f.model_copy(update={"latency_ms": 0}) for f in script.faults),
        ).interaction(*INVOKE_AGENT, {})
        for agent, script in spec.agents.items()
    }
    return {
        "draft": scenario.model_dump(mode="json"),
        "answers": {agent: answer.model_dump(mode="json") for agent, answer in answers.items()},
    }


def run_seed(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The checkpoint items (boto3 form) that :func:`seed_run`'s run leaves, in this
    process (whose hash seed must be :data:`SEED_HASHSEED`); :func:`_fixed_uuid6`
    fixes the checkpoint ids' random bits."""
    scenario = Scenario.model_validate(run["draft"])
    templates = {agent: Interaction.model_validate(v) for agent, v in run["answers"].items()}

    def answering(template: Interaction) -> Answer:
        def answer(service: str, operation: str, request: dict[str, Any]) -> Interaction:
            update = {"service": service, "operation": operation, "request": request}
            return template.model_copy(update=update)

        return answer

    items: list[Any] = []
    with _fixed_uuid6():
        record_answers(scenario, {agent: answering(t) for agent, t in templates.items()}, items)
    return items


@contextmanager
def _fixed_uuid6() -> Iterator[None]:
    """LangGraph's uuid6 checkpoint ids take their time from the (frozen) clock but a
    random node and the process's previous id: give uuid6 a random source of its own,
    seeded, and forget the previous id, so the seed run's ids -- inside every seeded key
    and payload -- repeat. Its own source, not the global one reseeded: whatever else
    draws from the global ``random`` (first-use work a longer-lived process has already
    done) then cannot shift the ids, so one child can seed every spec in turn
    (:mod:`harness.authoring.seed_worker`)."""
    import langgraph.checkpoint.base.id as uuid6_module

    with (
        mock.patch.object(uuid6_module, "random", random.Random(0)),  # noqa: S311 -- ids, not secrets
        mock.patch.object(uuid6_module, "_last_v6_timestamp", None),
    ):
        yield


__all__ = [
    "DEFAULT_MODEL",
    "SEED_HASHSEED",
    "AgentScript",
    "ExecutorSpec",
    "TableSeed",
    "agent_output",
    "author_executor",
    "record_answers",
    "run_seed",
    "seed_run",
    "seed_table",
    "unanimous",
]
