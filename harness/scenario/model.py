"""Scenario files: one recorded incident, readable and hand-editable.

A scenario holds everything a replay needs that moto does not provide: the frozen
clock's start, environment overrides, the EventBridge event(s) delivered to the
handler, and every recorded answer for AWS calls outside moto (Bedrock InvokeAgent).
Event streams are stored decoded -- chunk text, trace objects, in-stream errors --
so a reviewer reads a diff of a scenario like any other JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from harness.kinds.registry import DEFAULT_KIND, KIND_NAMES, ScenarioKindName, kind_named

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChunkEvent(_Strict):
    """A ``chunk`` of completion text (the service sends bytes; UTF-8 here)."""

    chunk: str


_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})|\\")


def escape_bytes(data: bytes) -> str:
    """Bytes as readable text: UTF-8 where they decode, each byte that does not as
    ``\\xNN`` (lower-case hex), each backslash doubled -- so the form is reversible
    (:func:`unescape_bytes`), a reviewer reads the text around the bad byte, and the
    scrubber and secret detector still see it (base64 would hide both)."""
    return data.replace(b"\\", b"\\\\").decode("utf-8", errors="backslashreplace")


def unescape_bytes(text: str) -> bytes:
    """Inverse of :func:`escape_bytes`; a backslash starting neither ``\\\\`` nor
    ``\\xNN`` is an error (a hand edit that broke the form)."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        escape = match.group(1)
        if escape is None:
            raise ValueError(
                f"a backslash at character {match.start()} starts neither \\\\ nor \\xNN"
            )
        out += text[position : match.start()].encode("utf-8")
        out += b"\\" if escape == "\\" else bytes([int(escape[1:], 16)])
        position = match.end()
    out += text[position:].encode("utf-8")
    return bytes(out)


def _escaped_bytes(text: str) -> str:
    unescape_bytes(text)
    return text


class BytesChunkEvent(_Strict):
    """A ``chunk`` whose bytes are not UTF-8: ``chunk_bytes`` is their
    :func:`escape_bytes` form (``"entr\\xe9e"`` for Latin-1 ``entrée``).

    A type of its own rather than an alternative field on :class:`ChunkEvent`: every
    existing file keeps its one-key ``{"chunk": ...}`` shape, a reader sees at a glance
    that this completion is *not* text, and no event can hold both or neither. The
    recorder writes one only when the joined completion does not decode.
    """

    chunk_bytes: Annotated[str, AfterValidator(_escaped_bytes)]

    @property
    def data(self) -> bytes:
        """The raw bytes the service sent."""
        return unescape_bytes(self.chunk_bytes)


class TraceEvent(_Strict):
    """A ``trace`` event: the Trace union, e.g. ``{"orchestrationTrace": {...}}``."""

    trace: dict[str, Any]


class StreamError(_Strict):
    type: Annotated[str, Field(min_length=1)]
    message: str = ""


class ExceptionEvent(_Strict):
    """A modeled in-stream exception (``throttlingException``, ...)."""

    exception: StreamError


class ReturnControlEvent(_Strict):
    """A ``returnControl`` event: the ReturnControlPayload (``invocationId``,
    ``invocationInputs``) an agent with a RETURN_CONTROL action group sends instead of
    text, asking the caller to run the action and send the result back."""

    return_control: dict[str, Any]


StreamEvent = ChunkEvent | BytesChunkEvent | TraceEvent | ExceptionEvent | ReturnControlEvent


class EventStreamAnswer(_Strict):
    """A 200 response whose body is an event stream."""

    kind: Literal["eventstream"] = "eventstream"
    events: list[StreamEvent]


class ErrorAnswer(_Strict):
    """An error answered before any stream (e.g. 429 ThrottlingException)."""

    kind: Literal["error"] = "error"
    status: Annotated[int, Field(ge=400, le=599)]
    code: Annotated[str, Field(min_length=1)]
    message: str = ""


class HttpAnswer(_Strict):
    """Any other AWS answer, as it came over the wire (``record`` captures AWS reads
    this way): the status, the headers botocore's parser reads, and the body --
    decoded JSON for JSON protocols so it stays readable, else text."""

    kind: Literal["http"] = "http"
    status: Annotated[int, Field(ge=200, le=599)] = 200
    headers: dict[str, str] = Field(default_factory=dict)
    #: ``json``: ``body`` is the decoded document; ``text``: ``body`` is the text.
    encoding: Literal["json", "text"] = "json"
    body: Any = None


Answer = Annotated[EventStreamAnswer | ErrorAnswer | HttpAnswer, Field(discriminator="kind")]


#: The transport-level failures a ``network`` fault may raise: botocore's own exception
#: classes, so botocore and the code under replay see exactly what a dropped
#: connection, an unreachable endpoint or a stalled read raises in production.
NETWORK_ERRORS: tuple[str, ...] = (
    "ConnectTimeoutError",
    "ConnectionClosedError",
    "EndpointConnectionError",
    "ReadTimeoutError",
)
#: The network errors that can come *after* the request reached the server (the
#: answer was lost, not the request): the ones an ``applied`` fault may raise.
ANSWER_LOST_ERRORS: tuple[str, ...] = ("ConnectionClosedError", "ReadTimeoutError")


class Fault(_Strict):
    """A failed attempt served before the interaction's answer.

    ``where: "stream"`` delivers the error inside a 200 event stream (how Bedrock
    reports throttling mid-response); ``where: "http"`` as an HTTP error status;
    ``where: "network"`` answers nothing at all: the request raises the botocore
    exception ``error`` names (one of :data:`NETWORK_ERRORS`; ``status`` and
    ``message`` are unused), as a connection reset or a timeout does.

    ``applied: true`` (a scripted DynamoDB answer's network fault only) is the
    answer lost on its way back: the server applied the request -- moto stores it --
    and then the connection dropped (one of :data:`ANSWER_LOST_ERRORS`), so
    botocore retries a write that already happened, as in production.
    """

    error: Annotated[str, Field(min_length=1)]
    where: Literal["http", "stream", "network"] = "http"
    status: Annotated[int, Field(ge=400, le=599)] = 429
    message: str = ""
    latency_ms: Annotated[int, Field(ge=0)] = 0
    #: ``where: "stream"`` only: trace events the stream sent before the error -- the
    #: model ran, so its usage traces bill the failed attempt. Written to the file only
    #: when there are any.
    traces: list[TraceEvent] = Field(default_factory=list)
    #: The server applied the request before its answer was lost (see above). Written
    #: to the file only when set.
    applied: bool = False

    @model_validator(mode="after")
    def _network_error_is_botocores(self) -> Fault:
        if self.where == "network" and self.error not in NETWORK_ERRORS:
            raise ValueError(
                f"a network fault raises one of {', '.join(NETWORK_ERRORS)}; got {self.error!r}"
            )
        if self.applied and (self.where != "network" or self.error not in ANSWER_LOST_ERRORS):
            raise ValueError(
                "applied: the answer is lost after the request reached the server -- a "
                f"network fault raising one of {', '.join(ANSWER_LOST_ERRORS)}"
            )
        if self.traces and self.where != "stream":
            raise ValueError("traces come before an in-stream error: only a stream fault has them")
        return self

    @model_serializer(mode="wrap")
    def _without_empty_traces(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Faults without traces keep the form every earlier file has.
        data: dict[str, Any] = handler(self)
        if not self.traces:
            data.pop("traces", None)
        if not self.applied:
            data.pop("applied", None)
        return data


#: Where an interaction's answer came from -- which decides how a refresh renews it:
#: ``authored``, scripted by an author (re-bound offline, faults and all); ``recorded``,
#: a live answer (``record``, ``import``: asked again live); ``kept``, a live answer
#: re-bound to a changed request without asking again (``refresh --keep-answers``).
Provenance = Literal["authored", "recorded", "kept"]


class Interaction(_Strict):
    """One recorded request and how it was answered.

    ``request`` is the operation's parameters as the executor sent them (JSON-valued
    strings such as ``inputText`` decoded into objects). Identical requests are
    answered in file order; each answer is used once.
    """

    service: Annotated[str, Field(min_length=1)]
    operation: Annotated[str, Field(min_length=1)]
    request: dict[str, Any]
    faults: list[Fault] = Field(default_factory=list)
    response: Answer
    latency_ms: Annotated[int, Field(ge=0)] = 0
    #: A file without it predates provenance: treated as live, the cautious reading.
    provenance: Provenance = "recorded"

    @field_validator("faults")
    @classmethod
    def _nothing_applied(cls, faults: list[Fault]) -> list[Fault]:
        """A recorded answer has no server state for a lost answer to leave behind:
        ``applied`` belongs to scripted DynamoDB answers (``DynamoDBAnswer``)."""
        if any(fault.applied for fault in faults):
            raise ValueError(
                "applied is a scripted DynamoDB answer's fault (the table keeps the write); "
                "an interaction's answer has no stored state to apply"
            )
        return faults


class Clock(_Strict):
    start: AwareDatetime


#: Setup calls seed moto only: the boto3 client names of services moto serves, and
#: the service ids botocore events (and so interactions) spell them with.
SETUP_SERVICE_IDS = {
    "cloudwatch": "cloudwatch",
    "dynamodb": "dynamodb",
    "logs": "cloudwatch-logs",
    "xray": "xray",
}


class SetupCall(_Strict):
    """An AWS call that seeds moto before an action-group scenario's events run
    (``PutMetricData``, ``PutLogEvents``, ``PutTraceSegments``, ``PutItem``, ...).

    ``client`` is the boto3 client name, ``operation`` the API name and ``params``
    its keyword arguments as boto3 takes them (times as ISO 8601 strings). Setup is
    the world the handler reads, not something it does: it is not in the result.
    """

    client: Literal["cloudwatch", "logs", "xray", "dynamodb"]
    operation: Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]*$")]
    params: dict[str, Any] = Field(default_factory=dict)


_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")


def _one_typed_value(value: dict[str, str | bool]) -> dict[str, str | bool]:
    """One DynamoDB attribute value in wire JSON: exactly one of ``S`` (text), ``N``
    (a number, as text), ``B`` (binary, as base64 text) -- the types the executor's
    checkpoint items hold -- or ``BOOL`` (``true``/``false``), which no writer of the
    executor's stores but a console edit can add, and the reader must refuse by name.
    Checked here so a hand edit that breaks the encoding (not the content) is named at
    its JSON path instead of failing in moto."""
    if len(value) != 1:
        raise ValueError(f"exactly one of S, N, B, BOOL; got {sorted(value) or 'none'}")
    ((kind, raw),) = value.items()
    if (kind == "BOOL") != isinstance(raw, bool):
        raise ValueError(f"{kind} takes {'true or false' if kind == 'BOOL' else 'text'}")
    if kind == "N" and not _NUMBER.match(str(raw)):
        raise ValueError(f"N must be a number written as text; got {raw!r}")
    if kind == "B":
        try:
            base64.b64decode(str(raw), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"B must be base64 text ({exc})") from None
    return value


#: One attribute value of a stored item, in DynamoDB's wire JSON (``{"S": "..."}``).
#: ``bool`` first: pydantic's smart union then keeps ``true`` a bool, never ``"True"``.
AttributeValue = Annotated[
    dict[Literal["S", "N", "B", "BOOL"], bool | str], AfterValidator(_one_typed_value)
]
#: One DynamoDB item: attribute name to typed value.
TableItem = dict[Annotated[str, Field(min_length=1)], AttributeValue]


def boto3_item(item: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A wire-JSON item (``B`` as base64 text) as a boto3 client takes it (bytes)."""
    return {
        name: {kind: base64.b64decode(raw) if kind == "B" else raw for kind, raw in v.items()}
        for name, v in item.items()
    }


def wire_item(item: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Inverse of :func:`boto3_item`: a scenario file's form of a stored item."""
    return {
        name: {
            kind: base64.b64encode(bytes(raw)).decode()
            if kind == "B"
            else raw
            if kind == "BOOL"
            else str(raw)
            for kind, raw in v.items()
        }
        for name, v in sorted(item.items())
    }


#: The DynamoDB operations a scripted answer may stand in for: the ones the
#: executor's checkpointer and lease send (``opx.checkpointing.store``, ``.lease``),
#: and ``create_table``'s ``CreateTable`` and ``UpdateContinuousBackups`` (a
#: ``maintenance`` scenario's: an error other than "already exists" must not be adopted).
DynamoDBOperation = Literal[
    "BatchWriteItem",
    "CreateTable",
    "DeleteItem",
    "PutItem",
    "Query",
    "TransactWriteItems",
    "UpdateContinuousBackups",
]
DYNAMODB_OPERATIONS: tuple[str, ...] = get_args(DynamoDBOperation)
#: What a write call stores, by the executor's key layout (see :class:`DynamoDBAnswer`).
DynamoDBItem = Literal["head", "write", "lease"]
#: How long (real seconds) a held call waits for the call it is held for (``after``).
HOLD_TIMEOUT_S = 30.0


class DynamoDBCall(_Strict):
    """One call of the executor's to DynamoDB, named as an answer names it:
    ``operation``, optionally the ``item`` it writes, and its number."""

    operation: DynamoDBOperation
    item: DynamoDBItem | None = None
    call: Annotated[int, Field(ge=1)]

    def __str__(self) -> str:
        return f"{self.operation}" + (f" ({self.item})" if self.item else "") + f" call {self.call}"


class DynamoDBAnswer(_Strict):
    """What DynamoDB answers the ``call``-th call (1-based, counted from the first
    event; seeded items do not count) of ``operation`` -- and, with ``calls``, the
    calls right after it -- instead of moto's happy answer.

    ``item`` counts only the calls that write that kind of item, by the executor's
    key layout (``opx.checkpointing.keys``): a checkpoint ``head``, a task's ``write``
    (a batch: the item its chunks belong to) or the execution's ``lease``. Heads are
    stored one step after another, while parallel branches store their writes at the
    same time, so "the third head" names one call on every run where "the tenth
    PutItem" may not.

    ``faults`` are the attempts of each such call, in order (botocore retries a call
    itself, so a fault per attempt -- four for DynamoDB's default -- is what reaches
    the executor); an attempt after the last fault goes to moto. ``unprocessed``
    answers a ``BatchWriteItem`` as DynamoDB does under load: moto stores the rest of
    the batch and the answer lists the ``first`` N requests (or ``all``) in
    ``UnprocessedItems``. Exactly one of the two.

    ``after`` holds the call's first attempt until that other call was sent. The
    executor stores a task's writes in the background while the graph goes on, so
    the backoff of a write's retry (a clock advance) could land before or after the
    next checkpoint reads the clock; held until the checkpoint's head is sent, it
    lands after it on every run. A call that never comes releases it after
    :data:`HOLD_TIMEOUT_S` seconds, and the log says so.
    """

    operation: DynamoDBOperation
    item: DynamoDBItem | None = None
    call: Annotated[int, Field(ge=1)]
    #: How many consecutive calls, from ``call`` on, get this answer.
    calls: Annotated[int, Field(ge=1)] = 1
    faults: list[Fault] = Field(default_factory=list)
    unprocessed: Literal["all"] | Annotated[int, Field(ge=1)] | None = None
    #: Written to the file only when set (see above).
    after: DynamoDBCall | None = None

    @model_serializer(mode="wrap")
    def _without_after(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Answers without it keep the form every earlier file has.
        data: dict[str, Any] = handler(self)
        if self.after is None:
            data.pop("after", None)
        return data

    @model_validator(mode="after")
    def _one_answer(self) -> DynamoDBAnswer:
        if bool(self.faults) == (self.unprocessed is not None):
            raise ValueError("give either faults or unprocessed (exactly one)")
        if self.item is not None and self.operation == "Query":
            raise ValueError("item names what a call writes; a Query writes nothing")
        if self.unprocessed is not None and self.operation != "BatchWriteItem":
            raise ValueError(
                f"unprocessed is a BatchWriteItem answer; {self.operation} has no UnprocessedItems"
            )
        return self


class DynamoDBScript(_Strict):
    """What DynamoDB answers the executor (``answers``, see :class:`DynamoDBAnswer`),
    and which operations' calls the result lists: every operation ``log`` names or an
    answer scripts -- so a reviewer sees each scripted answer and the calls it caused."""

    answers: list[DynamoDBAnswer] = Field(default_factory=list)
    log: list[DynamoDBOperation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> DynamoDBScript:
        if not self.answers and not self.log:
            raise ValueError("give answers or log (or leave dynamodb out)")
        taken: dict[tuple[str, str | None, int], int] = {}
        for n, answer in enumerate(self.answers):
            for call in range(answer.call, answer.call + answer.calls):
                earlier = taken.setdefault((answer.operation, answer.item, call), n)
                if earlier != n:
                    raise ValueError(
                        f"answers[{n}]: {answer.operation} call {call} is already answered "
                        f"by answers[{earlier}]"
                    )
        return self

    @property
    def logged(self) -> frozenset[str]:
        """The operations whose calls a replay lists."""
        return (
            frozenset(self.log)
            | {answer.operation for answer in self.answers}
            | {answer.after.operation for answer in self.answers if answer.after is not None}
        )


class RedriveCommand(_Strict):
    """``redrive``: the operator's ``python -m opx.redrive`` run over the dead-letter
    queue. ``queue`` is created on moto with the scenario's events as its messages, in
    order; ``argv`` is the command line after the module (``--queue-url`` and
    ``--function-name`` included, so a typo is a scenario too)."""

    queue: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")] = "opx-executor-dlq-replay"
    argv: list[str]


#: A thread as a maintenance operation names it: ``@execution:<n>`` is the execution id
#: of the scenario's event ``n`` (the author cannot know it before the run), anything
#: else a thread id verbatim (a copy's target, a thread that does not exist).
ThreadRef = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=r"^(@execution:[0-9]+|[^@].*)$"),
]
#: A checkpoint as a maintenance operation names it: ``@checkpoint:<thread>:<n>`` is the
#: ``n``-th newest checkpoint of ``<thread>`` (a :data:`ThreadRef`) in the root
#: namespace, read from the table just before the operation; anything else a
#: checkpoint id verbatim (one that does not exist, say).
CheckpointRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        pattern=r"^(@checkpoint:(@execution:[0-9]+|[^@:][^:]*):[0-9]+|[^@].*)$",
    ),
]
#: What ``create-table`` and ``cloudformation`` name: a table name, or ``@checkpoints``
#: -- the replay's own checkpoint table, which the executor runs already created.
TableRef = Annotated[str, Field(pattern=r"^(@checkpoints|[A-Za-z0-9_.-]{3,255})$")]


class _Operation(_Strict):
    #: Run the saver's ``a*`` twin (``alist``, ``aprune``...) through ``asyncio.run``.
    asynchronous: bool = False


class ListOperation(_Operation):
    """``DynamoDBCheckpointer.list``: ``thread`` ``null`` lists with no config at all
    (refused: it would need a Scan); ``checkpoint_ns`` unset lists every namespace."""

    op: Literal["list"]
    thread: ThreadRef | None
    checkpoint_ns: str | None = None
    checkpoint: CheckpointRef | None = None
    before: CheckpointRef | None = None
    filter: dict[str, Any] | None = None
    limit: int | None = None


class GetOperation(_Operation):
    """``DynamoDBCheckpointer.get_tuple``: the latest checkpoint, or ``checkpoint``."""

    op: Literal["get"]
    thread: ThreadRef
    checkpoint_ns: str = ""
    checkpoint: CheckpointRef | None = None


class CopyOperation(_Operation):
    """``DynamoDBCheckpointer.copy_thread``."""

    op: Literal["copy"]
    source: ThreadRef
    target: ThreadRef


class DeleteOperation(_Operation):
    """``DynamoDBCheckpointer.delete_thread``."""

    op: Literal["delete"]
    thread: ThreadRef


class PruneOperation(_Operation):
    """``DynamoDBCheckpointer.prune``; ``strategy`` is any string, so an unknown one
    is a scenario too (the saver must refuse it)."""

    op: Literal["prune"]
    threads: Annotated[list[ThreadRef], Field(min_length=1)]
    strategy: str = "keep_latest"


class CreateTableOperation(_Strict):
    """``opx.checkpointing.create_table`` on moto, then what DynamoDB describes."""

    op: Literal["create-table"]
    table: TableRef
    #: ``None`` (unstated): the call leaves ``exist_ok`` out, so the function's own
    #: default is what the scenario tests.
    exist_ok: bool | None = None


class CloudFormationOperation(_Strict):
    """``TABLE_SCHEMA.cloudformation_properties``: what the infrastructure deploys."""

    op: Literal["cloudformation"]
    table: TableRef


#: One operator operation of a ``maintenance`` scenario, by its ``op``.
MaintenanceOperation = Annotated[
    ListOperation
    | GetOperation
    | CopyOperation
    | DeleteOperation
    | PruneOperation
    | CreateTableOperation
    | CloudFormationOperation,
    Field(discriminator="op"),
]


#: Optional scenario fields that belong to some kinds only (``ScenarioKind.fields``
#: says which kind reads which); a kind's files are written without the others.
KIND_FIELDS = frozenset(
    {
        "kind",
        "action_group",
        "setup",
        "checkpoint_items",
        "dynamodb",
        "redrive",
        "maintenance",
        "remaining_ms",
    }
)

#: Lambda's longest function timeout: no invocation starts with more time left.
MAX_REMAINING_MS = 900_000


class Scenario(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    #: What a scenario replays: a name in :data:`harness.kinds.KINDS` (the executor,
    #: or one action group's Lambda).
    kind: ScenarioKindName = DEFAULT_KIND
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
    description: str
    tags: list[str] = Field(default_factory=list)
    clock: Clock
    #: Environment for the handler, over the harness defaults
    #: (docs/reference/architecture.md, "What a replay is").
    env: dict[str, str] = Field(default_factory=dict)
    #: Delivered to the handler in order; more than one models redelivery.
    events: Annotated[list[Any], Field(min_length=1)]
    #: ``concurrent``: EventBridge delivers the events at once (at-least-once delivery
    #: sometimes overlaps): the second arrives while the first is running.
    #: ``concurrent-late``: the second has read the state (incomplete) and takes the
    #: lease just after the first finished (:mod:`harness.kinds.overlap`). Written to
    #: the file only when not ``sequential``.
    delivery: Literal["sequential", "concurrent", "concurrent-late"] = "sequential"
    interactions: list[Interaction] = Field(default_factory=list)
    #: ``action-group``: the group (``opx.action_groups.registry`` name) whose handler
    #: each event is delivered to.
    action_group: str | None = None
    #: ``action-group``: calls seeding moto before the first event.
    setup: list[SetupCall] = Field(default_factory=list)
    #: ``executor``: the checkpoint table's items before the first event is delivered
    #: (a run that already happened, perhaps edited since): the executor must treat
    #: anything it reads back as possibly tampered with. Written to the file only when
    #: there are any.
    checkpoint_items: list[TableItem] = Field(default_factory=list)
    #: ``executor``: what DynamoDB answers the executor's checkpoint table instead of
    #: moto's happy answers (network faults, unprocessed batch items), and which calls
    #: the result lists. Written to the file only when set.
    dynamodb: DynamoDBScript | None = None
    #: ``executor``: what ``context.get_remaining_time_in_millis()`` reports to every
    #: invocation (``None``: the stack's 5-minute timeout, untouched). A Lambda retry can
    #: start near the function timeout, or already past it (0), and the executor's lease
    #: length derives from it, so a scenario must be able to say so. Written to the file
    #: only when set.
    remaining_ms: Annotated[StrictInt, Field(ge=0, le=MAX_REMAINING_MS)] | None = None
    #: ``redrive``: the redrive command and its queue; ``events`` are the queue's
    #: message bodies (a string verbatim, anything else as its JSON).
    redrive: RedriveCommand | None = None
    #: ``maintenance``: the operator operations run, in order, on the checkpoint table
    #: once the events have run (:mod:`harness.kinds.maintenance`).
    maintenance: list[MaintenanceOperation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Scenario:
        """Kind-specific rules live with the kind (:meth:`ScenarioKind.validate`)."""
        kind = kind_named(self.kind)
        foreign = sorted(
            name
            for name in KIND_FIELDS - kind.fields - {"kind"}
            if getattr(self, name)
            != type(self).model_fields[name].get_default(call_default_factory=True)
        )
        if foreign:
            owners = sorted(k for k in KIND_NAMES if set(foreign) <= kind_named(k).fields)
            raise ValueError(
                f"{' and '.join(foreign)} belong to {', '.join(owners) or 'no'} scenarios"
            )
        kind.validate(self)
        return self

    def to_json(self) -> str:
        """The file form: indented, sorted keys, trailing newline -- stable diffs."""
        exclude = set(KIND_FIELDS - kind_named(self.kind).fields)
        if self.delivery == "sequential":
            exclude.add("delivery")
        if not self.checkpoint_items:
            exclude.add("checkpoint_items")
        if self.dynamodb is None:
            exclude.add("dynamodb")
        if self.remaining_ms is None:
            exclude.add("remaining_ms")
        data = self.model_dump(mode="json", exclude_defaults=False, exclude=exclude)
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = [
    "ANSWER_LOST_ERRORS",
    "DYNAMODB_OPERATIONS",
    "HOLD_TIMEOUT_S",
    "KIND_FIELDS",
    "MAX_REMAINING_MS",
    "NETWORK_ERRORS",
    "SCHEMA_VERSION",
    "SETUP_SERVICE_IDS",
    "Answer",
    "AttributeValue",
    "BytesChunkEvent",
    "CheckpointRef",
    "ChunkEvent",
    "Clock",
    "CloudFormationOperation",
    "CopyOperation",
    "CreateTableOperation",
    "DeleteOperation",
    "DynamoDBAnswer",
    "DynamoDBCall",
    "DynamoDBItem",
    "DynamoDBOperation",
    "DynamoDBScript",
    "ErrorAnswer",
    "EventStreamAnswer",
    "ExceptionEvent",
    "Fault",
    "GetOperation",
    "HttpAnswer",
    "Interaction",
    "ListOperation",
    "MaintenanceOperation",
    "Provenance",
    "PruneOperation",
    "RedriveCommand",
    "ReturnControlEvent",
    "Scenario",
    "SetupCall",
    "StreamError",
    "StreamEvent",
    "TableItem",
    "TableRef",
    "ThreadRef",
    "TraceEvent",
    "boto3_item",
    "escape_bytes",
    "unescape_bytes",
    "wire_item",
]
