"""A request the scenario cannot answer, and how it differs from the closest recording.

The harness never lets an unanswerable request pass silently -- not even when the
executor tolerates the failed call -- so this error carries everything a person
needs to decide: what was sent, why nothing answered it, and a line diff against
the most similar recorded request of the same operation.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from harness.scenario import Interaction
from harness.wire.bedrock import INVOKE_AGENT, agent_of
from harness.wire.changes import RequestChange, classify


class UnmatchedRequestError(Exception):
    """A request the scenario has no (remaining) recorded answer for."""

    def __init__(
        self,
        scenario: str,
        service: str,
        operation: str,
        request: dict[str, Any],
        reason: str,
        closest: dict[str, Any] | None,
        diff: str,
    ) -> None:
        self.scenario = scenario
        self.service = service
        self.operation = operation
        self.request = request
        self.reason = reason
        self.closest = closest
        self.diff = diff
        #: For an ``InvokeAgent`` request: what kind of change broke the match.
        self.change: RequestChange | None = None
        #: Every unmatched request of the replay, this one first (see :meth:`of_replay`).
        self.replay_errors: tuple[UnmatchedRequestError, ...] = (self,)
        super().__init__(f"scenario {scenario}: unmatched {service}.{operation}: {reason}")

    def of_replay(self, errors: Sequence[UnmatchedRequestError]) -> UnmatchedRequestError:
        """This error, knowing every unmatched request of its replay (a prompt change
        breaks one agent's request, and the agents downstream of it see its failure)."""
        self.replay_errors = tuple(errors) or (self,)
        return self

    def report(self) -> str:
        """The readable form: what was sent, and how it differs from the closest recording."""
        lines = [str(self)]
        if self.change is not None:
            lines.append(f"change: {self.change.kind}: {self.change.summary}")
        if self.diff:
            lines += ["--- recorded (closest)", "+++ sent", self.diff]
        else:
            lines.append(json.dumps(self.request, indent=2, sort_keys=True, ensure_ascii=False))
        return "\n".join(lines)


def diffable_lines(value: Any) -> list[str]:
    """Pretty JSON with multi-line strings exploded, so a prompt edit diffs by line."""

    def explode(item: Any) -> Any:
        if isinstance(item, dict):
            return {key: explode(sub) for key, sub in item.items()}
        if isinstance(item, list):
            return [explode(sub) for sub in item]
        if isinstance(item, str) and "\n" in item:
            return item.split("\n")
        return item

    return json.dumps(explode(value), indent=2, sort_keys=True, ensure_ascii=False).split("\n")


def unmatched_request(
    scenario: str,
    service: str,
    operation: str,
    params: dict[str, Any],
    interactions: Sequence[Interaction],
    *,
    used: int | None = None,
) -> UnmatchedRequestError:
    """The error for ``params``: ``used`` answers of an identical recording were all
    served (paid twice), or the request differs from every recording -- then the
    closest one of the same operation and a unified diff."""
    if used is not None:
        reason = f"the recorded answers for this request are used up ({used} served)"
        return UnmatchedRequestError(scenario, service, operation, params, reason, None, "")
    candidates = [i for i in interactions if (i.service, i.operation) == (service, operation)]
    if not candidates:
        reason = "no interaction of this operation is recorded"
        return UnmatchedRequestError(scenario, service, operation, params, reason, None, "")
    agent = agent_of(params)
    same_agent = [i for i in candidates if agent is not None and agent_of(i.request) == agent]
    candidates = same_agent or candidates
    sent = diffable_lines(params)
    scored = [
        (difflib.SequenceMatcher(None, diffable_lines(c.request), sent).ratio(), -n, c)
        for n, c in enumerate(candidates)
    ]
    _, _, closest = max(scored, key=lambda item: (item[0], item[1]))
    diff = "\n".join(
        difflib.unified_diff(
            diffable_lines(closest.request), sent, lineterm="", n=3, fromfile="", tofile=""
        )
    ).split("\n", 2)[-1]
    reason = "the request differs from every recording"
    # Only a recording of the same agent says what changed; without one nothing does.
    change = (
        classify(closest.request, params)
        if same_agent and (service, operation) == INVOKE_AGENT
        else None
    )
    if change is not None:
        reason = f"{reason}: {change.summary}"
    error = UnmatchedRequestError(
        scenario, service, operation, params, reason, closest.request, diff
    )
    error.change = change
    return error


__all__ = ["UnmatchedRequestError", "diffable_lines", "unmatched_request"]
