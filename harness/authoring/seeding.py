"""``python -m harness.authoring.seeding OUT``: the earlier run of a seeded-table spec,
in a process of its own.

:func:`harness.authoring.executor.seed_table` starts this with a fixed
``PYTHONHASHSEED`` (the order of some writes inside stored payloads follows string
hashing) and the pickled ``(ExecutorSpec, TableSeed)`` on stdin; the seeded items are
written to ``OUT`` as JSON, so nothing the replay prints can mix into them.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path

from harness.authoring.executor import SEED_HASHSEED, seed_items

__all__ = ["main"]


def main(argv: list[str]) -> int:
    if os.environ.get("PYTHONHASHSEED") != SEED_HASHSEED:
        print(f"run with PYTHONHASHSEED={SEED_HASHSEED}", file=sys.stderr)
        return 2
    spec, seed = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 -- our own parent's data
    Path(argv[0]).write_text(json.dumps(seed_items(spec, seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
