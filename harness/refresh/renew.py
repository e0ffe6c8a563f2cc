"""Renewing one scenario's answers: re-bound offline, or asked again live.

Either way the scenario keeps what defines the incident -- its events, clock, name,
description and tags -- and gets the interactions the executor sends *now*, each
answer written down with its provenance. Nothing is returned that does not replay,
twice, to the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from harness.capture import Pattern, record
from harness.capture.recorder import Exchange
from harness.capture.rederive import RecordedAnswer, RederiveError, rederive
from harness.replayer import replay
from harness.scenario import Provenance, Scenario
from harness.wire import UnmatchedRequestError


class RenewError(Exception):
    """The scenario could not be renewed; nothing of it is written."""


def rebind(scenario: Scenario, provenance: Provenance | None = None) -> Scenario:
    """``scenario``'s own answers (faults, latencies and all) re-bound to the requests
    the executor sends now; ``provenance`` marks them (``kept``) or keeps their own."""
    answers = [RecordedAnswer.of(i, provenance) for i in scenario.interactions]
    try:
        return rederive(scenario, answers)
    except RederiveError as exc:
        raise RenewError(f"{scenario.name}: {' '.join(str(exc).split())}") from None


def rerecord(
    scenario: Scenario,
    *,
    region: str | None,
    profile: str | None,
    patterns: Sequence[Pattern],
    admit: Callable[[str, str, list[Exchange]], str | None],
) -> Scenario:
    """Ask the live Bedrock Agent runtime again (the agent ids and aliases the
    environment names), through ``record``'s verify-scrub-verify pipeline; the new
    answers are re-bound to ``scenario``'s own events, clock and settings."""
    from harness.capture import CaptureError

    try:
        with scenario_settings(scenario.env):
            capture = record(
                scenario.events,
                name=scenario.name,
                description=scenario.description,
                region=region,
                profile=profile,
                patterns=patterns,
                admit=admit,
            )
    except CaptureError as exc:
        raise RenewError(f"{scenario.name}: {' '.join(str(exc).split())}") from None
    env = {**scenario.env, **capture.scenario.env}
    draft = scenario.model_copy(update={"env": env})
    return rebind(draft.model_copy(update={"interactions": capture.scenario.interactions}))


@contextmanager
def scenario_settings(env: Mapping[str, str]) -> Iterator[None]:
    """The scenario's executor settings for a live run, under whatever the environment
    already names -- which is how a candidate agent id, alias or model is chosen."""
    added = {k: v for k, v in env.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def verified(scenario: Scenario) -> str:
    """The canonical JSON ``scenario`` replays to -- the same twice -- or a RenewError."""
    try:
        first, second = (replay(scenario).to_canonical_json() for _ in range(2))
    except UnmatchedRequestError as exc:
        raise RenewError(f"{scenario.name}: the renewed scenario does not replay: {exc}") from None
    if first != second:
        raise RenewError(f"{scenario.name}: the renewed scenario does not replay reproducibly")
    return first


__all__ = ["RenewError", "rebind", "rerecord", "scenario_settings", "verified"]
