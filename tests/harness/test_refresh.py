"""``opx-harness refresh``: from "a prompt, model or agent changed" to a reviewed verdict.

The main proof runs what a user types, in processes of their own, on a copy of the
project whose prompt was edited: the gate names the prompt and the command, the
command refreshes, the gate passes again, ``author --check`` agrees. The rest runs
in this process: live answers re-asked from a local Bedrock Agent runtime
(:mod:`harness.serve`) that answers differently, the spend cap, ``--keep-answers``,
``--all`` for an alias change that alters no request, and a context change reported
as drift, not as stale recordings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import opx.agents.prompts
import opx.graph
from harness.gate import GateConfig, run_gate
from harness.refresh import RefreshConfig, plan, refresh
from harness.refresh import report as render
from harness.scenario import Scenario, load_scenario
from harness.serve import parse_overrides, serve

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sysconfig.get_path("scripts")) / "opx-harness"
RDS = "rds-failover"
THROTTLED = "agent-throttled-then-succeeds"
EDITED_AGENT = "signal-intelligence"
EDIT = "Prefer the most recent deploy as the first suspect."
#: Four agents answering "fail back" move rds-failover's top action off "restart".
FAILBACK = {
    "answer": {
        "hypothesis": "The standby is unhealthy; fail back to the original primary",
        "confidence": 0.9,
        "recommendations": [{"type": "failback", "description": "Fail back", "confidence": 0.9}],
    },
    "tokens": [1000, 200],
}
FAILBACK_AGENTS = ("signal-intelligence", "change-intelligence", "historical-pattern")


def _project(tmp_path: Path, names: tuple[str, ...], provenance: str | None = None) -> Path:
    """A project with ``names`` copied from the bundled corpus (their interactions
    marked ``provenance``, as if recorded from production, when given)."""
    for directory in ("scenarios", "snapshots"):
        (tmp_path / directory).mkdir(parents=True)
    shutil.copy(ROOT / "scenarios" / "secret-allowlist.toml", tmp_path / "scenarios")
    for name in names:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.json")
        if provenance is not None:
            interactions = [
                i.model_copy(update={"provenance": provenance}) for i in scenario.interactions
            ]
            scenario = scenario.model_copy(update={"interactions": interactions})
        (tmp_path / "scenarios" / f"{name}.json").write_text(scenario.to_json())
        shutil.copy(ROOT / "snapshots" / f"{name}.json", tmp_path / "snapshots")
    return tmp_path


def _config(project: Path, **overrides: Any) -> RefreshConfig:
    return RefreshConfig(
        scenarios=project / "scenarios", snapshots=project / "snapshots", **overrides
    )


def _scenario(project: Path, name: str) -> Scenario:
    return load_scenario(project / "scenarios" / f"{name}.json")


@pytest.fixture
def edited_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """signal-intelligence's prompt text edited, its version left at v1."""
    original = opx.agents.prompts.load_prompt

    def load(agent: str) -> str:
        text = original(agent)
        return (
            text.replace("## Role\n", f"## Role\n\n{EDIT}\n", 1) if agent == EDITED_AGENT else text
        )

    monkeypatch.setattr(opx.agents.prompts, "load_prompt", load)


@pytest.fixture
def local_runtime(monkeypatch: pytest.MonkeyPatch) -> Any:
    """rds-failover's answers served on 127.0.0.1, four agents now answering
    "fail back"; the environment points boto3 at it."""
    overrides = parse_overrides({a: FAILBACK for a in (*FAILBACK_AGENTS, "response-strategy")})
    with serve(load_scenario(ROOT / "scenarios" / f"{RDS}.json"), overrides=overrides) as runtime:
        for name, value in runtime.environment().items():
            monkeypatch.setenv(name, value)
        yield runtime


# --------------------------------------------------------------------------- the workflow


def _run(project: Path, src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(src)
    return subprocess.run(
        [str(SCRIPT), *args], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )


def test_a_prompt_edit_from_stale_to_refreshed_to_green_through_the_installed_command(
    tmp_path: Path,
) -> None:
    """Edit a prompt -> the gate names it and the command -> the command refreshes,
    scripted faults intact -> the gate exits 0 and ``author --check`` agrees."""
    src = tmp_path / "src"
    for package in ("opx", "harness"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    prompt = src / "opx" / "prompts" / f"{EDITED_AGENT}.v1.md"
    prompt.write_text(prompt.read_text().replace("## Role\n", f"## Role\n\n{EDIT}\n", 1))
    project = _project(tmp_path / "project", (THROTTLED, RDS))
    (project / "specs").mkdir()
    for name in (THROTTLED, RDS):
        shutil.copy(ROOT / "specs" / f"{name}.yaml", project / "specs")

    gate = _run(project, src, "gate")
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert f"the prompt of {EDITED_AGENT} changed" in gate.stdout
    assert (
        "2 scenario(s) have stale recordings: refresh them with `opx-harness refresh`"
        in gate.stdout
    )
    assert f"+{EDIT}" in gate.stdout

    refreshed = _run(project, src, "refresh", "--report", "impact.md", "--json", "impact.json")
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert "2 of 2 scenario(s) refreshed: 2 authored answers re-bound" in refreshed.stdout
    impact = json.loads((project / "impact.json").read_text())
    assert {s["name"]: s["status"] for s in impact["scenarios"]} == {
        THROTTLED: "renewed",
        RDS: "renewed",
    }
    assert all(s["behaviour"]["unchanged"] for s in impact["scenarios"])  # same scripted answers
    assert "## opx-harness refresh: impact report" in (project / "impact.md").read_text()
    throttled = _scenario(project, THROTTLED)
    faults = [i.faults for i in throttled.interactions if i.faults]
    assert faults and all(i.provenance == "authored" for i in throttled.interactions)
    sent = [i.request["inputText"] for i in throttled.interactions]
    assert any(EDIT in text["instructions"] for text in sent)

    assert _run(project, src, "gate").returncode == 0
    check = _run(project, src, "author", "--check", *(f"specs/{n}.yaml" for n in (THROTTLED, RDS)))
    assert check.returncode == 0, check.stdout + check.stderr


# --------------------------------------------------------------------------- live answers


def test_recorded_answers_are_asked_again_and_the_impact_report_shows_old_to_new(
    tmp_path: Path, edited_prompt: None, local_runtime: Any
) -> None:
    project = _project(tmp_path, (RDS,), provenance="recorded")
    result = refresh(_config(project, max_usd=Decimal("1.00")))
    assert result.exit_code == 0, [i.message for i in result.items]
    [item] = result.items
    assert (item.mode, item.status) == ("live", "renewed")
    assert item.change is not None and item.change.headline_changed
    assert item.change.cell("top action") == "restart -> failback"
    assert item.change.old["cost"] != item.change.new["cost"]
    renewed = _scenario(project, RDS)
    assert {i.provenance for i in renewed.interactions} == {"recorded"}
    # The local runtime was really asked: six agents, once each.
    assert sorted(s.agent for s in local_runtime.served) == sorted(
        {i.request["inputText"]["agent"] for i in renewed.interactions}
    )
    assert result.spent > 0
    text = render.text(result)
    assert "top action changed" in text and "restart -> failback" in text
    assert f"top action changed in 1: {RDS}" in text
    # Not approved: the gate now shows the drift, with the same roll-up.
    gate = run_gate(GateConfig(scenarios=project / "scenarios", snapshots=project / "snapshots"))
    assert gate.exit_code == 1
    outcome = gate.verdicts[0].outcomes["snapshot"]
    assert outcome.details["behaviour"]["changed"][:2] == ["top action", "agreement"] or (
        "top action" in outcome.details["behaviour"]["changed"]
    )


def test_all_refreshes_an_alias_change_that_alters_no_request(
    tmp_path: Path, local_runtime: Any
) -> None:
    """The alias now points at another agent version: nothing is stale, ``--all``
    asks again anyway, and ``--approve`` writes what it lists."""
    project = _project(tmp_path, (RDS,), provenance="recorded")
    assert refresh(_config(project)).items == []  # nothing stale without a request change
    result = refresh(_config(project, every=True, approve=True))
    assert result.exit_code == 0, [i.message for i in result.items]
    [item] = result.items
    assert item.reason == "--all" and item.approved == str(project / "snapshots" / f"{RDS}.json")
    snapshot = json.loads((project / "snapshots" / f"{RDS}.json").read_text())
    body = snapshot["responses"][0]["body"]
    assert body["consensus"]["recommendation"]["top_action"] == "failback"
    gate = run_gate(GateConfig(scenarios=project / "scenarios", snapshots=project / "snapshots"))
    assert gate.exit_code == 0


def test_keep_answers_rebinds_without_asking_and_says_so(
    tmp_path: Path, edited_prompt: None
) -> None:
    """No runtime is running: a live call would fail. The answers are kept."""
    project = _project(tmp_path, (RDS,), provenance="recorded")
    result = refresh(_config(project, keep_answers=True))
    assert result.exit_code == 0, [i.message for i in result.items]
    assert [(i.mode, i.status) for i in result.items] == [("keep", "renewed")]
    assert {i.provenance for i in _scenario(project, RDS).interactions} == {"kept"}
    assert "live answers kept, not re-asked" in render.text(result)
    assert result.spent == 0


def test_a_projected_spend_over_the_cap_refuses_before_any_call(
    tmp_path: Path, edited_prompt: None, local_runtime: Any
) -> None:
    project = _project(tmp_path, (RDS, THROTTLED), provenance="recorded")
    before = {p.name: p.read_text() for p in (project / "scenarios").glob("*.json")}
    result = refresh(_config(project, max_usd=Decimal("0.01")))
    assert result.exit_code == 3
    assert result.refused is not None and "above --max-usd 0.01" in result.refused
    assert result.projected > Decimal("0.01") and result.items == []
    assert local_runtime.served == []
    assert before == {p.name: p.read_text() for p in (project / "scenarios").glob("*.json")}


def test_the_cap_stops_a_refresh_whose_answers_cost_more_than_recorded(
    tmp_path: Path, edited_prompt: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Projected under the cap, but the runtime now bills 100k tokens a call: calls
    already admitted finish, none is admitted once the answers reach the cap (the
    response-strategy call at the latest), so the scenario is left as it was and the
    next one is not run."""
    expensive = {**FAILBACK, "tokens": [100_000, 5_000]}
    agents = ("signal-intelligence", "change-intelligence", "historical-pattern", "knowledge-rag")
    overrides = parse_overrides({a: expensive for a in (*agents, "risk-blast-radius")})
    project = _project(tmp_path, (RDS, "redelivered-event"), provenance="recorded")
    # A budget the executor's own guardian will not stop at: the cap must do it.
    path = project / "scenarios" / f"{RDS}.json"
    data = json.loads(path.read_text())
    data["events"][0]["detail"]["budget_usd"] = "100.00"
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    before = {p.name: p.read_text() for p in (project / "scenarios").glob("*.json")}
    with serve(load_scenario(ROOT / "scenarios" / f"{RDS}.json"), overrides=overrides) as runtime:
        for name, value in runtime.environment().items():
            monkeypatch.setenv(name, value)
        result = refresh(_config(project, max_usd=Decimal("0.30")))
        served = [s.agent for s in runtime.served]
    assert result.projected < Decimal("0.30") < result.spent
    assert result.exit_code == 3
    assert {i.name: i.status for i in result.items} == {
        RDS: "failed",
        "redelivered-event": "not run",
    }
    failed = result.items[0]
    # How many parallel calls got in before the first expensive answer came back is
    # the scheduler's business; that nothing got in after the cap is not.
    assert "response-strategy" not in served and 1 <= len(served) <= 5
    assert "spend cap of 0.30 USD is reached" in failed.message
    assert before == {p.name: p.read_text() for p in (project / "scenarios").glob("*.json")}


# --------------------------------------------------------------------------- context drift


def test_a_change_in_what_agents_are_shown_is_drift_with_the_context_diff_not_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An executor change upstream of the agents (the incident context gains a field):
    the gate reports behaviour drift and the context diff, and no prompt."""
    original = opx.graph.incident_context

    def with_region(incident: Any) -> Any:
        return {**original(incident), "region_hint": "us-east-1"}

    monkeypatch.setattr(opx.graph, "incident_context", with_region)
    project = _project(tmp_path, (RDS,))
    gate = run_gate(GateConfig(scenarios=project / "scenarios", snapshots=project / "snapshots"))
    outcome = gate.verdicts[0].outcomes["snapshot"]
    assert (gate.exit_code, str(outcome.status)) == (1, "drift")
    assert outcome.summary.startswith("behaviour drift: what ")
    assert '+  "region_hint": "us-east-1"' in outcome.detail
    assert "prompt" not in outcome.summary and gate.stale == []


def test_all_leaves_out_scenarios_without_bedrock_answers(tmp_path: Path) -> None:
    """An action-group scenario has nothing a prompt, model or agent change could make
    stale: ``--all`` plans the executor scenario only."""
    project = _project(tmp_path, (RDS, "ag-history-lookup"))
    planned = plan(project / "scenarios", every=True)
    assert [(p.name, p.mode, p.reason) for p in planned] == [(RDS, "rebind", "--all")]
