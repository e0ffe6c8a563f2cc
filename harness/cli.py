"""``opx-harness`` (also ``python -m harness``): replay, judge, record and import scenarios.

Exit codes -- a script or CI step can tell the failures apart:

* 0 -- done;
* 1 -- unexpected internal error (one line on stderr: a bug, please report it);
* 2 -- usage or input error: bad arguments, unreadable path, invalid scenario file,
  an AWS call ``import`` could not make;
* 3 -- ``replay``: the replay sent a request the scenario has no recorded answer for
  (one line on stderr, then the request, the closest recording and their diff);
  ``record``/``import``: the capture could not be verified, nothing was written (one
  line, then the scrubbed divergence report).

``gate`` has its own codes (see :mod:`harness.verdict`). Errors never print a
traceback: the one line names the file and, for an invalid scenario, the JSON path of
the first problem.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from harness.verdict import GateConfig

PROG = "opx-harness"
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_UNMATCHED = 3


class InputError(Exception):
    """A problem with what the user gave us; the message is the one line to print."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except InputError as exc:
        error(str(exc))
        return EXIT_INPUT
    except BrokenPipeError:
        # The reader went away (``| head``): nothing left to tell anyone.
        _silence_stdout()
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except Exception as exc:
        error(f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Deterministic offline replay of opx incident scenarios.",
        epilog="exit codes: 0 ok, 1 internal error, 2 usage or invalid input, "
        "3 unmatched request during replay",
    )
    commands = parser.add_subparsers(metavar="COMMAND", required=True)

    replay = commands.add_parser("replay", help="replay one scenario file")
    replay.add_argument("path", metavar="PATH", help="scenario file (scenarios/<name>.json)")
    replay.add_argument(
        "--json",
        action="store_true",
        help="print the canonical result (byte-identical to the scenario's snapshot)",
    )
    replay.set_defaults(command=_replay)

    listing = commands.add_parser("list", help="list the scenarios in a directory")
    listing.add_argument(
        "--scenarios", metavar="DIR", default="scenarios", help="default: ./scenarios"
    )
    listing.set_defaults(command=_list)

    schema = commands.add_parser("schema", help="print the scenario file JSON Schema")
    schema.set_defaults(command=_schema)
    _add_gate(commands)
    from harness.capture_cli import add_commands

    add_commands(commands)
    from harness.specs.cli import add_command

    add_command(commands)
    return parser


def _add_gate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``opx-harness gate``: its usage errors exit 3 ("could not judge"), since the
    gate's exit 2 means nondeterminism and must not be mistaken for a typo."""
    from harness.verdict import CHECKS, DEFAULT_CHECKS, DEFAULT_REPEAT, EXIT_UNJUDGED

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
        help=f"comma-separated, of {','.join(CHECKS)} (default: %(default)s)",
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


# --------------------------------------------------------------------------- commands


def _replay(args: argparse.Namespace) -> int:
    from harness.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.path)
    except ScenarioError as exc:
        raise InputError(str(exc)) from None

    from harness.replayer import replay
    from harness.transport import UnmatchedRequestError

    try:
        result = replay(scenario)
    except UnmatchedRequestError as exc:
        error(str(exc))
        report = exc.report()
        head, _, rest = report.partition("\n")
        sys.stderr.write((rest if head == str(exc) else report) + "\n")
        return EXIT_UNMATCHED
    write(result.to_canonical_json() if args.json else summary(result.canonical()))
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from harness.scenario import ScenarioError, discover, load_scenario

    directory = Path(args.scenarios)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    rows: list[tuple[str, str, str]] = []
    invalid = 0
    for path in discover(directory):
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            error(str(exc))
            invalid += 1
            continue
        description = scenario.description.strip().splitlines()
        rows.append(
            (scenario.name, ",".join(scenario.tags) or "-", description[0] if description else "")
        )
    if rows:
        write(_table([("NAME", "TAGS", "DESCRIPTION"), *rows]))
    elif not invalid:
        error(f"{directory}: no scenario files (*.json)")
    return EXIT_INPUT if invalid else EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from harness.scenario import json_schema

    write(json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return EXIT_OK


def _gate(args: argparse.Namespace) -> int:
    """Run the gate, print the table, write the reports; see :mod:`harness.verdict`
    for the exit codes. A failure of the gate itself is 4, never 1 (drift)."""
    from harness import reports
    from harness.gate import GateInputError, run_gate
    from harness.progress import for_stream
    from harness.verdict import EXIT_INTERNAL, EXIT_UNJUDGED

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
        _silence_stdout()
    return code


def _gate_config(args: argparse.Namespace) -> GateConfig:
    from harness.gate import GateInputError
    from harness.sharding import parse_shard
    from harness.verdict import GateConfig

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
    )


# --------------------------------------------------------------------------- output


def summary(result: dict[str, Any]) -> str:
    """The human view of a canonical result: what happened, in a dozen lines."""
    if result.get("kind") == "action-group":
        return _action_group_summary(result)
    responses: list[dict[str, Any]] = result["responses"]
    bodies = [r.get("body") if isinstance(r.get("body"), dict) else {} for r in responses]
    answered = next((b for b in reversed(bodies) if "agents" in b), {})
    calls: list[dict[str, Any]] = result["bedrock_calls"]
    faults = sum(1 for c in calls if c["outcome"] != "answer")
    tokens_in = sum(c["input_tokens"] for c in calls)
    tokens_out = sum(c["output_tokens"] for c in calls)
    billed = sum((Decimal(c["cost_usd"]) for c in calls), Decimal("0.000000"))
    cost = answered.get("cost", {})
    budget = cost.get("budget", {})
    rows = [
        ("scenario", result["scenario"]),
        ("status code", ", ".join(str(r.get("statusCode")) for r in responses) or "-"),
        ("status", ", ".join(str(b.get("status") or b.get("error") or "-") for b in bodies)),
        (
            "agents",
            " ".join(f"{a}={s}" for a, s in sorted(answered.get("agents", {}).items())) or "-",
        ),
        (
            "cost",
            f"{cost['total_usd']} USD (budget {budget.get('budget_usd', '-')}, "
            f"{budget.get('state', '-')})"
            if cost
            else "-",
        ),
        ("checkpoints", str(len(result["checkpoints"]))),
        (
            "bedrock calls",
            f"{len(calls)} ({faults} faulted), {tokens_in} input + {tokens_out} output "
            f"tokens, {billed} USD",
        ),
        ("clock", f"{result['clock']['start']} -> {result['clock']['end']}"),
    ]
    return _table(rows)


def _action_group_summary(result: dict[str, Any]) -> str:
    answers = [r.get("response", {}) for r in result["responses"] if isinstance(r, dict)]
    calls: list[dict[str, Any]] = result["aws_calls"]
    served: dict[str, int] = {}
    for call in calls:
        served[call.get("served_by", "-")] = served.get(call.get("served_by", "-"), 0) + 1
    rows = [
        ("scenario", result["scenario"]),
        ("action group", result["action_group"]),
        ("answers", ", ".join(f"{_route(a)} {_answer_status(a)}" for a in answers) or "-"),
        (
            "aws calls",
            f"{len(calls)} ("
            + (", ".join(f"{n} by {who}" for who, n in sorted(served.items())) or "none")
            + ")",
        ),
        ("clock", f"{result['clock']['start']} -> {result['clock']['end']}"),
    ]
    return _table(rows)


def _route(answer: dict[str, Any]) -> str:
    return str(answer.get("apiPath") or answer.get("function") or "-")


def _answer_status(answer: dict[str, Any]) -> str:
    """The HTTP status of an OpenAPI answer, the response state of a function answer."""
    state = answer.get("functionResponse", {}).get("responseState")
    return str(answer.get("httpStatusCode") or state or 200)


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def write(text: str) -> None:
    """UTF-8 bytes whatever the locale: ``--json`` must equal the snapshot file."""
    stream = sys.stdout
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
    else:
        buffer.write(text.encode("utf-8"))
        buffer.flush()


def error(message: str) -> None:
    one_line = " ".join(message.split())
    sys.stderr.write(f"{PROG}: error: {one_line}\n")
    sys.stderr.flush()


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
