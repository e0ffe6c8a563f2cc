"""The Lambda asset: ``opx/`` only (source) or plus manylinux wheels (full), no Docker."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match
from opx_infra import bundling
from opx_infra.bundling import LocalBundler, asset_hash, runtime_requirements
from opx_infra.config import BundleMode
from opx_infra.functions import RUNTIME

from tests.infra.conftest import App, Synthesized

ROOT = Path(__file__).resolve().parents[2]


def _asset_dirs(app: App) -> list[Path]:
    manifest = json.loads((app.outdir / "opx-dev.assets.json").read_text())
    return [
        app.outdir / f["source"]["path"]
        for f in manifest["files"].values()
        if f["source"].get("packaging") == "zip"
    ]


def test_one_asset_serves_every_function(app: App) -> None:
    for synthesized in app.stages:
        codes = {
            json.dumps(f["Properties"]["Code"], sort_keys=True)
            for f in synthesized.resources("AWS::Lambda::Function").values()
        }
        assert len(codes) == 1


def test_source_asset_is_the_opx_package_and_nothing_else(app: App) -> None:
    (asset,) = set(_asset_dirs(app))
    assert [p.name for p in asset.iterdir()] == ["opx"]
    shipped = {p.relative_to(asset / "opx").as_posix() for p in (asset / "opx").rglob("*")}
    expected = {
        p.relative_to(ROOT / "opx").as_posix()
        for p in (ROOT / "opx").rglob("*")
        if "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert shipped == expected
    assert {"lambda_handler.py", "data/pricing.json", "prompts/knowledge-rag.v1.md"} <= shipped


def test_asset_hash_depends_on_mode_and_requirements(monkeypatch: pytest.MonkeyPatch) -> None:
    source, full = (asset_hash(mode, RUNTIME) for mode in BundleMode)
    assert source != full
    monkeypatch.setattr(bundling, "runtime_requirements", lambda: ["langgraph>=9"])
    assert asset_hash(BundleMode.FULL, RUNTIME) != full


def test_runtime_requirements_are_the_projects_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert runtime_requirements() == project["dependencies"]


def test_full_bundle_pip_installs_lambda_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pip command, not its download: tests never reach the network."""
    commands: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> None:
        commands.append(command)
        assert kwargs == {"check": True}

    monkeypatch.setattr(subprocess, "run", run)
    assert LocalBundler(BundleMode.FULL, RUNTIME).try_bundle(str(tmp_path), None) is True
    (command,) = commands
    assert command[1:4] == ["-m", "pip", "install"]
    assert {
        "--only-binary=:all:",
        "--platform=manylinux2014_x86_64",
        "--implementation=cp",
        "--python-version=3.11",
        f"--target={tmp_path}",
    } <= set(command)
    assert command[-len(runtime_requirements()) :] == runtime_requirements()
    assert (tmp_path / "opx" / "lambda_handler.py").is_file()


def test_source_bundle_runs_no_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran"))
    assert LocalBundler(BundleMode.SOURCE, RUNTIME).try_bundle(str(tmp_path), None) is True
    assert [p.name for p in tmp_path.iterdir()] == ["opx"]


def test_a_source_bundle_warns_that_it_cannot_deploy(dev: Synthesized) -> None:
    warnings = Annotations.from_stack(dev.stack).find_warning(
        "/opx-dev", Match.string_like_regexp("opx:bundle=source: .*cannot run.*")
    )
    assert len(warnings) == 1
