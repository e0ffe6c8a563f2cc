"""Consensus: hand-computed cases, error handling, and order-independence properties."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opx.consensus import (
    ALGORITHM,
    DEFAULT_WEIGHTS,
    INVALID_OUTPUT_CODE,
    compute_consensus,
    normalize_action_type,
)
from opx.state import ALL_AGENTS, STRATEGY_AGENT, AgentResult
from tests.strategies import agent_results, hypotheses_maps, strategy_results

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _success(agent: str, confidence: float, recs: list[tuple[str, float, str]]) -> AgentResult:
    return AgentResult(
        agent=agent,
        status="SUCCESS",
        output={
            "status": "SUCCESS",
            "confidence": confidence,
            "hypothesis": f"{agent} hypothesis",
            "findings": {
                "recommendations": [
                    {"type": t, "confidence": c, "description": d} for t, c, d in recs
                ]
            },
            "citations": [],
            "disclaimer": "Advisory only.",
        },
        error=None,
        usage={"input_tokens": 10, "output_tokens": 5},
        model_id="anthropic.claude-3-5-sonnet-20240620-v1:0",
        attempts=1,
        responses=[],
    )


def _failure(agent: str, code: str = "AGENT_TIMEOUT", status: str = "FAILURE") -> AgentResult:
    return AgentResult(
        agent=agent,
        status=status,  # type: ignore[typeddict-item]
        output=None,
        error={"code": code, "message": "boom"},
        usage={"input_tokens": 0, "output_tokens": 0},
        model_id=None,
        attempts=1,
        responses=[],
    )


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --------------------------------------------------------------------------- weights


def test_default_weights_cover_every_agent_with_positive_decimals() -> None:
    assert set(DEFAULT_WEIGHTS) == set(ALL_AGENTS)
    for weight in DEFAULT_WEIGHTS.values():
        assert isinstance(weight, Decimal)
        assert weight > 0
    assert DEFAULT_WEIGHTS[STRATEGY_AGENT] == Decimal("1.00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rollback", "rollback"),
        ("Rollback", "rollback"),
        ("Scale Out", "scale_out"),
        ("scale-out", "scale_out"),
        ("  __scale--out__ ", "scale_out"),
        ("!!!", "unspecified"),
        ("\uff32\uff45\uff53\uff54\uff41\uff52\uff54", "restart"),  # fullwidth, folded by NFKC
        ("再起動", "再起動"),  # non-Latin types are kept, not collapsed together
    ],
)
def test_normalize_action_type(raw: str, expected: str) -> None:
    assert normalize_action_type(raw) == expected


# ------------------------------------------------------------------ hand-computed cases


def test_three_voters_hand_computed() -> None:
    hypotheses = {
        "change-intelligence": _success(
            "change-intelligence", 0.8, [("rollback", 0.9, "CI rollback"), ("scale_out", 0.3, "x")]
        ),
        "signal-intelligence": _success("signal-intelligence", 0.6, [("Rollback", 0.7, "SI")]),
        "knowledge-rag": _success("knowledge-rag", 0.4, [("scale-out", 0.6, "KR scale")]),
        "historical-pattern": _failure("historical-pattern", "THROTTLED"),
    }
    result = compute_consensus(hypotheses, None)

    # Weights: CI 1.25, SI 1.25, KR 0.75 -> W = 3.25.
    # aggregated = (1.25*0.8 + 1.25*0.6 + 0.75*0.4) / 3.25 = 2.05 / 3.25 = 0.63076.. -> 0.6308
    assert result["aggregated_confidence"] == 0.6308
    assert result["participating_agents"] == [
        "change-intelligence",
        "knowledge-rag",
        "signal-intelligence",
    ]
    assert result["failed_agents"] == [
        {"agent": "historical-pattern", "status": "FAILURE", "code": "THROTTLED"}
    ]
    assert result["skipped_agents"] == []
    assert result["outcome"] == "RECOMMENDED"
    assert result["algorithm"] == ALGORITHM

    actions = result["recommendation"]["actions"]
    assert [a["type"] for a in actions] == ["rollback", "scale_out"]
    # rollback: score (1.25*0.9 + 1.25*0.7)/3.25 = 2.0/3.25 = 0.61538.. -> 0.6154
    #           support (1.25+1.25)/3.25 = 0.76923.. -> 0.7692; first choice of CI and SI.
    assert actions[0]["rank"] == 1
    assert actions[0]["score"] == 0.6154
    assert actions[0]["support"] == 0.7692
    assert actions[0]["first_choice"] == 0.7692
    assert actions[0]["supporting_agents"] == ["change-intelligence", "signal-intelligence"]
    # Lead voice: CI (1.25*0.9 = 1.125) beats SI (1.25*0.7 = 0.875).
    assert actions[0]["lead_agent"] == "change-intelligence"
    assert actions[0]["description"] == "CI rollback"
    # scale_out: score (1.25*0.3 + 0.75*0.6)/3.25 = 0.825/3.25 = 0.25384.. -> 0.2538
    #            support (1.25+0.75)/3.25 = 0.61538.. -> 0.6154; first choice only of KR:
    #            0.75/3.25 = 0.23076.. -> rounded down 0.2307.
    assert actions[1]["rank"] == 2
    assert actions[1]["score"] == 0.2538
    assert actions[1]["support"] == 0.6154
    assert actions[1]["first_choice"] == 0.2307
    assert actions[1]["lead_agent"] == "knowledge-rag"  # 0.75*0.6=0.45 > 1.25*0.3=0.375

    # agreement = first-choice share of rollback = 2.5/3.25 = 0.76923.. floor -> 0.7692 >= 0.75
    assert result["agreement_ratio"] == 0.7692
    assert result["agreement_level"] == "HIGH"
    assert result["recommendation"]["top_action"] == "rollback"
    assert result["recommendation"]["lead_hypothesis"] == {
        "agent": "change-intelligence",
        "text": "change-intelligence hypothesis",
    }
    assert result["recommendation"]["summary"].startswith(
        "Recommended action: rollback (score 0.6154; supported by change-intelligence, "
        "signal-intelligence). Agreement HIGH across 3 voting agent(s); "
        "aggregated confidence 0.6308."
    )
    # Confidence spread 0.8 - 0.4 = 0.4 < 0.5: only the primary-action conflict.
    assert result["conflicts"] == [
        {
            "topic": "primary_action",
            "positions": [
                {
                    "action": "rollback",
                    "agents": ["change-intelligence", "signal-intelligence"],
                    "weight_share": 0.7692,
                },
                # first-choice shares, rounded down: 0.75/3.25 = 0.23076.. -> 0.2307
                {"action": "scale_out", "agents": ["knowledge-rag"], "weight_share": 0.2307},
            ],
        }
    ]
    assert result["minority_opinions"] == [
        {
            "agent": "knowledge-rag",
            "action": "scale_out",
            "description": "KR scale",
            "action_confidence": 0.6,
            "agent_confidence": 0.4,
            "weight_share": 0.2308,
            "hypothesis": "knowledge-rag hypothesis",
        }
    ]
    # weight shares: 1.25/3.25 = 0.38461.. -> 0.3846; 0.75/3.25 -> 0.2308
    assert result["agents"]["change-intelligence"] == {
        "weight": 1.25,
        "weight_share": 0.3846,
        "confidence": 0.8,
        "primary_action": "rollback",
        "partial": False,
    }
    assert result["agents"]["knowledge-rag"]["weight_share"] == 0.2308


def test_strategy_votes_with_its_weight() -> None:
    hypotheses = {"risk-blast-radius": _success("risk-blast-radius", 0.5, [("failover", 1, "f")])}
    strategy = _success(STRATEGY_AGENT, 0.9, [("restart", 0.6, "r"), ("failover", 0.4, "f2")])
    result = compute_consensus(hypotheses, strategy)
    # W = 0.75 (risk) + 1.00 (strategy) = 1.75.
    # failover: score (0.75*1 + 1.0*0.4)/1.75 = 1.15/1.75 = 0.657142.. -> 0.6571, support 1.0
    # restart:  score 1.0*0.6/1.75 = 0.342857.. -> 0.3429, support 1.0/1.75 = 0.5714
    actions = result["recommendation"]["actions"]
    assert [(a["type"], a["score"], a["support"]) for a in actions] == [
        ("failover", 0.6571, 1.0),
        ("restart", 0.3429, 0.5714),
    ]
    # first choices: failover only risk's (0.75/1.75), restart only strategy's (1/1.75).
    assert [a["first_choice"] for a in actions] == [0.4285, 0.5714]
    # Strategy's first choice is restart, so agreement on failover = 0.75/1.75 = 0.428571..
    # floor -> 0.4285 (rounded down, not 0.4286) -> LOW.
    assert result["agreement_ratio"] == 0.4285
    assert result["agreement_level"] == "LOW"
    # aggregated = (0.75*0.5 + 1.0*0.9)/1.75 = 1.275/1.75 = 0.728571.. -> 0.7286
    assert result["aggregated_confidence"] == 0.7286
    assert [m["agent"] for m in result["minority_opinions"]] == [STRATEGY_AGENT]


def test_equal_scores_fall_back_to_type_order() -> None:
    hypotheses = {
        "signal-intelligence": _success("signal-intelligence", 0.7, [("restart", 0.8, "r")]),
        "change-intelligence": _success("change-intelligence", 0.7, [("failover", 0.8, "f")]),
    }
    result = compute_consensus(hypotheses, None)
    # Both: score 1.25*0.8/2.5 = 0.4, support 0.5 -> tie broken by type: failover < restart.
    assert [a["type"] for a in result["recommendation"]["actions"]] == ["failover", "restart"]
    assert result["agreement_ratio"] == 0.5
    assert result["agreement_level"] == "MEDIUM"
    positions = result["conflicts"][0]["positions"]
    assert [p["action"] for p in positions] == ["failover", "restart"]
    assert [m["agent"] for m in result["minority_opinions"]] == ["signal-intelligence"]


def test_agreement_threshold_is_inclusive_and_rounded_down() -> None:
    def run(weight_a: str) -> dict[str, Any]:
        weights = {**DEFAULT_WEIGHTS, "change-intelligence": Decimal(weight_a)}
        weights["signal-intelligence"] = Decimal(1)
        hypotheses = {
            "change-intelligence": _success("change-intelligence", 0.5, [("x", 0.5, "x")]),
            "signal-intelligence": _success("signal-intelligence", 0.5, [("y", 0.5, "y")]),
        }
        return compute_consensus(hypotheses, None, weights)

    # 3/(3+1) = 0.75 exactly -> HIGH (x wins on score 1.5/4 vs 0.5/4).
    assert (run("3")["agreement_ratio"], run("3")["agreement_level"]) == (0.75, "HIGH")
    # 2.9999/3.9999 = 0.74999.. -> floor 0.7499 -> MEDIUM, never shown as 0.75.
    assert (run("2.9999")["agreement_ratio"], run("2.9999")["agreement_level"]) == (
        0.7499,
        "MEDIUM",
    )


def test_single_voter_agreement_is_capped_at_low() -> None:
    only = {"knowledge-rag": _success("knowledge-rag", 0.9, [("restart", 0.9, "r")])}
    result = compute_consensus(only, None)
    assert result["agreement_ratio"] == 1.0
    assert result["agreement_level"] == "LOW"
    assert result["conflicts"] == []
    assert result["minority_opinions"] == []


def test_zero_successful_agents_is_a_clear_none_result() -> None:
    hypotheses = {agent: _failure(agent) for agent in ("change-intelligence", "knowledge-rag")}
    strategy = _failure(STRATEGY_AGENT, "BUDGET_EXCEEDED", status="SKIPPED")
    result = compute_consensus(hypotheses, strategy)
    assert result["outcome"] == "NO_VOTERS"
    assert result["agreement_level"] == "NONE"
    assert result["aggregated_confidence"] == 0.0
    assert result["participating_agents"] == []
    assert result["recommendation"]["actions"] == []
    assert result["recommendation"]["top_action"] is None
    assert result["recommendation"]["summary"] == (
        "No consensus: no agent produced a usable hypothesis."
    )
    assert result["failed_agents"] == [
        {"agent": "change-intelligence", "status": "FAILURE", "code": "AGENT_TIMEOUT"},
        {"agent": "knowledge-rag", "status": "FAILURE", "code": "AGENT_TIMEOUT"},
    ]
    assert result["skipped_agents"] == [{"agent": STRATEGY_AGENT, "code": "BUDGET_EXCEEDED"}]
    assert compute_consensus({}, None)["outcome"] == "NO_VOTERS"


def test_voters_without_recommendations() -> None:
    hypotheses = {
        "change-intelligence": _success("change-intelligence", 0.2, []),
        "historical-pattern": _success("historical-pattern", 0.9, []),
    }
    result = compute_consensus(hypotheses, None)
    assert result["outcome"] == "NO_ACTIONS"
    assert result["agreement_level"] == "NONE"
    assert result["recommendation"]["actions"] == []
    # Lead: largest weight*confidence: historical 1.0*0.9 = 0.9 > change 1.25*0.2 = 0.25.
    assert result["recommendation"]["lead_hypothesis"]["agent"] == "historical-pattern"
    # (1.25*0.2 + 1.0*0.9)/2.25 = 1.15/2.25 = 0.51111.. -> 0.5111
    assert result["aggregated_confidence"] == 0.5111
    # 0.9 - 0.2 = 0.7 >= 0.5: the confidence conflict is reported.
    assert result["conflicts"] == [
        {
            "topic": "confidence",
            "spread": 0.7,
            "highest": {"confidence": 0.9, "agents": ["historical-pattern"]},
            "lowest": {"confidence": 0.2, "agents": ["change-intelligence"]},
        }
    ]


def test_one_agent_votes_once_per_normalized_type() -> None:
    recs = [("rollback", 0.4, "low"), ("Rollback", 0.4, "a tie"), ("ROLLBACK", 0.9, "high")]
    result = compute_consensus(
        {"historical-pattern": _success("historical-pattern", 1.0, recs)}, None
    )
    (action,) = result["recommendation"]["actions"]
    assert action["type"] == "rollback"
    assert action["score"] == 0.9  # the best entry, not 0.4 + 0.4 + 0.9
    assert action["description"] == "high"
    # Equal confidences: the smallest description wins, whatever the list order.
    for tied in (recs[:2], recs[1::-1]):
        only = compute_consensus(
            {"historical-pattern": _success("historical-pattern", 1.0, tied)}, None
        )
        assert only["recommendation"]["actions"][0]["description"] == "a tie"
    # "Roll-Back" normalizes to "roll_back": a different type, not merged.
    split = compute_consensus(
        {
            "historical-pattern": _success(
                "historical-pattern", 1.0, [*recs, ("Roll-Back", 1, "rb")]
            )
        },
        None,
    )
    assert [a["type"] for a in split["recommendation"]["actions"]] == ["roll_back", "rollback"]


def test_malformed_success_output_does_not_vote() -> None:
    broken = _success("knowledge-rag", 0.5, [("restart", 0.5, "r")])
    assert broken["output"] is not None
    broken["output"]["confidence"] = 1.5
    good = _success("change-intelligence", 0.5, [("rollback", 0.5, "r")])
    result = compute_consensus({"knowledge-rag": broken, "change-intelligence": good}, None)
    assert result["participating_agents"] == ["change-intelligence"]
    assert result["failed_agents"] == [
        {"agent": "knowledge-rag", "status": "SUCCESS", "code": INVALID_OUTPUT_CODE}
    ]


def test_failure_without_error_object_gets_unknown_code() -> None:
    failure = _failure("knowledge-rag")
    failure["error"] = None
    result = compute_consensus({"knowledge-rag": failure}, None)
    assert result["failed_agents"] == [
        {"agent": "knowledge-rag", "status": "FAILURE", "code": "UNKNOWN"}
    ]


def test_programming_errors_raise() -> None:
    ok = _success(STRATEGY_AGENT, 0.5, [])
    with pytest.raises(ValueError, match="both in hypotheses and as strategy"):
        compute_consensus({STRATEGY_AGENT: ok}, ok)
    with pytest.raises(ValueError, match="says it is from"):
        compute_consensus({"knowledge-rag": _success("change-intelligence", 0.5, [])}, None)
    with pytest.raises(ValueError, match="no consensus weight"):
        compute_consensus({"knowledge-rag": _success("knowledge-rag", 0.5, [])}, None, {})
    with pytest.raises(TypeError, match="must be a Decimal"):
        compute_consensus({}, None, {"knowledge-rag": 1.0})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="finite and >= 0"):
        compute_consensus({}, None, {"knowledge-rag": Decimal("-1")})


def test_all_zero_weights_means_no_voters() -> None:
    weights = dict.fromkeys(ALL_AGENTS, Decimal(0))
    result = compute_consensus(
        {"knowledge-rag": _success("knowledge-rag", 0.5, [("x", 1, "x")])}, None, weights
    )
    assert result["outcome"] == "NO_VOTERS"
    assert result["participating_agents"] == ["knowledge-rag"]
    assert "weight 0" in result["recommendation"]["summary"]


# ---------------------------------------------------------------------------- properties


def _walk(value: Any) -> list[Any]:
    found = [value]
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            found.extend(_walk(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_walk(item))
    return found


def _reordered(results: dict[str, AgentResult], order: list[str], rnd: random.Random) -> dict:
    """Same results, another insertion order, and every recommendation list shuffled."""
    out = {}
    for agent in order:
        result = json.loads(json.dumps(results[agent]))  # deep copy
        if result["output"] is not None:
            rnd.shuffle(result["output"]["findings"]["recommendations"])
        out[agent] = result
    return out


@PROPERTY_SETTINGS
@given(hypotheses=hypotheses_maps(), strategy=strategy_results, data=st.data())
def test_consensus_invariant_under_any_arrival_order(
    hypotheses: dict[str, AgentResult], strategy: AgentResult | None, data: st.DataObject
) -> None:
    expected = _dump(compute_consensus(hypotheses, strategy))
    order = data.draw(st.permutations(sorted(hypotheses)))
    rnd = data.draw(st.randoms(use_true_random=False))
    shuffled = _reordered(hypotheses, list(order), rnd)
    assert _dump(compute_consensus(shuffled, strategy)) == expected
    # Through the caller's reducer path too: reversed insertion order.
    reverse = {agent: hypotheses[agent] for agent in reversed(list(hypotheses))}
    assert _dump(compute_consensus(reverse, strategy)) == expected


@PROPERTY_SETTINGS
@given(hypotheses=hypotheses_maps(), strategy=strategy_results, data=st.data())
def test_a_failure_changes_only_failed_agents(
    hypotheses: dict[str, AgentResult], strategy: AgentResult | None, data: st.DataObject
) -> None:
    taken = set(hypotheses) | ({STRATEGY_AGENT} if strategy is not None else set())
    free = sorted(set(ALL_AGENTS) - taken)
    assume(free)
    agent = data.draw(st.sampled_from(free))
    failure = data.draw(agent_results(agent, status="FAILURE"))
    if agent == STRATEGY_AGENT:
        before, after = (
            compute_consensus(hypotheses, None),
            compute_consensus(hypotheses, failure),
        )
    else:
        before = compute_consensus(hypotheses, strategy)
        after = compute_consensus({**hypotheses, agent: failure}, strategy)
    failed_before, failed_after = before.pop("failed_agents"), after.pop("failed_agents")
    assert _dump(before) == _dump(after)
    added = [f for f in failed_after if f not in failed_before]
    assert added == [{"agent": agent, "status": "FAILURE", "code": failure["error"]["code"]}]
    assert [f["agent"] for f in failed_after] == sorted(f["agent"] for f in failed_after)


@PROPERTY_SETTINGS
@given(hypotheses=hypotheses_maps(), strategy=strategy_results)
def test_result_is_plain_quantized_json_in_documented_order(
    hypotheses: dict[str, AgentResult], strategy: AgentResult | None
) -> None:
    result = compute_consensus(hypotheses, strategy)
    assert json.loads(_dump(result)) == result
    for value in _walk(result):
        assert value is None or isinstance(value, str | int | float | bool | list | dict)
        if isinstance(value, float):
            assert 0.0 <= value <= 1.25  # shares/scores/confidences, or a weight
            assert Decimal(repr(value)).as_tuple().exponent >= -4  # type: ignore[operator]
    actions = result["recommendation"]["actions"]
    keys = [(-a["score"], -a["support"], a["type"]) for a in actions]
    assert keys == sorted(keys)
    assert len({a["type"] for a in actions}) == len(actions)
    if actions:
        assert result["recommendation"]["top_action"] == actions[0]["type"]
        assert result["agreement_ratio"] == actions[0]["first_choice"]
    assert [a["rank"] for a in actions] == list(range(1, len(actions) + 1))
    for action in actions:
        assert action["supporting_agents"] == sorted(action["supporting_agents"])
        assert 0 <= action["first_choice"] <= action["support"] <= 1
    assert result["participating_agents"] == sorted(result["participating_agents"])
    assert [m["agent"] for m in result["minority_opinions"]] == sorted(
        m["agent"] for m in result["minority_opinions"]
    )
    assert [c["topic"] for c in result["conflicts"]] == sorted(
        c["topic"] for c in result["conflicts"]
    )
    voters = sorted(
        a
        for a, r in {**hypotheses, **({STRATEGY_AGENT: strategy} if strategy else {})}.items()
        if r["status"] == "SUCCESS"
    )
    assert result["participating_agents"] == voters
    if not voters:
        assert result["agreement_level"] == "NONE"
        assert actions == []
