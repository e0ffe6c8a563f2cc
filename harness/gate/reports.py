"""What the gate found, for people and for tools: a terminal table, JUnit XML, a
Markdown summary (``$GITHUB_STEP_SUMMARY``) and a JSON report.

Pure functions of a :class:`~harness.verdict.GateResult`: every cell, count and
diff in a report is something a check returned, so the reviewer reads the same
verdict whichever format their tool shows, without rerunning anything.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.gate.mismatch import refresh_command
from harness.gate.verdict import (
    CHECK_NAMES,
    GateResult,
    Orphan,
    Outcome,
    Status,
    Verdict,
)
from harness.impact import BehaviourChange, Row, markdown_table, no_result, rows_of, text_table

JSON_SCHEMA = "opx-harness/gate-report/1"
#: Failure details a Markdown summary shows in full (GitHub caps a step summary at 1 MiB).
MARKDOWN_DETAILS = 20
_EMOJI = {
    Status.PASSED: "✅",
    Status.DRIFT: "❌",
    Status.STALE: "🔄",
    Status.NONDETERMINISTIC: "⚠️",
    Status.ERROR: "⛔",
    Status.MISSING: "⛔",
    Status.UPDATED: "📝",
    Status.CREATED: "📝",
    Status.DELETED: "🗑️",
    Status.SKIPPED: "⏭️",
    Status.NOT_RUN: "·",
}
_VERDICT_EMOJI = {0: "✅", 1: "❌", 2: "⚠️", 3: "⛔"}


def checks_of(result: GateResult) -> list[str]:
    """The selected checks, in table order."""
    return [c for c in CHECK_NAMES if c in result.config.checks]


def failures(result: GateResult) -> Iterator[tuple[str, str, Outcome]]:
    """``(scenario, check, outcome)`` for every failed cell and orphan, in table order."""
    for verdict in result.verdicts:
        for check in checks_of(result):
            outcome = verdict.outcomes.get(check)
            if outcome is not None and outcome.failed:
                yield verdict.name, check, outcome
    for orphan in result.orphans:
        if orphan.outcome.failed:
            yield orphan.name, "snapshot", orphan.outcome


def rollup(result: GateResult) -> list[Row]:
    """The behaviour roll-up of every scenario whose snapshot check did not pass:
    drift with its behaviour old -> new, or why there is no new result (stale)."""
    rows: list[Row] = []
    changes: list[BehaviourChange] = []
    for verdict in result.verdicts:
        snapshot = verdict.outcomes.get("snapshot")
        if snapshot is None or not snapshot.failed:
            continue
        data = snapshot.details.get("behaviour")
        if isinstance(data, dict):
            changes.append(
                BehaviourChange(data["scenario"], data["old"], data["new"], data["changed"])
            )
        elif snapshot.status is Status.STALE:
            rows.append(no_result(verdict.name, "stale: refresh"))
        elif snapshot.status is Status.DRIFT:
            rows.append(no_result(verdict.name, "agents shown another context: refresh"))
        else:
            rows.append(no_result(verdict.name, f"{snapshot.status}: not replayed"))
    return rows_of(changes) + rows


def refresh_hint(result: GateResult) -> str | None:
    """The one command that refreshes every stale scenario, when any is stale."""
    if not result.stale:
        return None
    first = next(v for v in result.verdicts if v.name in result.stale)
    command = refresh_command(None, Path(first.scenario_path), Path(first.snapshot_path))
    return f"{len(result.stale)} scenario(s) have stale recordings: refresh them with `{command}`"


def headline(result: GateResult) -> str:
    """One line: the verdict, what was judged and the exit code."""
    counts = ", ".join(f"{n} {status}" for status, n in result.counts().items()) or "nothing"
    code = result.exit_code
    stopped = (
        f", {result.not_judged} not judged (--fail-fast stopped at the first failure)"
        if result.not_judged
        else ""
    )
    return (
        f"gate: {len(result.verdicts)} of {result.total_scenarios} scenarios "
        f"(shard {result.config.shard}), checks {','.join(checks_of(result))}: {counts}"
        f"{stopped} in {result.seconds:.1f}s -> exit {code} ({result.verdict_words})"
    )


# --------------------------------------------------------------------------- terminal


def text(result: GateResult) -> str:
    """The final table of scenario x check, every failure's report, the headline."""
    checks = checks_of(result)
    rows = [("SCENARIO", *(c.upper() for c in checks), "TIME")]
    for verdict in result.verdicts:
        cells = [_cell(verdict.outcomes.get(c)) for c in checks]
        rows.append((verdict.name, *cells, f"{verdict.seconds:.2f}s"))
    for orphan in result.orphans:
        rows.append((orphan.name, *(_orphan_cells(orphan, checks)), "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    behaviour = rollup(result)
    if behaviour:
        lines += ["", "BEHAVIOUR (approved -> this replay)", *text_table(behaviour)]
    found = list(failures(result))
    if found:
        lines += ["", f"FAILURES ({len(found)})"]
        for name, check, outcome in found:
            lines += ["", f"== {name} · {check}: {outcome.status}", outcome.summary]
            if outcome.detail:
                lines.append(outcome.detail)
    if result.changed:
        lines += ["", "snapshots changed by --update:", *(f"  {path}" for path in result.changed)]
    hint = refresh_hint(result)
    lines += ["", *([hint] if hint else []), headline(result)]
    return "\n".join(lines) + "\n"


def _cell(outcome: Outcome | None) -> str:
    return "-" if outcome is None or outcome.status is Status.NOT_RUN else str(outcome.status)


def _orphan_cells(orphan: Orphan, checks: list[str]) -> list[str]:
    word = "deleted" if orphan.deleted else "orphaned"
    return [word if c == "snapshot" else "-" for c in checks]


# --------------------------------------------------------------------------- Markdown


def markdown(result: GateResult) -> str:
    """A GitHub-flavoured summary: verdict, the table, the first failures in full."""
    code = result.exit_code
    checks = checks_of(result)
    config = result.config
    lines = [
        f"## {_VERDICT_EMOJI[code]} opx-harness gate: {result.verdict_words} (exit {code})",
        "",
        f"{len(result.verdicts)} of {result.total_scenarios} scenarios (shard {config.shard}) · "
        f"checks: {', '.join(checks)} · repeat: {config.repeat} replays · "
        f"jobs: {config.jobs} · {result.seconds:.1f} s"
        + (f" · {result.not_judged} not judged (--fail-fast)" if result.not_judged else ""),
        "",
        "| scenario | " + " | ".join(checks) + " |",
        "|---|" + "---|" * len(checks),
    ]
    for verdict in result.verdicts:
        cells = [_md_cell(verdict.outcomes.get(c)) for c in checks]
        lines.append(f"| `{verdict.name}` | " + " | ".join(cells) + " |")
    for orphan in result.orphans:
        cells = [_md_cell(orphan.outcome) if c == "snapshot" else "" for c in checks]
        lines.append(f"| `{orphan.name}` (orphaned snapshot) | " + " | ".join(cells) + " |")
    behaviour = rollup(result)
    if behaviour:
        lines[4:4] = ["### Behaviour (approved → this replay)", "", *markdown_table(behaviour), ""]
    hint = refresh_hint(result)
    if hint:
        lines[2:2] = [_md_escape(hint), ""]
    found = list(failures(result))
    if found:
        lines += ["", f"### Failures ({len(found)})", ""]
        for name, check, outcome in found[:MARKDOWN_DETAILS]:
            lines += [
                f"<details><summary><code>{name}</code> · {check}: {outcome.status}</summary>",
                "",
                _md_escape(outcome.summary),
            ]
            if outcome.detail:
                lines += ["", "```diff", outcome.detail.replace("```", "` ` `"), "```"]
            lines += ["", "</details>", ""]
        if len(found) > MARKDOWN_DETAILS:
            lines.append(
                f"... and {len(found) - MARKDOWN_DETAILS} more failures: see the JSON or JUnit "
                "report."
            )
    if result.changed:
        lines += ["", "### Snapshots changed by `--update`", ""]
        lines += [f"- `{path}`" for path in result.changed]
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(outcome: Outcome | None) -> str:
    if outcome is None or outcome.status is Status.NOT_RUN:
        return "·"
    return f"{_EMOJI[outcome.status]} {outcome.status}"


def _md_escape(line: str) -> str:
    return line.replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- JUnit


def junit(result: GateResult) -> str:
    """JUnit XML: one test case per scenario and check (class ``opx-harness.<check>``),
    one per orphaned snapshot; drift and nondeterminism are failures, unjudged cases
    errors, as CI test-report viewers expect."""
    cases: list[tuple[str, str, Outcome]] = [
        (verdict.name, check, verdict.outcomes[check])
        for verdict in result.verdicts
        for check in checks_of(result)
        if check in verdict.outcomes
    ]
    cases += [(f"{o.name} (orphaned snapshot)", "snapshot", o.outcome) for o in result.orphans]
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    suite = ET.Element("testsuite", name="opx-harness gate")
    for name, check, outcome in cases:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"opx-harness.{check}",
            name=name,
            time=f"{outcome.seconds:.3f}",
        )
        tag = _junit_tag(outcome.status)
        if tag is None:
            continue
        totals[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
        element = ET.SubElement(case, tag, message=outcome.summary, type=str(outcome.status))
        if outcome.detail:
            element.text = outcome.detail
    suite.set("tests", str(len(cases)))
    for key, value in totals.items():
        suite.set(key, str(value))
    suite.set("time", f"{result.seconds:.3f}")
    root = ET.Element("testsuites", name="opx-harness gate", tests=str(len(cases)))
    for key in ("failures", "errors", "skipped", "time"):
        root.set(key, suite.get(key, ""))
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _junit_tag(status: Status) -> str | None:
    if status in (Status.DRIFT, Status.STALE, Status.NONDETERMINISTIC):
        return "failure"
    if status in (Status.ERROR, Status.MISSING):
        return "error"
    if status in (Status.SKIPPED, Status.NOT_RUN):
        return "skipped"
    return None


# --------------------------------------------------------------------------- JSON


def to_json(result: GateResult) -> str:
    """Everything above, for tools: sorted keys, one scenario per entry."""
    config = result.config
    code = result.exit_code
    data: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "exit_code": code,
        "verdict": result.verdict_words,
        "config": {
            "scenarios": str(config.scenarios),
            "snapshots": str(config.snapshots),
            "checks": checks_of(result),
            "repeat": config.repeat,
            "jobs": config.jobs,
            "shard": str(config.shard),
            "update": config.update,
            "fail_fast": config.fail_fast,
        },
        "total_scenarios": result.total_scenarios,
        "judged": len(result.verdicts),
        "not_judged": result.not_judged,
        "seconds": round(result.seconds, 3),
        "counts": result.counts(),
        "scenarios": [_verdict_json(v, checks_of(result)) for v in result.verdicts],
        "orphans": [
            {"name": o.name, "path": o.path, **_outcome_json(o.outcome)} for o in result.orphans
        ],
        "changed": result.changed,
        "behaviour": [dataclasses.asdict(row) for row in rollup(result)],
        "stale": result.stale,
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _verdict_json(verdict: Verdict, checks: list[str]) -> dict[str, Any]:
    return {
        "name": verdict.name,
        "scenario": verdict.scenario_path,
        "snapshot": verdict.snapshot_path,
        "seconds": round(verdict.seconds, 3),
        "exit_code": verdict.exit_code,
        "checks": {c: _outcome_json(verdict.outcomes[c]) for c in checks if c in verdict.outcomes},
    }


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": str(outcome.status),
        "summary": outcome.summary,
        "detail": outcome.detail,
        "path": outcome.path,
        "seconds": round(outcome.seconds, 3),
        **({"details": outcome.details} if outcome.details else {}),
    }


__all__ = [
    "JSON_SCHEMA",
    "checks_of",
    "failures",
    "headline",
    "junit",
    "markdown",
    "refresh_hint",
    "rollup",
    "text",
    "to_json",
]
