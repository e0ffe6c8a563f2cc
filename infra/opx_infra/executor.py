"""The executor Lambda (seed task 2b): 5 minutes, 512 MB, checkpoints in DynamoDB.

Its environment is exactly what ``opx.config.Settings.from_env`` reads (the tests
feed the synthesized environment to that parser), its role holds the checkpointer's
DynamoDB actions and ``bedrock:InvokeAgent`` on the six configured agent aliases,
and an invocation that still fails after Lambda's asynchronous retries lands in the
dead-letter queue -- a redelivery resumes from the last checkpoint, so retries are
safe.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from opx import metrics
from opx.agents.settings import env_prefix
from opx_infra.config import StackConfig
from opx_infra.functions import OwnRoleFunction, SendOnlyQueueDestination
from opx_infra.permissions import checkpoint_statement, invoke_agents_statement
from opx_infra.table import CheckpointTable

HANDLER = "opx.lambda_handler.handler"
TIMEOUT = Duration.minutes(5)
MEMORY_MB = 512
#: Lambda's maximum; each retry resumes the same execution from its checkpoint.
ASYNC_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = Duration.hours(6)


def executor_environment(config: StackConfig, table_name: str) -> dict[str, str]:
    """The variables README "Environment" documents, with this stage's values."""
    environment = {
        "USE_DYNAMODB_CHECKPOINTING": "true",
        "CHECKPOINT_TABLE_NAME": table_name,
        "POWERTOOLS_SERVICE_NAME": metrics.SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": metrics.NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    for agent, settings in config.agents.items():
        environment[f"{env_prefix(agent)}_ID"] = settings.agent_id
        environment[f"{env_prefix(agent)}_ALIAS_ID"] = settings.alias_id
    return environment


class Executor(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        code: lambda_.Code,
        table: CheckpointTable,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = OwnRoleFunction(
            self,
            "Lambda",
            function_name=f"opx-executor-{config.stage}",
            handler=HANDLER,
            code=code,
            timeout=TIMEOUT,
            memory_mb=MEMORY_MB,
            environment=executor_environment(config, table.table_name),
            stage=config.stage,
        )
        role = self.function.role
        role.add_to_policy(checkpoint_statement(table.table_arn))
        role.add_to_policy(invoke_agents_statement(Stack.of(self), config.agents.values()))
        self.function.function.configure_async_invoke(
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
            on_failure=SendOnlyQueueDestination(dead_letters),
        )
