"""Capture building blocks: rebuilding answers from checkpoints, and re-deriving
requests -- each failure names what could not be rebuilt."""

from __future__ import annotations

from typing import Any

import pytest

from harness.authoring import ExecutorSpec, author, unanimous
from harness.capture import CaptureError, stored_answers
from harness.capture.rederive import RecordedAnswer, RederiveError, rederive
from harness.scenario import EventStreamAnswer, Scenario
from tests.harness.conftest import START
from tests.support import sample_event


def _result(*responses: dict[str, Any]) -> dict[str, Any]:
    return {
        "agent": "knowledge-rag",
        "status": "FAILURE",
        "output": None,
        "error": {"code": "AGENT_UNREACHABLE", "message": "down"},
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "model_id": None,
        "attempts": len(responses),
        "responses": list(responses),
    }


def test_a_network_failure_cannot_be_rebuilt_and_says_which_attempt() -> None:
    unreachable = {
        "completion": "",
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "model_id": None,
        "error": {"where": "network", "code": "ReadTimeoutError", "message": "t", "status": None},
    }
    state = {"hypotheses": {"knowledge-rag": _result(unreachable)}}
    with pytest.raises(CaptureError, match="knowledge-rag attempt 1: a network failure"):
        stored_answers(state)


def test_stored_answers_follow_attempt_order() -> None:
    throttled = {
        "completion": "",
        "usage": {"input_tokens": 7, "output_tokens": 0},
        "model_id": "m",
        "error": {
            "where": "stream",
            "code": "throttlingException",
            "message": "slow",
            "status": None,
        },
    }
    denied = {
        **throttled,
        "error": {"where": "http", "code": "AccessDenied", "message": "no", "status": 403},
    }
    answers = stored_answers({"hypotheses": {"knowledge-rag": _result(throttled, denied)}})
    assert [a.key for a in answers] == ["agent:knowledge-rag"] * 2
    first, second = (a.answer for a in answers)
    assert isinstance(first, EventStreamAnswer)
    assert first.events[-1].model_dump() == {
        "exception": {"type": "throttlingException", "message": "slow"}
    }
    assert second.model_dump() == {
        "kind": "error",
        "status": 403,
        "code": "AccessDenied",
        "message": "no",
    }


@pytest.fixture(scope="module")
def agreed() -> Scenario:
    return author(
        "executor",
        ExecutorSpec(
            name="agreed",
            description="",
            events=[sample_event("opx_incident")],
            agents=unanimous(),
            clock_start=START,
        ),
    )


def _answers(scenario: Scenario) -> list[RecordedAnswer]:
    return [RecordedAnswer.of(i) for i in scenario.interactions]


def test_rederive_reproduces_the_requests_it_is_given(agreed: Scenario) -> None:
    again = rederive(agreed.model_copy(update={"interactions": []}), _answers(agreed))
    assert again == agreed


def test_rederive_names_answers_nobody_asked_for(agreed: Scenario) -> None:
    extra = [*_answers(agreed), _answers(agreed)[0]]
    with pytest.raises(
        RederiveError, match=r"did not ask for 1 recorded answer.*agent:change-intelligence"
    ):
        rederive(agreed.model_copy(update={"interactions": []}), extra)


def test_rederive_reports_a_request_it_cannot_answer(agreed: Scenario) -> None:
    missing = [a for a in _answers(agreed) if a.key != "agent:risk-blast-radius"]
    with pytest.raises(RederiveError, match=r"unmatched bedrock-agent-runtime\.InvokeAgent"):
        rederive(agreed.model_copy(update={"interactions": []}), missing)
