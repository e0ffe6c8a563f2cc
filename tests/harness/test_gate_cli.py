"""The gate as CI runs it: fresh processes (``python -m harness gate``), the README's
first command over the bundled corpus, the pytest plugin under xdist, the workflow
example, and a smoke run of ``bench/gate.py``."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.replayer import replay
from harness.scenario import Scenario, discover, load_scenario
from tests.harness.conftest import AGREED, THROTTLED
from tests.harness.gate_support import ROOT, Project, gate_process, make_project, table

PLANT_RANDOM_ID = """
import uuid
import opx.graph as _graph
_original = _graph.compute_consensus
_graph.compute_consensus = lambda h, s: {**_original(h, s), "trace_id": uuid.uuid4().hex}
"""


@pytest.fixture
def project(tmp_path: Path, authored: dict[str, Scenario], approved: dict[str, str]) -> Project:
    names = (AGREED, THROTTLED)
    return make_project(
        tmp_path,
        {name: authored[name].to_json() for name in names},
        {name: approved[name] for name in names},
    )


# --------------------------------------------------------------------------- README


@pytest.mark.slow
def test_the_readme_first_command_passes_on_the_bundled_corpus() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("```bash\n", 1)[1]
    first = quick_start.splitlines()[0].split("#")[0].strip()
    assert first == "pip install -e '.[dev]' && opx-harness gate"

    run = gate_process(["gate"], cwd=ROOT)
    assert run.code == 0, run.out + run.err
    rows = table(run.out)
    assert sorted(rows) == sorted(path.stem for path in discover(ROOT / "scenarios"))
    assert all(cells[:2] == ["pass", "pass"] for cells in rows.values()), rows
    assert run.out.rstrip().splitlines()[-1].endswith("-> exit 0 (same behaviour)")
    assert "Traceback" not in run.err


# --------------------------------------------------------------------------- processes


def test_jobs_2_in_a_fresh_process_reports_drift_exit_1(project: Project) -> None:
    """Workers come from a fork server: the real CLI (``python -m harness``) must not
    re-run itself in them, and their verdicts must reach the table."""
    path = project.snapshot(AGREED)
    path.write_text(path.read_text(encoding="utf-8").replace("SUCCEEDED", "EDITED"), "utf-8")
    run = gate_process(project.args("--jobs", "2"), cwd=project.root)
    assert run.code == 1, run.out + run.err
    assert table(run.out) == {
        AGREED: ["drift", "pass", table(run.out)[AGREED][2]],
        THROTTLED: ["pass", "pass", table(run.out)[THROTTLED][2]],
    }
    assert len([line for line in run.err.splitlines() if line.startswith("[")]) == 2
    assert project.report()["config"]["jobs"] == 2


def test_planted_nondeterminism_in_a_fresh_process_exits_2(project: Project) -> None:
    run = gate_process(project.args(), cwd=project.root, prelude=PLANT_RANDOM_ID)
    assert run.code == 2, run.out + run.err
    assert {cells[1] for cells in table(run.out).values()} == {"nondeterministic"}
    assert project.report()["verdict"] == "nondeterminism"


def test_a_corrupt_scenario_in_a_fresh_process_exits_3_without_a_traceback(
    project: Project,
) -> None:
    broken = project.scenarios / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    run = gate_process(project.args(), cwd=project.root)
    assert run.code == 3
    assert table(run.out)["broken"][:2] == ["error", "-"]
    reason = (
        f"invalid scenario: {broken}:1:2: invalid JSON "
        "(Expecting property name enclosed in double quotes)"
    )
    assert f"== broken · snapshot: error\n{reason}\n" in run.out
    assert "Traceback" not in run.out + run.err


# --------------------------------------------------------------------------- pytest -n


def test_the_plugin_spreads_scenarios_over_xdist_workers_and_keeps_bookkeeping(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    authored: dict[str, Scenario],
    approved: dict[str, str],
) -> None:
    """Under ``pytest -n``: items run on several workers, and syrupy's bookkeeping
    (update, new snapshot, orphan deletion) still sees the whole session."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    copies = {f"copy-{n}": authored[AGREED].model_copy(update={"name": f"copy-{n}"}) for n in "ab"}
    scenarios = {AGREED: authored[AGREED], THROTTLED: authored[THROTTLED], **copies}
    snapshots = {
        AGREED: approved[AGREED].replace("SUCCEEDED", "EDITED"),
        "copy-a": replay(copies["copy-a"]).to_canonical_json(),
        "copy-b": replay(copies["copy-b"]).to_canonical_json(),
        "retired": approved[THROTTLED],
    }  # THROTTLED has none yet
    project = make_project(pytester.path, {n: s.to_json() for n, s in scenarios.items()}, snapshots)
    pytester.makeini("[pytest]\n")
    blocked = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark"]
    result = pytester.runpytest_subprocess(
        *blocked, "--assert=plain", "-n", "2", "-v", "--snapshot-update", timeout=300
    )
    result.assert_outcomes(passed=4)
    workers = set(re.findall(r"\[(gw\d+)\] \[ *\d+%\] PASSED scenarios/", result.stdout.str()))
    assert workers == {"gw0", "gw1"}
    result.stdout.fnmatch_lines(
        ["2 snapshots passed. 1 snapshot generated. 1 snapshot updated. 1 unused snapshot deleted."]
    )
    assert sorted(p.stem for p in project.snapshots.iterdir()) == sorted(scenarios)
    assert project.snapshot(AGREED).read_text(encoding="utf-8") == approved[AGREED]


# --------------------------------------------------------------------------- workflow


def test_the_workflow_example_shards_the_gate_and_uploads_its_reports() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github/workflows/replay-gate.yml").read_text())
    # YAML 1.1 reads the key ``on`` as the boolean true.
    assert "pull_request" in workflow.get("on", workflow.get(True))
    for job in workflow["jobs"].values():
        shards = job["strategy"]["matrix"]["shard"]
        assert shards == list(range(1, len(shards) + 1))
        steps = job["steps"]
        command = next(s["run"] for s in steps if "opx-harness gate" in s.get("run", ""))
        assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in command
        for option in ("--junit", "--report", "--json"):
            assert option in command
        summary = next(s["run"] for s in steps if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
        report = re.search(r"--report (\S+)", command)
        assert report is not None and report.group(1) in summary
        upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
        assert upload["if"] == "always()"


# --------------------------------------------------------------------------- bench


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_gate", ROOT / "bench" / "gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_bench_builds_varied_copies_approves_and_times_the_gate(tmp_path: Path) -> None:
    bench = _bench()
    runs, bare = bench.run([2], [1], tmp_path, build_jobs=1)
    assert [(r.size, r.jobs) for r in runs] == [(2, 1)]
    assert runs[0].seconds > 0 and bare > 0
    if Path("/proc").is_dir():
        assert runs[0].peak_mb > 0 and runs[0].largest_mb > 0
    rows = bench.report_table(runs, bare)
    assert rows[1].split()[:2] == ["2", "1"]

    corpus = tmp_path / "corpus-2"
    copy_path = next((corpus / "scenarios").glob("0000-*.json"))
    copy = load_scenario(copy_path)
    original = load_scenario(ROOT / "scenarios" / f"{copy.name.split('-', 1)[1]}.json")
    assert copy.events[0]["id"] == f"{original.events[0]['id']}-v0"
    sessions = {i.request.get("sessionId") for i in copy.interactions}
    assert sessions.isdisjoint({i.request.get("sessionId") for i in original.interactions})
    snapshot = json.loads((corpus / "snapshots" / f"{copy.name}.json").read_text())
    assert snapshot["scenario"] == copy.name


def test_pull_requests_run_ruff_the_test_suite_and_the_gate_shards() -> None:
    yaml = pytest.importorskip("yaml")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    test_command = "pytest -q -n 2"
    assert f"{test_command}    " in readme  # the README's test command, as CI runs it
    commands = []
    for path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "pull_request" not in workflow.get("on", workflow.get(True)):
            continue
        for job in workflow["jobs"].values():
            commands += [step["run"] for step in job["steps"] if "run" in step]
    assert "ruff check ." in commands and "ruff format --check ." in commands
    assert test_command in commands
    assert any(c.startswith("opx-harness gate") and "--shard" in c for c in commands)
