"""Lambda entry point: ``opx.lambda_handler.handler``.

No unhandled exception: every path ends in a structured response -- 200 (analysis
done, possibly degraded), 400 (the event is not one opx accepts, with every failing
field), 500 (a named error code) or 409 (another invocation holds the execution) --
one log line and one EMF metrics document. 200 and 400 are returned; 500 and 409
leave as the one documented :class:`opx.errors.ExecutionRetryError` carrying that
response, because for an asynchronous (EventBridge) invocation only a raised error
makes Lambda retry and, after its last retry, keep the event in the dead-letter queue.

Idempotency: the execution id is a hash of the event, and it is the LangGraph thread.
A redelivered event whose execution completed returns the stored result without
calling Bedrock; one whose execution was interrupted resumes from its last checkpoint.
With DynamoDB checkpointing a run holds an in-progress lease
(:mod:`opx.checkpointing.lease`), so a concurrent duplicate pays nothing and is
answered 409 ``EXECUTION_IN_PROGRESS`` through the retry signal.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from opx import aws, metrics, response
from opx.checkpointing import DynamoDBCheckpointer, lease
from opx.checkpointing.errors import CheckpointCorruptError
from opx.checkpointing.lease import LeaseHeldError
from opx.config import ConfigurationError, Settings
from opx.cost import load_pricing
from opx.errors import IN_PROGRESS_CODE, ExecutionRetryError
from opx.events import EventValidationError, Incident, parse_event
from opx.graph import GraphDeps, all_results, build_graph
from opx.ids import execution_id
from opx.state import ExecutionState

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "Container",
    "cold_start",
    "container",
    "execute",
    "handler",
    "warm_container",
]

logger = Logger(service=metrics.SERVICE)

#: Lease length when the context cannot say how long the invocation has left
#: (Lambda's maximum timeout: a lease never lapses while its holder may still run).
DEFAULT_LEASE_SECONDS = 900
#: Store each checkpoint before the next step starts. LangGraph's default ("async")
#: writes it in the background, so a failed write (a throttled table) surfaced only
#: after the next step had already called -- and paid -- its agent, and the redelivery
#: called it again (found by tests/e2e/test_dead_letter_redrive.py).
DURABILITY = "sync"


@dataclass(frozen=True)
class Container:
    """What a Lambda execution environment keeps between invocations."""

    settings: Settings
    graph: CompiledStateGraph
    checkpointer: BaseCheckpointSaver


_container: Container | None = None


def cold_start() -> None:
    """Forget everything kept between invocations, as a new execution environment would.

    The next invocation re-reads the environment, builds new AWS clients from boto3's
    default session and -- without DynamoDB checkpointing -- starts an empty in-memory
    checkpointer. Replay tools call this between independent runs.
    """
    global _container
    _container = None


def warm_container() -> Container | None:
    """What this execution environment keeps now -- ``None`` before the first
    invocation. For tools that inspect a run (the replay harness reads the in-memory
    checkpointer through it), never for the handler itself."""
    return _container


def container() -> Container:
    """The execution environment's container, built on first use (a cold start)."""
    return _get_container()


def _get_container() -> Container:
    global _container
    if _container is None:
        settings = Settings.from_env(os.environ)
        checkpointer = _checkpointer(settings)
        deps = GraphDeps(
            bedrock=aws.bedrock_agent_runtime(settings.region),
            settings=settings,
            pricing=load_pricing(),
        )
        _container = Container(settings, build_graph(deps, checkpointer), checkpointer)
    return _container


def _checkpointer(settings: Settings) -> BaseCheckpointSaver:
    if not settings.use_dynamodb_checkpointing:
        return InMemorySaver()
    return DynamoDBCheckpointer(
        settings.checkpoint_table_name,
        client=aws.dynamodb(settings.region),
        ttl_days=settings.checkpoint_ttl_days,
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer one delivery: returns 200/400, raises :class:`ExecutionRetryError` (500/409)."""
    started = time.time()
    outcome = metrics.OUTCOME_ERROR
    cost = Decimal(0)
    agents: dict[str, str] = {}
    exec_id: str | None = None
    try:
        incident = parse_event(event)
        exec_id = execution_id(incident)
        state = execute(_get_container(), event, incident, exec_id, context)
        result = response.success(state)
        outcome = state["status"].lower()
        cost = Decimal(state["cost"]["total_usd"])
        agents = {agent: r["status"] for agent, r in all_results(state).items()}
    except EventValidationError as exc:
        outcome = "invalid_input"
        result = response.invalid_input(exc.errors)
    except LeaseHeldError as exc:
        outcome = metrics.OUTCOME_IN_PROGRESS
        result = response.in_progress(IN_PROGRESS_CODE, str(exc), exec_id)
    except Exception as exc:
        code, message = _classify(exc)
        _log_safely("exception", "execution failed", execution_id=exec_id, error=code)
        result = response.server_error(code, message, exec_id)
    duration_ms = round((time.time() - started) * 1000)
    _emit_safely(metrics.ExecutionMetrics(outcome, duration_ms, cost, agents))
    _log_safely(
        "info",
        "execution finished",
        execution_id=exec_id,
        status_code=result["statusCode"],
        outcome=outcome,
        request_id=getattr(context, "aws_request_id", None),
    )
    if outcome in (metrics.OUTCOME_ERROR, metrics.OUTCOME_IN_PROGRESS):
        raise ExecutionRetryError(result)
    return result


def _config(incident: Incident, exec_id: str) -> dict[str, Any]:
    return {
        "configurable": {"thread_id": exec_id, "incident_id": incident.incident_id},
        "metadata": {"incident_id": incident.incident_id},
    }


def execute(
    container: Container, event: dict[str, Any], incident: Incident, exec_id: str, context: Any
) -> ExecutionState:
    """A completed execution's stored state; else run it under the execution's lease.

    The handler's work between parsing an event and answering it, public so a
    benchmark (``bench/replay.py``) runs the executor's own steps -- initial state,
    lease, resume -- on a container of its choosing instead of a copy that drifts.
    """
    snapshot = container.graph.get_state(_config(incident, exec_id))
    if snapshot.values and not snapshot.next and not snapshot.tasks:
        return snapshot.values  # completed before: same answer, no lease, no Bedrock call
    checkpointer = container.checkpointer
    if not isinstance(checkpointer, DynamoDBCheckpointer):
        # One execution environment runs one invocation at a time: nothing to lease.
        return _run(container, event, incident, exec_id)
    held = lease.acquire(
        checkpointer.client,
        checkpointer.table_name,
        exec_id,
        _lease_owner(context),
        seconds=_lease_seconds(context),
    )
    try:
        # _run reads the state again under the lease: the holder we were racing with
        # may have finished in between.
        state = _run(container, event, incident, exec_id)
    except Exception:
        with contextlib.suppress(Exception):
            lease.release(checkpointer.client, held)
        raise
    lease.release(checkpointer.client, held)
    return state


def _lease_owner(context: Any) -> str:
    """The invocation's request id: Lambda keeps it across the async retries of one
    event, so a retry may take over the lease its dead predecessor left."""
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str) and request_id:
        return request_id
    return f"anonymous-{uuid.uuid4().hex}"  # never stored in state or results


def _lease_seconds(context: Any) -> int:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        with contextlib.suppress(Exception):
            millis = remaining()
            if isinstance(millis, int | float) and millis > 0:
                return math.ceil(millis / 1000)
    return DEFAULT_LEASE_SECONDS


def _run(
    container: Container, event: dict[str, Any], incident: Incident, exec_id: str
) -> ExecutionState:
    config = _config(incident, exec_id)
    snapshot = container.graph.get_state(config)
    # A death between a step's last stored write and the next checkpoint leaves
    # ``next`` empty but ``tasks`` pending: that run is interrupted, not complete
    # (found by the harness's resume matrix).
    if snapshot.values and not snapshot.next and not snapshot.tasks:
        return snapshot.values  # completed before: same answer, no Bedrock call
    if snapshot.next or snapshot.tasks:
        return container.graph.invoke(None, config, durability=DURABILITY)  # interrupted: resume
    budget = incident.budget_usd
    if budget is None:
        budget = container.settings.default_budget_usd
    initial: ExecutionState = {
        "execution_id": exec_id,
        "event": event,
        "incident": incident.model_dump(mode="json"),
        "budget_usd": str(budget),
    }
    return container.graph.invoke(initial, config, durability=DURABILITY)


def _classify(exc: Exception) -> tuple[str, str]:
    """A stable error code for a 500, and a one-line message."""
    if isinstance(exc, ConfigurationError):
        return "CONFIGURATION_ERROR", str(exc)
    if isinstance(exc, CheckpointCorruptError):
        return "CHECKPOINT_CORRUPT", str(exc)[:1000]
    if isinstance(exc, EndpointConnectionError):
        return "AWS_UNREACHABLE", str(exc)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return "AWS_ERROR", f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}"
    if isinstance(exc, BotoCoreError):
        return "AWS_ERROR", str(exc)
    return "EXECUTION_FAILED", f"{type(exc).__name__}: {exc}"[:1000]


def _emit_safely(record: metrics.ExecutionMetrics) -> None:
    try:
        metrics.emit(record)
    except Exception:
        _log_safely("exception", "metrics emission failed")


def _log_safely(level: str, message: str, **fields: Any) -> None:
    # Logging is best effort: the response must still return.
    with contextlib.suppress(Exception):
        getattr(logger, level)(message, extra=fields)
