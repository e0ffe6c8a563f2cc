"""``DynamoDBCheckpointer``: LangGraph checkpoints in the seed's DynamoDB table.

Item layout -- one partition per thread (``session_id`` = thread id = execution
id); the sort key ``checkpoint_id`` is built from escaped parts joined by ``#``
(:mod:`.keys`), so one newest-first Query reads a checkpoint, a namespace or a
whole thread, writes included::

    <ns>#<cid>                  head: checkpoint with every channel value, metadata
                                (payload); parent_cid, created_at, incident_id
    <ns>#<cid>#c<seq>           chunk of a head payload over 380 KB
    <ns>#<cid>#w#<task>#r       the regular writes of one task, in one item
    <ns>#<cid>#w#<task>#-1..-4  one special write (error, scheduled, interrupt, resume)
    <ns>#<cid>#w#<task>#<slot>#c<seq>   chunk of a write payload over 380 KB

Every item carries ``ttl`` = ``time.time()`` + ``ttl_days`` days, read at each call
(a frozen clock gives a frozen ttl). Heads carry ``incident_id`` -- from the
checkpoint metadata, else ``config["configurable"]["incident_id"]`` -- and
``created_at`` (the checkpoint's ``ts``): the sparse GSI ``incident-id-index``.

DynamoDB calls (a payload over 380 KB adds one BatchWriteItem per 25 chunks,
written before the item that owns them):

    =================  =========================================================
    get_tuple, latest  1 Query (newest first, consistent, Limit 16; it reads on
                       only when the newest checkpoint has 16+ items or > 1 MB)
    get_tuple, by id   1 Query (BETWEEN the checkpoint's key range), consistent
    list               1 Query per 1 MB page (with ``limit``: pages of 16, 32, ...)
    put                1 PutItem
    put_writes         1 PutItem; 1 TransactWriteItems if the call also carries
                       special writes (error, interrupt...)
    delete_thread      1 Query per 1 MB read + 1 BatchWriteItem per 25 items
    copy_thread        1 Query per 1 MB read + 1 BatchWriteItem per 25 items of
                       each kind (chunks, then writes, then heads)
    prune              as delete_thread, for what it removes
    =================  =========================================================

So a super-step with ``n`` finished tasks costs ``n + 1`` PutItems, and an
invocation one Query more. The 8-node fan-out graph of ``bench/checkpointer.py``
makes 16 calls per invocation (1 Query, 6 checkpoints, 9 task writes), against
55 for langgraph-checkpoint-aws's ``DynamoDBSaver``.

Why one item per task: a task's writes become visible together (a PutItem is
atomic), so a resume never sees half of a task's output and skips re-running it.
Repeated calls for a task keep LangGraph's ``InMemorySaver`` semantics: the first
write per (task_id, idx) wins, a special write replaces the previous one. Owners
are stored only after their chunks, so a visible item with a missing chunk is
corruption and raises :class:`~opx.checkpointing.CheckpointCorruptError`; a head
that never landed hides its checkpoint's writes (that step simply re-runs).
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
from opx.checkpointing.errors import CheckpointCorruptError, CheckpointWriteError
from opx.checkpointing.store import SlotTakenError, ThreadTable

SECONDS_PER_DAY = 86_400
#: First page of a "latest checkpoint" read: the head plus up to 15 writes/chunks.
DEFAULT_PAGE_SIZE = 16
#: Conditional writes of one put_writes call before giving up (only racing calls
#: for the same task ever need a second).
MAX_SLOT_ATTEMPTS = 5
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
        # LangGraph's InMemorySaver semantics: the first write per (task_id, idx) wins,
        # a special write (error, interrupt...) replaces the task's previous one. The
        # regular writes of a call share one item, so a task's output lands atomically;
        # the first call stores them under slot "r" if it is free (one conditional
        # PutItem). A later call for the same task stores only the indexes not yet
        # taken, in the next free slot "r1", "r2"... (one Query more, only then).
        regular: list[tuple[int, str, tuple[str, bytes]]] = []
        specials: dict[str, list[tuple[int, str, tuple[str, bytes]]]] = {}
        for position, (channel, value) in enumerate(writes):
            special = WRITES_IDX_MAP.get(channel)
            typed = codec.dumps(self.serde, value)
            if special is None:
                regular.append((position, channel, typed))
            else:
                specials[str(special)] = [(special, channel, typed)]
        if not regular and not specials:
            return
        ttl = self._ttl()
        where = (thread_id, checkpoint_ns, checkpoint_id, task_id)

        def encode(slot: str, slot_writes: list[tuple[int, str, tuple[str, bytes]]]) -> Any:
            return items.encode_writes(
                thread_id=thread_id,
                checkpoint_ns=checkpoint_ns,
                checkpoint_id=checkpoint_id,
                task_id=task_id,
                task_path=task_path,
                slot=slot,
                writes=slot_writes,
                ttl=ttl,
            )

        plan = (keys.regular_slot(0), regular)
        first = encode(*plan) if regular else None
        if first is not None and first.chunks:
            # Never write chunks under a slot that may be taken: look first.
            plan = self._free_slot(where, regular)
        for _ in range(MAX_SLOT_ATTEMPTS):
            slot, todo = plan
            encoded = [encode(slot, todo)] if todo else []
            encoded += [encode(s, w) for s, w in sorted(specials.items())]
            if not encoded:
                return
            try:
                self._table.write(encoded)
                return
            except SlotTakenError:
                plan = self._free_slot(where, regular)
        raise CheckpointWriteError(
            f"task {task_id!r} of checkpoint {checkpoint_id!r}: no free write slot after "
            f"{MAX_SLOT_ATTEMPTS} attempts"
        )

    def _free_slot(
        self,
        where: tuple[str, str, str, str],
        regular: list[tuple[int, str, tuple[str, bytes]]],
    ) -> tuple[str, list[tuple[int, str, tuple[str, bytes]]]]:
        """The task's next free regular slot, and the writes whose index is not taken."""
        thread_id, checkpoint_ns, checkpoint_id, task_id = where
        bounds = keys.task_range(checkpoint_ns, checkpoint_id, task_id)
        taken: set[int] = set()
        used = -1
        now = int(time.time())
        for item in self._table.query(thread_id, bounds, first_page=None):
            parsed = keys.parse(item[items.SK]["S"])
            number = keys.regular_slot_number(parsed.slot or "")
            if parsed.kind != "write" or number is None:
                continue
            used = max(used, number)  # an expired slot's key is still occupied
            if items.is_expired(item, now):
                continue  # ...but its writes are absent, as for every reader
            try:
                taken |= items.taken_indexes(item)
            except ValueError as exc:
                raise CheckpointCorruptError(
                    thread_id, checkpoint_ns, checkpoint_id, str(exc), sort_key=item[items.SK]["S"]
                ) from exc
        return keys.regular_slot(used + 1), [w for w in regular if w[0] not in taken]

    def get_next_version(self, current: Any, channel: None = None) -> Any:
        """Integers for this saver's own checkpoints (1, 2, ...); for a checkpoint whose
        versions are strings (saved by InMemorySaver or an older LangGraph), the next
        string in InMemorySaver's format ``<32-digit counter>.<16 chars>`` -- with a
        fixed suffix instead of InMemorySaver's random one, so replays repeat."""
        if current is None:
            return 1
        if isinstance(current, str):
            return f"{int(current.split('.')[0]) + 1:032}.{0.0:016}"
        return current + 1

    def delete_thread(self, thread_id: str) -> None:
        self._table.delete(self._table.keys(thread_id))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write; copies get a fresh ``ttl``.

        Chunks are stored before writes, and writes before heads, so a reader of
        the target never meets a head whose items are still on their way.
        """
        ttl = {"N": str(self._ttl())}
        waves: dict[str, list[items.Item]] = {"chunk": [], "write": [], "head": []}
        for item in self._table.items(source_thread_id):
            if keys.is_meta(item[items.SK]["S"]):
                continue  # a lease belongs to the source's invocation, not its history
            kind = keys.parse(item[items.SK]["S"]).kind
            copy = {**item, items.PK: {"S": target_thread_id}, items.TTL: ttl}
            waves[kind].append(copy if kind == "chunk" else items.repin(copy))
        self._table.put_in_order([waves["chunk"], waves["write"], waves["head"]])

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """``"delete"`` drops threads; ``"keep_latest"`` keeps, per namespace, the
        newest checkpoint with its writes and chunks.

        Every head stores all channel values, so the kept checkpoint stands on its
        own -- unless the graph uses LangGraph's beta ``DeltaChannel``, whose
        history lives in older checkpoints: do not prune such threads.
        """
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"unknown prune strategy {strategy!r}")
        for thread_id in thread_ids:
            if strategy == "delete":
                self.delete_thread(thread_id)
                continue
            found = [
                (keys.parse(k[items.SK]["S"]), k)
                for k in self._table.keys(thread_id)
                if not keys.is_meta(k[items.SK]["S"])
            ]
            latest: dict[str, str] = {}
            for parsed, _ in found:
                if parsed.kind == "head":
                    ns = parsed.checkpoint_ns
                    latest[ns] = max(latest.get(ns, parsed.checkpoint_id), parsed.checkpoint_id)
            self._table.delete(
                [
                    key
                    for parsed, key in found
                    if latest.get(parsed.checkpoint_ns) != parsed.checkpoint_id
                ]
            )

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

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await asyncio.to_thread(self.copy_thread, source_thread_id, target_thread_id)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)


def _incident_id(metadata: CheckpointMetadata, configurable: dict[str, Any]) -> str | None:
    for candidate in (metadata.get("incident_id"), configurable.get("incident_id")):  # type: ignore[attr-defined]
        if isinstance(candidate, str) and candidate:
            return candidate
    return None
