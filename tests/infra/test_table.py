"""The checkpoint table is the executor's schema: keys, GSI, TTL, PITR, billing."""

from __future__ import annotations

from opx.checkpointing import TABLE_SCHEMA
from tests.infra.conftest import App, Synthesized


def _canonical(properties: dict) -> dict:
    """Attribute definitions are a set; their order carries no meaning."""
    canonical = dict(properties)
    canonical["AttributeDefinitions"] = sorted(
        properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    return canonical


def test_table_properties_are_the_schemas_cloudformation_properties(app: App) -> None:
    for synthesized in app.stages:
        name = TABLE_SCHEMA.table_name(synthesized.config.stage)
        properties = synthesized.only("AWS::DynamoDB::Table")["Properties"]
        expected = TABLE_SCHEMA.cloudformation_properties(name)
        # Everything the schema defines, exactly; encryption is the stack's only addition.
        assert set(properties) == set(expected) | {"SSESpecification"}
        assert _canonical({k: properties[k] for k in expected}) == _canonical(expected)
        assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_table_has_the_seed_layout(dev: Synthesized) -> None:
    """The schema's fields, read one by one, so a schema change is a visible diff here."""
    properties = dev.only("AWS::DynamoDB::Table")["Properties"]
    schema = TABLE_SCHEMA
    assert properties["TableName"] == "opx-langgraph-checkpoints-dev"
    assert properties["KeySchema"] == [
        {"AttributeName": schema.partition_key, "KeyType": "HASH"},
        {"AttributeName": schema.sort_key, "KeyType": "RANGE"},
    ]
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": schema.ttl_attribute,
        "Enabled": True,
    }
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = properties["GlobalSecondaryIndexes"]
    assert index["IndexName"] == schema.gsi_name == "incident-id-index"
    assert index["KeySchema"] == [
        {"AttributeName": schema.gsi_partition_key, "KeyType": "HASH"},
        {"AttributeName": schema.gsi_sort_key, "KeyType": "RANGE"},
    ]


def test_prod_retains_the_table_and_dev_does_not(app: App) -> None:
    policies = {
        s.config.stage: (
            s.only("AWS::DynamoDB::Table")["DeletionPolicy"],
            s.only("AWS::DynamoDB::Table")["UpdateReplacePolicy"],
        )
        for s in app.stages
    }
    assert policies == {"dev": ("Delete", "Delete"), "prod": ("Retain", "Retain")}
