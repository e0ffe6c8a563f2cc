"""The AWS a redrive talks to, in a replay: SQS on moto, the executor's Lambda here.

:class:`RedriveWire` is the outermost transport layer of a ``redrive`` replay. It lets
every SQS request through to moto (the dead-letter queue is real moto state), answers
every Lambda ``Invoke`` itself, and hands anything else -- the executor's Bedrock and
DynamoDB calls when it runs -- to the layers below. moto's Lambda backend never sees
an invoke (it would try to start a container): the request is readdressed to an
``.invalid`` host, as the transport does for every answer it gives.

An asynchronous invoke is answered the way Lambda answers it: ``202`` as soon as the
event is queued, whatever the function later does. The harness queues the event
(:attr:`RedriveWire.accepted`) and the kind runs the real executor handler on each one
*after* the redrive command returns, in the order accepted -- the redrive can never see
the handler's answer, and a handler's 500 never fails an invoke. An invoke of a
function that is not deployed is answered ``404 ResourceNotFoundException``, as Lambda
does. While :attr:`RedriveWire.recording` is on, every call the redrive makes is
logged in order (``calls``): which messages a receive returned, which one a delete
removed, which event an invoke carried -- so a redrive that deletes before it invokes
reads differently from one that invokes first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

from harness.replayer import LambdaContext
from harness.wire import (
    ANSWERED_URL,
    Exchange,
    Layer,
    TransportLayer,
    request_body,
    request_params,
    split_event_name,
)
from harness.wire.eventstream import error_response, http_response

#: The executor as deployed in every replay (its name, its ARN): the function an
#: invoke must name to be accepted.
DEPLOYED = LambdaContext()


@dataclass(frozen=True)
class Invocation:
    """One invoke the harness accepted: what Lambda would run the handler on."""

    function: str
    invocation_type: str
    event: Any
    payload_sha256: str
    request_id: str


class RedriveWire(Layer):
    """SQS through to moto, Lambda invokes answered here (see the module docstring)."""

    def __init__(self, inner: TransportLayer) -> None:
        super().__init__(inner)
        self.recording = False
        #: The redrive's own calls, in order, message ids as :attr:`names` gives them.
        self.redrive_calls: list[dict[str, Any]] = []
        self.accepted: list[Invocation] = []
        #: moto's message id -> the name a result shows (``message-<n>``, send order).
        self.names: dict[str, str] = {}
        self._receipts: dict[str, str] = {}
        #: moto's random state before the replay seeded it (restored at teardown).
        self.moto_random_state: Any = None

    def name_of(self, message_id: str) -> str:
        return self.names.get(message_id, "message-?")

    def send(self, request: Any, event_name: str) -> Exchange:
        service, operation = split_event_name(event_name)
        if service == "sqs":
            if self.recording:
                self.redrive_calls.append(self._sqs_entry(operation, request))
            return Exchange(None)  # moto serves the queue
        if service == "lambda":
            return Exchange(self._lambda(operation, request))
        return self.inner.send(request, event_name)

    def served(self, request: Any, event_name: str, response: AWSResponse) -> None:
        service, operation = split_event_name(event_name)
        if service == "sqs" and response.status_code == 200:
            body = json.loads(response.content or b"{}")
            if operation == "SendMessage":
                self.names[body["MessageId"]] = f"message-{len(self.names)}"
            elif operation == "ReceiveMessage":
                received = body.get("Messages", [])
                for message in received:
                    self._receipts[message["ReceiptHandle"]] = message["MessageId"]
                if self.recording:
                    self.redrive_calls[-1]["received"] = [
                        self.name_of(m["MessageId"]) for m in received
                    ]
        super().served(request, event_name, response)

    def receipt_handles(self) -> dict[str, str]:
        """The latest receipt handle of every message received so far, by message id."""
        return {message_id: handle for handle, message_id in self._receipts.items()}

    def _sqs_entry(self, operation: str, request: Any) -> dict[str, Any]:
        params = json.loads(request_body(request) or b"{}")
        entry: dict[str, Any] = {"call": f"sqs.{operation}"}
        if operation == "ReceiveMessage":
            for key in ("MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds"):
                entry[key] = params.get(key)
        elif "ReceiptHandle" in params:
            entry["message"] = self.name_of(self._receipts.get(params["ReceiptHandle"], ""))
        return entry

    def _lambda(self, operation: str, request: Any) -> AWSResponse:
        body = request_body(request) or b""
        params = request_params(
            "lambda", operation, request.method, request.url, request.headers, None
        )
        request.url = ANSWERED_URL  # moto's Lambda must not run it
        function = str(params.get("FunctionName", ""))
        invocation_type = str(params.get("InvocationType", "RequestResponse"))
        try:
            event: Any = json.loads(body) if body else None
        except ValueError:
            event = body.decode("utf-8", errors="replace")
        digest = hashlib.sha256(body).hexdigest()
        entry: dict[str, Any] = {
            "call": f"lambda.{operation}",
            "function": function,
            "invocation_type": invocation_type,
            "event_id": event.get("id") if isinstance(event, dict) else None,
            "payload_sha256": digest,
        }
        if operation != "Invoke" or invocation_type != "Event":
            # The redrive only ever invokes asynchronously; anything else is a change
            # the scenario should show, not one the harness pretends to serve.
            response = error_response(
                400,
                "InvalidRequestContentException",
                f"the replay's Lambda answers only asynchronous Invoke, not {operation} "
                f"{invocation_type}",
            )
            entry["status"] = 400
        elif function not in (DEPLOYED.function_name, DEPLOYED.invoked_function_arn):
            response = error_response(
                404,
                "ResourceNotFoundException",
                f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{function}",
            )
            entry["status"] = 404
        else:
            request_id = f"replay-invoke-{len(self.accepted)}"
            self.accepted.append(Invocation(function, invocation_type, event, digest, request_id))
            headers = {"x-amzn-requestid": request_id, "content-type": "application/json"}
            response = http_response(202, headers, b"")
            entry["status"] = 202
            entry["request_id"] = request_id
        if self.recording:
            self.redrive_calls.append(entry)
        return response


__all__ = ["DEPLOYED", "Invocation", "RedriveWire"]
