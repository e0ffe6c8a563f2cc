"""The behaviour roll-up as a table: for the terminal, Markdown and JSON.

One table, the same in the gate's reports and in the refresh command's impact
report: scenario by scenario -- top action changes first -- the status, top action,
agreement, aggregated confidence and cost, each ``old -> new`` where it moved, and
``unchanged`` said in words where nothing a reviewer reads first moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.impact.behaviour import BehaviourChange, first_by_impact

#: Columns of the roll-up, after the scenario and its verdict.
COLUMNS = ("status", "top action", "agreement", "confidence", "cost")


@dataclass(frozen=True)
class Row:
    scenario: str
    #: ``top action changed``, ``changed``, ``unchanged`` -- or why there is no new result.
    verdict: str
    cells: tuple[str, ...]
    #: Per-agent cost cells that moved, ``agent old -> new``.
    agents: tuple[str, ...] = ()


def verdict_of(change: BehaviourChange) -> str:
    if change.headline_changed:
        return "top action changed"
    return "changed" if change.changed else "unchanged"


def rows_of(changes: Sequence[BehaviourChange]) -> list[Row]:
    return [
        Row(
            change.scenario,
            verdict_of(change),
            tuple(change.cell(column) for column in COLUMNS),
            tuple(
                f"{name.removeprefix('cost ')} {change.cell(name)}"
                for name in change.changed
                if name.startswith("cost ")
            ),
        )
        for change in first_by_impact(list(changes))
    ]


def no_result(scenario: str, why: str) -> Row:
    """A row for a scenario with nothing new to compare (stale, refused, failed)."""
    return Row(scenario, why, tuple("-" for _ in COLUMNS))


def text_table(rows: Sequence[Row]) -> list[str]:
    header = ("SCENARIO", "BEHAVIOUR", *(c.upper() for c in COLUMNS))
    table = [header, *((r.scenario, r.verdict, *r.cells) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    for row in rows:
        if row.agents:
            lines.append(f"  {row.scenario} per-agent cost: " + "; ".join(row.agents))
    return lines


def markdown_table(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| scenario | behaviour | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        mark = "**" if row.verdict == "top action changed" else ""
        cells = " | ".join(c.replace("->", "→") for c in row.cells)
        lines.append(f"| `{row.scenario}` | {mark}{row.verdict}{mark} | {cells} |")
    agents = [f"- `{r.scenario}` per-agent cost: " + "; ".join(r.agents) for r in rows if r.agents]
    return lines + (["", *agents] if agents else [])


__all__ = ["COLUMNS", "Row", "markdown_table", "no_result", "rows_of", "text_table", "verdict_of"]
