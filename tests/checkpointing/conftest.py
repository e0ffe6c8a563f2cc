"""Fixtures for the checkpointer tests: one moto mock per test module, a fresh table
per test.

The first DynamoDB call inside a new ``mock_aws`` costs ~200 ms, so the mock is
shared by a module; moto's Query time grows with the size of the whole table, so
every test gets its own small table and drops it afterwards.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from opx.checkpointing import DynamoDBCheckpointer, create_table

_names = itertools.count()


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def table(dynamodb: Any) -> Iterator[str]:
    name = f"opx-langgraph-checkpoints-test{next(_names)}"
    create_table(dynamodb, name)
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def saver(dynamodb: Any, table: str) -> DynamoDBCheckpointer:
    return DynamoDBCheckpointer(table, client=dynamodb)


@contextmanager
def _count_calls(client: Any) -> Iterator[Counter[str]]:
    """Count DynamoDB API calls made through ``client``, by operation name."""
    counts: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    client.meta.events.register("before-call.dynamodb", count)
    try:
        yield counts
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)


def _all_items(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a (small) table, in key order."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (i["session_id"]["S"], i["checkpoint_id"]["S"]))


@pytest.fixture
def count_calls() -> Any:
    """``with count_calls(client) as counts:`` counts API calls by operation name."""
    return _count_calls


@pytest.fixture
def table_items(dynamodb: Any, table: str) -> Any:
    """``table_items()``: every item of the test's table, in key order."""
    return lambda: _all_items(dynamodb, table)
