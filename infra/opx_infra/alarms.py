"""Three alarms: agents failing, executions failing, and incidents never analysed.

**Agent failure rate.** The executor emits ``Agent/FailureRate`` once per invocation,
split by the ``Outcome`` dimension (``opx.metrics``). An alarm on that metric would
have to pick one ``Outcome`` and would average per-invocation rates; the fleet-wide
rate -- failed agent calls over all agent calls -- is metric math over the
``Agent/FailureCount`` and ``Agent/SuccessCount`` sums of every outcome in which
agents run. ``invalid_input``, ``error`` and ``in_progress`` invocations run no agent
and emit zero counts, as does a ``failed`` one whose budget admitted no agent (checked
against replays in ``tests/infra/test_executor_contract.py``).

**Execution errors.** Every 500 is emitted with ``Outcome=error`` and handed back to
Lambda as :class:`opx.errors.ExecutionRetryError`; one in five minutes alarms, long
before its retries run out and the event reaches the dead-letter queue.

**Dead letters.** Any message in the dead-letter queue is an incident that was
never analysed.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from opx import metrics

#: ``Outcome`` values of a completed graph: ``opx.graph`` status, lower-cased.
AGENT_OUTCOMES = ("succeeded", "degraded", "failed")
FAILURE_COUNT = "Agent/FailureCount"
SUCCESS_COUNT = "Agent/SuccessCount"
EXECUTION_COUNT = "Execution/Count"
PERIOD = Duration.minutes(5)
#: Percent of agent calls failing, over three consecutive 5-minute periods.
FAILURE_RATE_THRESHOLD = 25


def agent_metric(name: str, outcome: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=metrics.NAMESPACE,
        metric_name=name,
        dimensions_map={"service": metrics.SERVICE, "Outcome": outcome},
        statistic="Sum",
        period=PERIOD,
    )


def agent_failure_rate() -> cloudwatch.MathExpression:
    """100 * failures / (failures + successes), 0 when no agent ran."""
    using = {
        f"{prefix}_{outcome}": agent_metric(name, outcome)
        for prefix, name in (("failures", FAILURE_COUNT), ("successes", SUCCESS_COUNT))
        for outcome in AGENT_OUTCOMES
    }
    failures = 'SUM(FILL(METRICS("failures_"), 0))'
    calls = f'({failures} + SUM(FILL(METRICS("successes_"), 0)))'
    return cloudwatch.MathExpression(
        expression=f"IF({calls} > 0, 100 * {failures} / {calls}, 0)",
        using_metrics=using,
        label="Agent/FailureRate (all outcomes, %)",
        period=PERIOD,
    )


def execution_errors() -> cloudwatch.Metric:
    """Invocations that ended in a 500 (``Outcome=error``), summed per period."""
    return agent_metric(EXECUTION_COUNT, metrics.OUTCOME_ERROR)


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        dead_letters: sqs.IQueue,
        topic_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.agent_failure_rate = agent_failure_rate().create_alarm(
            self,
            "AgentFailureRate",
            alarm_name=f"opx-{stage}-agent-failure-rate",
            alarm_description=(
                f"At least {FAILURE_RATE_THRESHOLD}% of Bedrock agent calls failed for "
                "15 minutes (Phase6 Agent/FailureCount over all calls)"
            ),
            threshold=FAILURE_RATE_THRESHOLD,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dead_letters = dead_letters.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic="Maximum"
        ).create_alarm(
            self,
            "DeadLetters",
            alarm_name=f"opx-{stage}-dead-letters",
            alarm_description="An incident event could not be delivered to or processed by "
            "the executor; it waits in the dead-letter queue",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.execution_errors = execution_errors().create_alarm(
            self,
            "ExecutionErrors",
            alarm_name=f"opx-{stage}-execution-errors",
            alarm_description="The executor failed an incident (Outcome=error: a 500 handed "
            "back to Lambda, which retries it and at last dead-letters it)",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if topic_arn is not None:
            topic = actions.SnsAction(sns.Topic.from_topic_arn(self, "Topic", topic_arn))
            for alarm in (self.agent_failure_rate, self.dead_letters, self.execution_errors):
                alarm.add_alarm_action(topic)
