"""Versioned prompt files and the canonical InvokeAgent input."""

from __future__ import annotations

import json
import re

import pytest

from opx.agents import PROMPT_VERSIONS, load_prompt, parse_agent_output, render_input
from opx.state import ALL_AGENTS

_FENCED_EXAMPLE = re.compile(r"```json\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("agent", ALL_AGENTS)
def test_each_prompt_demands_exactly_the_contract(agent: str) -> None:
    prompt = load_prompt(agent)
    assert f"`{agent}`" in prompt
    assert "exactly one JSON object and nothing else" in prompt
    for key in (
        "status",
        "confidence",
        "hypothesis",
        "findings",
        "recommendations",
        "type",
        "description",
        "citations",
        "disclaimer",
        '"SUCCESS"',
        '"PARTIAL"',
    ):
        assert f"`{key}`" in prompt, key


@pytest.mark.parametrize("agent", ALL_AGENTS)
def test_each_prompt_example_meets_the_contract(agent: str) -> None:
    """The example a model imitates must itself parse, so prompt and model cannot drift."""
    examples = _FENCED_EXAMPLE.findall(load_prompt(agent))
    assert len(examples) == 1
    parsed = parse_agent_output(examples[0])
    assert parsed.model_dump(mode="json") == json.loads(examples[0])


def test_render_input_is_canonical_json() -> None:
    context = {"incident": {"service": "checkout", "id": "inc-1"}, "budget": "0.50"}
    rendered = render_input("signal-intelligence", context)
    expected = json.dumps(
        {
            "agent": "signal-intelligence",
            "context": context,
            "instructions": load_prompt("signal-intelligence"),
            "prompt_version": PROMPT_VERSIONS["signal-intelligence"],
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert rendered == expected
    assert rendered.startswith('{"agent":"signal-intelligence","context":{"budget":"0.50"')


def test_render_input_ignores_insertion_order_and_keeps_unicode() -> None:
    first = render_input("knowledge-rag", {"b": 1, "a": {"y": "café", "x": [2, 1]}})
    second = render_input("knowledge-rag", {"a": {"x": [2, 1], "y": "café"}, "b": 1})
    assert first == second
    assert "café" in first
    assert json.loads(first)["prompt_version"] == "v1"


def test_render_input_rejects_unknown_agents_and_non_json_context() -> None:
    with pytest.raises(ValueError, match="unknown agent"):
        render_input("made-up-agent", {})
    with pytest.raises(ValueError):
        render_input("knowledge-rag", {"x": float("nan")})
    with pytest.raises(TypeError):
        render_input("knowledge-rag", {"x": object()})
