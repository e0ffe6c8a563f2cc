"""Redrive the executor's dead-letter queue: each event goes back to the executor verbatim.

The queue holds two kinds of messages, both kept for 14 days:

* Lambda's on-failure record, after the executor raised
  :class:`opx.errors.ExecutionRetryError` on the first attempt and both retries:
  ``{"requestContext": {...}, "requestPayload": <the event>, "responsePayload":
  {"errorType": "ExecutionRetryError", "errorMessage": <the structured response>}}``;
* the EventBridge rule's dead letter, when the event could not be delivered at all:
  the event itself.

Either way the original event is re-sent unchanged, so it has the same execution id
(a hash of the event's ``id``, ``source`` and incident id): a completed execution
answers from its checkpoint, an interrupted one resumes where it stopped, and agents
that already finished are not paid again. A message is deleted only after its
invocation was accepted; one that cannot be read as an event, or whose invocation
was refused (a mistyped function name, missing permission), stays in the queue with
the reason printed.

Run it after the cause is fixed::

    python -m opx.redrive --queue-url https://sqs.<region>.amazonaws.com/<acct>/<dlq> \\
        --function-name opx-executor-<stage> [--limit 100] [--dry-run]

Exit codes: 0 every message read was redriven (or ``--dry-run``), 1 some stayed in the
queue (each printed with its reason), 2 the run stopped on an AWS error (one line).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["RedriveReport", "event_of", "lambda_invoker", "main", "redrive"]

Invoke = Callable[[dict[str, Any]], None]


def event_of(body: str | dict[str, Any]) -> dict[str, Any]:
    """The original EventBridge event in one dead-letter message body.

    Raises ``ValueError`` when the body is neither an on-failure record nor an event.
    """
    message = json.loads(body) if isinstance(body, str) else body
    if not isinstance(message, dict):
        raise ValueError("message body is not a JSON object")
    if "requestPayload" in message and "requestContext" in message:
        event = message["requestPayload"]
    else:
        event = message
    if not isinstance(event, dict) or not {"id", "source", "detail"} <= set(event):
        raise ValueError("message holds no EventBridge event (needs id, source, detail)")
    return event


@dataclass
class RedriveReport:
    redriven: list[str] = field(default_factory=list)
    #: message id -> why it stayed in the queue
    kept: dict[str, str] = field(default_factory=dict)


def redrive(
    sqs: Any, queue_url: str, invoke: Invoke, *, limit: int = 100, dry_run: bool = False
) -> RedriveReport:
    """Send up to ``limit`` dead-lettered events back through ``invoke``, deleting each
    message once its event was handed over. Messages seen once are not received again
    in the same run (their visibility timeout outlasts it)."""
    report = RedriveReport()
    seen: set[str] = set()
    while len(seen) < limit:
        page = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, limit - len(seen)),
            WaitTimeSeconds=0,
            VisibilityTimeout=300,
        ).get("Messages", [])
        fresh = [m for m in page if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                event = event_of(message["Body"])
            except ValueError as exc:
                report.kept[message["MessageId"]] = str(exc)
                continue
            if dry_run:
                report.kept[message["MessageId"]] = "dry run"
                continue
            try:
                invoke(event)
            except (BotoCoreError, ClientError) as exc:
                # Refused, so not accepted: the message must stay to be redriven again.
                report.kept[message["MessageId"]] = f"invoke failed: {exc}"
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.redriven.append(message["MessageId"])
    return report


def lambda_invoker(client: Any, function_name: str) -> Invoke:
    """Invoke the executor asynchronously, as EventBridge does: its retries and its
    on-failure destination apply again."""

    def invoke(event: dict[str, Any]) -> None:
        client.invoke(
            FunctionName=function_name,
            InvocationType="Event",
            Payload=json.dumps(event, sort_keys=True, separators=(",", ":")).encode(),
        )

    return invoke


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m opx.redrive", description=__doc__)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    try:
        report = redrive(
            boto3.client("sqs"),
            args.queue_url,
            lambda_invoker(boto3.client("lambda"), args.function_name),
            limit=args.limit,
            dry_run=args.dry_run,
        )
    except (BotoCoreError, ClientError) as exc:
        # The queue could not be read or a message not deleted: one line, not a
        # traceback. A message invoked but not deleted is redriven again next time,
        # which the execution id makes harmless.
        print(f"redrive stopped: {exc}", file=sys.stderr)
        return 2
    print(f"redriven {len(report.redriven)}, kept {len(report.kept)}")
    for message_id, reason in sorted(report.kept.items()):
        print(f"kept {message_id}: {reason}")
    return 0 if not report.kept or args.dry_run else 1


if __name__ == "__main__":
    sys.exit(main())
