"""What Lambda records for an executor invocation that raised (``lambda_errors``).

For an asynchronous invocation Lambda keeps no return value of a failed call: the
on-failure record and the dead-letter message hold the raised exception's type and
text. The text of :class:`opx.errors.ExecutionRetryError` is the structured response
as canonical JSON, so it is behaviour too; the executor kind's result pins it next to
the response, and only for invocations that raised. The self-test at the end breaks
the canonical JSON and shows the gate fail on a scenario whose handler raised.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.kinds.executor import Invocation, lambda_error
from harness.replayer import replay
from harness.scenario import load_scenario
from opx import errors
from opx.errors import ExecutionRetryError
from tests.harness.gate_support import bundled_project, gate

ROOT = Path(__file__).resolve().parents[2]
RAISED = "config-error"  # the handler raises CONFIGURATION_ERROR at cold start
RETURNED = "invalid-event"  # the handler returns a 400: nothing for Lambda to record

RESPONSE = {
    "statusCode": 500,
    "body": {"execution_id": "exec-1", "message": "boom", "error": "EXECUTION_FAILED"},
}


def _raise(event: Any, context: Any) -> Any:
    raise ExecutionRetryError(RESPONSE)


def test_an_invocation_that_raised_records_what_lambda_keeps() -> None:
    invocation = Invocation.of(_raise, {}, None)
    assert invocation.response == RESPONSE
    assert invocation.error is not None
    assert invocation.error["errorType"] == "ExecutionRetryError"
    # The message is the response as canonical JSON: keys sorted, no spaces.
    assert invocation.error["errorMessage"] == (
        '{"body":{"error":"EXECUTION_FAILED","execution_id":"exec-1","message":"boom"},'
        '"statusCode":500}'
    )
    assert json.loads(invocation.error["errorMessage"]) == RESPONSE


def test_a_returned_response_records_no_lambda_error() -> None:
    invocation = Invocation.of(lambda event, context: {"statusCode": 200}, {}, None)
    assert invocation == Invocation({"statusCode": 200}, None)


def test_an_unexpected_exception_is_a_replay_error_not_a_response() -> None:
    def broken(event: Any, context: Any) -> Any:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        Invocation.of(broken, {}, None)


def test_lambda_error_is_the_runtime_s_type_name_and_text() -> None:
    assert lambda_error(ValueError("bad")) == {"errorType": "ValueError", "errorMessage": "bad"}


def test_only_a_result_whose_handler_raised_shows_lambda_errors() -> None:
    raised = replay(load_scenario(ROOT / "scenarios" / f"{RAISED}.json")).canonical()
    (entry,) = raised["lambda_errors"]
    assert entry["invocation"] == 0
    assert entry["errorType"] == "ExecutionRetryError"
    assert json.loads(entry["errorMessage"]) == raised["responses"][0]
    returned = replay(load_scenario(ROOT / "scenarios" / f"{RETURNED}.json")).canonical()
    assert "lambda_errors" not in returned


def test_the_gate_sees_the_raised_message_only_through_lambda_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: the retry error's message stops being canonical JSON (keys in insertion
    order). The structured response is unchanged, so only ``lambda_errors`` can see it:
    the scenario whose handler raised fails the gate, naming that field."""
    project = bundled_project(tmp_path, [RAISED, RETURNED])
    assert gate(capsys, project.args("--checks", "snapshot")).code == 0

    def unsorted(value: Any, **options: Any) -> str:
        return json.dumps(value, **{**options, "sort_keys": False})

    monkeypatch.setattr(errors, "json", SimpleNamespace(dumps=unsorted))
    run = gate(capsys, project.args("--checks", "snapshot"))
    assert run.code == 1, run.out
    assert re.search(rf"^{RAISED} +drift", run.out, re.M), run.out
    assert re.search(rf"^{RETURNED} +pass", run.out, re.M), run.out
    assert "lambda_errors" in run.out
