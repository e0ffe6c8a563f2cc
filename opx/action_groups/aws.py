"""AWS calls from an action group: one client recipe, deterministic retries, errors
turned into answers.

Clients come from boto3's default session (what Lambda configures, and what a replay
hooks). Botocore's own retries are off: its jittered backoff would make a replay's
clock depend on a random draw, and the handler must own its time budget. Instead a
throttled or briefly unavailable read is retried here up to :data:`MAX_ATTEMPTS`
times after fixed pauses (``time.sleep``, looked up at call time so a replay's frozen
clock advances instead of waiting). Whatever still fails becomes an
:class:`~opx.action_groups.contract.ActionError` the agent can read: 429 throttled,
403 access denied, 404 not found, 400 the service rejected the request, 502 other
AWS errors, 504 unreachable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from opx.action_groups.contract import ActionError

CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10)
MAX_ATTEMPTS = 3
#: Pause before attempt 2 and attempt 3 (seconds); no jitter, so replays repeat.
BACKOFF_S = (0.5, 1.0)

THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
    }
)
UNAVAILABLE = frozenset(
    {"ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalServerError"}
)
ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
    }
)
REJECTED = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "InvalidParameterException",
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidRequestException",
        "MalformedQueryException",
        "InvalidNextToken",
    }
)


def client(service: str) -> Any:
    """A client for ``service`` from boto3's default session."""
    return boto3.client(service, config=CLIENT_CONFIG)


def call(method: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
    """``method(**params)`` with the retries above; AWS failures as ``ActionError``."""
    attempt = 1
    while True:
        try:
            return method(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in THROTTLING | UNAVAILABLE or attempt == MAX_ATTEMPTS:
                raise aws_error(exc, attempts=attempt) from None
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
            raise ActionError(504, "AWS_UNREACHABLE", str(exc), retryable=True) from None
        except BotoCoreError as exc:
            raise ActionError(502, "AWS_ERROR", str(exc)) from None
        time.sleep(BACKOFF_S[attempt - 1])
        attempt += 1


@dataclass
class Pages:
    """Up to ``max_pages`` responses of a paginated read, as an iterable; afterwards
    ``read`` says how many were read and ``more`` whether AWS had more. ``token`` names
    the request and response members that carry the cursor."""

    method: Callable[..., dict[str, Any]]
    request: dict[str, Any]
    max_pages: int
    token: tuple[str, str] = ("NextToken", "NextToken")
    read: int = 0
    more: bool = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        sent, received = self.token
        cursor = None
        while self.read < self.max_pages:
            page = call(self.method, **self.request, **({sent: cursor} if cursor else {}))
            cursor = page.get(received) or None
            self.read += 1
            self.more = cursor is not None
            yield page
            if cursor is None:
                return


def aws_error(exc: ClientError, *, attempts: int = 1) -> ActionError:
    """What the agent is told about an AWS error: which call, which code, and whether
    trying again later may help."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "Unknown")
    where = f"{exc.operation_name} failed with {code}"
    detail = error.get("Message") or ""
    message = f"{where}: {detail}" if detail else where
    if code in THROTTLING:
        return ActionError(
            429, "THROTTLED", f"{message} (after {attempts} attempts)", retryable=True
        )
    if code in ACCESS_DENIED:
        return ActionError(403, "ACCESS_DENIED", message)
    if code == "ResourceNotFoundException":
        return ActionError(404, "RESOURCE_NOT_FOUND", message)
    if code in REJECTED:
        return ActionError(400, "AWS_REJECTED_REQUEST", message)
    return ActionError(502, "AWS_ERROR", message, retryable=code in UNAVAILABLE)
