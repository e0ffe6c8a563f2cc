"""The event contract: which EventBridge events start an incident analysis.

Two shapes are accepted and normalized into one :class:`Incident`:

* ``source: "opx.incident"``, ``detail-type: "IncidentCreated"`` -- opx's own event;
* ``source: "aws.cloudwatch"``, ``detail-type: "CloudWatch Alarm State Change"`` in
  state ``ALARM`` -- AWS's native alarm event, so an alarm can page opx directly.

Everything else is rejected with :class:`EventValidationError`, which carries one
entry per failing field so the 400 response can name them all at once.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

OPX_SOURCE = "opx.incident"
OPX_DETAIL_TYPE = "IncidentCreated"
CLOUDWATCH_SOURCE = "aws.cloudwatch"
CLOUDWATCH_DETAIL_TYPE = "CloudWatch Alarm State Change"
SUPPORTED_EVENTS: tuple[tuple[str, str], ...] = (
    (OPX_SOURCE, OPX_DETAIL_TYPE),
    (CLOUDWATCH_SOURCE, CLOUDWATCH_DETAIL_TYPE),
)

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
#: Severity of an alarm whose name and description name none (see README).
DEFAULT_ALARM_SEVERITY: Severity = "SEV2"
_SEVERITY_IN_TEXT = re.compile(r"\bSEV([1-4])\b", re.IGNORECASE)

NonEmpty = Annotated[str, Field(min_length=1, max_length=512)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class FieldError(BaseModel):
    field: str
    message: str


class EventValidationError(Exception):
    """The event is not one opx accepts; ``errors`` names every failing field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.field, e.message))
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


class Signal(BaseModel):
    """One alarm or metric observation that contributed to the incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alarm_name: NonEmpty | None = None
    metric_name: NonEmpty
    namespace: NonEmpty
    dimensions: dict[str, str] = Field(default_factory=dict)
    threshold: FiniteFloat | None
    observed_value: FiniteFloat | None
    timestamp: AwareDatetime


class OpxIncidentDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    service: NonEmpty
    severity: Severity
    title: Annotated[str, Field(min_length=1, max_length=1024)]
    signals: Annotated[list[Signal], Field(min_length=1, max_length=100)]
    evidence_bundle: dict[str, Any]
    budget_usd: Annotated[Decimal, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None

    @field_validator("evidence_bundle")
    @classmethod
    def _strict_json(cls, evidence: dict[str, Any]) -> dict[str, Any]:
        # NaN/Infinity parse in Python but are not JSON: they would make prompts and
        # checkpoints non-canonical, so they are refused at the door.
        try:
            json.dumps(evidence, allow_nan=False)
        except ValueError:
            raise ValueError("evidence_bundle must be strict JSON (no NaN or Infinity)") from None
        return evidence

    @field_validator("signals")
    @classmethod
    def _opx_signals_carry_values(cls, signals: list[Signal]) -> list[Signal]:
        # opx's own producers always know threshold and value; only normalized
        # CloudWatch composite alarms may lack them.
        for signal in signals:
            if signal.threshold is None or signal.observed_value is None:
                raise ValueError("every signal needs threshold and observed_value")
        return signals


class Envelope(BaseModel):
    """The EventBridge envelope fields opx relies on."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=256)]
    source: NonEmpty
    detail_type: Annotated[str, Field(alias="detail-type", min_length=1, max_length=256)]
    account: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None = None
    region: str | None = None
    time: AwareDatetime | None = None
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any]


class Origin(BaseModel):
    """Where the incident came from, kept for audit and for rebuilding scenarios."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str
    source: str
    detail_type: str
    account: str | None
    region: str | None
    time: AwareDatetime | None


class Incident(BaseModel):
    """The normalized incident every agent reasons about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    incident_id: str
    service: str
    severity: Severity
    title: str
    signals: tuple[Signal, ...]
    evidence_bundle: dict[str, Any]
    budget_usd: Decimal | None
    origin: Origin


# --------------------------------------------------------------------------- parsing


def _loc(prefix: str, loc: tuple[int | str, ...]) -> str:
    parts = [prefix] if prefix else []
    for item in loc:
        parts.append(f"[{item}]" if isinstance(item, int) else str(item))
    return ".".join(parts).replace(".[", "[")


def _errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    return [FieldError(field=_loc(prefix, e["loc"]) or "$", message=e["msg"]) for e in exc.errors()]


def parse_event(event: object) -> Incident:
    """Validate an EventBridge event and normalize it into an :class:`Incident`."""
    if not isinstance(event, dict):
        raise EventValidationError(
            [FieldError(field="$", message=f"event must be a JSON object, got {_kind(event)}")]
        )
    try:
        envelope = Envelope.model_validate(event)
    except ValidationError as exc:
        raise EventValidationError(_errors(exc)) from None
    kind = (envelope.source, envelope.detail_type)
    if kind not in SUPPORTED_EVENTS:
        supported = ", ".join(f"{s}/{d}" for s, d in SUPPORTED_EVENTS)
        raise EventValidationError(
            [
                FieldError(
                    field="source/detail-type",
                    message=f"unsupported event {kind[0]}/{kind[1]}; expected one of {supported}",
                )
            ]
        )
    origin = Origin(
        event_id=envelope.id,
        source=envelope.source,
        detail_type=envelope.detail_type,
        account=envelope.account,
        region=envelope.region,
        time=envelope.time,
    )
    if envelope.source == OPX_SOURCE:
        incident = _from_opx(envelope.detail, origin)
    else:
        incident = _from_cloudwatch(envelope, origin)
    try:
        # The event is checkpointed verbatim (to rebuild scenarios from the table):
        # only what EventBridge itself could have delivered is accepted.
        json.dumps(event, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise EventValidationError(
            [FieldError(field="$", message=f"event must be strict JSON ({exc})")]
        ) from None
    return incident


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _from_opx(detail: dict[str, Any], origin: Origin) -> Incident:
    try:
        parsed = OpxIncidentDetail.model_validate(detail)
    except ValidationError as exc:
        raise EventValidationError(_errors(exc, "detail")) from None
    return Incident(
        incident_id=parsed.incident_id,
        service=parsed.service,
        severity=parsed.severity,
        title=parsed.title,
        signals=tuple(parsed.signals),
        evidence_bundle=parsed.evidence_bundle,
        budget_usd=parsed.budget_usd,
        origin=origin,
    )


class _CwMetric(BaseModel):
    name: NonEmpty
    namespace: NonEmpty
    dimensions: dict[str, str] = Field(default_factory=dict)


class _CwMetricStat(BaseModel):
    metric: _CwMetric


class _CwMetricQuery(BaseModel):
    id: str | None = None
    metricStat: _CwMetricStat | None = None
    expression: str | None = None


class _CwConfiguration(BaseModel):
    description: str | None = None
    metrics: list[_CwMetricQuery] = Field(default_factory=list)
    alarmRule: str | None = None


class _CwState(BaseModel):
    value: str
    reason: str | None = None
    reasonData: str | None = None
    timestamp: str

    @field_validator("timestamp")
    @classmethod
    def _parses(cls, value: str) -> str:
        _parse_cw_time(value)
        return value


class _CwDetail(BaseModel):
    alarmName: NonEmpty
    state: _CwState
    configuration: _CwConfiguration = Field(default_factory=_CwConfiguration)


def _parse_cw_time(value: str) -> datetime:
    """CloudWatch writes ``2019-10-02T17:04:40.989+0000``; Python reads it directly."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp must carry a UTC offset")
    return parsed.astimezone(UTC)


def _from_cloudwatch(envelope: Envelope, origin: Origin) -> Incident:
    try:
        detail = _CwDetail.model_validate(envelope.detail)
    except ValidationError as exc:
        raise EventValidationError(_errors(exc, "detail")) from None
    if detail.state.value != "ALARM":
        raise EventValidationError(
            [
                FieldError(
                    field="detail.state.value",
                    message=f"only ALARM transitions start an incident, got {detail.state.value!r}",
                )
            ]
        )
    alarm_arn = envelope.resources[0] if envelope.resources else f"alarm:{detail.alarmName}"
    changed_at = _parse_cw_time(detail.state.timestamp)
    threshold, observed = _reason_values(detail.state.reasonData)
    signals = tuple(
        Signal(
            alarm_name=detail.alarmName,
            metric_name=query.metricStat.metric.name,
            namespace=query.metricStat.metric.namespace,
            dimensions=query.metricStat.metric.dimensions,
            threshold=threshold,
            observed_value=observed,
            timestamp=changed_at,
        )
        for query in detail.configuration.metrics
        if query.metricStat is not None
    )
    description = detail.configuration.description or ""
    return Incident(
        incident_id=cloudwatch_incident_id(alarm_arn, detail.state.timestamp),
        service=_alarm_service(detail, signals),
        severity=_alarm_severity(detail.alarmName, description),
        title=f"CloudWatch alarm {detail.alarmName} in ALARM",
        signals=signals,
        evidence_bundle={
            "alarm_arn": alarm_arn,
            "alarm_rule": detail.configuration.alarmRule,
            "description": description,
            "reason": detail.state.reason,
        },
        budget_usd=None,
        origin=origin,
    )


def cloudwatch_incident_id(alarm_arn: str, state_timestamp: str) -> str:
    """One incident per alarm per state change: a redelivery maps to the same id."""
    digest = hashlib.sha256(f"{alarm_arn}|{state_timestamp}".encode()).hexdigest()
    return f"INC-CW-{digest[:16]}"


def _reason_values(reason_data: str | None) -> tuple[float | None, float | None]:
    """Threshold and the newest datapoint from the alarm's ``reasonData`` JSON, if any."""
    if not reason_data:
        return None, None
    try:
        data = json.loads(reason_data)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    threshold = data.get("threshold")
    points = data.get("recentDatapoints")
    observed = points[-1] if isinstance(points, list) and points else None
    return _finite(threshold), _finite(observed)


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


_SERVICE_DIMENSIONS = (
    "ServiceName",
    "FunctionName",
    "ApiName",
    "TableName",
    "DBInstanceIdentifier",
)


def _alarm_service(detail: _CwDetail, signals: tuple[Signal, ...]) -> str:
    """The first well-known service dimension, else the alarm's name."""
    for name in _SERVICE_DIMENSIONS:
        for signal in signals:
            if signal.dimensions.get(name):
                return signal.dimensions[name]
    return detail.alarmName


def _alarm_severity(alarm_name: str, description: str) -> Severity:
    match = _SEVERITY_IN_TEXT.search(f"{alarm_name} {description}")
    return f"SEV{match.group(1)}" if match else DEFAULT_ALARM_SEVERITY  # type: ignore[return-value]
