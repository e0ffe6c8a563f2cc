"""Sort-key layout of one thread's partition.

Every item of a thread lives under ``session_id = thread_id``. Its sort key
(the ``checkpoint_id`` attribute) is built from escaped parts joined by ``#``::

    <ns>#<cid>                         checkpoint head
    <ns>#<cid>#c<seq>                  chunk of the head's payload (large state only)
    <ns>#<cid>#w#<task>#<slot>         writes of a task: slot ``r`` holds the regular
                                       writes, slot ``-1``..``-4`` one special write
                                       (error, scheduled, interrupt, resume)
    <ns>#<cid>#w#<task>#<slot>#c<seq>  chunk of that write item's payload

Escaping replaces every character at or below ``%`` (0x25) with ``%XX``, so no
escaped part contains ``#`` (0x23) or ``$`` (0x24). DynamoDB orders sort keys by
their UTF-8 bytes, hence:

* ``#`` sorts below every character of a part, so all items of one checkpoint
  sort together, right after its head, and checkpoints sort by id;
* ``<ns>#`` .. ``<ns>$`` bounds exactly one namespace, and ``<ns>#<cid>`` ..
  ``<ns>#<cid>$`` exactly one checkpoint -- whatever characters ids contain;
* read newest-first, a checkpoint's writes and chunks come *before* its head,
  so a reader has everything a checkpoint needs the moment it sees the head.

The key alone says what an item is, so items carry no separate kind, namespace
or id attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = "#"
#: The character right after the separator: closes an inclusive BETWEEN range.
RANGE_END = "$"
REGULAR_SLOT = "r"
#: Sort keys of items that are not part of any checkpoint (the in-progress lease).
#: ``!`` (0x21) is escaped in every checkpoint key part, so the two never collide.
META_PREFIX = "!"
_ESCAPE_AT_OR_BELOW = 0x25


def escape(part: str) -> str:
    """Make ``part`` safe to embed between separators (see module docstring)."""
    if all(ord(ch) > _ESCAPE_AT_OR_BELOW for ch in part):
        return part
    return "".join(f"%{ord(ch):02X}" if ord(ch) <= _ESCAPE_AT_OR_BELOW else ch for ch in part)


def unescape(part: str) -> str:
    """Invert :func:`escape`; raises ``ValueError`` on a malformed escape."""
    if "%" not in part:
        return part
    out: list[str] = []
    i = 0
    while i < len(part):
        ch = part[i]
        if ch == "%":
            code = part[i + 1 : i + 3]
            if len(code) != 2:
                raise ValueError(f"truncated escape in sort-key part {part!r}")
            out.append(chr(int(code, 16)))
            i += 3
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def namespace_range(checkpoint_ns: str) -> tuple[str, str]:
    """Inclusive sort-key bounds of every item in one namespace."""
    ns = escape(checkpoint_ns)
    return ns + SEPARATOR, ns + RANGE_END


def head_key(checkpoint_ns: str, checkpoint_id: str) -> str:
    return escape(checkpoint_ns) + SEPARATOR + escape(checkpoint_id)


def checkpoint_range(checkpoint_ns: str, checkpoint_id: str) -> tuple[str, str]:
    """Inclusive bounds of one checkpoint: its head, chunks and writes."""
    head = head_key(checkpoint_ns, checkpoint_id)
    return head, head + RANGE_END


def write_key(checkpoint_ns: str, checkpoint_id: str, task_id: str, slot: str) -> str:
    head = head_key(checkpoint_ns, checkpoint_id)
    return SEPARATOR.join((head, "w", escape(task_id), slot))


def task_range(checkpoint_ns: str, checkpoint_id: str, task_id: str) -> tuple[str, str]:
    """Inclusive bounds of every write slot (and its chunks) of one task."""
    prefix = SEPARATOR.join((head_key(checkpoint_ns, checkpoint_id), "w", escape(task_id)))
    return prefix + SEPARATOR, prefix + RANGE_END


def regular_slot(n: int) -> str:
    """The slot of a task's ``n``-th item of regular writes: ``r``, ``r1``, ``r2``..."""
    return REGULAR_SLOT if n == 0 else f"{REGULAR_SLOT}{n}"


def regular_slot_number(slot: str) -> int | None:
    """Inverse of :func:`regular_slot`; ``None`` for a special slot."""
    if slot == REGULAR_SLOT:
        return 0
    if slot.startswith(REGULAR_SLOT) and slot[1:].isdigit() and len(slot) <= 6:
        return int(slot[1:])
    return None


def chunk_key(owner_key: str, seq: int) -> str:
    return f"{owner_key}{SEPARATOR}c{seq:05d}"


@dataclass(frozen=True)
class ParsedKey:
    checkpoint_ns: str
    checkpoint_id: str
    #: "head", "write" or "chunk".
    kind: str
    task_id: str | None = None
    #: For a chunk: the sort key of the item it belongs to, and its position.
    owner: str | None = None
    seq: int | None = None
    #: For a write: ``r``, ``r<n>`` (regular writes, in the order they were added)
    #: or ``-1``..``-4`` (one special write).
    slot: str | None = None


def is_meta(sort_key: str) -> bool:
    """True for items next to the thread's checkpoints, such as its lease."""
    return sort_key.startswith(META_PREFIX)


def parse(sort_key: str) -> ParsedKey:
    """What a sort key names; raises ``ValueError`` if it follows no layout above."""
    parts = sort_key.split(SEPARATOR)
    if len(parts) < 2:
        raise ValueError(f"sort key {sort_key!r} does not follow the checkpoint layout")
    ns, cid = unescape(parts[0]), unescape(parts[1])
    rest = parts[2:]
    if not rest:
        return ParsedKey(ns, cid, "head")
    if rest[0] == "w" and len(rest) in (3, 4):
        task_id = unescape(rest[1])
        if len(rest) == 3:
            return ParsedKey(ns, cid, "write", task_id=task_id, slot=rest[2])
        rest_chunk, owner_parts = rest[3], parts[:-1]
    elif len(rest) == 1:
        rest_chunk, owner_parts = rest[0], parts[:2]
    else:
        raise ValueError(f"sort key {sort_key!r} does not follow the checkpoint layout")
    if not (rest_chunk.startswith("c") and rest_chunk[1:].isdigit()):
        raise ValueError(f"sort key {sort_key!r} does not follow the checkpoint layout")
    return ParsedKey(ns, cid, "chunk", owner=SEPARATOR.join(owner_parts), seq=int(rest_chunk[1:]))
