"""AWS clients for the executor.

Clients come from boto3's default session, so anything that configures that session
(credentials, ``AWS_ENDPOINT_URL_*``, event hooks registered before the cold start)
applies to the executor exactly as it would in Lambda.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from opx.agents import bedrock_client_config

#: DynamoDB and the rest keep botocore's standard retries (attempts from
#: ``AWS_MAX_ATTEMPTS``, default 3) with a short connect timeout, so an unreachable
#: endpoint fails fast inside the Lambda's 5-minute budget.
AWS_CONFIG = Config(retries={"mode": "standard"}, connect_timeout=3)


def bedrock_agent_runtime(region: str) -> Any:
    # Bedrock retries belong to opx.agents (deterministic, in-stream errors included).
    return boto3.client("bedrock-agent-runtime", region_name=region, config=bedrock_client_config())


def dynamodb(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region, config=AWS_CONFIG)
