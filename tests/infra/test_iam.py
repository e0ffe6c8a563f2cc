"""Least privilege, read off the synthesized template.

Every grant is reduced to (action, resource) pairs with resources rendered as text
(``arn:aws:...`` for the test account, ``<LogicalId.Arn>`` for resources of the
stack) and compared with what the executor, the registry and the context say.
"""

from __future__ import annotations

from typing import Any

from opx_infra.permissions import CHECKPOINT_ACTIONS

from opx.action_groups.registry import ACTION_GROUPS, INCIDENT_HISTORY_TABLE_ENV
from opx.config import Settings
from tests.infra.conftest import ACCOUNT, REGION, App, Synthesized

#: Actions the Service Authorization Reference lists with no resource type: the only
#: ones that may be granted on Resource "*".
UNSCOPED_BY_AWS = {
    "cloudwatch:GetMetricData",
    "logs:GetQueryResults",
    "logs:StopQuery",
    "xray:GetServiceGraph",
    "xray:GetTraceSummaries",
}
LOG_WRITES = {"logs:CreateLogStream", "logs:PutLogEvents"}
ARN = f"arn:aws:{{service}}:{REGION}:{ACCOUNT}:{{resource}}"


def render(value: Any) -> str:
    """A resource as text: joins resolved, the partition ``aws``, attributes by name."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render(part) for part in parts)
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    raise AssertionError(f"unexpected intrinsic in a policy: {value}")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(synthesized: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    """Every policy statement of the template, with the resource that holds it."""
    found = []
    for logical_id, resource in synthesized.template.to_json()["Resources"].items():
        properties = resource.get("Properties", {})
        documents = [properties.get("PolicyDocument")] + [
            policy["PolicyDocument"] for policy in properties.get("Policies", [])
        ]
        for document in filter(None, documents):
            found += [(logical_id, statement) for statement in document["Statement"]]
    return found


def grants(synthesized: Synthesized, role: Any) -> set[tuple[str, str]]:
    """(action, resource) pairs the role's identity policies allow."""
    role_id = synthesized.ref(role)
    # No managed policy (AWSLambdaBasicExecutionRole grants logs writes everywhere).
    assert "ManagedPolicyArns" not in synthesized.properties(role)
    assert "Policies" not in synthesized.properties(role)
    pairs = set()
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert set(statement) == {"Action", "Effect", "Resource"}
            pairs |= {
                (action, render(resource))
                for action in _listed(statement["Action"])
                for resource in _listed(statement["Resource"])
            }
    return pairs


def test_no_allow_statement_has_a_wildcard_action(app: App) -> None:
    for synthesized in app.stages:
        for holder, statement in statements(synthesized):
            assert "NotAction" not in statement, holder
            if statement["Effect"] == "Allow":
                wildcards = [a for a in _listed(statement["Action"]) if "*" in a]
                assert wildcards == [], holder


def test_resource_star_only_for_actions_aws_cannot_scope(app: App) -> None:
    for synthesized in app.stages:
        for holder, statement in statements(synthesized):
            if statement["Effect"] == "Allow" and "*" in _listed(statement.get("Resource")):
                assert set(_listed(statement["Action"])) <= UNSCOPED_BY_AWS, holder


def test_executor_role_grants_exactly_what_the_executor_calls(app: App) -> None:
    for synthesized in app.stages:
        stack = synthesized.stack
        executor = stack.executor.function
        environment = synthesized.properties(executor.function)["Environment"]["Variables"]
        agents = Settings.from_env(environment).agents.values()
        expected = (
            {(a, f"<{synthesized.ref(executor.log_group)}.Arn>") for a in LOG_WRITES}
            | {(a, f"<{synthesized.ref(stack.table.resource)}.Arn>") for a in CHECKPOINT_ACTIONS}
            | {
                (
                    "bedrock:InvokeAgent",
                    ARN.format(
                        service="bedrock",
                        resource=f"agent-alias/{agent.agent_id}/{agent.alias_id}",
                    ),
                )
                for agent in agents
            }
            | {("sqs:SendMessage", f"<{synthesized.ref(stack.dead_letters)}.Arn>")}
        )
        assert grants(synthesized, executor.role) == expected
        assert len(agents) == 6


def test_checkpoint_grant_is_the_four_checkpointer_actions() -> None:
    """Not ``bedrock-agent-runtime:*`` style guesses: the IAM names of the calls made
    (DeleteItem: releasing the in-progress lease)."""
    assert sorted(CHECKPOINT_ACTIONS) == [
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    ]


def test_each_action_group_role_holds_exactly_the_registrys_actions(app: App) -> None:
    for synthesized in app.stages:
        functions = synthesized.stack.action_groups.functions
        assert sorted(functions) == sorted(group.name for group in ACTION_GROUPS)
        for group in ACTION_GROUPS:
            pairs = grants(synthesized, functions[group.name].role)
            log_group = f"<{synthesized.ref(functions[group.name].log_group)}.Arn>"
            assert {(a, r) for a, r in pairs if a in LOG_WRITES} == {
                (a, log_group) for a in LOG_WRITES
            }
            reads = {a for a, _ in pairs} - LOG_WRITES
            assert reads == set(group.actions), group.name


def test_action_group_reads_are_scoped_to_context_resources(app: App) -> None:
    for synthesized in app.stages:
        config = synthesized.config
        table = ARN.format(service="dynamodb", resource=f"table/{config.incident_history_table}")
        log_groups = {
            ARN.format(service="logs", resource=f"log-group:{name}")
            for group in config.log_groups
            for name in ([group] if group.endswith("*") else [group, f"{group}:*"])
        }
        expected = {
            "logs:StartQuery": log_groups,
            "dynamodb:GetItem": {table, f"{table}/index/*"},
            "dynamodb:Query": {table, f"{table}/index/*"},
        }
        for group in ACTION_GROUPS:
            role = synthesized.stack.action_groups.functions[group.name].role
            for action, resource in grants(synthesized, role):
                if action in LOG_WRITES:
                    continue
                assert resource in expected.get(action, {"*"}), (group.name, action, resource)
    assert app.prod.config.log_groups == ("/aws/lambda/*", "/ecs/checkout")


def test_action_group_functions_come_from_the_registry(app: App) -> None:
    for synthesized in app.stages:
        config = synthesized.config
        for group in ACTION_GROUPS:
            function = synthesized.properties(
                synthesized.stack.action_groups.functions[group.name].function
            )
            assert function["Handler"] == group.handler
            assert function["FunctionName"] == f"opx-action-{group.name}-{config.stage}"
            values = {INCIDENT_HISTORY_TABLE_ENV: config.incident_history_table}
            variables = function.get("Environment", {}).get("Variables", {})
            assert variables == {name: values[name] for name in group.env}


def test_only_this_accounts_bedrock_agents_may_invoke_action_groups(app: App) -> None:
    for synthesized in app.stages:
        permissions = [
            p["Properties"]
            for p in synthesized.resources("AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "bedrock.amazonaws.com"
        ]
        targets = sorted(p["FunctionName"]["Fn::GetAtt"][0] for p in permissions)
        assert targets == sorted(
            synthesized.ref(f.function) for f in synthesized.stack.action_groups.functions.values()
        )
        for permission in permissions:
            assert permission["Action"] == "lambda:InvokeFunction"
            assert permission["SourceAccount"] == ACCOUNT
            assert render(permission["SourceArn"]) == ARN.format(
                service="bedrock", resource="agent/*"
            )
