"""The replay core: repeatability, matching, unmatched-request reports, clock, network."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime

import boto3
import pytest

from harness.authoring import AgentScript, ExecutorSpec, agent_output, author, unanimous
from harness.replayer import (
    CHECKPOINT_TABLE,
    NetworkBlockedError,
    Replayer,
    no_network,
    replay,
)
from harness.scenario import ErrorAnswer, Fault, Scenario, ScenarioError, load_scenario
from harness.wire import UnmatchedRequestError
from tests.support import sample_event

START = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return author(
        "executor",
        ExecutorSpec(
            name="core-demo",
            description="five agents agree on a rollback",
            events=[sample_event("opx_incident")],
            agents=unanimous(),
            clock_start=START,
        ),
    )


def test_replay_is_byte_identical_run_after_run(scenario: Scenario) -> None:
    first = replay(scenario).to_canonical_json()
    assert all(replay(scenario).to_canonical_json() == first for _ in range(2))


def test_replay_reports_what_the_executor_did(scenario: Scenario) -> None:
    result = replay(scenario)
    body = result.responses[0]["body"]
    assert result.responses[0]["statusCode"] == 200
    assert body["status"] == "SUCCEEDED"
    assert len(result.bedrock_calls) == 6
    # Tokens are the scripted 1200/300 on Claude 3.5 Sonnet v2 ($0.003 / $0.015 per 1K):
    # 3.6 + 4.5 = 8.1 thousandths per agent.
    assert {call["cost_usd"] for call in result.bedrock_calls} == {"0.008100"}
    assert body["cost"]["total_usd"] == "0.048600"
    assert [c["writers"] for c in result.checkpoints] == [
        [],
        [],
        [
            "change-intelligence",
            "historical-pattern",
            "knowledge-rag",
            "risk-blast-radius",
            "signal-intelligence",
        ],
        ["response-strategy"],
        ["consensus"],
        ["cost-guardian"],
    ]
    assert result.final_state["status"] == "SUCCEEDED"
    # The clock moved by the recorded latencies only: 6 agents, 1000..1500 ms.
    assert result.clock["end"] == "2026-11-29T04:00:07.500000+00:00"
    (emf,) = result.metrics
    assert emf["Execution/DurationMs"] == [7500.0]


def test_scenario_file_round_trips(scenario: Scenario, tmp_path) -> None:
    path = tmp_path / "core-demo.json"
    path.write_text(scenario.to_json())
    assert load_scenario(path) == scenario
    assert replay(load_scenario(path)).to_canonical_json() == replay(scenario).to_canonical_json()


def test_an_edited_recorded_answer_changes_the_result(scenario: Scenario) -> None:
    # The last agent's answer: editing a first-wave answer would change what
    # response-strategy is asked, which is an unmatched request instead (tested below).
    data = json.loads(scenario.to_json())
    (strategy,) = [
        i for i in data["interactions"] if i["request"]["inputText"]["agent"] == "response-strategy"
    ]
    events = strategy["response"]["events"]
    chunks = [e for e in events if "chunk" in e]
    before = [c["chunk"] for c in chunks]
    for chunk in chunks:
        chunk["chunk"] = chunk["chunk"].replace("0.9", "0.4")
    assert [c["chunk"] for c in chunks] != before
    edited = Scenario.model_validate(data)
    assert replay(edited).to_canonical_json() != replay(scenario).to_canonical_json()


def test_a_changed_prompt_fails_with_a_diff_of_the_request(scenario: Scenario) -> None:
    data = json.loads(scenario.to_json())
    request = data["interactions"][0]["request"]
    request["inputText"]["instructions"] = request["inputText"]["instructions"].replace(
        "incident", "outage", 1
    )
    with pytest.raises(UnmatchedRequestError) as caught:
        replay(Scenario.model_validate(data))
    error = caught.value
    assert error.scenario == "core-demo"
    assert (error.service, error.operation) == ("bedrock-agent-runtime", "InvokeAgent")
    assert error.closest == request  # the edited recording is the closest one
    assert any(line.startswith("-") and "outage" in line for line in error.diff.splitlines())
    assert any(line.startswith("+") and "incident" in line for line in error.diff.splitlines())
    assert "unmatched bedrock-agent-runtime.InvokeAgent" in error.report().splitlines()[0]


def test_a_request_answered_more_often_than_recorded_is_reported() -> None:
    throttled = author(
        "executor",
        ExecutorSpec(
            name="always-throttled",
            description="knowledge-rag answers 429 once; the executor retries",
            events=[sample_event("opx_incident")],
            agents=unanimous(
                **{
                    "knowledge-rag": AgentScript(
                        error=ErrorAnswer(
                            status=429, code="ThrottlingException", message="slow down"
                        )
                    )
                }
            ),
            clock_start=START,
            env={"OPX_AGENT_MAX_ATTEMPTS": "1"},
        ),
    )
    retried = throttled.model_copy(update={"env": {"OPX_AGENT_MAX_ATTEMPTS": "2"}})
    with pytest.raises(UnmatchedRequestError, match="used up"):
        replay(retried)


def test_faults_are_served_before_the_answer_and_backoff_moves_the_clock() -> None:
    scenario = author(
        "executor",
        ExecutorSpec(
            name="throttled-twice",
            description="signal-intelligence is throttled in-stream twice",
            events=[sample_event("opx_incident")],
            agents=unanimous(
                **{
                    "signal-intelligence": AgentScript(
                        output=agent_output("5xx after deploy", [("rollback", "Roll back", 0.9)]),
                        faults=(
                            Fault(error="throttlingException", where="stream"),
                            Fault(error="throttlingException", where="stream"),
                        ),
                    )
                }
            ),
            clock_start=START,
        ),
    )
    result = replay(scenario)
    signal = [c for c in result.bedrock_calls if c["agent"] == "signal-intelligence"]
    assert [c["outcome"] for c in signal] == [
        "fault:throttlingException",
        "fault:throttlingException",
        "answer",
    ]
    assert result.clock["slept_s"] == [0.5, 1.0]
    assert result.responses[0]["body"]["agents"]["signal-intelligence"] == "SUCCESS"


def test_every_parallel_branch_sees_the_frozen_clock(scenario: Scenario) -> None:
    # With no recorded latency the clock never moves, so every item -- including the
    # pending writes each parallel branch stores from its own thread -- must carry
    # exactly start + 30 days as its TTL.
    still = scenario.model_copy(
        update={
            "interactions": [i.model_copy(update={"latency_ms": 0}) for i in scenario.interactions]
        }
    )
    from opx.lambda_handler import handler

    with Replayer().environment(still) as env:
        handler(still.events[0], None)
        items = boto3.client("dynamodb").scan(TableName=CHECKPOINT_TABLE)["Items"]
    assert not env.transport.unmatched
    writes = [i for i in items if "#w#" in i["checkpoint_id"]["S"]]
    assert len(writes) >= 5  # at least one per parallel branch, each from its own thread
    expected = int(START.timestamp()) + 30 * 86_400
    assert {int(i["ttl"]["N"]) for i in items} == {expected}


def test_calls_to_unrecorded_services_are_refused_and_reported(scenario: Scenario) -> None:
    with Replayer().environment(scenario) as env:
        client = boto3.client("bedrock-runtime")
        with pytest.raises(client.exceptions.ClientError, match="HarnessUnmatchedRequest"):
            client.invoke_model(modelId="anthropic.claude-v2", body=b"{}")
    (error,) = env.transport.unmatched
    assert error.operation == "InvokeModel"
    assert "no interaction of this operation is recorded" in str(error)


def test_no_socket_can_connect_during_a_replay() -> None:
    with no_network(), pytest.raises(NetworkBlockedError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "invalid JSON"),
        ('{"name": "x"}', "$.description: Field required"),
        (
            '{"name": "Bad Name", "description": "", "clock": {"start": "2026-01-01T00:00:00Z"},'
            ' "events": [{}]}',
            "$.name: String should match pattern",
        ),
    ],
)
def test_invalid_scenarios_give_a_one_line_reason(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_scenario_file_is_a_scenario_error(tmp_path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.json")


def test_models_and_date_subclasses_defined_under_the_clock_work() -> None:
    """Code first imported while a replay runs may define pydantic models with
    datetime fields, or subclass ``date`` (pydantic.v1, pulled in by LangGraph, does).
    freezegun swapped ``datetime.datetime``/``date`` for fake classes, and both broke
    (found when a fresh interpreter replayed an action-group scenario first); the
    replay's clock keeps the real classes and fakes only what they return."""
    from datetime import date

    import pydantic

    from harness.replayer import FrozenClock

    frozen = datetime(2026, 11, 29, tzinfo=UTC)
    with FrozenClock(frozen).running() as clock:
        stamped = pydantic.create_model("Stamped", at=(datetime, ...))
        day = type("Day", (date,), {})
        assert datetime is __import__("datetime").datetime
        assert clock.now() == frozen
        assert stamped(at=datetime.now(UTC)).at == frozen
        assert day(2026, 1, 2).year == 2026
        clock.advance(1.5)
        assert time.time() == frozen.timestamp() + 1.5
        assert time.monotonic() == time.time()  # looked up at call time: frozen too
    assert datetime.now(UTC) > frozen  # released
