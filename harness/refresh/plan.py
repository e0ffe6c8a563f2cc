"""Which scenarios a refresh renews, and how.

By default the stale ones: a replay whose Bedrock requests no recording answers
(a prompt, agent or context change). ``--only`` names scenarios, ``--all`` takes
every scenario with Bedrock answers -- the way to evaluate a model or alias change,
which alters no request at all. How each is renewed follows where its answers came
from (:data:`harness.scenario.Provenance`):

* ``rebind`` -- every answer was authored: the same scripted answers, faults and
  all, re-bound offline to the requests the executor now sends;
* ``keep`` -- live answers re-bound without asking again (``--keep-answers``, for
  a change believed cosmetic): they become ``kept``, and the report says so;
* ``live`` -- live answers asked for again from the Bedrock Agent runtime, through
  the same recorder, scrubber and verify-scrub-verify pipeline as ``record``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from harness.refresh.spend import ZERO, projected_spend
from harness.replayer import replay
from harness.scenario import Scenario, ScenarioError, discover, load_scenario
from harness.wire import INVOKE_AGENT, UnmatchedRequestError


class Mode(StrEnum):
    REBIND = "rebind"
    KEEP = "keep"
    LIVE = "live"


class PlanError(Exception):
    """What was asked cannot be planned (an unknown name, an invalid file)."""


@dataclass(frozen=True)
class Planned:
    path: Path
    scenario: Scenario
    mode: Mode
    #: Why it is refreshed: the stale cause, or "named" / "--all".
    reason: str

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def projected(self) -> Decimal:
        return projected_spend(self.scenario) if self.mode is Mode.LIVE else ZERO


def has_bedrock_answers(scenario: Scenario) -> bool:
    return any((i.service, i.operation) == INVOKE_AGENT for i in scenario.interactions)


def mode_of(scenario: Scenario, keep_answers: bool) -> Mode:
    bedrock = [i for i in scenario.interactions if (i.service, i.operation) == INVOKE_AGENT]
    if all(i.provenance == "authored" for i in bedrock):
        return Mode.REBIND
    return Mode.KEEP if keep_answers else Mode.LIVE


def staleness(scenario: Scenario) -> str | None:
    """Why the recordings no longer answer ``scenario``'s Bedrock requests, or ``None``."""
    try:
        replay(scenario)
    except UnmatchedRequestError as exc:
        bedrock = [e for e in exc.replay_errors if (e.service, e.operation) == INVOKE_AGENT]
        if bedrock:
            causes = sorted({e.change.short if e.change else e.reason for e in bedrock})
            return "changed: " + ", ".join(causes)
    return None


def plan(
    directory: Path,
    *,
    only: Sequence[str] = (),
    every: bool = False,
    keep_answers: bool = False,
) -> list[Planned]:
    """The scenarios of ``directory`` to refresh, in name order."""
    paths = {p.stem: p for p in discover(directory)}
    unknown = sorted(set(only) - set(paths))
    if unknown:
        raise PlanError(f"--only: no scenario {', '.join(unknown)} in {directory}")
    planned = []
    for name in sorted(only or paths):
        try:
            scenario = load_scenario(paths[name])
        except ScenarioError as exc:
            raise PlanError(str(exc)) from None
        if not has_bedrock_answers(scenario):
            continue  # nothing a prompt, model or agent change could make stale
        reason = "named" if only else "--all" if every else staleness(scenario)
        if reason is not None:
            planned.append(Planned(paths[name], scenario, mode_of(scenario, keep_answers), reason))
    return planned


__all__ = ["Mode", "PlanError", "Planned", "has_bedrock_answers", "mode_of", "plan", "staleness"]
