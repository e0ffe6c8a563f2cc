"""Errors the checkpointer raises instead of guessing.

A checkpoint that cannot be read must stop the execution loudly: returning
``None`` would restart the graph from scratch (paying Bedrock twice) and
returning half a state would resume into a wrong answer.
"""

from __future__ import annotations


class CheckpointError(Exception):
    """Base class of the checkpointer's own errors."""


class CheckpointCorruptError(CheckpointError):
    """A stored item is unreadable, tampered with, or refers to code.

    Names the thread, namespace and checkpoint so an operator can find the item.
    """

    def __init__(
        self,
        thread_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        reason: str,
        *,
        sort_key: str | None = None,
    ) -> None:
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self.checkpoint_id = checkpoint_id
        self.reason = reason
        self.sort_key = sort_key
        where = f"checkpoint {checkpoint_id!r} of thread {thread_id!r}"
        if checkpoint_ns:
            where += f" (namespace {checkpoint_ns!r})"
        if sort_key is not None:
            where += f", item {sort_key!r}"
        super().__init__(f"{where} is unreadable: {reason}")


class CheckpointWriteError(CheckpointError):
    """DynamoDB kept refusing part of a batch after every retry."""
