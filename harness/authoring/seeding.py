"""``python -m harness.authoring.seeding OUT``: the earlier run of a seeded-table spec,
in a process of its own.

:func:`harness.authoring.executor.seed_table` starts this with a fixed
``PYTHONHASHSEED`` (the order of some writes inside stored payloads follows string
hashing) and the run as JSON on stdin (:func:`~harness.authoring.executor.seed_run`:
the draft scenario and each agent's answer, in the scenario file's own form); the
items it leaves are written to ``OUT`` as wire JSON, so nothing the replay prints can
mix into them. Tampering happens in the parent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from harness.authoring.executor import SEED_HASHSEED, run_seed
from harness.scenario import wire_item

__all__ = ["main"]


def main(argv: list[str]) -> int:
    if os.environ.get("PYTHONHASHSEED") != SEED_HASHSEED:
        print(f"run with PYTHONHASHSEED={SEED_HASHSEED}", file=sys.stderr)
        return 2
    run = json.loads(sys.stdin.buffer.read())
    Path(argv[0]).write_text(json.dumps([wire_item(item) for item in run_seed(run)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
