"""``opx-harness refresh``: renew stale recordings and print the impact report.

Exit codes: 0 every planned scenario renewed (or nothing was stale); 2 bad input
(options, unknown scenario, scrub config); 3 something was refused or left as it was
(the projected spend is over ``--max-usd``, the cap was reached while running, a
scenario could not be renewed or verified, the detector found a secret) -- each
refused scenario's files are untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from harness.cli.output import InputError, write


def add_commands(commands: Any) -> None:
    refresh = commands.add_parser(
        "refresh",
        help="renew recordings a prompt, model or agent change made stale; impact report",
        description="Renew the recordings of stale scenarios (or --only NAME, or --all "
        "for a model or alias change that alters no request): authored answers are "
        "re-bound offline, live ones asked again from the Bedrock Agent runtime "
        "(--keep-answers re-binds them instead), each renewed scenario verified before "
        "it is written. Prints what the change does: status, top action, agreement, "
        "confidence and cost, approved -> refreshed.",
        epilog="exit codes: 0 renewed, 2 bad input, 3 refused or not renewed (nothing "
        "written for those scenarios)",
    )
    refresh.add_argument("--scenarios", metavar="DIR", default="scenarios")
    refresh.add_argument("--snapshots", metavar="DIR", default="snapshots")
    refresh.add_argument("--only", metavar="NAME", nargs="+", default=[], help="these scenarios")
    refresh.add_argument(
        "--all",
        dest="every",
        action="store_true",
        help="every scenario with Bedrock answers (a model or alias change alters no request)",
    )
    refresh.add_argument(
        "--keep-answers",
        action="store_true",
        help="re-bind recorded answers to the new requests without asking Bedrock again",
    )
    refresh.add_argument(
        "--max-usd",
        default="1.00",
        metavar="USD",
        help="refuse to start above this projected live spend, stop at it (default 1.00)",
    )
    refresh.add_argument("--region", help="AWS region for live calls")
    refresh.add_argument("--profile", help="AWS profile for live calls")
    refresh.add_argument("--scrub-config", metavar="FILE", help="extra patterns to redact")
    refresh.add_argument(
        "--approve", action="store_true", help="also write the refreshed snapshots"
    )
    refresh.add_argument("--report", metavar="FILE.md", help="write the impact report as Markdown")
    refresh.add_argument("--json", metavar="FILE", help="write the impact report as JSON")
    refresh.set_defaults(command=_refresh)


def _refresh(args: argparse.Namespace) -> int:
    from harness.capture import ScrubConfigError, load_scrub_config
    from harness.refresh import PlanError, RefreshConfig, refresh
    from harness.refresh import report as render

    try:
        cap = Decimal(args.max_usd)
    except InvalidOperation:
        raise InputError(f"--max-usd {args.max_usd!r}: expected an amount in USD") from None
    if not cap.is_finite() or cap < 0:
        raise InputError(f"--max-usd {args.max_usd!r}: expected a non-negative amount")
    if args.every and args.only:
        raise InputError("--all and --only choose scenarios differently: give one")
    try:
        patterns = load_scrub_config(args.scrub_config) if args.scrub_config else ()
    except ScrubConfigError as exc:
        raise InputError(str(exc)) from None
    if not Path(args.scenarios).is_dir():
        raise InputError(f"{args.scenarios}: not a directory")
    config = RefreshConfig(
        scenarios=Path(args.scenarios),
        snapshots=Path(args.snapshots),
        only=tuple(args.only),
        every=args.every,
        keep_answers=args.keep_answers,
        max_usd=cap,
        region=args.region,
        profile=args.profile,
        patterns=tuple(patterns),
        approve=args.approve,
    )
    try:
        result = refresh(config, say=lambda line: sys.stderr.write(line + "\n"))
    except PlanError as exc:
        raise InputError(str(exc)) from None
    if not result.items and not result.refused:
        write("nothing to refresh: every scenario's recordings answer what the executor sends\n")
        return 0
    outputs = ((args.report, render.markdown), (args.json, render.to_json))
    for target, rendered in outputs:
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(rendered(result), encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as stream:
            stream.write(render.markdown(result))
    write(render.text(result))
    return result.exit_code


__all__ = ["add_commands"]
