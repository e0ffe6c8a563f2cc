"""Overlapping deliveries, made deterministic: the second arrives while the first runs.

EventBridge delivers at least once and sometimes concurrently. Two threads started
together would race, and which of them the executor lets run would depend on the
scheduler -- a replay's result must not. So the overlap is staged: the first
delivery runs until its first Bedrock request (by then it holds the execution's
lease and has paid nothing), the :class:`Overlap` layer holds that request there --
and every other Bedrock request until the overlap ends, so no answer of the first
delivery moves the shared frozen clock while the others run -- every other delivery
runs to its answer, and then the first one is let go. That is the one interleaving
that matters -- a duplicate arriving mid-run -- every time. (A duplicate that asks
Bedrock itself is held too, until :data:`HOLD_SECONDS`: then it goes on, and the
recording, used up, says it paid twice.)

The *late* duplicate (``delivery: concurrent-late``, :func:`deliver_late`) is the
other interleaving that matters: the duplicate read the state (incomplete) and is
about to take the lease just as the first delivery finishes. Staged, every time:
delivery 0 runs until its first Bedrock request and is held there (it holds the
lease); delivery 1 runs until it sends its lease ``PutItem`` (identified by the
executor's key layout, :func:`harness.wire.dynamodb.written_item`) and is held there;
delivery 0 is let go and runs to its answer (final checkpoint stored, lease
released); then delivery 1's ``PutItem`` goes on, takes the free lease and must find
the run complete when it reads the state again under it. Which thread is which
delivery is data, not scheduler luck: each delivery runs with its index in a
context variable (LangGraph copies the context into its branch threads), and the
layer holds a request only at the point named for that index. Every wait is bounded
by :data:`HOLD_SECONDS` and fails with :class:`OverlapTimeoutError` naming what it
waited for -- never a hang.
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

from harness.wire import (
    BEDROCK_SERVICE,
    DYNAMODB_SERVICE,
    Exchange,
    Layer,
    TransportLayer,
    request_body,
    split_event_name,
)
from harness.wire.dynamodb import written_item

#: Where a staged delivery is held: its first Bedrock request, or its lease ``PutItem``.
HoldPoint = Literal["bedrock", "lease"]

#: The delivery (its index in the scenario's events) the current thread works for.
_DELIVERY: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "opx_overlap_delivery", default=None
)


class OverlapTimeoutError(RuntimeError):
    """A staged hold waited :data:`HOLD_SECONDS` for something that never happened:
    the message names the delivery, where it was held and what it waited for."""


#: Real seconds the held delivery may wait for the others before it goes on anyway.
HOLD_SECONDS = 30.0
_POLL_S = 0.005


class Overlap(Layer):
    """Holds every Bedrock request from :meth:`arm` until :meth:`release`."""

    def __init__(self, inner: TransportLayer) -> None:
        super().__init__(inner)
        self._armed = False
        self.reached = threading.Event()
        self._released = threading.Event()
        #: Staged holds (:func:`deliver_late`): delivery index -> where it is held.
        self._stage: dict[int, tuple[HoldPoint, ...]] = {}
        self._go: dict[int, threading.Event] = {}
        self._parked: dict[int, HoldPoint] = {}
        self._changed = threading.Condition()
        #: Holds that timed out, by name: raised by the delivering thread.
        self.timeouts: list[str] = []

    def stage(self, holds: dict[int, tuple[HoldPoint, ...]]) -> None:
        """Hold delivery ``n``'s first request at one of ``holds[n]`` until :meth:`go`."""
        self._stage = dict(holds)
        self._go = {n: threading.Event() for n in holds}

    def go(self, n: int) -> None:
        self._go[n].set()

    def go_all(self) -> None:
        for event in self._go.values():
            event.set()

    def wait_parked(self, n: int, alive: Callable[[], bool], what: str) -> HoldPoint | None:
        """Where delivery ``n`` is held -- ``None`` if it answered without reaching a
        hold point; :class:`OverlapTimeoutError` naming ``what`` after HOLD_SECONDS."""
        with self._changed:
            # Polled, not only notified: a delivery that answers never notifies.
            for _ in range(int(HOLD_SECONDS / _POLL_S)):
                if n in self._parked or not alive():
                    return self._parked.get(n)
                self._changed.wait(_POLL_S)
        raise OverlapTimeoutError(f"delivery {n} did not reach {what} within {HOLD_SECONDS:g} s")

    def _hold_point(self, request: Any, event_name: str) -> HoldPoint | None:
        n = _DELIVERY.get()
        points = self._stage.get(n) if n is not None else None
        if not points or n is None or self._go[n].is_set():
            return None
        service, operation = split_event_name(event_name)
        if service == BEDROCK_SERVICE and "bedrock" in points:
            return "bedrock"
        if service == DYNAMODB_SERVICE and operation == "PutItem" and "lease" in points:
            body = json.loads(request_body(request) or b"{}")
            if written_item(operation, body) == "lease":
                return "lease"
        return None

    def _hold(self, n: int, point: HoldPoint) -> None:
        with self._changed:
            self._parked[n] = point
            self._changed.notify_all()
        if not self._go[n].wait(HOLD_SECONDS):
            self.timeouts.append(
                f"delivery {n}, held at its {_POINT_NAMES[point]}, was not let go "
                f"within {HOLD_SECONDS:g} s"
            )

    def arm(self) -> None:
        self._armed = True

    def release(self) -> None:
        self._released.set()

    def send(self, request: Any, event_name: str) -> Exchange:
        point = self._hold_point(request, event_name)
        if point is not None:
            n = _DELIVERY.get()
            assert n is not None
            self._hold(n, point)
            return self.inner.send(request, event_name)
        service, _ = split_event_name(event_name)
        if self._armed and service == BEDROCK_SERVICE and not self._released.is_set():
            self.reached.set()
            self._released.wait(HOLD_SECONDS)
        return self.inner.send(request, event_name)


def deliver_overlapping(
    events: Sequence[Any], transport: TransportLayer, invoke: Callable[[Any, int], Any]
) -> list[Any]:
    """``invoke(event, n)`` for every event, the first one held mid-run (see the module
    docstring) while the others are delivered in order; answers in event order."""
    overlap = transport.find(Overlap)
    if overlap is None:
        raise TypeError("overlapping deliveries need the Overlap layer in the transport stack")
    answers: list[Any] = [None] * len(events)
    failure: list[BaseException] = []

    def first() -> None:
        try:
            answers[0] = invoke(events[0], 0)
        except BaseException as exc:  # surfaced in the delivering thread below
            failure.append(exc)

    overlap.arm()
    thread = threading.Thread(target=first, name="opx-delivery-0")
    thread.start()
    # Until the first delivery is parked at Bedrock -- or done without ever asking.
    while not overlap.reached.wait(_POLL_S) and thread.is_alive():
        pass
    try:
        for n, event in enumerate(events[1:], start=1):
            answers[n] = invoke(event, n)
    finally:
        overlap.release()
        thread.join()
    if failure:
        raise failure[0]
    return answers


_POINT_NAMES: dict[HoldPoint, str] = {
    "bedrock": "first Bedrock request",
    "lease": "lease PutItem",
}


def deliver_late(
    events: Sequence[Any], transport: TransportLayer, invoke: Callable[[Any, int], Any]
) -> list[Any]:
    """``invoke(event, n)`` for every event, delivery 1 the late duplicate of delivery
    0 (see the module docstring); any later events are delivered in order after
    both. Answers in event order. Raises :class:`OverlapTimeoutError` naming the hold
    that waited :data:`HOLD_SECONDS` in vain."""
    overlap = transport.find(Overlap)
    if overlap is None:
        raise TypeError("overlapping deliveries need the Overlap layer in the transport stack")
    if len(events) < 2:
        raise ValueError("a late duplicate needs two deliveries at least")
    answers: list[Any] = [None] * len(events)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        _DELIVERY.set(n)  # a fresh thread: its own context, copied into graph branches
        try:
            answers[n] = invoke(events[n], n)
        except BaseException as exc:  # surfaced in the delivering thread below
            failures.append(exc)

    # Delivery 1 holds at Bedrock too: without a lease (the fault) it asks Bedrock
    # first, and must not race delivery 0 there.
    overlap.stage({0: ("bedrock",), 1: ("lease", "bedrock")})
    threads = [threading.Thread(target=run, args=(n,), name=f"opx-delivery-{n}") for n in (0, 1)]
    try:
        threads[0].start()
        overlap.wait_parked(0, threads[0].is_alive, "its first Bedrock request")
        threads[1].start()
        overlap.wait_parked(1, threads[1].is_alive, "its lease PutItem")
        overlap.go(0)
        threads[0].join(HOLD_SECONDS)
        if threads[0].is_alive():
            raise OverlapTimeoutError(
                f"delivery 0 did not answer within {HOLD_SECONDS:g} s after it was let go"
            )
        overlap.go(1)
        threads[1].join(HOLD_SECONDS)
        if threads[1].is_alive():
            raise OverlapTimeoutError(
                f"delivery 1 did not answer within {HOLD_SECONDS:g} s after it was let go"
            )
    finally:
        overlap.go_all()
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(HOLD_SECONDS)
    if overlap.timeouts:
        raise OverlapTimeoutError("; ".join(overlap.timeouts))
    if failures:
        raise failures[0]
    for n in range(2, len(events)):
        answers[n] = invoke(events[n], n)
    return answers


#: ``invoke(event, n)`` for each event, staged; answers in event order.
Staging = Callable[[Sequence[Any], TransportLayer, Callable[[Any, int], Any]], list[Any]]

#: How each overlapping ``delivery`` a scenario may name is staged.
STAGINGS: dict[str, Staging] = {
    "concurrent": deliver_overlapping,
    "concurrent-late": deliver_late,
}


__all__ = [
    "HOLD_SECONDS",
    "STAGINGS",
    "HoldPoint",
    "Overlap",
    "OverlapTimeoutError",
    "Staging",
    "deliver_late",
    "deliver_overlapping",
]
