"""The botocore configuration the Bedrock Agents client must be created with.

:func:`opx.agents.run_agent` owns retries (bounded, deterministic, visible in the
result's ``attempts``), so botocore's own retries must be off — otherwise a throttle
is silently retried underneath us, the attempt count lies and the backoff is jittered.

Beware: in a botocore ``Config``, ``retries={"max_attempts": 1}`` means one *retry*
(two calls in total); only ``total_max_attempts`` counts the first call. Hence
``total_max_attempts=1`` here.
"""

from __future__ import annotations

from botocore.config import Config


def bedrock_client_config(*, connect_timeout: float = 5.0, read_timeout: float = 120.0) -> Config:
    """Config for ``boto3.client("bedrock-agent-runtime", config=...)``.

    A short connect timeout makes an unreachable endpoint fail fast (AGENT_UNREACHABLE)
    instead of consuming the Lambda's timeout; the read timeout must cover the
    agent's longest silence between streamed events.
    """
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
