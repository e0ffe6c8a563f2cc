"""Self-tests of the determinism checks: a harness that cannot fail is worthless.

Each test plants one kind of nondeterminism in the executor (by monkeypatching the
graph module's globals, the way a careless change would) and asserts that the right
check fails and that its reason names the node that wrote the difference.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import opx.graph
from harness.checks.cost import check_cost, expected_costs, load_price_table, round_half_even_6, usd
from harness.checks.order import check_completion_order, fixed_orders
from harness.checks.ordering import CompletionOrder, OrderingStall
from harness.checks.process import check_cross_process
from harness.checks.repeat import check_repeat
from harness.replayer import Replayer, replay
from harness.scenario import load_scenario
from harness.wire import RecordedAnswers, Transport, TransportLayer, UnmatchedRequestError
from opx.cost import agent_cost, load_pricing
from opx.state import PARALLEL_AGENTS

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_PATH = ROOT / "scenarios" / "agents-conflict.json"
#: A clock the replay does not freeze: ``perf_counter`` (time-machine fakes the wall
#: clock, and the harness ``time.monotonic`` looked up at call time) -- how a clock
#: read escapes the freeze in real code (a timer, ``from time import monotonic``).
_REAL_CLOCK = (time.perf_counter,)

#: The same leak, as source, for the fresh interpreters of the cross-process check.
SET_ORDER_LEAK = """
import opx.graph as _graph
_original = _graph.compute_consensus
def _leaky(hypotheses, strategy):
    voters = {f"{agent}-{n}" for agent in hypotheses for n in range(6)}
    return {**_original(hypotheses, strategy), "voters": list(voters)}
_graph.compute_consensus = _leaky
"""


@pytest.fixture(scope="module")
def scenario() -> Any:
    return load_scenario(SCENARIO_PATH)


def _wrap_consensus(
    monkeypatch: pytest.MonkeyPatch, extra: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    original = opx.graph.compute_consensus

    def wrapped(hypotheses: dict[str, Any], strategy: Any) -> dict[str, Any]:
        return {**original(hypotheses, strategy), **extra(hypotheses)}

    monkeypatch.setattr(opx.graph, "compute_consensus", wrapped)


# --------------------------------------------------------------------------- injections


def test_repeat_catches_a_random_id(scenario: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _wrap_consensus(monkeypatch, lambda _: {"trace_id": uuid.uuid4().hex})
    result = check_repeat(scenario, 2)
    assert not result.passed
    assert result.details["writers"] == ["consensus"]
    assert result.details["sections"]["final_state"] == "$.final_state.consensus.trace_id"
    assert "written by consensus" in result.summary
    assert result.path == "$.responses[0].body.consensus.trace_id"


def test_repeat_catches_a_wall_clock_read(scenario: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _wrap_consensus(monkeypatch, lambda _: {"computed_at": _REAL_CLOCK[0]()})
    result = check_repeat(scenario, 2)
    assert not result.passed
    assert result.details["writers"] == ["consensus"]
    assert result.details["sections"]["final_state"] == "$.final_state.consensus.computed_at"


def test_cross_process_catches_set_order(scenario: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The leak rebinds ``opx.graph.compute_consensus`` itself: register the original
    # with monkeypatch first, so teardown restores it.
    monkeypatch.setattr(opx.graph, "compute_consensus", opx.graph.compute_consensus)
    exec(SET_ORDER_LEAK, {})  # our own constant, planted on purpose
    # One process, one hash seed: the leak is invisible to the repeat check ...
    assert check_repeat(scenario, 2).passed
    in_process = replay(scenario).to_canonical_json()
    # ... and caught across processes.
    result = check_cross_process(
        SCENARIO_PATH, in_process=in_process, prelude=SET_ORDER_LEAK, cwd=ROOT
    )
    assert not result.passed
    assert result.details["writers"] == ["consensus"]
    assert result.details["sections"]["final_state"].startswith("$.final_state.consensus.voters")
    assert "PYTHONHASHSEED=" in result.summary


def test_completion_order_catches_an_order_dependent_float_sum(
    scenario: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Float addition is not associative: 1e16 swallows a 1.0 added after it but not
    # one added before, so this sum depends on the order its terms arrive in.
    terms = dict(zip(PARALLEL_AGENTS, (1e16, 1.0, -1e16, 3.0, 0.5), strict=True))
    finished: list[str] = []
    lock = threading.Lock()
    original_run = opx.graph.run_agent

    def run_agent(agent: str, *args: Any, **kwargs: Any) -> Any:
        result = original_run(agent, *args, **kwargs)
        with lock:
            finished.append(agent)
        return result

    def order_sum(_: dict[str, Any]) -> dict[str, Any]:
        with lock:
            done = [a for a in finished if a in terms]
            finished.clear()
        total = 0.0
        for agent in done:
            total += terms[agent]
        return {"weighted_sum": total}

    monkeypatch.setattr(opx.graph, "run_agent", run_agent)
    _wrap_consensus(monkeypatch, order_sum)
    result = check_completion_order(scenario, fixed_orders())
    assert not result.passed
    assert result.details["writers"] == ["consensus"]
    assert result.details["sections"]["final_state"] == "$.final_state.consensus.weighted_sum"
    assert "finishing in the order" in result.summary


def test_clean_executor_passes_every_check(scenario: Any) -> None:
    runs = [replay(scenario) for _ in range(2)]
    snapshot = json.loads((ROOT / "snapshots" / "agents-conflict.json").read_text())
    results = [
        check_repeat(scenario, 2),
        check_completion_order(scenario, fixed_orders()[:1], baseline=runs[0]),
        check_cost(scenario, snapshot=snapshot, results=runs),
    ]
    assert [r.passed for r in results] == [True, True, True], [r.summary for r in results]


# --------------------------------------------------------------------------- cost check


def test_cost_check_names_a_tampered_snapshot(scenario: Any) -> None:
    run = replay(scenario)
    snapshot = copy.deepcopy(run.canonical())
    snapshot["responses"][0]["body"]["cost"]["per_agent"]["knowledge-rag"] = "0.004041"
    result = check_cost(scenario, snapshot=snapshot, results=[run])
    assert not result.passed
    assert result.path == "$.responses[0].body.cost.per_agent.knowledge-rag"
    assert "snapshot" in result.summary


def test_cost_check_recomputes_independently(scenario: Any) -> None:
    run = replay(scenario)
    run.responses[0]["body"]["cost"]["per_agent"]["risk-blast-radius"] = "0.002937"
    result = check_cost(scenario, snapshot=None, results=[run])
    assert not result.passed
    assert result.path == "$.responses[0].body.cost.per_agent.risk-blast-radius"
    assert "0.002936" in result.summary


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(0), "0.000000"),
        (Fraction(1, 2 * 10**6), "0.000000"),  # tie, 0 is even
        (Fraction(3, 2 * 10**6), "0.000002"),  # tie, 2 is even
        (Fraction(5000001, 10**13), "0.000001"),  # just above the tie
        (Fraction(123456789, 10**6), "123.456789"),
    ],
)
def test_rounding_is_half_even_to_millionths(value: Fraction, text: str) -> None:
    assert usd(value) == text
    assert round_half_even_6(value) == Fraction(Decimal(text))


def test_unlisted_model_is_priced_at_the_highest_rate() -> None:
    table = {"a": (Fraction(1), Fraction(2)), "b": (Fraction(3), Fraction(1))}
    call = {"agent": "x", "outcome": "answer", "input_tokens": 1000, "output_tokens": 1000}
    costs = expected_costs([{**call, "model_id": "zzz"}], ["x"], table)
    assert costs == {"per_agent": {"x": "5.000000"}, "total_usd": "5.000000"}


MODEL_IDS = [
    *sorted(load_price_table()),
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
    "unknown.model-v9",
]


@settings(max_examples=50, deadline=None)
@given(
    tokens_in=st.integers(0, 10**9),
    tokens_out=st.integers(0, 10**9),
    model_id=st.sampled_from(MODEL_IDS),
)
def test_fraction_recomputation_agrees_with_opx_cost(
    tokens_in: int, tokens_out: int, model_id: str
) -> None:
    """Two implementations sharing no code (Fraction here, Decimal in opx.cost)."""
    call = {
        "agent": "a",
        "outcome": "answer",
        "model_id": model_id,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
    }
    mine = expected_costs([call], ["a"])["total_usd"]
    usage = {"input_tokens": tokens_in, "output_tokens": tokens_out}
    assert mine == str(agent_cost(usage, model_id, load_pricing()))


# --------------------------------------------------------------------------- ordering


def test_ordered_transport_releases_in_the_given_order(scenario: Any) -> None:
    order = tuple(reversed(PARALLEL_AGENTS))
    seen: list[CompletionOrder] = []

    def layer(inner: TransportLayer) -> CompletionOrder:
        seen.append(CompletionOrder(inner, order))
        return seen[0]

    Replayer(layers=[layer]).run(scenario)
    assert seen[0].release_log == list(order)


def test_ordered_transport_fails_loudly_instead_of_deadlocking(
    scenario: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.checks.ordering.STALL_SECONDS", 0.2)
    transport = CompletionOrder(_transport(scenario), PARALLEL_AGENTS)
    started = time.monotonic()
    with pytest.raises(OrderingStall, match=f"waited .* for {PARALLEL_AGENTS[0]}"):
        transport._wait_turn(PARALLEL_AGENTS[1])
    assert time.monotonic() - started < 5


def test_an_agent_whose_retry_the_executor_refuses_is_done_after_its_last_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """agent-stream-shapes: knowledge-rag's retry does not fit its budget share, so its
    recorded final answer is never asked for. Waiting for it stalled every order that put
    knowledge-rag before another agent; counting the unforced replay's calls does not."""
    monkeypatch.setattr("harness.checks.ordering.STALL_SECONDS", 1.0)
    shapes = load_scenario(
        Path(__file__).resolve().parents[2] / "scenarios/agent-stream-shapes.json"
    )
    order = ("knowledge-rag", *(a for a in PARALLEL_AGENTS if a != "knowledge-rag"))
    assert check_completion_order(shapes, [order]).passed

    def uncounted(inner: TransportLayer) -> CompletionOrder:
        return CompletionOrder(inner, order)

    # The stalled agents fail inside the executor, so response-strategy is asked
    # something never recorded.
    with pytest.raises(UnmatchedRequestError, match="what response-strategy is shown"):
        Replayer(layers=[uncounted]).run(shapes)


def test_ordered_transport_rejects_a_non_permutation(scenario: Any) -> None:
    with pytest.raises(ValueError, match="permutation"):
        CompletionOrder(_transport(scenario), PARALLEL_AGENTS[:4])


def _transport(scenario: Any) -> Transport:
    return Transport(RecordedAnswers(scenario), lambda _: None)
