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
from collections.abc import Callable, Sequence

from harness.cli import author, capture, gate, refresh, scenarios, serve
from harness.cli.output import EXIT_INPUT, EXIT_INTERNAL, PROG, InputError, error, silence_stdout

#: Each module adds its subcommands (``add_commands``), in ``--help`` order.
COMMAND_MODULES = (scenarios, gate, refresh, capture, author, serve)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except InputError as exc:
        error(str(exc))
        return EXIT_INPUT
    except BrokenPipeError:
        # The reader went away (``| head``): nothing left to tell anyone.
        silence_stdout()
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except Exception as exc:
        error(f"internal error: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog=PROG,
        description="Deterministic offline replay of opx incident scenarios.",
        epilog="exit codes: 0 ok, 1 internal error, 2 usage or invalid input, "
        "3 unmatched request during replay",
    )
    commands = root.add_subparsers(metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.add_commands(commands)
    return root


__all__ = ["COMMAND_MODULES", "main", "parser"]
