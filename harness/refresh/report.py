"""The impact report of a refresh: what the change does, scenario by scenario and in
total -- top action changes first -- for the terminal, the pull request (Markdown,
``$GITHUB_STEP_SUMMARY``) and tools (JSON)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from harness.impact import Row, markdown_table, no_result, rows_of, text_table
from harness.refresh.run import RefreshResult, Renewed

JSON_SCHEMA = "opx-harness/impact-report/1"
#: How each mode's answers are described to a reviewer.
ANSWERS = {
    "rebind": "authored answers re-bound",
    "keep": "live answers kept, not re-asked",
    "live": "re-asked live",
}


def rows(result: RefreshResult) -> list[Row]:
    renewed = [i for i in result.items if i.status == "renewed" and i.change is not None]
    others = [
        no_result(i.name, "new (no approved snapshot)" if i.status == "renewed" else i.status)
        for i in result.items
        if i not in renewed
    ]
    return rows_of([i.change for i in renewed if i.change is not None]) + others


def totals(result: RefreshResult) -> list[str]:
    modes = {mode: sum(1 for i in result.items if i.mode == mode) for mode in ANSWERS}
    renewed = [i for i in result.items if i.status == "renewed"]
    changed = [i for i in renewed if i.change is not None and i.change.headline_changed]
    lines = [
        f"{len(renewed)} of {len(result.items)} scenario(s) refreshed: "
        + ", ".join(f"{n} {ANSWERS[m]}" for m, n in modes.items() if n),
        f"top action changed in {len(changed)}: {', '.join(i.name for i in changed) or 'none'}",
        f"live spend: {result.spent} USD (projected {result.projected}, cap "
        f"{result.config.max_usd})",
    ]
    if result.refused:
        lines.append(f"refused: {result.refused}")
    return lines


def next_step(result: RefreshResult) -> str:
    approved = [i.approved for i in result.items if i.approved]
    if approved:
        return "approved snapshots: " + ", ".join(approved)
    if any(i.status == "renewed" for i in result.items):
        return (
            "review, then approve: `opx-harness gate --update` (or `opx-harness refresh "
            "--approve`) re-approves exactly the snapshots listed above"
        )
    return "nothing was written"


def failures(result: RefreshResult) -> list[Renewed]:
    return [i for i in result.items if i.status != "renewed"]


def text(result: RefreshResult) -> str:
    lines = ["IMPACT (approved -> refreshed)", *text_table(rows(result)), "", *totals(result)]
    for item in failures(result):
        lines += ["", f"== {item.name}: {item.status}", item.message]
    lines += ["", next_step(result)]
    return "\n".join(lines) + "\n"


def markdown(result: RefreshResult) -> str:
    lines = [
        "## opx-harness refresh: impact report",
        "",
        *(f"- {line}" for line in totals(result)),
        "",
        *markdown_table(rows(result)),
    ]
    for item in failures(result):
        lines += ["", f"<details><summary><code>{item.name}</code>: {item.status}</summary>"]
        lines += ["", "```", item.message.replace("```", "` ` `"), "```", "", "</details>"]
    lines += ["", next_step(result)]
    return "\n".join(lines) + "\n"


def to_json(result: RefreshResult) -> str:
    data: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "exit_code": result.exit_code,
        "projected_usd": str(result.projected),
        "spent_usd": str(result.spent),
        "max_usd": str(result.config.max_usd),
        "refused": result.refused,
        "scenarios": [
            {
                "name": item.name,
                "mode": str(item.mode),
                "answers": ANSWERS[str(item.mode)],
                "reason": item.reason,
                "status": item.status,
                "message": item.message,
                "spent_usd": str(item.spent),
                "approved": item.approved,
                "behaviour": item.change.to_json() if item.change else None,
            }
            for item in result.items
        ],
        "rows": [dataclasses.asdict(row) for row in rows(result)],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


__all__ = ["ANSWERS", "JSON_SCHEMA", "markdown", "next_step", "rows", "text", "to_json", "totals"]
