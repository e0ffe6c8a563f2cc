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


class ResponseError(TypedDict):
    """Why one InvokeAgent call ended without a complete stream."""

    #: ``http``: an error status before any stream; ``stream``: a modeled exception
    #: inside a 200 stream; ``network``: no answer (connection, timeout);
    #: ``internal``: anything else (a malformed frame, a bug).
    where: Literal["http", "stream", "network", "internal"]
    #: The AWS error code (``ThrottlingException``), or the Python exception name.
    code: str
    message: str
    #: HTTP status for ``http`` errors, else ``None``.
    status: int | None


class AgentResponse(TypedDict):
    """What one InvokeAgent call returned.

    Checkpointed so the call can be answered again without Bedrock:
    ``opx-harness import`` rebuilds a replayable scenario from these alone.
    """

    #: Completion text received, as far as it got (UTF-8, invalid bytes replaced).
    completion: str
    #: Tokens the call's traces reported (billed even when the call failed).
    usage: Usage
    model_id: str | None
    error: ResponseError | None


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
    #: Every InvokeAgent call, in order: the completion of the last is the text
    #: that was judged.
    responses: list[AgentResponse]


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
    #: The EventBridge event exactly as delivered (strict JSON), so the execution can
    #: be rebuilt into a scenario from the checkpoint table.
    event: dict[str, Any]
    #: The normalized incident (see :class:`opx.events.Incident`), JSON form.
    incident: dict[str, Any]
    #: Per-execution budget in USD, decimal string.
    budget_usd: str
    hypotheses: Annotated[dict[str, AgentResult], merge_results]
    strategy: AgentResult | None
    consensus: dict[str, Any]
    cost: dict[str, Any]
    status: str
