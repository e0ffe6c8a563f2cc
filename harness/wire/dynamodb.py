"""Scripted DynamoDB answers: what moto never says to the executor's checkpoint table.

moto answers every DynamoDB request happily: no dropped connection, no batch left
half done. A scenario's ``dynamodb`` field (:class:`harness.scenario.DynamoDBScript`)
scripts the other answers, per call of one operation, and :class:`DynamoDBAnswers` --
a transport layer like the ordering, crash and call-log layers, never a branch in
the transport -- gives them:

* ``faults``: each attempt of the call fails as a :class:`~harness.scenario.Fault`
  says -- ``where: network`` raises botocore's own connection error from the
  ``before-send`` hook, exactly as the Bedrock side does
  (:func:`harness.wire.answers.fault_renderer`), so botocore's standard retries see
  it, back off (a fixed jitter in replays, :mod:`harness.replayer.clock`) and try
  again; an attempt after the last fault goes to moto. An ``applied`` network fault
  is the answer lost on its way back: the attempt goes to moto, which stores it,
  and the error is raised after moto answered (from :meth:`DynamoDBAnswers.served`,
  still inside the ``before-send`` hook) -- so the retry meets its own write, as a
  conditional write retried after a read timeout does in production.
* ``after``: the call's first attempt is held until another call was sent -- a
  task's write, stored in the background, held until the next checkpoint's head is
  sent, retries (and backs off, advancing the clock) after that checkpoint read the
  clock on every run, not at whatever point the threads happen to reach.
* ``unprocessed``: a ``BatchWriteItem`` is forwarded to moto *without* the requests
  the answer leaves unprocessed, and moto's real answer is returned with those
  requests in ``UnprocessedItems`` -- so moto's table, the replay's written-items copy
  and the answer botocore parses agree on what was stored.

A *call* is one API call as the executor makes it: botocore sends the same
``amz-sdk-invocation-id`` on every attempt of one call (``amz-sdk-request`` counts the
attempts), so the retries of a faulted call stay that call's, whatever other thread
sends in between. Calls are counted from :meth:`DynamoDBAnswers.arm` (after the kind
seeded its table) in the order they arrive, per operation and per operation and
*item* -- what a write stores by the executor's key layout: a checkpoint ``head``, a
task's ``write``, the ``lease``. Parallel graph branches store their writes while the
next head is stored, so "the tenth PutItem" differs from run to run where "the third
head PutItem" does not: scripts name calls no other thread races.

Every call of a logged operation is written down (:attr:`DynamoDBAnswers.log`): what
was asked (a Query's ``Limit``, a batch's size) and what came back, so a snapshot
shows the scripted answer and the calls it caused.
"""

from __future__ import annotations

import json
import threading
import zlib
from typing import Any

from botocore.awsrequest import AWSResponse

from harness.scenario import HOLD_TIMEOUT_S, DynamoDBAnswer, DynamoDBCall, DynamoDBItem, Fault
from harness.wire.answers import fault_renderer
from harness.wire.eventstream import http_response
from harness.wire.requests import request_body
from harness.wire.transport import ANSWERED_URL, Exchange, Layer, TransportLayer, split_event_name

#: The botocore service id (event names) of DynamoDB.
DYNAMODB_SERVICE = "dynamodb"
_JSON = "application/x-amz-json-1.0"


def _header(request: Any, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def _attempt(request: Any) -> int:
    """The 1-based attempt botocore says this request is (``attempt=2; max=4``)."""
    for part in _header(request, "amz-sdk-request").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "attempt" and value.isdigit():
            return int(value)
    return 1


def _answer_of(response: AWSResponse, body: dict[str, Any]) -> str:
    """``moto`` for a success, ``moto:<ErrorCode>`` for moto's own error answers."""
    if response.status_code == 200:
        return "moto"
    return f"moto:{str(body.get('__type', response.status_code)).rsplit('#', 1)[-1]}"


def _with_unprocessed(response: AWSResponse, left: dict[str, list[Any]]) -> None:
    """moto's answer ``response`` -- read by no one yet -- now lists ``left`` in
    ``UnprocessedItems``, with the length and CRC32 headers DynamoDB sends for it
    (botocore's standard retries check the CRC32 of every DynamoDB answer)."""
    body = json.loads(b"".join(response.raw.stream()) or b"{}")
    data = json.dumps({**body, "UnprocessedItems": left}, separators=(",", ":")).encode()
    headers = {**response.headers, "x-amz-crc32": str(zlib.crc32(data))}
    fresh = http_response(response.status_code, headers, data)
    response.raw = fresh.raw
    response.headers = fresh.headers
    if response.content != data:  # something read moto's answer first: it would stand
        raise RuntimeError("moto's BatchWriteItem answer was read before it was rewritten")


class DynamoDBAnswers(Layer):
    """Gives a scenario's scripted DynamoDB answers (see the module docstring)."""

    def __init__(self, inner: TransportLayer) -> None:
        super().__init__(inner)
        script = inner.scenario.dynamodb
        self._answers: dict[tuple[str, str | None, int], DynamoDBAnswer] = {}
        self.logged: frozenset[str] = frozenset()
        if script is not None:
            self.logged = script.logged
            for answer in script.answers:
                for call in range(answer.call, answer.call + answer.calls):
                    self._answers[(answer.operation, answer.item, call)] = answer
        self._armed = False
        self._lock = threading.Lock()
        #: Notified on every call counted: held calls (``after``) wait on it.
        self._counted = threading.Condition(self._lock)
        #: Call numbers by (operation, item or ``None`` for all) and invocation id.
        self._calls: dict[tuple[str, str | None], dict[str, int]] = {}
        #: Log entries of requests moto is serving, by ``id(request)``.
        self._serving: dict[int, dict[str, Any]] = {}
        #: What batches moto is serving without must be answered with, by ``id(request)``.
        self._unprocessed: dict[int, dict[str, list[Any]]] = {}
        #: The faults that lose moto's answer to a request it is serving (``applied``).
        self._lost: dict[int, Fault] = {}
        self._log: list[dict[str, Any]] = []

    def arm(self) -> None:
        """Start counting calls (the kind's seeding is not the executor's)."""
        self._armed = True

    def disarm(self) -> None:
        """Stop counting calls and answering them (the kind's read-back of the result
        is not the executor's either)."""
        self._armed = False

    @property
    def log(self) -> list[dict[str, Any]]:
        """Every call of a logged operation, by operation, item, call and attempt (a
        write's ``call`` counts the calls of its item, see the module docstring)."""
        with self._lock:
            entries = list(self._log)
        return sorted(
            entries,
            key=lambda e: (e["operation"], e.get("item") or "", e["call"], e["attempt"]),
        )

    def made(self, operation: str, item: str | None = None) -> int:
        """How many calls of ``operation`` (storing ``item``, if given) were sent so far
        -- held ones included."""
        with self._lock:
            return len(self._calls.get((operation, item), {}))

    def unused(self) -> list[str]:
        """The scripted calls that never came, each as ``answers[n]: ...`` -- a script
        naming a call the executor does not make would otherwise prove nothing."""
        script = self.scenario.dynamodb
        if script is None:
            return []
        with self._lock:
            made = {key: len(calls) for key, calls in self._calls.items()}
        missing = []
        for n, answer in enumerate(script.answers):
            count = made.get((answer.operation, answer.item), 0)
            last = answer.call + answer.calls - 1
            if count < last:
                what = f"{answer.operation}" + (f" ({answer.item})" if answer.item else "")
                missing.append(
                    f"answers[{n}]: {what} call {last} never came (the replay made {count})"
                )
            if answer.after is not None and not self._made(answer.after, made):
                missing.append(f"answers[{n}]: held for {answer.after}, which never came")
        return missing

    @staticmethod
    def _made(call: DynamoDBCall, made: dict[tuple[str, str | None], int]) -> bool:
        return made.get((call.operation, call.item), 0) >= call.call

    def _number(self, operation: str, item: str | None, invocation: str) -> int:
        calls = self._calls.setdefault((operation, item), {})
        if invocation not in calls:
            calls[invocation] = len(calls) + 1
        return calls[invocation]

    def _identify(
        self, request: Any, operation: str, item: str | None
    ) -> tuple[DynamoDBAnswer | None, dict[str, Any]]:
        """The scripted answer of this attempt, if any, and its log entry."""
        invocation = _header(request, "amz-sdk-invocation-id") or f"request-{id(request)}"
        overall = self._number(operation, None, invocation)
        entry: dict[str, Any] = {"operation": operation}
        answer = None
        if item is not None:
            call = self._number(operation, item, invocation)
            entry["item"] = item
            answer = self._answers.get((operation, item, call))
        else:
            call = overall
        entry.update({"call": call, "attempt": _attempt(request)})
        return answer or self._answers.get((operation, None, overall)), entry

    def send(self, request: Any, event_name: str) -> Exchange:
        service, operation = split_event_name(event_name)
        if not self._armed or service != DYNAMODB_SERVICE or operation not in self.logged:
            return self.inner.send(request, event_name)
        body = json.loads(request_body(request) or b"{}")
        with self._lock:
            answer, entry = self._identify(request, operation, written_item(operation, body))
            self._counted.notify_all()
            if answer is not None and answer.after is not None and entry["attempt"] == 1:
                self._hold(answer.after, entry)
            entry.update(_asked(operation, body))
            self._log.append(entry)
            if answer is not None and entry["attempt"] <= len(answer.faults):
                fault = answer.faults[entry["attempt"] - 1]
                entry["answer"] = f"fault:{fault.where}:{fault.error}"
                if fault.applied:  # moto applies it; served() loses the answer
                    self._serving[id(request)] = entry
                    self._lost[id(request)] = fault
                    fault = None
            elif answer is not None and answer.unprocessed is not None:
                fault = None
                answered = self._leave_unprocessed(request, body, answer, entry)
                if answered is not None:
                    return answered
            else:
                self._serving[id(request)] = entry
                fault = None
        if fault is None:
            return self.inner.send(request, event_name)
        # Answered here: keep moto off it (it would store what "failed").
        request.url = ANSWERED_URL
        return Exchange(fault_renderer(fault, service)({}))

    def _hold(self, after: DynamoDBCall, entry: dict[str, Any]) -> None:
        """Wait (the lock released meanwhile) until ``after`` was sent; called under
        the lock. The log entry says what it was held for, and if it timed out."""

        def made() -> bool:
            return self._made(after, {key: len(calls) for key, calls in self._calls.items()})

        entry["held_for"] = str(after)
        if not self._counted.wait_for(made, timeout=HOLD_TIMEOUT_S):
            entry["held_for"] += f" (never came: released after {HOLD_TIMEOUT_S:g} s)"

    def _leave_unprocessed(
        self, request: Any, body: dict[str, Any], answer: DynamoDBAnswer, entry: dict[str, Any]
    ) -> Exchange | None:
        """The answer to a batch the script leaves (partly) unprocessed -- or ``None``
        when moto must store the rest first: ``request`` now carries only that rest,
        and :meth:`served` adds the unprocessed requests to moto's answer."""
        processed: dict[str, list[Any]] = {}
        left: dict[str, list[Any]] = {}
        for table, requests in body.get("RequestItems", {}).items():
            count = len(requests) if answer.unprocessed == "all" else answer.unprocessed
            assert isinstance(count, int)
            left[table], processed[table] = requests[:count], requests[count:]
        entry["unprocessed"] = sum(len(requests) for requests in left.values())
        entry["answer"] = "unprocessed"
        processed = {table: requests for table, requests in processed.items() if requests}
        if not processed:
            request.url = ANSWERED_URL
            data = json.dumps({"UnprocessedItems": left}, separators=(",", ":")).encode()
            headers = {"content-type": _JSON, "x-amz-crc32": str(zlib.crc32(data))}
            return Exchange(http_response(200, headers, data))
        # moto stores only the processed part; its answer gets the rest back below.
        data = json.dumps({**body, "RequestItems": processed}).encode()
        request.body = data
        request.headers["Content-Length"] = str(len(data))
        self._unprocessed[id(request)] = left
        return None

    def served(self, request: Any, event_name: str, response: AWSResponse) -> None:
        with self._lock:
            entry = self._serving.pop(id(request), None)
            unprocessed = self._unprocessed.pop(id(request), None)
            lost = self._lost.pop(id(request), None)
        if entry is not None:
            body = json.loads(response.content or b"{}")
            answered = _answer_of(response, body)
            if lost is not None:  # "moto then fault:network:ReadTimeoutError"
                answered = f"{answered} then fault:{lost.where}:{lost.error}"
            entry.update({"answer": answered, **_answered(body)})
        if unprocessed is not None and response.status_code == 200:
            _with_unprocessed(response, unprocessed)
        # The layers below keep what moto stored (the written-items copy) first.
        super().served(request, event_name, response)
        if lost is not None:
            # Raised where moto's answer would be returned: botocore sees the network
            # error (and retries) exactly as if the connection dropped after the write.
            fault_renderer(lost, DYNAMODB_SERVICE)({})


def written_item(operation: str, body: dict[str, Any]) -> DynamoDBItem | None:
    """What a write request stores, by the executor's key layout: ``head``, ``write``
    or ``lease`` (a batch: the item its first request's chunk belongs to); ``None``
    for a read, or a key outside the layout."""
    from opx.checkpointing import TABLE_SCHEMA, keys

    if operation == "PutItem":
        item = body.get("Item", {})
    elif operation == "DeleteItem":
        item = body.get("Key", {})
    elif operation == "BatchWriteItem":
        first = next((r for rs in body.get("RequestItems", {}).values() for r in rs), {})
        item = first.get("PutRequest", {}).get("Item") or first.get("DeleteRequest", {}).get(
            "Key", {}
        )
    elif operation == "TransactWriteItems":
        first = next(iter(body.get("TransactItems", [])), {})
        item = next(iter(first.values()), {}).get("Item", {})
    else:
        return None
    sort_key = item.get(TABLE_SCHEMA.sort_key, {}).get("S")
    if not isinstance(sort_key, str):
        return None
    if keys.is_meta(sort_key):
        return "lease"
    try:
        parsed = keys.parse(sort_key)
        if parsed.kind == "chunk" and parsed.owner is not None:
            parsed = keys.parse(parsed.owner)
    except ValueError:
        return None
    return "head" if parsed.kind == "head" else "write"


def _asked(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """What a logged call asked for, beyond its operation: a Query's page size and
    whether it continues a read; a batch's size."""
    if operation == "Query":
        return {"limit": body.get("Limit"), "continues": "ExclusiveStartKey" in body}
    if operation == "BatchWriteItem":
        return {"requests": sum(len(r) for r in body.get("RequestItems", {}).values())}
    return {}


def _answered(body: dict[str, Any]) -> dict[str, Any]:
    """What moto's answer said that the executor acts on: a Query page's size and
    whether there is more."""
    if "Count" in body:
        return {"items": body["Count"], "more": "LastEvaluatedKey" in body}
    return {}


__all__ = ["DYNAMODB_SERVICE", "DynamoDBAnswers", "written_item"]
