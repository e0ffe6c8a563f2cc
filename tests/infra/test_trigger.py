"""The EventBridge rule routes exactly the events the executor accepts.

The synthesized pattern is installed on a moto event bus with an SQS target, AWS's
sample events and opx's own are put on the bus, and the test reads what arrived:
moto routes by pattern (``$or`` and nested ``detail.state.value`` included), while
its ``TestEventPattern`` gives no result to rely on.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws

from opx.events import EventValidationError, parse_event
from tests.infra.conftest import App, Synthesized
from tests.support import sample_event


def _samples() -> dict[str, dict[str, Any]]:
    alarm_ok = sample_event("aws_cloudwatch_alarm_state_change")
    alarm_ok["id"] = "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92"
    alarm_ok["detail"]["previousState"], alarm_ok["detail"]["state"] = (
        alarm_ok["detail"]["state"],
        {**alarm_ok["detail"]["previousState"], "value": "OK"},
    )
    return {
        "opx_incident": sample_event("opx_incident"),
        "aws_cloudwatch_alarm_state_change": sample_event("aws_cloudwatch_alarm_state_change"),
        "aws_cloudwatch_composite_alarm": sample_event("aws_cloudwatch_composite_alarm"),
        "aws_ec2_state_change": sample_event("aws_ec2_state_change"),
        "alarm_back_to_ok": alarm_ok,
    }


def _accepted_by_executor(event: dict[str, Any]) -> bool:
    try:
        parse_event(event)
    except EventValidationError:
        return False
    return True


def _route(pattern: dict[str, Any], events: dict[str, dict[str, Any]]) -> set[str]:
    """Names of the ``events`` that reach the rule's target on a moto bus."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        bridge = boto3.client("events", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="routed")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        bridge.create_event_bus(Name="opx")
        bridge.put_rule(Name="opx-trigger", EventBusName="opx", EventPattern=json.dumps(pattern))
        bridge.put_targets(
            Rule="opx-trigger", EventBusName="opx", Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        for name, event in events.items():
            response = bridge.put_events(
                Entries=[
                    {
                        "EventBusName": "opx",
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]),
                        "Resources": event.get("resources", []),
                    }
                ]
            )
            assert response["FailedEntryCount"] == 0, name
        arrived = []
        while True:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            if "Messages" not in batch:
                break
            arrived += [json.loads(m["Body"]) for m in batch["Messages"]]
    # Arrivals are told apart by content: every sample differs in source, type or detail.
    by_content = {
        (e["source"], e["detail-type"], json.dumps(e["detail"], sort_keys=True)): name
        for name, e in events.items()
    }
    return {
        by_content[(e["source"], e["detail-type"], json.dumps(e["detail"], sort_keys=True))]
        for e in arrived
    }


def _pattern(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.only("AWS::Events::Rule")["Properties"]["EventPattern"]


def test_pattern_routes_the_opx_event_and_alarms_in_alarm_only(dev: Synthesized) -> None:
    samples = _samples()
    arrived = _route(_pattern(dev), samples)
    assert arrived == {
        "opx_incident",
        "aws_cloudwatch_alarm_state_change",
        "aws_cloudwatch_composite_alarm",
    }
    # The rule and the executor's event contract agree on every sample.
    assert arrived == {name for name, e in samples.items() if _accepted_by_executor(e)}


def test_pattern_is_one_branch_per_event_kind(dev: Synthesized) -> None:
    assert _pattern(dev) == {
        "$or": [
            {"source": ["opx.incident"], "detail-type": ["IncidentCreated"]},
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "detail": {"state": {"value": ["ALARM"]}},
            },
        ]
    }


def test_rule_targets_the_executor_with_retries_and_the_dead_letter_queue(app: App) -> None:
    for synthesized in app.stages:
        (target,) = synthesized.only("AWS::Events::Rule")["Properties"]["Targets"]
        stack = synthesized.stack
        assert target["Arn"] == {
            "Fn::GetAtt": [synthesized.ref(stack.executor.function.function), "Arn"]
        }
        assert target["DeadLetterConfig"] == {
            "Arn": {"Fn::GetAtt": [synthesized.ref(stack.dead_letters), "Arn"]}
        }
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 8,
            "MaximumEventAgeInSeconds": 7200,
        }
