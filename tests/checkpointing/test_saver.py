"""DynamoDBCheckpointer on moto: items, call counts, TTL, GSI, large state, listing."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from freezegun import freeze_time
from langgraph.checkpoint.base import Checkpoint, empty_checkpoint
from langgraph.checkpoint.base.id import uuid6
from langgraph.checkpoint.serde.types import ERROR, INTERRUPT

from opx.checkpointing import (
    CheckpointWriteError,
    DynamoDBCheckpointer,
    find_executions,
)

DAY = 86_400


def make_checkpoint(values: dict[str, Any], step: int = 0) -> Checkpoint:
    cp = empty_checkpoint()
    cp["id"] = str(uuid6(clock_seq=step))
    cp["channel_values"] = values
    cp["channel_versions"] = dict.fromkeys(values, step + 1)
    return cp


def put(
    saver: DynamoDBCheckpointer,
    thread: str,
    values: dict[str, Any],
    *,
    parent: dict[str, Any] | None = None,
    ns: str = "",
    step: int = 0,
    metadata: dict[str, Any] | None = None,
    configurable: dict[str, Any] | None = None,
    config_metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns, **(configurable or {})}
    if parent is not None:
        conf["checkpoint_id"] = parent["configurable"]["checkpoint_id"]
    config: dict[str, Any] = {"configurable": conf}
    if config_metadata is not None:
        config["metadata"] = config_metadata
    cp = make_checkpoint(values, step)
    md = {"source": "loop", "step": step, "parents": {}, **(metadata or {})}
    return saver.put(config, cp, md, dict(cp["channel_versions"]))


@functools.cache
def incompressible(size: int) -> str:
    """``size`` characters of hex that no compressor could shrink (a hash chain)."""
    out, block = [], b"seed"
    for _ in range(size // 64 + 1):
        block = hashlib.sha256(block).digest()
        out.append(hashlib.sha512(block).hexdigest()[:64])
    return "".join(out)[:size]


def test_round_trip_costs_one_put_and_one_query(
    saver: DynamoDBCheckpointer, dynamodb: Any, count_calls: Any
) -> None:
    with count_calls(dynamodb) as puts:
        stored = put(saver, "exec-1", {"status": "RUNNING", "n": 1})
    with count_calls(dynamodb) as reads:
        latest = saver.get_tuple({"configurable": {"thread_id": "exec-1"}})
        by_id = saver.get_tuple(stored)
    assert puts == {"PutItem": 1}
    assert reads == {"Query": 2}
    assert latest is not None and by_id is not None
    assert latest.checkpoint == by_id.checkpoint
    assert latest.checkpoint["channel_values"] == {"status": "RUNNING", "n": 1}
    assert latest.config == stored
    assert latest.parent_config is None
    assert latest.pending_writes == []


def test_put_writes_is_one_atomic_item_per_task_and_idempotent(
    saver: DynamoDBCheckpointer, dynamodb: Any, count_calls: Any, table_items: Any
) -> None:
    parent = put(saver, "exec-1", {"a": 1})
    before = len(table_items())
    with count_calls(dynamodb) as calls:
        saver.put_writes(parent, [("a", 2), ("b", "x"), ("branch:to:n", None)], "task-1", "~p, n")
        saver.put_writes(parent, [("a", 2), ("b", "x"), ("branch:to:n", None)], "task-1", "~p, n")
        saver.put_writes(parent, [("a", 3)], "task-0", "~p, m")
    # The repeat's conditional PutItem finds slot "r" taken; one Query shows every
    # index already stored, so nothing more is written (first write wins).
    assert calls == {"PutItem": 3, "Query": 1}
    assert len(table_items()) == before + 2  # one item per task
    tup = saver.get_tuple(parent)
    assert tup is not None
    # writes_sort_key order: task_path, then task_id, then idx
    assert tup.pending_writes == [
        ("task-0", "a", 3),
        ("task-1", "a", 2),
        ("task-1", "b", "x"),
        ("task-1", "branch:to:n", None),
    ]


def test_special_writes_keep_their_own_slots(
    saver: DynamoDBCheckpointer, dynamodb: Any, count_calls: Any
) -> None:
    parent = put(saver, "exec-1", {"a": 1})
    with count_calls(dynamodb) as calls:
        saver.put_writes(parent, [(ERROR, "boom"), (INTERRUPT, {"ask": 1})], "task-1")
    # Two slots of one call become visible together.
    assert calls == {"TransactWriteItems": 1}
    saver.put_writes(parent, [(ERROR, "boom again")], "task-1")  # replaces the error only
    saver.put_writes(parent, [("a", 5)], "task-1")  # the retry succeeded
    tup = saver.get_tuple(parent)
    assert tup is not None
    assert sorted(tup.pending_writes, key=repr) == sorted(
        [("task-1", ERROR, "boom again"), ("task-1", INTERRUPT, {"ask": 1}), ("task-1", "a", 5)],
        key=repr,
    )


def test_incident_id_reaches_the_gsi(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str
) -> None:
    # The executor's config: incident in configurable and in run metadata.
    with freeze_time("2024-05-01T10:00:00Z"):
        put(
            saver,
            "exec-b",
            {"a": 1},
            configurable={"incident_id": "inc-1"},
            config_metadata={"incident_id": "inc-1"},
        )
    with freeze_time("2024-05-01T09:00:00Z"):
        # Only configurable carries it: the fallback.
        first = put(saver, "exec-a", {"a": 1}, configurable={"incident_id": "inc-1"})
    with freeze_time("2024-05-01T11:00:00Z"):
        put(saver, "exec-a", {"a": 2}, parent=first, configurable={"incident_id": "inc-1"})
    put(saver, "exec-c", {"a": 1}, metadata={"incident_id": "inc-2"})
    put(saver, "exec-d", {"a": 1})  # no incident: not in the index

    assert find_executions(dynamodb, table, "inc-1") == ["exec-a", "exec-b"]
    assert find_executions(dynamodb, table, "inc-2") == ["exec-c"]
    assert find_executions(dynamodb, table, "inc-3") == []
    page = dynamodb.query(
        TableName=table,
        IndexName="incident-id-index",
        KeyConditionExpression="incident_id = :i",
        ExpressionAttributeValues={":i": {"S": "inc-1"}},
    )
    assert [i["created_at"]["S"] for i in page["Items"]] == [
        "2024-05-01T09:00:00+00:00",
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T11:00:00+00:00",
    ]


def test_ttl_follows_the_frozen_clock_on_every_item(
    dynamodb: Any, table: str, table_items: Any
) -> None:
    saver = DynamoDBCheckpointer(table, client=dynamodb, ttl_days=7)
    frozen = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    with freeze_time(frozen):
        parent = put(saver, "exec-1", {"big": incompressible(900_000)})
        saver.put_writes(parent, [("big", incompressible(500_000)), ("x", 1)], "task-1")
    expected = int(frozen.timestamp()) + 7 * DAY
    items = table_items()
    assert len(items) > 4  # head, write, and chunks of both
    assert {int(i["ttl"]["N"]) for i in items} == {expected}

    with freeze_time("2024-06-01T00:00:00Z"):  # the clock is read per call, never cached
        put(saver, "exec-2", {"a": 1})
    later = [i for i in table_items() if i["session_id"]["S"] == "exec-2"]
    assert [int(i["ttl"]["N"]) for i in later] == [
        int(datetime(2024, 6, 1, tzinfo=UTC).timestamp()) + 7 * DAY
    ]


def test_two_megabyte_state_is_chunked_and_read_back(
    saver: DynamoDBCheckpointer, dynamodb: Any, count_calls: Any, table_items: Any
) -> None:
    state = {"hypotheses": incompressible(2_000_000), "small": [1, 2, 3]}
    with count_calls(dynamodb) as calls:
        stored = put(saver, "exec-1", state)
    assert calls == {"BatchWriteItem": 1, "PutItem": 1}  # chunks first, then the head
    big_write = {"raw_completion": incompressible(2_000_000)}
    saver.put_writes(stored, [("hypotheses", big_write)], "task-1")

    items = table_items()
    sizes = [len(i.get("payload", {}).get("B", b"")) for i in items]
    assert len(items) == 2 + 2 * 6  # two owners, six chunks each
    assert max(sizes) < 400_000

    with count_calls(dynamodb) as reads:
        tup = saver.get_tuple({"configurable": {"thread_id": "exec-1"}})
    # 4 MB of items: DynamoDB returns at most 1 MB per Query page.
    assert set(reads) == {"Query"} and 4 <= reads["Query"] <= 5
    assert tup is not None
    assert tup.checkpoint["channel_values"] == state
    assert tup.pending_writes == [("task-1", "hypotheses", big_write)]


def test_latest_ignores_a_checkpoint_whose_head_never_landed(
    saver: DynamoDBCheckpointer,
) -> None:
    first = put(saver, "exec-1", {"a": 1})
    saver.put_writes(first, [("a", 2)], "task-1")
    # The process died after a later step's writes but before its head was stored.
    orphan = {"configurable": {**first["configurable"], "checkpoint_id": str(uuid6(clock_seq=9))}}
    saver.put_writes(orphan, [("a", 3)], "task-2")

    tup = saver.get_tuple({"configurable": {"thread_id": "exec-1"}})
    assert tup is not None
    assert tup.config == first
    assert tup.pending_writes == [("task-1", "a", 2)]


def test_latest_reads_on_when_writes_fill_the_first_page(
    dynamodb: Any, table: str, count_calls: Any
) -> None:
    saver = DynamoDBCheckpointer(table, client=dynamodb, page_size=2)
    stored = put(saver, "exec-1", {"a": 1})
    for i in range(5):
        saver.put_writes(stored, [("a", i)], f"task-{i}")
    with count_calls(dynamodb) as reads:
        tup = saver.get_tuple({"configurable": {"thread_id": "exec-1"}})
    assert tup is not None and len(tup.pending_writes or []) == 5
    assert reads == {"Query": 2}  # a page of 2 writes, then 4 items: 3 writes and the head


def test_list_filters_pages_and_namespaces(dynamodb: Any, table: str) -> None:
    saver = DynamoDBCheckpointer(table, client=dynamodb, page_size=1)
    configs, parent = [], None
    for step in range(5):
        parent = put(saver, "exec-1", {"step": step}, parent=parent, step=step)
        saver.put_writes(parent, [("w", step), ("v", -step)], f"task-{step}")
        configs.append(parent)
    put(saver, "exec-1", {"child": True}, ns="sub:1")
    put(saver, "exec-2", {"other": True})
    ids = [c["configurable"]["checkpoint_id"] for c in configs]
    root = {"configurable": {"thread_id": "exec-1", "checkpoint_ns": ""}}

    listed = list(saver.list(root))
    assert [t.config["configurable"]["checkpoint_id"] for t in listed] == ids[::-1]
    assert [t.metadata["step"] for t in listed] == [4, 3, 2, 1, 0]
    assert all(len(t.pending_writes or []) == 2 for t in listed)
    assert [t.parent_config is None for t in listed] == [False] * 4 + [True]

    def listed_ids(**kwargs: Any) -> list[str]:
        return [t.config["configurable"]["checkpoint_id"] for t in saver.list(root, **kwargs)]

    assert listed_ids(limit=2) == [ids[4], ids[3]]
    assert listed_ids(before=configs[3]) == [ids[2], ids[1], ids[0]]
    assert listed_ids(before=configs[3], limit=1) == [ids[2]]
    assert listed_ids(filter={"step": 2}) == [ids[2]]
    assert listed_ids(filter={"source": "loop", "step": 7}) == []
    assert listed_ids(limit=0) == []
    only = {"configurable": {**root["configurable"], "checkpoint_id": ids[1]}}
    assert [t.config["configurable"]["checkpoint_id"] for t in saver.list(only)] == [ids[1]]

    child = list(saver.list({"configurable": {"thread_id": "exec-1", "checkpoint_ns": "sub:1"}}))
    assert [t.checkpoint["channel_values"] for t in child] == [{"child": True}]
    every_ns = list(saver.list({"configurable": {"thread_id": "exec-1"}}))
    assert len(every_ns) == 6
    with pytest.raises(ValueError, match="thread_id"):
        list(saver.list(None))


def test_delete_thread_removes_every_item(
    saver: DynamoDBCheckpointer, dynamodb: Any, count_calls: Any, table_items: Any
) -> None:
    stored = put(saver, "exec-1", {"big": incompressible(1_000_000)})
    saver.put_writes(stored, [("a", 1)], "task-1")
    put(saver, "exec-1", {"a": 1}, ns="sub:1")
    put(saver, "exec-2", {"a": 2})
    with count_calls(dynamodb) as calls:
        saver.delete_thread("exec-1")
    # Key-only reads still page by the 1 MB *read*: the 1 MB state takes two pages.
    assert calls == {"Query": 2, "BatchWriteItem": 1}
    assert {i["session_id"]["S"] for i in table_items()} == {"exec-2"}
    assert saver.get_tuple({"configurable": {"thread_id": "exec-1"}}) is None
    saver.delete_thread("exec-404")  # nothing to delete is fine


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@pytest.fixture
def unprocessed_batches(dynamodb: Any) -> Iterator[list[int]]:
    """Answer BatchWriteItem with real response bytes that leave every request
    unprocessed, for as many calls as the test asks; then let moto answer."""
    remaining = [0]

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        if remaining[0] <= 0:
            return None
        remaining[0] -= 1
        body = json.loads(request.body)
        payload = json.dumps({"UnprocessedItems": body["RequestItems"]}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 200, headers, _Body(payload))

    dynamodb.meta.events.register_first("before-send.dynamodb.BatchWriteItem", respond)
    try:
        yield remaining
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb.BatchWriteItem", respond)


def test_unprocessed_batch_items_are_retried(
    saver: DynamoDBCheckpointer,
    dynamodb: Any,
    count_calls: Any,
    unprocessed_batches: list[int],
) -> None:
    unprocessed_batches[0] = 2
    with count_calls(dynamodb) as calls:
        put(saver, "exec-1", {"big": incompressible(800_000)})
    assert calls == {"BatchWriteItem": 3, "PutItem": 1}
    tup = saver.get_tuple({"configurable": {"thread_id": "exec-1"}})
    assert tup is not None and tup.checkpoint["channel_values"]["big"] == incompressible(800_000)


def test_unprocessed_batch_items_never_pass_silently(
    saver: DynamoDBCheckpointer, unprocessed_batches: list[int]
) -> None:
    saver._table.batch_attempts = 2
    unprocessed_batches[0] = 2
    with pytest.raises(CheckpointWriteError, match="unprocessed"):
        put(saver, "exec-1", {"big": incompressible(800_000)})
    # The head was never stored, so the half-written chunks are invisible.
    assert saver.get_tuple({"configurable": {"thread_id": "exec-1"}}) is None


def test_constructor_validates_and_defaults(table: str) -> None:
    with pytest.raises(ValueError, match="ttl_days"):
        DynamoDBCheckpointer(table, ttl_days=0)
    default = DynamoDBCheckpointer(table)
    assert default.client.meta.config.retries["mode"] == "standard"
    assert default.serde.pickle_fallback is False


def test_copy_and_prune_carry_chunks_and_writes(
    saver: DynamoDBCheckpointer, table_items: Any
) -> None:
    first = put(saver, "exec-1", {"big": incompressible(700_000)})
    saver.put_writes(first, [("a", 1)], "task-1")
    second = put(saver, "exec-1", {"big": incompressible(900_000)}, parent=first, step=1)
    saver.put_writes(second, [("a", 2), (ERROR, "late")], "task-2")

    saver.copy_thread("exec-1", "exec-copy")
    for config in (first, second):
        original = saver.get_tuple(config)
        copied = saver.get_tuple(
            {"configurable": {**config["configurable"], "thread_id": "exec-copy"}}
        )
        assert original is not None and copied is not None
        assert copied.checkpoint == original.checkpoint
        assert copied.pending_writes == original.pending_writes
        assert copied.metadata == original.metadata

    saver.prune(["exec-copy"])
    kept = list(saver.list({"configurable": {"thread_id": "exec-copy"}}))
    assert [t.checkpoint["channel_values"]["big"] for t in kept] == [incompressible(900_000)]
    assert sorted(kept[0].pending_writes or [], key=repr) == sorted(
        [("task-2", "a", 2), ("task-2", ERROR, "late")], key=repr
    )
    remaining = [i for i in table_items() if i["session_id"]["S"] == "exec-copy"]
    assert len(remaining) == 1 + 3 + 2  # head, its chunks, two write slots
    with pytest.raises(ValueError, match="strategy"):
        saver.prune(["exec-1"], strategy="oldest")


def test_the_lease_item_is_not_part_of_the_thread(
    saver: DynamoDBCheckpointer, dynamodb: Any
) -> None:
    """The in-progress lease lives in the thread's partition; readers skip it."""
    from opx.checkpointing import lease

    config = {"configurable": {"thread_id": "t-lease", "checkpoint_ns": ""}}
    saved = saver.put(config, empty_checkpoint(), {"step": -1}, {})
    lease.acquire(dynamodb, saver.table_name, "t-lease", "owner-1", seconds=60)
    assert [t.config for t in saver.list({"configurable": {"thread_id": "t-lease"}})] == [saved]
    saver.copy_thread("t-lease", "t-copy")
    saver.prune(["t-lease"])
    assert saver.get_tuple({"configurable": {"thread_id": "t-copy"}}) is not None
    with pytest.raises(lease.LeaseHeldError):
        lease.acquire(dynamodb, saver.table_name, "t-lease", "owner-2", seconds=60)
    assert saver.get_tuple({"configurable": {"thread_id": "t-copy", "checkpoint_ns": ""}})
