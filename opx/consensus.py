"""Deterministic consensus over the agents' hypotheses.

The result is stored in the checkpoint and compared byte-for-byte by the replay
harness, so it must be a pure function of the *set* of results, never of the order
they arrived in. Three rules make that hold:

* every loop runs over agents sorted by id, and every list in the output is sorted by
  a total order written next to it (no tie is ever left to input order);
* input confidences are quantized to 6 places and weights are finite Decimals, so
  every sum below is exact (no float addition whose result depends on its order);
* every number in the output is a Decimal quantized to :data:`PLACES` places, then
  converted to ``float``; a 4-place decimal converts to the float whose ``repr`` is
  those same digits, so the JSON dump is stable.

Only ``SUCCESS`` results vote. ``FAILURE`` results are listed in ``failed_agents`` and
``SKIPPED`` results in ``skipped_agents``; they change nothing else, so a failing
agent can never tilt the recommendation.

Definitions (``W`` is the total weight of the voting agents, ``w_a`` an agent's
weight, ``c_a`` its overall confidence, ``r_a,t`` its confidence in action type ``t``):

* ``aggregated_confidence`` = ``sum(w_a * c_a) / W``.
* An action's ``score`` = ``sum(w_a * r_a,t) / W`` over the agents recommending it;
  its ``support`` = share of ``W`` held by the agents recommending it at all; its
  ``first_choice`` = share of ``W`` held by the agents for which it is the primary
  action (their highest-confidence recommendation).
* Actions are ranked by score desc, then support desc, then type asc.
* ``agreement_ratio`` = ``first_choice`` of the top-ranked action: how much of the
  voting weight names the recommended action as its own first choice. Both are
  rounded *down* (so a reported 0.7500 really is at least three quarters); every
  other number is rounded half-even.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, localcontext
from types import MappingProxyType
from typing import Any

from opx.state import ALL_AGENTS, STRATEGY_AGENT, AgentResult

#: Version tag stored in the result: bump it when a definition above changes, so a
#: replayed checkpoint can tell which rules produced it.
ALGORITHM = "weighted-first-choice-v1"

#: Decimal places of every number in the output.
PLACES = 4
_OUT_Q = Decimal(1).scaleb(-PLACES)
#: Input confidences are quantized to this before any arithmetic, so that every sum
#: is exact (a float such as 5e-324 would otherwise need hundreds of digits).
_IN_Q = Decimal("0.000001")
#: Wide enough that sums and products of 6-place confidences and weights never round;
#: only the final divisions do, and they are computed once on order-free totals.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN)

#: Agreement thresholds on the reported ``agreement_ratio`` (the first-choice share of
#: the top action, rounded *down* to 4 places so the reported number and the level
#: can never disagree): HIGH >= 0.75 (three quarters of the weight name the same
#: first action), MEDIUM >= 0.5 (a weighted majority), LOW > 0, NONE otherwise
#: (no voter or no recommended action). With a single voting agent the level is
#: capped at LOW: one voice agreeing with itself is not corroboration.
AGREEMENT_THRESHOLDS: tuple[tuple[str, Decimal], ...] = (
    ("HIGH", Decimal("0.75")),
    ("MEDIUM", Decimal("0.5")),
)
#: Two voters whose overall confidences differ by at least this much are reported as
#: a ``confidence`` conflict (one is sure, the other barely believes its hypothesis).
CONFIDENCE_SPREAD_THRESHOLD = Decimal("0.5")

#: Code reported for a ``SUCCESS`` result whose output does not have the contract's
#: shape (it cannot vote: its numbers cannot be trusted).
INVALID_OUTPUT_CODE = "CONSENSUS_INVALID_OUTPUT"
#: Code reported when a FAILURE/SKIPPED result carries no error object.
UNKNOWN_ERROR_CODE = "UNKNOWN"

#: Per-agent weights, all relative (only ratios matter). Why each value:
#:
#: * ``change-intelligence`` 1.25 — most production incidents follow a change
#:   (deploy, config, flag); a correlated change is the strongest causal evidence.
#: * ``signal-intelligence`` 1.25 — reads the live metrics, logs and traces of this
#:   incident: direct observation, not analogy.
#: * ``historical-pattern`` 1.00 — past incidents are good priors but only analogies.
#: * ``response-strategy`` 1.00 — a voice like the others, not an arbiter: it reads
#:   the five hypotheses, so a larger weight would count them twice.
#: * ``knowledge-rag`` 0.75 — runbooks and docs are generic and may be stale.
#: * ``risk-blast-radius`` 0.75 — assesses impact and the risk of each action
#:   rather than the cause, so it is weaker evidence for *which* action fixes it.
DEFAULT_WEIGHTS: Mapping[str, Decimal] = MappingProxyType(
    {
        "change-intelligence": Decimal("1.25"),
        "historical-pattern": Decimal("1.00"),
        "knowledge-rag": Decimal("0.75"),
        "risk-blast-radius": Decimal("0.75"),
        "signal-intelligence": Decimal("1.25"),
        "response-strategy": Decimal("1.00"),
    }
)
if set(DEFAULT_WEIGHTS) != set(ALL_AGENTS):  # pragma: no cover - import-time guard
    raise RuntimeError("DEFAULT_WEIGHTS must cover exactly ALL_AGENTS")

_NON_WORD = re.compile(r"[\W_]+")


def normalize_action_type(raw: str) -> str:
    """Group ``"Scale Out"``, ``"scale-out"`` and ``"scale_out"`` as one action.

    NFKC + casefold, then every run of non-word characters becomes ``_``. Unicode
    letters are kept, so two different non-Latin types never collapse into one.
    """
    folded = unicodedata.normalize("NFKC", raw).casefold()
    return _NON_WORD.sub("_", folded).strip("_") or "unspecified"


@dataclass(frozen=True)
class _Action:
    description: str
    confidence: Decimal


@dataclass(frozen=True)
class _Voter:
    agent: str
    weight: Decimal
    confidence: Decimal
    hypothesis: str
    partial: bool
    #: normalized type -> this agent's best recommendation of that type.
    actions: Mapping[str, _Action]

    @property
    def primary(self) -> str | None:
        # Highest confidence first; among equals the smallest type, a total order.
        if not self.actions:
            return None
        return min(self.actions, key=lambda t: (-self.actions[t].confidence, t))


class _InvalidOutput(ValueError):
    pass


def _unit_interval(value: Any, where: str) -> Decimal:
    # bool is an int subclass; a JSON true is not a confidence.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _InvalidOutput(f"{where} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise _InvalidOutput(f"{where} is not finite")
    if not 0 <= value <= 1:
        raise _InvalidOutput(f"{where} is outside [0, 1]")
    # repr() is the shortest round-tripping form: deterministic and what JSON stored.
    return Decimal(repr(value)).quantize(_IN_Q, rounding=ROUND_HALF_EVEN, context=_CONTEXT)


def _parse_output(output: Any) -> tuple[Decimal, str, bool, dict[str, _Action]]:
    """Read the fields consensus needs, checking only what it relies on.

    The agents layer already validated the contract; this is a second line so that a
    malformed ``SUCCESS`` becomes a reported non-voter instead of a crash.
    """
    if not isinstance(output, Mapping):
        raise _InvalidOutput("output is not an object")
    confidence = _unit_interval(output.get("confidence"), "confidence")
    hypothesis = output.get("hypothesis")
    if not isinstance(hypothesis, str):
        raise _InvalidOutput("hypothesis is not a string")
    findings = output.get("findings")
    if not isinstance(findings, Mapping):
        raise _InvalidOutput("findings is not an object")
    recommendations = findings.get("recommendations")
    if not isinstance(recommendations, list):
        raise _InvalidOutput("findings.recommendations is not a list")
    actions: dict[str, _Action] = {}
    for index, rec in enumerate(recommendations):
        where = f"recommendations[{index}]"
        if not isinstance(rec, Mapping):
            raise _InvalidOutput(f"{where} is not an object")
        rtype, description = rec.get("type"), rec.get("description")
        if not isinstance(rtype, str) or not rtype:
            raise _InvalidOutput(f"{where}.type is not a non-empty string")
        if not isinstance(description, str):
            raise _InvalidOutput(f"{where}.description is not a string")
        candidate = _Action(description, _unit_interval(rec.get("confidence"), where))
        key = normalize_action_type(rtype)
        current = actions.get(key)
        # One agent votes once per action: keep its most confident entry; among equal
        # confidences the smallest description, so list order cannot matter.
        if current is None or (-candidate.confidence, candidate.description) < (
            -current.confidence,
            current.description,
        ):
            actions[key] = candidate
    return confidence, hypothesis, output.get("status") == "PARTIAL", actions


def _error_code(result: AgentResult, default: str) -> str:
    error = result.get("error")
    if isinstance(error, Mapping) and isinstance(error.get("code"), str) and error["code"]:
        return error["code"]
    return default


def _check_weights(weights: Mapping[str, Decimal]) -> None:
    for agent in sorted(weights):
        weight = weights[agent]
        if not isinstance(weight, Decimal):
            raise TypeError(f"weight of {agent!r} must be a Decimal, got {type(weight).__name__}")
        if not weight.is_finite() or weight < 0:
            raise ValueError(f"weight of {agent!r} must be finite and >= 0, got {weight}")


def _out(value: Decimal, rounding: str = ROUND_HALF_EVEN) -> float:
    return float(value.quantize(_OUT_Q, rounding=rounding, context=_CONTEXT))


def _text(value: Decimal) -> str:
    return str(value.quantize(_OUT_Q, rounding=ROUND_HALF_EVEN, context=_CONTEXT))


def _agreement_level(ratio: Decimal, voters: int) -> str:
    if ratio <= 0:
        return "NONE"
    level = next((name for name, low in AGREEMENT_THRESHOLDS if ratio >= low), "LOW")
    return level if voters >= 2 else "LOW"


def _collect(
    hypotheses: Mapping[str, AgentResult],
    strategy: AgentResult | None,
) -> dict[str, AgentResult]:
    if strategy is not None:
        if STRATEGY_AGENT in hypotheses:
            raise ValueError(f"{STRATEGY_AGENT!r} given both in hypotheses and as strategy")
        hypotheses = {**hypotheses, STRATEGY_AGENT: strategy}
    for agent in sorted(hypotheses):
        named = hypotheses[agent].get("agent")
        if named != agent:
            raise ValueError(f"result keyed {agent!r} says it is from {named!r}")
    return {agent: hypotheses[agent] for agent in sorted(hypotheses)}


def compute_consensus(
    hypotheses: Mapping[str, AgentResult],
    strategy: AgentResult | None,
    weights: Mapping[str, Decimal] = DEFAULT_WEIGHTS,
) -> dict[str, Any]:
    """Combine the agents' results into one recommendation (plain JSON).

    ``strategy`` is the response-strategy result, voting with its own weight; ``None``
    means it never ran (it is then simply absent). Raises only for programming
    errors: ``TypeError`` for a non-Decimal weight, ``ValueError`` for a negative or
    non-finite weight, a voting agent without a weight, a result keyed under another
    agent's name, or a strategy given twice. Agent failures never raise; with no
    voting agent the result is a well-formed ``NONE`` consensus with no recommendation.
    """
    _check_weights(weights)
    results = _collect(hypotheses, strategy)

    failed: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    voters: list[_Voter] = []
    for agent, result in results.items():  # sorted by agent id
        status = result.get("status")
        if status == "SKIPPED":
            skipped.append({"agent": agent, "code": _error_code(result, "SKIPPED")})
            continue
        if status != "SUCCESS":
            failed.append(
                {"agent": agent, "status": status, "code": _error_code(result, UNKNOWN_ERROR_CODE)}
            )
            continue
        if agent not in weights:
            raise ValueError(f"no consensus weight for voting agent {agent!r}")
        try:
            confidence, hypothesis, partial, actions = _parse_output(result.get("output"))
        except _InvalidOutput:
            failed.append({"agent": agent, "status": status, "code": INVALID_OUTPUT_CODE})
            continue
        voters.append(_Voter(agent, weights[agent], confidence, hypothesis, partial, actions))

    with localcontext(_CONTEXT):
        body = _vote(voters)
    body["failed_agents"] = failed
    body["skipped_agents"] = skipped
    body["algorithm"] = ALGORITHM
    return body


def _vote(voters: list[_Voter]) -> dict[str, Any]:
    """Everything that depends on the voters only (so failures cannot leak in)."""
    total = sum((v.weight for v in voters), Decimal(0))
    participating = [v.agent for v in voters]
    if total == 0:
        reason = (
            "no agent produced a usable hypothesis"
            if not voters
            else "the voting agents all have weight 0"
        )
        return {
            "outcome": "NO_VOTERS",
            "aggregated_confidence": 0.0,
            "agreement_level": "NONE",
            "agreement_ratio": 0.0,
            "participating_agents": participating,
            "agents": _agent_table(voters, total),
            "conflicts": [],
            "minority_opinions": [],
            "recommendation": {
                "summary": f"No consensus: {reason}.",
                "top_action": None,
                "lead_hypothesis": None,
                "actions": [],
            },
        }

    aggregated = sum((v.weight * v.confidence for v in voters), Decimal(0)) / total
    actions = _rank_actions(voters, total)
    top = actions[0]["type"] if actions else None
    first_choice_top = (
        sum((v.weight for v in voters if v.primary == top), Decimal(0)) / total
        if top is not None
        else Decimal(0)
    )
    ratio = first_choice_top.quantize(_OUT_Q, rounding=ROUND_FLOOR)
    level = _agreement_level(ratio, sum(1 for v in voters if v.weight > 0))

    if top is None:
        lead = min(voters, key=lambda v: (-(v.weight * v.confidence), v.agent))
        summary = (
            f"No action recommended: {len(voters)} voting agent(s) gave hypotheses "
            f"but no recommendations; aggregated confidence {_text(aggregated)}."
        )
        outcome = "NO_ACTIONS"
    else:
        lead_agent = actions[0]["lead_agent"]
        lead = next(v for v in voters if v.agent == lead_agent)
        summary = (
            f"Recommended action: {top} (score {actions[0]['score_text']}; supported by "
            f"{', '.join(actions[0]['supporting_agents'])}). Agreement {level} across "
            f"{len(voters)} voting agent(s); aggregated confidence {_text(aggregated)}. "
            f"{actions[0]['description']}"
        )
        outcome = "RECOMMENDED"
    for action in actions:
        del action["score_text"]

    return {
        "outcome": outcome,
        "aggregated_confidence": _out(aggregated),
        "agreement_level": level,
        "agreement_ratio": float(ratio),
        "participating_agents": participating,
        "agents": _agent_table(voters, total),
        "conflicts": _conflicts(voters, total),
        "minority_opinions": _minority(voters, total, top),
        "recommendation": {
            "summary": summary,
            "top_action": top,
            "lead_hypothesis": {"agent": lead.agent, "text": lead.hypothesis},
            "actions": actions,
        },
    }


def _agent_table(voters: list[_Voter], total: Decimal) -> dict[str, Any]:
    return {
        v.agent: {
            "weight": _out(v.weight),
            "weight_share": _out(v.weight / total) if total else 0.0,
            "confidence": _out(v.confidence),
            "primary_action": v.primary,
            "partial": v.partial,
        }
        for v in voters
    }


def _rank_actions(voters: list[_Voter], total: Decimal) -> list[dict[str, Any]]:
    """Rank by score desc, then support desc, then type asc (types are unique)."""
    ranked: list[tuple[Decimal, Decimal, str, dict[str, Any]]] = []
    for action_type in sorted({t for v in voters for t in v.actions}):
        supporters = [v for v in voters if action_type in v.actions]  # sorted by agent
        score = sum((v.weight * v.actions[action_type].confidence for v in supporters), Decimal(0))
        support = sum((v.weight for v in supporters), Decimal(0))
        first = sum((v.weight for v in supporters if v.primary == action_type), Decimal(0))
        # The lead voice: largest weighted confidence in this action, then agent id.
        lead = min(
            supporters, key=lambda v: (-(v.weight * v.actions[action_type].confidence), v.agent)
        )
        score_q = (score / total).quantize(_OUT_Q)
        support_q = (support / total).quantize(_OUT_Q)
        entry = {
            "type": action_type,
            "score": float(score_q),
            "score_text": str(score_q),
            "support": float(support_q),
            # Rounded down like agreement_ratio, so the top action's value equals it.
            "first_choice": _out(first / total, ROUND_FLOOR),
            "supporting_agents": [v.agent for v in supporters],
            "lead_agent": lead.agent,
            "description": lead.actions[action_type].description,
            "by_agent": [
                {
                    "agent": v.agent,
                    "confidence": _out(v.actions[action_type].confidence),
                    "description": v.actions[action_type].description,
                }
                for v in supporters
            ],
        }
        ranked.append((score_q, support_q, action_type, entry))
    ranked.sort(key=lambda item: (-item[0], -item[1], item[2]))
    out = []
    for rank, (_, _, _, entry) in enumerate(ranked, start=1):
        entry["rank"] = rank
        out.append(entry)
    return out


def _conflicts(voters: list[_Voter], total: Decimal) -> list[dict[str, Any]]:
    """Disagreements between voters, sorted by ``topic``.

    ``primary_action``: the voters' first-choice actions differ; positions sorted by
    weight share desc, then action asc. ``confidence``: the most and least confident
    voters differ by at least :data:`CONFIDENCE_SPREAD_THRESHOLD`.
    """
    conflicts: list[dict[str, Any]] = []
    confidences = [v.confidence for v in voters]
    if len(voters) >= 2:
        high, low = max(confidences), min(confidences)
        if high - low >= CONFIDENCE_SPREAD_THRESHOLD:
            conflicts.append(
                {
                    "topic": "confidence",
                    "spread": _out(high - low),
                    "highest": {
                        "confidence": _out(high),
                        "agents": [v.agent for v in voters if v.confidence == high],
                    },
                    "lowest": {
                        "confidence": _out(low),
                        "agents": [v.agent for v in voters if v.confidence == low],
                    },
                }
            )
    positions: dict[str, list[_Voter]] = {}
    for v in voters:
        if v.primary is not None:
            positions.setdefault(v.primary, []).append(v)
    if len(positions) >= 2:
        rows = []
        for action_type, backers in positions.items():
            # The action's first-choice share, rounded down as in _rank_actions.
            share = (sum((v.weight for v in backers), Decimal(0)) / total).quantize(
                _OUT_Q, rounding=ROUND_FLOOR
            )
            rows.append((share, action_type, [v.agent for v in backers]))
        rows.sort(key=lambda row: (-row[0], row[1]))
        conflicts.append(
            {
                "topic": "primary_action",
                "positions": [
                    {"action": t, "agents": agents, "weight_share": float(share)}
                    for share, t, agents in rows
                ],
            }
        )
    conflicts.sort(key=lambda c: c["topic"])
    return conflicts


def _minority(voters: list[_Voter], total: Decimal, top: str | None) -> list[dict[str, Any]]:
    """Voters whose first choice is not the recommended action, sorted by agent id."""
    out = []
    for v in voters:
        primary = v.primary
        if primary is None or primary == top:
            continue
        out.append(
            {
                "agent": v.agent,
                "action": primary,
                "description": v.actions[primary].description,
                "action_confidence": _out(v.actions[primary].confidence),
                "agent_confidence": _out(v.confidence),
                "weight_share": _out(v.weight / total),
                "hypothesis": v.hypothesis,
            }
        )
    return out
