"""Scenarios authored once per session for the CLI and plugin tests, and moto in
server mode for the tests that need AWS over real HTTP (``record``/``import``).

They are recorded with ``harness.authoring.author`` against the real handler, never
read from the bundled ``scenarios/`` corpus, so these tests pin the surfaces (CLI,
plugin, snapshots) and not the corpus' content. Variants model the two edits a
reviewer cares about: an agent's recorded answer changed, and a prompt changed.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from harness.authoring import AgentScript, ExecutorSpec, agent_output, author, unanimous
from harness.replayer import replay
from harness.scenario import ChunkEvent, EventStreamAnswer, Fault, Scenario
from tests.support import sample_event

START = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
AGREED = "rollback-agreed"
THROTTLED = "throttled-then-ok"
THROTTLED_AGENT = "signal-intelligence"
#: The agent whose recorded prompt ``edited_prompt`` changes.
PROMPT_EDITED_AGENT = "signal-intelligence"
#: The agent whose recorded answer ``edited_response`` changes: the last one, so the
#: edit changes the result only. (Editing a parallel agent's answer changes what the
#: response-strategy agent is sent -- an unmatched request, not a snapshot diff.)
ANSWER_EDITED_AGENT = "response-strategy"


@pytest.fixture(scope="session")
def authored() -> dict[str, Scenario]:
    throttle = Fault(error="ThrottlingException", status=429, message="Rate exceeded")
    return {
        AGREED: author(
            "executor",
            ExecutorSpec(
                name=AGREED,
                description="Six agents agree: roll back deploy d-ABC123\nSecond line.",
                events=[sample_event("opx_incident")],
                agents=unanimous(),
                clock_start=START,
                tags=["sev1", "deploy"],
            ),
        ),
        THROTTLED: author(
            "executor",
            ExecutorSpec(
                name=THROTTLED,
                description="signal-intelligence is throttled twice, then answers",
                events=[sample_event("opx_incident")],
                agents=unanimous(
                    **{
                        THROTTLED_AGENT: AgentScript(
                            output=agent_output(
                                "5xx spike starts two minutes after d-ABC123",
                                [("rollback", "Roll back d-ABC123", 0.8)],
                            ),
                            faults=(throttle, throttle),
                        )
                    }
                ),
                clock_start=START,
                tags=["retry"],
            ),
        ),
    }


@pytest.fixture(scope="session")
def approved(authored: dict[str, Scenario]) -> dict[str, str]:
    """The canonical JSON of each authored scenario: what its snapshot must hold."""
    return {name: replay(scenario).to_canonical_json() for name, scenario in authored.items()}


def _agent_index(scenario: Scenario, agent: str) -> int:
    for index, interaction in enumerate(scenario.interactions):
        text = interaction.request.get("inputText")
        if isinstance(text, dict) and text.get("agent") == agent:
            return index
    raise LookupError(agent)


@pytest.fixture(scope="session")
def edited_response(authored: dict[str, Scenario]) -> Scenario:
    """``rollback-agreed`` with one agent's recorded hypothesis rewritten by hand."""
    scenario = authored[AGREED]
    index = _agent_index(scenario, ANSWER_EDITED_AGENT)
    interaction = scenario.interactions[index]
    assert isinstance(interaction.response, EventStreamAnswer)
    events = interaction.response.events
    chunks = [e for e in events if isinstance(e, ChunkEvent)]
    output = json.loads("".join(c.chunk for c in chunks))
    output["hypothesis"] = "Hand-edited: the CDN, not the deploy"
    answer = EventStreamAnswer(
        events=[
            *(e for e in events if not isinstance(e, ChunkEvent)),
            ChunkEvent(chunk=json.dumps(output, indent=1)),
        ]
    )
    interactions = list(scenario.interactions)
    interactions[index] = interaction.model_copy(update={"response": answer})
    return scenario.model_copy(update={"interactions": interactions})


@pytest.fixture(scope="session")
def edited_prompt(authored: dict[str, Scenario]) -> Scenario:
    """``rollback-agreed`` recorded with a different prompt than the executor sends."""
    scenario = authored[AGREED]
    index = _agent_index(scenario, PROMPT_EDITED_AGENT)
    interaction = scenario.interactions[index]
    request = copy.deepcopy(interaction.request)
    instructions = request["inputText"]["instructions"]
    assert "## Role\n" in instructions
    request["inputText"]["instructions"] = instructions.replace(
        "## Role\n", "## Role\n\nAn extra line from an older prompt.\n", 1
    )
    interactions = list(scenario.interactions)
    interactions[index] = interaction.model_copy(update={"request": request})
    return scenario.model_copy(update={"interactions": interactions})


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto in server mode, in its own process (in-process moto state would be reset by
    every replay's ``mock_aws``), on an ephemeral port of 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
