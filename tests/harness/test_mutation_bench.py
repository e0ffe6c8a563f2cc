"""``bench/mutation.py`` at its smallest: two mutants of one module, judged by the gate
in two processes, one each.

The full measurement (README "Gate strength") takes an hour or more; this proves the
script still runs end to end -- copy, baseline gate, Cosmic Ray init, sampling, exec,
report -- so the documented command does not rot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Enough of the corpus to judge a response-builder mutant (a full run, a 400, a
#: configuration refusal); the whole corpus would triple the test's time.
SCENARIOS = ("rds-failover", "invalid-event", "config-error")

pytest.importorskip("cosmic_ray")


@pytest.mark.slow
def test_two_mutants_of_one_module_are_judged_by_the_gate(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "mutation.py"),
            "--modules",
            "opx/response.py",
            "--sample",
            "2",
            "--processes",
            "2",
            "--scenarios",
            *SCENARIOS,
            "--workdir",
            str(tmp_path / "work"),
            "--json",
            str(report_file),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_file.read_text(encoding="utf-8"))
    counts = report["modules"]["opx/response.py"]
    assert sum(counts.values()) == 2
    assert report["killed"] + report["survived"] + report["incompetent"] == 2
    assert "kill rate" in done.stdout
    assert all(isinstance(s["run_by_gate"], bool) for s in report["survivors"])
    # What the unmutated gate runs, to tell a missing input from a weak oracle.
    lines = json.loads((tmp_path / "work" / "part0" / "gate-lines.json").read_text("utf-8"))
    assert lines["opx/response.py"], "the gate runs the response builders"
    assert report["never_run"] <= report["survived"]
    assert report["config"]["processes"] == 2
    assert report["config"]["scenarios"] == list(SCENARIOS)
    copied = sorted(p.stem for p in (tmp_path / "work" / "part1" / "scenarios").glob("*.json"))
    assert copied == sorted(SCENARIOS)
    # Each copy judged its own one of the two, and none judged the other's.
    assert "part 0: judging 1 of 2 mutants" in done.stdout
    assert "part 1: judging 1 of 2 mutants" in done.stdout
    # The mutants were made in the copy, never in the project itself.
    assert (ROOT / "opx" / "response.py").read_text(encoding="utf-8") == (
        tmp_path / "work" / "part0" / "opx" / "response.py"
    ).read_text(encoding="utf-8")
