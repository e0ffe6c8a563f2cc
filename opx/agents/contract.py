"""The one output contract every opx agent must meet, and the tolerant parser for it.

Agents are language models: they wrap JSON in Markdown fences or add a sentence of
prose around it. The parser tolerates that with one *fixed* rule (below) so the same
completion always yields the same result, and turns everything else into an
:class:`AgentOutputError` with a stable code — the caller converts that into a
FAILURE hypothesis instead of letting it escape the graph node.

Extraction rule (first match wins, then the contract is applied to that object only):

1. the whole completion, stripped of surrounding whitespace, if it is a JSON object;
2. otherwise the body of each fenced code block (three backticks, optional language
   tag such as ``json``) in order of appearance, the first that is a JSON object;
3. otherwise, scanning left to right, the first ``{`` from which a complete JSON
   object decodes (trailing text is ignored); at most :data:`MAX_SCAN_POSITIONS`
   positions are tried so pathological input stays linear-ish.

``NaN``/``Infinity`` literals are rejected (they are not JSON and would break the
canonical checkpoint encoding). Validation is strict: ``"0.8"`` is not a confidence.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opx.agents.codes import CONTRACT_VIOLATION, EMPTY_COMPLETION, MALFORMED_OUTPUT

#: Upper bound on ``{`` positions tried by rule 3 (each try is a linear decode).
MAX_SCAN_POSITIONS = 100

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+.-]*[ \t]*\r?\n(.*?)```", re.DOTALL)


class Recommendation(BaseModel):
    """One proposed action; advisory only — opx never executes it."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    type: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)


class Findings(BaseModel):
    """Recommendations plus whatever evidence an agent wants to attach.

    Extra keys are allowed on purpose: each agent has its own kind of evidence
    (metrics, diffs, similar incidents) and consensus only reads recommendations.
    """

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    recommendations: list[Recommendation] = Field(max_length=20)


class AgentOutput(BaseModel):
    """The complete answer of one agent; ``model_dump(mode="json")`` goes into state."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    status: Literal["SUCCESS", "PARTIAL"]
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    hypothesis: str = Field(min_length=1, max_length=4000)
    findings: Findings
    citations: list[str] = Field(default_factory=list)
    disclaimer: str


class AgentOutputError(Exception):
    """A completion that cannot become an :class:`AgentOutput`; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-JSON constant {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _decode_object(text: str) -> dict[str, Any] | None:
    """The JSON object ``text`` is, or None — never raises."""
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _scan_for_object(text: str) -> dict[str, Any] | None:
    position = text.find("{")
    tries = 0
    while position != -1 and tries < MAX_SCAN_POSITIONS:
        tries += 1
        try:
            value, _end = _DECODER.raw_decode(text, position)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            return value
        position = text.find("{", position + 1)
    return None


def extract_json_object(text: str) -> dict[str, Any] | None:
    """Apply the module's extraction rule; None when no JSON object is found."""
    stripped = text.strip()
    found = _decode_object(stripped)
    if found is not None:
        return found
    for match in _FENCE.finditer(stripped):
        found = _decode_object(match.group(1).strip())
        if found is not None:
            return found
    return _scan_for_object(stripped)


def _describe_violations(error: ValidationError) -> str:
    """Field paths with pydantic's error *type* (stable across versions, unlike msg)."""
    parts: list[str] = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"]) or "<root>"
        part = f"{path} [{item['type']}]"
        if part not in parts:
            parts.append(part)
    return "output violates the agent contract at: " + "; ".join(parts)


def parse_agent_output(text: str) -> AgentOutput:
    """Turn a completion into an :class:`AgentOutput` or raise :class:`AgentOutputError`."""
    if not text.strip():
        raise AgentOutputError(EMPTY_COMPLETION, "the agent returned no text")
    candidate = extract_json_object(text)
    if candidate is None:
        raise AgentOutputError(MALFORMED_OUTPUT, "no JSON object found in the completion")
    try:
        return AgentOutput.model_validate(candidate)
    except ValidationError as error:
        raise AgentOutputError(CONTRACT_VIOLATION, _describe_violations(error)) from None
    except (ValueError, RecursionError) as error:  # defensive: e.g. absurdly deep extras
        raise AgentOutputError(
            CONTRACT_VIOLATION, f"output could not be validated: {type(error).__name__}"
        ) from None
