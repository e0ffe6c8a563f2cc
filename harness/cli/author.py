"""``opx-harness author [SPEC...] [--check] [--out DIR]``: scenario files from specs.

Without SPEC it authors every ``specs/*.yaml``. Writes only the scenario files whose
text changed (unchanged files keep their mtime); ``--check`` writes nothing and fails
when a file is missing or differs -- CI runs it, so a prompt change shows up as a stale
scenario and is re-authored and reviewed, never silently re-recorded.

Exit codes (those of ``opx-harness``): 0 done or up to date; 1 ``--check``: a scenario
file is missing or differs (each named, then a short diff), or an internal error; 2 a
spec is unreadable or invalid (one line naming the file and field); 3 the handler and a
spec disagree (it sent a request the spec scripts no answer for, or never asked for one
it does).
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.capture.secret_scan import (
    SecretScanError,
    SecretsFound,
    allowlist_for,
    scan_before_write,
)
from harness.cli.output import EXIT_INPUT, EXIT_INTERNAL, error
from harness.specs import AuthoringFailed, SpecError, compile_spec, load_spec

__all__ = [
    "EXIT_DISAGREES",
    "EXIT_INVALID",
    "EXIT_STALE",
    "add_commands",
    "clashing_starts",
    "main",
    "render",
    "run",
    "short_diff",
    "stale",
    "write",
]

EXIT_STALE = 1
EXIT_INVALID = EXIT_INPUT
EXIT_DISAGREES = 3
#: How messages name this command.
COMMAND = "opx-harness author"


def add_commands(commands: Any) -> None:
    """Register ``author`` on ``opx-harness``'s subcommands."""
    parser = commands.add_parser(
        "author", help="compile scenario specs into scenario files", **_HELP
    )
    _arguments(parser).set_defaults(command=run)


_HELP = {
    "description": "Compile scenario specs (specs/*.yaml) into scenario files by running "
    "the real handler against the answers each spec scripts; writes only changed files.",
    "epilog": "exit codes: 0 ok, 1 --check: a scenario file is stale or missing, "
    "2 invalid spec, 3 the handler and a spec disagree",
}


def _arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "specs", nargs="*", metavar="SPEC", help="spec files (default: every specs/*.yaml)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a scenario file is missing or differs",
    )
    parser.add_argument(
        "--out", metavar="DIR", default="scenarios", help="scenario directory (default: scenarios/)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``opx-harness author`` on its own (what the registered subcommand runs)."""
    return run(_arguments(argparse.ArgumentParser(prog=COMMAND, **_HELP)).parse_args(argv))


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    paths = [Path(p) for p in args.specs] or sorted(Path("specs").glob("*.yaml"))
    if not paths:
        return _error("specs: no spec files (specs/*.yaml)", EXIT_INVALID)
    try:
        clashes = clashing_starts(paths, Path(args.out))
        if clashes:
            raise SpecError(clashes[0] + (f" (+{len(clashes) - 1} more)" if clashes[1:] else ""))
        rendered = render(paths)
    except SpecError as exc:
        return _error(str(exc), EXIT_INVALID)
    except AuthoringFailed as exc:
        return _error(str(exc), EXIT_DISAGREES)
    except Exception as exc:  # a bug, not the spec: one line all the same
        return _error(f"internal error: {type(exc).__name__}: {exc}", EXIT_INTERNAL)
    elapsed = time.perf_counter() - started
    out = Path(args.out)
    if args.check:
        problems = stale(rendered, out)
        for line in problems:
            sys.stderr.write(line + "\n")
        if problems:
            for filename, text in sorted(rendered.items()):
                sys.stderr.write(short_diff(out / filename, text))
            sys.stderr.write(f"run: {COMMAND} {' '.join(args.specs)}".rstrip() + "\n")
            return EXIT_STALE
        print(f"{len(rendered)} scenario files up to date ({elapsed:.1f} s)")
        return 0
    try:
        scan_before_write(
            {out / name: text for name, text in rendered.items()}, allowlist=allowlist_for(out)
        )
    except SecretsFound as exc:
        code = _error(f"not written: {exc}", EXIT_DISAGREES)
        sys.stderr.write(exc.report())
        return code
    except SecretScanError as exc:
        return _error(f"not written: {exc}", EXIT_DISAGREES)
    written = write(rendered, out)
    print(
        f"authored {len(rendered)} scenarios in {elapsed:.1f} s; wrote {len(written)}: "
        + (", ".join(written) or "none changed")
    )
    return 0


def render(paths: Sequence[Path]) -> dict[str, str]:
    """Scenario file name -> file text for each spec (validated first, all of them,
    so a typo in the last spec fails before a minute of authoring)."""
    specs = [(path, load_spec(path)) for path in paths]
    return {f"{spec.name}.json": compile_spec(spec, path).to_json() for path, spec in specs}


def clashing_starts(paths: Sequence[Path], directory: Path) -> list[str]:
    """One line per spec whose clock start another scenario already uses -- another spec
    given here, or a scenario file in ``directory`` of another name (recorded ones too).

    A corpus-wide rule, so it lives here rather than in one spec's validation: two
    incidents at the same instant are one incident told twice, and distinct starts keep
    every replay's timestamps (checkpoints, metrics) telling the scenarios apart."""
    from harness.scenario import ScenarioError, discover, load_scenario

    taken: dict[datetime, str] = {}
    if directory.is_dir():
        for path in discover(directory):
            try:
                scenario = load_scenario(path)
            except ScenarioError:
                continue  # its own command reports it
            taken[scenario.clock.start] = scenario.name
    problems = []
    claimed: dict[datetime, str] = {}
    for path in paths:
        spec = load_spec(path)
        start = datetime.fromisoformat(spec.start)
        owner = claimed.get(start) or taken.get(start)
        if owner is not None and owner != spec.name:
            problems.append(
                f"{path}: $.start: {spec.start} is already the clock start of {owner!r} "
                "(rule: every scenario starts at its own instant; pick another start)"
            )
        claimed.setdefault(start, spec.name)
    return problems


def stale(rendered: Mapping[str, str], directory: Path) -> list[str]:
    """One line per scenario file in ``directory`` that is missing or differs."""
    problems = []
    for filename, text in sorted(rendered.items()):
        path = directory / filename
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from what {COMMAND} writes")
    return problems


def short_diff(path: Path, text: str, limit: int = 30) -> str:
    """The first ``limit`` lines of the diff from ``path`` to ``text`` ("" if equal or
    missing), lines cut at 200 characters -- enough to see what changed."""
    if not path.exists() or path.read_text(encoding="utf-8") == text:
        return ""
    diff = difflib.unified_diff(
        path.read_text(encoding="utf-8").splitlines(),
        text.splitlines(),
        fromfile=f"{path} (on disk)",
        tofile=f"{path} (authored)",
        lineterm="",
    )
    return "".join(line[:200] + "\n" for line in list(diff)[:limit])


def write(rendered: Mapping[str, str], directory: Path) -> list[str]:
    """Write changed files only; returns the names written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in sorted(rendered.items()):
        path = directory / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(filename)
    return written


def _error(message: str, code: int) -> int:
    error(message)
    return code
