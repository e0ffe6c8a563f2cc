"""The incident-analysis graph.

::

    START -> change-intelligence ┐
          -> historical-pattern  │
          -> knowledge-rag       ├-> response-strategy -> consensus -> cost-guardian -> END
          -> risk-blast-radius   │
          -> signal-intelligence ┘

The five first-wave agents run in one super-step; their results merge through
:func:`opx.state.merge_results`, keyed by agent, so the state after the join is the same
whatever order the branches finish in. Every node returns data -- an agent failure is a
FAILURE result -- so one bad agent never fails the graph.

Budget: before *every* InvokeAgent attempt (first calls and retries) the call is
admitted only if its worst-case estimate (:func:`opx.cost.call_estimate`) fits what is
left: a first-wave agent may spend up to a fifth of the budget
(:func:`opx.cost.agent_allowance`; its admission depends on its own spend only, so
parallel branches decide the same way in every replay), response-strategy whatever
the first wave left -- and nothing if the budget admitted no first-wave agent at all.
A refused agent is SKIPPED (or, before a retry, a FAILURE) with
``BUDGET_EXCEEDED`` and spends nothing more. So spend never exceeds the budget as long
as every call stays within its estimate. The cost guardian then prices every call and
decides the final status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from opx.agents import run_agent, session_id_for
from opx.agents.invoke import Admission
from opx.config import Settings
from opx.consensus import compute_consensus
from opx.context import incident_context, strategy_context
from opx.cost import (
    COST_PLACES,
    Pricing,
    admit_call,
    agent_allowance,
    agent_cost,
    call_estimate,
    cost_report,
    evaluate_budget,
)
from opx.state import PARALLEL_AGENTS, STRATEGY_AGENT, AgentResult, ExecutionState

CONSENSUS_NODE = "consensus"
COST_GUARDIAN_NODE = "cost-guardian"


@dataclass(frozen=True)
class GraphDeps:
    """What the nodes need from the outside world, built once per cold start."""

    bedrock: Any
    settings: Settings
    pricing: Pricing


def build_graph(deps: GraphDeps, checkpointer: BaseCheckpointSaver) -> CompiledStateGraph:
    builder = StateGraph(ExecutionState)
    for agent in PARALLEL_AGENTS:
        builder.add_node(agent, _first_wave_node(agent, deps))
        builder.add_edge(START, agent)
    builder.add_node(STRATEGY_AGENT, _strategy_node(deps))
    builder.add_edge(list(PARALLEL_AGENTS), STRATEGY_AGENT)
    builder.add_node(CONSENSUS_NODE, _consensus_node)
    builder.add_edge(STRATEGY_AGENT, CONSENSUS_NODE)
    builder.add_node(COST_GUARDIAN_NODE, _cost_guardian_node(deps))
    builder.add_edge(CONSENSUS_NODE, COST_GUARDIAN_NODE)
    builder.add_edge(COST_GUARDIAN_NODE, END)
    return builder.compile(checkpointer=checkpointer)


def _invoke(
    deps: GraphDeps, agent: str, state: ExecutionState, context: dict, admit: Admission
) -> AgentResult:
    return run_agent(
        agent,
        context,
        client=deps.bedrock,
        settings=deps.settings.agents[agent],
        session_id=session_id_for(state["execution_id"], agent),
        policy=deps.settings.retry_policy,
        admit=admit,
    )


def _admission(deps: GraphDeps, allowance: Decimal, budget: Decimal) -> Admission:
    """Admit an attempt only if this run's spend plus the call's worst case fits
    ``allowance`` (out of the execution's ``budget``, for the message)."""

    def admit(input_text: str, usage: Any, model_id: str | None) -> str | None:
        spent = agent_cost(usage, model_id, deps.pricing)
        estimate = call_estimate(input_text, deps.pricing, deps.settings.call_limits)
        if admit_call(spent, estimate, allowance):
            return None
        return (
            f"not called: worst-case estimate {estimate} USD for this call does not fit "
            f"the {allowance} USD this agent may spend of the "
            f"{budget.quantize(COST_PLACES)} USD budget "
            f"(already spent {spent} USD)"
        )

    return admit


def _first_wave_node(agent: str, deps: GraphDeps) -> Callable[[ExecutionState], dict]:
    def node(state: ExecutionState) -> dict:
        budget = Decimal(state["budget_usd"])
        allowance = agent_allowance(budget, len(PARALLEL_AGENTS))
        admit = _admission(deps, allowance, budget)
        result = _invoke(deps, agent, state, incident_context(state["incident"]), admit)
        return {"hypotheses": {agent: result}}

    node.__name__ = agent.replace("-", "_")
    return node


def _strategy_node(deps: GraphDeps) -> Callable[[ExecutionState], dict]:
    def response_strategy(state: ExecutionState) -> dict:
        spent = Decimal(cost_report(state["hypotheses"], deps.pricing)["total_usd"])
        budget = evaluate_budget(spent, Decimal(state["budget_usd"]))
        if budget["state"] == "EXCEEDED":
            return {"strategy": _skipped(STRATEGY_AGENT, budget)}
        if _all_refused(state["hypotheses"]):
            return {"strategy": _skipped(STRATEGY_AGENT, budget, NOTHING_TO_SYNTHESIZE)}
        admit = _admission(deps, Decimal(budget["remaining_usd"]), Decimal(budget["budget_usd"]))
        context = strategy_context(state["incident"], state["hypotheses"])
        return {"strategy": _invoke(deps, STRATEGY_AGENT, state, context, admit)}

    return response_strategy


#: Why response-strategy is not called when the budget admitted no first-wave agent:
#: it would synthesize nothing, and the budget could not afford what it synthesizes.
NOTHING_TO_SYNTHESIZE = (
    "the budget admitted no first-wave agent, so there is nothing to synthesize; no Bedrock spend"
)


def _all_refused(hypotheses: dict[str, AgentResult]) -> bool:
    return all(
        result["status"] == "SKIPPED" and (result["error"] or {}).get("code") == "BUDGET_EXCEEDED"
        for result in hypotheses.values()
    )


def _skipped(agent: str, budget: dict[str, Any], reason: str | None = None) -> AgentResult:
    return AgentResult(
        agent=agent,
        status="SKIPPED",
        output=None,
        error={
            "code": "BUDGET_EXCEEDED",
            "message": reason
            or (
                f"spent {budget['spent_usd']} USD of a {budget['budget_usd']} USD budget "
                "before this agent; no further Bedrock spend"
            ),
        },
        usage={"input_tokens": 0, "output_tokens": 0},
        model_id=None,
        attempts=0,
        responses=[],
    )


def _consensus_node(state: ExecutionState) -> dict:
    return {"consensus": compute_consensus(state["hypotheses"], state.get("strategy"))}


def _cost_guardian_node(deps: GraphDeps) -> Callable[[ExecutionState], dict]:
    def cost_guardian(state: ExecutionState) -> dict:
        results = all_results(state)
        report = cost_report(results, deps.pricing)
        budget = evaluate_budget(Decimal(report["total_usd"]), Decimal(state["budget_usd"]))
        return {"cost": {**report, "budget": budget}, "status": _status(results, budget)}

    return cost_guardian


def all_results(state: ExecutionState) -> dict[str, AgentResult]:
    """The five hypotheses plus the strategy result (when the node has run)."""
    results = dict(state.get("hypotheses", {}))
    strategy = state.get("strategy")
    if strategy is not None:
        results[STRATEGY_AGENT] = strategy
    return {agent: results[agent] for agent in sorted(results)}


def _status(results: dict[str, AgentResult], budget: dict[str, Any]) -> str:
    """FAILED: no first-wave agent succeeded. DEGRADED: anything less than a full,
    in-budget run. SUCCEEDED otherwise."""
    if not any(results[a]["status"] == "SUCCESS" for a in PARALLEL_AGENTS if a in results):
        return "FAILED"
    everyone_ok = all(result["status"] == "SUCCESS" for result in results.values())
    if everyone_ok and budget["state"] != "EXCEEDED":
        return "SUCCEEDED"
    return "DEGRADED"
