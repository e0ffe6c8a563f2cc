"""``Replayer``: one scenario through the real code under replay, offline, repeatable.

A replay is a template with the scenario's kind (:mod:`harness.kinds`) filling the
steps: a clean environment, fresh moto state, a frozen clock at the scenario's
start, no network, the transport answering from an answer source; the kind seeds
the world (a checkpoint table and a cold start, or setup calls), delivers the events
the way Lambda would, and collects the result through public surfaces only.

A ``Replayer`` holds its configuration -- where answers come from, the transport
layers around them, how events are delivered -- so a determinism check is a
differently configured replayer, not a patched global (compare Temporal's
``Replayer``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harness.kinds.registry import kind_named
from harness.replayer import moto_state
from harness.replayer.clock import FrozenClock
from harness.replayer.result import ReplayResult
from harness.replayer.sandbox import environment, no_network
from harness.replayer.session import ReplaySession, captured_output, replay_session
from harness.replayer.written import WrittenItems
from harness.scenario import Scenario
from harness.wire import AnswerSource, LayerFactory, RecordedAnswers, Transport, TransportLayer

#: How a replay hands the scenario's events to the code under replay: ``(scenario,
#: transport)`` in, the handler responses out. Determinism checks substitute their
#: own (crash and redeliver, for one) while everything else stays the same.
Delivery = Callable[[Scenario, TransportLayer], list[Any]]
#: Builds the answer source of one replay from its scenario.
SourceFactory = Callable[[Scenario], AnswerSource]


@dataclass
class ReplayEnvironment:
    """Everything one running replay consists of, for the kind and the caller."""

    scenario: Scenario
    #: The outermost transport layer (every request passes through it).
    transport: TransportLayer
    clock: FrozenClock
    #: What the code under replay printed and logged.
    output: io.StringIO
    session: ReplaySession

    @property
    def source(self) -> AnswerSource:
        return self.transport.transport.source

    @property
    def written(self) -> WrittenItems:
        """What the code under replay wrote to DynamoDB (every replay keeps it)."""
        found = self.transport.find(WrittenItems)
        assert found is not None  # the replayer always puts it at the bottom
        return found

    def clock_record(self) -> dict[str, Any]:
        """The replay's time as a result reports it: start, end, every sleep."""
        return {
            "start": self.scenario.clock.start.isoformat(),
            "end": self.clock.now().isoformat(),
            "slept_s": sorted(self.clock.slept),
        }

    def deliver_events(self) -> list[Any]:
        """The kind's own delivery: each event once, in order."""
        return kind_named(self.scenario.kind).deliver(self.scenario, self.transport)


@dataclass(frozen=True)
class Replayer:
    """A configured replay (see the module docstring)."""

    source: SourceFactory = RecordedAnswers
    #: Wrappers around the transport, innermost first (the kind adds its own outside).
    layers: Sequence[LayerFactory] = ()
    #: ``None``: the kind's own delivery (each event once, in order).
    deliver: Delivery | None = None

    @contextmanager
    def environment(self, scenario: Scenario) -> Iterator[ReplayEnvironment]:
        """Enter everything one replay needs, with the kind's world seeded."""
        kind = kind_named(scenario.kind)
        kind.prepare(scenario)  # imports that must happen before the clock freezes
        clock = FrozenClock(scenario.clock.start)
        session = replay_session()
        with (
            environment(scenario.env),
            moto_state.fresh(),
            clock.running(),
            no_network(),
            captured_output() as output,
        ):
            transport: TransportLayer = Transport(self.source(scenario), clock.advance)
            for layer in (WrittenItems, *self.layers, *kind.layers()):
                transport = layer(transport)
            with session.serving(transport):
                env = ReplayEnvironment(scenario, transport, clock, output, session)
                kind.setup(env)
                try:
                    yield env
                finally:
                    kind.teardown(env)

    def run(self, scenario: Scenario) -> ReplayResult:
        """Replay ``scenario`` and return what the code under replay did.

        Raises :class:`~harness.wire.UnmatchedRequestError` if it sent any request the
        answer source cannot answer -- even when it tolerated the failure itself.
        """
        kind = kind_named(scenario.kind)
        with self.environment(scenario) as env:
            if self.deliver is None:
                responses = env.deliver_events()
            else:
                responses = self.deliver(scenario, env.transport)
            result = kind.collect(env, responses)
            result.clients = env.session.configured_clients()
        unmatched = env.transport.unmatched
        if unmatched:
            raise unmatched[0].of_replay(unmatched)
        return result


def replay(scenario: Scenario, replayer: Replayer | None = None) -> ReplayResult:
    """``scenario`` replayed with recorded answers (or by ``replayer``)."""
    return (replayer or Replayer()).run(scenario)


__all__ = ["Delivery", "ReplayEnvironment", "Replayer", "SourceFactory", "replay"]
