"""One child interpreter that runs every seeded-table spec's earlier run.

The earlier run must happen under a fixed ``PYTHONHASHSEED`` (see
:data:`harness.authoring.executor.SEED_HASHSEED`), so it cannot run in an ordinary
process. It used to get a fresh interpreter per spec: ~2.5 s of start-up and imports
each, 60 of the 90 s an ``author --check`` of the corpus took (21 seeded specs), paid
twice by the test suite. A :class:`SeedWorker` starts ``python -m
harness.authoring.seeding`` once and hands it one run after another; the child holds
nothing between runs that a replay does not reset (``author --check`` compares every
seeded table with its committed bytes, so a leak would show there).

What passes between the two is JSON, never pickled objects: a request line carrying
the run and the file the items go to, and a reply line naming that file. Lines the
child prints for any other reason are ignored, and its stderr goes to a file rather
than a pipe that could fill and stall it.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

__all__ = ["SeedWorker", "seed_worker"]


class SeedWorker:
    """The child (started on first use, restarted if it died) and the one lock that
    keeps requests and replies paired."""

    def __init__(self, hash_seed: str) -> None:
        self.hash_seed = hash_seed
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._lock = threading.Lock()

    def run(self, name: str, run: dict[str, Any]) -> list[dict[str, dict[str, str]]]:
        """The items ``run`` leaves in the checkpoint table (wire JSON)."""
        with self._lock, tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "items.json"
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps({"out": str(out), "run": run}).encode() + b"\n")
                process.stdin.flush()
            except BrokenPipeError:
                raise self._died(name) from None
            while True:
                line = process.stdout.readline()
                if not line:
                    raise self._died(name)
                reply = line.decode(errors="replace").rstrip("\n")
                if reply == f"done {out}":
                    items: list[dict[str, dict[str, str]]] = json.loads(out.read_text())
                    return items
                if reply.startswith(f"failed {out} "):
                    reason = reply.removeprefix(f"failed {out} ")
                    raise RuntimeError(f"the earlier run of {name} failed: {reason}")

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                if self._process.stdin is not None:
                    self._process.stdin.close()
                self._process.wait(timeout=30)
                self._process = None

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            # Kept open for the child's life (its last line explains a death).
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
            self._process = subprocess.Popen(
                [sys.executable, "-m", "harness.authoring.seeding"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env={**os.environ, "PYTHONHASHSEED": self.hash_seed},
            )
        return self._process

    def _died(self, name: str) -> RuntimeError:
        """The child ended mid-request: its last line of stderr says why."""
        assert self._process is not None and self._stderr is not None
        code = self._process.wait()
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        self._process = None
        return RuntimeError(f"the earlier run of {name} failed: {lines[-1] if lines else code}")


_workers: dict[str, SeedWorker] = {}
_workers_lock = threading.Lock()


def seed_worker(hash_seed: str) -> SeedWorker:
    """This process's worker for ``hash_seed``, closed when the process exits."""
    with _workers_lock:
        if hash_seed not in _workers:
            _workers[hash_seed] = worker = SeedWorker(hash_seed)
            atexit.register(worker.close)
        return _workers[hash_seed]
