"""CDK context: executor defaults when absent, one line naming the key when wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from opx_infra.config import DEFAULT_LOG_GROUPS, BundleMode, ContextError, StackConfig

from opx.agents.settings import DEFAULT_AGENT_IDS, DEFAULT_ALIAS_ID
from tests.infra.conftest import INFRA


def test_defaults_are_the_executors() -> None:
    config = StackConfig.from_context({}.get)
    assert config.stage == "dev"
    assert config.bundle is BundleMode.SOURCE
    assert {a: (s.agent_id, s.alias_id) for a, s in config.agents.items()} == {
        agent: (agent_id, DEFAULT_ALIAS_ID) for agent, agent_id in DEFAULT_AGENT_IDS.items()
    }
    assert config.log_groups == DEFAULT_LOG_GROUPS
    assert config.incident_history_table == "opx-incident-history-dev"
    assert config.alarm_topic_arn is None


def test_command_line_context_arrives_as_text() -> None:
    """``-c key=value`` passes strings: JSON objects and lists are parsed from text."""
    context = {
        "opx:agents": json.dumps({"risk-blast-radius": {"id": "RISKPROD1"}}),
        "opx:logGroups": json.dumps(["/aws/lambda/checkout", "/ecs/*"]),
        "opx:bundle": "full",
    }
    config = StackConfig.from_context(context.get)
    assert config.agents["risk-blast-radius"].agent_id == "RISKPROD1"
    assert config.log_groups == ("/aws/lambda/checkout", "/ecs/*")
    assert config.bundle is BundleMode.FULL


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"stage": "qa"}, "context stage: 'qa' is not one of dev, prod"),
        ({"opx:bundle": "docker"}, "context opx:bundle: 'docker' is not one of source, full"),
        ({"opx:agents": "{"}, "context opx:agents: not valid JSON"),
        ({"opx:agents": ["x"]}, "context opx:agents: expected an object"),
        ({"opx:agents": {"triage": {}}}, "context opx:agents: unknown agent 'triage'"),
        ({"opx:agents": {"knowledge-rag": {"agent": "X"}}}, "context opx:agents.knowledge-rag:"),
        (
            {"opx:agents": {"knowledge-rag": {"id": "not valid!"}}},
            "context opx:agents.knowledge-rag: agent_id 'not valid!' does not match",
        ),
        ({"opx:logGroups": []}, "context opx:logGroups: expected a non-empty list"),
        ({"opx:logGroups": "/aws/x y"}, "context opx:logGroups: '/aws/x y' does not match"),
        ({"opx:incidentHistoryTable": "a b"}, "context opx:incidentHistoryTable: 'a b'"),
        ({"opx:alarmTopicArn": "arn:aws:sqs:x"}, "context opx:alarmTopicArn: 'arn:aws:sqs:x'"),
    ],
)
def test_bad_context_names_its_key(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ContextError) as raised:
        StackConfig.from_context(context.get)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_app_exits_with_one_line_for_bad_context() -> None:
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"stage": "qa"})}
    done = subprocess.run(
        [sys.executable, str(INFRA / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: context stage: 'qa' is not one of dev, prod"]
