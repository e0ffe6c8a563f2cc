"""Scenario files: one recorded incident, readable and hand-editable.

A scenario holds everything a replay needs that moto does not provide: the frozen
clock's start, environment overrides, the EventBridge event(s) delivered to the
handler, and every recorded answer for AWS calls outside moto (Bedrock InvokeAgent).
Event streams are stored decoded -- chunk text, trace objects, in-stream errors --
so a reviewer reads a diff of a scenario like any other JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChunkEvent(_Strict):
    """A ``chunk`` of completion text (the service sends bytes; UTF-8 here)."""

    chunk: str


class TraceEvent(_Strict):
    """A ``trace`` event: the Trace union, e.g. ``{"orchestrationTrace": {...}}``."""

    trace: dict[str, Any]


class StreamError(_Strict):
    type: Annotated[str, Field(min_length=1)]
    message: str = ""


class ExceptionEvent(_Strict):
    """A modeled in-stream exception (``throttlingException``, ...)."""

    exception: StreamError


StreamEvent = ChunkEvent | TraceEvent | ExceptionEvent


class EventStreamAnswer(_Strict):
    """A 200 response whose body is an event stream."""

    kind: Literal["eventstream"] = "eventstream"
    events: list[StreamEvent]


class ErrorAnswer(_Strict):
    """An error answered before any stream (e.g. 429 ThrottlingException)."""

    kind: Literal["error"] = "error"
    status: Annotated[int, Field(ge=400, le=599)]
    code: Annotated[str, Field(min_length=1)]
    message: str = ""


class HttpAnswer(_Strict):
    """Any other AWS answer, as it came over the wire (``record`` captures AWS reads
    this way): the status, the headers botocore's parser reads, and the body --
    decoded JSON for JSON protocols so it stays readable, else text."""

    kind: Literal["http"] = "http"
    status: Annotated[int, Field(ge=200, le=599)] = 200
    headers: dict[str, str] = Field(default_factory=dict)
    #: ``json``: ``body`` is the decoded document; ``text``: ``body`` is the text.
    encoding: Literal["json", "text"] = "json"
    body: Any = None


Answer = Annotated[EventStreamAnswer | ErrorAnswer | HttpAnswer, Field(discriminator="kind")]


class Fault(_Strict):
    """A failed attempt served before the interaction's answer.

    ``where: "stream"`` delivers the error inside a 200 event stream (how Bedrock
    reports throttling mid-response); ``where: "http"`` as an HTTP error status.
    """

    error: Annotated[str, Field(min_length=1)]
    where: Literal["http", "stream"] = "http"
    status: Annotated[int, Field(ge=400, le=599)] = 429
    message: str = ""
    latency_ms: Annotated[int, Field(ge=0)] = 0


class Interaction(_Strict):
    """One recorded request and how it was answered.

    ``request`` is the operation's parameters as the executor sent them (JSON-valued
    strings such as ``inputText`` decoded into objects). Identical requests are
    answered in file order; each answer is used once.
    """

    service: Annotated[str, Field(min_length=1)]
    operation: Annotated[str, Field(min_length=1)]
    request: dict[str, Any]
    faults: list[Fault] = Field(default_factory=list)
    response: Answer
    latency_ms: Annotated[int, Field(ge=0)] = 0


class Clock(_Strict):
    start: AwareDatetime


class Scenario(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
    description: str
    tags: list[str] = Field(default_factory=list)
    clock: Clock
    #: Environment for the handler, over the harness defaults (see README).
    env: dict[str, str] = Field(default_factory=dict)
    #: Delivered to the handler in order; more than one models redelivery.
    events: Annotated[list[Any], Field(min_length=1)]
    interactions: list[Interaction] = Field(default_factory=list)

    def to_json(self) -> str:
        """The file form: indented, sorted keys, trailing newline -- stable diffs."""
        data = self.model_dump(mode="json", exclude_defaults=False)
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message is one line naming the spot."""


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = json_path(first["loc"])
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ScenarioError(f"{path}: {where}: {first['msg']}{more}") from None


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("interactions", 2, "response")`` -> ``$.interactions[2].response``."""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def discover(directory: str | Path) -> list[Path]:
    """Scenario files under ``directory``, in sorted order."""
    return sorted(Path(directory).glob("*.json"))


def json_schema() -> dict[str, Any]:
    return Scenario.model_json_schema()
