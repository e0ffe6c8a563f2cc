"""Crash points and the transport layer that kills the executor at one.

A crash is a :class:`SimulatedCrash`, a ``BaseException``, so the executor's
``except Exception`` blocks (agent runner, handler) cannot turn it into a FAILURE
result: botocore, LangGraph's worker threads and the handler all let it through, as
a SIGKILL would. :class:`CrashLayer` decides by what a request *stores* (its sort
keys), not by arrival order, so a crash point means the same durable state on every
run although LangGraph writes checkpoints from background threads.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from harness.replayer import WrittenItems, replay_saver
from harness.wire import (
    BEDROCK_SERVICE,
    Exchange,
    Layer,
    TransportLayer,
    agent_of,
    request_body,
    request_params,
    split_event_name,
)

DYNAMODB_WRITES = frozenset({"PutItem", "TransactWriteItems", "BatchWriteItem"})
#: How long a crash point waits at most for the state it needs to be durable (a
#: wedged executor that keeps sending, or a checkpointer that never stores).
DURABLE_TIMEOUT_S = 5.0
#: ... and how long without any request passing through the transport before it
#: concludes the state will never be stored: replays answer every request in
#: process, so an executor still working sends something within milliseconds; a
#: checkpointer that dropped its writes sends nothing more. Measured in polls of a
#: ``threading.Event`` (real time: the replay's clock is frozen).
QUIET_S = 0.25
POLL_S = 0.002
CRASH_KINDS = frozenset({"after", "writes", "branch"})


class SimulatedCrash(BaseException):
    """The Lambda execution environment died here."""


@dataclass(frozen=True)
class CrashPoint:
    """Where the first delivery dies, in terms of the uninterrupted run's trail.

    ``checkpoint`` is an index into that trail (oldest first). ``kind``:

    * ``after``: checkpoint k is durable, nothing of the tasks run from it is;
    * ``writes``: checkpoint k and every pending write of its tasks are durable,
      checkpoint k+1 is not (the process died between the last task and the commit);
    * ``branch``: k is the first wave's checkpoint; the other four agents' writes are
      durable and ``agent`` dies at its Bedrock request (so it is never paid).
    """

    kind: str
    checkpoint: int
    #: Agents whose Bedrock calls may be answered before the crash.
    allowed: frozenset[str]
    agent: str | None = None
    #: ``writes``: how many tasks' pending writes must be durable before dying.
    tasks: int = 0
    step: int | None = None

    @property
    def label(self) -> str:
        at = f"checkpoint {self.checkpoint} (step {self.step})"
        if self.kind == "branch":
            return f"in the first wave at {self.agent}'s Bedrock request"
        if self.kind == "writes":
            return f"after the pending writes of {at}, before the next checkpoint"
        return f"right after {at}"

    @property
    def write_upto(self) -> int:
        """The newest checkpoint whose attached pending writes may become durable."""
        return self.checkpoint - 1 if self.kind == "after" else self.checkpoint


# --------------------------------------------------------------------------- transport


class CrashLayer(Layer):
    """A transport layer that kills the executor at a crash point.

    Armed only during the first delivery. Once the crash fires, every later request
    of that attempt (other branches, background checkpoint writes) dies too: a dead
    process sends nothing. Decisions go by what a request stores (its sort keys), not
    by arrival order, so a crash point means the same durable state on every run even
    though LangGraph writes checkpoints in background threads.
    """

    def __init__(self, inner: TransportLayer) -> None:
        super().__init__(inner)
        self.point = CrashPoint("after", 0, frozenset())
        self.thread_id = ""
        self.armed = False
        self.crashed: str | None = None
        self.timeout: str | None = None
        self._dead = threading.Event()
        self._state_lock = threading.Lock()
        #: Checkpoint ids whose heads were let through, in order.
        self._heads: list[str] = []
        self._local = threading.local()
        #: Bumped by every request entering or leaving the layer: "the executor is
        #: still doing something" for :meth:`_wait`.
        self._activity = 0

    def send(self, request: Any, event_name: str) -> Exchange:
        if not self.armed or getattr(self._local, "internal", False):
            return self.inner.send(request, event_name)
        if self._dead.is_set():
            raise SimulatedCrash(f"already dead ({self.crashed})")
        self._activity += 1
        try:
            service, operation = split_event_name(event_name)
            if service == "dynamodb" and operation in DYNAMODB_WRITES:
                self._on_write(request, operation)
            elif service == BEDROCK_SERVICE:
                self._on_bedrock(request, operation)
            return self.inner.send(request, event_name)
        finally:
            self._activity += 1

    def _wait(self, done: Any) -> str | None:
        """Poll ``done()`` until it holds (``None``), or say why waiting stopped: the
        process died, nothing passed through the transport for :data:`QUIET_S`, or
        :data:`DURABLE_TIMEOUT_S` went by. The replay freezes ``time``, so wait on an
        Event: threading's timeouts keep real time and let the branches run."""
        seen, quiet = self._activity, 0
        for _ in range(round(DURABLE_TIMEOUT_S / POLL_S)):
            if done():
                return None
            if self._dead.wait(POLL_S):
                return "the process died"
            if self._activity != seen:
                seen, quiet = self._activity, 0
            else:
                quiet += 1
                if quiet * POLL_S >= QUIET_S:
                    return f"the executor went quiet for {QUIET_S}s without storing it"
        return f"waited {DURABLE_TIMEOUT_S}s while the executor kept sending"

    def _on_write(self, request: Any, operation: str) -> None:
        from opx.checkpointing import keys

        point = self.point
        for sort_key in _sort_keys(request, operation):
            if keys.is_meta(sort_key):
                continue  # the execution's in-progress lease: not a checkpoint write
            parsed = keys.parse(sort_key)
            owner = keys.parse(parsed.owner) if parsed.kind == "chunk" and parsed.owner else parsed
            if owner.kind == "head":
                with self._state_lock:
                    known = parsed.checkpoint_id in self._heads
                    if known or len(self._heads) <= point.checkpoint:
                        if parsed.kind == "head" and not known:
                            self._heads.append(parsed.checkpoint_id)
                        continue
                self._crash(f"DynamoDB {operation} of a checkpoint after {point.label}")
            index = self._head_index(parsed.checkpoint_id)
            if index is None or index > point.write_upto:
                self._crash(f"DynamoDB {operation} of pending writes past {point.label}")

    def _head_index(self, checkpoint_id: str) -> int | None:
        """Which allowed checkpoint a pending write belongs to, once its head is sent
        (a write may race ahead of its own checkpoint's head)."""
        found: list[int | None] = []

        def settled() -> bool:
            with self._state_lock:
                if checkpoint_id in self._heads:
                    found.append(self._heads.index(checkpoint_id))
                    return True
                return len(self._heads) > self.point.checkpoint

        self._wait(settled)
        return found[0] if found else None

    def _on_bedrock(self, request: Any, operation: str) -> None:
        agent = _agent(request, operation)
        if agent == self.point.agent or agent not in self.point.allowed:
            self._crash(f"{agent}'s Bedrock request")

    def _crash(self, where: str) -> None:
        """Wait until what the crash point promises is durable, then die."""
        stopped = self._wait(self._durable)
        if stopped is not None and not self._dead.is_set():
            self.timeout = f"at {where}: promised state never stored ({stopped})"
        with self._state_lock:
            if self.crashed is None:
                self.crashed = where
            self._dead.set()
        raise SimulatedCrash(where)

    def _durable(self) -> bool:
        from opx.state import PARALLEL_AGENTS

        tuples = self._tuples()
        point = self.point
        if len(tuples) <= point.checkpoint:
            return False
        writes = tuples[point.checkpoint].pending_writes
        if point.kind == "writes":
            return len({task for task, _, _ in writes}) >= point.tasks
        if point.kind == "branch":
            stored = {
                agent
                for _, channel, value in writes
                if channel == "hypotheses" and isinstance(value, dict)
                for agent in value
            }
            return stored >= set(PARALLEL_AGENTS) - {point.agent}
        return True

    def _tuples(self) -> list[Any]:
        """The stored checkpoints of the execution, oldest first, read through the
        executor's own saver: on DynamoDB, over what the replay saw it store (no moto
        Query per poll); in memory, the container's (it lives only there)."""
        from opx import lambda_handler
        from opx.checkpointing import DynamoDBCheckpointer

        container = lambda_handler.warm_container()
        if container is None or not self.thread_id:
            return []
        saver = container.checkpointer
        written = self.inner.find(WrittenItems)
        if isinstance(saver, DynamoDBCheckpointer) and written is not None:
            saver = replay_saver(written)
        self._local.internal = True
        try:
            config = {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": ""}}
            return list(reversed(list(saver.list(config))))
        finally:
            self._local.internal = False


def _sort_keys(request: Any, operation: str) -> list[str]:
    """The checkpoint-table sort keys a write request stores."""
    body = json.loads(request_body(request) or b"{}")
    if operation == "PutItem":
        found = [body.get("Item", {})]
    elif operation == "TransactWriteItems":
        found = [t.get("Put", {}).get("Item", {}) for t in body.get("TransactItems", [])]
    else:
        found = [
            r.get("PutRequest", {}).get("Item", {})
            for requests in body.get("RequestItems", {}).values()
            for r in requests
        ]
    return [item["checkpoint_id"]["S"] for item in found if "checkpoint_id" in item]


def _agent(request: Any, operation: str) -> str | None:
    return agent_of(
        request_params(
            BEDROCK_SERVICE,
            operation,
            request.method,
            request.url,
            request.headers,
            request_body(request),
        )
    )


__all__ = [
    "CRASH_KINDS",
    "DURABLE_TIMEOUT_S",
    "DYNAMODB_WRITES",
    "CrashLayer",
    "CrashPoint",
    "SimulatedCrash",
]
