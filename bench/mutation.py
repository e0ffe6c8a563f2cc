"""How strong is the gate? Mutation testing of ``opx/`` with the gate as the only test.

    python bench/mutation.py [--kind executor|action-groups] [--modules PATH ...]
                             [--sample N | --all] [--seed 15] [--checks snapshot]
                             [--processes N] [--workdir DIR] [--json FILE] [--timeout 120]
                             [--scenarios NAME ...]

Cosmic Ray (``pip install -e '.[dev]'`` brings it) mutates the chosen modules one
mutant at a time -- comparison and arithmetic operators, numbers, booleans,
keywords, exception handlers, loops -- and runs ``python -m harness gate --checks
snapshot --fail-fast`` over the bundled scenarios after each. A mutant the gate fails
on (any non-zero exit) is *killed*; one it passes *survived*: a behaviour change no
approved snapshot notices. No pytest test runs: the point is what the gate alone
catches.

Everything happens in a copy of the project (``--workdir``, default a temporary
directory): Cosmic Ray edits source files in place. ``--sample N`` judges N
mutants drawn per module in proportion to its mutant count, with a seeded RNG (the
rest are marked skipped; ``--like OTHER.sqlite`` judges the mutants another session
judged, to compare a before and an after; ``--survivors-of OTHER.sqlite`` only its
survivors, to see which a new scenario kills; each also takes a ``--workdir``);
``--all`` judges every one (about 4,200 for the executor modules -- hours on two
cores). ``--processes N`` judges the sample in N copies at once (``part0/`` ...), one
core each: every copy draws the same sample and judges every N-th mutant of it, so
the mutants judged do not depend on N. The unmutated gate must pass first.
``--scenarios NAME ...`` copies only those scenarios (and their snapshots): a quick
loop while writing a scenario for one survivor, and the bench's own test at its
smallest size -- never a figure for the gate's strength.

The report: killed / survived / incompetent (the mutant does not import) / timeouts
per module, the kill rate ``killed / (killed + survived)`` (timeouts count as
killed, incompetent mutants are left out, as Cosmic Ray reports them), the same
over non-equivalent mutants (survivors recognised mechanically as equivalent -- a
``|`` in a type annotation, never evaluated -- are left out and named), and every
survivor with its diff and whether the unmutated gate ever runs its line (coverage.py;
one never run is a missing input, one run a weak oracle). ``--json FILE`` writes the same as JSON.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: What the copy needs: the code, the corpus and its snapshots.
COPIED = ("opx", "harness", "scenarios", "snapshots", "pyproject.toml")


def executor_modules() -> list[str]:
    """The executor's own modules: everything in ``opx/`` but the action groups."""
    paths = [*ROOT.glob("opx/*.py"), *ROOT.glob("opx/agents/*.py")]
    paths += ROOT.glob("opx/checkpointing/*.py")
    return sorted(str(p.relative_to(ROOT)) for p in paths if p.name != "__init__.py")


def action_group_modules() -> list[str]:
    paths = ROOT.glob("opx/action_groups/*.py")
    return sorted(str(p.relative_to(ROOT)) for p in paths if p.name != "__init__.py")


#: The corpus directories ``--scenarios`` narrows.
CORPUS_DIRS = ("scenarios", "snapshots")


def copy_project(workdir: Path, scenarios: list[str] | None = None) -> None:
    """The code, and the corpus -- or only the named ``scenarios`` of it (and their
    snapshots; other files there, such as the secret allowlist, always)."""

    def ignored(directory: str, names: list[str]) -> set[str]:
        left_out = {name for name in names if name == "__pycache__"}
        if scenarios is not None and Path(directory).name in CORPUS_DIRS:
            left_out |= {n for n in names if n.endswith(".json") and n[:-5] not in scenarios}
        return left_out

    for name in COPIED:
        source = ROOT / name
        target = workdir / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignored)
        else:
            shutil.copy2(source, target)


def gate_command(checks: str) -> str:
    """The test Cosmic Ray runs per mutant. ``--fail-fast``: a killed mutant needs only
    its first failing scenario, not the whole corpus (a survivor still runs them all)."""
    gate = f"{sys.executable} -m harness gate --checks {checks} --fail-fast"
    return f"{gate} --scenarios scenarios --snapshots snapshots"


def write_config(workdir: Path, modules: list[str], checks: str, timeout: float) -> Path:
    config = workdir / "cosmic-ray.toml"
    paths = ", ".join(json.dumps(m) for m in modules)
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = [{paths}]\n"
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(gate_command(checks))}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n',
        encoding="utf-8",
    )
    return config


def mutant_key(mutation: Any) -> tuple[str, str, int]:
    """A mutant's identity across sessions (job ids are random): module, operator,
    occurrence -- the same source gives the same keys."""
    return (str(mutation.module_path), mutation.operator_name, int(mutation.occurrence))


def judged_keys(sessions: list[Path]) -> set[tuple[str, str, int]]:
    """The mutants other sessions judge (all they did not skip, run yet or not)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    keys: set[tuple[str, str, int]] = set()
    for session in sessions:
        with use_db(str(session), WorkDB.Mode.open) as db:
            skipped = {
                job for job, result in db.results if result.worker_outcome == WorkerOutcome.SKIPPED
            }
            keys |= {
                mutant_key(item.mutations[0])
                for item in db.work_items
                if item.job_id not in skipped
            }
    return keys


def sample_jobs(
    session: Path, size: int | None, seed: int, like: set[tuple[str, str, int]] | None = None
) -> dict[str, int]:
    """Mark all but ``size`` pending mutants skipped (per module, proportionally, drawn
    by a seeded RNG over mutant keys), or all but those in ``like``."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        by_module: dict[str, dict[tuple[str, str, int], str]] = defaultdict(dict)
        for item in db.pending_work_items:
            key = mutant_key(item.mutations[0])
            by_module[key[0]][key] = item.job_id
        total = sum(len(jobs) for jobs in by_module.values())
        if like is None and (size is None or size >= total):
            return {module: len(jobs) for module, jobs in by_module.items()}
        rng = random.Random(seed)
        chosen: dict[str, int] = {}
        for module, jobs in sorted(by_module.items()):
            if like is not None:
                kept = {key for key in jobs if key in like}
            else:
                keep = min(len(jobs), max(1, math.floor(size * len(jobs) / total + 0.5)))
                kept = set(rng.sample(sorted(jobs), keep))
            chosen[module] = len(kept)
            for key, job in jobs.items():
                if key not in kept:
                    db.set_result(
                        job,
                        WorkResult(output="not sampled", worker_outcome=WorkerOutcome.SKIPPED),
                    )
        return chosen


#: A removed line holding a type annotation with a ``|`` union (``x: A | B``, ``-> A | B``).
_ANNOTATION = re.compile(r"(->[^=]*\|)|([\w\]]\s*:\s*[\w.\[\], ]+\|)")


#: A bare ``*`` (keyword-only marker) in a signature.
_BARE_STAR = re.compile(r"(^\s*\*,\s*$)|([(,]\s*\*\s*,)")


def equivalent_reason(survivor: dict[str, Any], workdir: Path) -> str | None:
    """Why a surviving mutant cannot change behaviour, when that is mechanical to tell.

    Every executor module starts with ``from __future__ import annotations``: a ``|``
    in a type annotation is never evaluated, so replacing it changes nothing. A
    signature's keyword-only marker ``*`` turned into ``/`` makes the parameters
    before it positional-only: the same behaviour while every caller passes them by
    position (a caller passing one by name would kill the mutant).
    """
    removed = [
        line[1:]
        for line in survivor["diff"].splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    source = (workdir / survivor["module"]).read_text(encoding="utf-8")
    if (
        survivor["operator"].startswith("core/ReplaceBinaryOperator_BitOr_")
        and "from __future__ import annotations" in source
        and removed
        and all(_ANNOTATION.search(line) and "isinstance(" not in line for line in removed)
    ):
        return "type annotation (never evaluated under PEP 563)"
    if (
        survivor["operator"] == "core/ReplaceBinaryOperator_Mul_Div"
        and removed
        and all(_BARE_STAR.search(line) for line in removed)
    ):
        return "signature marker * -> / (no caller passes the earlier parameters by name)"
    return None


def run_keys(sessions: list[Path]) -> set[tuple[str, str, int]]:
    """The mutants the sessions have run (a result other than skipped)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    keys: set[tuple[str, str, int]] = set()
    for session in sessions:
        with use_db(str(session), WorkDB.Mode.open) as db:
            items = {item.job_id: item for item in db.work_items}
            keys |= {
                mutant_key(items[job].mutations[0])
                for job, result in db.results
                if result.worker_outcome != WorkerOutcome.SKIPPED
            }
    return keys


def collect(sessions: list[Path], only: set[tuple[str, str, int]] | None = None) -> dict[str, Any]:
    """The report of ``sessions`` together (restricted to the mutants in ``only``)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    modules: dict[str, Counter[str]] = defaultdict(Counter)
    survivors = []
    for session in sessions:
        with use_db(str(session), WorkDB.Mode.open) as db:
            items = {item.job_id: item for item in db.work_items}
            results = list(db.results)
        for job_id, result in results:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            mutation = items[job_id].mutations[0]
            if only is not None and mutant_key(mutation) not in only:
                continue
            module = str(mutation.module_path)
            if result.worker_outcome == WorkerOutcome.ABNORMAL:
                status = "timeout"
            elif result.test_outcome == TestOutcome.SURVIVED:
                status = "survived"
            elif result.test_outcome == TestOutcome.INCOMPETENT:
                status = "incompetent"
            else:
                status = "killed"
            modules[module][status] += 1
            if status == "survived":
                survivors.append(
                    {
                        "module": module,
                        "line": mutation.start_pos[0],
                        "operator": mutation.operator_name,
                        "occurrence": mutation.occurrence,
                        "diff": result.diff or "",
                    }
                )
    killed = sum(c["killed"] + c["timeout"] for c in modules.values())
    survived = sum(c["survived"] for c in modules.values())
    return {
        "modules": {m: dict(c) for m, c in sorted(modules.items())},
        "killed": killed,
        "survived": survived,
        "incompetent": sum(c["incompetent"] for c in modules.values()),
        "kill_rate": round(killed / (killed + survived), 4) if killed + survived else None,
        "survivors": sorted(survivors, key=lambda s: (s["module"], s["line"], s["operator"])),
    }


def baseline_gate(workdir: Path, checks: str) -> subprocess.CompletedProcess[bytes]:
    """The unmutated gate, once, under coverage.py: its exit code says whether there
    is anything to measure, and the lines of each module it executes go to
    ``gate-lines.json`` (see :func:`gate_coverage`). One run serves both: they used to
    be two runs of the whole gate, a third of the bench test's time."""
    data = workdir / ".coverage"
    env = {**os.environ, "PYTHONPATH": str(workdir), "COVERAGE_FILE": str(data)}
    run = [sys.executable, "-m", "coverage"]
    gate = subprocess.run(
        [*run, "run", "--source=opx", *gate_command(checks).split()[1:]],
        cwd=workdir,
        env=env,
        capture_output=True,
        check=False,
    )
    # Written whatever the exit code: a workdir measured before the baseline ran under
    # coverage gets its lines here too (``gate_coverage``), and they are the lines run.
    report = workdir / "coverage.json"
    subprocess.run([*run, "json", "-q", "-o", str(report)], cwd=workdir, env=env, check=True)
    files = json.loads(report.read_text(encoding="utf-8"))["files"]
    lines = {name: sorted(f["executed_lines"]) for name, f in files.items()}
    (workdir / "gate-lines.json").write_text(
        json.dumps(lines, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return gate


def gate_coverage(workdir: Path, checks: str) -> dict[str, list[int]]:
    """Lines of each module the unmutated gate executes (coverage.py, in the copy): a
    survivor on a line it never runs is a missing input, not a weak oracle -- the report
    says which is which. Kept in ``gate-lines.json`` beside the session (written by the
    baseline run; a workdir from before that is measured here)."""
    saved = workdir / "gate-lines.json"
    if not saved.exists():
        baseline_gate(workdir, checks)
    return json.loads(saved.read_text(encoding="utf-8"))


def statement_line(source: str, line: int) -> int:
    """The first line of the innermost statement holding ``line``: coverage.py counts a
    statement that spans lines (a call with its arguments on the next ones) on its
    first line only, and a mutant may sit on any of them."""
    best = line
    span = None
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            size = (node.end_lineno or node.lineno) - node.lineno
            if span is None or size <= span:
                best, span = node.lineno, size
    return best


def sessions_in(path: Path) -> list[Path]:
    """The Cosmic Ray sessions of a measurement: a ``session.sqlite`` itself, or the
    one (``--processes 1``) or several (``part<i>/``) in a ``--workdir``."""
    if path.is_file():
        return [path]
    single = path / "session.sqlite"
    return [single] if single.exists() else sorted(path.glob("part*/session.sqlite"))


def keep_share(session: Path, part: int, parts: int) -> int:
    """Skip all but every ``parts``-th of the chosen mutants, from ``part`` on, in key
    order: ``parts`` copies sampled alike then judge disjoint shares that together are
    exactly the one-process sample."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = sorted(
            (mutant_key(item.mutations[0]), item.job_id) for item in db.pending_work_items
        )
        for rank, (_, job) in enumerate(pending):
            if rank % parts != part:
                db.set_result(
                    job, WorkResult(output="another part's", worker_outcome=WorkerOutcome.SKIPPED)
                )
        return len(range(part, len(pending), parts))


def prepare(
    workdir: Path, modules: list[str], args: argparse.Namespace, part: int, parts: int
) -> Path:
    """A copy of the project at ``workdir`` with its session initialised and sampled."""
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / "opx").exists():
        copy_project(workdir, args.scenarios)
    config = write_config(workdir, modules, args.checks, args.timeout)
    session = workdir / "session.sqlite"
    cosmic_ray = [sys.executable, "-m", "cosmic_ray.cli"]
    subprocess.run([*cosmic_ray, "init", str(config), str(session)], cwd=workdir, check=True)
    like = judged_keys(sessions_in(args.like)) if args.like else None
    if args.survivors_of:
        like = {
            (s["module"], s["operator"], s["occurrence"])
            for s in collect(sessions_in(args.survivors_of))["survivors"]
        }
    chosen = sample_jobs(session, None if args.all else args.sample, args.seed, like)
    if parts > 1:
        mine = keep_share(session, part, parts)
        print(f"part {part}: judging {mine} of {sum(chosen.values())} mutants", flush=True)
    else:
        print(f"judging {sum(chosen.values())} mutants in {len(chosen)} modules", flush=True)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("executor", "action-groups"), default="executor")
    parser.add_argument("--modules", nargs="+", help="paths under opx/ (default: the kind's)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--sample", type=int, default=200, help="mutants judged (default 200)")
    size.add_argument("--all", action="store_true", help="judge every mutant")
    size.add_argument(
        "--like", type=Path, help="judge the mutants another session (sqlite or workdir) judged"
    )
    size.add_argument(
        "--survivors-of",
        type=Path,
        help="judge only the mutants that survived in another session (after new scenarios)",
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--checks", default="snapshot", help="the gate's --checks")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        metavar="NAME",
        help="judge with these scenarios only (a quick loop; the figures are then not the "
        "gate's strength)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="judge the sample in N copies at once, one core each (default 1)",
    )
    parser.add_argument("--workdir", type=Path, help="a directory for the mutated copy")
    parser.add_argument("--json", type=Path, help="write the report as JSON")
    parser.add_argument(
        "--intersect",
        type=Path,
        help="report only mutants also run in this other session (runs stopped early)",
    )
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error(f"--processes {args.processes}: need at least one")
    modules = args.modules or (
        executor_modules() if args.kind == "executor" else action_group_modules()
    )
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="opx-mutation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sessions = sessions_in(workdir)
    if not sessions:  # else: report on the sessions there (finished or stopped)
        parts = (
            [workdir]
            if args.processes == 1
            else [workdir / f"part{i}" for i in range(args.processes)]
        )
        parts[0].mkdir(parents=True, exist_ok=True)
        if not (parts[0] / "opx").exists():
            copy_project(parts[0], args.scenarios)
        baseline = baseline_gate(parts[0], args.checks)
        if baseline.returncode != 0:
            print("the unmutated gate does not pass; nothing to measure", file=sys.stderr)
            print(baseline.stdout.decode()[-2000:], file=sys.stderr)
            return 2
        configs = [prepare(part, modules, args, i, len(parts)) for i, part in enumerate(parts)]
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "cosmic_ray.cli", "exec", str(config), "session.sqlite"],
                cwd=part,
                env={**os.environ, "PYTHONPATH": str(part)},
                stdout=subprocess.DEVNULL,
            )
            for part, config in zip(parts, configs, strict=True)
        ]
        if any(process.wait() != 0 for process in running):
            print("cosmic-ray exec failed; see its output above", file=sys.stderr)
            return 2
        sessions = sessions_in(workdir)
    only = run_keys(sessions) & run_keys(sessions_in(args.intersect)) if args.intersect else None
    report = collect(sessions, only)
    source_root = sessions[0].parent
    executed = {m: set(lines) for m, lines in gate_coverage(source_root, args.checks).items()}
    equivalent = 0
    for survivor in report["survivors"]:
        survivor["equivalent"] = equivalent_reason(survivor, source_root)
        source = (source_root / survivor["module"]).read_text(encoding="utf-8")
        survivor["run_by_gate"] = statement_line(source, survivor["line"]) in executed.get(
            survivor["module"], ()
        )
        equivalent += survivor["equivalent"] is not None
    judged = report["killed"] + report["survived"] - equivalent
    report["equivalent"] = equivalent
    report["never_run"] = sum(
        not s["run_by_gate"] and s["equivalent"] is None for s in report["survivors"]
    )
    report["kill_rate_non_equivalent"] = round(report["killed"] / judged, 4) if judged else None
    report["config"] = {
        "modules": modules,
        "sample": None if args.all else args.sample,
        "seed": args.seed,
        "checks": args.checks,
        "scenarios": args.scenarios,
        "processes": len(sessions),
    }
    for module, counts in report["modules"].items():
        print(f"{module:40s} " + " ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(
        f"killed {report['killed']}, survived {report['survived']} ({equivalent} equivalent), "
        f"incompetent {report['incompetent']}: kill rate {report['kill_rate']}, "
        f"of non-equivalent mutants {report['kill_rate_non_equivalent']} "
        f"({report['never_run']} of the non-equivalent survivors on lines the gate never runs)"
    )
    for survivor in report["survivors"]:
        why = f" -- equivalent: {survivor['equivalent']}" if survivor["equivalent"] else ""
        why += "" if survivor["run_by_gate"] else " -- a line the gate never runs"
        print(f"survived: {survivor['module']}:{survivor['line']} {survivor['operator']}{why}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
