"""Two deliveries of one event at the same time: one set of Bedrock calls, one answer.

EventBridge delivers at least once and sometimes concurrently. The first invocation
holds the execution's lease; the duplicate pays nothing, is answered 409
``EXECUTION_IN_PROGRESS`` through the retry signal, and its retry gets the stored result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from opx.checkpointing import create_table
from opx.checkpointing.lease import LEASE_KEY
from opx.errors import ExecutionRetryError, response_of
from opx.lambda_handler import cold_start, handler
from opx.state import ALL_AGENTS
from tests.e2e.fake_bedrock import FakeBedrock, hook
from tests.support import sample_event

TABLE = "opx-checkpoints-concurrent"


@dataclass(frozen=True)
class Context:
    aws_request_id: str
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def table(bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "true")
    monkeypatch.setenv("CHECKPOINT_TABLE_NAME", TABLE)
    with mock_aws():
        hook(bedrock)
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        cold_start()
        yield client
        cold_start()


def test_concurrent_duplicate_pays_nothing_and_is_answered_in_progress(
    bedrock: FakeBedrock, table: Any
) -> None:
    event = sample_event("opx_incident")
    duplicate_done = threading.Event()
    first_call = threading.Event()
    real_before_send = bedrock.before_send

    def before_send(request: Any, **kwargs: Any) -> Any:
        # The first Bedrock call of the first delivery waits until the duplicate has
        # answered, so the two deliveries overlap for certain.
        if not first_call.is_set():
            first_call.set()
            duplicate_done.wait(timeout=30)
        return real_before_send(request, **kwargs)

    bedrock.before_send = before_send  # type: ignore[method-assign]
    hook(bedrock)
    cold_start()
    answers: dict[str, Any] = {}

    def deliver(name: str) -> None:
        answers[name] = response_of(handler, event, Context(name))

    first = threading.Thread(target=deliver, args=("delivery-1",))
    first.start()
    assert first_call.wait(timeout=30)
    try:
        with pytest.raises(ExecutionRetryError) as raised:
            handler(event, Context("delivery-2"))
    finally:
        duplicate_done.set()
    first.join(timeout=60)

    in_progress = raised.value.response
    assert in_progress["statusCode"] == 409
    assert in_progress["body"]["error"] == "EXECUTION_IN_PROGRESS"
    assert in_progress["body"]["execution_id"] == answers["delivery-1"]["body"]["execution_id"]
    assert answers["delivery-1"]["statusCode"] == 200
    assert sorted(call["agent"] for call in bedrock.calls) == sorted(ALL_AGENTS)

    # Lambda retries the duplicate later: it gets the stored answer, still no Bedrock call.
    retried = handler(event, Context("delivery-2"))
    assert retried == answers["delivery-1"]
    assert len(bedrock.calls) == len(ALL_AGENTS)
    # The holder gave its lease back.
    lease = table.get_item(
        TableName=TABLE,
        Key={
            "session_id": {"S": retried["body"]["execution_id"]},
            "checkpoint_id": {"S": LEASE_KEY},
        },
    )
    assert "Item" not in lease


def test_two_threads_at_once_make_one_set_of_bedrock_calls(
    bedrock: FakeBedrock, table: Any
) -> None:
    event = sample_event("opx_incident")
    barrier = threading.Barrier(2)
    answers: dict[str, dict[str, Any]] = {}

    def deliver(name: str) -> None:
        barrier.wait()
        answers[name] = response_of(handler, event, Context(name))

    threads = [threading.Thread(target=deliver, args=(f"d{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    codes = sorted(answer["statusCode"] for answer in answers.values())
    assert len(bedrock.calls) == len(ALL_AGENTS)
    # Either the duplicate overlapped (409) or it came after and read the result (200).
    assert codes in ([200, 200], [200, 409])
    bodies = [a["body"] for a in answers.values() if a["statusCode"] == 200]
    assert all(body == bodies[0] for body in bodies)


def test_a_lapsed_lease_of_a_dead_holder_lets_a_redelivery_resume(
    bedrock: FakeBedrock, table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opx.checkpointing import lease
    from opx.events import parse_event
    from opx.ids import execution_id

    event = sample_event("opx_incident")
    exec_id = execution_id(parse_event(event))
    lease.acquire(table, TABLE, exec_id, "dead-holder", seconds=60)
    with pytest.raises(ExecutionRetryError) as raised:
        handler(event, Context("redelivery"))
    assert raised.value.code == "EXECUTION_IN_PROGRESS"
    assert bedrock.calls == []

    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 120)  # the holder's time is up
    answer = handler(event, Context("redelivery"))
    assert answer["statusCode"] == 200
    assert len(bedrock.calls) == len(ALL_AGENTS)
