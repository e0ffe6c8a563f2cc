"""One binary payload per item, split into chunk items when it would not fit.

DynamoDB refuses items over 400 KB. Each head or write item keeps its fields in a
single length-prefixed *frame*, sealed with the frame's SHA-256 in front. A sealed
blob longer than :data:`INLINE_LIMIT` is cut into :data:`CHUNK_SIZE` pieces stored
as separate items next to their owner, which records the chunk count. The digest
makes a lost, stale or edited chunk fail loudly instead of decoding into a wrong
state. (It guards against accidents and hand edits, not against an attacker who
can rewrite it too: that is :mod:`.codec`'s job.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

#: Largest frame kept inside its owner item; the rest of the item (keys, ids,
#: ttl) stays far below the remaining ~20 KB of DynamoDB's 400 KB limit.
INLINE_LIMIT = 380_000
CHUNK_SIZE = 380_000
_VERSION = b"\x01"
_DIGEST_LEN = 32


def frame(fields: Sequence[tuple[str, bytes]]) -> bytes:
    """Concatenate (type tag, data) pairs with explicit lengths."""
    parts = [_VERSION, len(fields).to_bytes(2, "big")]
    for tag, data in fields:
        encoded = tag.encode()
        parts += [len(encoded).to_bytes(2, "big"), encoded, len(data).to_bytes(8, "big"), data]
    return b"".join(parts)


def unframe(blob: bytes) -> list[tuple[str, bytes]]:
    """Invert :func:`frame`; raises ``ValueError`` on anything malformed."""
    view = memoryview(blob)
    if view[:1] != _VERSION:
        raise ValueError("unknown payload frame version")
    count = int.from_bytes(view[1:3], "big")
    pos = 3
    fields: list[tuple[str, bytes]] = []
    for _ in range(count):
        tag_len = int.from_bytes(view[pos : pos + 2], "big")
        pos += 2
        tag = bytes(view[pos : pos + tag_len]).decode()
        pos += tag_len
        data_len = int.from_bytes(view[pos : pos + 8], "big")
        pos += 8
        if pos + data_len > len(view):
            raise ValueError("payload frame is truncated")
        fields.append((tag, bytes(view[pos : pos + data_len])))
        pos += data_len
    if pos != len(view):
        raise ValueError("payload frame has trailing bytes")
    return fields


def seal(fields: Sequence[tuple[str, bytes]]) -> bytes:
    """Digest + frame: what an item stores, inline or in chunks."""
    body = frame(fields)
    return hashlib.sha256(body).digest() + body


def unseal(blob: bytes) -> list[tuple[str, bytes]]:
    """Check the digest and return the fields; raises ``ValueError`` on a mismatch."""
    if len(blob) < _DIGEST_LEN:
        raise ValueError("payload is shorter than its digest")
    body = blob[_DIGEST_LEN:]
    if hashlib.sha256(body).digest() != blob[:_DIGEST_LEN]:
        raise ValueError("payload digest mismatch")
    return unframe(body)


def split(blob: bytes) -> list[bytes]:
    """Chunks of an oversized sealed blob (empty list: it fits inline)."""
    if len(blob) <= INLINE_LIMIT:
        return []
    return [blob[i : i + CHUNK_SIZE] for i in range(0, len(blob), CHUNK_SIZE)]
