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

import copy
import hashlib
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opx.checkpointing import TABLE_SCHEMA, keys
from opx.checkpointing.chunking import unseal
from opx.checkpointing.items import repin

Item = dict[str, dict[str, Any]]
SK = TABLE_SCHEMA.sort_key
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
    task's write item when ``task`` is given), or ``all`` of its items.
    """

    checkpoint: int = -1
    part: Literal["head", "write", "chunk", "all"] = "head"
    task: Annotated[str, Field(min_length=1)] | None = None
    chunk: Annotated[int, Field(ge=0)] | None = None

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
        owner = None
        if self.task is not None:
            owner = next(
                (
                    items[n][SK]["S"]
                    for n, p in mine.items()
                    if p.kind == "write" and _task_node(items[n]) == self.task
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
    return keys.parse(sort_key)


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
    return fields[0][1].decode().rsplit(", ", 1)[-1]


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


#: Every tamper operation, by the ``op`` name a spec uses.
TAMPERS: dict[str, type[_Tamper]] = {
    model.model_fields["op"].default: model
    for model in (Drop, DropAttribute, FlipByte, Truncate, EscapeKey, Move, ShiftTtl)
}

Tamper = Annotated[
    Drop | DropAttribute | FlipByte | Truncate | EscapeKey | Move | ShiftTtl,
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
    "Apply",
    "Drop",
    "DropAttribute",
    "EscapeKey",
    "FlipByte",
    "ItemSelector",
    "Move",
    "ShiftTtl",
    "Tamper",
    "TamperError",
    "Truncate",
    "tamper",
]
