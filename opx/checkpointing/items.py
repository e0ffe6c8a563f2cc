"""DynamoDB items of a thread: building them, and turning one checkpoint's items back
into a ``CheckpointTuple``.

Attributes (low-level wire format; ``S`` string, ``N`` number, ``B`` binary)::

    every owner  session_id S, checkpoint_id S (sort key, see .keys), ttl N,
                 payload B (sealed frame, see .chunking)
                 | chunks N (1..MAX_CHUNKS) + digest B (the sealed blob's SHA-256),
                 pin B (see below)
    head         + created_at S (checkpoint ts), parent_cid S?, incident_id S?
                 frame = [checkpoint with channel values, metadata]
    write        frame = [task_path, then (idx, channel, value) per write]
    chunk        session_id, checkpoint_id, ttl (its owner's), payload B

Items hold few attributes on purpose: the key already names thread, namespace,
checkpoint, task and slot, and every attribute costs item size (WCUs) on each write.

**Sealed owners.** ``pin`` is SHA-256 over every other attribute of the owner (name,
type, value) and the payload's digest, so no plain attribute the reader trusts -- the
chunk count, the parent id, the ttl, the key -- can change without the read failing,
and a chunked owner only ever decodes the chunks it was written with (``digest``).
The chunk count is bounded (:data:`MAX_CHUNKS`) and checked before anything else, so a
forged count fails in constant time and memory. Like the payload digest this guards
against accidents and hand edits, not an attacker who recomputes it (:mod:`.codec`
keeps stored bytes from running code).

**Expiry.** An item whose ``ttl`` is before now (``time.time()``, frozen in replays)
is absent, whatever DynamoDB has or has not deleted yet: an expired head hides its
checkpoint with its writes and chunks, an expired write is not pending. Chunks share
their owner's ttl.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, PendingWrite, writes_sort_key
from langgraph.checkpoint.serde.base import SerializerProtocol

from opx.checkpointing import chunking, codec, keys
from opx.checkpointing.errors import CheckpointCorruptError, CheckpointWriteError
from opx.checkpointing.schema import TABLE_SCHEMA

PK = TABLE_SCHEMA.partition_key
SK = TABLE_SCHEMA.sort_key
TTL = TABLE_SCHEMA.ttl_attribute
#: Frame tag of the saver's own text fields; never handed to the serializer.
TEXT = "text"
PIN = "pin"
DIGEST = "digest"
IDX = "idx"
#: Most chunk items one owner may have (64 x 380 KB, about 24 MB: far above any
#: executor state, and well inside the Lambda's 512 MB). Writes beyond it are refused.
MAX_CHUNKS = 64
#: Longest ``ttl`` / ``chunks`` number text the reader parses (epoch seconds fit in 12).
_MAX_NUMBER_DIGITS = 12
_PIN_DOMAIN = b"opx-checkpoint-pin/1\n"
_DIGEST_LEN = 32
_HEX = frozenset("0123456789abcdefABCDEF")

Item = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Encoded:
    """An owner item and the chunk items that must be stored before it."""

    owner: Item
    chunks: list[Item] = field(default_factory=list)
    #: Store the owner only if its key is free (a task's regular writes: the first
    #: write per (task, idx) wins, as in LangGraph's InMemorySaver).
    only_if_new: bool = False


def _attribute_text(name: str, value: dict[str, Any]) -> list[str]:
    (kind, raw), *rest = value.items()
    if rest or kind not in ("S", "N", "B"):
        raise ValueError(f"attribute {name!r} has an unexpected type")
    return [name, kind, bytes(raw).hex() if kind == "B" else str(raw)]


def pin_of(item: Item) -> bytes:
    """SHA-256 over every attribute but ``pin`` and ``payload``, and the payload digest."""
    if "payload" in item:
        digest = bytes(item["payload"]["B"])[:_DIGEST_LEN]
    else:
        digest = bytes(item[DIGEST]["B"])
    attributes = [_attribute_text(n, item[n]) for n in sorted(item) if n not in (PIN, "payload")]
    text = json.dumps(attributes, separators=(",", ":"), ensure_ascii=True).encode()
    return hashlib.sha256(_PIN_DOMAIN + text + b"\n" + digest).digest()


def repin(item: Item) -> Item:
    """Seal an owner again after changing its attributes (a copy's thread and ttl)."""
    item[PIN] = {"B": pin_of(item)}
    return item


def _with_payload(item: Item, fields: Sequence[tuple[str, bytes]]) -> Encoded:
    blob = chunking.seal(fields)
    pieces = chunking.split(blob)
    if not pieces:
        item["payload"] = {"B": blob}
        return Encoded(repin(item))
    if len(pieces) > MAX_CHUNKS:
        raise CheckpointWriteError(
            f"payload of {len(blob)} bytes needs {len(pieces)} chunks; at most {MAX_CHUNKS} "
            f"({MAX_CHUNKS * chunking.CHUNK_SIZE} bytes) are stored"
        )
    item["chunks"] = {"N": str(len(pieces))}
    item[DIGEST] = {"B": blob[:_DIGEST_LEN]}
    repin(item)
    owner_key = item[SK]["S"]
    chunks = [
        {
            PK: item[PK],
            SK: {"S": keys.chunk_key(owner_key, seq)},
            TTL: item[TTL],
            "payload": {"B": piece},
        }
        for seq, piece in enumerate(pieces)
    ]
    return Encoded(item, chunks)


def encode_head(
    *,
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str,
    parent_id: str | None,
    checkpoint: tuple[str, bytes],
    metadata: tuple[str, bytes],
    created_at: str,
    ttl: int,
    incident_id: str | None,
) -> Encoded:
    item: Item = {
        PK: {"S": thread_id},
        SK: {"S": keys.head_key(checkpoint_ns, checkpoint_id)},
        TTL: {"N": str(ttl)},
        TABLE_SCHEMA.gsi_sort_key: {"S": created_at},
    }
    if parent_id:
        item["parent_cid"] = {"S": parent_id}
    if incident_id:
        item[TABLE_SCHEMA.gsi_partition_key] = {"S": incident_id}
    return _with_payload(item, [checkpoint, metadata])


def encode_writes(
    *,
    thread_id: str,
    checkpoint_ns: str,
    checkpoint_id: str,
    task_id: str,
    task_path: str,
    slot: str,
    writes: Sequence[tuple[int, str, tuple[str, bytes]]],
    ttl: int,
) -> Encoded:
    """One slot of a task: regular writes together, or one special write.

    ``idx`` lists the write indexes in plain text (sealed by the pin), so a later call
    for the same task learns which indexes are taken without decoding any value.
    """
    fields: list[tuple[str, bytes]] = [(TEXT, task_path.encode())]
    for idx, channel, value in writes:
        fields += [(TEXT, str(idx).encode()), (TEXT, channel.encode()), value]
    item: Item = {
        PK: {"S": thread_id},
        SK: {"S": keys.write_key(checkpoint_ns, checkpoint_id, task_id, slot)},
        TTL: {"N": str(ttl)},
        IDX: {"S": ",".join(str(idx) for idx, _, _ in writes)},
    }
    encoded = _with_payload(item, fields)
    if keys.regular_slot_number(slot) is None:
        return encoded
    return Encoded(encoded.owner, encoded.chunks, only_if_new=True)


def taken_indexes(item: Item) -> set[int]:
    """The write indexes a stored write item holds (its pin checked first)."""
    pin = item.get(PIN, {}).get("B")
    text = item.get(IDX, {}).get("S")
    if pin is None or bytes(pin) != pin_of(item) or not isinstance(text, str):
        raise ValueError("write item's pin does not match its attributes (edited or unsealed)")
    return {int(part) for part in text.split(",") if part.lstrip("-").isdigit()}


@dataclass
class Group:
    """The items of one checkpoint as read: its head and everything under it."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    head: Item | None = None
    others: list[tuple[keys.ParsedKey, Item]] = field(default_factory=list)


class _Reader:
    """Decodes one group; every failure becomes a ``CheckpointCorruptError``."""

    def __init__(self, group: Group, serde: SerializerProtocol) -> None:
        self.group = group
        self.serde = serde
        self.chunks: dict[str, dict[int, bytes]] = {}

    @contextmanager
    def _at(self, item: Item) -> Iterator[None]:
        try:
            yield
        except CheckpointCorruptError:
            raise
        except Exception as exc:
            g = self.group
            raise CheckpointCorruptError(
                g.thread_id,
                g.checkpoint_ns,
                g.checkpoint_id,
                f"{type(exc).__name__}: {exc}",
                sort_key=item.get(SK, {}).get("S"),
            ) from exc

    def _fields(self, item: Item) -> list[tuple[str, bytes]]:
        # Constant-cost checks first: the count is bounded before it sizes anything,
        # and the pin proves the plain attributes before any of them is used.
        count = chunk_count(item)
        pin = item.get(PIN, {}).get("B")
        if pin is None or bytes(pin) != pin_of(item):
            raise ValueError("owner item's pin does not match its attributes (edited or unsealed)")
        if count is None:
            return chunking.unseal(bytes(item["payload"]["B"]))
        pieces = self.chunks.get(item[SK]["S"], {})
        # Chunks beyond `count` are leftovers of an earlier, longer attempt whose
        # owner never landed; the pinned digest vouches for the rest.
        missing = [seq for seq in range(count) if seq not in pieces]
        if missing:
            shown = ", ".join(map(str, missing[:8])) + (", ..." if len(missing) > 8 else "")
            raise ValueError(f"{len(missing)} of {count} chunks are missing ({shown})")
        blob = b"".join(bytes(pieces[seq]) for seq in range(count))
        if blob[:_DIGEST_LEN] != bytes(item[DIGEST]["B"]):
            raise ValueError("chunks do not belong to this owner (digest differs from its pin)")
        return chunking.unseal(blob)

    def _load(self, typed: tuple[str, bytes]) -> Any:
        return codec.loads(self.serde, typed[0], typed[1])

    def tuple(self) -> CheckpointTuple:
        g = self.group
        assert g.head is not None
        writes: list[tuple[str, int, Item]] = []
        for parsed, item in g.others:
            if parsed.kind == "chunk":
                with self._at(item):
                    owner, seq = parsed.owner, parsed.seq
                    assert owner is not None and seq is not None
                    self.chunks.setdefault(owner, {})[seq] = item["payload"]["B"]
            else:
                assert parsed.task_id is not None and parsed.slot is not None
                rank = keys.regular_slot_number(parsed.slot)
                writes.append((parsed.task_id, -1 if rank is None else rank, item))
        with self._at(g.head):
            checkpoint_t, metadata_t = self._fields(g.head)
            checkpoint = self._load(checkpoint_t)
            metadata = self._load(metadata_t)
            if not isinstance(checkpoint, dict) or checkpoint.get("id") != g.checkpoint_id:
                raise ValueError("checkpoint payload does not belong to this item")
            if not is_checkpoint_id(g.checkpoint_id):
                # LangGraph reads the id as hex bytes before any step (task ids derive
                # from it): refuse it here, naming the item, not later with binascii's
                # bare "Non-hexadecimal digit found".
                raise ValueError(f"checkpoint id {g.checkpoint_id!r} is not hex digits")
            parent_id = g.head.get("parent_cid", {}).get("S")
        return CheckpointTuple(
            config=config_of(g.thread_id, g.checkpoint_ns, g.checkpoint_id),
            checkpoint=checkpoint,
            metadata=metadata,
            parent_config=(
                config_of(g.thread_id, g.checkpoint_ns, parent_id) if parent_id else None
            ),
            pending_writes=self._pending_writes(writes),
        )

    def _pending_writes(self, items: list[tuple[str, int, Item]]) -> list[PendingWrite]:
        ordered: list[tuple[tuple[str, str, int], PendingWrite]] = []
        seen: set[tuple[str, int]] = set()
        # Oldest regular slot first, so the first write per (task, idx) wins even if two
        # racing calls both stored one (conditional writes make that all but impossible).
        for task_id, _, item in sorted(items, key=lambda entry: (entry[0], entry[1])):
            with self._at(item):
                fields = self._fields(item)
                if len(fields) < 4 or (len(fields) - 1) % 3 or fields[0][0] != TEXT:
                    raise ValueError("write payload has the wrong shape")
                task_path = fields[0][1].decode()
                for i in range(1, len(fields), 3):
                    (idx_tag, idx_raw), (ch_tag, ch_raw), value_t = fields[i : i + 3]
                    if idx_tag != TEXT or ch_tag != TEXT:
                        raise ValueError("write payload has the wrong shape")
                    idx = int(idx_raw.decode())
                    if idx >= 0 and (task_id, idx) in seen:
                        continue
                    seen.add((task_id, idx))
                    write = (task_id, ch_raw.decode(), self._load(value_t))
                    ordered.append((writes_sort_key(task_path, task_id, idx), write))
        ordered.sort(key=lambda pair: pair[0])
        return [write for _, write in ordered]


def is_checkpoint_id(text: str) -> bool:
    """An id LangGraph can resume from: hex digits (an even count), dashes aside -- a
    uuid6 as it writes them. An edited id holding anything else cannot be resumed."""
    digits = text.replace("-", "")
    return bool(digits) and len(digits) % 2 == 0 and all(ch in _HEX for ch in digits)


def chunk_count(item: Item) -> int | None:
    """The owner's chunk count, ``None`` for an inline payload; ``ValueError`` unless it
    is a plain integer in 1..MAX_CHUNKS (checked on the text: constant time and memory)."""
    if "chunks" not in item:
        if "payload" not in item:
            raise ValueError("owner item has neither payload nor chunks")
        return None
    text = item["chunks"].get("N")
    if (
        not (isinstance(text, str) and text.isdigit() and len(text) <= len(str(MAX_CHUNKS)))
        or not 1 <= int(text) <= MAX_CHUNKS
    ):
        shown = text[:24] + "..." if isinstance(text, str) and len(text) > 24 else text
        raise ValueError(f"chunk count {shown!r} is outside 1..{MAX_CHUNKS}")
    if DIGEST not in item:
        raise ValueError("chunked owner item has no digest")
    return int(text)


def is_expired(item: Item, now: int) -> bool:
    """``ttl`` before ``now``: DynamoDB may delete it any time, so it is already gone."""
    text = item.get(TTL, {}).get("N")
    if text is None:
        return False
    if not (isinstance(text, str) and text.isdigit() and len(text) <= _MAX_NUMBER_DIGITS):
        return False  # malformed: not expired; the owner's pin check reports it
    return int(text) < now


def config_of(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }


def decode(group: Group, serde: SerializerProtocol) -> CheckpointTuple:
    return _Reader(group, serde).tuple()


def group_newest_first(thread_id: str, items: Iterator[Item]) -> Iterator[Group]:
    """Group items read newest-first into complete checkpoints.

    A checkpoint's writes and chunks arrive before its head (see :mod:`.keys`), so a
    group is complete when its head shows up. Items of a checkpoint whose head never
    landed (the process died between its writes and its head) are skipped: that
    checkpoint does not exist yet. Expired items are skipped too (:func:`is_expired`,
    against ``time.time()`` read once per call); an expired head drops its group.
    """
    now = int(time.time())
    current: Group | None = None
    for item in items:
        sort_key = item[SK]["S"]
        if keys.is_meta(sort_key):
            continue  # the execution's lease, not part of any checkpoint
        try:
            parsed = keys.parse(sort_key)
        except ValueError as exc:
            raise CheckpointCorruptError(thread_id, "?", "?", str(exc), sort_key=sort_key) from exc
        if is_expired(item, now):
            if parsed.kind == "head":
                current = None  # the checkpoint has expired, with its writes and chunks
            continue
        if current is None or (current.checkpoint_ns, current.checkpoint_id) != (
            parsed.checkpoint_ns,
            parsed.checkpoint_id,
        ):
            current = Group(thread_id, parsed.checkpoint_ns, parsed.checkpoint_id)
        if parsed.kind == "head":
            current.head = item
            yield current
            current = None
        else:
            current.others.append((parsed, item))
