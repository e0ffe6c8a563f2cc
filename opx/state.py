"""Shapes shared by the graph, the agents, consensus and cost.

Everything stored in graph state is plain JSON (str, int, float, bool, list, dict):
checkpoints must deserialize without any allow-listed Python type, canonicalize
byte-for-byte, and be rebuildable into a scenario from the checkpoint table alone.
Money therefore travels as decimal *strings*; arithmetic happens in :mod:`opx.cost`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

#: The five first-wave agents, in the sorted order every loop over them uses.
PARALLEL_AGENTS: tuple[str, ...] = (
    "change-intelligence",
    "historical-pattern",
    "knowledge-rag",
    "risk-blast-radius",
    "signal-intelligence",
)
#: The second-wave agent that reads the five hypotheses.
STRATEGY_AGENT = "response-strategy"
ALL_AGENTS: tuple[str, ...] = (*PARALLEL_AGENTS, STRATEGY_AGENT)

AgentStatus = Literal["SUCCESS", "FAILURE", "SKIPPED"]


class Usage(TypedDict):
    input_tokens: int
    output_tokens: int


class AgentError(TypedDict):
    #: A stable, documented code (see README "Agent error codes").
    code: str
    message: str


class AgentResult(TypedDict):
    """One agent's outcome; a failure is data, never an exception."""

    agent: str
    status: AgentStatus
    #: ``AgentOutput.model_dump(mode="json")`` when the output met the contract.
    output: dict[str, Any] | None
    error: AgentError | None
    #: Tokens summed over every attempt that reached the model.
    usage: Usage
    #: Foundation model reported by the trace (``None`` when no trace said).
    model_id: str | None
    #: InvokeAgent calls made, retries included.
    attempts: int
    #: The completion text exactly as the agent returned it (last attempt); kept so a
    #: scenario can be rebuilt from the checkpoint table.
    raw_completion: str


def merge_results(
    left: dict[str, AgentResult] | None, right: dict[str, AgentResult] | None
) -> dict[str, AgentResult]:
    """Reducer for parallel agent writes.

    Keyed by agent and re-sorted, so the merged value is identical whatever order
    the branches finished in.
    """
    merged = {**(left or {}), **(right or {})}
    return {key: merged[key] for key in sorted(merged)}


class ExecutionState(TypedDict, total=False):
    execution_id: str
    #: The normalized incident (see :class:`opx.events.Incident`), JSON form.
    incident: dict[str, Any]
    #: Per-execution budget in USD, decimal string.
    budget_usd: str
    hypotheses: Annotated[dict[str, AgentResult], merge_results]
    strategy: AgentResult | None
    consensus: dict[str, Any]
    cost: dict[str, Any]
    status: str
