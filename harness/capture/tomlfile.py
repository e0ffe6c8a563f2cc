"""Reading the harness's reviewed TOML files: one array of tables under one key.

The scrubber's extra patterns (``[[pattern]]``) and the secret detector's allowlist
(``[[allow]]``) are both committed and hand-edited; an unreadable file, an unknown
top-level key or a key that is not an array of tables is one line naming the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def table_array(path: Path, key: str, error: type[Exception]) -> list[Any]:
    """The ``[[key]]`` tables of ``path``; anything else raises ``error`` (one line)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise error(f"{path}: cannot read: {' '.join(str(exc).split())}") from None
    unknown = sorted(set(data) - {key})
    if unknown:
        raise error(f"{path}: unknown top-level key {unknown[0]!r}")
    tables = data.get(key, [])
    if not isinstance(tables, list):
        raise error(f"{path}: '{key}' must be an array of tables ([[{key}]])")
    return tables


__all__ = ["table_array"]
