"""Authoring action-group scenarios: invocations, seeded data and AWS's answers.

The author says what AWS answers (``AwsAnswer``: the response in the service's real
shape, faults before it, latency); the handler says what it asks: :func:`author`
records each answer's request from the handler itself, so the requests in a scenario
file are exactly what the handler sends -- the same promise
:func:`harness.authoring.author` makes for the executor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.authoring.draft import draft
from harness.replayer import Replayer
from harness.scenario import (
    ErrorAnswer,
    Fault,
    HttpAnswer,
    Interaction,
    Scenario,
    SetupCall,
)
from harness.wire import ScriptedAnswers, WireRequest

#: The agent that calls the action groups in authored events: signal-intelligence on
#: its test alias (see docs/reference/executor.md, "Agents").
AGENT = {
    "name": "opx-signal-intelligence",
    "id": "OPXSIGNAL1",
    "alias": "TSTALIASID",
    "version": "DRAFT",
}


@dataclass(frozen=True)
class AwsAnswer:
    """One recorded AWS answer; its request is recorded from the handler (``author``)."""

    service: str
    operation: str
    response: HttpAnswer | ErrorAnswer
    faults: tuple[Fault, ...] = ()
    latency_ms: int = 0


class AuthoringError(Exception):
    """The handler and the scripted answers disagree; the message says how."""


@dataclass(frozen=True)
class ActionGroupSpec:
    """What an author decides about an action-group scenario: the invocations, the
    world they read (setup calls seeding moto) and what AWS answers where moto
    cannot; what the handler asks is recorded by running it."""

    name: str
    description: str
    group: str
    events: Sequence[Any]
    clock_start: datetime
    tags: Sequence[str] = ()
    setup: Sequence[SetupCall] = ()
    answers: Sequence[AwsAnswer] = ()
    env: Mapping[str, str] = field(default_factory=dict)


def author_action_group(spec: ActionGroupSpec) -> Scenario:
    """The scenario, each answer's request exactly as the handler sends it, in one run.

    A request nothing is queued for takes the first open answer of its operation (in
    the spec's order); the file lists the answers in that order. A request with no
    open answer, or an answer left open, is an :class:`AuthoringError`.
    """
    scenario = draft(
        spec,
        spec.clock_start,
        kind="action-group",
        action_group=spec.group,
        setup=list(spec.setup),
    )
    bound: dict[int, Interaction] = {}

    def script(request: WireRequest) -> Interaction | None:
        slot = next(
            (
                n
                for n, answer in enumerate(spec.answers)
                if n not in bound
                and (answer.service, answer.operation) == (request.service, request.operation)
            ),
            None,
        )
        if slot is None:
            return None
        answer = spec.answers[slot]
        bound[slot] = Interaction(
            service=answer.service,
            operation=answer.operation,
            request=request.params,
            faults=list(answer.faults),
            response=answer.response,
            latency_ms=answer.latency_ms,
            provenance="authored",
        )
        return bound[slot]

    operations = [(a.service, a.operation) for a in spec.answers]
    replayer = Replayer(source=lambda s: ScriptedAnswers(s, script, operations))
    with replayer.environment(scenario) as env:
        env.deliver_events()
    if env.transport.unmatched:
        raise AuthoringError(
            f"{spec.name}: no scripted answer left for {env.transport.unmatched[0]}"
        )
    unused = [f"{a.service}.{a.operation}" for n, a in enumerate(spec.answers) if n not in bound]
    if unused:
        raise AuthoringError(f"{spec.name}: the handler never asked for {', '.join(unused)}")
    return scenario.model_copy(update={"interactions": [bound[n] for n in sorted(bound)]})


def invocation_event(
    group: str,
    operation_id: str,
    params: Mapping[str, str],
    *,
    incident: str,
    text: str,
) -> dict[str, Any]:
    """The OpenAPI input event Bedrock sends to call ``operation_id`` of ``group``:
    path and method from the group's schema, each parameter where the schema puts it
    (path/query ``parameters`` or ``requestBody`` properties) with the schema's type,
    every value a string. A name the schema does not know goes to ``parameters``
    typed ``string`` (how tests send unknown parameters)."""
    from opx.action_groups.registry import by_name

    path, method, operation = _operation(by_name(group).load_schema(), operation_id)
    declared = {p["name"]: p["schema"]["type"] for p in operation.get("parameters", [])}
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body_types = {n: s["type"] for n, s in schema.get("schema", {}).get("properties", {}).items()}
    parameters, properties = [], []
    for name, value in params.items():
        kind = body_types.get(name, declared.get(name, "string"))
        entry = {"name": name, "type": kind, "value": value}
        (properties if name in body_types else parameters).append(entry)
    event: dict[str, Any] = {
        "messageVersion": "1.0",
        "agent": dict(AGENT),
        "inputText": text,
        # The executor's Bedrock session: <execution id>.<agent>.
        "sessionId": f"exec-{hashlib.sha256(incident.encode()).hexdigest()[:32]}"
        ".signal-intelligence",
        "actionGroup": group,
        "apiPath": path,
        "httpMethod": method,
        "parameters": parameters,
        "sessionAttributes": {"incident_id": incident},
        "promptSessionAttributes": {},
    }
    if body_types:
        event["requestBody"] = {"content": {"application/json": {"properties": properties}}}
    return event


def seed_log_events(group: str, stream: str, events: Sequence[tuple[int, str]]) -> list[SetupCall]:
    """Setup calls creating ``group`` with one ``stream`` holding ``(epoch ms, message)``
    events (oldest first, as PutLogEvents demands)."""
    return [
        SetupCall(client="logs", operation="CreateLogGroup", params={"logGroupName": group}),
        SetupCall(
            client="logs",
            operation="CreateLogStream",
            params={"logGroupName": group, "logStreamName": stream},
        ),
        SetupCall(
            client="logs",
            operation="PutLogEvents",
            params={
                "logGroupName": group,
                "logStreamName": stream,
                "logEvents": [{"timestamp": ms, "message": text} for ms, text in events],
            },
        ),
    ]


def _operation(schema: Mapping[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if operation.get("operationId") == operation_id:
                return path, method.upper(), operation
    raise KeyError(f"no operation {operation_id} in the schema")


__all__ = [
    "AGENT",
    "ActionGroupSpec",
    "AuthoringError",
    "AwsAnswer",
    "author_action_group",
    "invocation_event",
    "seed_log_events",
]
