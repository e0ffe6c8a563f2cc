from __future__ import annotations

from opx.events import parse_event
from opx.ids import execution_id
from tests.support import sample_event


def test_redelivery_gets_the_same_execution_id() -> None:
    assert execution_id(parse_event(sample_event("opx_incident"))) == execution_id(
        parse_event(sample_event("opx_incident"))
    )


def test_execution_id_depends_on_event_id_and_incident() -> None:
    base = execution_id(parse_event(sample_event("opx_incident")))
    other_event = sample_event("opx_incident")
    other_event["id"] = "another-delivery-id"
    other_incident = sample_event("opx_incident")
    other_incident["detail"]["incident_id"] = "INC-2026-0002"
    assert (
        len(
            {
                base,
                execution_id(parse_event(other_event)),
                execution_id(parse_event(other_incident)),
            }
        )
        == 3
    )


def test_execution_id_ignores_fields_outside_its_identity() -> None:
    edited = sample_event("opx_incident")
    edited["detail"]["title"] = "retitled"
    edited["time"] = "2030-01-01T00:00:00Z"
    assert execution_id(parse_event(edited)) == execution_id(
        parse_event(sample_event("opx_incident"))
    )


def test_known_value_is_stable_across_releases() -> None:
    # sha256 of ["6a7e8feb-b491-4cf7-a9f1-bf3703467718","opx.incident","INC-2026-0001"]
    # (compact JSON) -- pinned so a refactor cannot silently re-key every thread.
    assert execution_id(parse_event(sample_event("opx_incident"))) == (
        "exec-2e2b28d4830a5c667f92a48f58cf2c6d"
    )
