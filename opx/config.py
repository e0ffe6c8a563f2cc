"""Executor settings, read once per cold start from the Lambda environment.

Every variable is documented in README.md ("Environment"). A malformed value is a
:class:`ConfigurationError` (a 500 with code ``CONFIGURATION_ERROR``), never a silent
fallback; an *absent* value takes its documented default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from opx.agents import AgentSettings, RetryPolicy, agent_settings_from_env
from opx.agents.settings import env_prefix
from opx.checkpointing.schema import TABLE_SCHEMA
from opx.cost import (
    DEFAULT_BUDGET_USD,
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_OVERHEAD_INPUT_TOKENS,
    MAX_AMOUNT_USD,
    CallLimits,
    check_amount,
)
from opx.state import ALL_AGENTS

#: The table a deployment without ``CHECKPOINT_TABLE_NAME`` uses (the schema names it).
DEFAULT_TABLE_NAME = TABLE_SCHEMA.table_name("dev")
DEFAULT_REGION = "us-east-1"
DEFAULT_CALL_LIMITS = CallLimits()


class ConfigurationError(Exception):
    """An environment variable holds a value the executor cannot use."""


@dataclass(frozen=True)
class Settings:
    region: str
    use_dynamodb_checkpointing: bool
    checkpoint_table_name: str
    checkpoint_ttl_days: int
    default_budget_usd: Decimal
    retry_policy: RetryPolicy
    agents: Mapping[str, AgentSettings]
    #: The worst case of one InvokeAgent call, for the budget's admission check.
    call_limits: CallLimits = DEFAULT_CALL_LIMITS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        return cls(
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            use_dynamodb_checkpointing=_flag(environ, "USE_DYNAMODB_CHECKPOINTING", default=False),
            checkpoint_table_name=environ.get("CHECKPOINT_TABLE_NAME") or DEFAULT_TABLE_NAME,
            checkpoint_ttl_days=_int(environ, "CHECKPOINT_TTL_DAYS", default=30, low=1, high=365),
            default_budget_usd=_money(environ, "OPX_DEFAULT_BUDGET_USD", DEFAULT_BUDGET_USD),
            retry_policy=RetryPolicy(
                max_attempts=_int(environ, "OPX_AGENT_MAX_ATTEMPTS", default=4, low=1, high=10)
            ),
            agents={agent: _agent(agent, environ) for agent in ALL_AGENTS},
            call_limits=CallLimits(
                overhead_input_tokens=_int(
                    environ,
                    "OPX_AGENT_PROMPT_OVERHEAD_TOKENS",
                    default=DEFAULT_OVERHEAD_INPUT_TOKENS,
                    low=0,
                    high=1_000_000,
                ),
                max_output_tokens=_int(
                    environ,
                    "OPX_AGENT_MAX_OUTPUT_TOKENS",
                    default=DEFAULT_MAX_OUTPUT_TOKENS,
                    low=1,
                    high=1_000_000,
                ),
            ),
        )


def _agent(agent: str, environ: Mapping[str, str]) -> AgentSettings:
    try:
        return agent_settings_from_env(agent, environ)
    except ValueError as exc:
        prefix = env_prefix(agent)
        raise ConfigurationError(f"{prefix}_ID / {prefix}_ALIAS_ID: {exc}") from None


def _flag(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean (use true or false)")


def _int(environ: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name}={value} is outside {low}..{high}")
    return value


def _money(environ: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigurationError(f"{name}={raw!r} is not a decimal amount") from None
    if not value.is_finite() or value < 0:
        raise ConfigurationError(f"{name}={raw!r} must be a non-negative amount")
    # Above the guardian's bound every incident without its own budget would fail
    # (EXECUTION_FAILED, retried, dead-lettered): refuse it here, once, by name.
    try:
        check_amount(name, value)
    except ValueError:
        raise ConfigurationError(
            f"{name}={raw!r} must be below {MAX_AMOUNT_USD}, the largest amount the budget "
            "guardian accepts"
        ) from None
    return value
