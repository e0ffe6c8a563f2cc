"""The EventBridge rule: opx's own incidents and native CloudWatch alarms in ALARM.

One pattern with ``$or``, built from the executor's event-contract constants, so
the rule forwards what ``opx.events.parse_event`` accepts and nothing it would
answer with a 400 (an alarm back to OK, another source). EventBridge retries a
failed delivery and then parks the event in the same dead-letter queue the
executor's asynchronous failures use: one queue to watch.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from opx.events import CLOUDWATCH_DETAIL_TYPE, CLOUDWATCH_SOURCE, OPX_DETAIL_TYPE, OPX_SOURCE

#: The only alarm state the executor analyses (``opx.events`` rejects the others).
ALARM_STATE = "ALARM"
DELIVERY_RETRY_ATTEMPTS = 8
DELIVERY_MAX_EVENT_AGE = Duration.hours(2)


def event_pattern() -> dict[str, Any]:
    return {
        "$or": [
            {"source": [OPX_SOURCE], "detail-type": [OPX_DETAIL_TYPE]},
            {
                "source": [CLOUDWATCH_SOURCE],
                "detail-type": [CLOUDWATCH_DETAIL_TYPE],
                "detail": {"state": {"value": [ALARM_STATE]}},
            },
        ]
    }


class Trigger(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        executor: lambda_.IFunction,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        pattern = event_pattern()
        self.rule = events.Rule(
            self,
            "Rule",
            description="opx incidents and CloudWatch alarms in ALARM -> opx executor",
            # The L2 requires a pattern but has no field for "$or": this placeholder is
            # replaced by the full pattern below.
            event_pattern=events.EventPattern(source=[OPX_SOURCE]),
        )
        rule_resource = self.rule.node.default_child
        assert isinstance(rule_resource, events.CfnRule)
        rule_resource.add_property_override("EventPattern", pattern)
        rule_resource.add_property_deletion_override("EventPattern.source")
        self.rule.add_target(
            targets.LambdaFunction(
                executor,
                dead_letter_queue=dead_letters,
                retry_attempts=DELIVERY_RETRY_ATTEMPTS,
                max_event_age=DELIVERY_MAX_EVENT_AGE,
            )
        )
