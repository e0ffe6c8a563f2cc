"""What each agent is shown: pure functions from graph state to prompt context.

The evidence bundle can be arbitrarily large (it is checkpointed in full), but what is
sent to a model is bounded: an oversized bundle is replaced by a deterministic excerpt
plus its digest, so cost stays predictable and the request is identical on every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from opx.agents.prompts import canonical_json
from opx.state import PARALLEL_AGENTS, AgentResult

#: Largest canonical evidence JSON (characters) passed to an agent verbatim.
MAX_EVIDENCE_CHARS = 20_000


def bounded_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    text = canonical_json(evidence)
    if len(text) <= MAX_EVIDENCE_CHARS:
        return dict(evidence)
    return {
        "truncated": True,
        "original_chars": len(text),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "excerpt": text[:MAX_EVIDENCE_CHARS],
    }


def incident_context(incident: Mapping[str, Any]) -> dict[str, Any]:
    """Context for the five first-wave agents: the incident, evidence bounded."""
    shown = {key: incident[key] for key in sorted(incident) if key not in ("budget_usd", "origin")}
    shown["evidence_bundle"] = bounded_evidence(incident.get("evidence_bundle", {}))
    return {"incident": shown}


def strategy_context(
    incident: Mapping[str, Any], hypotheses: Mapping[str, AgentResult]
) -> dict[str, Any]:
    """Context for response-strategy: the incident plus what each first-wave agent said."""
    summaries = [
        _summary(agent, hypotheses[agent]) for agent in PARALLEL_AGENTS if agent in hypotheses
    ]
    return {**incident_context(incident), "hypotheses": summaries}


def _summary(agent: str, result: AgentResult) -> dict[str, Any]:
    """One agent's result as response-strategy sees it.

    The result may come back from a checkpoint someone edited past the agent contract
    (an output or findings that is not an object): it is shown as far as it has the
    expected shape, never a crash -- consensus then counts it as an invalid voter
    (found by ``checkpoint-answers-edited``: text findings failed the run with an
    AttributeError, a 500 on every retry).
    """
    output = result.get("output")
    shown = output if isinstance(output, Mapping) else {}
    findings = shown.get("findings")
    error = result.get("error")
    return {
        "agent": agent,
        "status": result.get("status"),
        "confidence": shown.get("confidence"),
        "hypothesis": shown.get("hypothesis"),
        "recommendations": (
            findings.get("recommendations", []) if isinstance(findings, Mapping) else []
        ),
        "error_code": error.get("code") if isinstance(error, Mapping) else None,
    }
