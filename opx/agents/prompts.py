"""Versioned agent prompts and the canonical InvokeAgent input built from them.

Prompts are package data (``opx/prompts/<agent>.<version>.md``) rather than strings
in code so a prompt change is a reviewable file diff and bumps a visible version
that is recorded inside every request — a replay can tell which prompt produced a
recorded completion. The input text is canonical JSON so the same context always
produces byte-identical requests (and therefore identical recorded scenarios).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from opx.state import ALL_AGENTS

#: The prompt version each agent uses; bump together with a new ``.vN.md`` file.
PROMPT_VERSIONS: Mapping[str, str] = {agent: "v1" for agent in ALL_AGENTS}


def prompt_resource_name(agent: str) -> str:
    """File name of ``agent``'s current prompt, e.g. ``signal-intelligence.v1.md``."""
    if agent not in PROMPT_VERSIONS:
        raise ValueError(f"unknown agent {agent!r}; expected one of {sorted(ALL_AGENTS)}")
    return f"{agent}.{PROMPT_VERSIONS[agent]}.md"


@cache
def load_prompt(agent: str) -> str:
    """The prompt text, read once per process (it is immutable package data)."""
    resource = resources.files("opx").joinpath("prompts").joinpath(prompt_resource_name(agent))
    return resource.read_text(encoding="utf-8")


def canonical_json(value: Any) -> str:
    """The one JSON encoding opx sends: sorted keys, compact, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def render_input(agent: str, context: Mapping[str, Any]) -> str:
    """InvokeAgent ``inputText``: prompt + context as one canonical JSON document.

    Raises ValueError for an unknown agent and TypeError/ValueError for a context
    that is not plain JSON (``run_agent`` turns those into AGENT_INTERNAL_ERROR).
    """
    instructions = load_prompt(agent)  # validates the agent name first
    return canonical_json(
        {
            "agent": agent,
            "prompt_version": PROMPT_VERSIONS[agent],
            "instructions": instructions,
            "context": dict(context),
        }
    )
