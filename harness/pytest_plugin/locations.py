"""Where the plugin's scenarios and snapshots are, for the plugin and its syrupy extension."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TEST_NAME = "test_replay_matches_snapshot"


@dataclass(frozen=True)
class Directories:
    scenarios: Path
    snapshots: Path


DIRECTORIES = pytest.StashKey[Directories]()


def directories(config: pytest.Config) -> Directories:
    return config.stash[DIRECTORIES]


def snapshot_directory(item: Any) -> Path:
    """The snapshot directory for a test item (syrupy hands the extension items only)."""
    config = getattr(item, "config", None)
    if config is not None and DIRECTORIES in config.stash:
        return config.stash[DIRECTORIES].snapshots
    return Path("snapshots").absolute()


__all__ = ["DIRECTORIES", "TEST_NAME", "Directories", "directories", "snapshot_directory"]
