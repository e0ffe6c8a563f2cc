"""Hypothesis strategies for :class:`opx.state.AgentResult` values.

Shared by the consensus and cost tests (and free for any other suite): they generate
results that respect the agent output contract, plus the awkward corners the
contract still allows (type spellings that normalize together, equal confidences,
extreme floats, model ids in every shape a Bedrock trace reports).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from opx.state import PARALLEL_AGENTS, STRATEGY_AGENT, AgentResult, Usage

#: Spellings that deliberately collide after normalization ("Scale Out" ==
#: "scale-out" == "scale_out") so grouping and tie-breaking get exercised.
ACTION_TYPES = (
    "rollback",
    "Rollback",
    "ROLLBACK",
    "scale_out",
    "scale-out",
    "Scale Out",
    "restart",
    "failover",
    "disable_feature_flag",
    "config_change",
    "investigate",
    "escalate",
)

#: Pricing-table models in the shapes traces use (plain, profile, ARN) plus unknowns.
MODEL_IDS = (
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.anthropic.claude-3-5-haiku-20241022-v1:0",
    "eu.anthropic.claude-3-5-sonnet-20240620-v1:0",
    "apac.anthropic.claude-3-5-sonnet-20241022-v2:0",
    "global.anthropic.claude-sonnet-4-20250514-v1:0",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
    "amazon.nova-micro-v1:0",
    "amazon.nova-lite-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "meta.llama3-1-405b-instruct-v1:0",
    "vendor.unknown-model-v9:0",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
)

#: Confidences: arbitrary floats in [0, 1] plus the values most likely to tie.
confidences = st.one_of(
    st.sampled_from([0.5, 1.0]),
    st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 0, 1]),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=True),
)
short_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24
)


@st.composite
def recommendations(draw: st.DrawFn) -> dict[str, Any]:
    return {
        # Biased towards the colliding spellings; free text covers the rest.
        "type": draw(
            st.sampled_from(ACTION_TYPES[:6]) | st.sampled_from(ACTION_TYPES) | short_text
        ),
        "description": draw(st.sampled_from(["a", "b"]) | short_text),
        "confidence": draw(confidences),
    }


@st.composite
def agent_outputs(draw: st.DrawFn) -> dict[str, Any]:
    """``AgentOutput.model_dump(mode="json")``-shaped dicts."""
    return {
        "status": draw(st.sampled_from(["SUCCESS", "PARTIAL"])),
        "confidence": draw(confidences),
        "hypothesis": draw(short_text),
        "findings": {"recommendations": draw(st.lists(recommendations(), max_size=6))},
        "citations": draw(st.lists(short_text, max_size=2)),
        "disclaimer": "Advisory only.",
    }


usages = st.builds(
    lambda i, o: Usage(input_tokens=i, output_tokens=o),
    st.integers(min_value=0, max_value=2_000_000),
    st.integers(min_value=0, max_value=2_000_000),
)
model_ids = st.one_of(st.none(), st.sampled_from(MODEL_IDS))
error_codes = st.sampled_from(["AGENT_TIMEOUT", "THROTTLED", "CONTRACT_VIOLATION"])


@st.composite
def agent_results(draw: st.DrawFn, agent: str, status: str | None = None) -> AgentResult:
    """One agent's result; ``status`` pins SUCCESS/FAILURE/SKIPPED, else any of them."""
    # SUCCESS twice as likely: it is the only status with something to vote on.
    status = status or draw(st.sampled_from(["SUCCESS", "SUCCESS", "FAILURE", "SKIPPED"]))
    output = draw(agent_outputs()) if status == "SUCCESS" else None
    error = None
    if status == "FAILURE":
        error = {"code": draw(error_codes), "message": "failed"}
    elif status == "SKIPPED":
        error = {"code": "BUDGET_EXCEEDED", "message": "skipped"}
    usage = Usage(input_tokens=0, output_tokens=0) if status == "SKIPPED" else draw(usages)
    return AgentResult(
        agent=agent,
        status=status,  # type: ignore[typeddict-item]
        output=output,
        error=error,  # type: ignore[typeddict-item]
        usage=usage,
        model_id=None if status == "SKIPPED" else draw(model_ids),
        attempts=0 if status == "SKIPPED" else draw(st.integers(min_value=1, max_value=3)),
        responses=[],
    )


@st.composite
def hypotheses_maps(
    draw: st.DrawFn, agents: tuple[str, ...] = PARALLEL_AGENTS, status: str | None = None
) -> dict[str, AgentResult]:
    """A map over any subset of ``agents`` (sorted keys; permute it in the test).

    Each agent is drawn in or out independently, so large maps are as common as small.
    """
    chosen = [agent for agent in agents if draw(st.booleans())]
    return {agent: draw(agent_results(agent, status)) for agent in sorted(chosen)}


strategy_results = st.one_of(st.none(), agent_results(STRATEGY_AGENT))
