"""Authoring a ``redrive`` scenario: the dead-letter queue, the table, the answers.

The author decides the incident, what each agent answers, the checkpoint table to
start from (an earlier run of the same incident, perhaps cut short -- produced by the
real executor exactly as an executor scenario's seeded table is), which messages the
queue holds and the command line. The requests are recorded by running the real
redrive and executor once against the scripted answers (:func:`record_answers`): an
agent asked twice for the same request is not answered the second time, so a
scenario that would pay twice cannot even be authored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from harness.authoring.draft import draft
from harness.authoring.executor import ExecutorSpec, record_answers, seed_table
from harness.kinds.redrive.invokes import DEPLOYED
from harness.scenario import RedriveCommand, Scenario


@dataclass(frozen=True)
class RedriveRecipe:
    """What an author decides about a redrive scenario (see the module docstring).

    ``executor`` is the incident as an executor scenario would hold it -- its one
    event, the agents' scripts, the table seed -- and its name, description, tags,
    clock and environment are the scenario's; ``messages`` are the queue's bodies."""

    executor: ExecutorSpec
    messages: list[Any]
    argv: list[str]
    queue: str = RedriveCommand.model_fields["queue"].default


def author_redrive(recipe: RedriveRecipe) -> Scenario:
    """Record the scenario by running the redrive (and the executor it invokes) once."""
    spec = recipe.executor
    items = seed_table(spec, spec.table) if spec.table is not None else []
    scenario = draft(
        replace(spec, events=list(recipe.messages)),
        spec.clock_start,
        kind="redrive",
        checkpoint_items=items,
        redrive=RedriveCommand(queue=recipe.queue, argv=list(recipe.argv)),
    )
    return record_answers(
        scenario, {agent: script.interaction for agent, script in spec.agents.items()}
    )


def on_failure_record(event: Any, *, error: str, message: str, at: datetime) -> dict[str, Any]:
    """Lambda's on-failure destination record for ``event``: what the executor's
    dead-letter queue holds after it raised :class:`opx.errors.ExecutionRetryError`
    with ``error`` on the first attempt and both retries. The error message is the
    structured response the executor would have built (``opx.response``), naming the
    execution; the request id is derived from the event id so the record repeats."""
    from opx.errors import ExecutionRetryError
    from opx.events import EventValidationError, parse_event
    from opx.ids import execution_id
    from opx.response import server_error

    try:
        execution: str | None = execution_id(parse_event(event))
    except EventValidationError:
        execution = None
    raised = ExecutionRetryError(server_error(error, message, execution))
    return {
        "version": "1.0",
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"opx-redrive:{event.get('id')}")),
            "functionArn": f"{DEPLOYED.invoked_function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorType": type(raised).__name__,
            "errorMessage": str(raised),
        },
    }


__all__ = ["RedriveRecipe", "author_redrive", "on_failure_record"]
