"""The resume check, passing and failing: a failing check must not cost much more.

For each scenario, in one process: the resume matrix (every crash point, DynamoDB
saver) of the executor as it is, then of an executor whose checkpointer drops its
pending writes (``put_writes`` does nothing) -- the failure the check exists for.
A crash point whose promised state can never become durable is reported once the
executor goes quiet (``harness.checks.crash.QUIET_S``), not after a flat
``DURABLE_TIMEOUT_S`` per point. Prints both times and their ratio (target <= 2x);
exits non-zero if the broken checkpointer passes (the check could not fail).

    python bench/resume.py [--only NAME ...] [--scenarios scenarios/]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.checks.resume import resume_matrix  # noqa: E402
from harness.scenario import load_scenario  # noqa: E402

#: A real clock out of the frozen clock's reach (see bench/replay.py).
_REAL_CLOCK: tuple[Callable[[], float]] = (time.perf_counter,)
TARGET_RATIO = 2.0
DEFAULT = ("rds-failover",)


def timed_matrix(path: Path, drop_writes: bool) -> tuple[float, bool, int]:
    """(seconds, every case ok, cases) of one resume matrix."""
    from opx.checkpointing import DynamoDBCheckpointer

    scenario = load_scenario(path)
    started = _REAL_CLOCK[0]()
    if drop_writes:
        with mock.patch.object(DynamoDBCheckpointer, "put_writes", lambda *a, **k: None):
            matrix = resume_matrix(scenario, "dynamodb")
    else:
        matrix = resume_matrix(scenario, "dynamodb")
    return _REAL_CLOCK[0]() - started, all(c.ok for c in matrix.cases), len(matrix.cases)


def run(directory: Path, names: list[str]) -> list[str]:
    header = f"{'scenario':<24} {'cases':>5} {'passing s':>9} {'dropped writes s':>16}"
    lines = [f"{header} {'ratio':>6}"]
    for name in names:
        path = directory / f"{name}.json"
        passing, ok, cases = timed_matrix(path, drop_writes=False)
        failing, broken_ok, _ = timed_matrix(path, drop_writes=True)
        if not ok:
            raise SystemExit(f"{name}: the resume check fails on the unbroken executor")
        if broken_ok:
            raise SystemExit(f"{name}: the resume check passed a checkpointer that drops writes")
        ratio = failing / passing
        flag = "ok" if ratio <= TARGET_RATIO else f"> {TARGET_RATIO:g}x"
        lines.append(
            f"{name:<24} {cases:>5} {passing:>9.2f} {failing:>16.2f} {ratio:>5.2f}x  {flag}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=list(DEFAULT))
    parser.add_argument("--scenarios", type=Path, default=ROOT / "scenarios")
    args = parser.parse_args(argv)
    missing = [n for n in args.only if not (args.scenarios / f"{n}.json").is_file()]
    if missing:
        parser.exit(2, f"bench/resume.py: no scenario {', '.join(missing)} in {args.scenarios}\n")
    print("\n".join(run(args.scenarios, args.only)))


if __name__ == "__main__":
    main()
