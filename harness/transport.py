"""Record/replay transport on botocore's own ``before-send`` hook.

Every request the executor's clients send passes through :meth:`Transport.before_send`
first (registered with ``register_first``, ahead of moto). Requests to services moto
serves (DynamoDB, CloudWatch, Logs, X-Ray, STS) fall through to moto unless the
scenario recorded that operation (an AWS read moto cannot answer faithfully); a
request with a recorded interaction is answered with real HTTP bytes -- Bedrock event streams as
``application/vnd.amazon.eventstream`` frames -- that botocore parses itself; anything
else is refused and reported as :class:`UnmatchedRequestError` when the replay ends
(the executor may swallow the failed call, the harness never does).
"""

from __future__ import annotations

import difflib
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

from harness.eventstream import (
    Event,
    chunk_event,
    encode_stream,
    error_response,
    eventstream_response,
    exception_event,
    http_response,
    trace_event,
)
from harness.requests import fingerprint, request_params
from harness.scenario import (
    ChunkEvent,
    ErrorAnswer,
    EventStreamAnswer,
    ExceptionEvent,
    Fault,
    HttpAnswer,
    Interaction,
    Scenario,
)

#: Services answered by moto (event-name service ids). Everything else must be recorded.
MOTO_SERVICES = frozenset({"dynamodb", "cloudwatch", "cloudwatch-logs", "xray", "sts"})
UNMATCHED_ERROR_CODE = "HarnessUnmatchedRequest"
#: Where an answered request is readdressed (``.invalid`` never resolves).
ANSWERED_URL = "https://answered-by-recording.invalid/"


class UnmatchedRequestError(Exception):
    """A request the scenario has no (remaining) recorded answer for."""

    def __init__(
        self,
        scenario: str,
        service: str,
        operation: str,
        request: dict[str, Any],
        reason: str,
        closest: dict[str, Any] | None,
        diff: str,
    ) -> None:
        self.scenario = scenario
        self.service = service
        self.operation = operation
        self.request = request
        self.reason = reason
        self.closest = closest
        self.diff = diff
        super().__init__(f"scenario {scenario}: unmatched {service}.{operation}: {reason}")

    def report(self) -> str:
        """The readable form: what was sent, and how it differs from the closest recording."""
        lines = [str(self)]
        if self.diff:
            lines += ["--- recorded (closest)", "+++ sent", self.diff]
        else:
            lines.append(json.dumps(self.request, indent=2, sort_keys=True, ensure_ascii=False))
        return "\n".join(lines)


@dataclass(frozen=True)
class _Answer:
    interaction: int
    attempt: int
    render: Callable[[dict[str, Any]], AWSResponse]
    latency_ms: int
    outcome: str


@dataclass(frozen=True)
class Call:
    """One answered request, as the replay result reports it."""

    service: str
    operation: str
    interaction: int
    attempt: int
    outcome: str


@dataclass
class Transport:
    scenario: Scenario
    advance_clock: Callable[[float], None]
    calls: list[Call] = field(default_factory=list)
    unmatched: list[UnmatchedRequestError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[_Answer]] = {}
        self._used: dict[str, int] = {}
        self._recorded = {(i.service, i.operation) for i in self.scenario.interactions}
        for index, interaction in enumerate(self.scenario.interactions):
            key = fingerprint(interaction.service, interaction.operation, interaction.request)
            self._queues.setdefault(key, deque()).extend(_answers(index, interaction))

    def before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)
        if service in MOTO_SERVICES and (service, operation) not in self._recorded:
            return None
        params = request_params(
            service, operation, request.method, request.url, request.headers, _body(request)
        )
        key = fingerprint(service, operation, params)
        # botocore hands the request to every before-send handler, moto's too, even
        # after one answered: moto would execute what the recording answered (and
        # fail on a recorded query id, or an operation it lacks). An address moto
        # does not serve keeps it out.
        request.url = ANSWERED_URL
        with self._lock:
            answer = self._take(key, service, operation, params)
            if answer is None:
                self.unmatched.append(self._unmatched(service, operation, params, key))
                return error_response(400, UNMATCHED_ERROR_CODE, "no recorded answer")
            self._used[key] = self._used.get(key, 0) + 1
            self.calls.append(
                Call(service, operation, answer.interaction, answer.attempt, answer.outcome)
            )
            # Ticks happen under the lock: concurrent branches must not lose an advance.
            self.advance_clock(answer.latency_ms / 1000)
        return answer.render(params)

    def _take(
        self, key: str, service: str, operation: str, params: dict[str, Any]
    ) -> _Answer | None:
        """The next recorded answer for this request, if any is left."""
        queue = self._queues.get(key)
        return queue.popleft() if queue else None

    def _unmatched(
        self, service: str, operation: str, params: dict[str, Any], key: str
    ) -> UnmatchedRequestError:
        if key in self._queues:
            used = self._used.get(key, 0)
            reason = f"the recorded answers for this request are used up ({used} served)"
            return UnmatchedRequestError(
                self.scenario.name, service, operation, params, reason, None, ""
            )
        candidates = [
            i
            for i in self.scenario.interactions
            if (i.service, i.operation) == (service, operation)
        ]
        if not candidates:
            reason = "no interaction of this operation is recorded"
            return UnmatchedRequestError(
                self.scenario.name, service, operation, params, reason, None, ""
            )
        sent = _diffable_lines(params)
        scored = [
            (difflib.SequenceMatcher(None, _diffable_lines(c.request), sent).ratio(), -n, c)
            for n, c in enumerate(candidates)
        ]
        _, _, closest = max(scored, key=lambda item: (item[0], item[1]))
        diff = "\n".join(
            difflib.unified_diff(
                _diffable_lines(closest.request), sent, lineterm="", n=3, fromfile="", tofile=""
            )
        ).split("\n", 2)[-1]
        reason = "the request differs from every recording"
        return UnmatchedRequestError(
            self.scenario.name, service, operation, params, reason, closest.request, diff
        )


def _body(request: Any) -> bytes | None:
    body = request.body
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return body.read()


def _diffable_lines(value: Any) -> list[str]:
    """Pretty JSON with multi-line strings exploded, so a prompt edit diffs by line."""

    def explode(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: explode(sub) for key, sub in item.items()}
        if isinstance(item, list):
            return [explode(sub) for sub in item]
        if isinstance(item, str) and "\n" in item:
            return item.split("\n")
        return item

    return json.dumps(explode(value), indent=2, sort_keys=True, ensure_ascii=False).split("\n")


def _answers(index: int, interaction: Interaction) -> list[_Answer]:
    answers = [
        _Answer(index, n, _fault_renderer(fault), fault.latency_ms, f"fault:{fault.error}")
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
        _Answer(index, len(answers), _answer_renderer(final), interaction.latency_ms, outcome)
    )
    return answers


def _fault_renderer(fault: Fault) -> Callable[[dict[str, Any]], AWSResponse]:
    if fault.where == "stream":
        frames = encode_stream([exception_event(fault.error, fault.message)])
        return lambda params: eventstream_response(frames, session_id=params.get("sessionId"))
    return lambda params: error_response(fault.status, fault.error, fault.message)


def _answer_renderer(
    answer: EventStreamAnswer | ErrorAnswer | HttpAnswer,
) -> Callable[[dict[str, Any]], AWSResponse]:
    if isinstance(answer, ErrorAnswer):
        return lambda params: error_response(answer.status, answer.code, answer.message)
    if isinstance(answer, HttpAnswer):
        body = http_body(answer)
        return lambda params: http_response(answer.status, answer.headers, body)

    def render(params: dict[str, Any]) -> AWSResponse:
        frames = encode_stream(_stream_events(answer, params))
        return eventstream_response(frames, session_id=params.get("sessionId"))

    return render


def http_body(answer: HttpAnswer) -> bytes:
    """The wire bytes of a recorded answer (JSON compact, as AWS sends it)."""
    if answer.body is None:
        return b""
    if answer.encoding == "text":
        return str(answer.body).encode("utf-8")
    return json.dumps(answer.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _stream_events(answer: EventStreamAnswer, params: dict[str, Any]) -> list[Event]:
    events: list[Event] = []
    for item in answer.events:
        if isinstance(item, ChunkEvent):
            events.append(chunk_event(item.chunk))
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
