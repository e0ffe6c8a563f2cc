"""The checkpoint table, defined once for the saver, tests, the harness and infrastructure.

Keys follow the seed: partition ``session_id`` (the LangGraph thread, i.e. the
execution id) and sort ``checkpoint_id`` (see :mod:`.keys` for what the sort key
holds). Items expire through the ``ttl`` attribute. The sparse GSI
``incident-id-index`` holds only checkpoint heads that carry an ``incident_id``,
sorted by the checkpoint's ``created_at`` timestamp, so "every execution of this
incident" is one Query without duplicating pending writes and chunks into the index.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class TableSchema:
    name_pattern: str = "opx-langgraph-checkpoints-{stage}"
    partition_key: str = "session_id"
    sort_key: str = "checkpoint_id"
    ttl_attribute: str = "ttl"
    gsi_name: str = "incident-id-index"
    gsi_partition_key: str = "incident_id"
    gsi_sort_key: str = "created_at"
    billing_mode: str = "PAY_PER_REQUEST"
    point_in_time_recovery: bool = True

    def table_name(self, stage: str) -> str:
        return self.name_pattern.format(stage=stage)

    def create_table_request(self, table_name: str) -> dict[str, Any]:
        """Keyword arguments for the DynamoDB ``CreateTable`` call."""
        return {
            "TableName": table_name,
            "BillingMode": self.billing_mode,
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"}
                for name in (
                    self.partition_key,
                    self.sort_key,
                    self.gsi_partition_key,
                    self.gsi_sort_key,
                )
            ],
            "KeySchema": [
                {"AttributeName": self.partition_key, "KeyType": "HASH"},
                {"AttributeName": self.sort_key, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": self.gsi_name,
                    "KeySchema": [
                        {"AttributeName": self.gsi_partition_key, "KeyType": "HASH"},
                        {"AttributeName": self.gsi_sort_key, "KeyType": "RANGE"},
                    ],
                    # The table keys already name the execution (session_id) and
                    # the checkpoint (sort key): nothing else needs copying.
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        }

    def cloudformation_properties(self, table_name: str) -> dict[str, Any]:
        """``AWS::DynamoDB::Table`` properties, for infrastructure templates."""
        request = self.create_table_request(table_name)
        return {
            **request,
            "TimeToLiveSpecification": {"AttributeName": self.ttl_attribute, "Enabled": True},
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": self.point_in_time_recovery
            },
        }


TABLE_SCHEMA = TableSchema()


def create_table(client: Any, table_name: str, *, exist_ok: bool = False) -> None:
    """Create the table (on-demand, TTL, PITR) and wait until it is usable.

    For tests and local runs; production tables come from
    :meth:`TableSchema.cloudformation_properties`.
    """
    schema = TABLE_SCHEMA
    try:
        client.create_table(**schema.create_table_request(table_name))
    except ClientError as exc:
        if not (exist_ok and exc.response["Error"]["Code"] == "ResourceInUseException"):
            raise
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    ttl = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": schema.ttl_attribute, "Enabled": True},
        )
    if schema.point_in_time_recovery:
        _enable_pitr(client, table_name)


def _enable_pitr(client: Any, table_name: str, attempts: int = 10) -> None:
    # A brand-new table can briefly answer ContinuousBackupsUnavailableException.
    for attempt in range(attempts):
        try:
            client.update_continuous_backups(
                TableName=table_name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
            return
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code != "ContinuousBackupsUnavailableException" or attempt == attempts - 1:
                raise
            time.sleep(2)
