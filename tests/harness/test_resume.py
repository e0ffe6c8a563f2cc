"""Resume matrix: crash the executor at every checkpoint, redeliver, get the same answer.

The corpus tests prove each scenario resumes exactly; the self-tests prove the check
can fail -- a checkpointer that loses pending writes, and a handler that restarts
instead of resuming, are each caught and named.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks import not_applicable
from harness.checks.crash import CRASH_KINDS, SimulatedCrash
from harness.checks.resume import ResumeMatrix, resume_matrix
from harness.scenario import Scenario, discover, load_scenario
from opx.state import PARALLEL_AGENTS, STRATEGY_AGENT
from tests.harness.conftest import AGREED

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
CORPUS = discover(SCENARIOS)


def _failures(matrix: ResumeMatrix) -> str:
    return "\n".join(case.report() for case in matrix.failures)


@pytest.mark.slow
@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_resume_matrix(path: Path) -> None:
    scenario = load_scenario(path)
    if (skipped := not_applicable("resume", scenario)) is not None:
        pytest.skip(skipped.summary)
    dynamodb = resume_matrix(scenario, "dynamodb", kinds=CRASH_KINDS)
    memory = resume_matrix(scenario, "memory", kinds=CRASH_KINDS)
    if dynamodb.skipped and memory.skipped:
        pytest.skip(f"{scenario.name}: {dynamodb.skipped}")
    assert dynamodb.cases, f"{scenario.name}: no crash point on DynamoDB"
    assert not dynamodb.failures, _failures(dynamodb)
    assert not memory.failures, _failures(memory)


@pytest.mark.slow
def test_resume_after_lost_commit() -> None:
    """Dying between the last task's write and the commit of the next checkpoint.

    Regression: LangGraph's ``get_state`` then reports ``next == ()`` with tasks still
    pending, and the handler used to return the half-done state as completed.
    """
    scenario = load_scenario(SCENARIOS / "rds-failover.json")
    matrix = resume_matrix(scenario, "dynamodb", kinds=frozenset({"writes"}))
    assert matrix.cases
    assert not matrix.failures, _failures(matrix)


def test_crash_is_not_an_exception() -> None:
    """The executor's ``except Exception`` blocks must not be able to swallow a death."""
    assert issubclass(SimulatedCrash, BaseException)
    assert not issubclass(SimulatedCrash, Exception)


def test_agreed_scenario_resumes_exactly(authored: dict[str, Scenario]) -> None:
    matrix = resume_matrix(authored[AGREED], "dynamodb", agents=("knowledge-rag",))
    kinds = {case.point.kind for case in matrix.cases}
    assert kinds == {"after", "writes", "branch"}
    # Every planned crash happened (the last checkpoint has nothing after it to die at).
    assert [c for c in matrix.cases if c.crash_expected and c.crashed is None] == []
    assert all(c.ok for c in matrix.cases), "\n".join(c.report() for c in matrix.cases)


def test_lost_pending_writes_are_caught(
    authored: dict[str, Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpointer whose ``put_writes`` does nothing: the four agents that answered
    before the crash are paid again on resume, and the report names them."""
    from opx.checkpointing import DynamoDBCheckpointer

    monkeypatch.setattr(DynamoDBCheckpointer, "put_writes", lambda *a, **k: None)
    crashing = "change-intelligence"
    matrix = resume_matrix(
        authored[AGREED], "dynamodb", kinds=frozenset({"branch"}), agents=(crashing,)
    )
    [case] = matrix.cases
    report = case.report()
    assert not case.ok
    assert f"scenario {AGREED} [dynamodb] crash in the first wave at {crashing}" in report
    # Said as soon as the executor went quiet, not after DURABLE_TIMEOUT_S.
    assert "promised state never stored (the executor went quiet for 0.25s" in report
    assert "agents paid twice" in report
    for agent in PARALLEL_AGENTS:
        if agent != crashing:
            assert f"agent {agent}" in report, report
    assert "Bedrock calls across crash + resume" in report


def test_restart_instead_of_resume_is_caught(
    authored: dict[str, Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that ignores the stored checkpoint and starts over: the first wave is
    called again after a crash before the strategy agent."""
    from opx import lambda_handler

    def restart(container, event, incident, exec_id):  # type: ignore[no-untyped-def]
        config = {"configurable": {"thread_id": exec_id, "incident_id": incident.incident_id}}
        initial = {
            "execution_id": exec_id,
            "event": event,
            "incident": incident.model_dump(mode="json"),
            "budget_usd": str(incident.budget_usd or container.settings.default_budget_usd),
        }
        return container.graph.invoke(initial, config)

    monkeypatch.setattr(lambda_handler, "_run", restart)
    matrix = resume_matrix(authored[AGREED], "memory", agents=())
    strategy_crash = [c for c in matrix.cases if c.crashed == f"{STRATEGY_AGENT}'s Bedrock request"]
    assert strategy_crash, matrix.report()
    report = strategy_crash[0].report()
    assert "[memory]" in report
    assert "restarted instead of resuming" in report or "agents paid twice" in report, report
    assert "change-intelligence" in report
