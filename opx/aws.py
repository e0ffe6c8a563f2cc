"""AWS clients for the executor.

Clients come from boto3's default session, so anything that configures that session
(credentials, ``AWS_ENDPOINT_URL_*``, event hooks registered before the cold start)
applies to the executor exactly as it would in Lambda.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

#: Bedrock calls are retried by :mod:`opx.agents` (deterministic backoff, in-stream
#: errors included), so botocore must not retry them a second time underneath.
BEDROCK_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=120,
)
#: DynamoDB and the rest keep botocore's standard retries (attempts from
#: ``AWS_MAX_ATTEMPTS``, default 3) with a short connect timeout, so an unreachable
#: endpoint fails fast inside the Lambda's 5-minute budget.
AWS_CONFIG = Config(retries={"mode": "standard"}, connect_timeout=3)


def bedrock_agent_runtime(region: str) -> Any:
    return boto3.client("bedrock-agent-runtime", region_name=region, config=BEDROCK_CONFIG)


def dynamodb(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region, config=AWS_CONFIG)
