"""The one exception the handler raises on purpose: :class:`ExecutionRetryError`.

EventBridge invokes the executor asynchronously, and for an asynchronous invocation a
*returned* value is success: Lambda neither retries it nor hands it to the on-failure
destination. A failure that a retry could fix (DynamoDB throttled, an endpoint down,
another invocation still holding the execution) or that must be kept for a redrive
after a fix (a configuration error, a corrupt checkpoint, a bug) therefore leaves the
handler as this exception. It carries the same structured response a caller would
otherwise have received, and its message is that response as canonical JSON, so the
on-failure record in the dead-letter queue names the error code and execution id.

Invalid input stays a returned 400: the event itself is wrong, and no retry or
redrive of the same bytes can ever succeed.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "IN_PROGRESS_CODE",
    "RETRIED_CODES",
    "ExecutionRetryError",
    "response_of",
]

#: The execution is held by another invocation (a concurrent duplicate delivery).
IN_PROGRESS_CODE = "EXECUTION_IN_PROGRESS"

#: Every error code signalled through :class:`ExecutionRetryError`, with why.
#: Lambda retries each (2 async retries), then the on-failure queue keeps the event.
RETRIED_CODES: dict[str, str] = {
    "AWS_UNREACHABLE": "transient: an endpoint (DynamoDB) was unreachable",
    "AWS_ERROR": "transient or permission: DynamoDB throttled, failed or refused",
    "CHECKPOINT_CORRUPT": "kept for a redrive after the item is repaired or removed",
    "CONFIGURATION_ERROR": "kept for a redrive after the environment is fixed",
    "EXECUTION_FAILED": "kept for a redrive after the bug is fixed; resumes from checkpoint",
    IN_PROGRESS_CODE: "another invocation holds the execution; a retry returns its result",
}


class ExecutionRetryError(Exception):
    """Raised by the handler so Lambda retries the event and, at last, dead-letters it.

    ``response`` is the structured response (``statusCode`` 500 or 409, ``body`` with
    ``error``, ``message``, ``execution_id``); ``str(exc)`` is it as canonical JSON.
    """

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.code: str = response["body"]["error"]
        super().__init__(
            json.dumps(response, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        )


def response_of(call: Any, event: Any, context: Any) -> dict[str, Any]:
    """What ``call(event, context)`` answered: its return value, or the structured
    response of the :class:`ExecutionRetryError` it raised (for replays and tools that
    record responses rather than run inside Lambda)."""
    try:
        return call(event, context)
    except ExecutionRetryError as exc:
        return exc.response
