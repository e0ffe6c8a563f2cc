"""``opx-harness gate``: the regression gate's command line (see :mod:`harness.gate`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from harness.cli.output import error, silence_stdout, write

if TYPE_CHECKING:
    from harness.gate import GateConfig


def add_commands(commands: Any) -> None:
    """``opx-harness gate``: its usage errors exit 3 ("could not judge"), since the
    gate's exit 2 means nondeterminism and must not be mistaken for a typo."""
    from harness.gate.verdict import CHECK_NAMES, DEFAULT_CHECKS, DEFAULT_REPEAT, EXIT_UNJUDGED

    gate = commands.add_parser(
        "gate",
        help="regression gate: every scenario against its snapshot, plus determinism checks",
        description="Replay every scenario (or this shard's share) and judge it: the "
        "snapshot check compares with the approved snapshot, the determinism checks "
        "compare runs of the same input.",
        epilog="exit codes: 0 all pass, 1 behaviour drift, 2 nondeterminism, 3 could not "
        "judge (invalid scenario or option, unrecorded call, missing or orphaned "
        "snapshot), 4 internal error in the gate; the highest applicable wins",
    )
    gate.add_argument("--scenarios", metavar="DIR", default="scenarios", help="default: scenarios")
    gate.add_argument("--snapshots", metavar="DIR", default="snapshots", help="default: snapshots")
    gate.add_argument(
        "--checks",
        metavar="LIST",
        default=",".join(DEFAULT_CHECKS),
        help=f"comma-separated, of {','.join(CHECK_NAMES)} (default: %(default)s)",
    )
    gate.add_argument(
        "--repeat",
        metavar="N",
        type=int,
        default=DEFAULT_REPEAT,
        help="replays the repeat check compares, the snapshot replay included "
        "(default: %(default)s)",
    )
    gate.add_argument(
        "--jobs",
        metavar="N",
        default="1",
        help="worker processes, or 'auto' for one per CPU (default: %(default)s)",
    )
    gate.add_argument(
        "--shard", metavar="I/N", default="1/1", help="judge only shard I of N (default: all)"
    )
    gate.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    gate.add_argument("--report", metavar="FILE.md", help="write a Markdown summary")
    gate.add_argument("--json", metavar="FILE", help="write a JSON report")
    gate.add_argument(
        "--full-diff",
        action="store_true",
        help="show every diff line: hunks changing only digests are folded by default",
    )
    gate.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first scenario that does not pass: its exit code, the rest "
        "not judged (for loops that only ask whether anything changed)",
    )
    gate.add_argument(
        "--update",
        action="store_true",
        help="re-approve drifted or missing snapshots and delete orphaned ones -- never "
        "where a determinism check failed",
    )

    def usage_error(message: str) -> NoReturn:
        gate.print_usage(sys.stderr)
        error(message)
        raise SystemExit(EXIT_UNJUDGED)

    gate.error = usage_error  # type: ignore[method-assign]
    gate.set_defaults(command=_gate)


def _gate(args: argparse.Namespace) -> int:
    """Run the gate, print the table, write the reports; see :mod:`harness.verdict`
    for the exit codes. A failure of the gate itself is 4, never 1 (drift)."""
    from harness.gate import EXIT_INTERNAL, EXIT_UNJUDGED, GateInputError, reports, run_gate
    from harness.gate.progress import for_stream

    try:
        config = _gate_config(args)
        listener = for_stream(sys.stderr)
        try:
            result = run_gate(config, listener)
        finally:
            listener.close()
    except GateInputError as exc:
        error(str(exc))
        return EXIT_UNJUDGED
    except Exception as exc:
        error(f"internal error in the gate: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    code = result.exit_code
    outputs = (
        (args.junit, reports.junit),
        (args.report, reports.markdown),
        (args.json, reports.to_json),
    )
    for target, render in outputs:
        if target:
            try:
                path = Path(target)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(render(result), encoding="utf-8")
            except OSError as exc:
                error(f"cannot write report {target}: {exc.strerror or exc}")
                code = max(code, EXIT_UNJUDGED)
    try:
        write(reports.text(result))
    except BrokenPipeError:
        silence_stdout()
    return code


def _gate_config(args: argparse.Namespace) -> GateConfig:
    from harness.gate import GateConfig, GateInputError, parse_shard

    try:
        shard = parse_shard(args.shard)
    except ValueError as exc:
        raise GateInputError(str(exc)) from None
    if args.jobs == "auto":
        jobs = os.cpu_count() or 1
    elif args.jobs.isdigit():
        jobs = int(args.jobs)
    else:
        raise GateInputError(f"--jobs {args.jobs!r}: expected a number or 'auto'")
    return GateConfig(
        scenarios=Path(args.scenarios),
        snapshots=Path(args.snapshots),
        checks=tuple(c.strip() for c in args.checks.split(",") if c.strip()),
        repeat=args.repeat,
        jobs=jobs,
        shard=shard,
        update=args.update,
        full_diff=args.full_diff,
        fail_fast=args.fail_fast,
    )


__all__ = ["add_commands"]
