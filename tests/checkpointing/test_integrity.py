"""Owners pin their chunks and seal their plain attributes; forged counts fail at once;
expired items read as absent, never as corrupt."""

from __future__ import annotations

import signal
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from langgraph.checkpoint.base import empty_checkpoint

from opx.checkpointing import CheckpointCorruptError, DynamoDBCheckpointer, items, keys

THREAD = "exec-integrity"
BIG = "x" * 1_000_000  # three chunks


def _store(saver: DynamoDBCheckpointer, values: dict[str, Any], parent: str | None = None) -> Any:
    cp = empty_checkpoint()
    cp["channel_values"] = values
    cp["channel_versions"] = dict.fromkeys(values, 1)
    conf: dict[str, Any] = {"thread_id": THREAD, "checkpoint_ns": ""}
    if parent:
        conf["checkpoint_id"] = parent
    return saver.put({"configurable": conf}, cp, {"source": "loop", "step": 0}, {})


def _head(dynamodb: Any, table: str, stored: Any) -> dict[str, Any]:
    key = {
        "session_id": {"S": THREAD},
        "checkpoint_id": {"S": keys.head_key("", stored["configurable"]["checkpoint_id"])},
    }
    return dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (today's reader never finishes a count of 10**12)."""

    def expired(*_: Any) -> None:
        raise TimeoutError(f"read did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("count", ["1000000000000", "10000000", "65", "0", "-1", "1e3", "9" * 40])
def test_a_forged_chunk_count_fails_in_constant_time_and_memory(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str, count: str
) -> None:
    stored = _store(saver, {"big": BIG})
    head = _head(dynamodb, table, stored)
    head["chunks"] = {"N": count}
    dynamodb.put_item(
        TableName=table, Item=head
    )  # the pin is left alone: the count is checked first
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with _deadline(5), pytest.raises(CheckpointCorruptError, match=r"outside 1\.\.64"):
            saver.get_tuple(stored)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 8 * 2**20  # the three 380 KB chunks read by the Query, nothing sized by the count


def test_an_owner_only_decodes_the_chunks_it_was_written_with(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str
) -> None:
    """An overwrite with the same chunk count that dies between its chunks and its owner
    must not make the old owner decode the new data."""
    stored = _store(saver, {"big": BIG})
    cid = stored["configurable"]["checkpoint_id"]
    cp = empty_checkpoint()
    cp["id"] = cid
    cp["channel_values"] = {"big": "y" * 1_000_000}
    other = items.encode_head(
        thread_id=THREAD,
        checkpoint_ns="",
        checkpoint_id=cid,
        parent_id=None,
        checkpoint=saver.serde.dumps_typed(cp),
        metadata=saver.serde.dumps_typed({"source": "loop", "step": 0}),
        created_at="2026-01-15T10:00:00+00:00",
        ttl=int(time.time()) + 86_400,
        incident_id=None,
    )
    assert len(other.chunks) == int(_head(dynamodb, table, stored)["chunks"]["N"])
    for chunk in other.chunks:  # the new chunks landed; the new owner never did
        dynamodb.put_item(TableName=table, Item=chunk)

    with pytest.raises(CheckpointCorruptError, match="do not belong to this owner"):
        saver.get_tuple(stored)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("parent_cid", {"S": "1f000000-0000-6000-8000-000000000000"}),
        ("ttl", {"N": "4102444800"}),
        ("incident_id", {"S": "INC-OTHER"}),
        ("digest", {"B": b"\0" * 32}),
    ],
)
def test_every_plain_attribute_is_sealed(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str, attribute: str, value: Any
) -> None:
    first = _store(saver, {"big": BIG})
    stored = _store(saver, {"big": BIG}, parent=first["configurable"]["checkpoint_id"])
    head = _head(dynamodb, table, stored)
    head[attribute] = value
    dynamodb.put_item(TableName=table, Item=head)
    with pytest.raises(CheckpointCorruptError, match="pin does not match"):
        saver.get_tuple(stored)


def test_an_unsealed_owner_is_refused(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str
) -> None:
    stored = _store(saver, {"status": "RUNNING"})
    head = _head(dynamodb, table, stored)
    del head["pin"]
    dynamodb.put_item(TableName=table, Item=head)
    with pytest.raises(CheckpointCorruptError, match="pin does not match"):
        saver.get_tuple(stored)


def test_oversized_payload_is_refused_before_anything_is_written(
    saver: DynamoDBCheckpointer, table_items: Any
) -> None:
    from opx.checkpointing import CheckpointWriteError

    with pytest.raises(CheckpointWriteError, match="at most 64"):
        _store(saver, {"big": "z" * (65 * 380_000)})
    assert table_items() == []


START = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def test_expired_items_read_as_absent_even_when_a_chunk_is_gone(dynamodb: Any, table: str) -> None:
    saver = DynamoDBCheckpointer(table, client=dynamodb, ttl_days=1)
    with freeze_time(START):
        stored = _store(saver, {"big": BIG})
        saver.put_writes(stored, [("status", "DONE")], "task-1")
    chunk = next(
        i
        for i in dynamodb.scan(TableName=table)["Items"]
        if i["checkpoint_id"]["S"].endswith("#c00001")
    )
    # DynamoDB deletes expired items lazily and in any order: this chunk went first.
    dynamodb.delete_item(
        TableName=table,
        Key={"session_id": chunk["session_id"], "checkpoint_id": chunk["checkpoint_id"]},
    )
    thread = {"configurable": {"thread_id": THREAD}}
    not_yet = freeze_time(START + timedelta(days=1, seconds=-1))
    with not_yet, pytest.raises(CheckpointCorruptError, match="missing"):
        saver.get_tuple(thread)  # not yet expired: a missing chunk is corruption
    with freeze_time(START + timedelta(days=1, seconds=1)):  # expired: absent everywhere
        assert saver.get_tuple(thread) is None
        assert saver.get_tuple(stored) is None
        assert list(saver.list(thread)) == []
        assert list(saver.list({"configurable": {"thread_id": THREAD, "checkpoint_ns": ""}})) == []


def test_an_expired_write_is_not_pending(dynamodb: Any, table: str) -> None:
    saver = DynamoDBCheckpointer(table, client=dynamodb, ttl_days=2)
    short = DynamoDBCheckpointer(table, client=dynamodb, ttl_days=1)
    with freeze_time(START):
        stored = _store(saver, {"status": "RUNNING"})
        short.put_writes(stored, [("status", "DONE")], "task-1")
        assert [w[1] for w in saver.get_tuple(stored).pending_writes] == ["status"]
    with freeze_time(START + timedelta(days=1, hours=1)):
        tup = saver.get_tuple(stored)
        assert tup is not None and tup.pending_writes == []


@pytest.mark.parametrize("suffix", [" ", "%", "g", "-"])
def test_a_checkpoint_id_langgraph_cannot_resume_is_refused_naming_the_item(
    saver: DynamoDBCheckpointer, suffix: str
) -> None:
    """An id edited (key and payload alike) to hold a non-hex character: LangGraph
    would fail on it with binascii's bare "Non-hexadecimal digit found" (an odd digit
    count too); the reader refuses it as corrupt first."""
    cp = empty_checkpoint()
    cp["id"] = cp["id"][:-1] + suffix
    conf = {"configurable": {"thread_id": THREAD, "checkpoint_ns": ""}}
    saver.put(conf, cp, {"source": "loop", "step": 0}, {})
    with pytest.raises(CheckpointCorruptError, match="is not hex digits") as caught:
        saver.get_tuple(conf)
    assert keys.head_key("", cp["id"]) in str(caught.value)


def test_every_id_langgraph_writes_is_a_checkpoint_id() -> None:
    assert all(items.is_checkpoint_id(empty_checkpoint()["id"]) for _ in range(50))
    assert not items.is_checkpoint_id("") and not items.is_checkpoint_id("abc")
