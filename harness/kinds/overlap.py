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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from harness.wire import BEDROCK_SERVICE, Exchange, Layer, TransportLayer, split_event_name

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

    def arm(self) -> None:
        self._armed = True

    def release(self) -> None:
        self._released.set()

    def send(self, request: Any, event_name: str) -> Exchange:
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


__all__ = ["HOLD_SECONDS", "Overlap", "deliver_overlapping"]
