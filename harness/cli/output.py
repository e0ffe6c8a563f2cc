"""What every ``opx-harness`` command shares: exit codes, errors, output."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

PROG = "opx-harness"
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_UNMATCHED = 3


class InputError(Exception):
    """A problem with what the user gave us; the message is the one line to print."""


def summary(result: dict[str, Any]) -> str:
    """The human view of a canonical result, in the words of its scenario kind."""
    from harness.kinds import DEFAULT_KIND, kind_named

    return table(kind_named(result.get("kind", DEFAULT_KIND)).summarize(result))


def table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def write(text: str) -> None:
    """UTF-8 bytes whatever the locale: ``--json`` must equal the snapshot file."""
    stream = sys.stdout
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
    else:
        buffer.write(text.encode("utf-8"))
        buffer.flush()


def error(message: str) -> None:
    one_line = " ".join(message.split())
    sys.stderr.write(f"{PROG}: error: {one_line}\n")
    sys.stderr.flush()


def silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


__all__ = [
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_UNMATCHED",
    "PROG",
    "InputError",
    "error",
    "silence_stdout",
    "summary",
    "table",
    "write",
]
