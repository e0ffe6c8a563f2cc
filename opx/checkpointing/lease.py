"""An in-progress lease per execution, so concurrent duplicates never both pay.

EventBridge delivers at least once, and sometimes two deliveries of one event run at
the same time. Both would find no checkpoint and call every agent. The lease is one
item in the execution's own partition (sort key :data:`LEASE_KEY`), taken with a
conditional ``PutItem``: it succeeds only when no lease exists, the existing one has
lapsed, or the caller already holds it (an asynchronous retry keeps its request id).
Its expiry is the holder's deadline (``context.get_remaining_time_in_millis()``), so a
holder that died with its Lambda stops blocking the execution once its time is up.

The lease item's sort key starts with ``!``, which no escaped checkpoint key can
(:mod:`.keys` escapes every character at or below ``%``), so readers of the thread
skip it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from opx.checkpointing.errors import CheckpointError
from opx.checkpointing.schema import TABLE_SCHEMA

__all__ = ["LEASE_KEY", "LEASE_TTL_GRACE_SECONDS", "Lease", "LeaseHeldError", "acquire", "release"]

LEASE_KEY = "!lease"
#: A lease left behind (its holder died) is removed by DynamoDB's TTL a day after it lapsed.
LEASE_TTL_GRACE_SECONDS = 86_400

_PK = TABLE_SCHEMA.partition_key
_SK = TABLE_SCHEMA.sort_key
_TTL = TABLE_SCHEMA.ttl_attribute


class LeaseHeldError(CheckpointError):
    """Another invocation holds the execution until ``expires_at`` (epoch seconds)."""

    def __init__(self, thread_id: str, expires_at: int | None) -> None:
        self.thread_id = thread_id
        self.expires_at = expires_at
        super().__init__(
            f"execution {thread_id!r} is in progress in another invocation"
            + (f" (lease until {expires_at})" if expires_at is not None else "")
        )


@dataclass(frozen=True)
class Lease:
    table_name: str
    thread_id: str
    owner: str
    expires_at: int


def acquire(client: Any, table_name: str, thread_id: str, owner: str, *, seconds: int) -> Lease:
    """Take the lease for ``seconds`` from now (``time.time()``) or raise ``LeaseHeldError``."""
    now = int(time.time())
    expires_at = now + max(1, seconds)
    try:
        client.put_item(
            TableName=table_name,
            Item={
                _PK: {"S": thread_id},
                _SK: {"S": LEASE_KEY},
                "owner": {"S": owner},
                "expires_at": {"N": str(expires_at)},
                _TTL: {"N": str(expires_at + LEASE_TTL_GRACE_SECONDS)},
            },
            ConditionExpression=("attribute_not_exists(#pk) OR #exp < :now OR #owner = :owner"),
            ExpressionAttributeNames={"#pk": _PK, "#exp": "expires_at", "#owner": "owner"},
            ExpressionAttributeValues={":now": {"N": str(now)}, ":owner": {"S": owner}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        held = exc.response.get("Item", {}).get("expires_at", {}).get("N")
        raise LeaseHeldError(thread_id, int(held) if held and held.isdigit() else None) from None
    return Lease(table_name, thread_id, owner, expires_at)


def release(client: Any, lease: Lease) -> None:
    """Give the lease back, unless someone else took it over after it lapsed."""
    try:
        client.delete_item(
            TableName=lease.table_name,
            Key={_PK: {"S": lease.thread_id}, _SK: {"S": LEASE_KEY}},
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": lease.owner}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
