"""Folding InvokeAgent's parsed event stream into text, token usage and model id.

Kept apart from the retry loop so the accounting rules are one small, testable
thing: chunk bytes are concatenated and decoded once (a multi-byte character may be
split across chunks), usage is summed over *every* model invocation the agent made
(pre-processing, orchestration steps, post-processing, routing, collaborators —
each is billed), and the model id is the first foundation model a trace names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _non_negative_int(value: Any) -> int:
    """Token counts from the wire; anything odd counts as zero rather than crash."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


@dataclass
class StreamCollector:
    """Accumulates one attempt's events; feed it every parsed event in order."""

    chunks: list[bytes] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    model_id: str | None = None
    return_control: bool = False
    failure_reason: str | None = None

    def add(self, event: Mapping[str, Any]) -> None:
        if "chunk" in event:
            data = event["chunk"].get("bytes")
            if isinstance(data, bytes | bytearray):
                self.chunks.append(bytes(data))
        elif "trace" in event:
            self._add_trace(event["trace"].get("trace") or {})
        elif "returnControl" in event:
            self.return_control = True

    def _add_trace(self, trace: Mapping[str, Any]) -> None:
        # The Trace union holds exactly one step kind; iterate sorted for determinism
        # and so that new step kinds with the same shape are counted automatically.
        for kind in sorted(trace):
            step = trace[kind]
            if not isinstance(step, Mapping):
                continue
            if kind == "failureTrace" and self.failure_reason is None:
                reason = step.get("failureReason")
                if isinstance(reason, str) and reason:
                    self.failure_reason = reason
            model_input = step.get("modelInvocationInput")
            if isinstance(model_input, Mapping) and self.model_id is None:
                model = model_input.get("foundationModel")
                if isinstance(model, str) and model:
                    self.model_id = model
            model_output = step.get("modelInvocationOutput")
            if isinstance(model_output, Mapping):
                usage = (model_output.get("metadata") or {}).get("usage") or {}
                self.input_tokens += _non_negative_int(usage.get("inputTokens"))
                self.output_tokens += _non_negative_int(usage.get("outputTokens"))

    @property
    def completion_bytes(self) -> bytes:
        return b"".join(self.chunks)
