"""What the code under replay wrote to DynamoDB, kept as it went over the wire.

A replay's result used to read the checkpoint table back through moto -- a Query per
checkpoint and a Scan, ~55 ms of a ~120 ms replay, most of it moto serializing
responses. Every item in that table was sent by the executor, through the
transport, and moto told us whether it took each write (:mod:`.moto_lock` reports
every request it served, in the order it applied them). So :class:`WrittenItems`
keeps the table as the executor's successful writes left it, and the result is read
from that: one read path fewer, and the result no longer depends on how moto answers
a Query. What moto stored is still what the executor reads while it runs.

:class:`WrittenTableClient` lets the executor's own saver read that copy: it answers
the one request shape the saver's ``ThreadTable`` sends (a Query on one partition,
optionally ``BETWEEN`` two sort keys, either direction, paged by ``Limit``) and
refuses any other request by name, so a saver that starts sending something else is
a loud error, never a quiet wrong answer.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from botocore.awsrequest import AWSResponse

from harness.wire import Layer, request_body, split_event_name

Item = dict[str, Any]
#: Operations that change items; a successful one is applied to the copy.
WRITES = frozenset({"PutItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "UpdateItem"})


class UnreadableWriteError(RuntimeError):
    """The code under replay changed the table in a way the copy cannot apply."""


class UnsupportedReadError(RuntimeError):
    """The saver asked the written-items copy something it does not answer."""


def _typed(value: dict[str, Any]) -> dict[str, Any]:
    """A wire-format attribute value as a boto3 client returns it (binary as bytes)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _typed(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_typed(v) for v in inner]}
    return {kind: inner}


def _item(wire: dict[str, Any]) -> Item:
    return {name: _typed(value) for name, value in wire.items()}


class WrittenTable:
    """One table's items, keyed by primary key, as the successful writes left them."""

    def __init__(self, partition_key: str, sort_key: str) -> None:
        self.partition_key = partition_key
        self.sort_key = sort_key
        self.items: dict[tuple[str, str], Item] = {}

    def key(self, item: Item) -> tuple[str, str]:
        return (
            json.dumps(item.get(self.partition_key), sort_keys=True),
            json.dumps(item.get(self.sort_key), sort_keys=True),
        )

    def put(self, item: Item) -> None:
        self.items[self.key(item)] = item

    def delete(self, key: Item) -> None:
        self.items.pop(self.key(key), None)

    def partition(self, value: dict[str, Any]) -> list[Item]:
        """A partition's items in ascending sort-key order (strings only, as the
        checkpoint table's keys are)."""
        wanted = json.dumps(value, sort_keys=True)
        found = [item for (pk, _), item in self.items.items() if pk == wanted]
        return sorted(found, key=lambda item: item[self.sort_key]["S"])


class WrittenItems(Layer):
    """A transport layer keeping every table's items as the executor's successful
    writes left them (see the module docstring)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self._tables: dict[str, WrittenTable] = {}
        self._schemas: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.unreadable: list[str] = []

    def table(self, name: str) -> WrittenTable:
        """The copy of table ``name``, created in this replay (empty if nothing was
        written to it)."""
        with self._lock:
            found = self._table(name)
        if found is None:
            raise UnsupportedReadError(f"table {name!r} was not created in this replay")
        return found

    def _table(self, name: str) -> WrittenTable | None:
        if name not in self._tables and name in self._schemas:
            self._tables[name] = WrittenTable(*self._schemas[name])
        return self._tables.get(name)

    def _writable(self, name: str) -> WrittenTable:
        table = self._table(name)
        if table is None:  # moto took it, so the table exists: created before the replay
            self.unreadable.append(f"a write to {name!r}, a table not created in this replay")
            return WrittenTable("", "")
        return table

    def served(self, request: Any, event_name: str, response: AWSResponse) -> None:
        service, operation = split_event_name(event_name)
        changes = operation in WRITES or operation == "CreateTable"
        if service == "dynamodb" and changes and response.status_code == 200:
            body = json.loads(request_body(request) or b"{}")
            with self._lock:
                self._apply(operation, body, response)
        super().served(request, event_name, response)

    def _apply(self, operation: str, body: dict[str, Any], response: AWSResponse) -> None:
        if operation == "CreateTable":
            keys = {k["KeyType"]: k["AttributeName"] for k in body.get("KeySchema", [])}
            self._schemas[body["TableName"]] = (keys.get("HASH", ""), keys.get("RANGE", ""))
            return
        if operation == "PutItem":
            self._writable(body["TableName"]).put(_item(body["Item"]))
        elif operation == "DeleteItem":
            self._writable(body["TableName"]).delete(_item(body["Key"]))
        elif operation == "BatchWriteItem":
            unprocessed = json.loads(response.content or b"{}").get("UnprocessedItems", {})
            for name, requests in body.get("RequestItems", {}).items():
                left = unprocessed.get(name, [])
                for entry in requests:
                    if entry in left:
                        continue
                    if "PutRequest" in entry:
                        self._writable(name).put(_item(entry["PutRequest"]["Item"]))
                    else:
                        self._writable(name).delete(_item(entry["DeleteRequest"]["Key"]))
        elif operation == "TransactWriteItems":
            for entry in body.get("TransactItems", []):
                if "Put" in entry:
                    self._writable(entry["Put"]["TableName"]).put(_item(entry["Put"]["Item"]))
                elif "Delete" in entry:
                    self._writable(entry["Delete"]["TableName"]).delete(
                        _item(entry["Delete"]["Key"])
                    )
                elif "Update" in entry:
                    self.unreadable.append(f"TransactWriteItems Update on {entry['Update']!r}")
        else:  # UpdateItem: its expressions are not applied here
            self.unreadable.append(f"{operation} on {body.get('TableName')!r}")

    def check_readable(self) -> None:
        """Raise if a write could not be applied: the copy would be wrong."""
        if self.unreadable:
            raise UnreadableWriteError(
                "the code under replay changed DynamoDB items with an operation the replay's "
                f"written-items copy cannot apply: {'; '.join(self.unreadable)}"
            )


class WrittenTableClient:
    """A read-only DynamoDB client over :class:`WrittenTable` copies, for the
    executor's saver (see the module docstring)."""

    def __init__(self, written: WrittenItems) -> None:
        self.written = written

    def query(self, **request: Any) -> dict[str, Any]:
        table = self.written.table(request.get("TableName", ""))
        names = request.get("ExpressionAttributeNames", {})
        values = request.get("ExpressionAttributeValues", {})
        condition = request.get("KeyConditionExpression", "")
        known = {
            "TableName",
            "KeyConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
            "ScanIndexForward",
            "ConsistentRead",
            "Limit",
            "ExclusiveStartKey",
        }
        shapes = {"#pk = :pk", "#pk = :pk AND #sk BETWEEN :lo AND :hi"}
        if (
            set(request) - known
            or condition not in shapes
            or names.get("#pk") != table.partition_key
            or ("#sk" in condition and names.get("#sk") != table.sort_key)
        ):
            raise UnsupportedReadError(f"not a request the saver's ThreadTable sends: {request!r}")
        items = table.partition(values[":pk"])
        if "BETWEEN" in condition:
            low, high = values[":lo"]["S"], values[":hi"]["S"]
            items = [i for i in items if low <= i[table.sort_key]["S"] <= high]
        if not request.get("ScanIndexForward", True):
            items.reverse()
        start = request.get("ExclusiveStartKey")
        if start is not None:
            keys = [table.key(i) for i in items]
            items = items[keys.index(table.key(start)) + 1 :]
        limit = request.get("Limit")
        page: dict[str, Any] = {"Items": items[:limit] if limit else items}
        if limit and len(items) > limit:
            last = items[limit - 1]
            page["LastEvaluatedKey"] = {
                name: last[name] for name in (table.partition_key, table.sort_key)
            }
        page["Count"] = len(page["Items"])
        return page

    def __getattr__(self, name: str) -> Any:
        raise UnsupportedReadError(f"the written-items copy answers only query, not {name}")


__all__ = [
    "WRITES",
    "UnreadableWriteError",
    "UnsupportedReadError",
    "WrittenItems",
    "WrittenTable",
    "WrittenTableClient",
]
