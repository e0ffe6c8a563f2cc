"""A transport that makes the five parallel agents finish in a chosen order.

Left alone, the first-wave threads reach Bedrock in whatever order the scheduler
picks -- nearly always the same one on a given machine, so an order dependence in
consensus or cost would hide for months. :class:`CompletionOrder`, a transport
layer, forces an order: an agent's first request waits until every agent before it
in the permutation is *done* (its last answer served and the response body read to
the end, or closed). "Last" is the final recorded answer, or -- when the order check
knows how many calls the unforced replay made of each agent -- that many-th answer,
whichever comes first: an executor may stop before the recording does (a budget
that cannot fit a retry refuses it, ``agent-stream-shapes``), and waiting for an
answer it never asks for stalled. The clock ticks in the transport under its lock,
so the recorded latencies also accumulate in the forced order.

A wait that makes no progress for :data:`STALL_SECONDS` of real time fails loudly
(:class:`OrderingStall`) instead of hanging the test session: a wrong assumption
about how the executor reads its answers must be a visible error, never a deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from harness.wire import (
    INVOKE_AGENT,
    Exchange,
    Layer,
    LayerFactory,
    TransportLayer,
    agent_of,
    request_body,
    request_params,
)
from opx.state import PARALLEL_AGENTS

#: Real seconds a gated request may wait without any agent finishing.
STALL_SECONDS = 10.0


class OrderingStall(RuntimeError):
    """The forced order could not proceed: an earlier agent never finished."""


class _SignallingBody:
    """Wraps a response body; calls ``done`` once it has been read to the end or closed."""

    def __init__(self, inner: Any, done: Callable[[], None]) -> None:
        self._inner = inner
        self._done = done
        self._fired = False

    def _fire(self) -> None:
        if not self._fired:
            self._fired = True
            self._done()

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        yield from self._inner.stream(amt, decode_content)
        self._fire()

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        piece = self._inner.read(amt, decode_content)
        if amt is None or not piece or len(piece) < amt:
            self._fire()
        return piece

    def close(self) -> None:
        self._inner.close()
        self._fire()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CompletionOrder(Layer):
    """Releases first-wave agents in ``order`` (a permutation of ``PARALLEL_AGENTS``);
    every other request passes through unchanged."""

    def __init__(
        self,
        inner: TransportLayer,
        order: Sequence[str] = PARALLEL_AGENTS,
        calls: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(inner)
        self.order = tuple(order)
        if sorted(self.order) != sorted(PARALLEL_AGENTS):
            raise ValueError(f"order must be a permutation of {PARALLEL_AGENTS}: {self.order}")
        #: Calls per agent in the unforced replay: an agent is done after that many.
        self._calls = dict(calls) if calls is not None else None
        self._sent: dict[str, int] = {}
        self._finished: set[str] = set()
        self._started: set[str] = set()
        self._condition = threading.Condition()
        #: Agents in the order they were let through.
        self.release_log: list[str] = []

    def send(self, request: Any, event_name: str) -> Exchange:
        if event_name.split(".", 1)[-1] != ".".join(INVOKE_AGENT):
            return self.inner.send(request, event_name)
        service, operation = INVOKE_AGENT
        params = request_params(
            service, operation, request.method, request.url, request.headers, request_body(request)
        )
        agent = agent_of(params)
        if agent not in self.order:
            return self.inner.send(request, event_name)
        self._wait_turn(agent)
        with self._condition:
            self._sent[agent] = sent = self._sent.get(agent, 0) + 1
        try:
            exchange = self.inner.send(request, event_name)
        except Exception:
            # A network fault raises instead of answering; the executor does not retry
            # an unreachable agent, so this was its final exchange: the next may go.
            self._finish(agent)
            raise
        if exchange.response is None or not self._last(agent, sent, exchange):
            return exchange
        exchange.response.raw = _SignallingBody(exchange.response.raw, lambda: self._finish(agent))
        return exchange

    def _last(self, agent: str, sent: int, exchange: Exchange) -> bool:
        """Whether this is the agent's last exchange (see the module docstring)."""
        if exchange.answer is not None and exchange.answer.final:
            return True
        # Several executions in one scenario call an agent more often than any one of
        # them does: a final answer ends the agent's turn first (event-normalization-edges).
        return self._calls is not None and sent >= self._calls.get(agent, sent + 1)

    def _wait_turn(self, agent: str) -> None:
        earlier = self.order[: self.order.index(agent)]
        with self._condition:
            if agent in self._started:
                return  # a retry: its turn came already
            while not all(a in self._finished for a in earlier):
                progress = len(self._finished)
                self._condition.wait(STALL_SECONDS)
                if len(self._finished) == progress and not all(
                    a in self._finished for a in earlier
                ):
                    missing = [a for a in earlier if a not in self._finished]
                    raise OrderingStall(
                        f"{agent} waited {STALL_SECONDS:.0f}s for {', '.join(missing)} to "
                        f"finish (order {', '.join(self.order)}): the executor never read "
                        "that agent's final answer to the end"
                    )
            self._started.add(agent)
            self.release_log.append(agent)

    def _finish(self, agent: str) -> None:
        with self._condition:
            self._finished.add(agent)
            self._condition.notify_all()


def ordered(order: Sequence[str]) -> LayerFactory:
    """A transport layer factory for :class:`harness.replayer.Replayer` forcing ``order``."""
    fixed = tuple(order)
    return lambda inner: CompletionOrder(inner, fixed)


__all__ = ["STALL_SECONDS", "CompletionOrder", "OrderingStall", "ordered"]
