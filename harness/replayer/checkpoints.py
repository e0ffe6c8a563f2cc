"""Reading an execution's checkpoints back: the final state and the trail.

A replay (and ``record``, which compares a live run with its replay) reads the
checkpoints through the executor's own saver, a public surface -- a replay's saver
reads what the executor wrote (:mod:`.written`), ``record``'s the live table; the
trail keeps per
checkpoint its step, source, the nodes that wrote it, every channel's version, a digest
of the state and the pending writes -- with uuid6 ids replaced by ordinal aliases so runs compare.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from harness import canonical
from harness.replayer.sandbox import CHECKPOINT_TABLE
from harness.replayer.table import ItemReader
from harness.replayer.written import WrittenItems, WrittenTableClient

#: LangGraph bookkeeping channels (trigger and join barriers), not executor state.
STATE_SKIP = ("branch:", "join:", "__")


def execution_id_of(responses: list[dict[str, Any]]) -> str | None:
    """The execution the handler's responses name (the newest that names one)."""
    for response in reversed(responses):
        body = response.get("body")
        if isinstance(body, dict) and body.get("execution_id"):
            return body["execution_id"]
    return None


def read_checkpoints(
    responses: list[dict[str, Any]],
    saver: BaseCheckpointSaver,
    aliases: canonical.Aliases | None = None,
    times: dict[str, str] | None = None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The final state and the checkpoint trail, oldest first, of the execution the
    responses name, read through ``saver``."""
    thread = execution_id_of(responses)
    if thread is None:
        return None, []
    return checkpoint_trail(saver, thread, aliases, times)


def replay_saver(written: WrittenItems) -> BaseCheckpointSaver:
    """The executor's DynamoDB saver reading what the executor wrote to the replay's
    checkpoint table (see :mod:`.written`)."""
    from opx.checkpointing import DynamoDBCheckpointer

    return DynamoDBCheckpointer(CHECKPOINT_TABLE, client=WrittenTableClient(written))


def checkpoint_trail(
    saver: BaseCheckpointSaver,
    thread: str,
    aliases: canonical.Aliases | None = None,
    times: dict[str, str] | None = None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The final state and the checkpoint trail of ``thread``, oldest first.

    Each trail entry also carries the full ``state`` at that checkpoint (for the
    divergence report); the canonical result keeps only its digest. ``aliases``
    (filled oldest first) lets the table scan name checkpoints as the trail does;
    ``times`` receives each checkpoint's ``ts`` by alias (LangGraph's clock reading,
    which the scan measures item times against rather than the items' own).
    """
    tuples = list(saver.list({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}))
    tuples.reverse()
    checkpoints = aliases if aliases is not None else canonical.Aliases("checkpoint")
    trail = []
    previous_seen: dict[str, Any] = {}
    state: dict[str, Any] | None = None
    for item in tuples:
        checkpoint = item.checkpoint
        state = {
            key: value
            for key, value in sorted(checkpoint["channel_values"].items())
            if not key.startswith(STATE_SKIP)
        }
        seen = checkpoint.get("versions_seen", {})
        writers = sorted(
            node
            for node, versions in seen.items()
            if versions != previous_seen.get(node) and not node.startswith("__")
        )
        previous_seen = seen
        parent = item.parent_config["configurable"]["checkpoint_id"] if item.parent_config else None
        if times is not None and isinstance(checkpoint.get("ts"), str):
            times[str(checkpoints(checkpoint["id"]))] = checkpoint["ts"]
        entry: dict[str, Any] = {}
        state_sha256 = canonical.digest(state)
        writes = _writes(item)
        mismatch = _fetch_mismatch(saver, item, state_sha256, writes)
        if mismatch is not None:
            entry["fetched_by_id"] = mismatch
        trail.append(
            {
                **entry,
                "checkpoint": checkpoints(checkpoint["id"]),
                "parent": checkpoints(parent),
                "step": item.metadata.get("step"),
                "source": item.metadata.get("source"),
                # The whole metadata (parents aliased): what LangGraph and the executor
                # (its incident id) stored beside the state.
                "metadata": _metadata(item.metadata, checkpoints),
                "writers": writers,
                # Every channel's stored version, bookkeeping channels too: what a resume
                # from this checkpoint compares to decide which nodes run again.
                "channel_versions": canonical.plain(
                    dict(sorted(checkpoint.get("channel_versions", {}).items()))
                ),
                "state_sha256": state_sha256,
                "state": state,
                # Task ids derive from uuid6 checkpoint ids: keep what was written, not by whom.
                "pending_writes": writes,
            }
        )
    return state, trail


def _fetch_mismatch(
    saver: BaseCheckpointSaver, listed: Any, state_sha256: str, writes: list[list[str]]
) -> str | None:
    """How fetching the checkpoint by its id disagrees with listing it, if it does.

    The executor reads the latest checkpoint (no id) on every delivery; LangGraph
    fetches a *specific* one when it resumes from a config that names it. The read-back
    fetches each listed checkpoint by id, so that path runs in every replay and a wrong
    answer from it shows in the trail (only then: an agreeing fetch adds nothing).
    ``state_sha256`` and ``writes`` are the listed checkpoint's, computed once.
    """
    fetched = saver.get_tuple(listed.config)
    if fetched is None:
        return "not found"
    if fetched.checkpoint.get("id") != listed.checkpoint.get("id"):
        return "another checkpoint"
    fetched_state = {
        key: value
        for key, value in sorted(fetched.checkpoint["channel_values"].items())
        if not key.startswith(STATE_SKIP)
    }
    if canonical.digest(fetched_state) != state_sha256:
        return "another state"
    if canonical.dumps(fetched.metadata) != canonical.dumps(listed.metadata):
        return "other metadata"
    if _writes(fetched) != writes:
        return "other pending writes"
    if (fetched.parent_config is None) != (listed.parent_config is None):
        return "another parent"
    return None


def _writes(item: Any) -> list[list[str]]:
    return sorted([channel, canonical.digest(value)] for _, channel, value in item.pending_writes)


def _metadata(metadata: Any, checkpoints: canonical.Aliases) -> dict[str, Any]:
    plain = canonical.plain(dict(metadata))
    parents = plain.get("parents")
    if isinstance(parents, dict):
        plain["parents"] = {ns: checkpoints(cid) for ns, cid in sorted(parents.items())}
    return plain


def table_items(
    written: WrittenItems,
    start: datetime,
    end: datetime,
    aliases: canonical.Aliases,
    times: dict[str, str],
) -> list[dict[str, Any]]:
    """Every item the executor left in the replay's checkpoint table, canonical (see
    :mod:`.table`)."""
    table = written.table(CHECKPOINT_TABLE)
    reader = ItemReader(start, end, aliases, times, payload_fields)
    return reader.items(list(table.items.values()), table.partition_key, table.sort_key)


def incident_index(client: Any, written: WrittenItems) -> dict[str, list[str] | str]:
    """The executions ``opx-harness import`` finds for each incident the table names.

    The executor's own :func:`opx.checkpointing.find_executions` queries the sparse
    ``incident-id-index`` GSI on moto: the items pin the ``incident_id`` attribute, this
    pins that the index built from the table's definition actually answers with them
    (its name, keys and projection), which is what an operator importing an incident
    relies on. Incident ids come from what was written, so a run that wrote none shows
    an empty index rather than a guess. A query DynamoDB refuses is part of the result
    (the error's code and message), not a replay failure: the executor ran; it is
    the table it left that an operator could not search.
    """
    from botocore.exceptions import ClientError

    from opx.checkpointing import TABLE_SCHEMA, find_executions

    key = TABLE_SCHEMA.gsi_partition_key
    table = written.table(CHECKPOINT_TABLE)
    incidents = sorted(
        {item[key]["S"] for item in table.items.values() if "S" in item.get(key, {})}
    )
    found: dict[str, list[str] | str] = {}
    for incident in incidents:
        try:
            found[incident] = find_executions(client, CHECKPOINT_TABLE, incident)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            found[incident] = f"{error.get('Code')}: {error.get('Message')}"
    return found


def payload_fields(blob: bytes) -> list[tuple[str, bytes]] | None:
    """A sealed payload's typed fields, or ``None`` if it is not one (a chunk).

    A write item's first field is its task path: LangGraph derives it from the node,
    so it names a task stably where the task id does not.
    """
    from opx.checkpointing.chunking import unseal

    try:
        return unseal(blob)
    except ValueError:
        return None


__all__ = [
    "checkpoint_trail",
    "execution_id_of",
    "incident_index",
    "payload_fields",
    "read_checkpoints",
    "replay_saver",
    "table_items",
]
