"""The executor Lambda: settings, and an environment the executor itself accepts."""

from __future__ import annotations

import importlib

from aws_cdk.assertions import Match

from opx import metrics
from opx.agents.settings import DEFAULT_AGENT_IDS, DEFAULT_ALIAS_ID, AgentSettings
from opx.checkpointing import TABLE_SCHEMA
from opx.config import Settings
from tests.infra.conftest import App, Synthesized


def _executor(synthesized: Synthesized) -> dict:
    (function,) = synthesized.template.find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"FunctionName": f"opx-executor-{synthesized.config.stage}"}},
    ).values()
    return function["Properties"]


def test_lambda_settings(app: App) -> None:
    for synthesized in app.stages:
        function = _executor(synthesized)
        assert function["Runtime"] == "python3.11"
        assert function["Timeout"] == 5 * 60
        assert function["MemorySize"] == 512
        assert function["Handler"] == "opx.lambda_handler.handler"


def test_handler_names_the_executors_entry_point(dev: Synthesized) -> None:
    module, _, name = _executor(dev)["Handler"].rpartition(".")
    handler = getattr(importlib.import_module(module), name)
    assert callable(handler)
    assert handler.__module__ == "opx.lambda_handler"


def test_the_executor_parses_the_synthesized_environment(app: App) -> None:
    """Feed the Lambda's environment to opx's own settings parser: no drift possible."""
    for synthesized in app.stages:
        environment = _executor(synthesized)["Environment"]["Variables"]
        settings = Settings.from_env(environment)
        assert settings.use_dynamodb_checkpointing is True
        assert settings.checkpoint_table_name == TABLE_SCHEMA.table_name(synthesized.config.stage)
        assert dict(settings.agents) == dict(synthesized.config.agents)
        assert environment["POWERTOOLS_SERVICE_NAME"] == metrics.SERVICE
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == metrics.NAMESPACE


def test_agent_ids_default_to_the_executors_and_follow_context(app: App) -> None:
    assert dict(app.dev.config.agents) == {
        agent: AgentSettings(agent_id, DEFAULT_ALIAS_ID)
        for agent, agent_id in DEFAULT_AGENT_IDS.items()
    }
    environment = _executor(app.prod)["Environment"]["Variables"]
    assert environment["OPX_AGENT_SIGNAL_INTELLIGENCE_ID"] == "SIGNALPROD"
    assert environment["OPX_AGENT_SIGNAL_INTELLIGENCE_ALIAS_ID"] == "LIVE1"
    assert environment["OPX_AGENT_KNOWLEDGE_RAG_ID"] == DEFAULT_AGENT_IDS["knowledge-rag"]
    assert environment["OPX_AGENT_KNOWLEDGE_RAG_ALIAS_ID"] == "LIVE2"


def test_async_failures_retry_then_land_in_the_dead_letter_queue(app: App) -> None:
    for synthesized in app.stages:
        synthesized.template.has_resource_properties(
            "AWS::Lambda::EventInvokeConfig",
            {
                "FunctionName": {
                    "Ref": synthesized.ref(synthesized.stack.executor.function.function)
                },
                "MaximumRetryAttempts": 2,
                "DestinationConfig": {
                    "OnFailure": {
                        "Destination": {
                            "Fn::GetAtt": [synthesized.ref(synthesized.stack.dead_letters), "Arn"]
                        }
                    }
                },
            },
        )


def test_dead_letter_queue_is_encrypted_and_tls_only(dev: Synthesized) -> None:
    queue = dev.only("AWS::SQS::Queue")["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    dev.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )
