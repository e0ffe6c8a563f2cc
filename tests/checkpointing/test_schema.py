"""The single table definition, as DynamoDB (moto) sees it after ``create_table``."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from opx.checkpointing import TABLE_SCHEMA, create_table


def test_created_table_matches_the_seed_schema(dynamodb: Any, table: str) -> None:
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["KeySchema"] == [
        {"AttributeName": "session_id", "KeyType": "HASH"},
        {"AttributeName": "checkpoint_id", "KeyType": "RANGE"},
    ]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = described["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "incident-id-index"
    assert index["KeySchema"] == [
        {"AttributeName": "incident_id", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
    assert types == {"session_id": "S", "checkpoint_id": "S", "incident_id": "S", "created_at": "S"}

    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["AttributeName"], ttl["TimeToLiveStatus"]) == ("ttl", "ENABLED")
    backups = dynamodb.describe_continuous_backups(TableName=table)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_create_table_twice(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError, match="ResourceInUseException"):
        create_table(dynamodb, table)
    create_table(dynamodb, table, exist_ok=True)  # local runs may re-create freely


def test_name_pattern_and_infrastructure_template() -> None:
    assert TABLE_SCHEMA.table_name("dev") == "opx-langgraph-checkpoints-dev"
    props = TABLE_SCHEMA.cloudformation_properties("opx-langgraph-checkpoints-prod")
    assert props["TableName"] == "opx-langgraph-checkpoints-prod"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["KeySchema"] == TABLE_SCHEMA.create_table_request("x")["KeySchema"]
