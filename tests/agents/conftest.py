"""Fixtures that answer a *real* boto3 bedrock-agent-runtime client with scripted bytes.

No MagicMock: the client signs, serializes and — crucially — parses responses with
botocore's own event-stream and rest-json parsers; only the socket is replaced by a
``before-send`` handler returning frames from :mod:`harness.eventstream`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from harness.wire.eventstream import Event, encode_stream, eventstream_response
from opx.agents import bedrock_client_config


def _make_client(endpoint_url: str | None = None, connect_timeout: float = 5.0) -> Any:
    """A client configured like the graph's: botocore retries off, ours are the only ones."""
    return boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=bedrock_client_config(connect_timeout=connect_timeout, read_timeout=connect_timeout),
    )


def _valid_output(**overrides: Any) -> dict[str, Any]:
    output: dict[str, Any] = {
        "status": "SUCCESS",
        "confidence": 0.8,
        "hypothesis": "Deployment d-42 broke checkout.",
        "findings": {
            "recommendations": [
                {"type": "rollback", "description": "Roll back d-42.", "confidence": 0.7}
            ]
        },
        "citations": ["d-42"],
        "disclaimer": "Advisory only; verify before acting.",
    }
    output.update(overrides)
    return output


@dataclass
class ScriptedBedrock:
    """Serves one scripted response per InvokeAgent call and records each request."""

    responses: list[AWSResponse] = field(default_factory=list)
    requests: list[AWSPreparedRequest] = field(default_factory=list)
    served: list[AWSResponse] = field(default_factory=list)

    def then_stream(self, events: list[Event], chunk_size: int = 1024) -> ScriptedBedrock:
        self.responses.append(eventstream_response(encode_stream(events), chunk_size=chunk_size))
        return self

    def then(self, response: AWSResponse) -> ScriptedBedrock:
        self.responses.append(response)
        return self

    def handler(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request)
        if not self.responses:
            raise AssertionError("InvokeAgent called more often than scripted")
        response = self.responses.pop(0)
        self.served.append(response)
        return response

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.body) for request in self.requests]


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, ScriptedBedrock]]:
    client = _make_client()
    script = ScriptedBedrock()
    client.meta.events.register("before-send.bedrock-agent-runtime.InvokeAgent", script.handler)
    yield client, script
    client.close()


@pytest.fixture
def sleeps() -> tuple[list[float], Callable[[float], None]]:
    recorded: list[float] = []
    return recorded, recorded.append


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """Factory for extra clients (e.g. one pointed at a closed port)."""
    return _make_client


@pytest.fixture
def valid_output() -> Callable[..., dict[str, Any]]:
    """Factory for a contract-valid output dict, with per-test overrides."""
    return _valid_output
