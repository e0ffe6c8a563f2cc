"""The IAM policy is generated from ``ActionGroup.actions``: it must allow every AWS
call a handler really makes, and nothing it never makes.

The calls are observed, not declared: every action-group scenario is replayed and
each botocore operation its handler invoked (``aws_calls``: answered by moto or by a
recording) is mapped to its IAM action. Between them the scenarios exercise every
operation of every group, including the error paths (StopQuery on a deadline).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from harness.kinds.action_group import ActionGroupResult
from harness.replayer import replay
from harness.scenario import discover, load_scenario
from harness.wire.requests import service_name
from opx.action_groups.registry import ACTION_GROUPS

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
#: Verbs that change AWS state; an action group only reads.
WRITE_VERBS = ("Put", "Delete", "Update", "Create", "Batch", "Transact", "Tag", "Untag")


@cache
def _observed() -> dict[str, set[str]]:
    """Group -> IAM actions its handler was seen calling across the corpus."""
    seen: dict[str, set[str]] = {group.name: set() for group in ACTION_GROUPS}
    for path in discover(SCENARIOS):
        scenario = load_scenario(path)
        if scenario.kind != "action-group":
            continue
        result = replay(scenario)
        assert isinstance(result, ActionGroupResult)
        for call in result.aws_calls:
            # botocore's service name is the IAM prefix for these services
            # (the event name's "cloudwatch-logs" is IAM's "logs").
            seen[result.action_group].add(f"{service_name(call['service'])}:{call['operation']}")
    return seen


def test_every_call_a_handler_makes_is_granted() -> None:
    for group in ACTION_GROUPS:
        assert _observed()[group.name] <= set(group.actions), group.name


def test_every_granted_action_is_used() -> None:
    """Least privilege: an action no handler calls must not be in the policy."""
    for group in ACTION_GROUPS:
        assert set(group.actions) <= _observed()[group.name], group.name


def test_granted_actions_only_read() -> None:
    for group in ACTION_GROUPS:
        for action in group.actions:
            operation = action.split(":", 1)[1]
            assert not operation.startswith(WRITE_VERBS), action
