"""The agent-failure-rate alarm and the dead-letter depth alarm."""

from __future__ import annotations

from typing import Any

from opx_infra.alarms import AGENT_OUTCOMES, FAILURE_COUNT, SUCCESS_COUNT

from opx import metrics
from tests.infra.conftest import PROD_CONTEXT, App, Synthesized


def _alarm(synthesized: Synthesized, suffix: str) -> dict[str, Any]:
    name = f"opx-{synthesized.config.stage}-{suffix}"
    (alarm,) = synthesized.template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": name}}
    ).values()
    return alarm["Properties"]


def test_failure_rate_is_failed_over_all_agent_calls_of_every_outcome(dev: Synthesized) -> None:
    alarm = _alarm(dev, "agent-failure-rate")
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["ReturnData"] is True
    stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert all(stat["Stat"] == "Sum" and stat["Period"] == 300 for stat in stats.values())
    series = {
        (
            stat["Metric"]["MetricName"],
            {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}["Outcome"],
        ): metric_id
        for metric_id, stat in stats.items()
    }
    assert set(series) == {
        (name, outcome) for name in (FAILURE_COUNT, SUCCESS_COUNT) for outcome in AGENT_OUTCOMES
    }
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == metrics.NAMESPACE
        assert {"Name": "service", "Value": metrics.SERVICE} in stat["Metric"]["Dimensions"]
    # METRICS("<prefix>") picks the series by id: failures and successes, nothing else.
    failures = {i for (name, _), i in series.items() if name == FAILURE_COUNT}
    successes = {i for (name, _), i in series.items() if name == SUCCESS_COUNT}
    assert {i for i in stats if i.startswith("failures_")} == failures
    assert {i for i in stats if i.startswith("successes_")} == successes
    assert expression["Expression"] == (
        'IF((SUM(FILL(METRICS("failures_"), 0)) + SUM(FILL(METRICS("successes_"), 0))) > 0, '
        '100 * SUM(FILL(METRICS("failures_"), 0)) / '
        '(SUM(FILL(METRICS("failures_"), 0)) + SUM(FILL(METRICS("successes_"), 0))), 0)'
    )
    assert alarm["Threshold"] == 25
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["EvaluationPeriods"] == 3
    assert alarm["TreatMissingData"] == "notBreaching"


def test_dead_letter_alarm_fires_on_one_visible_message(app: App) -> None:
    for synthesized in app.stages:
        alarm = _alarm(synthesized, "dead-letters")
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Dimensions"] == [
            {
                "Name": "QueueName",
                "Value": {
                    "Fn::GetAtt": [synthesized.ref(synthesized.stack.dead_letters), "QueueName"]
                },
            }
        ]
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_alarms_notify_the_context_topic_when_given(app: App) -> None:
    for suffix in ("agent-failure-rate", "dead-letters"):
        assert _alarm(app.prod, suffix)["AlarmActions"] == [PROD_CONTEXT["opx:alarmTopicArn"]]
        assert "AlarmActions" not in _alarm(app.dev, suffix)


def test_execution_error_alarm_fires_on_one_error_outcome(app: App) -> None:
    for synthesized in app.stages:
        alarm = _alarm(synthesized, "execution-errors")
        assert alarm["Namespace"] == metrics.NAMESPACE
        assert alarm["MetricName"] == "Execution/Count"
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": "Outcome", "Value": metrics.OUTCOME_ERROR},
            {"Name": "service", "Value": metrics.SERVICE},
        ]
        assert alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 1
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert _alarm(app.prod, "execution-errors")["AlarmActions"] == [
        PROD_CONTEXT["opx:alarmTopicArn"]
    ]
