"""Answer sources: where a transport gets the answer to a request it must answer.

The transport (:mod:`harness.wire.transport`) owns the wire -- reading a request
back, refusing what nothing answers, ticking the clock, rendering bytes. *Which*
answer a request gets is the source's business, and the harness has three:

* :class:`RecordedAnswers` -- a scenario's recorded interactions, matched by the
  request's order-independent fingerprint, identical repeats in file order, each
  answer once (every replay);
* scripted answers -- an author's script per agent or per AWS operation, recording
  each request as the handler sends it (:mod:`harness.authoring`);
* re-derived answers -- a capture's answers re-bound to the requests the executor
  sends for a scrubbed event (:mod:`harness.capture.rederive`).

A source is an extension point like vcrpy's persisters: subclass
:class:`AnswerSource`, implement :meth:`~AnswerSource.take`, and hand it to
:class:`harness.replay.Replayer`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import botocore.exceptions
from botocore.awsrequest import AWSResponse

from harness.scenario import (
    BytesChunkEvent,
    ChunkEvent,
    ErrorAnswer,
    EventStreamAnswer,
    ExceptionEvent,
    Fault,
    HttpAnswer,
    Interaction,
    ReturnControlEvent,
    Scenario,
    StreamError,
    StreamEvent,
)
from harness.wire.bedrock import agent_of
from harness.wire.eventstream import (
    Event,
    chunk_event,
    encode_stream,
    error_response,
    eventstream_response,
    exception_event,
    http_response,
    return_control_event,
    trace_event,
)
from harness.wire.requests import fingerprint
from harness.wire.unmatched import UnmatchedRequestError, unmatched_request

#: Renders an answer's HTTP response for the request's parameters (a stream's trace
#: events echo the request's agent and session ids, as Bedrock's do).
Renderer = Callable[[dict[str, Any]], AWSResponse]


@dataclass(frozen=True)
class WireRequest:
    """A request as the transport read it back: operation and parameters."""

    service: str
    operation: str
    params: dict[str, Any]

    @cached_property
    def key(self) -> str:
        """The order-independent identity recordings are matched on."""
        return fingerprint(self.service, self.operation, self.params)

    @property
    def agent(self) -> str | None:
        """The opx agent an ``InvokeAgent`` request is for, else ``None``."""
        return agent_of(self.params)


@dataclass(frozen=True)
class PreparedAnswer:
    """One HTTP exchange's answer: a fault before the final answer, or the final one."""

    interaction: int
    attempt: int
    render: Renderer
    latency_ms: int
    #: ``answer``, ``fault:<code>`` (a retryable failed attempt) or ``error:<code>``.
    outcome: str
    #: Nothing more will be answered for this request: a final answer, or a fault
    #: with no recorded attempt after it (what the ordering check waits for).
    final: bool = True


def prepare_answers(index: int, interaction: Interaction) -> list[PreparedAnswer]:
    """The exchanges one interaction answers: each fault in order, then the answer."""
    answers = [
        PreparedAnswer(
            index,
            n,
            fault_renderer(fault, interaction.service),
            fault.latency_ms,
            f"fault:{fault.error}",
        )
        for n, fault in enumerate(interaction.faults)
    ]
    final = interaction.response
    if isinstance(final, ErrorAnswer):
        outcome = f"error:{final.code}"
    elif isinstance(final, HttpAnswer) and final.status >= 400:
        outcome = f"error:http-{final.status}"
    else:
        outcome = "answer"
    answers.append(
        PreparedAnswer(
            index, len(answers), _answer_renderer(final), interaction.latency_ms, outcome
        )
    )
    return answers


class AnswerSource(ABC):
    """Answers the requests a transport may not pass through to moto.

    Sources are called under the transport's lock: one request at a time.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._answered_operations = {(i.service, i.operation) for i in scenario.interactions}

    def answers(self, service: str, operation: str) -> bool:
        """Whether this source answers the operation -- moto-served operations it does
        not answer go to moto."""
        return (service, operation) in self._answered_operations

    @abstractmethod
    def take(self, request: WireRequest) -> PreparedAnswer | None:
        """The next answer for ``request``, or ``None`` when nothing is left for it."""

    def explain(self, request: WireRequest) -> UnmatchedRequestError:
        """Why ``request`` got no answer, for the person reading the failure."""
        return unmatched_request(
            self.scenario.name,
            request.service,
            request.operation,
            request.params,
            self.scenario.interactions,
        )


class RecordedAnswers(AnswerSource):
    """A scenario's recorded interactions (see the module docstring)."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        self._queues: dict[str, deque[PreparedAnswer]] = {}
        self._used: dict[str, int] = {}
        for index, interaction in enumerate(scenario.interactions):
            self.add(
                fingerprint(interaction.service, interaction.operation, interaction.request),
                prepare_answers(index, interaction),
            )

    def add(self, key: str, answers: list[PreparedAnswer]) -> None:
        """Queue more answers for the request identified by ``key``."""
        self._queues.setdefault(key, deque()).extend(answers)

    def knows(self, key: str) -> bool:
        """Whether any answer was ever queued for ``key`` (used up or not)."""
        return key in self._queues

    def take(self, request: WireRequest) -> PreparedAnswer | None:
        queue = self._queues.get(request.key)
        if not queue:
            return None
        answer = queue.popleft()
        self._used[request.key] = self._used.get(request.key, 0) + 1
        final = not answer.outcome.startswith("fault:") or not queue
        return answer if final else dataclasses.replace(answer, final=False)

    def explain(self, request: WireRequest) -> UnmatchedRequestError:
        if request.key in self._queues:
            return unmatched_request(
                self.scenario.name,
                request.service,
                request.operation,
                request.params,
                (),
                used=self._used.get(request.key, 0),
            )
        return super().explain(request)


#: Answers a request nothing is queued for yet: an interaction to record (the request
#: as sent, the scripted answer), or ``None`` to leave it unanswered.
Script = Callable[[WireRequest], Interaction | None]


class ScriptedAnswers(RecordedAnswers):
    """Answers from a script, each new request written down as it was sent.

    How a scenario is *authored* (the author scripts what each agent or AWS
    operation answers; the code under replay says what it asks) and how a capture
    is *re-derived* (recorded answers re-bound to the requests the executor sends
    for a scrubbed event). A request whose queued answers are used up asks the
    script again; identical requests keep the order they were answered in.
    """

    def __init__(
        self,
        scenario: Scenario,
        script: Script,
        operations: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(scenario)
        self._script = script
        self._answered_operations |= set(operations)
        #: Every interaction the script produced, in the order requests came.
        self.recorded: list[Interaction] = []

    def take(self, request: WireRequest) -> PreparedAnswer | None:
        answer = super().take(request)
        if answer is not None:
            return answer
        interaction = self._script(request)
        if interaction is None:
            return None
        self.recorded.append(interaction)
        self.add(request.key, prepare_answers(len(self.recorded) - 1, interaction))
        return super().take(request)


# --------------------------------------------------------------------------- rendering


def fault_renderer(fault: Fault, service: str) -> Renderer:
    """How ``fault`` answers a request to ``service``: an HTTP error, an in-stream
    exception, or (``where: network``) the botocore connection error it names, raised
    from the ``before-send`` hook -- for Bedrock interactions and scripted DynamoDB
    answers (:mod:`harness.wire.dynamodb`) alike."""
    if fault.where == "network":
        return lambda params: _raise_network_error(fault.error, service, params)
    if fault.where == "stream":
        # Traces first (the model ran and billed), then the error that ends the stream.
        error = StreamError(type=fault.error, message=fault.message)
        events: list[StreamEvent] = [*fault.traces, ExceptionEvent(exception=error)]

        def render_fault(params: dict[str, Any]) -> AWSResponse:
            frames = encode_stream(_stream_events(events, params))
            return eventstream_response(frames, session_id=params.get("sessionId"))

        return render_fault
    return lambda params: error_response(fault.status, fault.error, fault.message)


def endpoint_url(service: str, params: dict[str, Any]) -> str:
    """The URL the request was sent to, as botocore's own network errors name it: the
    real ``InvokeAgent`` path for Bedrock, the service's regional endpoint otherwise."""
    host = f"https://{service}.{os.environ.get('AWS_REGION', 'us-east-1')}.amazonaws.com"
    if {"agentId", "agentAliasId", "sessionId"} <= set(params):
        return (
            f"{host}/agents/{params['agentId']}/agentAliases/{params['agentAliasId']}"
            f"/sessions/{params['sessionId']}/text"
        )
    return f"{host}/"


def _raise_network_error(name: str, service: str, params: dict[str, Any]) -> AWSResponse:
    # Raised from botocore's before-send hook, the exception takes the path a real one
    # takes from the HTTP layer: botocore's retry handler sees it, then the caller.
    error_class = getattr(botocore.exceptions, name)
    raise error_class(endpoint_url=endpoint_url(service, params))


def _answer_renderer(answer: EventStreamAnswer | ErrorAnswer | HttpAnswer) -> Renderer:
    if isinstance(answer, ErrorAnswer):
        return lambda params: error_response(answer.status, answer.code, answer.message)
    if isinstance(answer, HttpAnswer):
        body = http_body(answer)
        return lambda params: http_response(answer.status, answer.headers, body)

    def render(params: dict[str, Any]) -> AWSResponse:
        frames = encode_stream(_stream_events(answer.events, params))
        return eventstream_response(frames, session_id=params.get("sessionId"))

    return render


def http_body(answer: HttpAnswer) -> bytes:
    """The wire bytes of a recorded answer (JSON compact, as AWS sends it)."""
    if answer.body is None:
        return b""
    if answer.encoding == "text":
        return str(answer.body).encode("utf-8")
    return json.dumps(answer.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _stream_events(items: list[StreamEvent], params: dict[str, Any]) -> list[Event]:
    events: list[Event] = []
    for item in items:
        if isinstance(item, ChunkEvent):
            events.append(chunk_event(item.chunk))
        elif isinstance(item, BytesChunkEvent):
            events.append(chunk_event(item.data))
        elif isinstance(item, ReturnControlEvent):
            events.append(return_control_event(item.return_control))
        elif isinstance(item, ExceptionEvent):
            events.append(exception_event(item.exception.type, item.exception.message))
        else:
            events.append(
                trace_event(
                    item.trace,
                    agent_id=params.get("agentId", ""),
                    agent_alias_id=params.get("agentAliasId", ""),
                    session_id=params.get("sessionId", ""),
                )
            )
    return events


__all__ = [
    "AnswerSource",
    "PreparedAnswer",
    "RecordedAnswers",
    "Renderer",
    "Script",
    "ScriptedAnswers",
    "WireRequest",
    "endpoint_url",
    "fault_renderer",
    "http_body",
    "prepare_answers",
]
