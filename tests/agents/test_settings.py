"""Agent ids from the environment, their defaults, and session ids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opx.agents import (
    DEFAULT_AGENT_IDS,
    DEFAULT_ALIAS_ID,
    AgentSettings,
    agent_settings_from_env,
    session_id_for,
)
from opx.agents.settings import AGENT_ID_PATTERN, SESSION_ID_PATTERN
from opx.state import ALL_AGENTS


def test_every_agent_has_a_distinct_valid_default() -> None:
    resolved = {agent: agent_settings_from_env(agent, {}) for agent in ALL_AGENTS}
    assert sorted(DEFAULT_AGENT_IDS) == sorted(ALL_AGENTS)
    assert len({s.agent_id for s in resolved.values()}) == len(ALL_AGENTS)
    for agent, agent_settings in resolved.items():
        assert agent_settings == AgentSettings(DEFAULT_AGENT_IDS[agent], DEFAULT_ALIAS_ID)
        assert AGENT_ID_PATTERN.fullmatch(agent_settings.agent_id)
        assert AGENT_ID_PATTERN.fullmatch(agent_settings.alias_id)
    assert resolved["signal-intelligence"] == AgentSettings("OPXSIGNAL1", "TSTALIASID")


def test_environment_overrides_each_agent_independently() -> None:
    environ = {
        "OPX_AGENT_SIGNAL_INTELLIGENCE_ID": "ABCDEFGHIJ",
        "OPX_AGENT_SIGNAL_INTELLIGENCE_ALIAS_ID": "PRODALIAS1",
        "OPX_AGENT_RISK_BLAST_RADIUS_ID": "RISK123456",
    }
    assert agent_settings_from_env("signal-intelligence", environ) == AgentSettings(
        "ABCDEFGHIJ", "PRODALIAS1"
    )
    assert agent_settings_from_env("risk-blast-radius", environ) == AgentSettings(
        "RISK123456", "TSTALIASID"
    )
    assert agent_settings_from_env("knowledge-rag", environ) == AgentSettings(
        "OPXKNOWRAG", "TSTALIASID"
    )


@pytest.mark.parametrize("bad", ["", "TOOLONGID123", "has-dash", "spa ce"])
def test_invalid_configured_id_fails_loudly(bad: str) -> None:
    with pytest.raises(ValueError, match="agent_id"):
        agent_settings_from_env("knowledge-rag", {"OPX_AGENT_KNOWLEDGE_RAG_ID": bad})
    with pytest.raises(ValueError, match="alias_id"):
        agent_settings_from_env("knowledge-rag", {"OPX_AGENT_KNOWLEDGE_RAG_ALIAS_ID": bad})


def test_unknown_agent_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown agent"):
        agent_settings_from_env("made-up-agent", {})


def test_settings_are_frozen() -> None:
    agent_settings = AgentSettings("OPXSIGNAL1", "TSTALIASID")
    with pytest.raises(AttributeError):
        agent_settings.agent_id = "OTHER"  # type: ignore[misc]


def test_session_id_is_readable_when_possible() -> None:
    assert session_id_for("exec-0001", "signal-intelligence") == "exec-0001.signal-intelligence"


def test_session_id_falls_back_to_a_hash_for_invalid_or_long_ids() -> None:
    hashed = session_id_for("arn:aws:states:us-east-1:123456789012:execution/x y", "knowledge-rag")
    assert hashed.startswith("knowledge-rag.")
    assert len(hashed) == len("knowledge-rag.") + 64
    assert session_id_for("e" * 100, "knowledge-rag").startswith("knowledge-rag.")


@settings(max_examples=200, deadline=None)
@given(execution_id=st.text(max_size=150), agent=st.sampled_from(ALL_AGENTS))
def test_session_id_always_valid_deterministic_and_agent_specific(
    execution_id: str, agent: str
) -> None:
    session = session_id_for(execution_id, agent)
    assert SESSION_ID_PATTERN.fullmatch(session)
    assert session == session_id_for(execution_id, agent)
    others = {session_id_for(execution_id, other) for other in ALL_AGENTS}
    assert len(others) == len(ALL_AGENTS)
