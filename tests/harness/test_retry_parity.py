"""A retry is a retry: a throttle recorded live and the same throttle authored by hand
report the same Bedrock calls, attempts and outcomes.

A recording holds each HTTP exchange as its own interaction (the 429 and the retry
are two); an authored scenario holds the 429 as a fault before the answer of one
interaction. The replay result must not tell them apart: before issue 15 the
recorded throttle read ``outcome: answer`` twice at ``attempt: 0`` and the summary
said ``0 faulted``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from harness.authoring import AgentScript, ExecutorSpec, agent_output, author
from harness.cli import main
from harness.kinds import kind_named
from harness.replayer import replay
from harness.scenario import Fault, load_scenario
from opx.state import ALL_AGENTS
from tests.harness.agent_runtime_server import MODEL, AgentRuntime, http_error, serve
from tests.support import sample_event

#: What the fake runtime's default answer bills (``echo_reply``).
TOKENS = (1500, 320)
COMPARED = ("agent", "attempt", "outcome", "where", "input_tokens", "output_tokens", "model_id")


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentRuntime]:
    with serve(AgentRuntime()) as served:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", served.url)
        yield served


def _calls(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(call[key] for key in COMPARED) for call in result["bedrock_calls"]]


def _summary_line(result: dict[str, Any]) -> str:
    rows = dict(kind_named("executor").summarize(result))
    return rows["bedrock calls"]


def test_a_recorded_throttle_reads_like_an_authored_one(
    tmp_path: Path, runtime: AgentRuntime
) -> None:
    event = sample_event("opx_incident")
    runtime.scripts["signal-intelligence"] = [
        http_error(429, "ThrottlingException", "Rate exceeded")
    ]
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    args = ["record", "--event", str(event_file), "--name", "live-throttle"]
    args += ["--scenarios", str(tmp_path / "s"), "--snapshots", str(tmp_path / "p")]
    assert main(args) == 0
    recorded = load_scenario(tmp_path / "s" / "live-throttle.json")
    # Recorded: the 429 and the retry are two interactions.
    assert len(recorded.interactions) == len(ALL_AGENTS) + 1

    scripts = {
        agent: AgentScript(
            output=agent_output(f"{agent}: authored", [("rollback", "Roll back", 0.8)]),
            input_tokens=TOKENS[0],
            output_tokens=TOKENS[1],
            model_id=MODEL,
        )
        for agent in ALL_AGENTS
    }
    scripts["signal-intelligence"] = AgentScript(
        output=agent_output("signal: authored", [("rollback", "Roll back", 0.8)]),
        input_tokens=TOKENS[0],
        output_tokens=TOKENS[1],
        model_id=MODEL,
        faults=(Fault(error="ThrottlingException", where="http", status=429),),
    )
    authored = author(
        "executor",
        ExecutorSpec(
            name="authored-throttle",
            description="the same throttle, authored",
            events=[event],
            agents=scripts,
            clock_start=datetime.fromisoformat("2026-03-12T14:28:00+00:00"),
        ),
    )
    # Authored: one interaction, the 429 a fault before its answer.
    assert len(authored.interactions) == len(ALL_AGENTS)

    live = replay(recorded).canonical()
    hand = replay(authored).canonical()
    assert _calls(live) == _calls(hand)
    signal = [c for c in _calls(live) if c[0] == "signal-intelligence"]
    assert signal == [
        ("signal-intelligence", 0, "fault:ThrottlingException", "http", 0, 0, None),
        ("signal-intelligence", 1, "answer", None, *TOKENS, MODEL),
    ]
    assert _summary_line(live).startswith(f"{len(ALL_AGENTS) + 1} (1 faulted)")
    assert _summary_line(live).split(",")[0] == _summary_line(hand).split(",")[0]
    for result in (live, hand):
        state = result["final_state"]["hypotheses"]["signal-intelligence"]
        assert state["attempts"] == 2
