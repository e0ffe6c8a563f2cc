"""The operator operations a ``maintenance`` scenario runs, one runner per ``op``.

:data:`OPERATIONS` is the registry -- ``op`` name -> runner -- so a new operation is
one function and one line, never a branch in the kind. A runner calls the real
``opx.checkpointing`` surface (the saver's sync method, or its ``a*`` twin through
``asyncio.run``) and returns what it returned in a form a snapshot can hold:
checkpoint ids as the replay's ordinal aliases (uuid6 ids differ on every run),
times relative to the scenario's clock. A raised exception is the kind's to record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.scenario.model import (
    CloudFormationOperation,
    CopyOperation,
    CreateTableOperation,
    DeleteOperation,
    GetOperation,
    ListOperation,
    PruneOperation,
)

#: ``@execution:<n>`` / ``@checkpoint:<thread>:<n>`` (see :data:`ThreadRef`).
EXECUTION_REF = "@execution:"
CHECKPOINT_REF = "@checkpoint:"
#: ``@checkpoints``: the replay's own checkpoint table.
CHECKPOINTS_TABLE_REF = "@checkpoints"


class UnresolvedReferenceError(LookupError):
    """An ``@execution`` / ``@checkpoint`` reference that names nothing in the replay:
    an authoring mistake, named with the operation's field."""


@dataclass
class Context:
    """What every runner works with: the saver under test, a DynamoDB client for the
    harness's own reads, the scenario's events and the checkpoint aliases."""

    saver: Any
    client: Any
    table: str
    events: list[Any]
    start: datetime
    #: The (frozen) clock when the executions had run, and when the operations began.
    executed: float = 0.0
    operated: float = 0.0
    #: checkpoint id -> ``checkpoint-<n>``, fixed once the executions have run.
    aliases: dict[str, str] = field(default_factory=dict)

    def alias(self, checkpoint_id: str | None) -> str | None:
        if checkpoint_id is None:
            return None
        return self.aliases.get(checkpoint_id, checkpoint_id)

    def thread(self, ref: str, where: str) -> str:
        """The thread id ``ref`` names (``@execution:<n>``: event ``n``'s execution)."""
        if not ref.startswith(EXECUTION_REF):
            return ref
        from opx.events import EventValidationError, parse_event
        from opx.ids import execution_id

        n = int(ref[len(EXECUTION_REF) :])
        if n >= len(self.events):
            raise UnresolvedReferenceError(
                f"{where}: {ref} names event {n}; the scenario has {len(self.events)}"
            )
        try:
            return execution_id(parse_event(self.events[n]))
        except EventValidationError as exc:
            raise UnresolvedReferenceError(
                f"{where}: {ref}: event {n} is not an incident ({exc})"
            ) from None

    def checkpoint(self, ref: str, where: str) -> str:
        """The checkpoint id ``ref`` names, read from the table as it is now."""
        if not ref.startswith(CHECKPOINT_REF):
            return ref
        thread_ref, _, index = ref[len(CHECKPOINT_REF) :].rpartition(":")
        heads = self.heads(self.thread(thread_ref, where))
        if int(index) >= len(heads):
            raise UnresolvedReferenceError(
                f"{where}: {ref}: the thread has {len(heads)} root checkpoint(s) now"
            )
        return heads[int(index)]

    def heads(self, thread_id: str) -> list[str]:
        """The root namespace's checkpoint ids of a thread, newest first -- read with
        the harness's own Query, not the saver's ``list`` that a scenario tests."""
        from opx.checkpointing import TABLE_SCHEMA, keys

        found = []
        for item in self.scan(thread_id):
            sort_key = item[TABLE_SCHEMA.sort_key]["S"]
            if keys.is_meta(sort_key):
                continue
            parsed = keys.parse(sort_key)
            if parsed.kind == "head" and parsed.checkpoint_ns == "":
                found.append(parsed.checkpoint_id)
        return sorted(found, reverse=True)

    def scan(
        self, thread_id: str | None = None, attributes: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Every item of the table (of one thread), read with the harness's client;
        only ``attributes`` of each when given. The table listings after each operation
        need keys and ``ttl`` only, and moto's serializer took most of a replay of a
        chunked thread answering with every payload (2.5 of 5.5 s)."""
        from opx.checkpointing import TABLE_SCHEMA

        request: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        names: dict[str, str] = {}
        if thread_id is not None:
            request["KeyConditionExpression"] = "#pk = :pk"
            names["#pk"] = TABLE_SCHEMA.partition_key
            request["ExpressionAttributeValues"] = {":pk": {"S": thread_id}}
        if attributes:
            names.update({f"#a{n}": name for n, name in enumerate(attributes)})
            request["ProjectionExpression"] = ", ".join(f"#a{n}" for n in range(len(attributes)))
        if names:
            request["ExpressionAttributeNames"] = names
        read = self.client.query if thread_id is not None else self.client.scan
        found: list[dict[str, Any]] = []
        while True:
            page = read(**request)
            found += page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def config(self, thread_id: str, ns: str | None, checkpoint_id: str | None) -> dict[str, Any]:
        configurable: dict[str, Any] = {"thread_id": thread_id}
        if ns is not None:
            configurable["checkpoint_ns"] = ns
        if checkpoint_id is not None:
            configurable["checkpoint_id"] = checkpoint_id
        return {"configurable": configurable}

    def tuple_record(self, tup: Any) -> dict[str, Any] | None:
        """A ``CheckpointTuple`` as the result shows it: which checkpoint, its parent,
        the metadata an operator filters on, how many channels it holds and the
        pending writes (channel names) that came with it."""
        if tup is None:
            return None
        conf = tup.config["configurable"]
        parent = (tup.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        return {
            "thread": conf["thread_id"],
            "checkpoint_ns": conf.get("checkpoint_ns", ""),
            "checkpoint": self.alias(conf["checkpoint_id"]),
            "parent": self.alias(parent),
            "step": tup.metadata.get("step"),
            "source": tup.metadata.get("source"),
            "channels": len(tup.checkpoint.get("channel_values", {})),
            "pending_writes": sorted(channel for _, channel, _ in tup.pending_writes or []),
        }


def _call(asynchronous: bool, sync: Callable[[], Any], coroutine: Callable[[], Any]) -> Any:
    """The sync method, or its async twin run to completion on a fresh event loop."""
    return asyncio.run(coroutine()) if asynchronous else sync()


def run_list(op: ListOperation, ctx: Context, where: str) -> Any:
    config = None
    if op.thread is not None:
        checkpoint = (
            None if op.checkpoint is None else ctx.checkpoint(op.checkpoint, f"{where}.checkpoint")
        )
        config = ctx.config(ctx.thread(op.thread, f"{where}.thread"), op.checkpoint_ns, checkpoint)
    before = None
    if op.before is not None and op.thread is not None:
        thread = ctx.thread(op.thread, f"{where}.thread")
        before = ctx.config(thread, None, ctx.checkpoint(op.before, f"{where}.before"))
    kwargs = {"filter": op.filter, "before": before, "limit": op.limit}

    async def listed() -> list[Any]:
        return [tup async for tup in ctx.saver.alist(config, **kwargs)]

    found = _call(op.asynchronous, lambda: list(ctx.saver.list(config, **kwargs)), listed)
    return [ctx.tuple_record(tup) for tup in found]


def run_get(op: GetOperation, ctx: Context, where: str) -> Any:
    checkpoint = (
        None if op.checkpoint is None else ctx.checkpoint(op.checkpoint, f"{where}.checkpoint")
    )
    config = ctx.config(ctx.thread(op.thread, f"{where}.thread"), op.checkpoint_ns, checkpoint)
    found = _call(
        op.asynchronous,
        lambda: ctx.saver.get_tuple(config),
        lambda: ctx.saver.aget_tuple(config),
    )
    return ctx.tuple_record(found)


def run_copy(op: CopyOperation, ctx: Context, where: str) -> Any:
    source = ctx.thread(op.source, f"{where}.source")
    target = ctx.thread(op.target, f"{where}.target")
    return _call(
        op.asynchronous,
        lambda: ctx.saver.copy_thread(source, target),
        lambda: ctx.saver.acopy_thread(source, target),
    )


def run_delete(op: DeleteOperation, ctx: Context, where: str) -> Any:
    thread = ctx.thread(op.thread, f"{where}.thread")
    return _call(
        op.asynchronous,
        lambda: ctx.saver.delete_thread(thread),
        lambda: ctx.saver.adelete_thread(thread),
    )


def run_prune(op: PruneOperation, ctx: Context, where: str) -> Any:
    threads = [ctx.thread(ref, f"{where}.threads[{n}]") for n, ref in enumerate(op.threads)]
    return _call(
        op.asynchronous,
        lambda: ctx.saver.prune(threads, strategy=op.strategy),
        lambda: ctx.saver.aprune(threads, strategy=op.strategy),
    )


def table_name(ref: str, ctx: Context) -> str:
    return ctx.table if ref == CHECKPOINTS_TABLE_REF else ref


def run_create_table(op: CreateTableOperation, ctx: Context, where: str) -> Any:
    """``create_table`` itself; what it left is read by :func:`described` afterwards
    (the kind records it whether or not the call raised). An unstated ``exist_ok`` is
    left out of the call: the function's default is part of its contract."""
    from opx.checkpointing import create_table

    options = {} if op.exist_ok is None else {"exist_ok": op.exist_ok}
    create_table(ctx.client, table_name(op.table, ctx), **options)


def run_cloudformation(op: CloudFormationOperation, ctx: Context, where: str) -> Any:
    from opx.checkpointing import TABLE_SCHEMA

    return TABLE_SCHEMA.cloudformation_properties(table_name(op.table, ctx))


def described(client: Any, table: str) -> dict[str, Any]:
    """The essentials of a table as DynamoDB describes it: keys, attribute types, the
    GSI and its projection, billing, TTL and point-in-time recovery -- what
    ``create_table`` exists to get right. An error is part of the description."""
    from botocore.exceptions import ClientError

    def error(exc: ClientError) -> str:
        return f"{exc.response.get('Error', {}).get('Code')}"

    try:
        description = client.describe_table(TableName=table)["Table"]
    except ClientError as exc:
        return {"describe_table": error(exc)}
    essentials = {
        "status": description.get("TableStatus"),
        "key_schema": description.get("KeySchema"),
        "attributes": sorted(
            description.get("AttributeDefinitions", []), key=lambda a: a["AttributeName"]
        ),
        "billing_mode": description.get("BillingModeSummary", {}).get("BillingMode"),
        "indexes": [
            {
                "name": index.get("IndexName"),
                "key_schema": index.get("KeySchema"),
                "projection": index.get("Projection"),
            }
            for index in sorted(
                description.get("GlobalSecondaryIndexes", []), key=lambda i: i["IndexName"]
            )
        ],
    }
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    backups = client.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    essentials["time_to_live"] = {
        "attribute": ttl.get("AttributeName"),
        "status": ttl.get("TimeToLiveStatus"),
    }
    essentials["continuous_backups"] = {
        "status": backups.get("ContinuousBackupsStatus"),
        "point_in_time_recovery": backups.get("PointInTimeRecoveryDescription", {}).get(
            "PointInTimeRecoveryStatus"
        ),
    }
    return essentials


def describe_created(op: CreateTableOperation, ctx: Context) -> dict[str, Any]:
    """What DynamoDB describes of the table ``create-table`` named."""
    return described(ctx.client, table_name(op.table, ctx))


def item_name(sort_key: str, ctx: Context) -> str:
    """A sort key as the result names it: ``checkpoint-3``, ``checkpoint-3 write r``,
    ``checkpoint-3 chunk 0`` (``<ns>|`` first outside the root namespace)."""
    from opx.checkpointing import keys

    if keys.is_meta(sort_key):
        return sort_key
    parsed = keys.parse(sort_key)
    chunk = ""
    if parsed.kind == "chunk":
        chunk = f" chunk {parsed.seq}"
        parsed = keys.parse(parsed.owner)
    ns = f"{parsed.checkpoint_ns}|" if parsed.checkpoint_ns else ""
    name = f"{ns}{ctx.alias(parsed.checkpoint_id)}"
    if parsed.kind == "write":
        name += f" write {parsed.slot}"
    return name + chunk


def describe_copied(op: CopyOperation, ctx: Context) -> dict[str, Any]:
    """How the copy's items compare with their source's, attribute by attribute.

    A copy must hold every item of the source under the same sort key with the same
    attributes: only the thread (partition key) and the fresh ``ttl`` change, and an
    owner (head, write) is re-sealed, so its ``pin`` changes too. A chunk has no pin
    of its own -- its owner's digest proves it -- so a chunk that gained, lost or
    changed one, or any other attribute that changed, is listed here; the key listing
    (``table_after``) cannot show it.
    """
    from opx.checkpointing import TABLE_SCHEMA, keys

    where = "copy"
    source = {
        item[TABLE_SCHEMA.sort_key]["S"]: item
        for item in ctx.scan(ctx.thread(op.source, f"{where}.source"))
    }
    target = {
        item[TABLE_SCHEMA.sort_key]["S"]: item
        for item in ctx.scan(ctx.thread(op.target, f"{where}.target"))
    }
    moved = {TABLE_SCHEMA.partition_key, TABLE_SCHEMA.ttl_attribute}
    differing: list[str] = []
    for sort_key in sorted(target):
        copied, original = target[sort_key], source.get(sort_key)
        if original is None:
            continue  # the target's own items (a lease, an earlier copy's) are not copies
        sealed = not keys.is_meta(sort_key) and keys.parse(sort_key).kind != "chunk"
        ignored = moved | ({"pin"} if sealed else set())
        changed = sorted(
            name
            for name in set(copied) | set(original)
            if name not in ignored and copied.get(name) != original.get(name)
        )
        if changed:
            differing.append(f"{item_name(sort_key, ctx)}: {', '.join(changed)}")
    chunks = sum(1 for key in target if not keys.is_meta(key) and keys.parse(key).kind == "chunk")
    return {"items": len(target), "chunks": chunks, "differing_from_source": differing}


#: Operations whose result also shows what DynamoDB then describes (recorded whether
#: or not the operation raised: a create that failed halfway shows what it left).
DESCRIBED_AFTER: dict[str, Callable[[Any, Context], dict[str, Any]]] = {
    "create-table": describe_created,
    "copy": describe_copied,
}

#: Every ``op`` a maintenance scenario may name, and the function that runs it.
OPERATIONS: dict[str, Callable[[Any, Context, str], Any]] = {
    "list": run_list,
    "get": run_get,
    "copy": run_copy,
    "delete": run_delete,
    "prune": run_prune,
    "create-table": run_create_table,
    "cloudformation": run_cloudformation,
}

__all__ = [
    "CHECKPOINTS_TABLE_REF",
    "CHECKPOINT_REF",
    "DESCRIBED_AFTER",
    "EXECUTION_REF",
    "OPERATIONS",
    "Context",
    "UnresolvedReferenceError",
    "describe_copied",
    "describe_created",
    "described",
    "item_name",
    "table_name",
]
