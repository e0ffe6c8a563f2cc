"""Which errors are retried and how long the deterministic backoff waits."""

from __future__ import annotations

import pytest

from opx.agents import RETRYABLE_ERROR_CODES, RetryPolicy, is_retryable, normalize_error_code


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",
        "throttlingException",
        "THROTTLING",
        "Throttling",
        "ServiceQuotaExceededException",
        "serviceQuotaExceededException",
        "ServiceUnavailableException",
        "serviceUnavailable",
        "InternalServerException",
        "internalServerException",
        "DependencyFailedException",
        "dependencyFailedException",
        "BadGatewayException",
        "badGatewayException",
        "ModelNotReadyException",
        "modelNotReadyException",
    ],
)
def test_retryable_codes_in_every_spelling(code: str) -> None:
    assert code in RETRYABLE_ERROR_CODES
    assert is_retryable(code)


@pytest.mark.parametrize(
    "code",
    [
        "AccessDeniedException",
        "accessDeniedException",
        "ValidationException",
        "ResourceNotFoundException",
        "conflictException",
        "Exception",
        "",
        "429",
    ],
)
def test_permanent_codes_are_not_retried(code: str) -> None:
    assert code not in RETRYABLE_ERROR_CODES
    assert not is_retryable(code)


def test_normalization() -> None:
    assert normalize_error_code(" ThrottlingException ") == "throttling"
    assert normalize_error_code("Exception") == "exception"
    assert 42 not in RETRYABLE_ERROR_CODES


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, True), (502, True), (503, True), (504, True), (400, False), (429, False)],
)
def test_unnamed_errors_fall_back_to_the_http_status(status: int, expected: bool) -> None:
    assert is_retryable("", status) is expected
    assert is_retryable(str(status), status) is expected
    assert is_retryable("ValidationException", status) is False


def test_default_backoff_sequence_is_exponential_and_capped() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay_s, policy.max_delay_s, policy.multiplier) == (
        4,
        0.5,
        8.0,
        2.0,
    )
    assert [policy.delay_for(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay_s": -1.0}, {"max_delay_s": -1.0}, {"multiplier": 0.5}],
)
def test_invalid_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_delay_attempts_are_one_based() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().delay_for(0)
