"""Helpers shared by the executor tests: sample events on disk."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def sample_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/data/<name>.json``, safe to mutate."""
    return copy.deepcopy(json.loads((DATA / f"{name}.json").read_text()))
