"""Invoke one Bedrock agent and always come back with an :class:`AgentResult`.

A graph node must never die because a model did: every failure — AWS error,
network, throttling that outlasts the retries, unparseable output, a bug here —
becomes a FAILURE result carrying a code from :mod:`opx.agents.codes`. Consensus
then works with whichever agents answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import urllib3.exceptions
from botocore.exceptions import ClientError, ConnectionError, EventStreamError, HTTPClientError

from opx.agents import codes
from opx.agents.contract import AgentOutputError, parse_agent_output
from opx.agents.prompts import render_input
from opx.agents.retry import RetryPolicy, is_retryable
from opx.agents.settings import AgentSettings
from opx.agents.stream import StreamCollector
from opx.state import AgentError, AgentResponse, AgentResult, ResponseError, Usage

#: Asked before every InvokeAgent attempt, with the input text and what the earlier
#: attempts of this run spent (tokens, model id): ``None`` admits the call, a string
#: refuses it and says why (``BUDGET_EXCEEDED``).
Admission = Callable[[str, Usage, str | None], str | None]

logger = logging.getLogger(__name__)

#: Error messages are stored in checkpoints; keep them bounded.
MAX_MESSAGE_CHARS = 1000

#: Transport failures: connect/read timeouts, refused connections, dropped streams.
#: Not retried — if the network is down, retrying only burns the Lambda's timeout.
_UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    HTTPClientError,
    urllib3.exceptions.HTTPError,
)


def _truncate(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 3] + "..."


def _aws_error(error: ClientError) -> tuple[str, str, int | None]:
    """(code, message, http status) of a ClientError or an in-stream EventStreamError."""
    details = error.response.get("Error", {})
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        str(details.get("Code", "")),
        str(details.get("Message", "")),
        status if isinstance(status, int) else None,
    )


def _describe(code: str, message: str, status: int | None) -> str:
    name = code or (f"HTTP {status}" if status is not None else "UnknownError")
    return f"{name}: {message}" if message else name


class _Run:
    """Mutable bookkeeping for one ``run_agent`` call, across attempts."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.attempts = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.model_id: str | None = None
        self.responses: list[AgentResponse] = []

    def absorb(self, collector: StreamCollector, error: ResponseError | None = None) -> None:
        """Count what an attempt received, even a failed one: those tokens were billed."""
        self.input_tokens += collector.input_tokens
        self.output_tokens += collector.output_tokens
        if self.model_id is None:
            self.model_id = collector.model_id
        self.responses.append(
            AgentResponse(
                completion=collector.completion_bytes.decode("utf-8", errors="replace"),
                usage={
                    "input_tokens": collector.input_tokens,
                    "output_tokens": collector.output_tokens,
                },
                model_id=collector.model_id,
                error=error,
            )
        )

    def result(
        self, output: dict[str, Any] | None = None, error: AgentError | None = None
    ) -> AgentResult:
        return AgentResult(
            agent=self.agent,
            status="SUCCESS" if error is None else "FAILURE",
            output=output if error is None else None,
            error=error,
            usage={"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            model_id=self.model_id,
            attempts=self.attempts,
            responses=self.responses,
        )

    def usage(self) -> Usage:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}

    def refused(self, message: str) -> AgentResult:
        """The budget admitted no further attempt: SKIPPED before the first one."""
        if self.attempts == 0:
            return AgentResult(
                agent=self.agent,
                status="SKIPPED",
                output=None,
                error={"code": codes.BUDGET_EXCEEDED, "message": _truncate(message)},
                usage=self.usage(),
                model_id=None,
                attempts=0,
                responses=[],
            )
        return self.failure(codes.BUDGET_EXCEEDED, message)

    def failure(self, code: str, message: str) -> AgentResult:
        logger.warning(
            "agent %s failed with %s after %d attempt(s)",
            self.agent,
            code,
            self.attempts,
            extra={"agent": self.agent, "code": code, "attempts": self.attempts},
        )
        return self.result(error={"code": code, "message": _truncate(message)})


def _consume(response: Mapping[str, Any], collector: StreamCollector) -> None:
    """Drain the completion stream; close it even when an in-stream error aborts it."""
    stream = response["completion"]
    try:
        for event in stream:
            collector.add(event)
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()


def _finish(run: _Run, collector: StreamCollector) -> AgentResult:
    """Turn a fully received completion into SUCCESS or an output-error FAILURE."""
    try:
        text = collector.completion_bytes.decode("utf-8")
    except UnicodeDecodeError as error:
        return run.failure(
            codes.MALFORMED_OUTPUT, f"completion is not valid UTF-8 (byte {error.start})"
        )
    if not text.strip():
        reason = "the agent returned no text"
        if collector.return_control:
            reason += "; it requested return of control, which opx does not support"
        if collector.failure_reason:
            reason += f"; failure trace: {collector.failure_reason}"
        return run.failure(codes.EMPTY_COMPLETION, reason)
    try:
        output = parse_agent_output(text)
    except AgentOutputError as error:
        return run.failure(error.code, error.message)
    return run.result(output=output.model_dump(mode="json"))


def _exception_error(where: Literal["network", "internal"], error: Exception) -> ResponseError:
    return ResponseError(
        where=where, code=type(error).__name__, message=_truncate(str(error)), status=None
    )


def _attempt(
    run: _Run, client: Any, request: Mapping[str, Any]
) -> tuple[AgentResult | None, str | None]:
    """One InvokeAgent call: a final result, or the description of a retryable error."""
    run.attempts += 1
    collector = StreamCollector()
    try:
        _consume(client.invoke_agent(**request), collector)
    except ClientError as error:  # includes EventStreamError raised mid-stream
        code, message, status = _aws_error(error)
        in_stream = isinstance(error, EventStreamError)
        run.absorb(
            collector,
            ResponseError(
                where="stream" if in_stream else "http",
                code=code,
                message=_truncate(message),
                status=None if in_stream else status,
            ),
        )
        if is_retryable(code, status):
            return None, _describe(code, message, status)
        return run.failure(codes.AGENT_INVOCATION_FAILED, _describe(code, message, status)), None
    except _UNREACHABLE_ERRORS as error:
        run.absorb(collector, _exception_error("network", error))
        return run.failure(codes.AGENT_UNREACHABLE, f"{type(error).__name__}: {error}"), None
    except Exception as error:  # e.g. a malformed frame: keep the tokens already counted
        run.absorb(collector, _exception_error("internal", error))
        return run.failure(codes.AGENT_INTERNAL_ERROR, f"{type(error).__name__}: {error}"), None
    run.absorb(collector)
    return _finish(run, collector), None


def _run_with_retries(
    run: _Run,
    client: Any,
    request: Mapping[str, Any],
    policy: RetryPolicy,
    sleep: Callable[[float], None] | None,
    admit: Admission | None = None,
) -> AgentResult:
    last_error = ""
    while run.attempts < policy.max_attempts:
        if admit is not None:
            refusal = admit(request["inputText"], run.usage(), run.model_id)
            if refusal is not None:
                return run.refused(refusal)
        result, retryable_error = _attempt(run, client, request)
        if result is not None:
            return result
        last_error = retryable_error or ""
        if run.attempts < policy.max_attempts:
            delay = policy.delay_for(run.attempts)
            logger.info(
                "agent %s: retrying after %s in %.2f s",
                run.agent,
                last_error,
                delay,
                extra={"agent": run.agent, "attempt": run.attempts, "delay_s": delay},
            )
            (sleep if sleep is not None else time.sleep)(delay)
    return run.failure(
        codes.RETRIES_EXHAUSTED, f"gave up after {run.attempts} attempts; last error {last_error}"
    )


def run_agent(
    agent: str,
    context: Mapping[str, Any],
    *,
    client: Any,
    settings: AgentSettings,
    session_id: str,
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so sharing is safe
    sleep: Callable[[float], None] | None = None,
    admit: Admission | None = None,
) -> AgentResult:
    """Call InvokeAgent with retries and return the result; never raises.

    ``admit``, when given, is asked before *every* attempt (first and retries); a
    refusal ends the run without a call (:data:`Admission`).

    ``client`` is a ``bedrock-agent-runtime`` client whose botocore retries are off.
    ``sleep`` defaults to ``time.sleep`` looked up at call time, so a harness that
    patches ``time.sleep`` observes (and skips) every backoff.
    """
    run = _Run(agent)
    try:
        input_text = render_input(agent, context)
    except Exception as error:  # unknown agent, non-JSON context
        return run.failure(
            codes.AGENT_INTERNAL_ERROR, f"could not render input: {type(error).__name__}: {error}"
        )
    request = {
        "agentId": settings.agent_id,
        "agentAliasId": settings.alias_id,
        "sessionId": session_id,
        "inputText": input_text,
        "enableTrace": True,
    }
    try:
        return _run_with_retries(run, client, request, policy, sleep, admit)
    except Exception as error:  # a bug here or in an injected sleep: still just data
        return run.failure(codes.AGENT_INTERNAL_ERROR, f"{type(error).__name__}: {error}")
