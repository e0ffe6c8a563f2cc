"""``DynamoDBCheckpointer``: LangGraph checkpoints in the seed's DynamoDB table.

Item layout (one partition per thread, ``session_id = thread_id``; sort key
``checkpoint_id``, escaped parts joined by ``#``, see :mod:`.keys`)::

    <ns>#<cid>                        head: checkpoint with all channel values,
                                      metadata, parent id, incident_id, created_at
    <ns>#<cid>#c<seq>                 chunk of a head payload over 380 KB
    <ns>#<cid>#w#<task>#<idx>         one pending write, idempotent per (task, idx)
    <ns>#<cid>#w#<task>#<idx>#c<seq>  chunk of a write payload over 380 KB

Every item carries ``ttl`` = ``time.time()`` + ``ttl_days`` (read at each call, so
a frozen clock gives a frozen ttl). Heads carry ``incident_id`` (from the
checkpoint metadata, else ``config["configurable"]["incident_id"]``) and
``created_at`` (the checkpoint's ``ts``): the sparse GSI ``incident-id-index``.

DynamoDB calls (no chunks; a chunked payload adds one BatchWriteItem per 25
chunks before its owner):

    ==========================  ==============================================
    get_tuple, latest           1 Query (desc, consistent, Limit 16; more pages
                                only if the newest checkpoint has >15 items)
    get_tuple, by id            1 Query (BETWEEN the checkpoint's key range)
    list                        1 Query per page (1 MB pages; ``limit`` reads
                                16, 32, ... items per page)
    put                         1 PutItem
    put_writes                  1 PutItem for one write, else 1 BatchWriteItem
                                per 25 writes
    delete_thread               1 Query per 1 MB of keys + 1 BatchWriteItem per 25
    ==========================  ==============================================

A super-step with ``n`` tasks therefore costs ``n`` put_writes calls plus one
PutItem; an invocation adds one Query up front. The 8-node fan-out graph of
``bench/checkpointer.py`` (input, 1 entry, 5 parallel, 2 sequential) makes 15
calls per invocation: 1 Query + 5 PutItem + 9 put_writes.

Why writes are batched but still safe: BatchWriteItem is not atomic, so every
write item lists the idx of its whole ``put_writes`` call, and a reader accepts a
task's writes only when all of them are present (see :mod:`.items`). A process
killed mid-batch therefore re-runs that task rather than resuming with part of
its output. Heads and writes are stored only after their chunks, so a visible
item whose chunks are missing is corruption, and raises.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from opx.checkpointing import codec, items, keys
from opx.checkpointing.store import ThreadTable

SECONDS_PER_DAY = 86_400
#: First page of a "latest checkpoint" read: the head plus up to 15 writes/chunks.
DEFAULT_PAGE_SIZE = 16
DEFAULT_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


def default_client() -> Any:
    """A DynamoDB client from the environment, with botocore's standard retries."""
    return boto3.client("dynamodb", config=DEFAULT_CLIENT_CONFIG)


class DynamoDBCheckpointer(BaseCheckpointSaver[int]):
    """LangGraph checkpoint saver on the checkpoint table (see module docstring).

    Args:
        table_name: the table, created from :data:`opx.checkpointing.TABLE_SCHEMA`.
        client: a boto3 DynamoDB client; default: :func:`default_client`.
        ttl_days: days until DynamoDB may expire an item.
        serde: serializer; default JsonPlus without pickle, strict msgpack allowlist.
        page_size: first page of a "latest checkpoint" Query.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        ttl_days: int = 30,
        serde: SerializerProtocol | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        super().__init__(serde=serde or codec.default_serde())
        if ttl_days < 1:
            raise ValueError(f"ttl_days must be at least 1, got {ttl_days}")
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        self.table_name = table_name
        self.client = client if client is not None else default_client()
        self.ttl_days = ttl_days
        self.page_size = page_size
        self._table = ThreadTable(self.client, table_name)

    def _ttl(self) -> int:
        # Read the clock on every call: replays freeze it, and a cached value would
        # leak the wall clock into stored items.
        return int(time.time()) + self.ttl_days * SECONDS_PER_DAY

    # --- reads ---------------------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        conf = config["configurable"]
        thread_id: str = conf["thread_id"]
        checkpoint_ns: str = conf.get("checkpoint_ns", "")
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id:
            bounds = keys.checkpoint_range(checkpoint_ns, checkpoint_id)
            first_page = None
        else:
            bounds = keys.namespace_range(checkpoint_ns)
            first_page = self.page_size
        found = self._table.query(thread_id, bounds, first_page=first_page)
        for group in items.group_newest_first(thread_id, found):
            return items.decode(group, self.serde)
        return None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints of one thread, newest first.

        Without ``checkpoint_ns`` in the config every namespace is listed. Listing
        across threads (``config=None``) would need a table Scan and is refused.
        """
        if config is None:
            raise ValueError(
                "DynamoDBCheckpointer.list needs a thread_id; find an incident's "
                "threads with opx.checkpointing.find_executions"
            )
        if limit is not None and limit <= 0:
            return
        conf = config["configurable"]
        thread_id: str = conf["thread_id"]
        checkpoint_ns: str | None = conf.get("checkpoint_ns")
        checkpoint_id = get_checkpoint_id(config)
        before_id = get_checkpoint_id(before) if before else None
        bounds: tuple[str, str] | None = None
        if checkpoint_ns is not None:
            if checkpoint_id:
                bounds = keys.checkpoint_range(checkpoint_ns, checkpoint_id)
            elif before_id:
                # Everything older than `before` sorts below its head key.
                bounds = (
                    keys.namespace_range(checkpoint_ns)[0],
                    keys.head_key(checkpoint_ns, before_id),
                )
            else:
                bounds = keys.namespace_range(checkpoint_ns)
        first_page = self.page_size if limit is not None else None
        found = self._table.query(thread_id, bounds, first_page=first_page)
        for group in items.group_newest_first(thread_id, found):
            if checkpoint_id and group.checkpoint_id != checkpoint_id:
                continue
            if before_id and group.checkpoint_id >= before_id:
                continue
            tup = items.decode(group, self.serde)
            if filter and not all(tup.metadata.get(k) == v for k, v in filter.items()):
                continue
            yield tup
            if limit is not None:
                limit -= 1
                if limit <= 0:
                    return

    # --- writes --------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        # The head stores every channel value, not only `new_versions`: one item
        # (one read) rebuilds a checkpoint, at the price of rewriting unchanged
        # channels each step -- small for this executor's state.
        conf = config["configurable"]
        thread_id: str = conf["thread_id"]
        checkpoint_ns: str = conf.get("checkpoint_ns", "")
        stored_metadata = get_checkpoint_metadata(config, metadata)
        encoded = items.encode_head(
            thread_id=thread_id,
            checkpoint_ns=checkpoint_ns,
            checkpoint_id=checkpoint["id"],
            parent_id=conf.get("checkpoint_id"),
            checkpoint=codec.dumps(self.serde, checkpoint),
            metadata=codec.dumps(self.serde, stored_metadata),
            created_at=checkpoint.get("ts") or datetime.now(UTC).isoformat(),
            ttl=self._ttl(),
            incident_id=_incident_id(stored_metadata, conf),
        )
        self._table.write([encoded])
        return items.config_of(thread_id, checkpoint_ns, checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        conf = config["configurable"]
        thread_id: str = conf["thread_id"]
        checkpoint_ns: str = conf.get("checkpoint_ns", "")
        checkpoint_id: str = conf["checkpoint_id"]
        # Regular writes of a call share one item (slot "r"), so a task's output
        # lands atomically in one PutItem; each special write (error, interrupt...)
        # owns a fixed slot that a later call for the same task overwrites.
        slots: dict[str, list[tuple[int, str, tuple[str, bytes]]]] = {}
        for position, (channel, value) in enumerate(writes):
            special = WRITES_IDX_MAP.get(channel)
            typed = codec.dumps(self.serde, value)
            if special is None:
                slots.setdefault(keys.REGULAR_SLOT, []).append((position, channel, typed))
            else:
                slots[str(special)] = [(special, channel, typed)]
        if not slots:
            return
        ttl = self._ttl()
        encoded = [
            items.encode_writes(
                thread_id=thread_id,
                checkpoint_ns=checkpoint_ns,
                checkpoint_id=checkpoint_id,
                task_id=task_id,
                task_path=task_path,
                slot=slot,
                writes=slot_writes,
                ttl=ttl,
            )
            for slot, slot_writes in sorted(slots.items())
        ]
        self._table.write(encoded)

    def delete_thread(self, thread_id: str) -> None:
        self._table.delete(self._table.keys(thread_id))

    # --- async: boto3 is synchronous, so each call runs in a worker thread ----

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        found = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for tup in found:
            yield tup

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)


def _incident_id(metadata: CheckpointMetadata, configurable: dict[str, Any]) -> str | None:
    for candidate in (metadata.get("incident_id"), configurable.get("incident_id")):  # type: ignore[attr-defined]
        if isinstance(candidate, str) and candidate:
            return candidate
    return None
