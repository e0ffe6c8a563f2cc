"""The handler never raises, whatever JSON arrives."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opx.errors import response_of
from opx.lambda_handler import handler
from tests.e2e.fake_bedrock import FakeBedrock
from tests.support import sample_event

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

_SAMPLES = ("opx_incident", "aws_cloudwatch_alarm_state_change")


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A real sample event with one field replaced by arbitrary JSON, or deleted."""
    event = sample_event(draw(st.sampled_from(_SAMPLES)))
    path = draw(st.sampled_from(_paths(event)))
    parent = event
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON)
    return event


def _check(result: Any) -> None:
    assert isinstance(result, dict)
    assert result["statusCode"] in (200, 400, 409, 500)
    json.dumps(result, allow_nan=False)  # the body is always plain, strict JSON
    if result["statusCode"] == 400:
        assert result["body"]["error"] == "INPUT_VALIDATION_FAILED"
        assert result["body"]["details"]
        assert all(isinstance(d["field"], str) and d["message"] for d in result["body"]["details"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=JSON)
def test_arbitrary_json_is_answered_with_400(event: Any) -> None:
    result = handler(event, None)
    _check(result)
    assert result["statusCode"] == 400


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(event=mutated_events())
def test_mutated_real_events_never_raise(event: Any, bedrock: FakeBedrock) -> None:
    # Nothing but the documented retry signal may leave the handler.
    _check(response_of(handler, event, object()))
