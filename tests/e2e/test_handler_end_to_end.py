"""The real handler and graph, with InvokeAgent answered by real event-stream bytes."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opx import graph as graph_module
from opx.errors import ExecutionRetryError, response_of
from opx.lambda_handler import handler
from opx.state import ALL_AGENTS, PARALLEL_AGENTS, STRATEGY_AGENT
from tests.e2e.fake_bedrock import (
    DEFAULT_OUTPUTS,
    FakeBedrock,
    billed_throttle,
    completion,
    hook,
    http_error,
    in_stream_throttle,
    output,
)
from tests.support import sample_event


def _emf(captured: str) -> list[dict[str, Any]]:
    docs = []
    for line in captured.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            docs.append(json.loads(line))
    return docs


def test_full_run_calls_each_agent_once_and_answers(bedrock: FakeBedrock) -> None:
    result = handler(sample_event("opx_incident"), None)

    assert result["statusCode"] == 200, result
    body = result["body"]
    assert body["status"] == "SUCCEEDED"
    assert body["incident_id"] == "INC-2026-0001"
    assert body["execution_id"] == "exec-2e2b28d4830a5c667f92a48f58cf2c6d"
    assert body["agents"] == dict.fromkeys(ALL_AGENTS, "SUCCESS")
    assert body["errors"] == []
    assert sorted(call["agent"] for call in bedrock.calls) == sorted(ALL_AGENTS)
    assert body["recommendation"]["actions"][0]["type"] == "rollback"


def test_requests_carry_canonical_input_and_derived_sessions(bedrock: FakeBedrock) -> None:
    handler(sample_event("opx_incident"), None)

    exec_id = "exec-2e2b28d4830a5c667f92a48f58cf2c6d"
    for call in bedrock.calls:
        body = call["body"]
        assert body["enableTrace"] is True
        text = body["inputText"]
        parsed = json.loads(text)
        assert text == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert call["session_id"] == f"{exec_id}.{call['agent']}"
    strategy_input = next(c for c in bedrock.calls if c["agent"] == STRATEGY_AGENT)
    seen = json.loads(strategy_input["body"]["inputText"])["context"]["hypotheses"]
    assert [h["agent"] for h in seen] == list(PARALLEL_AGENTS)


def test_cost_prices_every_call_from_the_trace_usage(bedrock: FakeBedrock) -> None:
    body = handler(sample_event("opx_incident"), None)["body"]

    # Claude 3.5 Sonnet v2: $0.003 per 1K input, $0.015 per 1K output (opx/data/pricing.json).
    # Each agent: 1000 in + 200 out = 0.003 + 0.003 = 0.006000; six agents = 0.036000.
    assert body["cost"]["per_agent"] == dict.fromkeys(ALL_AGENTS, "0.006000")
    assert body["cost"]["total_usd"] == "0.036000"
    assert body["cost"]["budget"]["state"] == "OK"


def test_redelivery_returns_the_same_body_without_calling_bedrock(bedrock: FakeBedrock) -> None:
    first = handler(sample_event("opx_incident"), None)
    calls = len(bedrock.calls)
    second = handler(sample_event("opx_incident"), None)

    assert second == first
    assert len(bedrock.calls) == calls == 6


def test_in_stream_throttling_is_retried_with_backoff(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    bedrock.script(
        "signal-intelligence",
        in_stream_throttle(),
        in_stream_throttle(),
        completion(output("5xx after deploy", ("rollback", 0.9))),
    )

    body = handler(sample_event("opx_incident"), None)["body"]

    assert body["agents"]["signal-intelligence"] == "SUCCESS"
    assert bedrock.calls_for("signal-intelligence") == 3
    assert sleeps == [0.5, 1.0]


def test_a_failed_agent_degrades_but_does_not_fail_the_graph(bedrock: FakeBedrock) -> None:
    bedrock.script("knowledge-rag", http_error(403, "AccessDeniedException"))
    bedrock.script("risk-blast-radius", completion("I think it is the database."))

    body = handler(sample_event("opx_incident"), None)["body"]

    assert body["status"] == "DEGRADED"
    assert body["agents"]["knowledge-rag"] == "FAILURE"
    assert body["agents"]["risk-blast-radius"] == "FAILURE"
    codes = {error["agent"]: error["code"] for error in body["errors"]}
    assert codes == {
        "knowledge-rag": "AGENT_INVOCATION_FAILED",
        "risk-blast-radius": "MALFORMED_OUTPUT",
    }
    assert bedrock.calls_for("knowledge-rag") == 1  # not retryable
    assert sorted(body["consensus"]["participating_agents"]) == [
        "change-intelligence",
        "historical-pattern",
        "response-strategy",
        "signal-intelligence",
    ]


def test_all_agents_failing_is_a_failed_analysis_not_a_crash(bedrock: FakeBedrock) -> None:
    for agent in ALL_AGENTS:
        bedrock.script(agent, http_error(404, "ResourceNotFoundException"))

    result = handler(sample_event("opx_incident"), None)

    assert result["statusCode"] == 200
    assert result["body"]["status"] == "FAILED"
    assert result["body"]["agents"] == dict.fromkeys(ALL_AGENTS, "FAILURE")


def test_calls_beyond_their_estimate_exhaust_the_budget_and_stop_the_rest(
    bedrock: FakeBedrock,
) -> None:
    """The guarantee holds only while calls stay within their estimate: here each
    first-wave call bills 20,000 input tokens (0.063 USD, above its ~0.035 estimate), so
    the first wave overshoots and response-strategy is not called."""
    for agent in PARALLEL_AGENTS:
        bedrock.script(agent, completion(DEFAULT_OUTPUTS[agent], input_tokens=20_000))
    event = sample_event("opx_incident")
    event["detail"]["budget_usd"] = "0.18"  # a fifth (0.036) admits one first-wave call

    body = handler(event, None)["body"]

    assert body["agents"][STRATEGY_AGENT] == "SKIPPED"
    assert bedrock.calls_for(STRATEGY_AGENT) == 0
    assert body["status"] == "DEGRADED"
    assert body["cost"]["total_usd"] == "0.315000"
    assert body["cost"]["budget"]["state"] == "EXCEEDED"
    assert {e["agent"]: e["code"] for e in body["errors"]} == {STRATEGY_AGENT: "BUDGET_EXCEEDED"}


def test_a_budget_of_zero_calls_no_agent(bedrock: FakeBedrock) -> None:
    event = sample_event("opx_incident")
    event["detail"]["budget_usd"] = "0"

    body = handler(event, None)["body"]

    assert bedrock.calls == []
    assert body["agents"] == dict.fromkeys(ALL_AGENTS, "SKIPPED")
    assert {e["code"] for e in body["errors"]} == {"BUDGET_EXCEEDED"}
    assert body["cost"]["total_usd"] == "0.000000"
    assert body["status"] == "FAILED"


def test_a_budget_below_one_worst_case_call_per_agent_pays_nothing(bedrock: FakeBedrock) -> None:
    """Today's executor paid the whole first wave (0.030 USD) against a 0.02 budget."""
    event = sample_event("opx_incident")
    event["detail"]["budget_usd"] = "0.02"

    body = handler(event, None)["body"]

    assert bedrock.calls == []
    assert body["cost"]["total_usd"] == "0.000000"
    assert "worst-case estimate" in body["errors"][0]["message"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    budget=st.decimals(min_value=0, max_value="0.40", places=3),
    throttles=st.lists(st.integers(0, 3), min_size=6, max_size=6),
)
def test_spend_never_exceeds_the_budget_when_calls_stay_within_their_estimate(
    bedrock: FakeBedrock, budget: Decimal, throttles: list[int]
) -> None:
    """Any budget, any number of retries (in-stream throttles bill their trace tokens
    here): the answered total never exceeds the budget."""
    bedrock.calls.clear()
    for agent, count in zip(ALL_AGENTS, throttles, strict=True):
        bedrock.script(
            agent,
            *[billed_throttle(3000, 500)] * count,
            completion(DEFAULT_OUTPUTS[agent], input_tokens=3000, output_tokens=800),
        )
    event = sample_event("opx_incident")
    event["detail"]["budget_usd"] = str(budget)
    event["id"] = f"budget-{budget}-{throttles}"  # a fresh execution per example

    body = handler(event, None)["body"]

    assert Decimal(body["cost"]["total_usd"]) <= budget
    called = {call["agent"] for call in bedrock.calls}
    assert all(body["agents"][agent] == "SKIPPED" for agent in set(ALL_AGENTS) - called)


def test_a_node_bug_is_a_500_and_redelivery_resumes_without_paying_twice(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = graph_module.compute_consensus

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("consensus bug")

    monkeypatch.setattr(graph_module, "compute_consensus", broken)
    with pytest.raises(ExecutionRetryError) as raised:
        handler(sample_event("opx_incident"), None)
    crashed = raised.value.response
    assert raised.value.code == "EXECUTION_FAILED"
    assert json.loads(str(raised.value)) == crashed  # what the dead-letter record shows
    assert crashed["statusCode"] == 500
    assert crashed["body"]["error"] == "EXECUTION_FAILED"
    assert "consensus bug" in crashed["body"]["message"]
    assert crashed["body"]["execution_id"] == "exec-2e2b28d4830a5c667f92a48f58cf2c6d"
    assert len(bedrock.calls) == 6

    monkeypatch.setattr(graph_module, "compute_consensus", real)
    resumed = handler(sample_event("opx_incident"), None)

    assert resumed["statusCode"] == 200
    assert resumed["body"]["status"] == "SUCCEEDED"
    assert len(bedrock.calls) == 6  # every agent had finished: none is called again


def test_aws_sample_alarm_event_is_analysed(bedrock: FakeBedrock) -> None:
    result = handler(sample_event("aws_cloudwatch_alarm_state_change"), None)

    assert result["statusCode"] == 200
    assert result["body"]["incident_id"].startswith("INC-CW-")
    assert len(bedrock.calls) == 6


def test_every_outcome_emits_the_six_metrics(
    bedrock: FakeBedrock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler(sample_event("opx_incident"), None)
    handler({"not": "an event"}, None)
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "maybe")
    from opx.lambda_handler import cold_start

    cold_start()
    with pytest.raises(ExecutionRetryError):
        handler(sample_event("aws_cloudwatch_alarm_state_change"), None)

    docs = _emf(capsys.readouterr().out)
    assert [doc["Outcome"] for doc in docs] == ["succeeded", "invalid_input", "error"]
    names = {
        "Execution/Count",
        "Execution/DurationMs",
        "Cost/TotalUSD",
        "Agent/SuccessCount",
        "Agent/FailureCount",
        "Agent/FailureRate",
    }
    for doc in docs:
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Phase6"
        assert {m["Name"] for m in directive["Metrics"]} == names
        assert sorted(directive["Dimensions"][0]) == ["Outcome", "service"]
    # EMF carries each metric's values as a list (powertools batches per flush).
    assert docs[0]["Agent/SuccessCount"] == [6.0]
    assert docs[0]["Cost/TotalUSD"] == [0.036]
    assert docs[1]["Agent/SuccessCount"] == [0.0]
    assert docs[2]["Execution/Count"] == [1.0]


def test_malformed_environment_is_a_named_500(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPX_AGENT_MAX_ATTEMPTS", "lots")

    result = response_of(handler, sample_event("opx_incident"), None)

    assert result["statusCode"] == 500
    assert result["body"]["error"] == "CONFIGURATION_ERROR"
    assert "OPX_AGENT_MAX_ATTEMPTS" in result["body"]["message"]
    assert bedrock.calls == []


def test_invalid_agent_id_in_environment_is_a_named_500(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPX_AGENT_KNOWLEDGE_RAG_ID", "not/valid")

    result = response_of(handler, sample_event("opx_incident"), None)

    assert result["body"]["error"] == "CONFIGURATION_ERROR"
    assert "OPX_AGENT_KNOWLEDGE_RAG_ID" in result["body"]["message"]


def test_unreachable_checkpoint_table_is_a_named_500(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")

    result = response_of(handler, sample_event("opx_incident"), None)

    assert result["statusCode"] == 500
    assert result["body"]["error"] == "AWS_UNREACHABLE"
    assert bedrock.calls == []


def test_dynamodb_checkpointing_gives_the_same_answer_and_is_idempotent(
    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    from opx.checkpointing import create_table, find_executions
    from opx.lambda_handler import cold_start

    in_memory = handler(sample_event("opx_incident"), None)
    bedrock.calls.clear()
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "true")
    monkeypatch.setenv("CHECKPOINT_TABLE_NAME", "opx-checkpoints-e2e")
    with mock_aws():
        hook(bedrock)
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "opx-checkpoints-e2e")
        cold_start()
        first = handler(sample_event("opx_incident"), None)
        cold_start()  # a new execution environment: only the table remembers
        again = handler(sample_event("opx_incident"), None)
        executions = find_executions(client, "opx-checkpoints-e2e", "INC-2026-0001")

    assert first == in_memory
    assert again == first
    assert len(bedrock.calls) == 6
    assert executions == ["exec-2e2b28d4830a5c667f92a48f58cf2c6d"]
