"""The only path between Python values and stored bytes: ``saver.serde``.

Anyone who can write the table controls these bytes, so loading must never run
code. Three layers make sure of it:

* the default serializer is LangGraph's ``JsonPlusSerializer`` with the pickle
  fallback off and the *strict* msgpack allowlist (only LangGraph's safe types,
  plus whatever ``compile()`` adds for the state schema via ``with_allowlist``);
* payloads tagged ``pickle`` (code execution) or ``json`` (LangChain's object
  reviver; this saver never writes it) are refused before the serializer sees them;
* a msgpack extension naming a type outside the allowlist is *blocked* by the
  serializer, which then quietly returns the raw argument instead. A quiet
  substitute is a corrupt state, so a blocked type raises here instead.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.event_hooks import SerdeEvent, register_serde_event_listener
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

#: Type tags never handed to the serializer, whatever it would do with them.
REFUSED_TAGS = frozenset({"pickle", "json"})
_BLOCKED_KINDS = frozenset({"msgpack_blocked", "msgpack_method_blocked"})

_capture: contextvars.ContextVar[list[SerdeEvent] | None] = contextvars.ContextVar(
    "opx_checkpoint_serde_capture", default=None
)


def _record(event: SerdeEvent) -> None:
    # Events are emitted synchronously inside ``loads_typed``, in the caller's
    # context, so a context variable scopes them to one load even across threads.
    captured = _capture.get()
    if captured is not None:
        captured.append(event)


register_serde_event_listener(_record)


class UnsafePayloadError(ValueError):
    """The payload asked for something the serializer must not do."""


def default_serde() -> JsonPlusSerializer:
    """JsonPlus, no pickle, strict msgpack allowlist (``None`` = safe types only)."""
    return JsonPlusSerializer(pickle_fallback=False, allowed_msgpack_modules=None)


def dumps(serde: SerializerProtocol, value: Any) -> tuple[str, bytes]:
    tag, data = serde.dumps_typed(value)
    if tag in REFUSED_TAGS:
        raise UnsafePayloadError(f"serializer produced a {tag!r} payload; refusing to store it")
    return tag, bytes(data)


@contextmanager
def _blocked_events() -> Iterator[list[SerdeEvent]]:
    events: list[SerdeEvent] = []
    token = _capture.set(events)
    try:
        yield events
    finally:
        _capture.reset(token)


def loads(serde: SerializerProtocol, tag: str, data: bytes) -> Any:
    """Decode one payload; raises ``UnsafePayloadError`` or the serializer's error."""
    if tag in REFUSED_TAGS:
        raise UnsafePayloadError(f"refused payload type {tag!r}")
    with _blocked_events() as events:
        value = serde.loads_typed((tag, data))
    blocked = sorted(
        {
            ".".join(filter(None, (e.get("module"), e.get("name"), e.get("method"))))
            for e in events
            if e.get("kind") in _BLOCKED_KINDS
        }
    )
    if blocked:
        raise UnsafePayloadError(f"payload names types outside the allowlist: {blocked}")
    return value
