"""``opx-harness gate``, in this process: exit codes, the table, the three reports,
``--update`` and ``--jobs``, on a throwaway project of authored scenarios.

Every expected value here comes from a replay (the ``approved`` snapshots) or from
the edit the test itself makes; the reports are parsed, not compared with text.
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import harness.gate.run
import harness.replayer
import opx.graph
from harness import canonical, cli
from harness.gate.verdict import EXIT_INTERNAL, EXIT_UNJUDGED
from harness.replayer import replay
from harness.scenario import Scenario
from harness.wire import agent_of
from tests.harness.conftest import AGREED, PROMPT_EDITED_AGENT, THROTTLED
from tests.harness.gate_support import Project, Run, gate, make_project, table

#: A third scenario: the agreed run under another name (so its result differs by name).
COPY = "rollback-agreed-copy"


@pytest.fixture(scope="module")
def corpus(authored: dict[str, Scenario], approved: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``name -> (scenario file, approved snapshot)`` for three scenarios."""
    copy = authored[AGREED].model_copy(update={"name": COPY})
    files = {name: (authored[name].to_json(), approved[name]) for name in (AGREED, THROTTLED)}
    files[COPY] = (copy.to_json(), replay(copy).to_canonical_json())
    return files


@pytest.fixture
def project(tmp_path: Path, corpus: dict[str, tuple[str, str]]) -> Project:
    return make_project(
        tmp_path,
        {name: scenario for name, (scenario, _) in corpus.items()},
        {name: snapshot for name, (_, snapshot) in corpus.items()},
    )


def _edit_snapshot(project: Project, name: str) -> str:
    """Change one value the replay produces; returns the edited JSON path."""
    path = project.snapshot(name)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["responses"][0]["body"]["status"] = "EDITED"
    path.write_text(canonical.pretty(data), encoding="utf-8")
    return "$.responses[0].body.status"


def _plant_random_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """A careless change: the consensus node stamps a fresh random id on every run."""
    original = opx.graph.compute_consensus

    def stamped(hypotheses: dict[str, Any], strategy: Any) -> dict[str, Any]:
        return {**original(hypotheses, strategy), "trace_id": uuid.uuid4().hex}

    monkeypatch.setattr(opx.graph, "compute_consensus", stamped)


def _statuses(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        s["name"]: {check: o["status"] for check, o in s["checks"].items()}
        for s in report["scenarios"]
    }


def _failure_section(run: Run, name: str, check: str) -> list[str]:
    """The lines the terminal report prints for one failed cell."""
    blocks = run.out.split("\n== ")
    block = next(b for b in blocks if b.startswith(f"{name} · {check}: "))
    return block.split("\n\n")[0].splitlines()


# --------------------------------------------------------------------------- pass


def test_all_pass_exit_0_with_the_table_and_three_reports(
    project: Project, capsys: pytest.CaptureFixture[str], corpus: dict[str, Any]
) -> None:
    run = gate(capsys, project.args())
    assert run.code == 0, run.out + run.err
    rows = table(run.out)
    assert sorted(rows) == sorted(corpus)
    assert all(cells[:2] == ["pass", "pass"] for cells in rows.values()), rows
    assert run.out.rstrip().splitlines()[-1].endswith("-> exit 0 (same behaviour)")
    # Not a terminal: one plain progress line per scenario on stderr.
    progress = [line for line in run.err.splitlines() if line.startswith("[")]
    assert len(progress) == len(corpus)
    assert progress[-1].startswith(f"[{len(corpus)}/{len(corpus)}] ")

    report = project.report()
    assert report["schema"] == "opx-harness/gate-report/1"
    assert (report["exit_code"], report["verdict"]) == (0, "same behaviour")
    assert report["config"]["checks"] == ["snapshot", "repeat"]
    assert report["config"]["repeat"] == 2
    assert report["judged"] == report["total_scenarios"] == len(corpus)
    assert _statuses(report) == {name: {"snapshot": "pass", "repeat": "pass"} for name in corpus}
    assert report["counts"] == {"pass": 2 * len(corpus)}
    assert report["orphans"] == [] and report["changed"] == []
    repeat = report["scenarios"][0]["checks"]["repeat"]
    assert "2 replays" in repeat["summary"] and repeat["seconds"] > 0

    suite = ET.fromstring(project.junit())
    cases = suite.findall(".//testcase")
    assert {(c.get("classname"), c.get("name")) for c in cases} == {
        (f"opx-harness.{check}", name) for name in corpus for check in ("snapshot", "repeat")
    }
    assert suite.get("tests") == str(2 * len(corpus))
    assert suite.get("failures") == suite.get("errors") == "0"
    assert not suite.findall(".//failure") and not suite.findall(".//error")

    markdown = project.markdown()
    assert markdown.startswith("## ✅ opx-harness gate: same behaviour (exit 0)")
    assert "| scenario | snapshot | repeat |" in markdown
    for name in corpus:
        assert f"| `{name}` | ✅ pass | ✅ pass |" in markdown


# --------------------------------------------------------------------------- drift


def test_an_edited_snapshot_value_is_drift_exit_1_with_the_diff(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _edit_snapshot(project, THROTTLED)
    run = gate(capsys, project.args())
    assert run.code == 1, run.out + run.err
    assert table(run.out)[THROTTLED][:2] == ["drift", "pass"]
    assert table(run.out)[AGREED][:2] == ["pass", "pass"]
    section = _failure_section(run, THROTTLED, "snapshot")
    assert f"first at {path}" in section[1]
    assert f"  responses: first difference at {path}" in section
    assert f"--- approved snapshot {project.snapshot(THROTTLED)}" in section
    assert '-        "status": "EDITED"' in section
    assert '+        "status": "SUCCEEDED"' in section

    report = project.report()
    assert report["exit_code"] == 1 and report["verdict"] == "behaviour drift"
    drift = next(s for s in report["scenarios"] if s["name"] == THROTTLED)["checks"]["snapshot"]
    assert (drift["status"], drift["path"]) == ("drift", path)
    assert '+        "status": "SUCCEEDED"' in drift["detail"]

    failures = ET.fromstring(project.junit()).findall(".//testcase/failure")
    assert [f.get("type") for f in failures] == ["drift"]
    assert path in (failures[0].get("message") or "")
    assert '"status": "EDITED"' in (failures[0].text or "")
    markdown = project.markdown()
    assert markdown.startswith("## ❌ opx-harness gate: behaviour drift (exit 1)")
    assert f"| `{THROTTLED}` | ❌ drift | ✅ pass |" in markdown
    assert f"<summary><code>{THROTTLED}</code> · snapshot: drift</summary>" in markdown


def test_update_re_approves_and_lists_only_what_changed(
    project: Project, capsys: pytest.CaptureFixture[str], corpus: dict[str, tuple[str, str]]
) -> None:
    _edit_snapshot(project, THROTTLED)
    untouched = project.snapshot(AGREED).stat().st_mtime_ns
    run = gate(capsys, project.args("--update"))
    assert run.code == 0, run.out
    assert table(run.out)[THROTTLED][:2] == ["updated", "pass"]
    assert run.out.split("snapshots changed by --update:\n")[1].split("\n\n")[0] == (
        f"  {project.snapshot(THROTTLED)}"
    )
    assert project.snapshot(THROTTLED).read_text(encoding="utf-8") == corpus[THROTTLED][1]
    assert project.snapshot(AGREED).stat().st_mtime_ns == untouched
    assert project.report()["changed"] == [str(project.snapshot(THROTTLED))]

    again = gate(capsys, project.args("--update"))
    assert again.code == 0
    assert "snapshots changed" not in again.out
    assert project.report()["changed"] == []


# --------------------------------------------------------------------------- nondeterminism


def test_nondeterminism_exits_2_and_update_never_hides_it(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {p.name: p.read_bytes() for p in project.snapshots.iterdir()}
    _plant_random_id(monkeypatch)
    run = gate(capsys, project.args("--update"))
    assert run.code == 2, run.out
    # Nothing was approved: a result a second run does not reproduce is no baseline.
    assert {p.name: p.read_bytes() for p in project.snapshots.iterdir()} == before
    for name, cells in table(run.out).items():
        assert cells[:2] == ["drift", "nondeterministic"], name
    section = _failure_section(run, AGREED, "repeat")
    assert "replay #2 of 2 in one process differs from replay #1" in section[1]
    assert "written by consensus" in section[1]
    divergent = next(line for line in section if line.startswith("first divergent checkpoint"))
    assert divergent.endswith("written by consensus; channels: consensus)")
    assert "not re-approved: repeat failed" in _failure_section(run, AGREED, "snapshot")[1]
    report = project.report()
    assert (report["exit_code"], report["verdict"], report["changed"]) == (2, "nondeterminism", [])
    repeat = report["scenarios"][0]["checks"]["repeat"]
    assert repeat["path"] == "$.responses[0].body.consensus.trace_id"
    assert {f.get("type") for f in ET.fromstring(project.junit()).iter("failure")} == {
        "drift",
        "nondeterministic",
    }


# --------------------------------------------------------------------------- could not judge


def test_a_corrupt_scenario_exits_3_with_a_one_line_reason(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = project.scenarios / f"{AGREED}.json"
    broken.write_text('{"name": ', encoding="utf-8")
    run = gate(capsys, project.args())
    assert run.code == EXIT_UNJUDGED, run.out
    assert table(run.out)[AGREED][:2] == ["error", "-"]
    assert table(run.out)[THROTTLED][:2] == ["pass", "pass"]
    reason = f"invalid scenario: {broken}:1:10: invalid JSON (Expecting value)"
    assert _failure_section(run, AGREED, "snapshot") == [f"{AGREED} · snapshot: error", reason]
    checks = next(s for s in project.report()["scenarios"] if s["name"] == AGREED)["checks"]
    assert checks["snapshot"] == {
        "status": "error",
        "summary": reason,
        "detail": "",
        "path": None,
        "seconds": 0.0,
    }
    assert checks["repeat"]["status"] == "not-run"
    errors = ET.fromstring(project.junit()).findall(".//testcase/error")
    assert [(e.get("type"), e.get("message")) for e in errors] == [("error", reason)]


def test_an_edited_prompt_is_stale_exit_1_naming_the_prompt_and_the_refresh_command(
    project: Project, capsys: pytest.CaptureFixture[str], edited_prompt: Scenario
) -> None:
    """The recording was made with another prompt than the executor sends: the gate
    names the prompt, says its version did not change, and prints the refresh."""
    (project.scenarios / f"{AGREED}.json").write_text(edited_prompt.to_json(), encoding="utf-8")
    run = gate(capsys, project.args())
    assert run.code == 1, run.out
    assert table(run.out)[AGREED][:2] == ["stale", "-"]
    section = _failure_section(run, AGREED, "snapshot")
    assert section[1].startswith(
        f"recordings stale: the prompt of {PROMPT_EDITED_AGENT} changed: its prompt text "
        "changed while prompt_version stayed v1"
    )
    command = f"opx-harness refresh --scenarios {project.scenarios} --snapshots "
    command += f"{project.snapshots} --only {AGREED}"
    assert section[1].endswith(f"`{command}`")
    assert "-An extra line from an older prompt." in run.out.splitlines()
    assert "stale recordings: refresh, then review" in run.out.splitlines()[-1]
    report = project.report()
    assert report["stale"] == [AGREED]
    # Nothing to approve without a replay: the approved snapshot is never touched.
    assert gate(capsys, project.args("--update")).code == 1
    assert project.snapshot(AGREED).exists()


def test_an_unrecorded_call_nothing_explains_exits_3_with_the_closest_recording(
    project: Project, capsys: pytest.CaptureFixture[str], authored: dict[str, Scenario]
) -> None:
    """An agent with no recording at all is not a prompt change: could not judge."""
    scenario = authored[AGREED]
    kept = [i for i in scenario.interactions if agent_of(i.request) != PROMPT_EDITED_AGENT]
    broken = scenario.model_copy(update={"interactions": kept})
    (project.scenarios / f"{AGREED}.json").write_text(broken.to_json(), encoding="utf-8")
    run = gate(capsys, project.args())
    assert run.code == EXIT_UNJUDGED
    section = _failure_section(run, AGREED, "snapshot")
    assert section[1].startswith(f"unrecorded call: scenario {AGREED}: unmatched ")
    assert section[2:4] == ["--- recorded (closest)", "+++ sent"]
    assert gate(capsys, project.args("--update")).code == EXIT_UNJUDGED
    assert project.snapshot(AGREED).exists()


def test_a_replay_that_crashes_is_unjudged_exit_3_in_one_line(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(scenario: Scenario, **_: Any) -> None:
        raise RuntimeError("moto\nexploded")

    monkeypatch.setattr(harness.replayer, "replay", broken)
    run = gate(capsys, project.args())
    assert run.code == EXIT_UNJUDGED
    assert _failure_section(run, AGREED, "snapshot")[1:] == [
        "the replay raised RuntimeError: moto exploded"
    ]


def test_missing_and_orphaned_snapshots_exit_3_until_update_fixes_both(
    project: Project, capsys: pytest.CaptureFixture[str], corpus: dict[str, tuple[str, str]]
) -> None:
    project.snapshot(COPY).unlink()
    orphan = project.snapshot("retired-scenario")
    orphan.write_text(corpus[AGREED][1], encoding="utf-8")
    run = gate(capsys, project.args())
    assert run.code == EXIT_UNJUDGED
    rows = table(run.out)
    assert rows[COPY][:2] == ["missing", "pass"]
    assert rows["retired-scenario"][:1] == ["orphaned"]
    report = project.report()
    assert [(o["name"], o["status"]) for o in report["orphans"]] == [("retired-scenario", "error")]
    assert "orphaned snapshot" in report["orphans"][0]["summary"]
    names = {c.get("name") for c in ET.fromstring(project.junit()).iter("testcase")}
    assert "retired-scenario (orphaned snapshot)" in names

    fixed = gate(capsys, project.args("--update"))
    assert fixed.code == 0, fixed.out
    assert table(fixed.out)[COPY][:1] == ["created"]
    assert not orphan.exists()
    assert project.snapshot(COPY).read_text(encoding="utf-8") == corpus[COPY][1]
    assert project.report()["changed"] == sorted([str(orphan), str(project.snapshot(COPY))])
    assert gate(capsys, project.args()).code == 0


def test_update_keeps_orphans_that_outnumber_the_scenarios(
    project: Project, capsys: pytest.CaptureFixture[str], corpus: dict[str, tuple[str, str]]
) -> None:
    """``--scenarios`` naming a few scenarios against the whole corpus's snapshots made
    every other snapshot an "orphan", and ``--update`` deleted them all: now it keeps
    them, says why, and exits 3 -- nothing is lost."""
    retired = [project.snapshot(f"retired-{n}") for n in range(len(corpus) + 1)]
    for path in retired:
        path.write_text(corpus[AGREED][1], encoding="utf-8")
    run = gate(capsys, project.args("--update"))
    assert run.code == EXIT_UNJUDGED, run.out
    assert all(path.exists() for path in retired)
    summaries = [o["summary"] for o in project.report()["orphans"]]
    assert len(summaries) == len(retired)
    assert all(
        f"kept: --update would delete {len(retired)} of the {len(retired) + len(corpus)}" in s
        for s in summaries
    ), summaries
    assert "a --snapshots directory of its own" in run.out
    # One orphan fewer than there are scenarios: retiring them is ordinary, and deletes.
    for path in retired[len(corpus) - 1 :]:
        path.unlink()
    fixed = gate(capsys, project.args("--update"))
    assert fixed.code == 0, fixed.out
    assert not any(path.exists() for path in retired)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--shard", "5/4"], "--shard '5/4': shard 5/4: need 1 <= I <= N"),
        (["--shard", "two"], "--shard 'two': expected I/N, e.g. 1/4"),
        (["--checks", "snapshot,speed"], "--checks: unknown check speed; choose from "),
        (["--repeat", "1"], "--repeat 1: the repeat check compares >= 2 replays"),
        (["--jobs", "many"], "--jobs 'many': expected a number or 'auto'"),
        (["--checks", "repeat", "--update"], "--update re-approves snapshots: include the"),
        (["--update", "--fail-fast"], "--update with --fail-fast would re-approve only up to"),
    ],
)
def test_invalid_options_exit_3_with_one_line(
    project: Project, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    run = gate(capsys, project.args(*options))
    assert run.code == EXIT_UNJUDGED
    assert run.out == ""
    assert len(run.err.splitlines()) == 1
    assert run.err.startswith(f"opx-harness: error: {message}")


def test_a_malformed_option_is_a_usage_error_exit_3_not_2(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(project.args("--repeat", "twice"))
    assert exited.value.code == EXIT_UNJUDGED
    assert "usage: opx-harness gate" in capsys.readouterr().err


def test_a_missing_scenario_directory_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = gate(capsys, ["gate", "--scenarios", str(tmp_path / "none")])
    assert run.code == EXIT_UNJUDGED
    assert run.err == f"opx-harness: error: {tmp_path / 'none'}: not a directory\n"


def test_an_internal_error_of_the_gate_exits_4_never_1(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("worker pool on fire")

    monkeypatch.setattr(harness.gate, "run_gate", broken)
    run = gate(capsys, project.args())
    assert run.code == EXIT_INTERNAL
    assert run.err == (
        "opx-harness: error: internal error in the gate: RuntimeError: worker pool on fire\n"
    )


# --------------------------------------------------------------------------- jobs, shards


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what may differ between equal runs: timings and ``--jobs``."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("seconds", "jobs")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(report)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fail_fast_stops_at_the_first_failure_and_says_what_was_not_judged(
    project: Project, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    """Scenarios are judged in name order: the first one (``AGREED``) drifts, so a
    serial run judges nothing after it; a parallel one cancels what had not started.
    Whatever was skipped is counted, never reported as passing."""
    path = _edit_snapshot(project, AGREED)
    run = gate(capsys, project.args("--fail-fast", "--jobs", jobs))
    report = project.report()
    assert run.code == 1, run.out + run.err
    assert _statuses(report)[AGREED]["snapshot"] == "drift"
    assert report["judged"] + report["not_judged"] == 3
    assert report["config"]["fail_fast"] is True
    if jobs == "1":
        assert (report["judged"], report["not_judged"]) == (1, 2)
        assert "2 not judged (--fail-fast stopped at the first failure)" in run.out
    assert path in run.out

    whole = gate(capsys, project.args())
    assert whole.code == 1
    assert (project.report()["judged"], project.report()["not_judged"]) == (3, 0)
    assert "not judged" not in whole.out


def test_fail_fast_on_a_passing_gate_judges_everything(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    run = gate(capsys, project.args("--fail-fast"))
    assert run.code == 0, run.out + run.err
    assert (project.report()["judged"], project.report()["not_judged"]) == (3, 0)


def test_jobs_2_gives_the_same_verdicts_as_jobs_1(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit_snapshot(project, THROTTLED)
    (project.scenarios / "broken.json").write_text("[]", encoding="utf-8")
    serial = gate(capsys, project.args("--jobs", "1"))
    one = project.report()
    parallel = gate(capsys, project.args("--jobs", "2"))
    two = project.report()
    assert serial.code == parallel.code == EXIT_UNJUDGED
    assert two["config"]["jobs"] == 2
    assert _comparable(one) == _comparable(two)
    assert _statuses(two)[THROTTLED]["snapshot"] == "drift"


def test_shards_cover_every_scenario_and_orphan_exactly_once(
    project: Project, capsys: pytest.CaptureFixture[str], corpus: dict[str, tuple[str, str]]
) -> None:
    for orphan in ("retired-a", "retired-b"):
        project.snapshot(orphan).write_text(corpus[AGREED][1], encoding="utf-8")
    judged: list[str] = []
    orphans: list[str] = []
    for index in (1, 2):
        gate(capsys, project.args("--shard", f"{index}/2"))
        report = project.report()
        assert report["total_scenarios"] == len(corpus)
        judged += [s["name"] for s in report["scenarios"]]
        orphans += [o["name"] for o in report["orphans"]]
    assert sorted(judged) == sorted(corpus)
    assert sorted(orphans) == ["retired-a", "retired-b"]


# --------------------------------------------------------------------------- progress


def test_a_terminal_gets_a_live_bar_that_names_failures_as_they_happen() -> None:
    import io

    from harness.gate.progress import Bar, Lines, for_stream
    from harness.gate.verdict import Outcome, Status, Verdict

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(for_stream(io.StringIO()), Lines)
    screen = Terminal()
    bar = for_stream(screen)
    assert isinstance(bar, Bar)
    bar.start(2)
    ok = Verdict("fine-one", "s", "p", {"snapshot": Outcome(Status.PASSED, "ok")})
    bad = Verdict("drifted-one", "s", "p", {"snapshot": Outcome(Status.DRIFT, "changed")})
    bar.judged(ok)
    bar.judged(bad)
    bar.close()
    shown = screen.getvalue()
    assert "drifted-one: snapshot drift" in shown
    assert "fine-one: snapshot" not in shown
    assert "2/2" in shown


# --------------------------------------------------------------------------- opt-in checks


def test_every_check_on_one_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: dict[str, tuple[str, str]]
) -> None:
    """The opt-in checks run through the gate and land in the table and reports."""
    scenario, snapshot = corpus[THROTTLED]
    project = make_project(tmp_path, {THROTTLED: scenario}, {THROTTLED: snapshot})
    checks = "cost,resume,order,process,repeat,snapshot"  # any order in; table order out
    run = gate(capsys, project.args("--checks", checks, "--repeat", "3"))
    assert run.code == 0, run.out
    assert run.out.splitlines()[0].split()[:7] == [
        "SCENARIO",
        "SNAPSHOT",
        "REPEAT",
        "PROCESS",
        "ORDER",
        "RESUME",
        "COST",
    ]
    assert table(run.out)[THROTTLED][:6] == ["pass"] * 6
    checks_run = project.report()["scenarios"][0]["checks"]
    assert "equals the exact recomputation" in checks_run["cost"]["summary"]
    assert "3 replays" in checks_run["repeat"]["summary"]
    assert "PYTHONHASHSEED=0, 1, 4242" in checks_run["process"]["summary"]
    assert "3 completion orders" in checks_run["order"]["summary"]
    assert "crash points" in checks_run["resume"]["summary"]


def test_the_cost_check_fails_the_gate_on_a_bill_the_snapshot_does_not_show(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """Self-test of ``--checks cost``: an approved snapshot billing one agent a millionth
    more than its tokens cost makes the gate exit 1 and name the agent's cost path."""
    path = project.snapshot(THROTTLED)
    data = json.loads(path.read_text(encoding="utf-8"))
    body = data["responses"][0]["body"]["cost"]
    agent = sorted(body["per_agent"])[0]
    body["per_agent"][agent] = "9.999999"
    path.write_text(canonical.pretty(data), encoding="utf-8")
    run = gate(capsys, project.args("--checks", "cost"))
    assert run.code == 1, run.out
    assert table(run.out)[THROTTLED][0] == "drift"
    summary = project.report()["scenarios"]
    cost = next(s for s in summary if s["name"] == THROTTLED)["checks"]["cost"]
    assert cost["path"] == f"$.responses[0].body.cost.per_agent.{agent}"
    assert "differs from the approved snapshot" in cost["summary"]
