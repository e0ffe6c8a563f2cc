"""A DynamoDB answer lost after the write was applied (``applied: true`` on a network
fault of a scripted DynamoDB answer, :mod:`harness.wire.dynamodb`).

A read timeout or a dropped connection after the request reached DynamoDB is the one
network failure where the table *did* change: botocore's standard retry then sends a
write that already happened, and a conditional write meets itself
(``ConditionalCheckFailedException``). These tests pin the mechanism -- moto stores
the write, the written-items copy agrees, the client sees botocore's own error, its
retry meets the stored item -- and show that ``checkpoint-answer-lost`` depends on the
write being applied and catches a checkpointer that cannot read its own slot back.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from botocore.config import Config
from pydantic import ValidationError

from harness.replayer import CHECKPOINT_TABLE, Replayer
from harness.scenario import (
    ANSWER_LOST_ERRORS,
    DynamoDBScript,
    Fault,
    Interaction,
    Scenario,
    load_scenario,
)
from harness.wire import DynamoDBAnswers
from harness.wire import dynamodb as dynamodb_layer
from opx.checkpointing import items
from tests.harness.gate_support import bundled_project, gate

ROOT = Path(__file__).resolve().parents[2]
LOST = "checkpoint-answer-lost"
#: An ordinary scenario: every DynamoDB answer arrives.
CONTROL = "redelivered-event"
_KEY = {"session_id": {"S": "exec-lost"}, "checkpoint_id": {"S": "!probe"}}


def _with_script(error: str, **answer: Any) -> Scenario:
    """``checkpoint-answer-lost`` scripted to lose the answer of the first PutItem a
    test sends itself (the kind's setup arms the layer; nothing is delivered)."""
    scenario = load_scenario(ROOT / "scenarios" / f"{LOST}.json")
    fault = {"where": "network", "error": error, "applied": True}
    script = {"answers": [{"operation": "PutItem", "call": 1, "faults": [fault], **answer}]}
    return scenario.model_copy(update={"dynamodb": DynamoDBScript.model_validate(script)})


def _put(client: Any, key: dict[str, Any] = _KEY) -> None:
    client.put_item(
        TableName=CHECKPOINT_TABLE,
        Item={**key, "v": {"S": "1"}},
        ConditionExpression="attribute_not_exists(checkpoint_id)",
    )


def _once(env: Any) -> Any:
    """A client that does not retry: it sees the lost answer's error itself."""
    return env.session.client(
        "dynamodb", config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    )


@pytest.mark.parametrize("error", ANSWER_LOST_ERRORS)
def test_an_applied_fault_stores_the_write_and_raises_botocores_error(error: str) -> None:
    with Replayer().environment(_with_script(error)) as env:
        once = _once(env)
        with pytest.raises(getattr(botocore.exceptions, error)):
            _put(once)
        stored = env.session.client("dynamodb").get_item(TableName=CHECKPOINT_TABLE, Key=_KEY)
        written = env.written.table(CHECKPOINT_TABLE).items
        scripted = env.transport.find(DynamoDBAnswers)
        assert scripted is not None
        log = scripted.log
    assert stored["Item"]["v"] == {"S": "1"}  # in moto...
    assert len(written) == 1  # ...and in the copy the snapshot's table is read from
    assert log == [
        {
            "operation": "PutItem",
            "item": "lease",  # a key starting with "!" is the lease's, by the layout
            "call": 1,
            "attempt": 1,
            "answer": f"moto then fault:network:{error}",
        }
    ]


def test_botocores_retry_of_an_applied_conditional_write_meets_the_write_itself() -> None:
    with Replayer().environment(_with_script("ReadTimeoutError")) as env:
        retrying = env.session.client("dynamodb", config=Config(retries={"mode": "standard"}))
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            _put(retrying)
        scripted = env.transport.find(DynamoDBAnswers)
        assert scripted is not None
        answers = [entry["answer"] for entry in scripted.log]
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert answers == [
        "moto then fault:network:ReadTimeoutError",
        "moto:ConditionalCheckFailedException",
    ]


def test_a_held_call_is_sent_on_only_after_the_call_it_waits_for() -> None:
    """``after``: the first PutItem, sent from another thread, waits until the second
    was sent -- so what the second's thread did before sending (read the clock, in the
    executor) comes before the first's retry on every run."""
    held = _with_script("ReadTimeoutError", after={"operation": "PutItem", "call": 2})
    other = {**_KEY, "checkpoint_id": {"S": "!other"}}
    with Replayer().environment(held) as env:
        seen: list[BaseException] = []

        def first() -> None:
            try:
                _put(_once(env))
            except BaseException as exc:  # the lost answer, raised in this thread
                seen.append(exc)

        scripted = env.transport.find(DynamoDBAnswers)
        assert scripted is not None
        thread = threading.Thread(target=first)
        thread.start()
        pause = threading.Event()  # waits in real time: the replay's clock is frozen
        for _ in range(10_000):
            if scripted.made("PutItem") >= 1:
                break
            pause.wait(0.001)
        assert scripted.made("PutItem") == 1  # the thread's put is call 1, held
        _put(env.session.client("dynamodb"), other)
        thread.join(timeout=10)
        log, unused = scripted.log, scripted.unused()
    assert not thread.is_alive()
    assert [type(exc).__name__ for exc in seen] == ["ReadTimeoutError"]
    assert log[0]["held_for"] == "PutItem call 2"
    assert log[0]["answer"] == "moto then fault:network:ReadTimeoutError"
    assert unused == []


def test_a_held_call_whose_call_never_comes_is_released_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dynamodb_layer, "HOLD_TIMEOUT_S", 0.05)
    held = _with_script("ReadTimeoutError", after={"operation": "DeleteItem", "call": 1})
    with Replayer().environment(held) as env:
        with pytest.raises(botocore.exceptions.ReadTimeoutError):
            _put(_once(env))
        scripted = env.transport.find(DynamoDBAnswers)
        assert scripted is not None
        log, unused = scripted.log, scripted.unused()
    assert log[0]["held_for"] == "DeleteItem call 1 (never came: released after 0.05 s)"
    assert unused == ["answers[0]: held for DeleteItem call 1, which never came"]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"where": "network", "error": "EndpointConnectionError", "applied": True}, "applied"),
        ({"where": "network", "error": "ConnectTimeoutError", "applied": True}, "applied"),
        ({"where": "http", "error": "InternalServerError", "applied": True}, "applied"),
    ],
)
def test_only_a_lost_answer_can_be_applied(fault: dict[str, Any], message: str) -> None:
    """An unreachable endpoint or a connect timeout never reached the table."""
    with pytest.raises(ValidationError, match=message):
        Fault.model_validate(fault)


def test_an_interaction_refuses_an_applied_fault() -> None:
    """A recorded Bedrock answer has no table state for a lost answer to leave behind."""
    data = {
        "service": "bedrock-agent-runtime",
        "operation": "InvokeAgent",
        "request": {},
        "faults": [{"where": "network", "error": "ReadTimeoutError", "applied": True}],
        "response": {"kind": "error", "status": 500, "code": "X"},
    }
    with pytest.raises(ValidationError, match="scripted DynamoDB answer"):
        Interaction.model_validate(data)


def test_applied_is_written_only_when_set() -> None:
    plain = Fault(where="network", error="ReadTimeoutError")
    assert "applied" not in plain.model_dump()
    assert Fault(where="network", error="ReadTimeoutError", applied=True).model_dump()["applied"]


# --------------------------------------------------------------------------- self-tests


def _project(tmp_path: Path, names: tuple[str, ...], edit: Any = None) -> Any:
    return bundled_project(tmp_path, names, edit)


def _drifted(tmp_path: Path, capsys: pytest.CaptureFixture[str], project: Any) -> set[str]:
    run = gate(capsys, project.args("--checks", "snapshot"))
    assert run.code == 1, run.out
    return {v["name"] for v in project.report()["scenarios"] if "drift" in json.dumps(v)}


def test_the_scenario_fails_when_the_layer_does_not_apply_the_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Self-test: the same faults without ``applied`` (the write never reaches moto,
    as an unreachable endpoint) -- the snapshot no longer matches: the retries are
    the first writes, no conditional write meets itself."""
    lost = _project(tmp_path / "lost", (LOST,))
    assert gate(capsys, lost.args("--checks", "snapshot")).code == 0
    project = _project(
        tmp_path / "unapplied", (LOST,), lambda text: text.replace('"applied": true,', "")
    )
    assert '"applied"' not in (project.scenarios / f"{LOST}.json").read_text(encoding="utf-8")
    assert _drifted(tmp_path, capsys, project) == {LOST}


def test_the_gate_sees_a_checkpointer_that_cannot_read_its_own_slot_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Self-test: refuse every stored write item a retried task reads back (the
    surviving mutant ``!=`` -> ``>=`` of ``taken_indexes``' pin check) -- the lost
    answer's scenario fails the gate, an ordinary one never reads a slot back."""
    project = _project(tmp_path, (LOST, CONTROL))

    def refusing(item: Any) -> set[int]:
        raise ValueError("write item's pin does not match its attributes (edited or unsealed)")

    monkeypatch.setattr(items, "taken_indexes", refusing)
    assert _drifted(tmp_path, capsys, project) == {LOST}
