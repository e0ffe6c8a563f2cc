"""Writing the files the harness commits: whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """A reader (or a concurrent shard) never sees half a file: write beside it, then
    rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(text.encode("utf-8"))
    temporary.replace(path)


__all__ = ["write_atomically"]
