"""Lambda functions with their own role and log group, and nothing granted by default.

CDK's default Lambda role attaches the AWS managed ``AWSLambdaBasicExecutionRole``
(``logs:*`` writes on every log group). Here each function gets a bare role and
write access to its own log group only; callers add exactly what the code calls.
"""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

#: The Python the executor is tested and replayed on (CI); the bundle targets it too.
RUNTIME = lambda_.Runtime.PYTHON_3_11
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


class OwnRoleFunction(Construct):
    """A function, its role and its log group; ``self.role`` holds only log writes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        handler: str,
        code: lambda_.Code,
        timeout: Duration,
        memory_mb: int,
        environment: Mapping[str, str],
        stage: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: its log group plus what its code calls",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=RUNTIME,
            handler=handler,
            code=code,
            timeout=timeout,
            memory_size=memory_mb,
            environment=dict(environment),
            role=self.role,
            log_group=self.log_group,
        )
        NagSuppressions.add_resource_suppressions(
            self.function,
            [
                NagPackSuppression(
                    id="AwsSolutions-L1",
                    reason=f"{RUNTIME.name} is the Python the executor is tested and replayed "
                    "on in CI; moving to a newer runtime is a tested change, not a default",
                )
            ],
        )


@jsii.implements(lambda_.IDestination)
class SendOnlyQueueDestination:
    """An on-failure SQS destination granting ``sqs:SendMessage`` only.

    ``aws_lambda_destinations.SqsDestination`` also grants ``GetQueueAttributes`` and
    ``GetQueueUrl``, which Lambda's asynchronous invocation never calls.
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(
        self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType
    ) -> lambda_.DestinationConfig:
        self.queue.grant(fn, "sqs:SendMessage")
        return lambda_.DestinationConfig(destination=self.queue.queue_arn)
