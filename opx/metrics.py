"""CloudWatch metrics in Embedded Metric Format (namespace ``Phase6``).

EMF is the Lambda-native path: the metric document is one structured log line that
CloudWatch turns into metrics, so the hot path makes no API call and cannot fail on
a throttled PutMetricData. Every outcome -- 200, 400 and 500 -- emits the same six
metrics, split by the ``Outcome`` dimension, so dashboards never miss a failure mode.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "Phase6"
SERVICE = "opx-executor"
#: ``Outcome`` of a 500: the execution failed and was handed back to Lambda to retry
#: (and at last to dead-letter); the stack alarms on it.
OUTCOME_ERROR = "error"
#: ``Outcome`` of a 409: a concurrent duplicate delivery, answered without any work.
OUTCOME_IN_PROGRESS = "in_progress"

_metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


@dataclass(frozen=True)
class ExecutionMetrics:
    outcome: str
    duration_ms: int
    cost_usd: Decimal = Decimal(0)
    #: Final status per agent that ran (SUCCESS / FAILURE / SKIPPED).
    agents: Mapping[str, str] = field(default_factory=dict)


def emit(record: ExecutionMetrics) -> None:
    """Write one EMF document for one handler invocation."""
    succeeded = sum(1 for status in record.agents.values() if status == "SUCCESS")
    failed = sum(1 for status in record.agents.values() if status == "FAILURE")
    attempted = succeeded + failed
    rate = float(Decimal(failed * 100) / attempted) if attempted else 0.0
    _metrics.set_timestamp(int(time.time() * 1000))
    _metrics.add_dimension(name="Outcome", value=record.outcome)
    _metrics.add_metric(name="Execution/Count", unit=MetricUnit.Count, value=1)
    _metrics.add_metric(
        name="Execution/DurationMs", unit=MetricUnit.Milliseconds, value=record.duration_ms
    )
    _metrics.add_metric(name="Cost/TotalUSD", unit=MetricUnit.NoUnit, value=float(record.cost_usd))
    _metrics.add_metric(name="Agent/SuccessCount", unit=MetricUnit.Count, value=succeeded)
    _metrics.add_metric(name="Agent/FailureCount", unit=MetricUnit.Count, value=failed)
    _metrics.add_metric(name="Agent/FailureRate", unit=MetricUnit.Percent, value=rate)
    _metrics.flush_metrics()
