"""Edits to a checkpoint table the real executor wrote, for scenarios that start from it.

The executor must treat anything it reads back from DynamoDB as possibly edited (a
hand fix in the console, a restore tool, a chunk lost to a partial copy): a tampered
item has to stop the execution with ``CHECKPOINT_CORRUPT``, never resume from it. A
scenario proves that by seeding the table (``Scenario.checkpoint_items``) -- and the
seeded items are never hand-written bytes: :func:`harness.authoring.executor.seed_table`
runs the real executor once and then applies the spec's tamper operations, each a small
pure function over the items (:data:`TAMPERS`, one model per operation name; the
``op`` field picks it, there is no dispatch on names).

Items here are as a boto3 client returns them (``{"B": bytes}``); operations copy,
never mutate, what they are given. An item is picked by :class:`ItemSelector`: the
checkpoint by its position in time (``0`` the oldest, ``-1`` the newest), then its
head, a task's write item, a chunk, or all of them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import ormsgpack
from langgraph.checkpoint.serde.jsonplus import EXT_CONSTRUCTOR_SINGLE_ARG
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from opx.checkpointing import TABLE_SCHEMA, keys
from opx.checkpointing.chunking import seal, unseal
from opx.checkpointing.codec import default_serde
from opx.checkpointing.items import repin
from opx.checkpointing.lease import LEASE_KEY, LEASE_TTL_GRACE_SECONDS

Item = dict[str, dict[str, Any]]
SK = TABLE_SCHEMA.sort_key
PK = TABLE_SCHEMA.partition_key
TTL = TABLE_SCHEMA.ttl_attribute
#: Length of the SHA-256 digest that opens every sealed payload (see opx.checkpointing).
DIGEST_LEN = 32


class TamperError(ValueError):
    """A tamper operation that does not fit the table it is applied to."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemSelector(_Strict):
    """Which items of the table an operation edits.

    ``checkpoint``: a checkpoint by age (``0`` oldest, ``-1`` newest); ``part``:
    its ``head``, a ``write`` item (``task``: the node whose writes, e.g.
    ``consensus``), a ``chunk`` of the head's payload (``chunk``: its number; of a
    task's write item when ``task`` is given), ``all`` of its items, or the ``lease``
    of its thread (added by ``hold-lease``). ``slot``: only the write item in that slot
    (``r``, ``r1``, ``-1``...), for a task with several.
    """

    checkpoint: int = -1
    part: Literal["head", "write", "chunk", "all", "lease"] = "head"
    task: Annotated[str, Field(min_length=1)] | None = None
    chunk: Annotated[int, Field(ge=0)] | None = None
    slot: Annotated[str, Field(min_length=1)] | None = None

    def pick(self, items: list[Item]) -> list[int]:
        """Indexes of the selected items; :class:`TamperError` when there are none."""
        parsed = {n: _parsed(item) for n, item in enumerate(items)}
        heads = sorted(
            (p.checkpoint_id, n) for n, p in parsed.items() if p is not None and p.kind == "head"
        )
        try:
            cid = heads[self.checkpoint][0]
        except IndexError:
            raise TamperError(
                f"checkpoint {self.checkpoint}: the table holds {len(heads)} checkpoint(s)"
            ) from None
        mine = {n: p for n, p in parsed.items() if p is not None and p.checkpoint_id == cid}
        if self.part == "lease":
            thread = items[heads[self.checkpoint][1]][PK]["S"]
            picked = [
                n for n, i in enumerate(items) if i[PK]["S"] == thread and i[SK]["S"] == LEASE_KEY
            ]
            if not picked:
                raise TamperError(f"thread {thread!r} holds no lease (add one with hold-lease)")
            return picked
        owner = None
        if self.task is not None:
            owner = next(
                (
                    items[n][SK]["S"]
                    for n, p in mine.items()
                    if p.kind == "write"
                    and _task_node(items[n]) == self.task
                    and self.slot in (None, p.slot)
                ),
                None,
            )
        picked = [n for n, p in mine.items() if self._wants(p, items[n], owner)]
        if not picked:
            raise TamperError(f"no item matches {self.model_dump(exclude_none=True)}")
        return picked

    def _wants(self, parsed: keys.ParsedKey, item: Item, owner: str | None) -> bool:
        if self.part == "all":
            return True
        if parsed.kind != self.part:
            return False
        if self.part == "write":
            if self.slot is not None and parsed.slot != self.slot:
                return False
            return self.task is None or item[SK]["S"] == owner
        if self.part == "chunk":
            wanted_owner = (
                owner
                if self.task is not None
                else keys.head_key(parsed.checkpoint_ns, parsed.checkpoint_id)
            )
            return parsed.owner == wanted_owner and self.chunk in (None, parsed.seq)
        return True


def _parsed(item: Item) -> keys.ParsedKey | None:
    sort_key = item[SK]["S"]
    if keys.is_meta(sort_key):
        return None  # the in-progress lease: part of no checkpoint
    try:
        return keys.parse(sort_key)
    except ValueError:
        return None  # re-keyed by an earlier operation (set-attribute): part of none


def _task_node(item: Item) -> str | None:
    """The node a write item belongs to: the last name of the task path LangGraph
    stores as its payload's first field (``~__pregel_pull, consensus``)."""
    blob = item.get("payload", {}).get("B")
    if blob is None:
        return None
    try:
        fields = unseal(bytes(blob))
    except ValueError:
        return None
    if not fields or fields[0][0] != "text":
        return None
    try:
        path = fields[0][1].decode()
    except UnicodeDecodeError:
        return None  # a task path edited to bytes that are not text (set-field) names no node
    return path.rsplit(", ", 1)[-1]


def _reseal(item: Item, attribute: str) -> None:
    """Seal an edited inline payload again -- its digest, then the owner's pin -- as a
    tool that rewrites items through the saver's own helpers would: the edit then
    reaches the frame parser instead of stopping at the digest."""
    if attribute != "payload" or "pin" not in item:
        raise TamperError("reseal applies to the payload of an owner item (head or write)")
    body = bytes(item["payload"]["B"])[DIGEST_LEN:]
    item["payload"] = {"B": hashlib.sha256(body).digest() + body}
    repin(item)


def _binary(item: Item, attribute: str) -> bytes:
    value = item.get(attribute, {}).get("B")
    if value is None:
        raise TamperError(f"item {item[SK]['S']!r} has no binary attribute {attribute!r}")
    return bytes(value)


class _Tamper(_Strict):
    item: ItemSelector = Field(default_factory=ItemSelector)

    def apply(self, items: list[Item]) -> list[Item]:
        """A copy of ``items`` with the operation applied to every selected item."""
        out = copy.deepcopy(items)
        for n in self.item.pick(out):
            self.edit(out[n])
        return out

    def edit(self, item: Item) -> None:
        raise NotImplementedError


class Drop(_Tamper):
    """Remove the selected items (a lost chunk, a checkpoint never stored)."""

    op: Literal["drop"] = "drop"

    def apply(self, items: list[Item]) -> list[Item]:
        gone = set(self.item.pick(items))
        return [copy.deepcopy(item) for n, item in enumerate(items) if n not in gone]


class DropAttribute(_Tamper):
    """Remove one attribute (``incident_id``, ``parent_cid``, ``pin``...)."""

    op: Literal["drop-attribute"] = "drop-attribute"
    attribute: Annotated[str, Field(min_length=1)]

    def edit(self, item: Item) -> None:
        if item.pop(self.attribute, None) is None:
            raise TamperError(f"item {item[SK]['S']!r} has no attribute {self.attribute!r}")


class FlipByte(_Tamper):
    """XOR one byte of a binary attribute with ``mask`` (``offset`` < 0 counts from the
    end); ``reseal``: seal the payload again afterwards (see :func:`_reseal`)."""

    op: Literal["flip-byte"] = "flip-byte"
    attribute: Literal["payload", "pin", "digest"] = "payload"
    offset: int
    mask: Annotated[int, Field(ge=1, le=255)] = 0xFF
    reseal: bool = False

    def edit(self, item: Item) -> None:
        data = bytearray(_binary(item, self.attribute))
        if not -len(data) <= self.offset < len(data):
            raise TamperError(f"offset {self.offset} outside {len(data)} bytes")
        data[self.offset] ^= self.mask
        item[self.attribute] = {"B": bytes(data)}
        if self.reseal:
            _reseal(item, self.attribute)


class Truncate(_Tamper):
    """Cut a binary attribute: keep its first ``keep`` bytes, or drop its last ``cut``
    (exactly one); ``reseal`` as for ``flip-byte``."""

    op: Literal["truncate"] = "truncate"
    attribute: Literal["payload", "pin", "digest"] = "payload"
    keep: Annotated[int, Field(ge=0)] | None = None
    cut: Annotated[int, Field(ge=1)] | None = None
    reseal: bool = False

    def edit(self, item: Item) -> None:
        data = _binary(item, self.attribute)
        if (self.keep is None) == (self.cut is None):
            raise TamperError("give exactly one of keep and cut")
        size = self.keep if self.keep is not None else len(data) - (self.cut or 0)
        if not 0 <= size < len(data):
            raise TamperError(f"cannot shorten {len(data)} bytes to {size}")
        item[self.attribute] = {"B": data[:size]}
        if self.reseal:
            _reseal(item, self.attribute)


class EscapeKey(_Tamper):
    """Spell characters of a head's checkpoint id (``at``: their positions, ``-1`` the
    last) as ``%XX`` escapes in its sort key, the pin sealed again: the key another
    writer (one escaping more than needed) would store. It names the same checkpoint,
    so the executor must read it as that one. An escape sorts the key below its plain
    spelling: escaping an early character makes it sort below every other checkpoint."""

    op: Literal["escape-key"] = "escape-key"
    at: Annotated[list[int], Field(min_length=1)] = Field(default_factory=lambda: [-1])

    def edit(self, item: Item) -> None:
        parsed = keys.parse(item[SK]["S"])
        if parsed.kind != "head":
            raise TamperError("escape-key applies to a checkpoint head")
        cid = parsed.checkpoint_id
        try:
            positions = sorted({range(len(cid))[n] for n in self.at})
        except IndexError:
            raise TamperError(
                f"at {self.at}: the checkpoint id has {len(cid)} characters"
            ) from None
        spelled = "".join(f"%{ord(ch):02X}" if n in positions else ch for n, ch in enumerate(cid))
        item[SK] = {"S": keys.escape(parsed.checkpoint_ns) + keys.SEPARATOR + spelled}
        repin(item)


class Move(_Tamper):
    """Store a head under another checkpoint id (``by`` away from its own, as uuid
    integers), the pin sealed again: a copy tool that re-keyed it. Its payload still
    names the checkpoint it was written for."""

    op: Literal["move"] = "move"
    by: int = -1

    def edit(self, item: Item) -> None:
        parsed = keys.parse(item[SK]["S"])
        if parsed.kind != "head" or self.by == 0:
            raise TamperError("move applies to a checkpoint head, by a non-zero distance")
        moved = uuid.UUID(int=uuid.UUID(parsed.checkpoint_id).int + self.by)
        item[SK] = {"S": keys.head_key(parsed.checkpoint_ns, str(moved))}
        repin(item)


class ShiftTtl(_Tamper):
    """Move an owner's ``ttl`` by ``seconds`` (e.g. ``-2678400``: 31 days earlier), the
    pin sealed again: an item written under a shorter TTL setting. Once past, DynamoDB
    may keep it for up to two days before deleting it; the executor must treat it as
    absent all the same, and never write over its key."""

    op: Literal["shift-ttl"] = "shift-ttl"
    seconds: int

    def edit(self, item: Item) -> None:
        if "pin" not in item or self.seconds == 0:
            raise TamperError("shift-ttl applies to a head or write item, by a non-zero amount")
        item[TTL] = {"N": str(int(item[TTL]["N"]) + self.seconds)}
        repin(item)


def _fields_of(item: Item) -> list[tuple[str, bytes]]:
    """The (tag, data) fields of an owner's inline payload, its digest checked."""
    if "pin" not in item or "chunks" in item:
        raise TamperError("applies to the inline payload of an owner item (head or write)")
    try:
        return unseal(_binary(item, "payload"))
    except ValueError as exc:
        raise TamperError(f"item {item[SK]['S']!r}: {exc}") from None


def _store_fields(item: Item, fields: list[tuple[str, bytes]]) -> None:
    """Seal edited fields as the saver would (digest, frame) and pin the owner again."""
    item["payload"] = {"B": seal(fields)}
    repin(item)


def _field_index(fields: list[tuple[str, bytes]], field: int) -> int:
    if not 0 <= field < len(fields):
        raise TamperError(f"field {field}: the payload has {len(fields)} field(s)")
    return field


class SetAttribute(_Tamper):
    """Give one attribute another typed value (``{S: text}``, ``{N: digits}``, ``{B:
    base64}`` or ``{BOOL: true}`` -- a type the saver never writes, but the console
    offers), adding it if absent -- a console edit; the sort key (``checkpoint_id``)
    too. ``repin``: seal the owner again, as a tool using the saver's helpers would (the
    saver's own ``repin`` refuses a BOOL, so a BOOL edit is never re-sealed)."""

    op: Literal["set-attribute"] = "set-attribute"
    attribute: Annotated[str, Field(min_length=1)]
    value: dict[Literal["S", "N", "B", "BOOL"], bool | str] = Field(min_length=1, max_length=1)
    repin: bool = False

    @field_validator("value")
    @classmethod
    def _typed(cls, value: dict[str, bool | str]) -> dict[str, bool | str]:
        ((kind, raw),) = value.items()
        if (kind == "BOOL") != isinstance(raw, bool):
            raise ValueError(f"{kind} takes {'true or false' if kind == 'BOOL' else 'text'}")
        if kind == "B":
            try:
                base64.b64decode(str(raw), validate=True)
            except binascii.Error:
                raise ValueError("B must be base64 text") from None
        return value

    def edit(self, item: Item) -> None:
        ((kind, raw),) = self.value.items()
        item[self.attribute] = {kind: base64.b64decode(str(raw)) if kind == "B" else raw}
        if self.repin:
            if "pin" not in item:
                raise TamperError("repin applies to a head or write item")
            repin(item)


class Retag(_Tamper):
    """Change the type tag of one field of an owner's payload frame (``field``: its
    position; a head holds checkpoint, metadata; a write item task path, then index,
    channel, value per write), the payload sealed again: e.g. ``pickle``, a tag the
    loader must refuse before any serializer sees it."""

    op: Literal["retag"] = "retag"
    field: Annotated[int, Field(ge=0)]
    tag: Annotated[str, Field(min_length=1)]

    def edit(self, item: Item) -> None:
        fields = _fields_of(item)
        n = _field_index(fields, self.field)
        fields[n] = (self.tag, fields[n][1])
        _store_fields(item, fields)


class SmuggleType(_Tamper):
    """Replace one msgpack field of an owner's payload by a value that asks the
    serializer to construct ``module.name(arg)`` (LangGraph's constructor extension),
    the payload sealed again: what an attacker who can write the table would store."""

    op: Literal["smuggle-type"] = "smuggle-type"
    field: Annotated[int, Field(ge=0)]
    module: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]
    arg: str = ""

    def edit(self, item: Item) -> None:
        fields = _fields_of(item)
        n = _field_index(fields, self.field)
        if fields[n][0] != "msgpack":
            raise TamperError(f"field {n} is tagged {fields[n][0]!r}, not 'msgpack'")
        inner = ormsgpack.packb((self.module, self.name, self.arg))
        fields[n] = ("msgpack", ormsgpack.packb(ormsgpack.Ext(EXT_CONSTRUCTOR_SINGLE_ARG, inner)))
        _store_fields(item, fields)


class SetValue(_Tamper):
    """Edit a value stored in one msgpack field of an owner's payload -- decoded with
    the saver's own serializer, the key ``path`` (map keys, list positions) set to
    ``value`` (``delete: true`` removes it), encoded and sealed again: a stored agent
    answer rewritten by hand into something the agent contract would have refused."""

    op: Literal["set-value"] = "set-value"
    field: Annotated[int, Field(ge=0)]
    path: Annotated[list[str | int], Field(min_length=1)]
    value: Any = None
    delete: bool = False

    def edit(self, item: Item) -> None:
        fields = _fields_of(item)
        n = _field_index(fields, self.field)
        serde = default_serde()
        if fields[n][0] != "msgpack":
            raise TamperError(f"field {n} is tagged {fields[n][0]!r}, not 'msgpack'")
        root = serde.loads_typed(fields[n])
        parent = root
        for step in self.path[:-1]:
            parent = _step(parent, step, self.path)
        last = self.path[-1]
        _step(parent, last, self.path)  # the key must exist: a typo is an error
        if self.delete:
            del parent[last]
        else:
            parent[last] = self.value
        fields[n] = serde.dumps_typed(_sets_in_order(root))
        _store_fields(item, fields)


def _sets_in_order(value: Any) -> Any:
    """``value`` with each set of strings (a join barrier's seen nodes) encoded in sorted
    order, as the serializer's own set extension: it encodes a set in iteration order,
    which follows the process's string hashing, and the seed that wrote the stored bytes
    ran under a fixed hash seed this process need not share -- so re-encoding as is
    would make ``author --check`` depend on ``PYTHONHASHSEED``."""
    if isinstance(value, dict):
        return {key: _sets_in_order(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sets_in_order(item) for item in value]
    if isinstance(value, (set, frozenset)) and all(isinstance(i, str) for i in value):
        kind = type(value)
        inner = ormsgpack.packb((kind.__module__, kind.__name__, tuple(sorted(value))))
        return ormsgpack.Ext(EXT_CONSTRUCTOR_SINGLE_ARG, inner)
    return value


def _step(value: Any, key: str | int, path: list[str | int]) -> Any:
    try:
        return value[key]
    except (KeyError, IndexError, TypeError):
        raise TamperError(f"path {path}: no {key!r} in the stored value") from None


class HoldLease(_Tamper):
    """Add the in-progress lease a run leaves when its Lambda dies mid-execution, in the
    selected checkpoint's thread: held by ``owner`` until ``expires`` (the holder's
    deadline), removed by DynamoDB's TTL a day after that, as the executor writes it."""

    op: Literal["hold-lease"] = "hold-lease"
    owner: Annotated[str, Field(min_length=1)]
    expires: AwareDatetime

    def apply(self, items: list[Item]) -> list[Item]:
        thread = items[self.item.pick(items)[0]][PK]["S"]
        if any(i[PK]["S"] == thread and i[SK]["S"] == LEASE_KEY for i in items):
            raise TamperError(f"thread {thread!r} already holds a lease")
        expires_at = int(datetime.timestamp(self.expires))
        lease: Item = {
            PK: {"S": thread},
            SK: {"S": LEASE_KEY},
            "owner": {"S": self.owner},
            "expires_at": {"N": str(expires_at)},
            TTL: {"N": str(expires_at + LEASE_TTL_GRACE_SECONDS)},
        }
        return [*copy.deepcopy(items), lease]


class CopyWrite(_Tamper):
    """Store a copy of a task's inline write item under another ``slot`` of the same
    task (``r1``, ``r123456``...), the pin sealed again: a restore tool that wrote one
    slot twice, or a writer with another slot layout. Edit either copy afterwards
    (``item.slot``) to make their writes differ; the reader must pick one as the
    saver's first-write-wins rule says."""

    op: Literal["copy-write"] = "copy-write"
    slot: Annotated[str, Field(min_length=1, pattern=r"^[^#]+$")]

    def apply(self, items: list[Item]) -> list[Item]:
        out = copy.deepcopy(items)
        for n in self.item.pick(items):
            parsed = keys.parse(items[n][SK]["S"])
            if parsed.kind != "write" or "chunks" in items[n] or "pin" not in items[n]:
                raise TamperError("copy-write applies to an inline write item")
            assert parsed.task_id is not None
            key = keys.write_key(
                parsed.checkpoint_ns, parsed.checkpoint_id, parsed.task_id, self.slot
            )
            if any(i[PK] == items[n][PK] and i[SK]["S"] == key for i in items):
                raise TamperError(f"slot {self.slot!r} of that task is taken")
            twin = copy.deepcopy(items[n])
            twin[SK] = {"S": key}
            out.append(repin(twin))
        return out


class AddField(_Tamper):
    """Insert one field (``tag``, ``text`` as UTF-8 bytes) into an owner's inline payload
    frame at position ``at`` (``-1``, default: after the last), sealed again: a frame
    whose field count no longer fits its kind (a write holds 1 + 3n fields)."""

    op: Literal["add-field"] = "add-field"
    tag: Annotated[str, Field(min_length=1)] = "text"
    text: str = ""
    at: int = -1

    def edit(self, item: Item) -> None:
        fields = _fields_of(item)
        position = len(fields) if self.at == -1 else self.at
        if not 0 <= position <= len(fields):
            raise TamperError(f"at {self.at}: the payload has {len(fields)} field(s)")
        fields.insert(position, (self.tag, self.text.encode()))
        _store_fields(item, fields)


class SetField(_Tamper):
    """Replace the bytes of one field of an owner's inline payload frame (``field``: its
    position) by ``data`` (base64), its tag kept, sealed again: a field no writer
    produces, such as a write's task path that is not UTF-8 -- which the reader must
    refuse by name rather than leave undecoded."""

    op: Literal["set-field"] = "set-field"
    field: Annotated[int, Field(ge=0)]
    data: str

    @field_validator("data")
    @classmethod
    def _base64(cls, data: str) -> str:
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error:
            raise ValueError("data must be base64 text") from None
        return data

    def edit(self, item: Item) -> None:
        fields = _fields_of(item)
        n = _field_index(fields, self.field)
        fields[n] = (fields[n][0], base64.b64decode(self.data))
        _store_fields(item, fields)


class RenameCheckpoint(_Tamper):
    """Give a checkpoint another id everywhere it is stored -- its head's key and
    payload, the keys of its writes and chunks, its children's ``parent_cid`` -- every
    owner sealed again: a consistent copy under an id the key layout must escape. The
    new id is the old one with the character at ``at`` (``-1``: the last) replaced by
    ``text`` (e.g. a space: the id then still sorts between its neighbours). The
    executor must read, resume and write it under the escaped spelling."""

    op: Literal["rename-checkpoint"] = "rename-checkpoint"
    at: int = -1
    text: Annotated[str, Field(min_length=1)]

    def apply(self, items: list[Item]) -> list[Item]:
        out = copy.deepcopy(items)
        if self.item.part != "head":
            raise TamperError("rename-checkpoint applies to a checkpoint head")
        (n,) = self.item.pick(out)
        head = out[n]
        parsed = keys.parse(head[SK]["S"])
        old_id = parsed.checkpoint_id
        try:
            position = range(len(old_id))[self.at]
        except IndexError:
            raise TamperError(
                f"at {self.at}: the checkpoint id has {len(old_id)} characters"
            ) from None
        new_id = old_id[:position] + self.text + old_id[position + 1 :]
        if new_id == old_id:
            raise TamperError("rename-checkpoint needs another id")
        old_key, new_key = head[SK]["S"], keys.head_key(parsed.checkpoint_ns, new_id)
        fields = _fields_of(head)
        serde = default_serde()
        checkpoint = serde.loads_typed(fields[0])
        checkpoint["id"] = new_id
        fields[0] = serde.dumps_typed(checkpoint)
        head["payload"] = {"B": seal(fields)}
        thread = head[PK]
        for item in out:
            if item[PK] != thread:
                continue
            sort_key = item[SK]["S"]
            if sort_key == old_key or sort_key.startswith(old_key + keys.SEPARATOR):
                item[SK] = {"S": new_key + sort_key[len(old_key) :]}
            elif item.get("parent_cid", {}).get("S") == old_id:
                item["parent_cid"] = {"S": new_id}
            else:
                continue
            if "pin" in item:
                repin(item)
        return out


#: Every tamper operation, by the ``op`` name a spec uses.
TAMPERS: dict[str, type[_Tamper]] = {
    model.model_fields["op"].default: model
    for model in (
        Drop,
        DropAttribute,
        FlipByte,
        Truncate,
        EscapeKey,
        Move,
        ShiftTtl,
        SetAttribute,
        Retag,
        SmuggleType,
        SetValue,
        HoldLease,
        CopyWrite,
        AddField,
        SetField,
        RenameCheckpoint,
    )
}

Tamper = Annotated[
    Drop
    | DropAttribute
    | FlipByte
    | Truncate
    | EscapeKey
    | Move
    | ShiftTtl
    | SetAttribute
    | Retag
    | SmuggleType
    | SetValue
    | HoldLease
    | CopyWrite
    | AddField
    | SetField
    | RenameCheckpoint,
    Field(discriminator="op"),
]


def tamper(items: list[Item], operations: list[Any]) -> list[Item]:
    """``items`` with ``operations`` applied in order (each names its failure's index)."""
    for n, operation in enumerate(operations):
        try:
            items = operation.apply(items)
        except TamperError as exc:
            raise TamperError(f"tamper[{n}] ({operation.op}): {exc}") from None
    return items


#: The signature every operation's ``apply`` has (for readers of :data:`TAMPERS`).
Apply = Callable[[list[Item]], list[Item]]

__all__ = [
    "TAMPERS",
    "AddField",
    "Apply",
    "CopyWrite",
    "Drop",
    "DropAttribute",
    "EscapeKey",
    "FlipByte",
    "HoldLease",
    "ItemSelector",
    "Move",
    "RenameCheckpoint",
    "Retag",
    "SetAttribute",
    "SetField",
    "SetValue",
    "ShiftTtl",
    "SmuggleType",
    "Tamper",
    "TamperError",
    "Truncate",
    "tamper",
]
