"""``replay(scenario)``: the full handler and graph, offline, byte-for-byte repeatable.

One replay = a clean environment, fresh moto state (DynamoDB checkpoint table,
CloudWatch), a frozen clock at the scenario's start, the transport answering Bedrock
from the recording, and a cold start of the executor; then every event of the
scenario goes through ``opx.lambda_handler.handler`` exactly as Lambda would call it.
The result is read back through public surfaces only: the handler's responses, the
checkpoint table, the EMF lines the executor printed, and the calls the transport
answered.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config
from langgraph.checkpoint.base import BaseCheckpointSaver
from moto import mock_aws

from harness import canonical
from harness.clock import FrozenClock
from harness.sandbox import CHECKPOINT_TABLE, environment, no_network
from harness.scenario import EventStreamAnswer, Scenario, TraceEvent
from harness.transport import Call, Transport, UnmatchedRequestError

LAMBDA_LOGGER = "opx-executor"


@dataclass(frozen=True)
class LambdaContext:
    """The slice of the Lambda context object the executor may read."""

    function_name: str = "opx-executor-replay"
    aws_request_id: str = "replay-0"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:opx-executor-replay"


@dataclass
class ReplayResult:
    scenario: str
    responses: list[dict[str, Any]]
    final_state: dict[str, Any] | None
    checkpoints: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    bedrock_calls: list[dict[str, Any]]
    clock: dict[str, Any]
    logs: list[str] = field(default_factory=list, repr=False)

    def canonical(self) -> dict[str, Any]:
        """Everything that defines behaviour; logs are left out (they carry code
        locations, which move with every refactor)."""
        return canonical.plain(
            {
                "scenario": self.scenario,
                "responses": self.responses,
                "final_state": canonical.elide_large(self.final_state),
                "checkpoints": [
                    {key: value for key, value in entry.items() if key != "state"}
                    for entry in self.checkpoints
                ],
                "metrics": self.metrics,
                "bedrock_calls": self.bedrock_calls,
                "clock": self.clock,
            }
        )

    def to_canonical_json(self) -> str:
        return canonical.pretty(self.canonical())


# --------------------------------------------------------------------------- session

_session: _ReplaySession | None = None
_MAX_CLIENTS = 64
_active: Transport | None = None


def _dispatch(**kwargs: Any) -> Any:
    return _active.before_send(**kwargs) if _active is not None else None


def _client_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Everything a client is built from: its arguments (a ``Config`` by the options it
    was given) and the ``AWS_*`` environment botocore reads at creation (region,
    endpoints, credentials, retry settings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Config):
            # A Config has no equality; what it was given identifies it.
            options = getattr(value, "_user_provided_options", None)
            return ("Config", sorted(options.items())) if options is not None else id(value)
        return value

    environ = sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))
    arguments = [plain(a) for a in args], sorted((k, plain(v)) for k, v in kwargs.items())
    return repr((arguments, environ))


class _ReplaySession(boto3.Session):
    """The one boto3 session replays run on, hooked once, handing out reused clients.

    A new session costs ~50 ms; a new client ~3 ms plus ~2.5 ms more on its first
    call (endpoint resolution, handler caches) -- and a replay used to build four of
    them, ~20 ms of a ~100 ms warm replay. A botocore client holds no data between calls:
    requests go to moto's global state or the transport, both per replay; the one
    thing it counts, the standard-retry quota, is drawn only by a retried error and
    refilled by every success. So an identical request for a client -- same
    arguments, same ``AWS_*`` environment -- gets the same client object back. The
    executor still cold-starts every replay (settings, graph and checkpointer are
    rebuilt); only the botocore plumbing underneath is shared.
    """

    def __init__(self) -> None:
        super().__init__()
        self.events.register_first("before-send", _dispatch)
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    def client(self, *args: Any, **kwargs: Any) -> Any:
        key = _client_key(args, kwargs)
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                if len(self._clients) >= _MAX_CLIENTS:  # keys that never repeat: start over
                    self._clients.clear()
                client = self._clients[key] = super().client(*args, **kwargs)
            return client


def _replay_session() -> _ReplaySession:
    """One boto3 session per process (see :class:`_ReplaySession`)."""
    global _session
    if _session is None:
        _session = _ReplaySession()
    return _session


@contextmanager
def captured_output() -> Iterator[io.StringIO]:
    """EMF metric lines (``print``), the executor's JSON logs and stray log records,
    kept off the terminal."""
    buffer = io.StringIO()
    handlers = [
        h for h in logging.getLogger(LAMBDA_LOGGER).handlers if isinstance(h, logging.StreamHandler)
    ]
    # Swap streams directly: ``setStream`` flushes the old stream first, and the
    # logger's stream may be a buffer a test framework has already closed.
    previous = []
    for handler in handlers:
        with handler.lock:
            previous.append(handler.stream)
            handler.stream = buffer
    try:
        with redirect_stdout(buffer), redirect_stderr(buffer):
            yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            with handler.lock:
                handler.stream = sys.stdout if getattr(stream, "closed", False) else stream


@contextmanager
def replay_environment(scenario: Scenario, transport_factory: Any = Transport) -> Iterator[Any]:
    """Enter everything one replay needs; yields ``(transport, clock, output)``.

    An executor scenario also gets the checkpoint table and a cold start of the
    executor; an action-group scenario only the AWS it reads (its ``setup``)."""
    global _active
    executor = scenario.kind == "executor"
    if executor:
        # Before the clock freezes: see ``harness.pytest_plugin._import_executor``.
        from opx.lambda_handler import cold_start
    clock = FrozenClock(scenario.clock.start)
    session = _replay_session()
    previous_default = boto3.DEFAULT_SESSION
    with (
        environment(scenario.env),
        mock_aws(),
        clock.running(),
        no_network(),
        captured_output() as output,
    ):
        transport = transport_factory(scenario, clock.advance)
        _active = transport
        boto3.DEFAULT_SESSION = session
        try:
            if executor:
                _create_checkpoint_table(session.client("dynamodb"))
                cold_start()
            yield transport, clock, output
        finally:
            if executor:
                cold_start()
            _active = None
            boto3.DEFAULT_SESSION = previous_default


def _create_checkpoint_table(client: Any) -> None:
    """The executor's checkpoint table, from the executor's own schema, on moto.

    ``opx.checkpointing.create_table`` also waits for the table and switches on TTL
    and point-in-time recovery: four more calls (~4 ms of every replay) that change
    nothing a replay can observe -- moto creates tables ACTIVE, keeps TTL and PITR as
    metadata only (it never expires items), and the executor reads neither.
    """
    from opx.checkpointing import TABLE_SCHEMA

    client.create_table(**TABLE_SCHEMA.create_table_request(CHECKPOINT_TABLE))


#: How a replay hands the scenario's events to the executor: ``(scenario, transport)``
#: in, the handler responses out. Determinism checks substitute their own (crash and
#: redeliver, for one) while everything else about the replay stays the same.
Delivery = Callable[[Scenario, Transport], list[dict[str, Any]]]


def deliver_each_event(scenario: Scenario, transport: Transport) -> list[dict[str, Any]]:
    """Each event once, in order, as Lambda would invoke the handler."""
    from opx.errors import response_of
    from opx.lambda_handler import handler

    return [response_of(handler, event, LambdaContext()) for event in scenario.events]


def replay(
    scenario: Scenario,
    *,
    transport_factory: Callable[[Scenario, Callable[[float], None]], Transport] = Transport,
    deliver: Delivery | None = None,
) -> ReplayResult:
    """Run ``scenario`` and return what the executor -- or, for an ``action-group``
    scenario, the action group's Lambda (:mod:`harness.action_group_replay`) -- did.

    ``deliver`` defaults to handing each event to the handler once, in order.
    Raises :class:`UnmatchedRequestError` if the code under replay sent any request
    the recording cannot answer -- even when it tolerated the failure itself.
    """
    if scenario.kind == "action-group":
        from harness.action_group_replay import replay_action_group

        return replay_action_group(scenario, transport_factory=transport_factory, deliver=deliver)
    deliver = deliver or deliver_each_event
    with replay_environment(scenario, transport_factory) as (transport, clock, output):
        responses = deliver(scenario, transport)
        final_state, trail = read_checkpoints(responses)
        end = clock.now()
    if transport.unmatched:
        raise transport.unmatched[0]
    text = output.getvalue()
    return ReplayResult(
        scenario=scenario.name,
        responses=responses,
        final_state=final_state,
        checkpoints=trail,
        metrics=_emf_documents(text),
        bedrock_calls=bedrock_calls(scenario, transport.calls),
        clock={
            "start": scenario.clock.start.isoformat(),
            "end": end.isoformat(),
            "slept_s": sorted(clock.slept),
        },
        logs=[line for line in text.splitlines() if '"_aws"' not in line],
    )


def _execution_id(responses: list[dict[str, Any]]) -> str | None:
    for response in reversed(responses):
        body = response.get("body")
        if isinstance(body, dict) and body.get("execution_id"):
            return body["execution_id"]
    return None


#: LangGraph bookkeeping channels (trigger and join barriers), not executor state.
_STATE_SKIP = ("branch:", "join:", "__")


def read_checkpoints(
    responses: list[dict[str, Any]], saver: BaseCheckpointSaver | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The final state and the checkpoint trail, oldest first, of the execution the
    responses name -- from the replay's table unless another ``saver`` is given."""
    thread = _execution_id(responses)
    if thread is None:
        return None, []
    return checkpoint_trail(saver or _replay_saver(), thread)


def _replay_saver() -> BaseCheckpointSaver:
    from opx.checkpointing import DynamoDBCheckpointer

    return DynamoDBCheckpointer(CHECKPOINT_TABLE, client=boto3.client("dynamodb"))


def checkpoint_trail(
    saver: BaseCheckpointSaver, thread: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The final state and the checkpoint trail of ``thread``, oldest first.

    Each trail entry also carries the full ``state`` at that checkpoint (for the
    divergence report); :meth:`ReplayResult.canonical` keeps only its digest.
    """
    tuples = list(saver.list({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}))
    tuples.reverse()
    checkpoints = canonical.Aliases("checkpoint")
    trail = []
    previous_seen: dict[str, Any] = {}
    state: dict[str, Any] | None = None
    for item in tuples:
        checkpoint = item.checkpoint
        state = {
            key: value
            for key, value in sorted(checkpoint["channel_values"].items())
            if not key.startswith(_STATE_SKIP)
        }
        seen = checkpoint.get("versions_seen", {})
        writers = sorted(
            node
            for node, versions in seen.items()
            if versions != previous_seen.get(node) and not node.startswith("__")
        )
        previous_seen = seen
        parent = item.parent_config["configurable"]["checkpoint_id"] if item.parent_config else None
        trail.append(
            {
                "checkpoint": checkpoints(checkpoint["id"]),
                "parent": checkpoints(parent),
                "step": item.metadata.get("step"),
                "source": item.metadata.get("source"),
                "writers": writers,
                "state_sha256": canonical.digest(state),
                "state": state,
                # Task ids derive from uuid6 checkpoint ids: keep what was written, not by whom.
                "pending_writes": sorted(
                    [channel, canonical.digest(value)] for _, channel, value in item.pending_writes
                ),
            }
        )
    return state, trail


def _emf_documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def bedrock_calls(scenario: Scenario, calls: list[Call]) -> list[dict[str, Any]]:
    """Every answered Bedrock call with its tokens and cost, in a stable order."""
    from opx.cost import agent_cost, load_pricing

    pricing = load_pricing()
    out = []
    for call in calls:
        interaction = scenario.interactions[call.interaction]
        request = interaction.request
        agent = (
            request.get("inputText", {}).get("agent")
            if isinstance(request.get("inputText"), dict)
            else None
        )
        usage = {"input_tokens": 0, "output_tokens": 0}
        model_id = None
        if call.outcome == "answer" and isinstance(interaction.response, EventStreamAnswer):
            usage, model_id = stream_usage(interaction.response)
        out.append(
            {
                "service": call.service,
                "operation": call.operation,
                "agent": agent,
                "interaction": call.interaction,
                "attempt": call.attempt,
                "outcome": call.outcome,
                "model_id": model_id,
                **usage,
                "cost_usd": str(agent_cost(usage, model_id, pricing))
                if call.outcome == "answer"
                else str(Decimal("0.000000")),
            }
        )
    return sorted(out, key=lambda c: (c["interaction"], c["attempt"]))


def stream_usage(answer: EventStreamAnswer) -> tuple[dict[str, int], str | None]:
    """Tokens and model the recorded traces report -- what Bedrock would bill --
    folded by the executor's own accounting rules."""
    from opx.agents.stream import StreamCollector

    collector = StreamCollector()
    for event in answer.events:
        if isinstance(event, TraceEvent):
            collector.add({"trace": {"trace": event.trace}})
    usage = {"input_tokens": collector.input_tokens, "output_tokens": collector.output_tokens}
    return usage, collector.model_id


__all__ = ["LambdaContext", "ReplayResult", "UnmatchedRequestError", "replay"]
