"""A checkpoint-table fault: retried by Lambda, kept in the dead-letter queue, redriven.

Today a returned 500 is success for an asynchronous invocation; here the fault must
leave the handler as the documented retry signal, and the redriven dead letter must
resume the same execution without paying the finished agents again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from opx.checkpointing import create_table
from opx.errors import RETRIED_CODES, ExecutionRetryError, response_of
from opx.lambda_handler import cold_start, handler
from opx.redrive import event_of, redrive
from opx.state import ALL_AGENTS, PARALLEL_AGENTS
from tests.e2e.fake_bedrock import FakeBedrock, hook
from tests.support import sample_event

TABLE = "opx-checkpoints-redrive"


@pytest.fixture
def aws(bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("USE_DYNAMODB_CHECKPOINTING", "true")
    monkeypatch.setenv("CHECKPOINT_TABLE_NAME", TABLE)
    with mock_aws():
        hook(bedrock)
        create_table(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        cold_start()
        yield boto3.client("sqs", region_name="us-east-1")
        cold_start()


def _table_fault(after_writes: int) -> Any:
    """Throttle the first checkpoint head stored after ``after_writes`` task writes."""
    seen = {"writes": 0, "fired": False}

    def before_call(params: dict[str, Any], **_: Any) -> None:
        key = params.get("Item", {}).get("checkpoint_id", {}).get("S", "")
        if "#w#" in key:
            seen["writes"] += 1
        elif not key.startswith("!") and seen["writes"] >= after_writes and not seen["fired"]:
            seen["fired"] = True
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "fault"}},
                "PutItem",
            )

    return before_call


def _on_failure_record(event: dict[str, Any], error: ExecutionRetryError) -> str:
    """What Lambda puts in the on-failure destination after the last retry."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": "2026-01-15T10:05:00.000Z",
            "requestContext": {
                "requestId": "11111111-2222-3333-4444-555555555555",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:opx-executor-dev",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
            },
        }
    )


def test_table_fault_is_retried_dead_lettered_and_redriven_to_the_same_execution(
    bedrock: FakeBedrock, aws: Any
) -> None:
    event = sample_event("opx_incident")
    fault = _table_fault(after_writes=len(PARALLEL_AGENTS))
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb.PutItem", fault)
    cold_start()
    with pytest.raises(ExecutionRetryError) as raised:
        handler(event, None)
    failure = raised.value
    assert failure.code == "AWS_ERROR" and failure.code in RETRIED_CODES
    assert failure.response["statusCode"] == 500
    assert "ProvisionedThroughputExceededException" in failure.response["body"]["message"]
    execution_id = failure.response["body"]["execution_id"]
    paid_before = [c["agent"] for c in bedrock.calls]
    assert set(PARALLEL_AGENTS) <= set(paid_before)

    queue = aws.create_queue(QueueName="opx-dev-dlq")["QueueUrl"]
    aws.send_message(QueueUrl=queue, MessageBody=_on_failure_record(event, failure))
    assert (
        json.loads(
            json.loads(_on_failure_record(event, failure))["responsePayload"]["errorMessage"]
        )
        == failure.response
    )  # the dead letter names the error and the execution

    answers: list[dict[str, Any]] = []
    report = redrive(aws, queue, lambda e: answers.append(response_of(handler, e, None)))

    assert len(report.redriven) == 1 and report.kept == {}
    [answer] = answers
    assert answer["statusCode"] == 200
    assert answer["body"]["execution_id"] == execution_id
    # Agents that had finished are not paid again: each agent was called once in all.
    assert sorted(c["agent"] for c in bedrock.calls) == sorted(ALL_AGENTS)
    assert len(paid_before) <= len(ALL_AGENTS)
    assert "Messages" not in aws.receive_message(QueueUrl=queue)


def test_event_of_reads_both_kinds_of_dead_letter() -> None:
    event = sample_event("opx_incident")
    assert event_of(json.dumps(event)) == event  # the rule's own dead letter
    assert event_of({"requestContext": {}, "requestPayload": event}) == event
    with pytest.raises(ValueError, match="no EventBridge event"):
        event_of({"requestContext": {}, "requestPayload": {"not": "an event"}})


def test_unreadable_message_stays_in_the_queue(aws: Any) -> None:
    queue = aws.create_queue(QueueName="opx-dev-dlq")["QueueUrl"]
    aws.send_message(QueueUrl=queue, MessageBody="[1, 2]")
    report = redrive(aws, queue, lambda e: pytest.fail("nothing to invoke"))
    assert report.redriven == [] and len(report.kept) == 1


def test_a_refused_invoke_keeps_the_message_with_its_reason(aws: Any) -> None:
    queue = aws.create_queue(QueueName="opx-dev-dlq")["QueueUrl"]
    aws.send_message(QueueUrl=queue, MessageBody=json.dumps(sample_event("opx_incident")))

    def refused(event: dict[str, Any]) -> None:
        raise ClientError(
            {"Error": {"Code": "ResourceNotFoundException", "Message": "Function not found"}},
            "Invoke",
        )

    report = redrive(aws, queue, refused)
    assert report.redriven == []
    assert [reason for reason in report.kept.values()] == [
        "invoke failed: An error occurred (ResourceNotFoundException) when calling the "
        "Invoke operation: Function not found"
    ]
    left = aws.receive_message(QueueUrl=queue, VisibilityTimeout=0)
    assert "Messages" not in left  # still invisible from this run, but not deleted:
    attributes = aws.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_an_unreadable_queue_stops_with_one_line_and_exit_2(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from opx.redrive import main

    url = "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-dlq"
    code = main(["--queue-url", url, "--function-name", "opx-executor-dev"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("redrive stopped: ") and err.count("\n") == 1
    assert "NonExistentQueue" in err or "QueueDoesNotExist" in err
