"""The checkpoint table, rendered from the executor's one schema definition.

The seed's stack hand-maintained a table schema the code never wrote. Here the
properties *are* ``TABLE_SCHEMA.cloudformation_properties(name)`` -- keys, GSI,
TTL, PITR, billing -- passed to the L1 ``CfnTable`` unchanged; the stack adds only
what the schema leaves to deployment: encryption and the deletion policy.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from opx.checkpointing import TABLE_SCHEMA


class CheckpointTable(Construct):
    """``opx-langgraph-checkpoints-<stage>``; retained on stack deletion in prod."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.table_name = TABLE_SCHEMA.table_name(stage)
        properties = TABLE_SCHEMA.cloudformation_properties(self.table_name)
        self.resource = dynamodb.CfnTable(
            self,
            "Table",
            **{_snake(key): _camel_keys(value) for key, value in properties.items()},
            # Server-side encryption with the AWS managed key (aws/dynamodb): explicit in
            # the template, and no key policy for the executor's role to hold.
            sse_specification=dynamodb.CfnTable.SSESpecificationProperty(sse_enabled=True),
        )
        # Checkpoints are the record of every analysis: a prod stack deletion must not
        # take them along. Dev tables are scratch.
        self.resource.apply_removal_policy(
            RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY
        )
        self.table_arn: str = self.resource.attr_arn


def _snake(name: str) -> str:
    """``GlobalSecondaryIndexes`` -> ``global_secondary_indexes`` (L1 keyword names)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _camel_keys(value: Any) -> Any:
    """CloudFormation's ``PascalCase`` keys -> jsii struct keys (``attributeName``)."""
    if isinstance(value, dict):
        return {key[0].lower() + key[1:]: _camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel_keys(item) for item in value]
    return value
