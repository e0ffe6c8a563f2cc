"""The Bedrock Agents action-group Lambda contract, and the one dispatcher every group is.

Bedrock calls an action group's Lambda with an input event -- ``messageVersion``,
``agent``, ``actionGroup``, ``sessionId``, ``inputText``, ``sessionAttributes``,
``promptSessionAttributes`` and either ``apiPath``/``httpMethod``/``parameters``/
``requestBody`` (groups defined by an OpenAPI schema) or ``function``/``parameters``
(groups defined by function details) -- and reads back an envelope of the matching
shape. A reply of the wrong shape, or an exception, fails the agent's whole turn, so
:func:`dispatch` always answers in the caller's shape and never raises: bad input is a
400 naming the parameter, an unknown path a 404, AWS trouble a structured 4xx/5xx, a
bug a 500.

Parameter values arrive as strings (``{"name", "type", "value"}``); each operation's
pydantic model converts and bounds them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

MESSAGE_VERSION = "1.0"
#: The content type OpenAPI-defined groups send and answer (the only one our schemas declare).
JSON_CONTENT = "application/json"
#: The content type function-defined groups answer with.
TEXT_CONTENT = "TEXT"
#: Bedrock rejects an action-group response over 25 KB; stay clear of it.
MAX_BODY_CHARS = 24_000

logger = logging.getLogger("opx.action_groups")


class ActionError(Exception):
    """An answer other than 200: the HTTP-style status, a stable code for the agent,
    one readable message, and (for bad input) one entry per offending parameter."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[Mapping[str, str]] = (),
        *,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = [dict(d) for d in details]
        self.retryable = retryable

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "error": self.code,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.details:
            out["details"] = self.details
        return out


def invalid(details: Sequence[Mapping[str, str]]) -> ActionError:
    """A 400 listing every bad parameter (``{"parameter", "message"}``) at once."""
    names = ", ".join(sorted({d["parameter"] for d in details}))
    return ActionError(400, "INVALID_PARAMETERS", f"invalid parameters: {names}", details)


# --------------------------------------------------------------------------- the event


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, frozen=True, extra="ignore")


class EventParameter(_Model):
    """One ``{"name", "type", "value"}`` entry; ``value`` is a string on the wire."""

    name: str = Field(min_length=1)
    type: str = "string"
    value: str | int | float | bool | None = None


class MediaProperties(_Model):
    properties: list[EventParameter] = Field(default_factory=list)


class RequestBody(_Model):
    content: dict[str, MediaProperties]


class AgentInfo(_Model):
    name: str
    id: str
    alias: str
    version: str


class ActionGroupEvent(_Model):
    """The input event, as Bedrock sends it."""

    message_version: str
    agent: AgentInfo
    action_group: str = Field(min_length=1)
    session_id: str
    input_text: str = ""
    api_path: str | None = None
    http_method: str | None = None
    function: str | None = None
    parameters: list[EventParameter] = Field(default_factory=list)
    request_body: RequestBody | None = None
    session_attributes: dict[str, str] = Field(default_factory=dict)
    prompt_session_attributes: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_shape(self) -> ActionGroupEvent:
        if self.message_version != MESSAGE_VERSION:
            raise ValueError(f"messageVersion must be {MESSAGE_VERSION!r}")
        openapi = self.api_path is not None or self.http_method is not None
        if openapi == (self.function is not None):
            raise ValueError("give either apiPath and httpMethod (OpenAPI) or function")
        if openapi and not (self.api_path and self.http_method):
            raise ValueError("apiPath and httpMethod go together")
        if self.function is not None and self.request_body is not None:
            raise ValueError("function-defined invocations carry no requestBody")
        return self

    @property
    def is_function(self) -> bool:
        return self.function is not None

    def arguments(self) -> dict[str, Any]:
        """Parameters and request-body properties by name (a name given twice is a 400)."""
        entries = list(self.parameters)
        if self.request_body is not None:
            for content_type, media in sorted(self.request_body.content.items()):
                if content_type != JSON_CONTENT:
                    raise invalid(
                        [{"parameter": "requestBody", "message": f"unsupported {content_type}"}]
                    )
                entries += media.properties
        out: dict[str, Any] = {}
        for entry in entries:
            if entry.name in out:
                raise invalid([{"parameter": entry.name, "message": "given more than once"}])
            out[entry.name] = entry.value
        return out


# --------------------------------------------------------------------------- the response


@dataclass(frozen=True)
class Reply:
    """Where an answer goes: the shape and identity fields echoed from the event."""

    action_group: str
    api_path: str | None = None
    http_method: str | None = None
    function: str | None = None
    session_attributes: dict[str, str] = field(default_factory=dict)
    prompt_session_attributes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def to(cls, event: ActionGroupEvent) -> Reply:
        return cls(
            event.action_group,
            event.api_path,
            event.http_method,
            event.function,
            dict(event.session_attributes),
            dict(event.prompt_session_attributes),
        )

    @classmethod
    def best_effort(cls, event: Any, group: str) -> Reply:
        """For an event that is not a valid invocation: echo what can be echoed."""
        raw = event if isinstance(event, dict) else {}

        def text(key: str) -> str | None:
            value = raw.get(key)
            return value if isinstance(value, str) else None

        if text("function") is not None:
            return cls(text("actionGroup") or group, function=text("function"))
        return cls(text("actionGroup") or group, text("apiPath") or "", text("httpMethod") or "")

    def envelope(self, status: int, body: Mapping[str, Any]) -> dict[str, Any]:
        text = encode(body)
        response: dict[str, Any] = {"actionGroup": self.action_group}
        if self.function is not None:
            function_response: dict[str, Any] = {"responseBody": {TEXT_CONTENT: {"body": text}}}
            if 400 <= status < 500:
                # The model asked wrongly: hand the error back for it to correct.
                function_response["responseState"] = "REPROMPT"
            response.update(function=self.function, functionResponse=function_response)
        else:
            response.update(
                apiPath=self.api_path,
                httpMethod=self.http_method,
                httpStatusCode=status,
                responseBody={JSON_CONTENT: {"body": text}},
            )
        return {
            "messageVersion": MESSAGE_VERSION,
            "response": response,
            "sessionAttributes": dict(self.session_attributes),
            "promptSessionAttributes": dict(self.prompt_session_attributes),
        }


def encode(body: Mapping[str, Any]) -> str:
    """The body string: canonical JSON, so an answer is byte-stable for a given input.
    Rates and latencies are computed as ``Decimal`` and written as JSON numbers."""
    return json.dumps(
        body,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_number,
    )


def _number(value: Any) -> float:
    if isinstance(value, Decimal) and value.is_finite():
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


# --------------------------------------------------------------------------- dispatch


@dataclass(frozen=True)
class Operation:
    """One API path (or function) of a group. ``operation_id`` is the schema's
    ``operationId`` and the function name when the group is function-defined."""

    api_path: str
    http_method: str
    operation_id: str
    params: type[BaseModel]
    run: Callable[[Any], dict[str, Any]]


def dispatch(group: str, operations: Sequence[Operation], event: Any) -> dict[str, Any]:
    """Answer one invocation of ``group``; never raises."""
    reply = Reply.best_effort(event, group)
    try:
        parsed = _parse(event)
        reply = Reply.to(parsed)
        operation = _find(operations, parsed)
        params = validate(operation.params, parsed.arguments())
        body = operation.run(params)
        if len(encode(body)) > MAX_BODY_CHARS:
            raise ActionError(
                500, "RESPONSE_TOO_LARGE", f"{operation.operation_id} built an oversized answer"
            )
        return reply.envelope(200, body)
    except ActionError as exc:
        return reply.envelope(exc.status, exc.body())
    except Exception:
        # A bug, not the caller's fault: the agent still gets a well-formed answer.
        logger.exception("action group %s failed", group)
        error = ActionError(500, "INTERNAL_ERROR", "the action group failed unexpectedly")
        return reply.envelope(error.status, error.body())


def _parse(event: Any) -> ActionGroupEvent:
    if not isinstance(event, dict):
        raise invalid([{"parameter": "event", "message": "must be a JSON object"}])
    try:
        return ActionGroupEvent.model_validate(event)
    except ValidationError as exc:
        raise invalid(_details(exc, prefix="event")) from None


def _find(operations: Sequence[Operation], event: ActionGroupEvent) -> Operation:
    method = (event.http_method or "").upper()
    for operation in operations:
        if event.is_function:
            if operation.operation_id == event.function:
                return operation
        elif (operation.api_path, operation.http_method) == (event.api_path, method):
            return operation
    if event.is_function:
        asked, known = f"function {event.function}", [o.operation_id for o in operations]
    else:
        asked = f"{method} {event.api_path}"
        known = [f"{o.http_method} {o.api_path}" for o in operations]
    raise ActionError(
        404,
        "UNKNOWN_OPERATION",
        f"{event.action_group} has no {asked} (it has {', '.join(known)})",
    )


def validate(model: type[BaseModel], arguments: Mapping[str, Any]) -> Any:
    """``arguments`` as ``model``, or a 400 naming every bad parameter."""
    try:
        return model.model_validate(dict(arguments))
    except ValidationError as exc:
        raise invalid(_details(exc)) from None


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown parameter",
}


def _details(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    details = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        name = ".".join(p for p in (prefix, path) if p) or prefix or "parameters"
        if error["type"] == "value_error":  # our own validators: their message, unprefixed
            message = str(error["ctx"]["error"])
        else:
            message = _MESSAGES.get(error["type"], error["msg"])
        details.append({"parameter": name, "message": message})
    return sorted(details, key=lambda d: (d["parameter"], d["message"]))
