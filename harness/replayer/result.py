"""What a replay returns: the base every scenario kind's result extends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from harness import canonical


@dataclass
class ReplayResult(ABC):
    """The observable behaviour of one replay.

    ``canonical()`` is everything that defines behaviour -- the snapshot is exactly
    :meth:`to_canonical_json` -- and each kind decides what that is; ``logs`` are
    kept for people and left out (they carry code locations, which move with every
    refactor).
    """

    scenario: str
    responses: list[dict[str, Any]]
    clock: dict[str, Any]
    logs: list[str] = field(default_factory=list, repr=False)
    #: The botocore configuration of every client the code under replay built with one
    #: (:meth:`harness.replayer.ReplaySession.configured_clients`).
    clients: list[dict[str, Any]] = field(default_factory=list)

    @abstractmethod
    def canonical(self) -> dict[str, Any]:
        """The plain-JSON form the snapshot holds."""

    def client_record(self) -> dict[str, Any]:
        """``{"aws_clients": [...]}`` for a kind's canonical form, or nothing when the
        code under replay configured no client. A replay answers every request, so no
        timeout, retry mode or attempt count is ever *felt*; a deploy that changes one
        still changes how the Lambda behaves against real AWS, and the gate must show it."""
        return {"aws_clients": self.clients} if self.clients else {}

    def checkpoint_states(self) -> list[Any] | None:
        """The full state at each checkpoint, oldest first, for kinds that checkpoint
        (the divergence report diffs states, not just their digests)."""
        return None

    def to_canonical_json(self) -> str:
        return canonical.pretty(self.canonical())

    def to_compact_json(self) -> str:
        """The canonical JSON unindented: equal exactly when :meth:`to_canonical_json`
        is (both are functions of :meth:`canonical`), and several times cheaper --
        ``json``'s C encoder writes it, the indented form runs in pure Python. For
        comparing replays with each other; snapshots and diffs stay indented."""
        return canonical.dumps(self.canonical())


@dataclass(frozen=True)
class LambdaContext:
    """The slice of the Lambda context object the code under replay may read.

    Sequential deliveries share one request id, as Lambda's own retries of one event
    do (a retry may take over the lease its dead predecessor left); overlapping
    deliveries are separate invocations with ids of their own.
    """

    function_name: str = "opx-executor-replay"
    aws_request_id: str = "replay-0"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:opx-executor-replay"
    #: What ``get_remaining_time_in_millis`` reports: the stack's 5-minute timeout,
    #: frozen like the clock (the lease's expiry derives from it).
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


__all__ = ["LambdaContext", "ReplayResult"]
