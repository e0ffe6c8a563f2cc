"""Facts about Bedrock Agent requests and answers, in one place.

Several parts of the harness must know which agent a request is for (authoring
scripts answer by agent, the ordering check releases agents in turn, resume and
rederive key answers by agent) or what an answer billed (the replay result and the
cost check). The executor names the agent in its prompt (``inputText.agent``); the
model and tokens come in ``orchestrationTrace`` events, folded by the executor's own
accounting rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.scenario import EventStreamAnswer, Fault, TraceEvent

#: ``(service id, operation)`` of the call every agent run makes.
INVOKE_AGENT = ("bedrock-agent-runtime", "InvokeAgent")
BEDROCK_SERVICE = INVOKE_AGENT[0]


def agent_of(params: Mapping[str, Any]) -> str | None:
    """The opx agent an ``InvokeAgent`` request (read back, ``inputText`` decoded) is for."""
    text = params.get("inputText")
    agent = text.get("agent") if isinstance(text, Mapping) else None
    return agent if isinstance(agent, str) else None


def stream_usage(answer: EventStreamAnswer | Fault) -> tuple[dict[str, int], str | None]:
    """Tokens and model the recorded traces report -- what Bedrock would bill --
    folded by the executor's own accounting rules. A stream ``Fault``'s traces count
    too: the model ran before the stream broke, and Bedrock bills it."""
    from opx.agents.stream import StreamCollector

    collector = StreamCollector()
    events = answer.events if isinstance(answer, EventStreamAnswer) else answer.traces
    for event in events:
        if isinstance(event, TraceEvent):
            collector.add({"trace": {"trace": event.trace}})
    usage = {"input_tokens": collector.input_tokens, "output_tokens": collector.output_tokens}
    return usage, collector.model_id


def usage_traces(model_id: str | None, input_tokens: int, output_tokens: int) -> list[TraceEvent]:
    """The traces that tell the executor which model ran and what it billed."""
    # OrchestrationTrace is a union: input and output come as separate events.
    model_input = {
        "orchestrationTrace": {
            "modelInvocationInput": {
                "foundationModel": model_id,
                "traceId": "trace-0",
                "type": "ORCHESTRATION",
            }
        }
    }
    usage = {"inputTokens": input_tokens, "outputTokens": output_tokens}
    model_output = {
        "orchestrationTrace": {
            "modelInvocationOutput": {"metadata": {"usage": usage}, "traceId": "trace-0"}
        }
    }
    traces = [TraceEvent(trace=model_output)]
    return traces if model_id is None else [TraceEvent(trace=model_input), *traces]


__all__ = ["BEDROCK_SERVICE", "INVOKE_AGENT", "agent_of", "stream_usage", "usage_traces"]
