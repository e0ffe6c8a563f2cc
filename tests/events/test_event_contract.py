from __future__ import annotations

from decimal import Decimal

import pytest

from opx.events import EventValidationError, cloudwatch_incident_id, parse_event
from tests.support import sample_event


def _fields(event: object) -> list[str]:
    with pytest.raises(EventValidationError) as caught:
        parse_event(event)
    return [error.field for error in caught.value.errors]


def test_opx_incident_is_normalized() -> None:
    incident = parse_event(sample_event("opx_incident"))
    assert incident.incident_id == "INC-2026-0001"
    assert incident.severity == "SEV1"
    assert incident.budget_usd == Decimal("0.50")
    assert incident.signals[0].observed_value == 42.0
    assert incident.origin.event_id == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"


def test_budget_given_as_a_json_number_keeps_its_decimal_text() -> None:
    event = sample_event("opx_incident")
    event["detail"]["budget_usd"] = 0.1
    assert parse_event(event).budget_usd == Decimal("0.1")


def test_aws_sample_alarm_event_becomes_an_incident() -> None:
    incident = parse_event(sample_event("aws_cloudwatch_alarm_state_change"))
    signal = incident.signals[0]
    assert (signal.metric_name, signal.namespace) == ("CPUUtilization", "AWS/EC2")
    assert signal.threshold == 50.0
    assert signal.observed_value == 99.50160229693434
    assert signal.dimensions == {"InstanceId": "i-12345678901234567"}
    assert incident.severity == "SEV2"  # the documented default: the alarm names none
    assert incident.service == "ServerCpuTooHigh"
    assert incident.incident_id == cloudwatch_incident_id(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh",
        "2019-10-02T17:04:40.989+0000",
    )
    assert incident.incident_id.startswith("INC-CW-")


def test_aws_composite_alarm_has_no_metric_signals_but_keeps_its_rule() -> None:
    incident = parse_event(sample_event("aws_cloudwatch_composite_alarm"))
    assert incident.signals == ()
    assert incident.evidence_bundle["alarm_rule"].startswith("ALARM(ServerCpuTooHigh)")


def test_alarm_severity_is_read_from_the_alarm_name() -> None:
    event = sample_event("aws_cloudwatch_alarm_state_change")
    event["detail"]["alarmName"] = "checkout-sev1-latency"
    assert parse_event(event).severity == "SEV1"


def test_alarm_incident_id_changes_with_the_state_change_time() -> None:
    first = sample_event("aws_cloudwatch_alarm_state_change")
    later = sample_event("aws_cloudwatch_alarm_state_change")
    later["detail"]["state"]["timestamp"] = "2019-10-02T18:00:00.000+0000"
    assert parse_event(first).incident_id != parse_event(later).incident_id


def test_alarm_back_to_ok_is_rejected() -> None:
    event = sample_event("aws_cloudwatch_alarm_state_change")
    event["detail"]["state"]["value"] = "OK"
    assert _fields(event) == ["detail.state.value"]


def test_other_aws_events_are_rejected_by_kind() -> None:
    assert _fields(sample_event("aws_ec2_state_change")) == ["source/detail-type"]


@pytest.mark.parametrize("event", [None, [], "text", 3, 1.5, True])
def test_non_objects_are_rejected_at_the_root(event: object) -> None:
    assert _fields(event) == ["$"]


def test_every_failing_field_is_named_at_once() -> None:
    event = sample_event("opx_incident")
    detail = event["detail"]
    detail["severity"] = "SEV9"
    detail["budget_usd"] = "-1"
    del detail["title"]
    detail["signals"][0]["threshold"] = None
    detail["unexpected"] = 1
    assert _fields(event) == [
        "detail.budget_usd",
        "detail.severity",
        "detail.signals",
        "detail.title",
        "detail.unexpected",
    ]


def test_envelope_fields_are_required() -> None:
    event = sample_event("opx_incident")
    del event["id"]
    del event["detail"]
    assert _fields(event) == ["detail", "id"]


def test_signal_errors_point_into_the_list() -> None:
    event = sample_event("opx_incident")
    event["detail"]["signals"][0]["timestamp"] = "2026-11-29T03:58:00"  # no offset
    assert _fields(event) == ["detail.signals[0].timestamp"]


def test_evidence_must_be_strict_json() -> None:
    event = sample_event("opx_incident")
    event["detail"]["evidence_bundle"] = {"p99": float("nan")}
    assert _fields(event) == ["detail.evidence_bundle"]


@pytest.mark.parametrize("value", [float("inf"), object(), b"bytes"])
def test_the_whole_event_must_be_strict_json(value: object) -> None:
    # The event is checkpointed verbatim; an envelope extra that JSON cannot hold
    # would make the checkpoint (and any scenario rebuilt from it) unfaithful.
    event = sample_event("opx_incident")
    event["replay-note"] = value
    assert _fields(event) == ["$"]
