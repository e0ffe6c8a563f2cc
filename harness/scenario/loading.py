"""Reading scenario files: one-line errors that name the file and the JSON path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.scenario.model import Scenario


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message is one line naming the spot."""


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{path}: {error_line(exc)}") from None


def error_line(exc: ValidationError, skip: tuple[str, ...] = ()) -> str:
    """A pydantic error as one line: the first problem's JSON path (``skip``: union
    branch names to leave out of it), its message, how many more there are."""
    first = exc.errors()[0]
    loc = tuple(part for part in first["loc"] if part not in skip)
    # A kind's rule about one field (``KindFieldError``) is reported at that field.
    field = getattr(first.get("ctx", {}).get("error"), "field", None)
    where = json_path((*loc, field) if isinstance(field, str) else loc)
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("interactions", 2, "response")`` -> ``$.interactions[2].response``."""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def discover(directory: str | Path) -> list[Path]:
    """Scenario files under ``directory``, in sorted order."""
    return sorted(Path(directory).glob("*.json"))


def json_schema() -> dict[str, Any]:
    return Scenario.model_json_schema()


__all__ = [
    "ScenarioError",
    "discover",
    "error_line",
    "json_path",
    "json_schema",
    "load_scenario",
]
