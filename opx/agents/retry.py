"""Which AWS errors are worth another InvokeAgent call, and how long to wait.

The graph's Bedrock client has botocore retries disabled so this policy is the only
one: a single place decides, and every wait goes through an injectable ``sleep`` so a
replay runs instantly and records the exact delays.

Backoff has **no jitter**. Jitter exists to spread a thundering herd of clients; here
one execution makes at most six agent calls, so the herd is tiny, while a random
delay would make replays and their recorded sleep sequences non-reproducible.

Retryable codes (compared case-insensitively, with or without ``Exception``, so the
modeled exception names — ``ThrottlingException`` — and the event-stream member
names — ``throttlingException`` — are the same thing):

* throttling, serviceQuotaExceeded, serviceUnavailable, internalServer,
  dependencyFailed — the issue's list;
* badGateway — a 502 from a dependency, transient by definition (the SDKs' standard
  retry mode retries 502 too);
* modelNotReady — AWS documents it as "the SDK will automatically retry" while the
  model is being loaded.

Everything else (accessDenied, validation, resourceNotFound, conflict) is permanent:
retrying cannot change the answer. An HTTP 500/502/503/504 that botocore could not
name (empty or numeric code) is treated as transient like the SDKs do.
"""

from __future__ import annotations

from dataclasses import dataclass

_SUFFIX = "exception"


def normalize_error_code(code: str) -> str:
    """``ThrottlingException`` / ``throttlingException`` / ``Throttling`` -> ``throttling``."""
    lowered = code.strip().lower()
    if lowered.endswith(_SUFFIX) and len(lowered) > len(_SUFFIX):
        lowered = lowered[: -len(_SUFFIX)]
    return lowered


class ErrorCodeSet(frozenset[str]):
    """A frozenset of normalized codes whose ``in`` normalizes the probe first.

    So ``"ThrottlingException" in RETRYABLE_ERROR_CODES`` and
    ``"throttlingException" in RETRYABLE_ERROR_CODES`` are both true; a plain
    frozenset would silently say False for one spelling.
    """

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and super().__contains__(normalize_error_code(code))


RETRYABLE_ERROR_CODES: ErrorCodeSet = ErrorCodeSet(
    normalize_error_code(code)
    for code in (
        "ThrottlingException",
        "ServiceQuotaExceededException",
        "ServiceUnavailableException",
        "InternalServerException",
        "DependencyFailedException",
        "BadGatewayException",
        "ModelNotReadyException",
    )
)

#: Statuses treated as transient when botocore could not name the error.
TRANSIENT_HTTP_STATUSES: frozenset[int] = frozenset({500, 502, 503, 504})


def is_retryable(code: str, http_status: int | None = None) -> bool:
    """Decide on the AWS code; fall back to the status only when the code is unnamed."""
    if code in RETRYABLE_ERROR_CODES:
        return True
    unnamed = not code.strip() or code.strip().isdigit()
    return unnamed and http_status in TRANSIENT_HTTP_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: wait ``min(max_delay_s, base * multiplier**(n-1))``
    after failed attempt ``n``. Defaults wait 0.5 + 1 + 2 = 3.5 s at most in total."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("delays must be >= 0")
        if self.multiplier < 1:
            raise ValueError("multiplier must be >= 1")

    def delay_for(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        return float(min(self.max_delay_s, self.base_delay_s * self.multiplier ** (attempt - 1)))
