"""Identifiers derived only from event content.

EventBridge delivers at least once; a redelivery carries the same event ``id``, so
hashing (event id, source, incident id) gives the same execution -- and the same
LangGraph thread and Bedrock sessions (:func:`opx.agents.session_id_for`) -- every
time. Never the clock, never random.
"""

from __future__ import annotations

import hashlib
import json

from opx.events import Incident


def _digest(*parts: str) -> str:
    # JSON-encode the parts so ("a|b", "c") and ("a", "b|c") cannot collide.
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def execution_id(incident: Incident) -> str:
    """The execution id, which is also the LangGraph ``thread_id`` (``session_id``)."""
    origin = incident.origin
    return "exec-" + _digest(origin.event_id, origin.source, incident.incident_id)[:32]
