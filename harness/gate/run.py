"""The regression gate: every scenario of a shard, judged, with one exit code.

``run_gate(config)`` lists the scenario directory, takes this shard's share
(:mod:`.sharding`), judges each scenario (:func:`.judge.judge`) in this process or
in ``jobs`` worker processes, runs the batched checks for all of them at once, finds
orphaned snapshots, and under ``--update`` writes what was re-approved. It prints
nothing: the CLI and the reports (:mod:`.reports`) say what the returned
:class:`~.verdict.GateResult` holds.

Worker processes come from a fork server that has already imported the executor
and the harness: each worker starts warm (no 2 s of imports per process) and
forks from a process with no other threads. Each worker then judges one scenario
after another, keeping what a replay may keep between runs (imports, botocore
plumbing) exactly as repeated replays in one process always have.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from harness.checks.outcome import Status
from harness.checks.registry import CHECK_NAMES, CHECKS, check_named
from harness.files import write_atomically
from harness.gate.judge import Task, judge
from harness.gate.progress import Listener, Silent
from harness.gate.verdict import EXIT_PASS, GateConfig, GateResult, Orphan, Verdict
from harness.replayer import moto_state
from harness.scenario import discover

#: What every worker imports once, before it forks: the whole replay path.
PRELOAD = [
    "harness.gate.judge",
    "harness.replayer",
    "harness.kinds.executor",
    "harness.kinds.action_group",
    *(spec.partition(":")[0] for spec in CHECKS.values()),
    "opx.lambda_handler",
]


class GateInputError(Exception):
    """The gate cannot start with what it was given; the message is one line."""


def run_gate(config: GateConfig, listener: Listener | None = None) -> GateResult:
    """Judge this shard's scenarios; ``listener`` hears each one as it completes."""
    listener = listener or Silent()
    started = time.perf_counter()
    _validate(config)
    paths = {path.stem: path for path in discover(config.scenarios)}
    if not paths:
        raise GateInputError(f"{config.scenarios}: no scenario files (*.json)")
    checks = tuple(c for c in CHECK_NAMES if c in config.checks)
    batched = [c for c in checks if check_named(c).batched]
    tasks = [
        Task(
            paths[name],
            config.snapshots / f"{name}.json",
            checks,
            config.repeat,
            keep_replay=config.update or bool(batched),
            full_diff=config.full_diff,
        )
        for name in config.shard.select(paths)
    ]
    listener.start(len(tasks))
    judged = _judge_all(tasks, config.jobs, listener, fail_fast=config.fail_fast)
    verdicts = sorted(judged, key=lambda v: v.name)
    for check in batched:
        run_batched(check, verdicts)
    orphans = _orphans(config, paths) if "snapshot" in checks else []
    if config.update:
        verdicts = [_approve(v) for v in verdicts]
        kept = _mass_orphaning(config, paths)
        orphans = [
            _delete(o) if kept is None else dataclasses.replace(o, kept=kept) for o in orphans
        ]
    for verdict in verdicts:
        verdict.replayed = None
    seconds = time.perf_counter() - started
    return GateResult(config, verdicts, orphans, len(paths), seconds, len(tasks) - len(verdicts))


def _validate(config: GateConfig) -> None:
    unknown = sorted(set(config.checks) - set(CHECK_NAMES))
    if unknown or not config.checks:
        raise GateInputError(
            f"--checks: unknown check {', '.join(unknown) or '(none given)'}; "
            f"choose from {','.join(CHECK_NAMES)}"
        )
    if config.update and "snapshot" not in config.checks:
        raise GateInputError("--update re-approves snapshots: include the snapshot check")
    if config.update and config.fail_fast:
        raise GateInputError(
            "--update with --fail-fast would re-approve only up to the first drift; use one"
        )
    if config.repeat < 2:
        raise GateInputError(f"--repeat {config.repeat}: the repeat check compares >= 2 replays")
    if config.jobs < 1:
        raise GateInputError(f"--jobs {config.jobs}: need at least one process")
    if not config.scenarios.is_dir():
        raise GateInputError(f"{config.scenarios}: not a directory")
    if config.snapshots.exists() and not config.snapshots.is_dir():
        raise GateInputError(f"{config.snapshots}: not a directory")


# --------------------------------------------------------------------------- running


def _judge_all(
    tasks: Sequence[Task], jobs: int, listener: Listener, *, fail_fast: bool
) -> list[Verdict]:
    """Every task's verdict -- or, under ``fail_fast``, those judged until one failed
    (in parallel, the ones already running finish; the queued ones are cancelled)."""
    if jobs == 1 or len(tasks) <= 1:
        verdicts = []
        with _frozen_gc(), moto_state.batch():
            for task in tasks:
                verdicts.append(judge(task))
                listener.judged(verdicts[-1])
                if fail_fast and verdicts[-1].exit_code != EXIT_PASS:
                    break
        return verdicts
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)), mp_context=_context(), initializer=_start_worker
    ) as pool:
        futures: list[Future[Verdict]] = [pool.submit(judge, task) for task in tasks]
        verdicts = []
        for future in as_completed(futures):
            if future.cancelled():
                continue
            verdicts.append(future.result())
            listener.judged(verdicts[-1])
            if fail_fast and verdicts[-1].exit_code != EXIT_PASS:
                for pending in futures:
                    pending.cancel()
        return verdicts


def _start_worker() -> None:
    """A judging process: the collector off what exists already (see
    :func:`_frozen_gc`) and moto held for its life (see :mod:`harness.replayer.moto_state`)."""
    gc.freeze()
    moto_state.hold()


def _context() -> multiprocessing.context.BaseContext:
    """A fork server with the replay path imported, else (no fork server) spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


@contextmanager
def _frozen_gc() -> Iterator[None]:
    """Keep the collector off the objects that exist before judging starts (every
    imported module): a full collection then walks only what replays allocate. The
    same as the ``gc.freeze`` each worker process starts with; undone afterwards,
    since this process may go on to do other things."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_batched(check: str, verdicts: Sequence[Verdict]) -> None:
    """A check that is cheaper over many scenarios at once (``process``: one fresh
    interpreter per hash seed for a whole batch, instead of three per scenario), for
    every replayed scenario the judge left it to (it applies there)."""
    ready = [v for v in verdicts if v.replayed is not None and check not in v.outcomes]
    items = [(Path(v.scenario_path), v.replayed or "") for v in ready]
    for verdict, outcome in zip(ready, check_named(check).run_batch(items), strict=True):
        verdict.outcomes[check] = outcome


# --------------------------------------------------------------------------- snapshots


def _orphans(config: GateConfig, paths: dict[str, Path]) -> list[Orphan]:
    """Snapshots no scenario file claims -- judged against every scenario file, not
    just this shard's, and dealt like scenarios so each shard reports its own share."""
    if not config.snapshots.is_dir():
        return []
    snapshots = {
        p.stem: p
        for p in config.snapshots.glob("*.json")
        if p.is_file() and not p.name.startswith(".")
    }
    names = config.shard.select(set(snapshots) - set(paths))
    return [Orphan(name, str(snapshots[name])) for name in names]


def _mass_orphaning(config: GateConfig, paths: dict[str, Path]) -> str | None:
    """Why ``--update`` must not delete the orphans, or ``None``. More orphans than
    scenarios is the mark of ``--scenarios`` pointing at a few scenarios while
    ``--snapshots`` is the whole corpus's: deleting "orphans" then wiped every other
    approved snapshot (a helper lost 103 that way). Retiring scenarios deletes fewer
    snapshots than remain; anything bigger is for a person to do by hand."""
    if not config.snapshots.is_dir():
        return None
    stems = {p.stem for p in config.snapshots.glob("*.json") if not p.name.startswith(".")}
    orphaned = len(stems - set(paths))
    if orphaned <= len(paths):
        return None
    return (
        f"--update would delete {orphaned} of the {len(stems)} snapshots in "
        f"{config.snapshots}, more than the {len(paths)} scenario(s) in {config.scenarios} "
        "claim -- a subset of scenarios against the whole corpus's snapshots? Give the "
        "subset a --snapshots directory of its own, or delete the files yourself"
    )


def _approve(verdict: Verdict) -> Verdict:
    """Write a drifted or missing snapshot -- only when every other check passed: an
    approval must never bless a result that a second run would not reproduce."""
    snapshot = verdict.outcomes.get("snapshot")
    if snapshot is None or snapshot.status not in (Status.DRIFT, Status.MISSING):
        return verdict
    blocking = sorted(c for c, o in verdict.outcomes.items() if c != "snapshot" and o.failed)
    if blocking or verdict.replayed is None:
        note = f"; not re-approved: {', '.join(blocking)} failed" if blocking else ""
        verdict.outcomes["snapshot"] = dataclasses.replace(
            snapshot, summary=snapshot.summary + note
        )
        return verdict
    target = Path(verdict.snapshot_path)
    refused = secrets_in(target, verdict.replayed, Path(verdict.scenario_path).parent)
    if refused:
        verdict.outcomes["snapshot"] = dataclasses.replace(
            snapshot,
            status=Status.ERROR,
            summary=f"{snapshot.summary}; not re-approved: the detector found a secret",
            detail=refused,
        )
        return verdict
    write_atomically(target, verdict.replayed)
    created = snapshot.status is Status.MISSING
    verdict.outcomes["snapshot"] = dataclasses.replace(
        snapshot,
        status=Status.CREATED if created else Status.UPDATED,
        summary=f"{'approved new' if created else 're-approved'} snapshot {target}",
    )
    return verdict


def secrets_in(target: Path, text: str, scenarios: Path) -> str:
    """The detector's findings in a snapshot about to be approved ("" when clean): the
    same independent pass ``record`` and ``import`` run before they write."""
    from harness.capture.secret_scan import SecretsFound, allowlist_for, scan_before_write

    try:
        scan_before_write({target: text}, allowlist=allowlist_for(scenarios))
    except SecretsFound as exc:
        return exc.report()
    return ""


def _delete(orphan: Orphan) -> Orphan:
    Path(orphan.path).unlink(missing_ok=True)
    return Orphan(orphan.name, orphan.path, deleted=True)


__all__ = ["PRELOAD", "GateInputError", "run_batched", "run_gate", "secrets_in"]
