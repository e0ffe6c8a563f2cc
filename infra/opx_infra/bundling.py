"""The Lambda asset, bundled locally (no Docker): ``opx/`` plus its runtime dependencies.

``full`` copies ``opx/`` and pip-installs ``[project].dependencies`` from
``pyproject.toml`` as manylinux wheels for the Lambda runtime's Python, so the
package matches Lambda whatever machine synthesizes it. ``source`` copies ``opx/``
only: no network, a second or so -- for tests and offline template checks; it does
not run on Lambda. The asset hash covers the source tree, the mode, the runtime and
the requirement list, so a cached ``source`` asset is never published as ``full``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, FileSystem, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from opx_infra.config import BundleMode

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "opx"
#: Never shipped: bytecode caches (Lambda compiles on import).
EXCLUDE = ("__pycache__", "*.pyc")
#: Lambda's x86_64 Python runtimes up to 3.11 run on Amazon Linux 2 (glibc 2.26).
PLATFORM = "manylinux2014_x86_64"


def runtime_requirements() -> list[str]:
    """``[project].dependencies``: the one list of what the executor needs at run time."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return list(project["dependencies"])


@jsii.implements(ILocalBundling)
class LocalBundler:
    """Bundles on the synthesizing machine; CDK falls back to Docker only on ``False``."""

    def __init__(self, mode: BundleMode, runtime: lambda_.Runtime) -> None:
        self.mode = mode
        self.python_version = runtime.name.removeprefix("python")

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        out = Path(output_dir)
        shutil.copytree(SOURCE, out / SOURCE.name, ignore=shutil.ignore_patterns(*EXCLUDE))
        if self.mode is BundleMode.FULL:
            self._install(out)
        return True

    def _install(self, out: Path) -> None:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--no-warn-conflicts",
            "--only-binary=:all:",
            f"--platform={PLATFORM}",
            "--implementation=cp",
            f"--python-version={self.python_version}",
            f"--target={out}",
            *runtime_requirements(),
        ]
        subprocess.run(command, check=True)  # noqa: S603 -- fixed argv, no shell


def asset_hash(mode: BundleMode, runtime: lambda_.Runtime) -> str:
    """Source tree + everything that changes what bundling produces from it."""
    extra = "|".join([mode.value, runtime.name, PLATFORM, *runtime_requirements()])
    return FileSystem.fingerprint(str(SOURCE), exclude=list(EXCLUDE), extra_hash=extra)


def lambda_code(mode: BundleMode, runtime: lambda_.Runtime) -> lambda_.Code:
    """One asset for the executor and every action group (same package, other handler)."""
    return lambda_.Code.from_asset(
        str(SOURCE),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(mode, runtime),
        bundling=BundlingOptions(
            local=LocalBundler(mode, runtime),
            # Required by the API, never pulled: LocalBundler always bundles or raises.
            image=DockerImage.from_registry("opx-local-bundling-only"),
        ),
    )
