"""Replaying an ``action-group`` scenario: one action group's Lambda, offline, exactly.

The same replay as the executor's (:class:`harness.replayer.Replayer`: clean
environment, fresh moto, frozen clock, no network, the transport answering recorded
interactions) with three differences: the scenario's ``setup`` calls seed moto
first (they are the world the handler reads, not part of the result); each event
goes to the group's handler from :mod:`opx.action_groups.registry`; and the result
is what such a Lambda does -- its responses, every AWS call it made (recorded
answers by interaction and attempt, moto-served ones by operation) and the clock.
There are no checkpoints, metrics or Bedrock calls to report.

Response bodies are JSON *strings* in the Bedrock contract; the canonical result
shows each one decoded, next to the sha256 of the exact string, so a snapshot reads
like data and still pins every byte the agent would see.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import boto3
from botocore import xform_name

from harness import canonical
from harness.kinds.base import KindFieldError, ScenarioKind
from harness.replayer import LambdaContext, ReplayEnvironment, ReplayResult
from harness.scenario import SETUP_SERVICE_IDS, Scenario, SetupCall
from harness.wire import Exchange, Layer, LayerFactory, TransportLayer, split_event_name

if TYPE_CHECKING:
    from harness.authoring import ActionGroupSpec


class SetupError(Exception):
    """A setup call the scenario asked for failed: the scenario, not the handler, is wrong."""


@dataclass
class ActionGroupResult(ReplayResult):
    action_group: str = ""
    #: Every AWS call the handler made, in order (see :class:`CallLog`).
    aws_calls: list[dict[str, Any]] = field(default_factory=list)

    def canonical(self) -> dict[str, Any]:
        return canonical.plain(
            {
                "scenario": self.scenario,
                "kind": "action-group",
                "action_group": self.action_group,
                "responses": [readable(response) for response in self.responses],
                "aws_calls": self.aws_calls,
                "clock": self.clock,
                **self.client_record(),
            }
        )


def readable(response: Any) -> Any:
    """A handler response with each ``responseBody.<type>.body`` JSON string decoded,
    beside ``body_sha256`` of the string itself; anything else as it is."""
    shown = copy.deepcopy(response)
    inner = shown.get("response") if isinstance(shown, dict) else None
    if not isinstance(inner, dict):
        return shown
    function_response = inner.get("functionResponse")
    holders = [inner.get("responseBody")]
    if isinstance(function_response, dict):
        holders.append(function_response.get("responseBody"))
    for holder in holders:
        for media in holder.values() if isinstance(holder, dict) else ():
            body = media.get("body") if isinstance(media, dict) else None
            if not isinstance(body, str):
                continue
            try:
                decoded = json.loads(body)
            except ValueError:
                continue
            media["body"] = decoded
            media["body_sha256"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return shown


class CallLog(Layer):
    """Logs every request the handler sends, in order.

    Each request becomes one entry: served by a ``recording`` (with the interaction,
    attempt and outcome the transport reports), by ``moto`` (the transport let it
    through), or ``unmatched`` (refused; the replay raises after the handler
    returns). Requests are logged only once :attr:`recording` is on, so setup stays
    out of the result.
    """

    def __init__(self, inner: TransportLayer) -> None:
        super().__init__(inner)
        self.recording = False
        self.entries: list[dict[str, Any]] = []

    def send(self, request: Any, event_name: str) -> Exchange:
        exchange = self.inner.send(request, event_name)
        if self.recording:
            service, operation = split_event_name(event_name)
            entry: dict[str, Any] = {"service": service, "operation": operation}
            if exchange.call is not None:
                entry.update(
                    served_by="recording",
                    interaction=exchange.call.interaction,
                    attempt=exchange.call.attempt,
                    outcome=exchange.call.outcome,
                )
            else:
                entry["served_by"] = "moto" if exchange.response is None else "unmatched"
            self.entries.append(entry)
        return exchange


def run_setup(calls: Sequence[SetupCall]) -> None:
    """Each setup call through boto3's default session (moto, inside a replay)."""
    for index, call in enumerate(calls):
        client = boto3.client(call.client)
        method = getattr(client, xform_name(call.operation), None)
        if method is None:
            raise SetupError(f"$.setup[{index}]: {call.client} has no operation {call.operation}")
        try:
            method(**call.params)
        except Exception as exc:
            raise SetupError(
                f"$.setup[{index}]: {call.client}.{call.operation} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from None


class ActionGroupKind(ScenarioKind):
    name: ClassVar[str] = "action-group"
    fields: ClassVar[frozenset[str]] = frozenset({"kind", "action_group", "setup"})
    #: No parallel agents, no Bedrock bill, no checkpoints: order, resume and cost
    #: have nothing to prove here and say so.
    checks: ClassVar[frozenset[str]] = frozenset({"snapshot", "repeat", "process", "secrets"})

    def validate(self, scenario: Scenario) -> None:
        from opx.action_groups.registry import ACTION_GROUPS

        if scenario.action_group is None:
            raise ValueError("an action-group scenario names its action_group")
        known = [group.name for group in ACTION_GROUPS]
        if scenario.action_group not in known:
            raise KindFieldError(
                "action_group",
                f"unknown action group {scenario.action_group!r} (known: {', '.join(known)})",
            )
        recorded = {(i.service, i.operation) for i in scenario.interactions}
        for call in scenario.setup:
            if (SETUP_SERVICE_IDS[call.client], call.operation) in recorded:
                raise ValueError(
                    f"setup calls {call.client}.{call.operation}, which the scenario "
                    "also records: setup must reach moto"
                )

    def prepare(self, scenario: Scenario) -> None:
        _handler(scenario)

    def layers(self) -> Sequence[LayerFactory]:
        return (CallLog,)

    def setup(self, env: ReplayEnvironment) -> None:
        run_setup(env.scenario.setup)
        _call_log(env.transport).recording = True

    def deliver(self, scenario: Scenario, transport: TransportLayer) -> list[Any]:
        """Each event once, in order, to the group's handler, as Lambda would invoke it."""
        handler = _handler(scenario)
        context = dataclasses.replace(
            LambdaContext(), function_name=f"opx-{scenario.action_group}-replay"
        )
        return [handler(event, context) for event in scenario.events]

    def collect(self, env: ReplayEnvironment, responses: list[Any]) -> ActionGroupResult:
        return ActionGroupResult(
            scenario=env.scenario.name,
            responses=responses,
            clock=env.clock_record(),
            logs=env.output.getvalue().splitlines(),
            action_group=str(env.scenario.action_group),
            aws_calls=_call_log(env.transport).entries,
        )

    def summarize(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        answers = [r.get("response", {}) for r in result["responses"] if isinstance(r, dict)]
        calls: list[dict[str, Any]] = result["aws_calls"]
        served: dict[str, int] = {}
        for call in calls:
            served[call.get("served_by", "-")] = served.get(call.get("served_by", "-"), 0) + 1
        return [
            ("scenario", result["scenario"]),
            ("action group", result["action_group"]),
            ("answers", ", ".join(f"{_route(a)} {_answer_status(a)}" for a in answers) or "-"),
            (
                "aws calls",
                f"{len(calls)} ("
                + (", ".join(f"{n} by {who}" for who, n in sorted(served.items())) or "none")
                + ")",
            ),
            ("clock", f"{result['clock']['start']} -> {result['clock']['end']}"),
        ]

    def behaviour(self, result: dict[str, Any]) -> dict[str, str]:
        answers = [r.get("response", {}) for r in result["responses"] if isinstance(r, dict)]
        return {
            "answers": ", ".join(f"{_route(a)} {_answer_status(a)}" for a in answers) or "-",
            "aws calls": str(len(result.get("aws_calls", []))),
        }

    def author(self, spec: ActionGroupSpec) -> Scenario:
        from harness.authoring.action_group import author_action_group

        return author_action_group(spec)


def _handler(scenario: Scenario) -> Any:
    from opx.action_groups.registry import by_name

    return by_name(str(scenario.action_group)).load_handler()


def _call_log(transport: TransportLayer) -> CallLog:
    if not isinstance(transport, CallLog):
        raise TypeError("an action-group replay's outermost transport layer is its CallLog")
    return transport


def _route(answer: dict[str, Any]) -> str:
    return str(answer.get("apiPath") or answer.get("function") or "-")


def _answer_status(answer: dict[str, Any]) -> str:
    """The HTTP status of an OpenAPI answer, the response state of a function answer."""
    state = answer.get("functionResponse", {}).get("responseState")
    return str(answer.get("httpStatusCode") or state or 200)


__all__ = ["ActionGroupKind", "ActionGroupResult", "CallLog", "SetupError", "readable", "run_setup"]
