"""The stable error codes an agent failure carries.

They live in one module because they are an interface: the README documents them,
consensus and the cost guardian branch on them, and replay snapshots contain them.
Renaming one is a breaking change.
"""

from __future__ import annotations

#: The agent streamed no text at all (also: it asked for return of control).
EMPTY_COMPLETION = "EMPTY_COMPLETION"
#: No JSON object could be found in the completion, or it was not valid UTF-8 / JSON.
MALFORMED_OUTPUT = "MALFORMED_OUTPUT"
#: A JSON object was found but does not satisfy :class:`opx.agents.AgentOutput`.
CONTRACT_VIOLATION = "CONTRACT_VIOLATION"
#: Every attempt ended in a retryable AWS error; the message names the last code.
RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
#: InvokeAgent failed with a non-retryable AWS error (AccessDenied, Validation, ...).
AGENT_INVOCATION_FAILED = "AGENT_INVOCATION_FAILED"
#: The endpoint could not be reached or timed out; not retried so that the Lambda
#: does not spend its own timeout waiting on a network that is down.
AGENT_UNREACHABLE = "AGENT_UNREACHABLE"
#: Anything else (a bug, an unserializable context): still data, never an exception.
AGENT_INTERNAL_ERROR = "AGENT_INTERNAL_ERROR"
#: The budget admitted no further call: before the first attempt the agent is
#: SKIPPED; before a retry it is a FAILURE (its earlier attempts were billed).
BUDGET_EXCEEDED = "BUDGET_EXCEEDED"

#: Codes :func:`opx.agents.parse_agent_output` can raise.
OUTPUT_ERROR_CODES: frozenset[str] = frozenset(
    {EMPTY_COMPLETION, MALFORMED_OUTPUT, CONTRACT_VIOLATION}
)
#: Every code an ``AgentResult["error"]`` produced by this package can carry.
ALL_ERROR_CODES: frozenset[str] = OUTPUT_ERROR_CODES | frozenset(
    {
        RETRIES_EXHAUSTED,
        AGENT_INVOCATION_FAILED,
        AGENT_UNREACHABLE,
        AGENT_INTERNAL_ERROR,
        BUDGET_EXCEEDED,
    }
)
