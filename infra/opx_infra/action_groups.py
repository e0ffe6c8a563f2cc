"""One Lambda per action group of ``opx.action_groups.registry.ACTION_GROUPS``.

Handler, IAM actions and required environment all come from the registry; this
module adds only what the registry cannot know: the resources each action is scoped
to (``permissions.ACTION_SCOPES``, with cdk-nag evidence for each wildcard), the
values of the required variables, and the resource policy that lets this account's
Bedrock agents invoke the function.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from cdk_nag import NagSuppressions
from constructs import Construct

from opx.action_groups.registry import ACTION_GROUPS, INCIDENT_HISTORY_TABLE_ENV, ActionGroup
from opx_infra.config import StackConfig
from opx_infra.functions import OwnRoleFunction
from opx_infra.permissions import action_group_grants

#: A Bedrock action group call is one read API call (plus paging): seconds, not minutes.
TIMEOUT = Duration.seconds(30)
MEMORY_MB = 256


def action_group_environment(group: ActionGroup, config: StackConfig) -> dict[str, str]:
    """Values for the variables the registry says ``group`` requires."""
    known = {INCIDENT_HISTORY_TABLE_ENV: config.incident_history_table}
    missing = [name for name in group.env if name not in known]
    if missing:
        raise ValueError(
            f"action group {group.name!r} requires {missing[0]}, which "
            "infra/opx_infra/action_groups.py does not provide"
        )
    return {name: known[name] for name in group.env}


class ActionGroupFunctions(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig, code: lambda_.Code
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Bedrock invokes an action group's Lambda as the agent: any agent of this
        # account and region (agents and action groups are wired up outside this stack).
        agents = stack.format_arn(
            service="bedrock",
            resource="agent",
            resource_name="*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.functions: dict[str, OwnRoleFunction] = {}
        for group in ACTION_GROUPS:
            function = OwnRoleFunction(
                self,
                group.name,
                function_name=f"opx-action-{group.name}-{config.stage}",
                handler=group.handler,
                code=code,
                timeout=TIMEOUT,
                memory_mb=MEMORY_MB,
                environment=action_group_environment(group, config),
                stage=config.stage,
            )
            grants = action_group_grants(
                stack,
                group,
                log_groups=config.log_groups,
                history_table=config.incident_history_table,
            )
            for grant in grants:
                function.role.add_to_policy(grant.statement)
            NagSuppressions.add_resource_suppressions(
                function.role,
                [grant.wildcard_evidence for grant in grants],
                apply_to_children=True,
            )
            function.function.add_permission(
                "InvokedByBedrockAgents",
                principal=iam.ServicePrincipal("bedrock.amazonaws.com"),
                source_account=stack.account,
                source_arn=agents,
            )
            self.functions[group.name] = function
