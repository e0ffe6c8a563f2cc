"""``OpxStack``: everything one stage of opx needs, wired together."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from opx_infra.action_groups import ActionGroupFunctions
from opx_infra.alarms import Alarms
from opx_infra.bundling import lambda_code
from opx_infra.config import BundleMode, StackConfig
from opx_infra.executor import Executor
from opx_infra.functions import RUNTIME
from opx_infra.table import CheckpointTable
from opx_infra.trigger import Trigger


class OpxStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        code = lambda_code(config.bundle, RUNTIME)
        if config.bundle is BundleMode.SOURCE:
            Annotations.of(self).add_warning_v2(
                "opx:bundle-source",
                "opx:bundle=source: the Lambda asset holds opx/ without its dependencies and "
                "cannot run; deploy with -c opx:bundle=full (cdk.json sets it)",
            )
        self.table = CheckpointTable(self, "Checkpoints", stage=config.stage)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        NagSuppressions.add_resource_suppressions(
            self.dead_letters,
            [
                NagPackSuppression(
                    id="AwsSolutions-SQS3",
                    reason="This queue is the dead-letter queue: the executor's on-failure "
                    "destination and the EventBridge target's DLQ (neither is an SQS redrive "
                    "policy, which is all the rule looks for)",
                )
            ],
        )
        self.executor = Executor(
            self,
            "Executor",
            config=config,
            code=code,
            table=self.table,
            dead_letters=self.dead_letters,
        )
        self.trigger = Trigger(
            self,
            "Trigger",
            executor=self.executor.function.function,
            dead_letters=self.dead_letters,
        )
        self.action_groups = ActionGroupFunctions(self, "ActionGroups", config=config, code=code)
        self.alarms = Alarms(
            self,
            "Alarms",
            stage=config.stage,
            dead_letters=self.dead_letters,
            topic_arn=config.alarm_topic_arn,
        )
