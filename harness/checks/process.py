"""The process check: fresh interpreters with different hash seeds agree byte for byte.

``python -m harness replay --json`` under several ``PYTHONHASHSEED`` values catches
set- and dict-order leaks no in-process repeat can see, and its output must equal
the in-process canonical JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from harness.checks.base import Check, CheckContext
from harness.checks.compare import differs
from harness.checks.outcome import Outcome, Status
from harness.replayer import replay
from harness.scenario import load_scenario

DEFAULT_SEEDS = ("0", "1", "4242")
#: Real seconds one ``python -m harness replay`` subprocess may take.
SUBPROCESS_TIMEOUT_S = 120.0
#: Scenarios per batch of fresh interpreters when many are judged together.
PROCESS_BATCH = 50


def _command(path: Path, prelude: str) -> list[str]:
    """The CLI as a user runs it; with ``prelude``, the same CLI after running that
    code first (how self-tests plant a fault in a fresh interpreter)."""
    arguments = ["replay", str(path), "--json"]
    if not prelude:
        return [sys.executable, "-m", "harness", *arguments]
    script = f"{prelude}\nfrom harness.cli import main\nraise SystemExit(main({arguments!r}))\n"
    return [sys.executable, "-c", script]


def replay_in_subprocesses(
    path: Path, seeds: Sequence[str], *, cwd: Path | None = None, prelude: str = ""
) -> dict[str, bytes]:
    """``python -m harness replay PATH --json`` once per ``PYTHONHASHSEED``, run
    concurrently (each is ~2 s of interpreter start and imports); stdout by seed."""
    running = {
        seed: subprocess.Popen(  # noqa: S603 -- argv built here: this interpreter, our CLI
            _command(path, prelude),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=cwd,
        )
        for seed in seeds
    }
    outputs: dict[str, bytes] = {}
    failures: list[str] = []
    for seed, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            failures.append(f"PYTHONHASHSEED={seed}: timed out after {SUBPROCESS_TIMEOUT_S:.0f}s")
            continue
        if process.returncode != 0:
            failures.append(
                f"PYTHONHASHSEED={seed}: exited {process.returncode}: "
                f"{stderr.decode('utf-8', 'replace').strip()}"
            )
        outputs[seed] = stdout
    if failures:
        raise RuntimeError(f"replay of {path} in a subprocess failed: " + "; ".join(failures))
    return outputs


def check_cross_process(
    path: Path,
    seeds: Sequence[str] = DEFAULT_SEEDS,
    *,
    in_process: str | None = None,
    cwd: Path | None = None,
    prelude: str = "",
    outputs: dict[str, bytes] | None = None,
) -> Outcome:
    """Fresh interpreters with different hash seeds agree with each other and with
    ``in_process`` (this process's canonical JSON; replayed here when not given).

    ``outputs`` (stdout by seed) skips launching the subprocesses -- for a caller that
    already ran them, e.g. via :func:`corpus_in_subprocesses`.
    """
    started = time.perf_counter()
    scenario = load_scenario(path)
    local = in_process if in_process is not None else replay(scenario).to_canonical_json()
    if outputs is None:
        outputs = replay_in_subprocesses(path, seeds, cwd=cwd, prelude=prelude)
    reference = local.encode("utf-8")
    for seed, output in outputs.items():
        if output != reference:
            return differs(
                "process",
                scenario.name,
                f"the subprocess with PYTHONHASHSEED={seed} differs from the in-process replay",
                "in-process",
                json.loads(reference),
                f"PYTHONHASHSEED={seed}",
                json.loads(output),
                started,
                {"seeds": list(outputs), "failed_seed": seed},
            )
    return Outcome(
        Status.PASSED,
        f"replays of {scenario.name} under PYTHONHASHSEED={', '.join(outputs)} in separate "
        "processes were byte-identical to the in-process replay.",
        seconds=time.perf_counter() - started,
        details={"seeds": list(outputs)},
    )


_CORPUS_SCRIPT = """
import json, sys
from harness.replayer import replay
from harness.scenario import load_scenario
out = {p: replay(load_scenario(p)).to_canonical_json() for p in sys.argv[1:]}
sys.stdout.buffer.write(json.dumps(out).encode("utf-8"))
"""


def corpus_in_subprocesses(
    paths: Sequence[Path], seeds: Sequence[str] = DEFAULT_SEEDS, *, cwd: Path | None = None
) -> dict[str, dict[str, bytes]]:
    """Every scenario replayed in one fresh interpreter per seed (concurrently).

    What the CLI's ``--json`` prints is exactly ``to_canonical_json()``; one
    interpreter per seed rather than per scenario keeps the corpus check to a few
    seconds instead of ~2 s of start-up per scenario and seed. Result:
    ``{str(path): {seed: bytes}}``.
    """
    running = {
        seed: subprocess.Popen(  # noqa: S603 -- argv built here: this interpreter, our code
            [sys.executable, "-c", _CORPUS_SCRIPT, *map(str, paths)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=cwd,
        )
        for seed in seeds
    }
    by_path: dict[str, dict[str, bytes]] = {str(p): {} for p in paths}
    for seed, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT_S * 4)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise RuntimeError(f"corpus replay with PYTHONHASHSEED={seed} timed out") from None
        if process.returncode != 0:
            raise RuntimeError(
                f"corpus replay with PYTHONHASHSEED={seed} exited {process.returncode}: "
                f"{stderr.decode('utf-8', 'replace').strip()[-2000:]}"
            )
        for path, text in json.loads(stdout).items():
            by_path[path][seed] = text.encode("utf-8")
    return by_path


class ProcessCheck(Check):
    name: ClassVar[str] = "process"
    batched: ClassVar[bool] = True

    def run(self, context: CheckContext) -> Outcome:
        return check_cross_process(context.path, in_process=context.replayed)

    def run_batch(self, items: Sequence[tuple[Path, str]]) -> list[Outcome]:
        """One fresh interpreter per hash seed replays a whole batch
        (:func:`corpus_in_subprocesses`), instead of three interpreters per scenario."""
        outcomes: list[Outcome] = []
        for start in range(0, len(items), PROCESS_BATCH):
            batch = items[start : start + PROCESS_BATCH]
            began = time.perf_counter()
            try:
                outputs = corpus_in_subprocesses([path for path, _ in batch])
            except RuntimeError as exc:
                failed = Outcome(Status.ERROR, f"process: fresh interpreters failed: {exc}")
                outcomes += [failed] * len(batch)
                continue
            share = (time.perf_counter() - began) / len(batch)
            for path, replayed in batch:
                result = check_cross_process(path, in_process=replayed, outputs=outputs[str(path)])
                outcomes.append(dataclasses.replace(result, seconds=share + result.seconds))
        return outcomes


__all__ = [
    "DEFAULT_SEEDS",
    "ProcessCheck",
    "check_cross_process",
    "corpus_in_subprocesses",
    "replay_in_subprocesses",
]
