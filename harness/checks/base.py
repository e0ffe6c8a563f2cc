"""The extension point for checks: one name, one class, one :class:`Outcome`.

A check proves one thing about a scenario -- it replays to its approved snapshot,
it replays identically again, in a fresh interpreter, in any completion order,
after a crash at any checkpoint, and its bill is exact. The gate, the pytest suite
and the CLI run checks by their registered names (:mod:`harness.checks.registry`);
each gets a :class:`CheckContext` holding the scenario and its first replay, which
every check may reuse instead of paying for it again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from harness.checks.outcome import Outcome, Status
from harness.checks.registry import DEFAULT_REPEAT
from harness.kinds import kind_named
from harness.replayer import ReplayResult
from harness.scenario import Scenario


@dataclass(frozen=True)
class CheckContext:
    """What a check is run on."""

    scenario: Scenario
    #: The scenario's file (fresh interpreters load it from there).
    path: Path
    #: Its approved snapshot's file.
    snapshot: Path
    #: The first replay, shared by every check, and its canonical JSON.
    first: ReplayResult
    replayed: str
    #: Replays the repeat check compares, the first included.
    repeat: int = DEFAULT_REPEAT
    #: Show every diff line (digest-only hunks unfolded, nothing clipped).
    full_diff: bool = False


class Check(ABC):
    """One check (see the module docstring)."""

    #: The name users select it by (``--checks``) and reports show.
    name: ClassVar[str]
    #: True when a failure means two runs of one input differed (gate exit 2).
    determinism: ClassVar[bool] = True
    #: True when the check runs over many scenarios at once (:meth:`run_batch`).
    batched: ClassVar[bool] = False

    @abstractmethod
    def run(self, context: CheckContext) -> Outcome:
        """Judge one scenario."""

    def run_batch(self, items: Sequence[tuple[Path, str]]) -> list[Outcome]:
        """Judge ``(scenario file, first replay's canonical JSON)`` pairs together;
        only checks that are cheaper in bulk override it."""
        raise NotImplementedError(f"the {self.name} check runs one scenario at a time")


def not_applicable(check: str, scenario: Scenario) -> Outcome | None:
    """The explicit "nothing to prove here" outcome of ``check`` for ``scenario``, or
    ``None`` when the check applies (an action group has no parallel agents, no
    Bedrock bill and no checkpoints; a seeded-table scenario's answer includes work done
    before the replay: those checks must say so, not pass or fail blindly)."""
    reason = kind_named(scenario.kind).inapplicable(check, scenario)
    if reason is None:
        return None
    return Outcome(
        Status.SKIPPED,
        f"{check} does not apply to {scenario.kind} scenario {scenario.name}: {reason}.",
    )


__all__ = ["Check", "CheckContext", "not_applicable"]
