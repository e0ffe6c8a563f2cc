"""Regression gate at scale: wall time and peak memory of ``opx-harness gate``.

Can the gate judge a thousand production scenarios on every pull request? This
bench builds a synthetic corpus -- copies of ``scenarios/`` with varied events --
and times the real CLI, ``python -m harness gate --checks snapshot,repeat``, for
10, 100 and 1,000 scenarios at ``--jobs 1`` and ``--jobs 2``.

* **Synthetic scenarios.** Copy *i* of a bundled scenario gets new event ids and
  incident ids (``<id>-v<i>``), so its execution id, Bedrock session ids, prompts'
  context and checkpoints all differ from the original's. The copy is re-recorded
  with ``harness.authoring.author`` -- the real handler run against each agent's
  recorded answer (stream, faults, latency), so its requests are what the executor
  really sends -- and its snapshot is approved by the gate itself
  (``gate --update --checks snapshot``). Copies are named ``<nnnn>-<original>``;
  the first N form the N-scenario corpus, so every size mixes the originals alike.
* **Timed.** Each gate is a fresh ``python -m harness gate`` process, timed from
  launch to exit (interpreter start and imports included, as in CI). Peak memory is
  the largest sum of memory over the gate and all its descendants (fork
  server, workers), sampled from ``/proc`` every 50 ms -- as PSS, so pages a worker
  shares with the fork server it came from count once -- plus the largest single
  process's RSS. Each run must exit 0 with every scenario judged, or the bench stops.
* **Baseline.** In this process, two bare ``replay()`` calls per scenario over the
  first scenarios, in one moto batch as a gate worker runs them (no gate, no
  snapshot, no subprocess): what the checks cannot avoid paying. ``x bare`` = gate
  ms per scenario / baseline ms per scenario.

    python bench/gate.py [--sizes 10,100,1000] [--jobs 1,2] [--workdir DIR [--prepare]]

``--workdir`` keeps the synthetic corpus and reuses it on the next run; ``--prepare``
only builds and approves it (so the timed run can wait for a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.authoring import AgentScript, ExecutorSpec, author
from harness.capture.secret_scan import ALLOWLIST_NAME
from harness.replayer import moto_state, replay
from harness.scenario import Interaction, Scenario, discover, load_scenario

ROOT = Path(__file__).resolve().parents[1]
#: A clock the replay's frozen clock does not reach (see bench/replay.py).
_REAL_CLOCK: tuple[Callable[[], float]] = (time.perf_counter,)
TARGET_SECONDS = 60.0
TARGET_SIZE = 1000
CHECKS = "snapshot,repeat"
SAMPLE_S = 0.05
BASELINE_SCENARIOS = 32


def _now() -> float:
    return _REAL_CLOCK[0]()


# ----------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class RecordedAnswer(AgentScript):
    """An agent answering exactly as it did in the original recording (stream,
    faults, latency), to whatever request the varied event makes it receive."""

    recorded: Interaction | None = None

    def interaction(self, service: str, operation: str, request: dict[str, Any]) -> Interaction:
        if self.recorded is None:
            raise ValueError("RecordedAnswer needs the recorded interaction")
        return self.recorded.model_copy(update={"request": request})


def vary_event(event: Any, copy: int) -> Any:
    """The same incident under new ids: event ``id`` and ``detail.incident_id``."""
    if not isinstance(event, dict):
        return event
    varied = dict(event)
    if isinstance(varied.get("id"), str):
        varied["id"] = f"{varied['id']}-v{copy}"
    detail = varied.get("detail")
    if isinstance(detail, dict) and isinstance(detail.get("incident_id"), str):
        varied["detail"] = {**detail, "incident_id": f"{detail['incident_id']}-v{copy}"}
    return varied


def synthesize(original: Scenario, copy: int, name: str) -> Scenario:
    """Copy ``copy`` of ``original``, re-recorded against its agents' answers."""
    agents = {}
    for interaction in original.interactions:
        text = interaction.request.get("inputText")
        if isinstance(text, dict) and isinstance(text.get("agent"), str):
            agents[text["agent"]] = RecordedAnswer(recorded=interaction)
    return author(
        "executor",
        ExecutorSpec(
            name=name,
            description=f"Synthetic copy {copy} of {original.name}: new event and incident ids.\n"
            + original.description,
            events=[vary_event(event, copy) for event in original.events],
            agents=agents,
            clock_start=original.clock.start,
            tags=[*original.tags, "synthetic"],
            env=original.env,
        ),
    )


def _write_copy(job: tuple[Path, int, Path]) -> str:
    source, index, directory = job
    original = load_scenario(source)
    name = f"{index:04d}-{original.name}"
    path = directory / f"{name}.json"
    path.write_text(synthesize(original, index, name).to_json(), encoding="utf-8")
    return name


def build_corpus(sources: Sequence[Path], size: int, directory: Path, jobs: int) -> list[str]:
    """``size`` synthetic scenarios in ``directory``; reuses files already there."""
    directory.mkdir(parents=True, exist_ok=True)
    present = {path.stem.split("-", 1)[0] for path in discover(directory)}
    missing = [
        (sources[index % len(sources)], index, directory)
        for index in range(size)
        if f"{index:04d}" not in present
    ]
    if jobs > 1 and len(missing) > 1:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_write_copy, missing, chunksize=8))
    else:
        for job in missing:
            _write_copy(job)
    write_allowlist(sources[0].parent / ALLOWLIST_NAME, directory / ALLOWLIST_NAME)
    return sorted(p.stem for p in discover(directory))[:size]


def write_allowlist(source: Path, target: Path) -> None:
    """The corpus's reviewed secret allowlist, its file globs widened to the copies'
    ``<nnnn>-<original>`` names (the copies carry the originals' false positives)."""
    if not source.is_file():
        return
    text = source.read_text(encoding="utf-8")
    target.write_text(
        re.sub(r'^file = "(?:[^"/]*/)?([^"]*)"$', r'file = "*/*-\1"', text, flags=re.M),
        encoding="utf-8",
    )


def subset(corpus: Path, names: Sequence[str], target: Path) -> None:
    """The first names' scenario and snapshot files, hard-linked (copied if not possible)."""
    for kind in ("scenarios", "snapshots"):
        (target / kind).mkdir(parents=True, exist_ok=True)
        for name in names:
            source, link = corpus / kind / f"{name}.json", target / kind / f"{name}.json"
            if link.exists():
                continue
            try:
                os.link(source, link)
            except OSError:
                shutil.copyfile(source, link)


# ----------------------------------------------------------------------- measuring


def _gate_command(directory: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "harness",
        "gate",
        "--scenarios",
        str(directory / "scenarios"),
        "--snapshots",
        str(directory / "snapshots"),
        *options,
    ]


def _environment() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _memory_kib(pid: int) -> tuple[int, int]:
    """(proportional, resident) KiB: PSS splits pages a forked worker shares with its
    fork server between them, so the sum over processes counts each page once."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    fields = {
        line.split(":")[0]: int(line.split()[1])
        for line in rollup.splitlines()
        if line.startswith(("Pss:", "Rss:"))
    }
    return fields.get("Pss", 0), fields.get("Rss", 0)


def _tree_memory(root: int) -> tuple[int, int]:
    """(total PSS, largest RSS) KiB of ``root`` and all its descendants (Linux /proc)."""
    tree, frontier = [root], [root]
    while frontier:
        children = _children(frontier.pop())
        tree += children
        frontier += children
    sizes = [_memory_kib(pid) for pid in tree]
    return sum(pss for pss, _ in sizes), max((rss for _, rss in sizes), default=0)


@dataclass(frozen=True)
class Run:
    size: int
    jobs: int
    seconds: float
    peak_mb: float
    largest_mb: float

    @property
    def ms_per_scenario(self) -> float:
        return self.seconds * 1000 / self.size


def run_gate(directory: Path, size: int, jobs: int) -> Run:
    """One timed gate; stops the bench unless every scenario was judged and passed."""
    report = directory / f"report-jobs{jobs}.json"
    command = _gate_command(
        directory, "--checks", CHECKS, "--jobs", str(jobs), "--json", str(report)
    )
    log = directory / f"gate-jobs{jobs}.log"
    started = _now()
    with log.open("wb") as stderr:  # a pipe nobody reads would stall a chatty gate
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=stderr, env=_environment()
        )
        peak = largest = 0
        while True:
            if Path("/proc").is_dir():
                total, single = _tree_memory(process.pid)
                peak, largest = max(peak, total), max(largest, single)
            try:
                process.wait(timeout=SAMPLE_S)
                break
            except subprocess.TimeoutExpired:
                continue
    seconds = _now() - started
    if process.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise SystemExit(f"gate over {size} scenarios exited {process.returncode}: {tail}")
    judged = json.loads(report.read_text(encoding="utf-8"))
    if judged["judged"] != size or judged["counts"] != {"pass": 2 * size}:
        raise SystemExit(f"gate over {size} scenarios did not pass every check: {judged['counts']}")
    return Run(size, jobs, seconds, peak / 1024, largest / 1024)


def approve(directory: Path, jobs: int) -> float:
    """The synthetic snapshots, approved by the gate itself; seconds taken."""
    started = _now()
    done = subprocess.run(
        _gate_command(directory, "--checks", "snapshot", "--update", "--jobs", str(jobs)),
        capture_output=True,
        env=_environment(),
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"approving synthetic snapshots failed: {done.stderr.decode()[-2000:]}")
    return _now() - started


def baseline_ms(directory: Path, names: Sequence[str]) -> float:
    """Two bare replays per scenario, in this process, warm, in one moto batch as a
    gate worker runs them: ms per scenario."""
    scenarios = [load_scenario(directory / "scenarios" / f"{n}.json") for n in names]
    with moto_state.batch():
        replay(scenarios[0])  # imports and first-call caches are not a per-scenario cost
        started = _now()
        for scenario in scenarios:
            replay(scenario).to_canonical_json()
            replay(scenario).to_compact_json()
        return (_now() - started) * 1000 / len(scenarios)


# ----------------------------------------------------------------------- report


def report_table(runs: Sequence[Run], bare_ms: float) -> list[str]:
    """The table, with scaling ratios against the smallest size and ``--jobs 1``."""
    by_key = {(r.size, r.jobs): r for r in runs}
    smallest = min(r.size for r in runs)
    lines = [
        f"{'scenarios':>9}  {'jobs':>4}  {'wall s':>7}  {'peak MB':>7}  {'max proc MB':>11}  "
        f"{'ms/scn':>7}  {'x bare':>6}  {'x ms/scn vs ' + str(smallest):>16}  "
        f"{'marginal ms/scn':>15}  {'speedup vs jobs 1':>17}"
    ]
    for run in sorted(runs, key=lambda r: (r.jobs, r.size)):
        first = by_key[(smallest, run.jobs)]
        smaller = [r for r in runs if r.jobs == run.jobs and r.size < run.size]
        marginal = "-"
        if smaller:
            prev = max(smaller, key=lambda r: r.size)
            marginal = f"{(run.seconds - prev.seconds) * 1000 / (run.size - prev.size):.1f}"
        serial = by_key.get((run.size, 1))
        speedup = f"{serial.seconds / run.seconds:.2f}x" if serial and run.jobs != 1 else "-"
        lines.append(
            f"{run.size:>9}  {run.jobs:>4}  {run.seconds:>7.1f}  {run.peak_mb:>7.0f}  "
            f"{run.largest_mb:>11.0f}  {run.ms_per_scenario:>7.1f}  "
            f"{run.ms_per_scenario / bare_ms:>5.2f}x  "
            f"{run.ms_per_scenario / first.ms_per_scenario:>15.2f}x  {marginal:>15}  {speedup:>17}"
        )
    return lines


def prepare(size: int, workdir: Path, jobs: int) -> tuple[Path, list[str]]:
    """The synthetic corpus of ``size`` scenarios, built and approved (or reused)."""
    corpus = workdir / f"corpus-{size}"
    started = _now()
    executor = [p for p in discover(ROOT / "scenarios") if load_scenario(p).kind == "executor"]
    names = build_corpus(executor, size, corpus / "scenarios", jobs)
    built = _now() - started
    unapproved = [n for n in names if not (corpus / "snapshots" / f"{n}.json").exists()]
    approved = approve(corpus, jobs) if unapproved else 0.0
    originals = len({name.split("-", 1)[1] for name in names})
    print(
        f"synthetic corpus: {size} scenarios from {originals} originals, built in {built:.0f} s, "
        f"approved by the gate in {approved:.0f} s",
        flush=True,
    )
    return corpus, names


def run(
    sizes: Sequence[int], jobs: Sequence[int], workdir: Path, *, build_jobs: int | None = None
) -> tuple[list[Run], float]:
    """Build, approve and time; returns the runs and the bare baseline (ms/scenario)."""
    largest = max(sizes)
    corpus, names = prepare(largest, workdir, build_jobs or max(jobs))
    bare = baseline_ms(corpus, names[: min(BASELINE_SCENARIOS, largest)])
    runs = []
    for size in sorted(sizes):
        directory = workdir / f"n{size}"
        subset(corpus, names[:size], directory)
        for count in jobs:
            runs.append(run_gate(directory, size, count))
            print(f"  {size} scenarios, --jobs {count}: {runs[-1].seconds:.1f} s", flush=True)
    return runs, bare


def _numbers(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_numbers, default=[10, 100, 1000])
    parser.add_argument("--jobs", type=_numbers, default=[1, 2])
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the synthetic corpus here")
    parser.add_argument(
        "--prepare", action="store_true", help="only build and approve the corpus in --workdir"
    )
    args = parser.parse_args(argv)
    if args.prepare:
        if args.workdir is None:
            parser.error("--prepare needs --workdir")
        prepare(max(args.sizes), args.workdir, max(args.jobs))
        return

    with tempfile.TemporaryDirectory(prefix="opx-gate-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        runs, bare = run(args.sizes, args.jobs, workdir)
    print()
    print(
        f"opx-harness gate --checks {CHECKS} (2 replays per scenario), wall time per process "
        f"launch to exit; {os.cpu_count()} CPUs"
    )
    for line in report_table(runs, bare):
        print(line)
    print(
        f"bare = two replay() calls per scenario in one warm process: {bare:.1f} ms/scenario. "
        "peak MB = PSS of all gate processes together; max proc MB = RSS of the largest."
    )
    target = [r for r in runs if r.size == TARGET_SIZE and r.jobs == 2]
    if target:
        verdict = "met" if target[0].seconds < TARGET_SECONDS else "NOT met"
        print(
            f"target: {TARGET_SIZE} scenarios at --jobs 2 in < {TARGET_SECONDS:.0f} s: "
            f"{target[0].seconds:.1f} s, {verdict}"
        )


if __name__ == "__main__":
    main()
