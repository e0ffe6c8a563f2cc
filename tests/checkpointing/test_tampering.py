"""A tampered or unreadable item raises a named error; it never runs code and never
reads as "no checkpoint"."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import ormsgpack
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from opx.checkpointing import CheckpointCorruptError, DynamoDBCheckpointer, chunking, items, keys

THREAD = "exec-tamper"


class _TouchOnUnpickle:
    """Unpickling this creates ``path``: proof that stored code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.path,))


def _store(saver: DynamoDBCheckpointer, values: dict[str, Any]) -> dict[str, Any]:
    cp = empty_checkpoint()
    cp["channel_values"] = values
    cp["channel_versions"] = dict.fromkeys(values, 1)
    config = {"configurable": {"thread_id": THREAD, "checkpoint_ns": ""}}
    return saver.put(config, cp, {"source": "loop", "step": 0}, dict(cp["channel_versions"]))


def _head(dynamodb: Any, table: str, stored: dict[str, Any]) -> dict[str, Any]:
    key = {
        "session_id": {"S": THREAD},
        "checkpoint_id": {"S": keys.head_key("", stored["configurable"]["checkpoint_id"])},
    }
    return dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]


def _replace_fields(dynamodb: Any, table: str, item: dict[str, Any], index: int, new: Any) -> None:
    """Rewrite one payload field and re-seal and re-pin it, as an attacker who knows the
    layout would: the serializer's guards must hold on their own."""
    fields = chunking.unseal(item["payload"]["B"])
    fields[index] = new
    item["payload"] = {"B": chunking.seal(fields)}
    dynamodb.put_item(TableName=table, Item=items.repin(item))


def _read_fails(saver: DynamoDBCheckpointer, stored: dict[str, Any], match: str) -> None:
    for config in (stored, {"configurable": {"thread_id": THREAD}}):
        with pytest.raises(CheckpointCorruptError, match=match) as raised:
            saver.get_tuple(config)
        assert raised.value.thread_id == THREAD
        assert raised.value.checkpoint_id == stored["configurable"]["checkpoint_id"]
        assert THREAD in str(raised.value)
        assert stored["configurable"]["checkpoint_id"] in str(raised.value)
    with pytest.raises(CheckpointCorruptError):
        list(saver.list({"configurable": {"thread_id": THREAD}}))


def test_pickle_payload_is_refused_unopened(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str, tmp_path: Path
) -> None:
    stored = _store(saver, {"status": "RUNNING"})
    marker = tmp_path / "pwned"
    evil = ("pickle", pickle.dumps(_TouchOnUnpickle(marker)))
    _replace_fields(dynamodb, table, _head(dynamodb, table, stored), 0, evil)

    _read_fails(saver, stored, "refused payload type 'pickle'")
    assert not marker.exists()
    pickle.loads(evil[1])  # the control: the payload is live
    assert marker.exists()


def test_msgpack_naming_an_unlisted_callable_is_blocked(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str, tmp_path: Path
) -> None:
    stored = _store(saver, {"status": "RUNNING"})
    marker = tmp_path / "pwned"
    # JsonPlus' "constructor" extension: import os, call os.system(<arg>).
    call = ormsgpack.Ext(0, ormsgpack.packb(("os", "system", f"touch {marker}")))
    evil = ("msgpack", ormsgpack.packb({"id": "x", "channel_values": {"status": call}}))
    _replace_fields(dynamodb, table, _head(dynamodb, table, stored), 0, evil)

    _read_fails(saver, stored, r"outside the allowlist: \['os.system'\]")
    assert not marker.exists()
    # The control: a permissive serializer really would run it.
    JsonPlusSerializer(allowed_msgpack_modules=True).loads_typed(evil)
    assert marker.exists()


def test_a_tampered_write_fails_the_read_too(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str, tmp_path: Path
) -> None:
    stored = _store(saver, {"status": "RUNNING"})
    saver.put_writes(stored, [("status", "DONE")], "task-1")
    marker = tmp_path / "pwned"
    (write,) = [
        i for i in dynamodb.scan(TableName=table)["Items"] if "#w#" in i["checkpoint_id"]["S"]
    ]
    _replace_fields(dynamodb, table, write, 3, ("pickle", pickle.dumps(_TouchOnUnpickle(marker))))

    _read_fails(saver, stored, "pickle")
    assert not marker.exists()


def test_edited_bytes_fail_the_digest(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str
) -> None:
    stored = _store(saver, {"status": "RUNNING"})
    item = _head(dynamodb, table, stored)
    payload = item["payload"]["B"]
    item["payload"] = {"B": payload.replace(b"RUNNING", b"SUCCESS")}
    dynamodb.put_item(TableName=table, Item=item)

    _read_fails(saver, stored, "digest mismatch")


def test_missing_chunk_is_corruption_not_absence(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str
) -> None:
    stored = _store(saver, {"big": "x" * 1_000_000})
    chunk = next(
        i
        for i in dynamodb.scan(TableName=table)["Items"]
        if i["checkpoint_id"]["S"].endswith("#c00001")
    )
    dynamodb.delete_item(
        TableName=table,
        Key={"session_id": chunk["session_id"], "checkpoint_id": chunk["checkpoint_id"]},
    )
    _read_fails(saver, stored, r"1 of 3 chunks are missing \(1\)")


def test_a_foreign_item_in_the_partition_is_reported(
    saver: DynamoDBCheckpointer, dynamodb: Any, table: str
) -> None:
    _store(saver, {"status": "RUNNING"})
    dynamodb.put_item(
        TableName=table,
        Item={"session_id": {"S": THREAD}, "checkpoint_id": {"S": "#zzz#oops#1#2#3"}},
    )
    with pytest.raises(CheckpointCorruptError, match="does not follow the checkpoint layout"):
        saver.get_tuple({"configurable": {"thread_id": THREAD}})


@dataclasses.dataclass
class Finding:
    agent: str


def test_state_types_outside_the_allowlist_fail_loudly_unless_allowed(
    saver: DynamoDBCheckpointer,
) -> None:
    # opx keeps state plain JSON; a stray object type is caught at the first resume,
    # not silently turned into a dict.
    stored = _store(saver, {"finding": Finding("risk")})
    with pytest.raises(CheckpointCorruptError, match="Finding"):
        saver.get_tuple(stored)
    allowed = saver.with_allowlist([Finding])  # what compile() does in strict mode
    tup = allowed.get_tuple(stored)
    assert tup is not None and tup.checkpoint["channel_values"] == {"finding": Finding("risk")}


def test_values_msgpack_cannot_encode_are_refused_not_pickled(
    saver: DynamoDBCheckpointer, table_items: Any
) -> None:
    stored = _store(saver, {"status": "RUNNING"})
    before = table_items()
    with pytest.raises(TypeError):
        saver.put_writes(stored, [("status", object())], "task-1")
    assert table_items() == before
