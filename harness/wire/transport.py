"""Record/replay transport on botocore's own ``before-send`` hook.

Every request the code under replay sends passes through the transport first
(registered with ``register_first``, ahead of moto). Requests to services moto
serves (DynamoDB, CloudWatch, Logs, X-Ray, STS) fall through to moto unless the
answer source answers that operation (an AWS read moto cannot answer faithfully); any
other request is answered by the source (:mod:`harness.wire.answers`) with real HTTP
bytes -- Bedrock event streams as ``application/vnd.amazon.eventstream`` frames --
that botocore parses itself, or refused and reported as
:class:`~harness.wire.unmatched.UnmatchedRequestError` when the replay ends (the
executor may swallow the failed call, the harness never does).

Behaviours that watch or steer the traffic -- forcing a completion order, crashing
at a checkpoint, logging every call -- are :class:`Layer` wrappers around the
transport, not subclasses of it: each sees every request and the :class:`Exchange`
the layers below made of it.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.awsrequest import AWSResponse

from harness.scenario import Scenario
from harness.wire.answers import AnswerSource, PreparedAnswer, WireRequest
from harness.wire.eventstream import error_response
from harness.wire.requests import request_body, request_params
from harness.wire.unmatched import UnmatchedRequestError

#: Services answered by moto (event-name service ids). Everything else must be recorded.
MOTO_SERVICES = frozenset({"dynamodb", "cloudwatch", "cloudwatch-logs", "xray", "sts"})
UNMATCHED_ERROR_CODE = "HarnessUnmatchedRequest"
#: Where an answered request is readdressed (``.invalid`` never resolves).
ANSWERED_URL = "https://answered-by-recording.invalid/"


T = TypeVar("T", bound="TransportLayer")


@dataclass(frozen=True)
class Call:
    """One answered request, as the replay result reports it."""

    service: str
    operation: str
    interaction: int
    attempt: int
    outcome: str


@dataclass(frozen=True)
class Exchange:
    """What the transport made of one request.

    ``response`` is ``None`` when moto serves the request; ``call`` and ``answer`` are
    set when the source answered it; ``request`` when it was read back at all.
    """

    response: AWSResponse | None
    request: WireRequest | None = None
    answer: PreparedAnswer | None = None
    call: Call | None = None


def split_event_name(event_name: str) -> tuple[str, str]:
    """``before-send.<service id>.<Operation>`` -> ``(service id, Operation)``."""
    _, service, operation = event_name.split(".", 2)
    return service, operation


class TransportLayer(ABC):
    """Something botocore's ``before-send`` hook can hand a request to."""

    @abstractmethod
    def send(self, request: Any, event_name: str) -> Exchange:
        """Answer ``request`` (or let it through to moto) and say what happened."""

    def before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        """The botocore handler: an HTTP response, or ``None`` to let moto answer."""
        return self.send(request, event_name).response

    def served(self, request: Any, event_name: str, response: AWSResponse) -> None:
        """moto answered ``request`` (one this stack let through) with ``response``:
        called in the order moto applied requests. Nothing to do by default."""
        return None

    @property
    @abstractmethod
    def transport(self) -> Transport:
        """The transport at the bottom of the stack."""

    @property
    def scenario(self) -> Scenario:
        return self.transport.scenario

    def find(self, kind: type[T]) -> T | None:
        """The layer of type ``kind`` in this stack, outermost first, if any."""
        layer: TransportLayer | None = self
        while layer is not None:
            if isinstance(layer, kind):
                return layer
            layer = layer.inner if isinstance(layer, Layer) else None
        return None

    @property
    def calls(self) -> list[Call]:
        return self.transport.calls

    @property
    def unmatched(self) -> list[UnmatchedRequestError]:
        return self.transport.unmatched


class Transport(TransportLayer):
    """The bottom layer: reads requests back and answers them from ``source``."""

    def __init__(self, source: AnswerSource, advance_clock: Callable[[float], None]) -> None:
        self.source = source
        self.advance_clock = advance_clock
        self._calls: list[Call] = []
        self._unmatched: list[UnmatchedRequestError] = []
        self._lock = threading.Lock()

    @property
    def transport(self) -> Transport:
        return self

    @property
    def scenario(self) -> Scenario:
        return self.source.scenario

    @property
    def calls(self) -> list[Call]:
        return self._calls

    @property
    def unmatched(self) -> list[UnmatchedRequestError]:
        return self._unmatched

    def send(self, request: Any, event_name: str) -> Exchange:
        service, operation = split_event_name(event_name)
        if service in MOTO_SERVICES and not self.source.answers(service, operation):
            return Exchange(None)
        params = request_params(
            service, operation, request.method, request.url, request.headers, request_body(request)
        )
        wire = WireRequest(service, operation, params)
        # botocore hands the request to every before-send handler, moto's too, even
        # after one answered: moto would execute what the recording answered (and
        # fail on a recorded query id, or an operation it lacks). An address moto
        # does not serve keeps it out.
        request.url = ANSWERED_URL
        with self._lock:
            answer = self.source.take(wire)
            if answer is None:
                self._unmatched.append(self.source.explain(wire))
                refused = error_response(400, UNMATCHED_ERROR_CODE, "no recorded answer")
                return Exchange(refused, wire)
            call = Call(service, operation, answer.interaction, answer.attempt, answer.outcome)
            self._calls.append(call)
            # Ticks happen under the lock: concurrent branches must not lose an advance.
            self.advance_clock(answer.latency_ms / 1000)
        return Exchange(answer.render(params), wire, answer, call)


class Layer(TransportLayer):
    """A wrapper around another layer; by default it changes nothing."""

    def __init__(self, inner: TransportLayer) -> None:
        self.inner = inner

    def send(self, request: Any, event_name: str) -> Exchange:
        return self.inner.send(request, event_name)

    def served(self, request: Any, event_name: str, response: AWSResponse) -> None:
        self.inner.served(request, event_name, response)

    @property
    def transport(self) -> Transport:
        return self.inner.transport


#: Builds a layer over the stack below it (see :class:`harness.replay.Replayer`).
LayerFactory = Callable[[TransportLayer], TransportLayer]

__all__ = [
    "ANSWERED_URL",
    "MOTO_SERVICES",
    "UNMATCHED_ERROR_CODE",
    "Call",
    "Exchange",
    "Layer",
    "LayerFactory",
    "Transport",
    "TransportLayer",
    "split_event_name",
]
