"""A scenario's recorded Bedrock answers, served by agent.

A replay matches requests exactly (:class:`harness.wire.RecordedAnswers`), because
it proves the executor unchanged. A served runtime is for runs where the executor
*did* change -- a prompt edit, a new context, other agent ids -- so it answers by
the agent the prompt names (``inputText.agent``), in the order the scenario holds
that agent's exchanges: each recorded fault, then the answer, interaction after
interaction. Then, as a live runtime always answers, it repeats the agent's last
answer. Answers are rendered by :func:`harness.wire.prepare_answers`, the code a
replay renders with, so trace events echo the request's agent, alias and session
ids as Bedrock's do.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from harness.scenario import Interaction, Scenario
from harness.serve.overrides import AgentOverride
from harness.serve.server import HttpReply, InvokeAgentCall, RuntimeServer, error_reply
from harness.wire import INVOKE_AGENT, PreparedAnswer, agent_of, prepare_answers


@dataclass(frozen=True)
class Served:
    """One answered call, for whoever checks what the runtime did."""

    agent: str
    session_id: str
    #: ``answer``, ``fault:<code>`` or ``error:<code>`` (see :class:`PreparedAnswer`).
    outcome: str
    #: ``True`` once the agent's answers were used up and its last one was repeated.
    repeated: bool = False


class ScenarioAnswers:
    """A :data:`~harness.serve.server.Responder` serving ``scenario``'s answers by
    agent, with ``overrides`` replacing the answers of the agents they name."""

    def __init__(
        self, scenario: Scenario, overrides: Mapping[str, AgentOverride] | None = None
    ) -> None:
        self.scenario = scenario
        by_agent: dict[str, list[Interaction]] = {}
        for interaction in scenario.interactions:
            agent = agent_of(interaction.request)
            if (interaction.service, interaction.operation) == INVOKE_AGENT and agent:
                by_agent.setdefault(agent, []).append(interaction)
        for agent, override in (overrides or {}).items():
            by_agent[agent] = [override.interaction()]
        self._queues: dict[str, deque[PreparedAnswer]] = {}
        self._last: dict[str, PreparedAnswer] = {}
        index = 0
        for agent, interactions in by_agent.items():
            queue = self._queues[agent] = deque()
            for interaction in interactions:
                queue.extend(prepare_answers(index, interaction))
                index += 1
            self._last[agent] = queue[-1]
        self._lock = threading.Lock()
        #: Every call answered, in the order answered.
        self.served: list[Served] = []

    @property
    def agents(self) -> list[str]:
        """The agents this runtime answers, sorted."""
        return sorted(self._queues)

    def __call__(self, call: InvokeAgentCall) -> HttpReply:
        agent = call.agent
        if agent is None:
            return error_reply(
                400, "ValidationException", "inputText is not an opx prompt naming its agent"
            )
        with self._lock:
            queue = self._queues.get(agent)
            if queue is None:
                known = ", ".join(self.agents) or "none"
                return error_reply(
                    400,
                    "ValidationException",
                    f"scenario {self.scenario.name} has no answer for agent {agent!r} "
                    f"(agents: {known})",
                )
            repeated = not queue
            answer = self._last[agent] if repeated else queue.popleft()
            self.served.append(Served(agent, call.session_id, answer.outcome, repeated))
        return HttpReply.from_response(answer.render(call.params))


class ServeError(Exception):
    """A scenario that cannot be served; the message is one line."""


class ScenarioRuntime(RuntimeServer):
    """A runtime on 127.0.0.1 answering from ``scenario`` (see :class:`ScenarioAnswers`),
    bound on construction: ``OSError`` when ``port`` is taken."""

    def __init__(
        self,
        scenario: Scenario,
        overrides: Mapping[str, AgentOverride] | None = None,
        port: int = 0,
    ) -> None:
        self.answers = ScenarioAnswers(scenario, overrides)
        if not self.answers.agents:
            raise ServeError(f"scenario {scenario.name} records no Bedrock agent answers to serve")
        super().__init__(self.answers, port)

    @property
    def served(self) -> list[Served]:
        """Every call answered so far, in order."""
        return self.answers.served


__all__ = ["ScenarioAnswers", "ScenarioRuntime", "ServeError", "Served"]
