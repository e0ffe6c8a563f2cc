"""Bedrock Agents invocation: contract, prompts, retries and the never-raising runner.

The graph uses exactly this surface; everything else in the package is detail.
"""

from __future__ import annotations

from opx.agents.client import bedrock_client_config
from opx.agents.codes import (
    AGENT_INTERNAL_ERROR,
    AGENT_INVOCATION_FAILED,
    AGENT_UNREACHABLE,
    ALL_ERROR_CODES,
    CONTRACT_VIOLATION,
    EMPTY_COMPLETION,
    MALFORMED_OUTPUT,
    RETRIES_EXHAUSTED,
)
from opx.agents.contract import (
    AgentOutput,
    AgentOutputError,
    Findings,
    Recommendation,
    parse_agent_output,
)
from opx.agents.invoke import run_agent
from opx.agents.prompts import PROMPT_VERSIONS, load_prompt, render_input
from opx.agents.retry import RETRYABLE_ERROR_CODES, RetryPolicy, is_retryable, normalize_error_code
from opx.agents.settings import (
    DEFAULT_AGENT_IDS,
    DEFAULT_ALIAS_ID,
    AgentSettings,
    agent_settings_from_env,
    session_id_for,
)

__all__ = [
    "AGENT_INTERNAL_ERROR",
    "AGENT_INVOCATION_FAILED",
    "AGENT_UNREACHABLE",
    "ALL_ERROR_CODES",
    "CONTRACT_VIOLATION",
    "DEFAULT_AGENT_IDS",
    "DEFAULT_ALIAS_ID",
    "EMPTY_COMPLETION",
    "MALFORMED_OUTPUT",
    "PROMPT_VERSIONS",
    "RETRIES_EXHAUSTED",
    "RETRYABLE_ERROR_CODES",
    "AgentOutput",
    "AgentOutputError",
    "AgentSettings",
    "Findings",
    "Recommendation",
    "RetryPolicy",
    "agent_settings_from_env",
    "bedrock_client_config",
    "is_retryable",
    "load_prompt",
    "normalize_error_code",
    "parse_agent_output",
    "render_input",
    "run_agent",
    "session_id_for",
]
