"""``opx-harness record`` and ``opx-harness import``: new scenarios from production.

Both print what kinds of values were redacted and how many -- never the values --
and write the scenario and its snapshot only once the capture is verified (see
:mod:`harness.capture`). Exit codes: 0 saved; 2 bad input (event file, name, scrub
config, AWS access); 3 the capture could not be verified or would overwrite a file
without ``--force`` -- nothing written (the reason, then the scrubbed report).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.cli.output import InputError, error, summary, write

EXIT_NOT_CAPTURED = 3


def add_commands(commands: Any) -> None:
    record = commands.add_parser(
        "record",
        help="record a scenario from a live run against AWS (Bedrock and reads only)",
        description="Run the real handler against live AWS, record every Bedrock and "
        "read-only AWS answer, replay the recording offline, scrub it, and save the "
        "scenario and its snapshot only if both replays reproduce the live run.",
    )
    record.add_argument(
        "--event",
        required=True,
        metavar="EVENT.json",
        help="the EventBridge event (a JSON object, or a list for redelivery)",
    )
    record.add_argument("--name", required=True, help="scenario name ([a-z0-9-])")
    record.add_argument("--description", default="", help="what the incident was")
    record.add_argument("--region", help="AWS region (default: the environment's)")
    record.add_argument("--profile", help="AWS profile for the live calls")
    record.add_argument(
        "--checkpoint-table",
        metavar="TABLE",
        help="write checkpoints to this DynamoDB table (default: an embedded moto table)",
    )
    _common(record)
    record.set_defaults(command=_record)

    imported = commands.add_parser(
        "import",
        help="rebuild a scenario from an execution stored in the checkpoint table",
        description="Find the incident's executions through the incident-id-index GSI, "
        "rebuild the event and every agent answer from the checkpoints, verify that the "
        "rebuilt scenario reproduces the stored final state, scrub, verify, save.",
    )
    imported.add_argument("--incident-id", required=True, metavar="ID")
    imported.add_argument("--table", required=True, help="the checkpoint table")
    imported.add_argument("--execution-id", metavar="X", help="which execution, if several")
    imported.add_argument("--name", help="scenario name (default: incident-<id>)")
    imported.add_argument("--region", help="AWS region (default: the environment's)")
    imported.add_argument("--profile", help="AWS profile")
    _common(imported)
    imported.set_defaults(command=_import)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios", metavar="DIR", default="scenarios", help="default: ./scenarios"
    )
    parser.add_argument(
        "--snapshots", metavar="DIR", default="snapshots", help="default: ./snapshots"
    )
    parser.add_argument(
        "--scrub-config",
        metavar="FILE",
        help="TOML file of extra patterns to redact (see docs/reference/scrubber.md)",
    )
    parser.add_argument("--force", action="store_true", help="replace existing files")


def _record(args: argparse.Namespace) -> int:
    from harness.capture import record

    events = _events(Path(args.event))
    return _capture(
        args,
        lambda patterns: record(
            events,
            name=args.name,
            description=args.description,
            region=args.region,
            profile=args.profile,
            checkpoint_table=args.checkpoint_table,
            patterns=patterns,
        ),
    )


def _import(args: argparse.Namespace) -> int:
    import boto3

    from harness.capture import import_execution

    def run(patterns: Any) -> Any:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        return import_execution(
            session.client("dynamodb"),
            args.table,
            args.incident_id,
            execution_id=args.execution_id,
            name=args.name,
            patterns=patterns,
        )

    return _capture(args, run)


def _capture(args: argparse.Namespace, run: Callable[[Any], Any]) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from harness.capture import CaptureError, ScrubConfigError, load_scrub_config, save

    try:
        patterns = load_scrub_config(args.scrub_config) if args.scrub_config else ()
    except ScrubConfigError as exc:
        raise InputError(str(exc)) from None
    try:
        capture = run(patterns)
        paths = save(capture, Path(args.scenarios), Path(args.snapshots), force=args.force)
    except CaptureError as exc:
        error(f"not saved: {exc}")
        if exc.report:
            sys.stderr.write(exc.report.rstrip("\n") + "\n")
        return EXIT_NOT_CAPTURED
    except (ClientError, BotoCoreError) as exc:
        raise InputError(f"AWS: {exc}") from None
    write(
        f"saved {paths[0]} and {paths[1]}\n{capture.redacted}\n"
        + summary(json.loads(capture.snapshot))
    )
    return 0


def _events(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    events = data if isinstance(data, list) else [data]
    if not events or not all(isinstance(event, dict) for event in events):
        raise InputError(f"{path}: expected an event object or a non-empty list of them")
    return events


__all__ = ["EXIT_NOT_CAPTURED", "add_commands"]
