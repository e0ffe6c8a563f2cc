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
    summaries = []
    for agent in PARALLEL_AGENTS:
        result = hypotheses.get(agent)
        if result is None:
            continue
        output = result["output"] or {}
        summaries.append(
            {
                "agent": agent,
                "status": result["status"],
                "confidence": output.get("confidence"),
                "hypothesis": output.get("hypothesis"),
                "recommendations": output.get("findings", {}).get("recommendations", []),
                "error_code": result["error"]["code"] if result["error"] else None,
            }
        )
    return {**incident_context(incident), "hypotheses": summaries}
