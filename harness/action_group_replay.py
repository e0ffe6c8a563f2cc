"""Replaying an ``action-group`` scenario: one action group's Lambda, offline, exactly.

The same replay as the executor's (:func:`harness.replayer.replay_environment`: clean
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore import xform_name

from harness import canonical
from harness.replayer import Delivery, LambdaContext, ReplayResult, replay_environment
from harness.scenario import Scenario, SetupCall
from harness.transport import Transport


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


class CallLog:
    """The transport of an action-group replay, logging every request it sees.

    Wraps whichever transport the replay was given. Each request of the handler
    becomes one entry: served by a ``recording`` (with the interaction, attempt and
    outcome the transport reports), by ``moto`` (the transport let it through), or
    ``unmatched`` (refused; the replay raises after the handler returns). Requests
    are logged only once :attr:`recording` is on, so setup stays out of the result.
    """

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.recording = False
        self.entries: list[dict[str, Any]] = []

    def before_send(self, request: Any, event_name: str, **kwargs: Any) -> Any:
        answered = len(self.inner.calls)
        response = self.inner.before_send(request=request, event_name=event_name, **kwargs)
        if self.recording:
            _, service, operation = event_name.split(".", 2)
            entry: dict[str, Any] = {"service": service, "operation": operation}
            if len(self.inner.calls) > answered:
                call = self.inner.calls[answered]
                entry.update(
                    served_by="recording",
                    interaction=call.interaction,
                    attempt=call.attempt,
                    outcome=call.outcome,
                )
            else:
                entry["served_by"] = "moto" if response is None else "unmatched"
            self.entries.append(entry)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


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


def deliver_to_action_group(scenario: Scenario, transport: Transport) -> list[dict[str, Any]]:
    """Each event once, in order, to the group's handler, as Lambda would invoke it."""
    from opx.action_groups.registry import by_name

    handler = by_name(str(scenario.action_group)).load_handler()
    context = dataclasses.replace(
        LambdaContext(), function_name=f"opx-{scenario.action_group}-replay"
    )
    return [handler(event, context) for event in scenario.events]


def replay_action_group(
    scenario: Scenario,
    *,
    transport_factory: Callable[[Scenario, Callable[[float], None]], Transport] = Transport,
    deliver: Delivery | None = None,
) -> ActionGroupResult:
    """Replay an action-group scenario (see the module docstring)."""
    from opx.action_groups.registry import by_name

    # Imported before the clock freezes, like the executor.
    by_name(str(scenario.action_group)).load_handler()
    deliver = deliver or deliver_to_action_group

    def factory(s: Scenario, advance: Callable[[float], None]) -> CallLog:
        return CallLog(transport_factory(s, advance))

    with replay_environment(scenario, factory) as (log, clock, output):
        run_setup(scenario.setup)
        log.recording = True
        responses = deliver(scenario, log.inner)
        end = clock.now()
    if log.unmatched:
        raise log.unmatched[0]
    return ActionGroupResult(
        scenario=scenario.name,
        responses=responses,
        final_state=None,
        checkpoints=[],
        metrics=[],
        bedrock_calls=[],
        clock={
            "start": scenario.clock.start.isoformat(),
            "end": end.isoformat(),
            "slept_s": sorted(clock.slept),
        },
        logs=output.getvalue().splitlines(),
        action_group=str(scenario.action_group),
        aws_calls=log.entries,
    )
