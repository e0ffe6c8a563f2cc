"""The published LangGraph checkpointer conformance suite, against moto.

The suite is a library, not a pytest plugin: it calls only the async methods and
counts a capability only when the saver overrides it, so the test asserts the
per-capability counts, not merely that ``validate`` returned.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import BASE_CAPABILITIES

from opx.checkpointing import DynamoDBCheckpointer, create_table

#: Tests per base capability in langgraph-checkpoint-conformance 0.0.2.
EXPECTED_BASE_TESTS = {
    "put": 17,
    "put_writes": 10,
    "get_tuple": 10,
    "list": 16,
    "delete_thread": 5,
}


def test_base_capabilities_all_pass(dynamodb: Any) -> None:
    names = itertools.count()

    @checkpointer_test(name="DynamoDBCheckpointer")
    async def factory() -> AsyncIterator[DynamoDBCheckpointer]:
        # A fresh table per capability suite, as the suite expects a fresh saver.
        table = f"conformance-{next(names)}"
        create_table(dynamodb, table)
        yield DynamoDBCheckpointer(table, client=dynamodb)
        dynamodb.delete_table(TableName=table)

    report = asyncio.run(validate(factory))

    failures = {name: r.failures for name, r in report.results.items() if r.failures}
    assert failures == {}
    assert {cap.value for cap in BASE_CAPABILITIES} == set(EXPECTED_BASE_TESTS)
    for name, expected in EXPECTED_BASE_TESTS.items():
        result = report.results[name]
        assert result.detected, name
        assert (result.tests_passed, result.tests_failed) == (expected, 0), name
    assert sum(EXPECTED_BASE_TESTS.values()) == 58
    assert report.passed_all_base()
    # Extended: copy_thread and prune are implemented too; delete_for_runs would
    # need a table Scan (run ids are not keys), so it is not offered.
    extended = {
        name: (r.detected, r.tests_passed, r.tests_failed)
        for name, r in report.results.items()
        if name not in EXPECTED_BASE_TESTS
    }
    assert extended == {
        "copy_thread": (True, 8, 0),
        "prune": (True, 8, 0),
        "delete_for_runs": (False, 0, 0),
    }
    assert report.conformance_level() == "FULL"
