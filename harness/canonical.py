"""Canonical JSON: the byte-exact form results are compared and snapshotted in.

Pure functions. Sorted keys, ``Decimal`` as its string, tuples as lists, sets
sorted; LangGraph's volatile identifiers (uuid6 checkpoint ids, task ids) are
replaced by ordinal aliases assigned in a deterministic order by the caller.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """Reduce ``value`` to JSON types, deterministically."""
    kind = type(value)
    if kind in _SCALARS:  # exact types first: the ABC checks below are slow per leaf
        return value
    if kind is dict:
        return {str(key): plain(item) for key, item in value.items()}
    if kind is list:
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(item) for item in value), key=dumps)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot canonicalize {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact canonical JSON (for hashing and equality)."""
    return json.dumps(
        plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def pretty(value: Any) -> str:
    """Indented canonical JSON with a trailing newline (for files and diffs)."""
    text = json.dumps(plain(value), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return text + "\n"


def digest(value: Any) -> str:
    return hashlib.sha256(dumps(value).encode()).hexdigest()


#: Values whose canonical JSON is longer than this are shown by digest in results.
LARGE_VALUE_CHARS = 16_384


def elide_large(value: Any, limit: int = LARGE_VALUE_CHARS) -> Any:
    """Replace each oversized value by ``{"elided": {"chars", "sha256"}}``.

    Mappings are opened (their keys are the structure a reviewer reads); an oversized
    list or string is elided whole.

    A 600 KB evidence bundle would bury a snapshot's meaning; its digest still pins
    every byte, so equality is as strict as before and the file stays reviewable.
    """
    if isinstance(value, Mapping):
        return {key: _elided(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_elided(item, limit) for item in value]
    return value


def _elided(value: Any, limit: int) -> Any:
    text = dumps(value)
    if len(text) <= limit:
        return plain(value)
    if isinstance(value, Mapping):
        return elide_large(value, limit)
    return {"elided": {"chars": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}}


class Aliases:
    """Maps volatile ids to ``<prefix>-<n>`` in first-seen order."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._names: dict[str, str] = {}

    def __call__(self, volatile: str | None) -> str | None:
        if volatile is None:
            return None
        if volatile not in self._names:
            self._names[volatile] = f"{self._prefix}-{len(self._names)}"
        return self._names[volatile]
