"""Every DynamoDB call the checkpointer makes, in one place, so they can be counted.

Reads are Queries on one thread's partition, newest first, strongly consistent:
a resume that read a stale partition would re-run work that already finished.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from opx.checkpointing.errors import CheckpointError, CheckpointWriteError
from opx.checkpointing.items import PK, SK, Encoded, Item

__all__ = ["BATCH_LIMIT", "MAX_PAGE", "SlotTakenError", "ThreadTable"]

#: BatchWriteItem's own limit on requests per call.
BATCH_LIMIT = 25
#: Page sizes grow up to this when a bounded read has to go on.
MAX_PAGE = 1000


class SlotTakenError(CheckpointError):
    """A conditional owner's key was already stored (another call got there first)."""


_IF_NEW = {
    "ConditionExpression": "attribute_not_exists(#sk)",
    "ExpressionAttributeNames": {"#sk": SK},
}


def _condition_failed(exc: ClientError) -> bool:
    error = exc.response.get("Error", {}).get("Code")
    if error == "ConditionalCheckFailedException":
        return True
    reasons = exc.response.get("CancellationReasons", [])
    return error == "TransactionCanceledException" and any(
        reason.get("Code") == "ConditionalCheckFailed" for reason in reasons
    )


class ThreadTable:
    def __init__(self, client: Any, table_name: str, *, batch_attempts: int = 8) -> None:
        self.client = client
        self.table_name = table_name
        self.batch_attempts = batch_attempts

    def query(
        self, thread_id: str, bounds: tuple[str, str] | None, *, first_page: int | None
    ) -> Iterator[Item]:
        """Items of a thread within inclusive sort-key ``bounds``, newest first.

        ``first_page`` caps the first page (it doubles on each next page) for reads
        that usually stop early, such as "the latest checkpoint"; ``None`` lets
        DynamoDB fill 1 MB pages.
        """
        names = {"#pk": PK}
        values: dict[str, Any] = {":pk": {"S": thread_id}}
        condition = "#pk = :pk"
        if bounds is not None:
            names["#sk"] = SK
            values[":lo"], values[":hi"] = {"S": bounds[0]}, {"S": bounds[1]}
            condition += " AND #sk BETWEEN :lo AND :hi"
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        limit = first_page
        while True:
            if limit is not None:
                request["Limit"] = limit
                limit = min(limit * 2, MAX_PAGE)
            page = self.client.query(**request)
            yield from page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def keys(self, thread_id: str) -> list[Item]:
        """Primary keys of every item of a thread."""
        return self._all(thread_id, keys_only=True)

    def items(self, thread_id: str) -> list[Item]:
        """Every item of a thread, whole."""
        return self._all(thread_id, keys_only=False)

    def _all(self, thread_id: str, *, keys_only: bool) -> list[Item]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": PK},
            "ExpressionAttributeValues": {":pk": {"S": thread_id}},
            "ConsistentRead": True,
        }
        if keys_only:
            request["ProjectionExpression"] = "#pk, #sk"
            request["ExpressionAttributeNames"]["#sk"] = SK
        found: list[Item] = []
        while True:
            page = self.client.query(**request)
            found += page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if not last:
                return found
            request["ExclusiveStartKey"] = last

    def write(self, encoded: Sequence[Encoded]) -> None:
        """Store owners and their chunks: chunks first, so a visible owner is whole.

        One owner (a head, or a task's writes, almost always) is one PutItem;
        several owners of one ``put_writes`` call (a task that wrote regular values
        *and* an interrupt, say) become visible together in one TransactWriteItems.
        An ``only_if_new`` owner is written only if its key is free; otherwise nothing
        of the call is stored and :class:`SlotTakenError` is raised.
        """
        chunks = [chunk for enc in encoded for chunk in enc.chunks]
        if chunks:
            self._batch([{"PutRequest": {"Item": chunk}} for chunk in chunks])
        puts = [
            {
                "TableName": self.table_name,
                "Item": enc.owner,
                **(_IF_NEW if enc.only_if_new else {}),
            }
            for enc in encoded
        ]
        try:
            if len(puts) == 1:
                self.client.put_item(**puts[0])
            elif puts:
                # At most five owners per call (regular + four special slots), each
                # under 400 KB: always inside TransactWriteItems' 100 items / 4 MB.
                self.client.transact_write_items(TransactItems=[{"Put": put} for put in puts])
        except ClientError as exc:
            if _condition_failed(exc):
                raise SlotTakenError(f"a write slot on {self.table_name!r} is taken") from exc
            raise

    def delete(self, keys: Sequence[Item]) -> None:
        self._batch([{"DeleteRequest": {"Key": key}} for key in keys])

    def put_in_order(self, waves: Sequence[Sequence[Item]]) -> None:
        """BatchWriteItem each wave fully before the next: a batch has no order."""
        for wave in waves:
            self._batch([{"PutRequest": {"Item": item}} for item in wave])

    def _batch(self, requests: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_LIMIT):
            pending = list(requests[start : start + BATCH_LIMIT])
            for attempt in range(self.batch_attempts):
                response = self.client.batch_write_item(RequestItems={self.table_name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if not pending:
                    break
                if attempt < self.batch_attempts - 1:
                    time.sleep(min(0.05 * 2**attempt, 2.0))
            if pending:
                raise CheckpointWriteError(
                    f"{len(pending)} item(s) still unprocessed by BatchWriteItem on "
                    f"{self.table_name!r} after {self.batch_attempts} attempts"
                )
