"""``where: "network"`` faults: a request that gets no answer at all.

The fault raises botocore's own exception class from the transport's ``before-send``
hook -- the path a dropped connection or a read timeout takes in production -- so the
executor's handling of an unreachable agent (``AGENT_UNREACHABLE``, never retried) is
something a scenario can pin. The self-test at the end shows the gate was blind to that
handling before: with network errors treated like any other exception, every scenario
but the one with a network fault still passes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.authoring import AgentScript, ExecutorSpec, agent_output, author, unanimous
from harness.checks.ordering import CompletionOrder
from harness.replayer import Replayer, replay
from harness.scenario import NETWORK_ERRORS, Fault, load_scenario
from harness.wire import TransportLayer
from opx.state import PARALLEL_AGENTS
from tests.harness.gate_support import bundled_project, gate
from tests.support import sample_event

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 4, 17, 9, 0, tzinfo=UTC)
UNREACHABLE = "agent-unreachable"


def _unreachable_signal(error: str) -> ExecutorSpec:
    answer = agent_output("5xx after deploy", [("rollback", "Roll back", 0.9)])
    return ExecutorSpec(
        name="signal-unreachable",
        description="signal-intelligence cannot be reached; the answer after it is never served",
        events=[sample_event("opx_incident")],
        agents=unanimous(
            **{
                "signal-intelligence": AgentScript(
                    output=answer, faults=(Fault(error=error, where="network"),)
                )
            }
        ),
        clock_start=START,
    )


@pytest.mark.parametrize("error", NETWORK_ERRORS)
def test_a_network_fault_raises_botocores_error_and_is_not_retried(error: str) -> None:
    result = replay(author("executor", _unreachable_signal(error)))
    signal = [c for c in result.bedrock_calls if c["agent"] == "signal-intelligence"]
    # One exchange: the scripted answer after the fault is never asked for.
    assert [c["outcome"] for c in signal] == [f"error:{error}"]
    assert result.clock["slept_s"] == []
    state = result.final_state
    assert state is not None
    failed = state["hypotheses"]["signal-intelligence"]
    assert failed["error"]["code"] == "AGENT_UNREACHABLE"
    assert failed["error"]["message"].startswith(f"{error}: ")
    [response] = failed["responses"]
    assert response["error"]["where"] == "network" and response["error"]["code"] == error
    # botocore names the URL the request went to: the real InvokeAgent path.
    assert (
        "https://bedrock-agent-runtime.us-east-1.amazonaws.com/agents/"
        in (response["error"]["message"])
    )


def test_an_agent_whose_request_raises_releases_the_next_in_a_forced_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The order check forces completion orders; an agent whose only exchange raised has
    finished, so the agents after it go on instead of stalling."""
    monkeypatch.setattr("harness.checks.ordering.STALL_SECONDS", 2.0)
    first = ("knowledge-rag", "signal-intelligence")
    order = first + tuple(a for a in PARALLEL_AGENTS if a not in first)
    seen: list[CompletionOrder] = []

    def layer(inner: TransportLayer) -> CompletionOrder:
        seen.append(CompletionOrder(inner, order))
        return seen[0]

    scenario = load_scenario(ROOT / "scenarios" / f"{UNREACHABLE}.json")
    result = Replayer(layers=[layer]).run(scenario)
    assert seen[0].release_log == list(order)
    assert result.responses[0]["body"]["status"] == "DEGRADED"


def test_a_network_fault_must_name_a_botocore_network_error() -> None:
    with pytest.raises(ValidationError, match="a network fault raises one of"):
        Fault(error="ThrottlingException", where="network")
    assert Fault(error="ThrottlingException", where="http").where == "http"


def test_the_gate_sees_network_error_handling_only_through_a_network_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: break the executor's network handling (network errors become
    AGENT_INTERNAL_ERROR) -- the scenario with network faults fails the gate, naming
    the code, while a scenario without one cannot notice."""
    from opx.agents import invoke

    names = (UNREACHABLE, "rds-failover")
    project = bundled_project(tmp_path, names)
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0
    monkeypatch.setattr(invoke, "_UNREACHABLE_ERRORS", ())
    run = gate(capsys, project.args("--checks", "snapshot", "--json", str(tmp_path / "r.json")))
    assert run.code == 1, run.out
    assert "AGENT_INTERNAL_ERROR" in run.out
    verdicts = {s["name"]: s for s in json.loads((tmp_path / "r.json").read_text())["scenarios"]}
    assert "drift" in json.dumps(verdicts[UNREACHABLE])
    assert "drift" not in json.dumps(verdicts["rds-failover"])
