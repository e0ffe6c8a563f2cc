"""A throwaway project for the gate tests: ``scenarios/`` and ``snapshots/`` in a
temporary directory, filled from the scenarios ``tests/harness/conftest.py`` authors
and the snapshots their replays produce -- never from hand-written JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import cli

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def scenarios(self) -> Path:
        return self.root / "scenarios"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    def snapshot(self, name: str) -> Path:
        return self.snapshots / f"{name}.json"

    def args(self, *extra: str) -> list[str]:
        """``gate`` over this project, writing all three reports into ``out/``."""
        out = self.root / "out"
        return [
            "gate",
            "--scenarios",
            str(self.scenarios),
            "--snapshots",
            str(self.snapshots),
            "--junit",
            str(out / "junit.xml"),
            "--report",
            str(out / "summary.md"),
            "--json",
            str(out / "report.json"),
            *extra,
        ]

    def report(self) -> dict[str, Any]:
        return json.loads((self.root / "out" / "report.json").read_text(encoding="utf-8"))

    def junit(self) -> str:
        return (self.root / "out" / "junit.xml").read_text(encoding="utf-8")

    def markdown(self) -> str:
        return (self.root / "out" / "summary.md").read_text(encoding="utf-8")


def make_project(root: Path, scenarios: Mapping[str, str], snapshots: Mapping[str, str]) -> Project:
    """``{name: file text}`` for each directory."""
    project = Project(root)
    for directory, files in ((project.scenarios, scenarios), (project.snapshots, snapshots)):
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / f"{name}.json").write_text(text, encoding="utf-8")
    return project


def bundled_project(
    root: Path, names: Iterable[str], edit: Callable[[str], str] | None = None
) -> Project:
    """A project holding copies of bundled scenarios (each text passed through ``edit``,
    if given) and their approved snapshots: a self-test breaks the executor and shows
    the gate fail on exactly these."""
    names = tuple(names)
    scenarios = {n: (ROOT / "scenarios" / f"{n}.json").read_text(encoding="utf-8") for n in names}
    if edit is not None:
        scenarios = {n: edit(text) for n, text in scenarios.items()}
    snapshots = {n: (ROOT / "snapshots" / f"{n}.json").read_text(encoding="utf-8") for n in names}
    return make_project(root, scenarios, snapshots)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def gate(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Run:
    """The CLI in this process (so a test can plant a fault with monkeypatch)."""
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return Run(code, out, err)


def gate_bundled(name: str, root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``gate --checks snapshot`` over the bundled scenario ``name`` and its snapshot alone
    (one scenario: judged in this process, where a self-test plants its fault)."""
    project = bundled_project(root, [name])
    args = ["--scenarios", str(project.scenarios), "--snapshots", str(project.snapshots)]
    run = gate(capsys, ["gate", "--checks", "snapshot", *args])
    return run.code, run.out + run.err


def assert_gate_fails(
    name: str, root: Path, capsys: pytest.CaptureFixture[str], *words: str
) -> None:
    """A self-test's verdict: the gate over ``name`` alone exits 1 (drift), naming the
    scenario and each of ``words`` (what the planted fault changed)."""
    code, out = gate_bundled(name, root, capsys)
    assert code == 1, out
    for word in (name, *words):
        assert word in out, f"{word!r} not in the gate's report:\n{out}"


def gate_process(argv: list[str], *, cwd: Path, prelude: str = "") -> Run:
    """``python -m harness <argv>`` in a fresh interpreter (``prelude`` runs first)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        env.pop(name, None)
    if prelude:
        script = f"{prelude}\nfrom harness.cli import main\nraise SystemExit(main({argv!r}))\n"
        command = [sys.executable, "-c", script]
    else:
        command = [sys.executable, "-m", "harness", *argv]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=600, check=False)
    return Run(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"))


def table(out: str) -> dict[str, list[str]]:
    """The gate's final table: scenario -> its cells (checks, then time)."""
    lines = out.split("\n\n", 1)[0].splitlines()
    header, *rows = lines
    assert header.split()[0] == "SCENARIO", out
    return {row.split()[0]: row.split()[1:] for row in rows}
