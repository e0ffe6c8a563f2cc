"""``opx-harness serve``: a scenario's recorded answers as a Bedrock Agent runtime.

Serves on 127.0.0.1 until Ctrl-C or SIGTERM (exit 0) and prints one line: the URL and
the environment that points the executor or ``opx-harness record`` at it. Exit 2:
an invalid scenario or overrides file, a scenario with no agent answers, a port
that cannot be bound.
"""

from __future__ import annotations

import argparse
import shlex
import signal
from types import FrameType
from typing import Any

from harness.cli.output import EXIT_OK, InputError, write


def add_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve a scenario's recorded answers as a Bedrock Agent runtime on 127.0.0.1",
        description="Answer InvokeAgent over HTTP on 127.0.0.1 from a scenario's recorded "
        "answers, by agent, in recorded order (faults included), repeating each agent's "
        "last answer; --overrides scripts different answers. Point boto3 at it with the "
        "printed environment. Serves until Ctrl-C or SIGTERM.",
    )
    serve.add_argument("scenario", metavar="SCENARIO", help="scenario file (scenarios/<name>.json)")
    serve.add_argument(
        "--port", type=int, default=0, metavar="N", help="port on 127.0.0.1 (default: a free one)"
    )
    serve.add_argument(
        "--overrides",
        metavar="FILE",
        help="YAML/JSON: agent name -> the answer to give instead (a spec's agent block)",
    )
    serve.set_defaults(command=_serve)


class _Stop(Exception):
    """SIGTERM, raised in the serving thread so the server shuts down cleanly."""


def _serve(args: argparse.Namespace) -> int:
    from harness.scenario import ScenarioError, load_scenario
    from harness.serve import OverridesError, ScenarioRuntime, ServeError, load_overrides

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: not a port number (0-65535)")
    try:
        scenario = load_scenario(args.scenario)
        overrides = load_overrides(args.overrides) if args.overrides else None
        runtime = ScenarioRuntime(scenario, overrides, args.port)
    except (ScenarioError, OverridesError, ServeError) as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise InputError(
            f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc})"
        ) from None
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in runtime.environment().items())

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    # Ready for Ctrl-C and SIGTERM before the line is out: whoever reads it may stop us.
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        write(
            f"serving {scenario.name} ({len(runtime.answers.agents)} agents) at {runtime.url}"
            f" -- export {exports}\n"
        )
        runtime.serve_forever()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        runtime.stop()
    return EXIT_OK


__all__ = ["add_commands"]
