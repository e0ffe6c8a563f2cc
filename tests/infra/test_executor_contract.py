"""What the stack assumes about the executor, checked against the executor running.

Every scenario of the corpus is replayed (the real handler and graph on moto, as
``opx-harness`` replays them) while every DynamoDB request is watched, and the EMF
documents each invocation printed are kept. From those:

* the executor's DynamoDB grant equals the IAM actions of the calls it really makes,
  on the checkpoint table only (never the GSI);
* every metric the agent-failure alarm reads is one the executor really emits, and
  the alarm covers every outcome in which agents run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.types import INTERRUPT
from moto import mock_aws
from opx_infra.alarms import AGENT_OUTCOMES, FAILURE_COUNT, SUCCESS_COUNT
from opx_infra.permissions import CHECKPOINT_ACTIONS

from harness import load_scenario
from harness.kinds import kind_named
from harness.kinds.executor import ExecutorResult
from harness.replayer import CHECKPOINT_TABLE, Replayer
from harness.scenario import Scenario
from harness.wire import Exchange, Layer, TransportLayer, split_event_name
from opx import metrics
from opx.checkpointing import DynamoDBCheckpointer, create_table
from tests.infra.conftest import Synthesized

#: The executor's scenarios (action-group scenarios say ``"kind": "action-group"``).
SCENARIOS = sorted(
    path
    for path in (Path(__file__).resolve().parents[2] / "scenarios").glob("*.json")
    if json.loads(path.read_text(encoding="utf-8")).get("kind", "executor") == "executor"
)


@dataclass(frozen=True)
class Request:
    operation: str
    table: str | None
    index: str | None
    #: IAM actions authorizing the request (a transaction: one per item kind).
    actions: frozenset[str]


def iam_actions(operation: str, body: dict[str, Any]) -> frozenset[str]:
    """DynamoDB authorizes TransactWriteItems by the item actions inside it."""
    if operation == "TransactWriteItems":
        # Put -> PutItem, Update -> UpdateItem, ConditionCheck -> ConditionCheckItem ...
        return frozenset(f"dynamodb:{kind}Item" for item in body["TransactItems"] for kind in item)
    return frozenset({f"dynamodb:{operation}"})


def request_of(operation: str, body: dict[str, Any]) -> Request:
    tables = {item[kind]["TableName"] for item in body.get("TransactItems", []) for kind in item}
    tables |= set(body.get("RequestItems", {}))
    if "TableName" in body:
        tables.add(body["TableName"])
    (table,) = tables or {None}
    return Request(operation, table, body.get("IndexName"), iam_actions(operation, body))


@dataclass
class Observed:
    requests: set[Request] = field(default_factory=set)
    emf: list[dict[str, Any]] = field(default_factory=list)


class Watching(Layer):
    """A transport layer noting every DynamoDB request while the handler runs."""

    def __init__(self, inner: TransportLayer, observed: Observed) -> None:
        super().__init__(inner)
        self.observed = observed
        self.watching = False

    def send(self, request: Any, event_name: str) -> Exchange:
        service, operation = split_event_name(event_name)
        if self.watching and service == "dynamodb":
            self.observed.requests.add(request_of(operation, json.loads(request.body)))
        return self.inner.send(request, event_name)


@pytest.fixture(scope="module")
def observed() -> Observed:
    seen = Observed()

    def deliver(scenario: Scenario, transport: TransportLayer) -> list[dict[str, Any]]:
        # Only the handler's own calls: not the harness reading checkpoints back.
        watching = transport.find(Watching)
        assert watching is not None
        watching.watching = True
        try:
            return kind_named(scenario.kind).deliver(scenario, transport)
        finally:
            watching.watching = False

    replayer = Replayer(layers=[lambda inner: Watching(inner, seen)], deliver=deliver)
    for path in SCENARIOS:
        result = replayer.run(load_scenario(path))
        assert isinstance(result, ExecutorResult)
        seen.emf += result.metrics
    return seen


@pytest.fixture
def transaction_requests() -> Iterator[set[Request]]:
    """The checkpointer's one path no scenario takes: special writes beside others."""
    seen: set[Request] = set()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "opx-langgraph-checkpoints-test")
        saver = DynamoDBCheckpointer("opx-langgraph-checkpoints-test", client=client)
        config = saver.put(
            {"configurable": {"thread_id": "exec-1", "checkpoint_ns": ""}},
            empty_checkpoint(),
            {"source": "input", "step": -1},
            {},
        )

        def note(model: Any, params: dict[str, Any], **_: Any) -> None:
            seen.add(request_of(model.name, json.loads(params["body"])))

        client.meta.events.register("before-call.dynamodb", note)
        saver.put_writes(config, [("a", 1), (INTERRUPT, {"ask": 1})], "task-1")
        yield seen


def test_replays_cover_the_corpus(observed: Observed) -> None:
    assert len(SCENARIOS) >= 16
    assert len(observed.emf) >= len(SCENARIOS)


def test_checkpoint_grant_equals_the_actions_of_the_executors_calls(
    observed: Observed, transaction_requests: set[Request]
) -> None:
    used = set().union(*(r.actions for r in observed.requests | transaction_requests))
    assert used == set(CHECKPOINT_ACTIONS)
    assert {r.operation for r in transaction_requests} == {"TransactWriteItems"}


def test_the_executor_uses_only_the_checkpoint_table_never_its_index(observed: Observed) -> None:
    assert {r.table for r in observed.requests} == {CHECKPOINT_TABLE}
    assert {r.index for r in observed.requests} == {None}


def _metrics_read_by(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    return [m["MetricStat"]["Metric"] for m in alarm["Properties"]["Metrics"] if "MetricStat" in m]


def _emitted(document: dict[str, Any]) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(namespace, metric, dimensions) of one EMF document."""
    found = set()
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            dimensions = frozenset((name, document[name]) for name in dimension_set)
            found |= {(directive["Namespace"], m["Name"], dimensions) for m in directive["Metrics"]}
    return found


def test_failure_rate_alarm_reads_metrics_the_executor_emits(
    observed: Observed, dev: Synthesized
) -> None:
    (alarm,) = dev.template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": "opx-dev-agent-failure-rate"}}
    ).values()
    read = {
        (
            metric["Namespace"],
            metric["MetricName"],
            frozenset((d["Name"], d["Value"]) for d in metric["Dimensions"]),
        )
        for metric in _metrics_read_by(alarm)
    }
    emitted = set().union(*(_emitted(document) for document in observed.emf))
    assert read <= emitted
    assert {name for _, name, _ in read} == {FAILURE_COUNT, SUCCESS_COUNT}
    assert {namespace for namespace, _, _ in read} == {metrics.NAMESPACE}


def test_alarm_outcomes_are_exactly_those_in_which_agents_run(observed: Observed) -> None:
    def agents_ran(document: dict[str, Any]) -> bool:
        return document[FAILURE_COUNT][0] + document[SUCCESS_COUNT][0] > 0

    with_agents = {d["Outcome"] for d in observed.emf if agents_ran(d)}
    without_agents = {d["Outcome"] for d in observed.emf if not agents_ran(d)}
    assert with_agents == set(AGENT_OUTCOMES)
    # An analysis may also end "failed" with no agent called at all (budget-exceeded:
    # the budget admitted none), a duplicate delivery answered "in progress"
    # (concurrent-duplicate-delivery) calls none, and neither does an execution that
    # cannot start ("error": config-error); their zero counts add nothing to the rate.
    assert without_agents - {"failed", "in_progress", "error"} == {"invalid_input"}
