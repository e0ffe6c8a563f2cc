"""moto serves a replay's requests one at a time (issue 20).

moto's DynamoDB deep-copies a table in ``TransactWriteItems`` while another thread's
``PutItem`` inserts into it; the checkpointer writes from LangGraph's background
threads. The stress test runs that race through the harness's environment (nothing
raises) and outside it (moto still raises), so it shows the harness is what makes
the difference.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
import botocore.handlers
import moto
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from harness.replayer import CHECKPOINT_TABLE, Replayer, environment, moto_lock, no_network
from harness.scenario import Clock, Scenario

#: Wall-clock bound of a protected race (it runs the whole bound).
RACE_S = 1.5
#: Bound of the unprotected race, which stops at the first error (moto 5.2: ~0.3 s).
BARE_RACE_S = 5.0
MOTO_RACE = "dictionary changed size during iteration"


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """An executor scenario with no events: its environment is all these tests use."""
    return Scenario(
        name="moto-lock",
        description="the replay environment, for moto's concurrency",
        clock=Clock(start=datetime(2026, 11, 29, 4, 0, tzinfo=UTC)),
        events=[{}],
    )


def race(client: Any, table: str, seconds: float = RACE_S) -> list[BaseException]:
    """Two threads of ``TransactWriteItems`` (three puts each) and three of ``PutItem``
    on ``table``, until the first error or ``seconds`` of wall time."""
    from opx.checkpointing import TABLE_SCHEMA

    keys = TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key
    errors: list[BaseException] = []
    stop = threading.Event()

    def item(prefix: str) -> dict[str, Any]:
        return {key: {"S": prefix} for key in keys}

    def writer(name: str, transact: bool) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if transact:
                    client.transact_write_items(
                        TransactItems=[
                            {"Put": {"TableName": table, "Item": item(f"{name}-{n}-{k}")}}
                            for k in range(3)
                        ]
                    )
                else:
                    client.put_item(TableName=table, Item=item(f"{name}-{n}"))
            except Exception as exc:  # the race's outcome is what the tests assert
                errors.append(exc)
                stop.set()

    threads = [
        threading.Thread(target=writer, args=(f"tx{i}", True), daemon=True) for i in range(2)
    ] + [threading.Thread(target=writer, args=(f"put{i}", False), daemon=True) for i in range(3)]
    for thread in threads:
        thread.start()
    # A lock timeout: real time even under the replay's frozen clock.
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_writes_raise_nothing_in_a_replay(scenario: Scenario) -> None:
    with Replayer().environment(scenario):
        errors = race(boto3.client("dynamodb"), CHECKPOINT_TABLE)
    assert errors == []


def test_concurrent_writes_raise_nothing_on_the_aws_fixture(aws: Any) -> None:
    assert race(aws.client("dynamodb"), aws.checkpoint_table) == []


@pytest.fixture
def bare_moto() -> Iterator[Any]:
    """The same table on moto with a plain session: no harness in between."""
    from opx.checkpointing import TABLE_SCHEMA

    with environment({}), mock_aws(), no_network():
        client = boto3.Session().client("dynamodb")
        client.create_table(**TABLE_SCHEMA.create_table_request(CHECKPOINT_TABLE))
        yield client


def test_the_same_race_without_the_harness_breaks_moto(bare_moto: Any) -> None:
    errors = race(bare_moto, CHECKPOINT_TABLE, BARE_RACE_S)
    if not errors:
        pytest.skip(
            f"moto {moto.__version__} survived {BARE_RACE_S} s of the race unprotected: it may be "
            "thread-safe now, so nothing shows the harness' lock is what prevents the error"
        )
    assert any(MOTO_RACE in str(error) for error in errors), errors


# --------------------------------------------------------------------------- the one moto internal


def test_moto_still_hooks_botocore_through_the_handler_serialize_wraps() -> None:
    """``harness.replayer.moto_lock`` runs ``moto.core.models.botocore_stubber`` itself: it must
    still be the ``before-send`` handler moto adds to every botocore session."""
    assert ("before-send", moto_lock.botocore_stubber) in botocore.handlers.BUILTIN_HANDLERS


def test_a_replay_request_reaches_moto_once_and_under_the_lock(scenario: Scenario) -> None:
    seen: list[bool] = []
    original = DynamoDBBackend.put_item

    def probe() -> None:
        taken = moto_lock.LOCK.acquire(blocking=False)
        if taken:
            moto_lock.LOCK.release()
        seen.append(taken)

    def put_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        # The lock is held (by the serving thread) iff another thread cannot take it.
        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return original(self, *args, **kwargs)

    with Replayer().environment(scenario), mock.patch.object(DynamoDBBackend, "put_item", put_item):
        from opx.checkpointing import TABLE_SCHEMA

        item = {TABLE_SCHEMA.partition_key: {"S": "p"}, TABLE_SCHEMA.sort_key: {"S": "s"}}
        boto3.client("dynamodb").put_item(TableName=CHECKPOINT_TABLE, Item=item)
    # Once: moto's builtin handler, which botocore calls after ours, left it alone.
    assert seen == [False]


def test_moto_looks_at_each_request_once(scenario: Scenario) -> None:
    """The builtin copy of moto's handler is off the replay session: it would only
    rescan (~25 us) a URL it cannot serve."""
    stubber = moto_lock.botocore_stubber
    with (
        Replayer().environment(scenario),
        mock.patch.object(stubber, "process_request", wraps=stubber.process_request) as spy,
    ):
        boto3.client("dynamodb").describe_table(TableName=CHECKPOINT_TABLE)
    assert spy.call_count == 1
