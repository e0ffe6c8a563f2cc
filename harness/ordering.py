"""A transport that makes the five parallel agents finish in a chosen order.

Left alone, the first-wave threads reach Bedrock in whatever order the scheduler
picks -- nearly always the same one on a given machine, so an order dependence in
consensus or cost would hide for months. :class:`OrderedTransport` forces an order:
an agent's first request waits until every agent before it in the permutation is
*done* (its final recorded answer served and the response body read to the end, or
closed). The clock ticks in ``Transport.before_send`` under its lock, so the recorded
latencies also accumulate in the forced order.

A wait that makes no progress for :data:`STALL_SECONDS` of real time fails loudly
(:class:`OrderingStall`) instead of hanging the test session: a wrong assumption about
how the executor reads its answers must be a visible error, never a deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

from harness.requests import request_params
from harness.scenario import Scenario
from harness.transport import Transport, _Answer, _body
from opx.state import PARALLEL_AGENTS

#: Real seconds a gated request may wait without any agent finishing.
STALL_SECONDS = 10.0
_INVOKE = "before-send.bedrock-agent-runtime.InvokeAgent"


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


@dataclass
class OrderedTransport(Transport):
    """``Transport`` releasing first-wave agents in ``order`` (a permutation of
    ``PARALLEL_AGENTS``); every other request is answered as usual."""

    order: tuple[str, ...] = PARALLEL_AGENTS

    def __post_init__(self) -> None:
        super().__post_init__()
        if sorted(self.order) != sorted(PARALLEL_AGENTS):
            raise ValueError(f"order must be a permutation of {PARALLEL_AGENTS}: {self.order}")
        self._finished: set[str] = set()
        self._started: set[str] = set()
        self._condition = threading.Condition()
        self._picked = threading.local()
        self.release_log: list[str] = []

    def before_send(self, request: Any, event_name: str, **kw: Any) -> AWSResponse | None:
        if event_name != _INVOKE:
            return super().before_send(request=request, event_name=event_name, **kw)
        _, service, operation = event_name.split(".", 2)
        params = request_params(
            service, operation, request.method, request.url, request.headers, _body(request)
        )
        context = params.get("inputText")
        agent = context.get("agent") if isinstance(context, dict) else None
        if agent not in self.order:
            return super().before_send(request=request, event_name=event_name, **kw)
        self._wait_turn(agent)
        self._picked.final = None
        response = super().before_send(request=request, event_name=event_name, **kw)
        final = self._picked.final
        if response is None or final is None or not final:
            return response
        response.raw = _SignallingBody(response.raw, lambda: self._finish(agent))
        return response

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

    def _take(
        self, key: str, service: str, operation: str, params: dict[str, Any]
    ) -> _Answer | None:
        answer = super()._take(key, service, operation, params)
        if answer is not None:
            # Final: not a retryable fault, or nothing recorded is left to retry with.
            self._picked.final = not answer.outcome.startswith("fault:") or not self._queues.get(
                key
            )
        return answer

    def _finish(self, agent: str) -> None:
        with self._condition:
            self._finished.add(agent)
            self._condition.notify_all()


def ordered(order: Sequence[str]) -> Callable[[Scenario, Callable[[float], None]], Transport]:
    """A ``transport_factory`` for :func:`harness.replayer.replay` forcing ``order``."""
    fixed = tuple(order)

    def factory(scenario: Scenario, advance_clock: Callable[[float], None]) -> Transport:
        return OrderedTransport(scenario, advance_clock, order=fixed)

    return factory
