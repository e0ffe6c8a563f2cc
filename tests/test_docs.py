"""The documentation is part of the product: it builds, its commands work, and the README
stays a landing page whose quick start is what CI runs.

- ``mkdocs build --strict`` (``mkdocs.yml``): a broken link, a dead anchor or a page
  missing from the nav fails the suite.
- Every ``opx-harness ...`` command line in the guides and the README parses with the
  real argument parser.
- Guide steps marked for testing run, in order, in a copy of the repository:
  ``<!-- test: write PATH -->`` before a fenced block writes it to ``PATH``, and
  ``<!-- test: run -->`` before a fenced ``bash`` block runs it (each must exit 0). The
  "add a hand-authored scenario" guide is replayed this way end to end: spec, author,
  approve, gate, and the corpus tests agree on the first try.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.cli.main import parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = sorted((DOCS / "guides").glob("*.md"))
README = ROOT / "README.md"
#: What a copy of the repository needs to author, gate and test a scenario.
PROJECT = ("harness", "opx", "specs", "scenarios", "snapshots", "tests", "pyproject.toml")
#: The README's quick start, exactly; ``.ci/run`` runs the second line's command.
QUICK_START = ("pip install -e '.[dev]' && opx-harness gate", "pytest -q -n 2")

FENCE = re.compile(
    r"(?:<!-- test: (?P<marker>[^>]*?) -->\n)?^```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^```",
    re.M | re.S,
)


@dataclass(frozen=True)
class Block:
    """A fenced code block and the test marker before it, if any."""

    page: Path
    lang: str
    body: str
    marker: str | None


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(page, m["lang"], m["body"], m["marker"].strip() if m["marker"] else None)
        for m in FENCE.finditer(text)
    ]


def commands(block: Block) -> list[list[str]]:
    """The ``opx-harness`` invocations in a shell block: continuation lines joined,
    comments dropped, split at ``&&``/``;``/``|``/``&``, usage brackets removed
    (``[--region R]`` documents an optional ``--region R``)."""
    text = block.body.replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        command: list[str] = []
        for word in [*words, ";"]:
            if word in ("&&", ";", "|", "&", "||") or word.startswith((">", "2>")):
                if command and command[0] == "opx-harness":
                    found.append(command)
                command = []
            else:
                command.append(word.strip("[]"))
    return [[w for w in c if w and w != "..."] for c in found]


# --------------------------------------------------------------------------- the site


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's own banner
    run = subprocess.run(
        [
            *(sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"),
            *("--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "site" / "guides" / "add-a-scenario" / "index.html").exists()


# --------------------------------------------------------------------------- the README


def test_readme_is_a_landing_page_whose_quick_start_is_what_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150, "the README is a landing page: details go in docs/"
    quick = next(b for b in blocks(README) if b.lang == "bash")
    lines = [line.split("#", 1)[0].strip() for line in quick.body.splitlines()]
    assert tuple(lines) == QUICK_START
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert QUICK_START[1] in ci  # .ci/run runs the README's test command verbatim
    assert "python -m pip install --quiet -e '.[dev]'" in ci


def test_readme_links_into_docs_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs/)[^)#]+)(?:#[^)]*)?\)", text)
    assert links, "the README links into docs/"
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == []


# --------------------------------------------------------------------------- commands


def _command_lines() -> list[tuple[str, list[str]]]:
    pages = [*GUIDES, README]
    return [
        (f"{block.page.relative_to(ROOT)}: {shlex.join(command)}", command)
        for page in pages
        for block in blocks(page)
        if block.lang in ("bash", "sh", "")
        for command in commands(block)
    ]


def test_the_guides_have_commands() -> None:
    assert len(_command_lines()) >= 15


@pytest.mark.parametrize(("where", "command"), _command_lines(), ids=lambda v: str(v)[:80])
def test_every_opx_harness_command_in_the_guides_parses(where: str, command: list[str]) -> None:
    try:
        parser().parse_args(command[1:])
    except SystemExit as exc:  # --help exits 0 after printing
        if exc.code not in (0, None):
            pytest.fail(f"{where}: argparse refused it (exit {exc.code})")


# --------------------------------------------------------------------------- guides, run


def _tested_guides() -> list[Path]:
    return [page for page in GUIDES if any(b.marker == "run" for b in blocks(page))]


def test_the_add_a_scenario_guide_is_tested() -> None:
    assert DOCS / "guides" / "add-a-scenario.md" in _tested_guides()


def _copy_of_the_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", "cdk.out", "*.pyc")
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=ignore)
        else:
            project.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / name)
    # The commands as a user types them, run from this copy's sources.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, module in (("opx-harness", "harness"), ("pytest", "pytest")):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
        script.chmod(0o755)
    return project


@pytest.mark.slow
@pytest.mark.parametrize("guide", _tested_guides(), ids=lambda p: p.stem)
def test_guide_steps_work_on_the_first_try(guide: Path, tmp_path: Path) -> None:
    project = _copy_of_the_project(tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_XDIST", "PYTEST_ADDOPTS", "COV_CORE"))
    }
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(project)
    ran = 0
    for block in blocks(guide):
        if block.marker and block.marker.startswith("write "):
            target = project / block.marker.removeprefix("write ").strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
        elif block.marker == "run":
            assert block.lang == "bash"
            run = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block.body],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert run.returncode == 0, f"{block.body}\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
            ran += 1
    assert ran
