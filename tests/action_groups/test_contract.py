"""The Bedrock action-group Lambda contract: input events in, envelopes out, never a raise."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel

from opx.action_groups import xray
from opx.action_groups.contract import (
    MAX_BODY_CHARS,
    ActionError,
    Operation,
    dispatch,
    encode,
)
from opx.action_groups.params import Params
from tests.action_groups.support import NOW, event


class Echo(Params):
    name: str
    count: int = 1


def _echo(params: Echo) -> dict[str, Any]:
    return {"name": params.name, "count": params.count}


ECHO = (Operation("/echo/{name}", "GET", "echo", Echo, _echo),)


def _openapi(**overrides: Any) -> dict[str, Any]:
    base = {
        "messageVersion": "1.0",
        "agent": {"name": "a", "id": "AGENT12345", "alias": "TSTALIASID", "version": "DRAFT"},
        "inputText": "say it",
        "sessionId": "session-1",
        "actionGroup": "echo-group",
        "apiPath": "/echo/{name}",
        "httpMethod": "GET",
        "parameters": [{"name": "name", "type": "string", "value": "checkout"}],
        "sessionAttributes": {"incident": "INC-1"},
        "promptSessionAttributes": {"tone": "terse"},
    }
    return {**base, **overrides}


def _function(**overrides: Any) -> dict[str, Any]:
    event = _openapi(**overrides)
    del event["apiPath"], event["httpMethod"]
    return {"function": "echo", **event}


def _body(response: dict[str, Any]) -> Any:
    inner = response["response"]
    holder = inner.get("responseBody") or inner["functionResponse"]["responseBody"]
    (media,) = holder.values()
    assert isinstance(media["body"], str)  # the contract: a JSON-formatted *string*
    return json.loads(media["body"])


def test_openapi_envelope_is_exactly_the_contract() -> None:
    response = dispatch("echo-group", ECHO, _openapi())
    assert response == {
        "messageVersion": "1.0",
        "response": {
            "actionGroup": "echo-group",
            "apiPath": "/echo/{name}",
            "httpMethod": "GET",
            "httpStatusCode": 200,
            "responseBody": {"application/json": {"body": '{"count":1,"name":"checkout"}'}},
        },
        "sessionAttributes": {"incident": "INC-1"},
        "promptSessionAttributes": {"tone": "terse"},
    }


def test_function_envelope_is_exactly_the_contract() -> None:
    response = dispatch("echo-group", ECHO, _function())
    assert response == {
        "messageVersion": "1.0",
        "response": {
            "actionGroup": "echo-group",
            "function": "echo",
            "functionResponse": {
                "responseBody": {"TEXT": {"body": '{"count":1,"name":"checkout"}'}}
            },
        },
        "sessionAttributes": {"incident": "INC-1"},
        "promptSessionAttributes": {"tone": "terse"},
    }


def test_function_errors_reprompt_the_model() -> None:
    response = dispatch("echo-group", ECHO, _function(parameters=[]))
    function_response = response["response"]["functionResponse"]
    assert function_response["responseState"] == "REPROMPT"
    assert _body(response)["details"] == [{"parameter": "name", "message": "required"}]


def test_request_body_properties_and_parameters_are_one_set() -> None:
    body = {
        "content": {
            "application/json": {"properties": [{"name": "count", "type": "integer", "value": "3"}]}
        }
    }
    response = dispatch("echo-group", ECHO, _openapi(requestBody=body))
    assert _body(response) == {"name": "checkout", "count": 3}


@pytest.mark.parametrize(
    ("overrides", "parameter", "message"),
    [
        (
            {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "properties": [{"name": "name", "type": "string", "value": "again"}]
                        }
                    }
                }
            },
            "name",
            "given more than once",
        ),
        (
            {"requestBody": {"content": {"text/plain": {"properties": []}}}},
            "requestBody",
            "unsupported text/plain",
        ),
        (
            {"parameters": [{"name": "name", "value": "x"}, {"name": "colour", "value": "red"}]},
            "colour",
            "unknown parameter",
        ),
        (
            {"parameters": [{"name": "name", "value": "x"}, {"name": "count", "value": "lots"}]},
            "count",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
    ids=["duplicate", "content-type", "unknown", "type"],
)
def test_bad_arguments_are_a_400_naming_the_parameter(
    overrides: dict[str, Any], parameter: str, message: str
) -> None:
    response = dispatch("echo-group", ECHO, _openapi(**overrides))
    assert response["response"]["httpStatusCode"] == 400
    assert {"parameter": parameter, "message": message} in _body(response)["details"]
    assert _body(response)["error"] == "INVALID_PARAMETERS"


@pytest.mark.parametrize(
    ("event", "parameters"),
    [
        ("not an event", ["event"]),
        (["a", "list"], ["event"]),
        ({}, ["event.actionGroup", "event.agent", "event.messageVersion", "event.sessionId"]),
        (_openapi(messageVersion="2.0"), ["event"]),
        (_openapi(function="echo"), ["event"]),
        (_openapi(httpMethod=None), ["event"]),
        (_function(requestBody={"content": {}}), ["event"]),
    ],
    ids=["string", "list", "empty", "version", "both-shapes", "half-openapi", "function-body"],
)
def test_malformed_events_are_a_400_in_a_valid_envelope(event: Any, parameters: list[str]) -> None:
    response = dispatch("echo-group", ECHO, event)
    assert response["messageVersion"] == "1.0"
    assert response["response"]["actionGroup"] == (
        event.get("actionGroup", "echo-group") if isinstance(event, dict) else "echo-group"
    )
    inner = response["response"]
    if isinstance(event, dict) and "function" in event:  # answered in the shape it came in
        assert inner["functionResponse"]["responseState"] == "REPROMPT"
    else:
        assert inner["httpStatusCode"] == 400
    assert sorted({d["parameter"] for d in _body(response)["details"]}) == parameters


def test_unknown_path_is_a_404_listing_the_known_ones() -> None:
    response = dispatch("echo-group", ECHO, _openapi(apiPath="/echo"))
    assert response["response"]["httpStatusCode"] == 404
    assert _body(response) == {
        "error": "UNKNOWN_OPERATION",
        "message": "echo-group has no GET /echo (it has GET /echo/{name})",
        "retryable": False,
    }
    function = dispatch("echo-group", ECHO, _function(function="shout"))
    assert _body(function)["message"] == "echo-group has no function shout (it has echo)"


def test_method_matching_ignores_case() -> None:
    assert (
        dispatch("echo-group", ECHO, _openapi(httpMethod="get"))["response"]["httpStatusCode"]
        == 200
    )


def test_a_bug_is_a_500_and_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken(params: BaseModel) -> dict[str, Any]:
        raise RuntimeError("boom")

    operations = (Operation("/echo/{name}", "GET", "echo", Echo, broken),)
    with caplog.at_level(logging.ERROR, logger="opx.action_groups"):
        response = dispatch("echo-group", operations, _openapi())
    assert response["response"]["httpStatusCode"] == 500
    assert _body(response)["error"] == "INTERNAL_ERROR"
    assert "boom" not in json.dumps(response)  # internals stay in the log
    assert any("RuntimeError: boom" in r.exc_text for r in caplog.records if r.exc_text)


def test_action_errors_keep_their_status_and_retryability() -> None:
    def throttled(params: BaseModel) -> dict[str, Any]:
        raise ActionError(429, "THROTTLED", "slow down", retryable=True)

    operations = (Operation("/echo/{name}", "GET", "echo", Echo, throttled),)
    response = dispatch("echo-group", operations, _openapi())
    assert response["response"]["httpStatusCode"] == 429
    assert _body(response) == {"error": "THROTTLED", "message": "slow down", "retryable": True}


def test_an_oversized_answer_is_refused_not_sent() -> None:
    operations = (
        Operation("/echo/{name}", "GET", "echo", Echo, lambda p: {"x": "y" * MAX_BODY_CHARS}),
    )
    response = dispatch("echo-group", operations, _openapi())
    assert response["response"]["httpStatusCode"] == 500
    assert _body(response)["error"] == "RESPONSE_TOO_LARGE"


def test_encode_is_canonical_and_writes_decimals_as_numbers() -> None:
    from decimal import Decimal

    assert encode({"b": Decimal("0.0250"), "a": [1, "é"]}) == '{"a":[1,"é"],"b":0.025}'
    with pytest.raises(ValueError):
        encode({"x": float("nan")})


def test_every_group_answers_in_the_shape_it_was_asked() -> None:
    """A real group, both shapes: the same validation error, each in its own envelope."""
    openapi = event("xray", "getServiceGraph", endTime=NOW)
    function = {k: v for k, v in openapi.items() if k not in ("apiPath", "httpMethod")}
    function["function"] = "getServiceGraph"
    for sent in (openapi, function):
        response = xray.handler(sent, None)
        assert _body(response)["details"] == [{"parameter": "startTime", "message": "required"}]
    assert "httpStatusCode" in xray.handler(openapi, None)["response"]
    assert "functionResponse" in xray.handler(function, None)["response"]
