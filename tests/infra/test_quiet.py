"""Collecting the CDK tests prints no third-party banner (jsii's Node-version box as
raw ``b'...'`` lines): the output of ``pytest -k <scenario>`` is the project's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collecting_the_cdk_tests_prints_no_node_banner() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/infra/test_table.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "end-of-life" not in output and "node version" not in output.lower(), output
    assert not [line for line in output.splitlines() if line.startswith(("b'", 'b"'))], output
