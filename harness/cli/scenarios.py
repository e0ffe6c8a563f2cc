"""``opx-harness replay``, ``list`` and ``schema``: one scenario, a directory, the format."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.cli.output import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_UNMATCHED,
    InputError,
    error,
    summary,
    table,
    write,
)

#: How much of a description ``opx-harness list`` shows.
DESCRIPTION_WIDTH = 100


def add_commands(commands: Any) -> None:
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


def _replay(args: argparse.Namespace) -> int:
    from harness.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.path)
    except ScenarioError as exc:
        raise InputError(str(exc)) from None

    from harness.replayer import replay
    from harness.wire import UnmatchedRequestError

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
        rows.append((scenario.name, ",".join(scenario.tags) or "-", one_line(scenario.description)))
    if rows:
        write(table([("NAME", "TAGS", "DESCRIPTION"), *rows]))
    elif not invalid:
        error(f"{directory}: no scenario files (*.json)")
    return EXIT_INPUT if invalid else EXIT_OK


def one_line(description: str, width: int = DESCRIPTION_WIDTH) -> str:
    """A description's first line's first sentence, cut at a word to ``width``
    characters: a table row per scenario, the whole text one ``jq .description`` away."""
    lines = description.strip().splitlines()
    text = " ".join(lines[0].split()) if lines else ""
    sentence = text.split(". ", 1)[0].rstrip(".")
    if len(sentence) <= width:
        return sentence
    return sentence[: width - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def _schema(args: argparse.Namespace) -> int:
    from harness.scenario import json_schema

    write(json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return EXIT_OK


__all__ = ["DESCRIPTION_WIDTH", "add_commands", "one_line"]
