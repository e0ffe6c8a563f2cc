"""A replay's result reads what the executor wrote (``harness.replayer.written``),
not moto's table: the copy must hold exactly what moto holds, and its reads must
answer exactly as moto's Query does, or snapshots would describe another table."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from harness.replayer import (
    CHECKPOINT_TABLE,
    Replayer,
    UnreadableWriteError,
    UnsupportedReadError,
    replay,
)
from harness.replayer.written import WrittenTableClient
from harness.scenario import load_scenario
from opx.checkpointing import TABLE_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
#: A plain run, a concurrent duplicate (its conditional lease write fails), an
#: interrupted run resumed on redelivery, a throttled table, a chunked payload.
SCENARIOS = (
    "rds-failover",
    "concurrent-duplicate-delivery",
    "lambda-timeout-cold-starts",
    "dynamodb-throttling",
    "large-evidence-bundle",
)


def _scan(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=CHECKPOINT_TABLE):
        items.extend(page["Items"])
    return items


def _keyed(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pk, sk = TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key
    return {f"{item[pk]['S']}|{item[sk]['S']}": item for item in items}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_copy_holds_what_moto_holds(name: str) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.json")
    with Replayer().environment(scenario) as env:
        env.deliver_events()
        in_moto = _keyed(_scan(env.session.client("dynamodb")))
        copied = _keyed(list(env.written.table(CHECKPOINT_TABLE).items.values()))
    assert in_moto, "the scenario wrote nothing: the comparison would prove nothing"
    assert copied == in_moto


def _seed(client: Any) -> None:
    """The same items in moto and in the copy (through the copy's own write path)."""
    for n in range(7):
        item = {
            "session_id": {"S": "thread-a" if n < 5 else "thread-b"},
            "checkpoint_id": {"S": f"#cp{n:02d}"},
            "payload": {"B": bytes([n]) * 3},
        }
        client.put_item(TableName=CHECKPOINT_TABLE, Item=item)


QUERIES: list[dict[str, Any]] = [
    {},
    {"ScanIndexForward": False},
    {"ScanIndexForward": False, "Limit": 2},
    {"Limit": 3},
    {"bounds": ("#cp01", "#cp03"), "ScanIndexForward": False},
    {"bounds": ("#cp01", "#cp03"), "Limit": 1},
]


@pytest.mark.parametrize("shape", QUERIES)
def test_the_copy_pages_a_query_as_moto_does(shape: dict[str, Any]) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    shape = dict(shape)
    bounds = shape.pop("bounds", None)
    request: dict[str, Any] = {
        "TableName": CHECKPOINT_TABLE,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": TABLE_SCHEMA.partition_key},
        "ExpressionAttributeValues": {":pk": {"S": "thread-a"}},
        "ConsistentRead": True,
        **shape,
    }
    if bounds is not None:
        request["KeyConditionExpression"] += " AND #sk BETWEEN :lo AND :hi"
        request["ExpressionAttributeNames"]["#sk"] = TABLE_SCHEMA.sort_key
        request["ExpressionAttributeValues"].update(
            {":lo": {"S": bounds[0]}, ":hi": {"S": bounds[1]}}
        )
    with Replayer().environment(scenario) as env:
        client = env.session.client("dynamodb")
        _seed(client)
        copy = WrittenTableClient(env.written)
        moto_pages, copy_pages = [], []
        for pages, ask in ((moto_pages, client.query), (copy_pages, copy.query)):
            page_request = dict(request)
            while True:
                page = ask(**page_request)
                pages.append(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                page_request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # DynamoDB (and moto) may end a limited read with one empty page; the saver reads on.
    assert [p for p in copy_pages if p] == [p for p in moto_pages if p]


def test_a_query_the_saver_does_not_send_is_refused_by_name() -> None:
    """A saver that starts filtering (or scanning) gets an error, never an answer the
    copy would have to guess."""
    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    with Replayer().environment(scenario) as env:
        copy = WrittenTableClient(env.written)
        with pytest.raises(UnsupportedReadError, match="FilterExpression"):
            copy.query(
                TableName=CHECKPOINT_TABLE,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": TABLE_SCHEMA.partition_key},
                ExpressionAttributeValues={":pk": {"S": "x"}},
                FilterExpression="attribute_exists(ttl)",
            )
        with pytest.raises(UnsupportedReadError, match="not scan"):
            copy.scan(TableName=CHECKPOINT_TABLE)


def test_a_write_the_copy_cannot_apply_fails_the_replay() -> None:
    """Self-test: an executor that changed an item with UpdateItem would leave the
    copy stale; the replay says so instead of reporting the stale copy."""
    from opx.checkpointing.store import ThreadTable

    real_write = ThreadTable.write

    def write_then_update(table: ThreadTable, encoded: Any) -> None:
        real_write(table, encoded)
        owner = encoded[0].owner
        table.client.update_item(
            TableName=table.table_name,
            Key={k: owner[k] for k in (TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key)},
            UpdateExpression="SET touched = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )

    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    with (
        mock.patch.object(ThreadTable, "write", write_then_update),
        pytest.raises(UnreadableWriteError, match="UpdateItem on 'opx-langgraph"),
    ):
        replay(scenario)


def test_writes_moto_refused_are_not_in_the_copy() -> None:
    """A conditional put that lost (a duplicate's lease, a taken write slot) and a
    cancelled transaction changed nothing in DynamoDB, so nothing in the copy."""
    scenario = load_scenario(ROOT / "scenarios" / "rds-failover.json")
    pk, sk = TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key
    first = {pk: {"S": "thread"}, sk: {"S": "#a"}, "owner": {"S": "first"}}
    if_new = {"ConditionExpression": f"attribute_not_exists({sk})"}
    with Replayer().environment(scenario) as env:
        client = env.session.client("dynamodb")
        client.put_item(TableName=CHECKPOINT_TABLE, Item=first)
        with pytest.raises(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName=CHECKPOINT_TABLE, Item={**first, "owner": {"S": "second"}}, **if_new
            )
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": CHECKPOINT_TABLE, "Item": {**first, sk: {"S": "#b"}}}},
                    {"Put": {"TableName": CHECKPOINT_TABLE, "Item": first, **if_new}},
                ]
            )
        in_moto = _keyed(_scan(client))
        copied = _keyed(list(env.written.table(CHECKPOINT_TABLE).items.values()))
    assert list(in_moto) == ["thread|#a"]
    assert copied == in_moto
