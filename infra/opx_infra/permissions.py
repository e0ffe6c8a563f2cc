"""Least-privilege IAM statements for the executor and the action groups.

No statement carries a wildcard action. ``"*"`` appears as a resource only for
actions the Service Authorization Reference lists with no resource type (IAM then
accepts nothing narrower); each such action is named in :data:`ACTION_SCOPES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from cdk_nag import NagPackSuppression, RegexAppliesTo

from opx.action_groups.registry import ActionGroup
from opx.agents.settings import AgentSettings

#: What the DynamoDB checkpointer calls on its table (``opx/checkpointing/store.py``):
#: Query (reads, consistent, never the GSI), PutItem (heads, task writes, and the
#: conditional put that takes the in-progress lease, ``opx/checkpointing/lease.py``),
#: BatchWriteItem (chunks over 380 KB), DeleteItem (the lease's conditional release).
#: Its TransactWriteItems holds only ``Put`` items, which IAM authorizes as
#: ``dynamodb:PutItem`` (DynamoDB has no separate transaction action).
#: ``tests/infra/test_executor_contract.py`` checks this list against the calls a
#: replay of every scenario really makes.
CHECKPOINT_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
)
INVOKE_AGENT = "bedrock:InvokeAgent"


class Scope(Enum):
    #: No resource type in the Service Authorization Reference: IAM requires ``"*"``.
    UNSCOPED = "unscoped"
    #: Logs Insights ``StartQuery`` takes ``log-group`` resources.
    LOG_GROUPS = "log-groups"
    #: DynamoDB item reads take the ``table`` and ``index`` resources.
    HISTORY_TABLE = "history-table"


#: Resource scoping of every action an action group may be granted. A new action in
#: the registry without an entry here fails synthesis instead of guessing.
ACTION_SCOPES: Mapping[str, Scope] = {
    "cloudwatch:GetMetricData": Scope.UNSCOPED,
    "logs:StartQuery": Scope.LOG_GROUPS,
    "logs:GetQueryResults": Scope.UNSCOPED,  # takes a query id, no log-group resource
    "logs:StopQuery": Scope.UNSCOPED,  # likewise
    "xray:GetServiceGraph": Scope.UNSCOPED,
    "xray:GetTraceSummaries": Scope.UNSCOPED,
    "dynamodb:GetItem": Scope.HISTORY_TABLE,
    "dynamodb:Query": Scope.HISTORY_TABLE,
}


def checkpoint_statement(table_arn: str) -> iam.PolicyStatement:
    """The checkpointer's calls, on the table only: the executor never queries the GSI."""
    return iam.PolicyStatement(actions=list(CHECKPOINT_ACTIONS), resources=[table_arn])


def invoke_agents_statement(stack: Stack, agents: Iterable[AgentSettings]) -> iam.PolicyStatement:
    """``bedrock:InvokeAgent`` (not ``bedrock-agent-runtime:...``) on exactly these aliases."""
    return iam.PolicyStatement(
        actions=[INVOKE_AGENT],
        resources=sorted({agent_alias_arn(stack, agent) for agent in agents}),
    )


def agent_alias_arn(stack: Stack, agent: AgentSettings) -> str:
    return stack.format_arn(
        service="bedrock",
        resource="agent-alias",
        resource_name=f"{agent.agent_id}/{agent.alias_id}",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


@dataclass(frozen=True)
class Grant:
    statement: iam.PolicyStatement
    #: Evidence for cdk-nag's AwsSolutions-IAM5: every scope's resources hold a wildcard.
    wildcard_evidence: NagPackSuppression


def action_group_grants(
    stack: Stack, group: ActionGroup, *, log_groups: Sequence[str], history_table: str
) -> list[Grant]:
    """One statement per resource scope, holding exactly the registry's actions."""
    by_scope: dict[Scope, list[str]] = {}
    for action in group.actions:
        scope = ACTION_SCOPES.get(action)
        if scope is None:
            raise ValueError(
                f"action group {group.name!r}: action {action!r} has no resource scoping in "
                "infra/opx_infra/permissions.py ACTION_SCOPES"
            )
        by_scope.setdefault(scope, []).append(action)
    return [
        _grant(stack, scope, sorted(actions), log_groups=log_groups, history_table=history_table)
        for scope, actions in sorted(by_scope.items(), key=lambda item: item[0].value)
    ]


def _grant(
    stack: Stack,
    scope: Scope,
    actions: list[str],
    *,
    log_groups: Sequence[str],
    history_table: str,
) -> Grant:
    named = ", ".join(actions)
    if scope is Scope.UNSCOPED:
        resources = ["*"]
        reason = (
            f"{named}: the Service Authorization Reference lists no resource type for these "
            "actions, so IAM accepts only Resource '*'"
        )
        applies_to: list[str | RegexAppliesTo] = ["Resource::*"]
    elif scope is Scope.LOG_GROUPS:
        resources = log_group_arns(stack, log_groups)
        reason = (
            f"{named} is scoped to the log groups in context opx:logGroups (name patterns of "
            "the AWS-vended log groups of monitored services), this account and region"
        )
        applies_to = [_arn_regex("logs", "log-group:")]
    else:
        resources = history_table_arns(stack, history_table)
        reason = (
            f"{named} on the incident-history table and its indexes: a Query may name any "
            "index of that one table"
        )
        applies_to = [_arn_regex("dynamodb", f"table/{history_table}/index/")]
    evidence = NagPackSuppression(id="AwsSolutions-IAM5", reason=reason, applies_to=applies_to)
    return Grant(iam.PolicyStatement(actions=actions, resources=resources), evidence)


def _arn_regex(service: str, resource_prefix: str) -> RegexAppliesTo:
    """cdk-nag's rendering of an ARN with a wildcard, in this stack's region/account."""
    region = r"(?:<AWS::Region>|[a-z0-9-]+)"
    account = r"(?:<AWS::AccountId>|\d{12})"
    return RegexAppliesTo(
        regex=f"/^Resource::arn:<AWS::Partition>:{service}:{region}:{account}:"
        f"{re.escape(resource_prefix)}.*$/"
    )


def log_group_arns(stack: Stack, log_groups: Sequence[str]) -> list[str]:
    """``log-group:<name>`` and ``log-group:<name>:*``: IAM examples use both forms for
    ``StartQuery``; a pattern ending in ``*`` already covers the second."""
    names = [
        name
        for group in log_groups
        for name in ((group,) if group.endswith("*") else (group, f"{group}:*"))
    ]
    return [
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for name in names
    ]


def history_table_arns(stack: Stack, table: str) -> list[str]:
    """The table and its indexes (a Query may name any GSI of that one table)."""
    arn = stack.format_arn(service="dynamodb", resource="table", resource_name=table)
    return [arn, f"{arn}/index/*"]
