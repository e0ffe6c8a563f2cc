"""The extension point for scenario kinds.

A scenario *kind* is what a scenario replays -- the executor Lambda, one action
group's Lambda, ... -- and everything that differs between kinds lives in one
:class:`ScenarioKind` subclass: which scenario fields it reads and what they must
hold, what is imported before the clock freezes, how the world is seeded, how events
are delivered, what the result is, how a result is summarized for people, which
checks have something to prove, and how a scenario is authored from a spec.
:class:`harness.replayer.Replayer` is the template that calls these steps; a new kind
is one module here plus one line in :data:`harness.kinds.registry.KINDS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from harness.replayer import ReplayEnvironment, ReplayResult
    from harness.scenario import Scenario
    from harness.wire import LayerFactory, TransportLayer


class KindFieldError(ValueError):
    """What a kind cannot replay, at one scenario field (error messages name its path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ScenarioKind(ABC):
    """One kind of scenario (see the module docstring). Instances are stateless."""

    #: The ``kind`` value scenario files use.
    name: ClassVar[str]
    #: Kind-specific scenario fields (of :data:`harness.scenario.KIND_FIELDS`) this kind
    #: reads; the others must stay unset and are not written to its files.
    fields: ClassVar[frozenset[str]] = frozenset()
    #: Names of the checks (:mod:`harness.checks`) that have something to prove here.
    checks: ClassVar[frozenset[str]]

    def validate(self, scenario: Scenario) -> None:  # noqa: B027 -- optional hook
        """Raise ``ValueError`` (:class:`KindFieldError` for one field) naming what
        this kind cannot replay in ``scenario``."""

    def prepare(self, scenario: Scenario) -> None:  # noqa: B027 -- optional hook
        """Import what the replay needs before the clock freezes, so import-time
        work (and any clock it reads) is not part of the replay."""

    def layers(self) -> Sequence[LayerFactory]:
        """Transport layers this kind adds around the replayer's own."""
        return ()

    def setup(self, env: ReplayEnvironment) -> None:  # noqa: B027 -- optional hook
        """Seed the world the code under replay reads, inside the environment."""

    def teardown(self, env: ReplayEnvironment) -> None:  # noqa: B027 -- optional hook
        """Undo process-wide state the code under replay left behind."""

    @abstractmethod
    def deliver(self, scenario: Scenario, transport: TransportLayer) -> list[Any]:
        """Hand each event to the code under replay once, in order, as Lambda would."""

    @abstractmethod
    def collect(self, env: ReplayEnvironment, responses: list[Any]) -> ReplayResult:
        """The result, read through public surfaces while the environment stands."""

    @abstractmethod
    def summarize(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        """Rows ``(label, value)`` that tell a person what a canonical result says."""

    @abstractmethod
    def behaviour(self, result: dict[str, Any]) -> dict[str, str]:
        """What a reviewer of a change asks first about a canonical result -- for the
        executor: status, top action, agreement, confidence, cost -- label to value.
        Compared old -> new by the gate's roll-up and the impact report."""

    @abstractmethod
    def author(self, spec: Any) -> Scenario:
        """Record a scenario from an author's spec by running the code under replay."""

    def inapplicable(self, check: str, scenario: Scenario) -> str | None:
        """Why ``check`` has nothing to prove for ``scenario``, or ``None`` when it
        applies. By kind (:attr:`checks`); a kind may also decide by a scenario's
        fields."""
        if check in self.checks:
            return None
        return "it checks the executor (parallel agents, Bedrock cost, checkpoints)"


__all__ = ["KindFieldError", "ScenarioKind"]
