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

    @abstractmethod
    def canonical(self) -> dict[str, Any]:
        """The plain-JSON form the snapshot holds."""

    def checkpoint_states(self) -> list[Any] | None:
        """The full state at each checkpoint, oldest first, for kinds that checkpoint
        (the divergence report diffs states, not just their digests)."""
        return None

    def to_canonical_json(self) -> str:
        return canonical.pretty(self.canonical())


@dataclass
class LambdaContext:
    """The slice of the Lambda context object the code under replay may read."""

    function_name: str = "opx-executor-replay"
    aws_request_id: str = "replay-0"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:opx-executor-replay"


__all__ = ["LambdaContext", "ReplayResult"]
