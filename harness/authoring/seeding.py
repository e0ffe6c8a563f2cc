"""``python -m harness.authoring.seeding``: the earlier runs of seeded-table specs, in
a process of their own.

:class:`harness.authoring.seed_worker.SeedWorker` starts this once, with a fixed
``PYTHONHASHSEED`` (the order of some writes inside stored payloads follows string
hashing), and writes one request per line to its stdin: ``{"out": PATH, "run": RUN}``,
the run being :func:`~harness.authoring.executor.seed_run`'s (the draft scenario and
each agent's answer, in the scenario file's own form). The items each run leaves go
to ``PATH`` as wire JSON, so nothing the replay prints can mix into them, and the
reply is one line: ``done PATH``, or ``failed PATH Type: message``. Tampering happens
in the parent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from harness.authoring.executor import SEED_HASHSEED, run_seed
from harness.scenario import wire_item

__all__ = ["main"]


def main() -> int:
    if os.environ.get("PYTHONHASHSEED") != SEED_HASHSEED:
        print(f"run with PYTHONHASHSEED={SEED_HASHSEED}", file=sys.stderr)
        return 2
    for line in sys.stdin:
        request = json.loads(line)
        out = request["out"]
        try:
            items = [wire_item(item) for item in run_seed(request["run"])]
        except Exception as exc:  # reported to the parent, which names the spec
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            print(f"failed {out} {reason}", flush=True)
            continue
        Path(out).write_text(json.dumps(items))
        print(f"done {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
