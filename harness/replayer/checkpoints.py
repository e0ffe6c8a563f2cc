"""Reading an execution's checkpoints back: the final state and the trail.

A replay (and ``record``, which compares a live run with its replay) reads the
checkpoints through the executor's own saver, a public surface; the trail keeps per
checkpoint its step, source, the nodes that wrote it, a digest of the state and the
pending writes -- with uuid6 ids replaced by ordinal aliases so runs compare.
"""

from __future__ import annotations

from typing import Any

import boto3
from langgraph.checkpoint.base import BaseCheckpointSaver

from harness import canonical
from harness.replayer.sandbox import CHECKPOINT_TABLE

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
    responses: list[dict[str, Any]], saver: BaseCheckpointSaver | None = None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The final state and the checkpoint trail, oldest first, of the execution the
    responses name -- from the replay's table unless another ``saver`` is given."""
    thread = execution_id_of(responses)
    if thread is None:
        return None, []
    return checkpoint_trail(saver or replay_saver(), thread)


def replay_saver() -> BaseCheckpointSaver:
    """The executor's DynamoDB saver on the replay's checkpoint table."""
    from opx.checkpointing import DynamoDBCheckpointer

    return DynamoDBCheckpointer(CHECKPOINT_TABLE, client=boto3.client("dynamodb"))


def checkpoint_trail(
    saver: BaseCheckpointSaver, thread: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The final state and the checkpoint trail of ``thread``, oldest first.

    Each trail entry also carries the full ``state`` at that checkpoint (for the
    divergence report); the canonical result keeps only its digest.
    """
    tuples = list(saver.list({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}))
    tuples.reverse()
    checkpoints = canonical.Aliases("checkpoint")
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
        trail.append(
            {
                "checkpoint": checkpoints(checkpoint["id"]),
                "parent": checkpoints(parent),
                "step": item.metadata.get("step"),
                "source": item.metadata.get("source"),
                "writers": writers,
                "state_sha256": canonical.digest(state),
                "state": state,
                # Task ids derive from uuid6 checkpoint ids: keep what was written, not by whom.
                "pending_writes": sorted(
                    [channel, canonical.digest(value)] for _, channel, value in item.pending_writes
                ),
            }
        )
    return state, trail


__all__ = ["checkpoint_trail", "execution_id_of", "read_checkpoints", "replay_saver"]
