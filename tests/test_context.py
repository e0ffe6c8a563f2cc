"""Response-strategy's context from results read back from a checkpoint.

Results come back from storage, which someone may have edited past the agent
contract; the context must render what it can and never raise (an AttributeError
here failed every Lambda retry with EXECUTION_FAILED).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from opx.context import strategy_context
from opx.state import PARALLEL_AGENTS
from tests.strategies import agent_outputs

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
INCIDENT = {"incident_id": "INC-1", "evidence_bundle": {}}


@given(
    st.dictionaries(
        st.sampled_from(PARALLEL_AGENTS),
        st.fixed_dictionaries(
            {"status": json_values, "output": json_values | agent_outputs(), "error": json_values}
        ),
    )
)
def test_any_edited_result_renders_without_raising(results: dict[str, Any]) -> None:
    shown = strategy_context(INCIDENT, {a: {"agent": a, **r} for a, r in results.items()})
    assert [h["agent"] for h in shown["hypotheses"]] == [a for a in PARALLEL_AGENTS if a in results]


def test_a_well_formed_result_is_shown_whole() -> None:
    output = {
        "confidence": 0.8,
        "hypothesis": "h",
        "findings": {"recommendations": [{"type": "rollback"}]},
    }
    results = {
        "signal-intelligence": {
            "agent": "signal-intelligence",
            "status": "SUCCESS",
            "output": output,
            "error": None,
        },
        "change-intelligence": {
            "agent": "change-intelligence",
            "status": "FAILURE",
            "output": None,
            "error": {"code": "AGENT_TIMEOUT"},
        },
    }
    shown = {h["agent"]: h for h in strategy_context(INCIDENT, results)["hypotheses"]}
    assert shown["signal-intelligence"] == {
        "agent": "signal-intelligence",
        "status": "SUCCESS",
        "confidence": 0.8,
        "hypothesis": "h",
        "recommendations": [{"type": "rollback"}],
        "error_code": None,
    }
    assert shown["change-intelligence"]["error_code"] == "AGENT_TIMEOUT"
    assert shown["change-intelligence"]["recommendations"] == []
