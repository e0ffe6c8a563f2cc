"""The handler's response, as pure functions of the final graph state.

A redelivered event for a completed execution rebuilds its body from the checkpoint
with these same functions, so the two answers cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from opx.events import FieldError
from opx.graph import all_results
from opx.state import ExecutionState


def success(state: ExecutionState) -> dict[str, Any]:
    results = all_results(state)
    cost = state["cost"]
    return {
        "statusCode": 200,
        "body": {
            "execution_id": state["execution_id"],
            "incident_id": state["incident"]["incident_id"],
            "status": state["status"],
            "recommendation": state["consensus"]["recommendation"],
            "consensus": state["consensus"],
            "cost": {
                "currency": cost["currency"],
                "total_usd": cost["total_usd"],
                "per_agent": cost["per_agent"],
                "budget": cost["budget"],
            },
            "agents": {agent: result["status"] for agent, result in results.items()},
            "errors": [
                {"agent": agent, **result["error"]}
                for agent, result in results.items()
                if result["error"] is not None
            ],
        },
    }


def invalid_input(errors: list[FieldError]) -> dict[str, Any]:
    return {
        "statusCode": 400,
        "body": {
            "error": "INPUT_VALIDATION_FAILED",
            "message": f"{len(errors)} invalid field(s)",
            "details": [error.model_dump() for error in errors],
        },
    }


def in_progress(code: str, message: str, execution_id: str | None) -> dict[str, Any]:
    """409: another invocation holds the execution; a retry will return its result."""
    body: dict[str, Any] = {"error": code, "message": message}
    if execution_id is not None:
        body["execution_id"] = execution_id
    return {"statusCode": 409, "body": body}


def server_error(code: str, message: str, execution_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if execution_id is not None:
        body["execution_id"] = execution_id
    return {"statusCode": 500, "body": body}
