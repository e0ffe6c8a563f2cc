"""The regression gate: every scenario judged by the selected checks, one exit code.

:mod:`.run` lists and shards the scenarios and runs the judges (in worker processes
with ``--jobs``), :mod:`.judge` judges one scenario, :mod:`.verdict` holds what was
found and the exit codes, :mod:`.reports` renders it (terminal, Markdown, JUnit,
JSON), :mod:`.progress` shows progress, :mod:`.sharding` deals scenarios to shards.
"""

from harness.gate.run import GateInputError, run_gate
from harness.gate.sharding import WHOLE, Shard, parse_shard
from harness.gate.verdict import (
    EXIT_DRIFT,
    EXIT_INTERNAL,
    EXIT_NONDETERMINISM,
    EXIT_PASS,
    EXIT_UNJUDGED,
    GateConfig,
    GateResult,
    Orphan,
    Verdict,
)

__all__ = [
    "EXIT_DRIFT",
    "EXIT_INTERNAL",
    "EXIT_NONDETERMINISM",
    "EXIT_PASS",
    "EXIT_UNJUDGED",
    "WHOLE",
    "GateConfig",
    "GateInputError",
    "GateResult",
    "Orphan",
    "Shard",
    "Verdict",
    "parse_shard",
    "run_gate",
]
